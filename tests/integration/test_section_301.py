"""Section 301 China (issue 11): known answers from the bundled timeline, each with the source it
was worked out from, across 2018-2026 and known dates before and after each change."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tariff_timeline import TariffTimeline
from tariff_timeline.projections.answers import Layer, RateAnswer

LIST_1 = "83 FR 28710 (List 1, 25% from 6 Jul 2018)"
LIST_3 = "83 FR 47974 (List 3, 10% from 24 Sep 2018), 84 FR 20459 (25% from 10 May 2019)"
LIST_4A = ("84 FR 43304, 84 FR 45821 (List 4A 15% from 1 Sep 2019), 85 FR 3741 (7.5% from "
           "14 Feb 2020)")
REVIEW = "89 FR 76581 (four-year review), CBP CSMS 62411889"


def _layer(answer: RateAnswer, measure: str) -> Layer:
    return next(layer for layer in answer.layers if layer.measure == measure)


def _applied(answer: RateAnswer, program: str = "s301-china") -> dict[str, Decimal | None]:
    return {layer.measure: layer.rate for layer in answer.layers
            if layer.applied and layer.program == program}


# ------------------------------------------------------------------ known answers, by list

KNOWN: list[tuple[str, str, str, str | None, dict[str, object], Decimal, str]] = [
    # origin, HTS, entered, known, facts, additional, source
    ("CN", "8401.10.00", "2018-07-05", None, {}, Decimal(0), LIST_1 + ": the day before"),
    ("CN", "8401.10.00", "2018-07-06", None, {}, Decimal(25), LIST_1),
    ("CN", "8401.10.00", "2018-08-01", "2018-06-14", {}, Decimal(0),
     LIST_1 + ": not known before the notice of 15 Jun 2018"),
    ("CN", "3901.10.10", "2018-08-22", None, {}, Decimal(0), "83 FR 40823 (List 2 from 23 Aug)"),
    ("CN", "3901.10.10", "2018-08-23", None, {}, Decimal(25), "83 FR 40823 (List 2, 25%)"),
    ("CN", "9401.31.00", "2018-09-24", None, {}, Decimal(10), LIST_3),
    ("CN", "9401.31.00", "2019-01-15", "2018-10-01", {}, Decimal(10),
     "83 FR 47974: 25% only scheduled for 1 Jan 2019, then postponed (83 FR 65198)"),
    ("CN", "9401.31.00", "2019-05-10", None, {}, Decimal(25), LIST_3),
    ("CN", "9401.31.00", "2019-05-20", None, {"in_transit": True}, Decimal(10),
     "84 FR 20459: goods exported before 10 May 2019 stay at 10% (heading 9903.88.09)"),
    ("CN", "9401.31.00", "2019-06-10", "2019-05-20", {"in_transit": True}, Decimal(25),
     "84 FR 20459: the 10% window ended 1 Jun 2019 as known before the extension"),
    ("CN", "9401.31.00", "2019-06-10", "2019-06-01", {"in_transit": True}, Decimal(10),
     "84 FR 26930: window extended to 15 Jun 2019"),
    ("CN", "6101.20.00", "2019-08-31", None, {}, Decimal(0), LIST_4A + ": the day before"),
    ("CN", "6101.20.00", "2019-09-01", "2019-08-20", {}, Decimal(10),
     "84 FR 43304: 10% as known before the increase to 15% was announced (23 Aug 2019)"),
    ("CN", "6101.20.00", "2019-09-01", None, {}, Decimal(15), LIST_4A),
    ("CN", "6101.20.00", "2020-02-13", None, {}, Decimal(15), LIST_4A),
    ("CN", "6101.20.00", "2020-02-14", None, {}, Decimal("7.5"), LIST_4A),
    ("CN", "8471.30.01", "2019-12-20", None, {}, Decimal(0),
     "84 FR 69447: List 4B (laptops) suspended, never in force"),
    ("CN", "8407.21.00", "2019-06-01", None, {}, Decimal(25),
     "Lists 1 and 3 both name 8407.21.00, both at 25% since 10 May 2019 (83 FR 28710, "
     "84 FR 20459): one duty, not two"),
    ("CN", "8407.21.00", "2018-12-01", None, {"section_301_list": "3"}, Decimal(10),
     "Goods of List 3 under a line also on List 1 pay List 3's 10% in 2018 (83 FR 47974)"),
    ("CN", "8407.21.00", "2018-12-01", None, {"section_301_list": "1"}, Decimal(25),
     "Goods of List 1 pay 25% (83 FR 28710)"),
    ("HK", "8401.10.00", "2019-06-01", None, {}, Decimal(0),
     "Section 301 charges products of China; Hong Kong is not covered (83 FR 28710)"),
    # The four-year review
    ("CN", "8703.80.00", "2024-10-01", None, {}, Decimal(100), REVIEW + ": EVs 100%"),
    ("CN", "8703.80.00", "2024-10-01", "2024-09-12", {}, Decimal(25),
     REVIEW + ": the increase was not known before 13 Sep 2024; List 1's 25% until then"),
    ("CN", "8703.80.00", "2023-06-01", None, {}, Decimal(25),
     REVIEW + ", Annex A: electric vehicles paid 25% before the review (List 1)"),
    ("CN", "8541.42.00", "2024-10-01", None, {}, Decimal(50), REVIEW + ": solar cells 50%"),
    ("CN", "2804.61.00", "2024-12-31", None, {}, Decimal(0), REVIEW + ": polysilicon from 2025"),
    ("CN", "2804.61.00", "2025-01-02", "2025-01-01", {}, Decimal(50), REVIEW + ": polysilicon 50%"),
    ("CN", "8101.94.00", "2025-01-02", "2025-01-01", {}, Decimal(25), REVIEW + ": tungsten 25%"),
    ("CN", "9018.31.00.40", "2024-10-01", None, {}, Decimal(100),
     REVIEW + ": hypodermic syringes 100%"),
    ("CN", "8507.60.00.10", "2024-10-01", None, {}, Decimal(25),
     REVIEW + ": electric-vehicle lithium-ion batteries 25% from 2024"),
    ("CN", "8507.60.00.20", "2025-06-01", "2025-01-01", {}, Decimal(0),
     REVIEW + ": other lithium-ion batteries only from 2026"),
]


@pytest.mark.parametrize(("origin", "hts", "entered", "known", "facts", "additional", "source"),
                         KNOWN, ids=[f"{k[0]}-{k[1]}-{k[2]}-{k[3]}" for k in KNOWN])
def test_section_301_duty_is_the_one_its_notice_sets(
        loaded_once: TariffTimeline, origin: str, hts: str, entered: str, known: str | None,
        facts: dict[str, object], additional: Decimal, source: str) -> None:
    # Given the bundled timeline, when we ask for the Section 301 layers only
    answer = loaded_once.rate_on(origin=origin, hts=hts, entered=entered, known=known,
                                 facts=facts)
    # Then the Section 301 duty is the notice's (the other programs are asked elsewhere)
    charged = _applied(answer)
    assert sum((v or Decimal(0) for v in charged.values()), Decimal(0)) == additional, (
        source, charged, answer.notes)
    assert len(charged) <= 1, ("one Section 301 duty at most", charged)


def test_a_line_on_two_lists_with_different_rates_gives_alternatives(
        loaded_once: TariffTimeline) -> None:
    # Given 8407.21.00 named on List 1 (25%) and List 3 (10% until 10 May 2019)
    answer = loaded_once.rate_on(origin="CN", hts="8407.21.00", entered="2018-12-01",
                                 known="2019-01-01")
    # Then the answer asks which list the goods are on rather than picking one silently
    assert answer.additional is None
    outcomes = {alt.assumptions["section_301_list in (3)"]: alt.additional
                for alt in answer.alternatives}
    assert outcomes == {True: Decimal(10), False: Decimal(25)}


def test_the_review_rate_takes_the_place_of_the_list_rate(loaded_once: TariffTimeline) -> None:
    # Given facemasks of List 4A (7.5%) raised by the review (89 FR 76581)
    answer = loaded_once.rate_on(origin="CN", hts="6307.90.98.70", entered="2026-01-15")
    list_4a = _layer(answer, "s301-cn-list-4a")
    # Then the list duty is replaced, not added
    assert not list_4a.applied and "replaced by s301-cn-2026-50" in list_4a.reason
    assert _applied(answer) == {"s301-cn-2026-50": Decimal(50)}


def test_each_applied_section_301_layer_names_its_chapter_99_heading(
        loaded_once: TariffTimeline) -> None:
    # Given List 3 goods after 10 May 2019 and exported before it (84 FR 20459)
    full = loaded_once.rate_on(origin="CN", hts="9401.31.00", entered="2019-05-20")
    transit = loaded_once.rate_on(origin="CN", hts="9401.31.00", entered="2019-05-20",
                                  facts={"in_transit": True})
    # Then each layer names the heading the goods are entered under
    assert _layer(full, "s301-cn-list-3").heading == "9903.88.03"
    assert _layer(transit, "s301-cn-list-3").heading == "9903.88.09"


def test_list_4b_is_shown_as_announced_while_it_was_scheduled(
        loaded_once: TariffTimeline) -> None:
    # Given List 4B announced for 15 Dec 2019 (84 FR 45821) and suspended (84 FR 69447)
    before = loaded_once.rate_on(origin="CN", hts="8471.30.01", entered="2019-12-20",
                                 known="2019-12-01")
    after = loaded_once.rate_on(origin="CN", hts="8471.30.01", entered="2019-12-20",
                                known="2019-12-14")
    # Then as known in November the layer is announced at 15%, never applied
    layer = _layer(before, "s301-cn-list-4b")
    assert (layer.status, layer.applied, layer.rate) == ("announcement", False, Decimal(15))
    assert after.additional == before.additional == 0


# ------------------------------------------------------------------ stacking with other programs


def test_section_301_stacks_on_section_232_autos_and_the_fentanyl_duty(
        loaded_once: TariffTimeline) -> None:
    # Given a Chinese car on 1 May 2025: List 1 25% (83 FR 28710), autos 25% (Proclamation
    # 10908), fentanyl 20% (EO 14228); the reciprocal duty does not apply to 232 goods
    answer = loaded_once.rate_on(origin="CN", hts="8703.23.01", entered="2025-05-01")
    # Then 301 is cumulative with them
    assert answer.additional == 70


def test_section_301_stacks_on_the_section_122_surcharge(loaded_once: TariffTimeline) -> None:
    # Given List 3 furniture on 1 Mar 2026, after the IEEPA duties ended: 25% (84 FR 20459)
    # and the 10% Section 122 surcharge, which is added to Section 301 (Proclamation of 20 Feb
    # 2026)
    answer = loaded_once.rate_on(origin="CN", hts="9401.31.00", entered="2026-03-01")
    assert _applied(answer) == {"s301-cn-list-3": Decimal(25)}
    assert answer.additional == 35


def test_section_301_stacks_on_the_timber_duty(loaded_once: TariffTimeline) -> None:
    # Given Chinese pine lumber of List 3 on 1 Nov 2025: 25% (84 FR 20459) and the 10% Section
    # 232 timber duty (Proclamation 10976); the fentanyl duty was 10% from 10 Nov 2025
    answer = loaded_once.rate_on(origin="CN", hts="4407.11.00", entered="2025-11-15")
    assert _applied(answer) == {"s301-cn-list-3": Decimal(25)}
    assert _applied(answer, "s232-timber") == {"s232-softwood-lumber": Decimal(10)}
    assert answer.additional == 45


# ------------------------------------------------------------------ product exclusions (2024-2026)

EXCLUSIONS = ("89 FR 46948 (164 exclusions from 15 Jun 2024), 90 FR 42500 (through 29 Nov 2025), "
              "USTR notice of 26 Nov 2025 (through 9 Nov 2026); U.S. note 20(vvv)(i)(1)")


@pytest.mark.parametrize(("entered", "known", "additional"), [
    ("2024-06-14", None, Decimal(25)),
    ("2024-06-20", None, Decimal(0)),
    ("2024-06-20", "2024-05-23", Decimal(25)),
    ("2025-10-01", None, Decimal(0)),
    ("2025-12-15", "2025-11-25", Decimal(25)),
    ("2025-12-15", None, Decimal(0)),
    ("2026-11-10", None, Decimal(25)),
])
def test_a_whole_line_exclusion_lifts_the_list_duty_while_it_is_extended(
        loaded_once: TariffTimeline, entered: str, known: str | None,
        additional: Decimal) -> None:
    # Given grooved pulleys 8483.50.90.40, excluded whole by note 20(vvv)(i)(1) (EXCLUSIONS)
    answer = loaded_once.rate_on(origin="CN", hts="8483.50.90.40", entered=entered, known=known)
    # Then List 1's 25% is lifted only inside each period as known then
    charged = _applied(answer)
    assert sum((v or Decimal(0) for v in charged.values()), Decimal(0)) == additional, charged


def test_a_described_exclusion_asks_whether_the_goods_match_its_description(
        loaded_once: TariffTimeline) -> None:
    # Given pump casings of 8413.91.90.85, excluded by description (note 20(vvv)(i)(4))
    # (a steel derivative too: its steel share is stated so that the total is known)
    answer = loaded_once.rate_on(origin="CN", hts="8413.91.90.85", entered="2025-10-01",
                                 known="2026-01-01", facts={"steel_content_share": "0.5"})
    # Then the answer gives both outcomes rather than assuming the goods are the excluded ones
    outcomes = {alt.assumptions["described_goods = true"]: alt.additional
                for alt in answer.alternatives}
    assert outcomes[True] == outcomes[False] - 25
    matching = loaded_once.rate_on(origin="CN", hts="8413.91.90.85", entered="2025-10-01",
                                   facts={"described_goods": True, "steel_content_share": "0.5"})
    assert _applied(matching) == {}


def test_an_exclusion_does_not_lift_a_four_year_review_rate(loaded_once: TariffTimeline) -> None:
    # Given enteral syringes (9018.31.00.80): the review's 100% (9903.91.03) is lifted only by
    # heading 9903.91.10, until 1 Jan 2026 (89 FR 76581)
    excepted = loaded_once.rate_on(origin="CN", hts="9018.31.00.80", entered="2025-06-01",
                                   facts={"described_goods": True})
    later = loaded_once.rate_on(origin="CN", hts="9018.31.00.80", entered="2026-02-01",
                                facts={"described_goods": True})
    assert _applied(excepted) == {}
    assert _applied(later) == {"s301-cn-2024-100": Decimal(100)}


# ------------------------------------------------------------------ coverage


def test_coverage_says_which_section_301_and_201_lists_are_partial(
        loaded_once: TariffTimeline) -> None:
    # Given the lists as read (List 1 lacks electric vehicles renumbered in 2022; the 201 solar
    # scope lacks CSPV cells inside other products) and the 178 exclusions read whole
    rows = {row.id: row for row in loaded_once.coverage(at="2025-10-01")}
    # Then coverage reports each list as complete or partial, with its size and why
    for measure in ("s301-cn-list-1", "s301-cn-list-3", "s301-cn-list-4a", "s201-solar-2022"):
        assert rows[measure].products_complete is False, measure
        assert rows[measure].products_note
    assert rows["s301-cn-list-3"].codes is not None and rows["s301-cn-list-3"].codes > 6000
    assert rows["s301-cn-exclusions-2025-09-lines"].products_complete is True
    assert rows["s301-cn-2024-100"].codes == 10
