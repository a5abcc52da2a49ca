"""Rate answers with the HTS nomenclature: the line in force at the entry date, its statistical
lines, its MFN rate, and refusals of codes it does not have (pure, no database)."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from rich.console import Console

from tariff_timeline.batch import ANSWER_COLUMNS, flatten
from tariff_timeline.cli import render
from tariff_timeline.domain.clocks import cutoff_instant, effective_instant
from tariff_timeline.domain.errors import InvalidInput
from tariff_timeline.events import PolicyEvent
from tariff_timeline.projections import Recorded, corrected_log, fold_at
from tariff_timeline.projections.answers import RateAnswer
from tariff_timeline.projections.series import rate_series
from tests.builders import exemption, hts_line, imposed, quota, revised
from tests.unit.pure import applied, reason
from tests.unit.pure import ask as ask_digits

COFFEE = revised("r1-ch09", "r1", "09", known="2025-05-10", start="2025-05-16", baseline=True,
                 added=(
    hts_line("0901", "Coffee"),
    hts_line("09011100", "Not decaffeinated", indent=1, parent="0901",
             superiors=("Coffee, not roasted:",), general="Free"),
    hts_line("0901110015", "Arabica, organic", indent=2, parent="09011100"),
    hts_line("0901110025", "Arabica, other", indent=2, parent="09011100"),
    hts_line("0901110045", "Other", indent=2, parent="09011100"),
    hts_line("09012100", "Roasted, not decaffeinated", indent=1, parent="0901", general="10%"),
    hts_line("0901210010", "In packages of 2 kg or less", indent=2, parent="09012100"),
    hts_line("0901210020", "Other", indent=2, parent="09012100"),
    # An 8-digit line with a single statistical suffix is printed as its `00` line.
    hts_line("0901220000", "Roasted, decaffeinated", indent=1, parent="0901",
             general="4.4¢/kg + 6%"),
    hts_line("0901901000", "Coffee husks and skins", indent=1, parent="0901",
             general="1.5¢/kg"),
    hts_line("0901902000", "Coffee substitutes", indent=1, parent="0901",
             general="See additional U.S. note 1"),
))
# Published on 20 Nov, in force from 5 Dec: .35 is created and .45 deleted.
COFFEE_REV2 = revised("r2-ch09", "r2", "09", known="2025-11-20", start="2025-12-05", added=(
    hts_line("0901110035", "Robusta", indent=2, parent="09011100"),
), removed=("0901110045",))
RECIP = imposed("recip", "m-recip", known="2025-04-02", start="2025-04-05", percent=10,
                program="recip")
AG_LIST = exemption("ag", "x-ag", known="2025-11-14", start="2025-11-13",
                    measures=("m-recip",),
                    products=("0901110015", "0901110025", "0901110035", "0901220000",
                              "0901210099"))
BASE: tuple[PolicyEvent, ...] = (COFFEE, COFFEE_REV2, RECIP, AG_LIST)


def ask(events: tuple[PolicyEvent, ...], *, origin: str, hts: str, entered: str,
        known: str = "2030-01-01", mfn: str | None = None) -> RateAnswer:
    """A question with a dotted HTS code, passed on as the service passes it: as digits."""
    return ask_digits(events, origin=origin, hts=hts.replace(".", ""), entered=entered,
                      known=known, mfn=mfn)


def _alternatives(answer: RateAnswer) -> dict[tuple[str, ...], Decimal | None]:
    return {tuple(a.assumptions): a.additional for a in answer.alternatives}


# ---------------------------------------------------------------- statistical lines


def test_an_8_digit_code_whose_every_line_is_listed_is_covered() -> None:
    answer = ask(BASE, origin="BR", hts="0901.11.00", entered="2026-01-10")
    assert answer.additional == 0 and answer.total == 0
    assert answer.alternatives == ()
    assert reason(answer, "m-recip").startswith("exempt: exemption x-ag")
    assert any("all 3 (0901.11.00.15, .25, .35) answer alike" in n for n in answer.notes)


def test_an_8_digit_code_listed_in_part_gives_an_alternative_per_group_of_suffixes() -> None:
    # In r1, .45 exists and is not on the list; .35 does not exist yet.
    answer = ask(BASE, origin="BR", hts="0901.11.00", entered="2025-12-01")
    assert answer.additional is None and answer.total is None
    assert _alternatives(answer) == {("entered under 0901.11.00.15, .25",): 0,
                                     ("entered under 0901.11.00.45",): 10}
    assert any("depends on the statistical line under 0901.11.00" in n
               for n in answer.notes)
    assert not any("among the products of exemption" in n for n in answer.notes)


def test_an_8_digit_code_none_of_whose_lines_is_listed_is_not_covered() -> None:
    # The list names 0901.21.00.99, which is not a line: neither .10 nor .20 is covered.
    answer = ask(BASE, origin="BR", hts="0901.21.00", entered="2026-01-10")
    assert answer.additional == 10 and answer.alternatives == ()
    assert applied(answer) == {"m-recip": 10}


def test_an_8_digit_code_with_a_single_00_line_is_decided_as_that_line() -> None:
    answer = ask(BASE, origin="BR", hts="0901.22.00", entered="2026-01-10")
    assert answer.line == "0901.22.00.00"
    assert answer.additional == 0
    assert any("only statistical line, 0901.22.00.00" in n for n in answer.notes)


def test_a_measure_whose_scope_names_some_suffixes_applies_to_those_only() -> None:
    partly = imposed("steel", "m-steel", known="2025-04-02", start="2025-04-05", percent=25,
                     products=("0901210010",), program="s232")
    answer = ask((*BASE, partly), origin="BR", hts="0901.21.00", entered="2026-01-10")
    assert _alternatives(answer) == {("entered under 0901.21.00.10",): 35,
                                     ("entered under 0901.21.00.20",): 10}
    assert not any("ask with a more specific code" in layer.reason
                   for layer in answer.layers)


def test_suffix_alternatives_combine_with_facts_not_given() -> None:
    in_quota = quota("q", "q-ag", "m-recip", known="2025-11-14", start="2025-11-13",
                     in_quota=0, origins=("BR",))
    answer = ask((*BASE, in_quota), origin="BR", hts="0901.11.00", entered="2025-12-01")
    assert [(a.assumptions, a.additional) for a in answer.alternatives] == [
        ({"entered under 0901.11.00.15, .25": True}, 0),
        ({"entered under 0901.11.00.45": True, "in_quota = true": True}, 0),
        ({"entered under 0901.11.00.45": True, "in_quota = true": False}, 10),
    ]


def test_a_10_digit_code_is_decided_as_itself() -> None:
    listed = ask(BASE, origin="BR", hts="0901.11.00.15", entered="2025-12-01")
    unlisted = ask(BASE, origin="BR", hts="0901.11.00.45", entered="2025-12-01")
    assert (listed.additional, unlisted.additional) == (0, 10)
    assert listed.line == "0901.11.00.15" and listed.description == "Arabica, organic"
    assert listed.path == ("Coffee", "Coffee, not roasted:", "Not decaffeinated",
                           "Arabica, organic")


# ---------------------------------------------------------------- lines over time


def test_a_line_created_by_a_revision_is_refused_before_it_and_answered_after() -> None:
    with pytest.raises(InvalidInput, match=r"0901\.11\.00\.35 is not a line .* r1") as info:
        ask(BASE, origin="BR", hts="0901.11.00.35", entered="2025-12-01")
    assert info.value.field == "hts"
    after = ask(BASE, origin="BR", hts="0901.11.00.35", entered="2026-01-10")
    assert after.additional == 0 and after.revision == "r2"


def test_a_line_deleted_by_a_revision_is_answered_before_it_and_refused_after() -> None:
    before = ask(BASE, origin="BR", hts="0901.11.00.45", entered="2025-12-04")
    assert before.revision == "r1" and before.additional == 10
    with pytest.raises(InvalidInput, match=r"nearest: 0901\.11\.00\.35"):
        ask(BASE, origin="BR", hts="0901.11.00.45", entered="2025-12-05")


def test_a_revision_not_yet_published_at_the_known_date_is_not_used() -> None:
    # Entered after r2 took effect, but asked as known before r2 was published (20 Nov).
    answer = ask(BASE, origin="BR", hts="0901.11.00.45", entered="2026-01-10",
                 known="2025-11-19")
    assert answer.revision == "r1"
    with pytest.raises(InvalidInput, match="not a line"):
        ask(BASE, origin="BR", hts="0901.11.00.35", entered="2026-01-10", known="2025-11-19")


def test_a_date_before_the_first_revision_uses_it_and_says_so() -> None:
    answer = ask(BASE, origin="BR", hts="0901.11.00.15", entered="2025-04-10")
    assert answer.revision == "r1" and answer.additional == 10
    assert any("precedes the first HTS revision this store records (r1" in n
               for n in answer.notes)


# ---------------------------------------------------------------- refusals and headings


def test_a_code_that_is_not_a_line_is_refused_with_the_nearest_lines() -> None:
    with pytest.raises(InvalidInput, match=r"0901\.99\.99 is not a line of HTS chapter 09 in "
                       r"r2 .*; nearest: 0901\.90") as info:
        ask(BASE, origin="CN", hts="0901.99.99", entered="2026-01-10")
    assert info.value.field == "hts"


def test_a_code_of_a_chapter_the_store_does_not_hold_is_refused() -> None:
    with pytest.raises(InvalidInput, match="chapter 99 is not in the HTS this store records"):
        ask(BASE, origin="CN", hts="9999.99.99", entered="2026-01-10")


def test_a_heading_is_answered_by_prefix_with_a_note_on_its_lines() -> None:
    answer = ask(BASE, origin="BR", hts="0901", entered="2026-01-10")
    assert answer.line == "0901" and answer.description == "Coffee"
    # As without nomenclature: the list covers part of the heading, so it is a fact not given.
    assert [(a.assumptions, a.additional) for a in answer.alternatives] == [
        ({"0901 is among the products of exemption x-ag": True}, 0),
        ({"0901 is among the products of exemption x-ag": False}, 10)]
    assert any("0901 is an HTS heading with 8 statistical line(s) in r2" in n
               for n in answer.notes)
    assert answer.mfn is None and answer.total is None


# ---------------------------------------------------------------- MFN from the general column


@pytest.mark.parametrize("hts, mfn, total, general, missing", [
    ("0901.11.00.15", 0, 10, "Free", None),
    ("0901.21.00.10", 10, 20, "10%", None),
    ("0901.22.00", 6, 16, "4.4¢/kg + 6%", "only its ad valorem part 6%"),
    ("0901.90.10", None, None, "1.5¢/kg", "not a percentage of value"),
    ("0901.90.20", None, None, "See additional U.S. note 1", "not a percentage of value"),
], ids=["free", "ad-valorem", "compound", "specific", "other"])
def test_mfn_comes_from_the_general_column_of_the_line(
        hts: str, mfn: int | None, total: int | None, general: str,
        missing: str | None) -> None:
    answer = ask((COFFEE, RECIP), origin="BR", hts=hts, entered="2025-08-01")
    assert answer.additional == 10
    assert (answer.mfn, answer.total, answer.mfn_general) == (mfn, total, general)
    assert answer.mfn_source == ("hts" if mfn is not None else None)
    if missing is None:
        assert not any("MFN" in n for n in answer.notes)
    else:
        assert any(missing in n for n in answer.notes)


def test_a_compound_rate_names_the_specific_part_left_out() -> None:
    answer = ask((COFFEE, RECIP), origin="BR", hts="0901.22.00", entered="2025-08-01")
    assert any("4.4¢/kg" in n and "quantity" in n for n in answer.notes)


def test_a_given_mfn_overrides_the_general_column_and_says_so() -> None:
    answer = ask((COFFEE, RECIP), origin="BR", hts="0901.21.00.10", entered="2025-08-01",
                 mfn="3")
    assert (answer.mfn, answer.total, answer.mfn_source) == (3, 13, "given")
    assert any("MFN 3% as given, in place of the general column of 0901.21.00 ('10%'" in n
               for n in answer.notes)


def test_an_all_in_ceiling_uses_the_mfn_of_the_line() -> None:
    ceiling = imposed("eu", "m-eu", known="2025-07-27", start="2025-08-07", percent=15,
                      kind="ceiling", origins=("DE",), program="recip-eu")
    answer = ask((COFFEE, ceiling), origin="DE", hts="0901.21.00.10", entered="2025-09-01")
    assert (answer.additional, answer.mfn, answer.total) == (5, 10, 15)


# ---------------------------------------------------------------- without nomenclature


def test_a_store_without_nomenclature_answers_as_before_and_says_the_code_was_not_checked(
) -> None:
    answer = ask((RECIP,), origin="CN", hts="9999.99.99", entered="2025-08-01")
    assert answer.additional == 10 and answer.mfn is None and answer.total is None
    assert (answer.line, answer.revision, answer.mfn_source) == (None, None, None)
    assert answer.notes[-1].startswith("9999.99.99 was not checked against an HTS revision: "
                                       "none recorded here was known by ")
    assert answer.notes[-1].endswith("and the MFN rate is only what the question gave")


def test_a_known_time_before_every_revision_was_published_says_none_was_known_then() -> None:
    # given a store whose only revision of chapter 09 was published on 10 May 2025
    # when a question is asked as known on 8 April 2025
    answer = ask((COFFEE, RECIP), origin="CN", hts="0901.11.00", entered="2025-04-10",
                 known="2025-04-08")
    # then no line answers, and the note says none was known then (not that none is held)
    assert (answer.line, answer.revision, answer.mfn_source) == (None, None, None)
    assert answer.notes[-1] == ("0901.11.00 was not checked against an HTS revision: none "
                                "recorded here was known by 2025-04-08, and the MFN rate is "
                                "only what the question gave")


# ---------------------------------------------------------------- where answers are shown


def test_a_batch_row_names_the_line_the_revision_and_where_mfn_came_from() -> None:
    answer = ask((COFFEE, RECIP), origin="BR", hts="0901.21.00", entered="2025-08-01")
    row = flatten(1, {}, answer)
    assert tuple(row) == ANSWER_COLUMNS
    assert (row["line"], row["description"], row["revision"], row["mfn_source"], row["mfn"],
            row["total"]) == ("0901.21.00", "Roasted, not decaffeinated", "r1", "hts", 10, 20)


def test_the_terminal_shows_the_line_and_the_mfn_source_within_80_columns(
        monkeypatch: pytest.MonkeyPatch) -> None:
    terminal = Console(width=80, record=True, file=io.StringIO())
    monkeypatch.setattr(render, "out", terminal)
    answer = ask((COFFEE, RECIP), origin="BR", hts="0901.22.00", entered="2025-08-01")
    render.print_rate(answer)
    shown = terminal.export_text()
    assert "HTS line 0901.22.00.00: Roasted, decaffeinated (revision r1)" in shown
    assert "total with MFN 6% from the HTS: 16%" in shown
    assert max(len(line) for line in shown.splitlines()) <= 80


def test_a_rate_series_steps_where_a_revision_changes_the_lines_a_list_covers() -> None:
    log = [Recorded(i, datetime(2026, 1, 1, tzinfo=UTC), e) for i, e in enumerate(BASE, 1)]
    entries = corrected_log(log)
    known = cutoff_instant("2030-01-01", "known")
    series = rate_series(fold_at(entries, known), {e.event.id: e for e in entries},
                         origin="BR", hts="09011100", start=effective_instant("2025-11-01"),
                         end=effective_instant("2026-01-31"), known=known,
                         recorded=datetime(2026, 1, 1, tzinfo=UTC))
    # 13 Nov: the list covers .15 and .25 but not .45; 5 Dec (r2): every line is covered.
    assert [(step.start.date().isoformat(), step.additional, step.alternatives)
            for step in series.steps] == [("2025-11-01", 10, ()),
                                          ("2025-11-13", None, (0, 10)),
                                          ("2025-12-05", 0, ())]
