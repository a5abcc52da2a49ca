"""The defects of issue 11, each as a known answer from the bundled timeline (with its source)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tariff_timeline import TariffTimeline
from tariff_timeline.projections.answers import RateAnswer


def _layer(answer: RateAnswer, measure: str) -> tuple[bool, Decimal | None, str]:
    found = next(layer for layer in answer.layers if layer.measure == measure)
    return found.applied, found.rate, found.reason


def _outcomes(answer: RateAnswer, assumption: str) -> dict[bool, Decimal | None]:
    return {alt.assumptions[assumption]: alt.additional for alt in answer.alternatives}


# ------------------------------------------------------------------ Brazil's letter (9 Jul 2025)


def test_brazils_50_percent_letter_is_not_known_on_8_july_2025(
        loaded_once: TariffTimeline) -> None:
    # Given the letter was posted on 9 Jul 2025 (Newser, Peoples Dispatch, Mint)
    # When we ask as known on 8 Jul
    answer = loaded_once.rate_on(origin="BR", hts="0901.11.00", entered="2025-07-20",
                                 known="2025-07-08")
    # Then the threat is not shown
    assert "ieepa-letter-br" not in {layer.measure for layer in answer.layers}


def test_brazils_50_percent_letter_is_known_from_9_july_2025(
        loaded_once: TariffTimeline) -> None:
    answer = loaded_once.rate_on(origin="BR", hts="0901.11.00", entered="2025-07-20",
                                 known="2025-07-09")
    letter = next(layer for layer in answer.layers if layer.measure == "ieepa-letter-br")
    assert (letter.status, letter.applied, letter.rate) == ("threat", False, Decimal(50))
    assert answer.additional == 10


# ------------------------------------------------------------------ Federal Register citations

CITED = {
    "90 FR 11463": {"ieepa-cn-fentanyl-20"},
    "90 FR 55964": {"kr-implementation-notice", "kr-implementation-lumber", "kr-implemented",
                    "kr-implementation-notice-reciprocal", "kr-aircraft-exemption"},
    "90 FR 48127": {"s232-lumber-wood-softwood", "s232-lumber-wood-upholstered",
                    "s232-lumber-wood-cabinets", "s232-lumber-wood-upholstered-30",
                    "s232-lumber-wood-cabinets-50", "s232-lumber-wood-gb-10",
                    "s232-lumber-wood-eu-jp-15", "stacking-wood-over-border"},
    "90 FR 18907": {"stacking-eo14289-autos-first", "stacking-eo14289-parts-first",
                    "stacking-eo14289-border-over-metals"},
    "83 FR 20683": {"s232-au-exemption-2018"},
    "90 FR 37957": {"ieepa-ca-35"},
    "84 FR 23983": {"s232-ca-mx-exemption-2019"},
    "87 FR 11 ": {"s232-eu-steel-trq-2022"},
    "87 FR 33407": {"s232-uk-steel-trq-2022"},
}


@pytest.mark.parametrize("citation", sorted(CITED))
def test_every_event_of_the_instrument_cites_its_federal_register_page(
        loaded_once: TariffTimeline, citation: str) -> None:
    # Given EO 14228, the Korea notice, Proclamation 10976, EO 14289 and Proclamation 9740
    # When we list the store's citations (corrections applied)
    citing = {event for row in loaded_once.sources()
              if row.federal_register and row.federal_register.startswith(citation)
              for event in row.events}
    # Then each event of the instrument cites its Federal Register page
    assert CITED[citation] <= citing


def test_no_timber_event_names_proclamation_10976_only_by_its_date(
        loaded_once: TariffTimeline) -> None:
    by_date = {event for row in loaded_once.sources()
               if row.instrument and "29 Sep 2025" in row.instrument
               and "10976" not in row.instrument for event in row.events}
    assert not by_date & CITED["90 FR 48127"]


# ------------------------------------------------------------------ 'through' a date


def test_a_band_through_31_december_2027_still_applies_on_31_december_2027(
        loaded_once: TariffTimeline) -> None:
    # Given Annex III's temporary 15% runs through 2027 (8401.40.00 is listed only there)
    last_day = loaded_once.rate_on(origin="DE", hts="8401.40.00", entered="2027-12-31")
    after = loaded_once.rate_on(origin="DE", hts="8401.40.00", entered="2028-01-02")
    # Then it applies on 31 December and has ended by 2 January 2028
    assert _layer(last_day, "s232-metals-annex-3")[0] is True
    assert _layer(after, "s232-metals-annex-3")[0] is False


def test_the_us_metal_band_applies_on_31_december_2027(loaded_once: TariffTimeline) -> None:
    answer = loaded_once.rate_on(origin="DE", hts="8401.40.00", entered="2027-12-31",
                                 facts={"us_content_share": Decimal("0.9"),
                                        "metal_content_share": Decimal("0.5"),
                                        "civil_aircraft_use": False})
    assert answer.additional == 10
    assert "s232-us-metal-equipment-10" in _layer(answer, "s232-metals-annex-3")[2]


# ------------------------------------------------------------------ Australia, 2018


def test_australian_steel_is_exempt_indefinitely_from_may_2018_with_no_caveat(
        loaded_once: TariffTimeline) -> None:
    # Given Proclamations 9739 and 9740 (30 Apr 2018) set no expiration date
    answer = loaded_once.rate_on(origin="AU", hts="7208.10", entered="2021-06-01")
    assert answer.additional == 0
    assert _layer(answer, "s232-steel")[2].startswith("exempt")
    assert not [note for note in answer.notes if note.startswith("s232-au-exemption-2018")]


# ------------------------------------------------------------------ ceilings cap, never raise


@pytest.mark.parametrize("origin", ["DE", "FR", "JP", "GB"])
def test_softwood_lumber_pays_10_percent_from_every_country(
        loaded_once: TariffTimeline, origin: str) -> None:
    # Given Proclamation 10976: softwood lumber 10% from all countries (9903.76.01)
    answer = loaded_once.rate_on(origin=origin, hts="4407.11.00", entered="2025-11-01",
                                 mfn="0")
    assert answer.additional == 10
    assert _layer(answer, "s232-softwood-lumber")[:2] == (True, Decimal(10))


def test_eu_upholstered_furniture_is_capped_at_15_percent_including_mfn(
        loaded_once: TariffTimeline) -> None:
    # Given 9903.76.22: EU upholstered furniture at most 15% including MFN, instead of 25%
    answer = loaded_once.rate_on(origin="DE", hts="9401.61.40.11", entered="2025-11-01",
                                 mfn="0")
    assert answer.additional == 15
    raised = loaded_once.rate_on(origin="DE", hts="9401.61.40.11", entered="2025-11-01",
                                 mfn="5")
    assert raised.additional == 10


def test_a_ceiling_never_raises_korean_lumber_above_its_10_percent(
        loaded_once: TariffTimeline) -> None:
    # Given the Korea notice caps timber at 15% all-in while softwood lumber pays 10%
    answer = loaded_once.rate_on(origin="KR", hts="4407.11.00", entered="2025-12-10", mfn="0")
    # Then the cap leaves the 10% alone (it was 15 when the ceiling replaced the rate)
    assert answer.additional == 10


# ------------------------------------------------------------------ conditional exemptions ask


def test_a_hydraulic_jack_from_germany_asks_whether_it_is_for_civil_aircraft(
        loaded_once: TariffTimeline) -> None:
    # Given the EU civil-aircraft exemption requires use in civil aircraft
    answer = loaded_once.rate_on(origin="DE", hts="8425.42.00.00", entered="2025-10-01",
                                 mfn="0", facts={"steel_content_share": Decimal("0.5")})
    # When the end use is not stated, then the answer gives both alternatives
    assert answer.additional is None
    assert _outcomes(answer, "civil_aircraft_use = true") == {True: 0, False: 25}
    stated = loaded_once.rate_on(origin="DE", hts="8425.42.00.00", entered="2025-10-01",
                                 mfn="0", facts={"steel_content_share": Decimal("0.5"),
                                                 "civil_aircraft_use": True})
    assert stated.additional == 0


# ------------------------------------------------------------------ EO 14289 and Proclamation 10984


def test_canadian_aluminium_in_march_2025_pays_the_canada_duty_but_not_the_232_duty(
        loaded_once: TariffTimeline) -> None:
    # Given EO 14289 (29 Apr 2025) applies to entries from 4 Mar 2025: CA/MX duty over metals
    answer = loaded_once.rate_on(origin="CA", hts="7601.10", entered="2025-03-20",
                                 facts={"usmca_qualifying": False})
    assert answer.additional == 25
    assert _layer(answer, "s232-aluminium")[2].startswith("not stacked")


def test_before_eo_14289_was_known_canadian_aluminium_showed_both_duties(
        loaded_once: TariffTimeline) -> None:
    answer = loaded_once.rate_on(origin="CA", hts="7601.10", entered="2025-03-20",
                                 known="2025-04-28", facts={"usmca_qualifying": False})
    assert answer.additional == 50


def test_from_4_june_2025_canadian_aluminium_pays_the_232_duty_alone(
        loaded_once: TariffTimeline) -> None:
    # Given Proclamation 10947 reversed the order for metals from 4 Jun 2025
    answer = loaded_once.rate_on(origin="CA", hts="7601.10", entered="2025-06-10",
                                 facts={"usmca_qualifying": False})
    assert answer.additional == 50
    assert _layer(answer, "ieepa-fentanyl-ca")[2].startswith("not stacked")


@pytest.mark.parametrize("origin, entered", [("CA", "2025-12-10"), ("MX", "2025-11-15")])
def test_a_non_usmca_truck_pays_the_truck_duty_alone(
        loaded_once: TariffTimeline, origin: str, entered: str) -> None:
    # Given Proclamation 10984: trucks under the 232 duty pay no Canada/Mexico IEEPA duty
    answer = loaded_once.rate_on(origin=origin, hts="8704.23.01", entered=entered,
                                 facts={"usmca_qualifying": False})
    assert answer.additional == 25
    assert _layer(answer, f"ieepa-fentanyl-{origin.lower()}")[2].startswith("not stacked")


# ------------------------------------------------------------------ found by the audit


@pytest.mark.parametrize("entered, additional", [
    ("2019-01-01", 25), ("2020-01-01", 0), ("2024-12-31", 0), ("2025-03-12", 25)])
def test_canadian_steel_is_exempt_from_20_may_2019_until_12_march_2025(
        loaded_once: TariffTimeline, entered: str, additional: int) -> None:
    # Given Proclamations 9893/9894 (20 May 2019) and 10895/10896 (12 Mar 2025)
    answer = loaded_once.rate_on(origin="CA", hts="7208.10", entered=entered,
                                 facts={"usmca_qualifying": True})
    assert answer.additional == additional


@pytest.mark.parametrize("origin", ["DE", "GB"])
def test_eu_and_uk_steel_in_2023_depends_on_the_quota_and_says_so(
        loaded_once: TariffTimeline, origin: str) -> None:
    # Given Proclamation 10328 (EU TRQ from 1 Jan 2022) and 10403 (UK TRQ from 1 Jun 2022)
    answer = loaded_once.rate_on(origin=origin, hts="7208.10", entered="2023-01-01")
    assert answer.additional is None
    assert _outcomes(answer, "in_quota = true") == {True: 0, False: 25}
    # and Proclamation 10896 closed both on 12 Mar 2025
    assert loaded_once.rate_on(origin=origin, hts="7208.10",
                               entered="2025-03-12").additional == 25


# ------------------------------------------------------------------ civil use of civil aircraft


@pytest.mark.parametrize(("origin", "entered", "program"), [
    ("GB", "2025-08-01", "s232-aluminium-derivatives"),
    ("CH", "2025-12-01", "ieepa-reciprocal"),
])
def test_a_uk_or_swiss_civil_aircraft_exemption_asks_for_civil_use(
        loaded_once: TariffTimeline, origin: str, entered: str, program: str) -> None:
    # Given aircraft parts (8807.30.00) and the UK (EO 14309) and Swiss (deal of 14 Nov 2025)
    # civil-aircraft exemptions, which cover goods for use in civil aircraft only
    answer = loaded_once.rate_on(origin=origin, hts="8807.30.00", entered=entered)
    # Then the answer asks whether the goods are for civil use instead of assuming they are
    assert any("civil_aircraft_use = true" in alt.assumptions for alt in answer.alternatives)
    civil = loaded_once.rate_on(origin=origin, hts="8807.30.00", entered=entered,
                                facts={"civil_aircraft_use": True,
                                       "aluminium_content_share": "0.3",
                                       "steel_content_share": "0.1"})
    assert not any(layer.applied for layer in civil.layers if layer.program == program)


def test_unknown_totals_still_show_the_facts_they_depend_on(
        loaded_once: TariffTimeline) -> None:
    # Given Swiss aircraft parts whose metal shares are not given (so no total either way)
    answer = loaded_once.rate_on(origin="CH", hts="8807.30.00", entered="2025-12-01")
    # Then the civil-use alternative is not dropped because both totals are unknown
    assert answer.additional is None
    assert any("depends on facts not given" in note for note in answer.notes)


# ------------------------------------------------------------------ chapter 73 steel derivatives


@pytest.mark.parametrize(("origin", "entered", "known", "rate", "heading"), [
    ("DE", "2025-03-11", None, None, None),
    ("DE", "2025-04-01", None, Decimal(25), "9903.81.90"),
    ("DE", "2025-09-01", None, Decimal(50), "9903.81.90"),
    ("DE", "2025-09-01", "2025-06-02", Decimal(25), "9903.81.90"),
    ("GB", "2025-09-01", None, Decimal(25), "9903.81.97"),
])
def test_screws_and_bolts_pay_the_chapter_73_steel_derivative_duty_on_their_full_value(
        loaded_once: TariffTimeline, origin: str, entered: str, known: str | None,
        rate: Decimal | None, heading: str | None) -> None:
    # Given bolts (7318.15.20) of U.S. note 16(m): 25% from 12 Mar 2025 (Proclamation 10896,
    # heading 9903.81.90), 50% from 4 Jun 2025 (Proclamation 10947), the UK at 25%
    answer = loaded_once.rate_on(origin=origin, hts="7318.15.20", entered=entered, known=known)
    layers = [layer for layer in answer.layers
              if layer.measure == "s232-steel-derivatives-ch73" and layer.applied]
    # Then the layer is charged on the full value, with its heading
    if rate is None:
        assert layers == []
        return
    assert [(layer.rate, layer.heading) for layer in layers] == [(rate, heading)]
    assert answer.additional is not None


def test_the_uk_steel_content_rate_no_longer_reaches_chapter_73_goods(
        loaded_once: TariffTimeline) -> None:
    # Given a UK bolt on 1 Sep 2025, whose steel share is not stated
    answer = loaded_once.rate_on(origin="GB", hts="7318.15.20", entered="2025-09-01")
    # Then the 25% is on the full value: no share is asked for
    assert answer.additional == 25
