"""The HTS nomenclature as events, folded into the timeline, and the pure questions on it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from tariff_timeline.domain.clocks import cutoff_instant, effective_instant
from tariff_timeline.domain.errors import InvalidInput, LifecycleError
from tariff_timeline.domain.nomenclature import (
    ChapterState,
    Nomenclature,
    diff,
    line_at,
    lines_under,
    nearest,
    require_line,
    revision_at,
    search,
    search_rank,
    words_of,
)
from tariff_timeline.domain.paint import Paint
from tariff_timeline.domain.timeline import fold
from tariff_timeline.events import TOPICS, NomenclatureRevised, PolicyEvent, subject_key
from tariff_timeline.projections import Recorded, corrected_log, fold_at
from tariff_timeline.projections.versions import STATE_ADAPTERS
from tests.builders import hts_line, revised

HORSES = revised("r1-ch01", "r1", "01", known="2025-05-16", start="2025-05-16", baseline=True,
                 added=(
    hts_line("0101", "Live horses, asses, mules and hinnies:"),
    hts_line("01012100", "Purebred breeding animals", indent=2, parent="0101",
             superiors=("Horses:",), general="Free", other="Free"),
    hts_line("0101210010", "Males", indent=3, parent="01012100", units=("No.",)),
    hts_line("0101210020", "Females", indent=3, parent="01012100", units=("No.",)),
    hts_line("0101300000", "Asses", indent=1, parent="0101", units=("No.",), general="6.8%",
             other="15%"),
))
COFFEE = revised("r1-ch09", "r1", "09", known="2025-05-16", start="2025-05-16", baseline=True,
                 added=(
    hts_line("0901", "Coffee, whether or not roasted or decaffeinated"),
    hts_line("09011100", "Not decaffeinated", indent=2, parent="0901",
             superiors=("Coffee, not roasted:",), general="Free", other="Free"),
    hts_line("0901110015", "Arabica", indent=3, parent="09011100", units=("kg",)),
    hts_line("0901110025", "Robusta, in bags", indent=3, parent="09011100", units=("kg",)),
))
COFFEE_LATER = revised("r2-ch09", "r2", "09", known="2025-12-05", start="2025-12-05", added=(
    hts_line("0901110035", "Robusta, other", indent=3, parent="09011100", units=("kg",)),
), changed=(
    hts_line("09011100", "Not decaffeinated, green", indent=2, parent="0901",
             superiors=("Coffee, not roasted:",), general="2%", other="Free"),
), removed=("0901110025",))
EVENTS: tuple[PolicyEvent, ...] = (HORSES, COFFEE, COFFEE_LATER)
HTS = fold(EVENTS).nomenclature
BEFORE = effective_instant("2025-08-01")
AFTER = effective_instant("2026-01-10")


def _codes(lines: object) -> list[str]:
    return [line.code for line in lines]  # type: ignore[attr-defined]


# ---------------------------------------------------------------- events


@pytest.mark.parametrize("code", ["010", "01011", "010121001", "01.01", "0101x"])
def test_a_line_code_must_be_4_6_8_or_10_digits(code: str) -> None:
    with pytest.raises(ValidationError, match="code"):
        revised("e", "r1", "01", known="2025-05-16", start="2025-05-16", baseline=True,
                added=(hts_line(code, "Something"),))


def test_a_baseline_only_adds_lines() -> None:
    with pytest.raises(ValidationError, match="baseline records every line as added"):
        revised("e", "r1", "01", known="2025-05-16", start="2025-05-16", baseline=True,
                added=(hts_line("0101", "Horses"),), removed=("0102",))


def test_a_revision_that_changes_nothing_is_refused() -> None:
    with pytest.raises(ValidationError, match="adds, changes or removes at least one line"):
        revised("e", "r2", "01", known="2025-12-05", start="2025-12-05")


def test_a_line_is_given_at_most_once_in_a_revision() -> None:
    with pytest.raises(ValidationError, match="line 0101 is given more than once"):
        revised("e", "r2", "01", known="2025-12-05", start="2025-12-05",
                changed=(hts_line("0101", "Horses"),), removed=("0101",))


def test_a_line_of_another_chapter_is_refused() -> None:
    with pytest.raises(ValidationError, match="line 0201 is not in chapter 01"):
        revised("e", "r2", "01", known="2025-12-05", start="2025-12-05", removed=("0201",))


def test_a_revision_has_a_stable_topic_and_its_chapter_as_subject() -> None:
    assert TOPICS["tariffs.NomenclatureRevised.v1"] is NomenclatureRevised
    assert subject_key(COFFEE_LATER) == "chapter:09"


def test_a_date_in_the_event_means_the_usual_switch_in_us_eastern_time() -> None:
    assert isinstance(COFFEE_LATER, NomenclatureRevised)
    assert COFFEE_LATER.effective_from.isoformat() == "2025-12-05T00:01:00-05:00"


# ---------------------------------------------------------------- the fold


def test_a_revision_replaces_only_its_own_chapter_in_the_fold() -> None:
    before = fold((HORSES, COFFEE))
    after = fold((COFFEE_LATER,), before)
    assert after.nomenclature.chapters["01"] is before.nomenclature.chapters["01"]
    assert after.nomenclature.chapters["09"] is not before.nomenclature.chapters["09"]


def test_a_revision_of_a_chapter_without_a_baseline_breaks_the_lifecycle() -> None:
    with pytest.raises(LifecycleError, match="chapter 09 has no baseline"):
        fold((COFFEE_LATER,))


def test_adding_a_line_already_in_force_breaks_the_lifecycle() -> None:
    again = revised("e", "r2", "01", known="2025-12-05", start="2025-12-05",
                    added=(hts_line("0101", "Horses"),))
    with pytest.raises(LifecycleError, match=r"0101 is already in force at 2025-12-05"):
        fold((HORSES, again))


def test_removing_a_line_not_in_force_breaks_the_lifecycle() -> None:
    gone = revised("e", "r2", "01", known="2025-12-05", start="2025-12-05",
                   removed=("01019000",))
    with pytest.raises(LifecycleError, match=r"0101\.90\.00 is not in force"):
        fold((HORSES, gone))


def test_a_chapter_state_survives_the_read_model_encoding() -> None:
    adapter = STATE_ADAPTERS["chapter"]
    state = HTS.chapters["09"]
    assert adapter.validate_json(adapter.dump_json(state)) == state


# ---------------------------------------------------------------- one line


def test_a_line_created_in_a_later_revision_is_present_only_from_its_start() -> None:
    assert line_at(HTS, "0901.11.00.35", BEFORE) is None
    found = line_at(HTS, "0901.11.00.35", AFTER)
    assert found is not None and found.event_id == "r2-ch09"


def test_a_line_removed_in_a_later_revision_is_absent_after_its_start() -> None:
    assert line_at(HTS, "0901110025", BEFORE) is not None
    assert line_at(HTS, "0901110025", AFTER) is None


def test_a_changed_line_answers_with_its_version_in_force() -> None:
    old, new = line_at(HTS, "09011100", BEFORE), line_at(HTS, "09011100", AFTER)
    assert old is not None and new is not None
    assert (old.line.general, new.line.general) == ("Free", "2%")
    assert new.revision.revision == "r2"


def test_an_eight_digit_code_without_a_row_resolves_to_its_00_line() -> None:
    found = line_at(HTS, "0101.30.00", BEFORE)
    assert found is not None
    assert (found.line.code, found.resolved) == ("0101300000", True)
    assert "0101.30.00 is printed as its single statistical line 0101.30.00.00" in found.notes


def test_the_path_runs_from_the_heading_down_through_superior_text() -> None:
    found = line_at(HTS, "0101210010", BEFORE)
    assert found is not None
    assert [step.description for step in found.path] == [
        "Live horses, asses, mules and hinnies:", "Horses:", "Purebred breeding animals",
        "Males"]
    assert [step.code for step in found.path] == ["0101", None, "01012100", "0101210010"]


def test_the_children_of_a_line_are_the_lines_directly_below_it() -> None:
    found = line_at(HTS, "0101", BEFORE)
    assert found is not None
    assert _codes(found.children) == ["01012100", "0101300000"]


def test_a_statistical_line_takes_its_rates_from_its_eight_digit_line() -> None:
    found = line_at(HTS, "0101210020", BEFORE)
    assert found is not None and found.rated is not None
    assert (found.line.general, found.rated.code, found.rated.other) == (None, "01012100",
                                                                        "Free")


def test_a_date_before_the_first_revision_is_answered_by_it_with_a_note() -> None:
    found = line_at(HTS, "0101.21.00", effective_instant("2025-02-01"))
    assert found is not None
    assert found.revision.before_first
    assert found.notes == ("2025-02-01 precedes the first HTS revision this store records (r1, "
                           "from 2025-05-16); its lines are used",)


def test_a_revision_not_yet_known_leaves_the_earlier_lines_in_force() -> None:
    log = [Recorded(i, datetime(2026, 1, 1, tzinfo=UTC), e) for i, e in enumerate(EVENTS, 1)]
    known_before = fold_at(corrected_log(log), cutoff_instant("2025-12-01", "known"))
    found = line_at(known_before.nomenclature, "09011100", AFTER)
    assert found is not None
    assert (found.line.general, found.revision.revision) == ("Free", "r1")
    assert line_at(known_before.nomenclature, "0901110025", AFTER) is not None


def test_the_revision_in_force_is_the_latest_started() -> None:
    found = revision_at(HTS, effective_instant("2025-12-05"))
    assert found is not None and (found.revision, found.before_first) == ("r2", False)
    assert revision_at(Nomenclature(), AFTER) is None


@pytest.mark.parametrize("code", ["9999.99.999", "ALL", "87a3"])
def test_a_malformed_code_is_invalid_input_of_the_hts_field(code: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        line_at(HTS, code, AFTER)
    assert refused.value.field == "hts"


def test_a_store_without_nomenclature_says_so() -> None:
    with pytest.raises(InvalidInput, match="no HTS revision"):
        line_at(Nomenclature(), "0101", AFTER)


# ---------------------------------------------------------------- lines under, nearest


def test_the_lines_under_an_eight_digit_code_are_its_statistical_lines_then() -> None:
    assert _codes(lines_under(HTS, "0901.11.00", BEFORE)) == ["0901110015", "0901110025"]
    assert _codes(lines_under(HTS, "0901.11.00", AFTER)) == ["0901110015", "0901110035"]
    assert _codes(lines_under(HTS, "0101", AFTER)) == ["0101210010", "0101210020",
                                                       "0101300000"]


def test_nearest_prefers_the_longest_shared_prefix_then_the_closest_number() -> None:
    assert nearest(HTS, "0901.11.00.30", AFTER, 3) == ("0901110035", "0901110015",
                                                        "09011100")
    # 0101.30.00 exists only as 0101.30.00.00, and counts as an 8-digit code.
    assert nearest(HTS, "0101.31.00", AFTER, 1) == ("01013000",)


def test_a_missing_code_is_refused_with_the_nearest_lines() -> None:
    with pytest.raises(InvalidInput) as refused:
        require_line(HTS, "0901.11.00.25", AFTER)
    assert refused.value.field == "hts"
    assert refused.value.message.startswith(
        "0901.11.00.25 is not a line of HTS r2 (in force from 2025-12-05); nearest: "
        "0901.11.00.15, 0901.11.00.35")


# ---------------------------------------------------------------- search and diff


def test_search_ranks_a_word_of_the_description_above_one_of_the_path() -> None:
    hits = search(HTS, "horses", AFTER)
    # The heading says it; the lines below inherit it, the higher ones first.
    assert [hit.code for hit in hits] == ["0101", "0101300000", "01012100", "0101210010",
                                          "0101210020"]
    assert [hit.score for hit in hits] == [4, 2, 2, 2, 2]


def test_search_needs_every_word_and_matches_the_start_of_words() -> None:
    hits = search(HTS, "robust coffee", AFTER)
    assert [hit.code for hit in hits] == ["0901110035"]
    assert hits[0].path[0].description == "Coffee, whether or not roasted or decaffeinated"


def test_a_word_of_the_description_outranks_its_start_which_outranks_the_text_above() -> None:
    above = words_of("Live horses, asses, mules and hinnies: Purebred breeding animals")
    # A word scores 4 as a word of the description, 3 as a word's start, 2 and 1 above it
    assert search_rank(["horses"], words_of("Horses"), lambda: above, 2, "0101") == (
        -4, 2, 1, "0101")
    assert search_rank(["hors"], words_of("Horses"), lambda: above, 2, "0101") == (
        -3, 2, 1, "0101")
    assert search_rank(["breeding"], words_of("Horses"), lambda: above, 2, "0101") == (
        -2, 2, 1, "0101")
    assert search_rank(["breed", "horses"], words_of("Horses"), lambda: above, 2, "0101") == (
        -5, 2, 1, "0101")
    # and a word found nowhere leaves the line out
    assert search_rank(["coffee"], words_of("Horses"), lambda: above, 2, "0101") is None


def test_the_text_above_a_line_is_not_read_when_its_description_holds_every_word() -> None:
    def above() -> frozenset[str]:
        raise AssertionError("the text above was read")

    assert search_rank(["other", "oth"], words_of("Other:"), above, 3, "0101") == (
        -7, 3, 1, "0101")


def test_search_refuses_a_query_without_words() -> None:
    with pytest.raises(InvalidInput) as refused:
        search(HTS, " ; ", AFTER)
    assert refused.value.field == "words"


def test_diff_lists_added_removed_rerated_and_redescribed_lines() -> None:
    changes = diff(HTS, BEFORE, AFTER)
    assert _codes(changes.added) == ["0901110035"]
    assert _codes(changes.removed) == ["0901110025"]
    assert [(c.code, c.column, c.before, c.after) for c in changes.rerated] == [
        ("09011100", "general", "Free", "2%")]
    assert [(c.code, c.after) for c in changes.redescribed] == [
        ("09011100", "Not decaffeinated, green")]
    assert (changes.before.revision, changes.after.revision) == ("r1", "r2")


def test_diff_of_one_revision_with_itself_is_empty_and_can_be_narrowed() -> None:
    assert diff(HTS, AFTER, AFTER).empty
    assert diff(HTS, BEFORE, AFTER, under="0101").empty


def _revision_by_sorting(nomenclature: Nomenclature, effective: datetime) -> tuple[str, datetime]:
    """The revision in force as first written: every revision's first start, sorted, walked."""
    starts: dict[str, datetime] = {}
    for chapter in nomenclature.chapters.values():
        for paint in chapter.revisions:
            starts[paint.value] = min(starts.get(paint.value, paint.start), paint.start)
    ordered = sorted((start, name) for name, start in starts.items())
    start, name = ordered[0]
    for later, later_name in ordered[1:]:
        if later <= effective:
            start, name = later, later_name
    return name, start


@given(st.lists(st.tuples(st.sampled_from(("01", "09", "98")), st.sampled_from("abcdef"),
                          st.integers(0, 9)), min_size=1, max_size=12),
       st.integers(-1, 10))
def test_the_revision_in_force_is_the_latest_started_or_else_the_first_however_they_tie(
        revisions: list[tuple[str, str, int]], day: int) -> None:
    # given revisions of a few chapters, a name sometimes in several chapters with other
    # starts, and starts that tie
    def on(n: int) -> datetime:
        return datetime(2025, 1, 10 + n, tzinfo=UTC)

    chapters: dict[str, list[Paint[str]]] = {}
    for chapter, name, start in revisions:
        chapters.setdefault(chapter, []).append(Paint(on(start), None, name, f"{chapter}{name}"))
    nomenclature = Nomenclature({c: ChapterState(c, {}, tuple(p)) for c, p in chapters.items()})
    # when the revision in force at a day is asked, then it is the one sorting them gave
    found = revision_at(nomenclature, on(day))
    assert found is not None
    assert (found.revision, found.effective_from) == _revision_by_sorting(nomenclature, on(day))
