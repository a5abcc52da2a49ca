"""Known answers of the Section 201 safeguards (data/s201-safeguards.yaml): solar cells and
modules 2018-2026 and large residential washers 2018-2023, each worked out from the source
cited in its comment, across the known clock where a later instrument or court changed them."""

from __future__ import annotations

from decimal import Decimal

from tariff_timeline import TariffTimeline
from tariff_timeline.projections.answers import RateAnswer

MODULE = "8541.43.00.10"
CELL = "8541.42.00.10"
WASHER = "8450.11.00.40"
TUB = "8450.90.20.00"


def _s201(answer: RateAnswer) -> dict[str, Decimal | None]:
    """The Section 201 layers that apply to an entry: measure -> rate."""
    return {layer.measure: layer.rate for layer in answer.layers
            if layer.authority == "Section 201" and layer.applied}


def _considered(answer: RateAnswer) -> set[str]:
    """Every Section 201 measure the answer considers, applied or not."""
    return {layer.measure for layer in answer.layers if layer.authority == "Section 201"}


# ------------------------------------------------------------------ solar


def test_a_chinese_module_pays_30_percent_from_7_february_2018_and_nothing_the_day_before(
        loaded_once: TariffTimeline) -> None:
    # Proclamation 9693, 83 FR 3541, annex note 18(h): 30% for entries of 7 Feb 2018 to
    # 6 Feb 2019, from 12:01 a.m. EST on 7 Feb 2018 (PV Tech quoting the proclamation)
    before = loaded_once.rate_on(origin="CN", hts=MODULE, entered="2018-02-06")
    first = loaded_once.rate_on(origin="CN", hts=MODULE, entered="2018-02-07")
    assert _s201(before) == {}
    assert _s201(first) == {"s201-solar": Decimal(30)}


def test_a_chinese_module_entered_in_march_2019_pays_25_percent(
        loaded_once: TariffTimeline) -> None:
    # Proclamation 9693, 83 FR 3549, note 18(h): 25% for entries of 7 Feb 2019 to 6 Feb 2020
    answer = loaded_once.rate_on(origin="CN", hts=MODULE, entered="2019-03-01")
    assert _s201(answer) == {"s201-solar": Decimal(25)}


def test_year_four_is_15_percent_as_known_before_proclamation_10101_and_18_after_it(
        loaded_once: TariffTimeline) -> None:
    # Proclamation 9693 note 18(h): 15% for 7 Feb 2021 to 6 Feb 2022; Proclamation 10101 of
    # 10 Oct 2020 (85 FR 65639) raised year four to 18% (Fed. Cir. No. 22-1392 summary)
    before = loaded_once.rate_on(origin="CN", hts=MODULE, entered="2021-06-01",
                                 known="2020-10-09", facts={"bifacial_panel": False})
    after = loaded_once.rate_on(origin="CN", hts=MODULE, entered="2021-06-01",
                                known="2020-10-11", facts={"bifacial_panel": False})
    assert _s201(before) == {"s201-solar": Decimal(15)}
    assert _s201(after) == {"s201-solar": Decimal(18)}


def test_year_four_went_back_to_15_percent_under_the_cit_judgment_and_to_18_after_reversal(
        loaded_once: TariffTimeline) -> None:
    # CIT Slip Op. 21-154 (16 Nov 2021) set Proclamation 10101 aside: CBP reverted year four
    # from 18% to 15% (CSMS #50263965, 2 Dec 2021); the Federal Circuit reversed on 13 Nov 2023
    # (SEIA v. United States, 86 F.4th 885), so 18% stands again
    under_cit = loaded_once.rate_on(origin="CN", hts=MODULE, entered="2021-06-01",
                                    known="2022-01-01", facts={"bifacial_panel": False})
    after_cafc = loaded_once.rate_on(origin="CN", hts=MODULE, entered="2021-06-01",
                                     known="2023-12-01", facts={"bifacial_panel": False})
    assert _s201(under_cit) == {"s201-solar": Decimal(15)}
    assert _s201(after_cafc) == {"s201-solar": Decimal(18)}


def test_a_bifacial_panel_was_excluded_from_june_2019(loaded_once: TariffTimeline) -> None:
    # USTR exclusion notice, 84 FR 27684 (13 Jun 2019): bifacial panels made only of bifacial
    # cells are excluded as of 13 Jun 2019; a monofacial module still pays 25% in year two
    bifacial = loaded_once.rate_on(origin="CN", hts=MODULE, entered="2019-08-01",
                                   facts={"bifacial_panel": True})
    monofacial = loaded_once.rate_on(origin="CN", hts=MODULE, entered="2019-08-01",
                                     facts={"bifacial_panel": False})
    assert _s201(bifacial) == {}
    assert "s201-solar" in _considered(bifacial)
    assert _s201(monofacial) == {"s201-solar": Decimal(25)}


def test_a_bifacial_panel_of_june_2021_was_exempt_while_the_cit_judgment_stood_and_pays_18_now(
        loaded_once: TariffTimeline) -> None:
    # Proclamation 10101 revoked the bifacial exclusion from 25 Oct 2020; the CIT reinstated it
    # (CSMS #50525157: bifacial panels entered 25 Oct 2020 to 6 Feb 2022); the Federal Circuit
    # reversed (White & Case: the appeal concerns bifacial panels of 25 Oct 2020 to 7 Feb 2022)
    facts = {"bifacial_panel": True}
    under_cit = loaded_once.rate_on(origin="CN", hts=MODULE, entered="2021-06-01",
                                    known="2022-01-01", facts=facts)
    now = loaded_once.rate_on(origin="CN", hts=MODULE, entered="2021-06-01", facts=facts)
    assert _s201(under_cit) == {}
    assert _s201(now) == {"s201-solar": Decimal(18)}


def test_a_bifacial_panel_is_excluded_again_from_2022_until_proclamation_10779(
        loaded_once: TariffTimeline) -> None:
    # Proclamation 10339 (87 FR 7357) kept bifacial panels out of the extension (International
    # Trade Today, 4 Feb 2022); Proclamation 10779 of 21 Jun 2024 ended the exclusion for
    # entries from 12:01 a.m. EDT on 26 Jun 2024 (Livingston); year seven is 14.25% (DutyDesk)
    facts = {"bifacial_panel": True}
    march = loaded_once.rate_on(origin="CN", hts=MODULE, entered="2024-03-01", facts=facts)
    july = loaded_once.rate_on(origin="CN", hts=MODULE, entered="2024-07-01", facts=facts)
    july_as_known_in_may = loaded_once.rate_on(origin="CN", hts=MODULE, entered="2024-07-01",
                                               known="2024-05-31", facts=facts)
    assert _s201(march) == {}
    assert _s201(july) == {"s201-solar-2022": Decimal("14.25")}
    assert _s201(july_as_known_in_may) == {}


def test_cells_within_the_quota_pay_no_safeguard_and_cells_above_it_pay_the_module_rate(
        loaded_once: TariffTimeline) -> None:
    # Proclamation 9693 annex (83 FR 3549): 9903.45.21 "No change" within 2.5 GW a year,
    # 9903.45.22 the note 18(f) rate (30% in year one) above
    within = loaded_once.rate_on(origin="CN", hts=CELL, entered="2018-06-01",
                                 facts={"in_quota": True})
    above = loaded_once.rate_on(origin="CN", hts=CELL, entered="2018-06-01",
                                facts={"in_quota": False})
    assert _s201(within) == {"s201-solar": Decimal(0)}
    assert _s201(above) == {"s201-solar": Decimal(30)}


def test_the_cell_quota_is_5_gw_in_july_2024_and_12_5_gw_from_1_august_2024(
        loaded_once: TariffTimeline) -> None:
    # Proclamation 10339 doubled the quota to 5 GW (Trade Law Daily, 13 Aug 2024); Proclamation
    # 10790 of 12 Aug 2024 raised it to 12.5 GW for entries from 1 Aug 2024 (CBP QB 24-507)
    july = loaded_once.rate_on(origin="CN", hts=CELL, entered="2024-07-15",
                               facts={"in_quota": True})
    september = loaded_once.rate_on(origin="CN", hts=CELL, entered="2024-09-01",
                                    facts={"in_quota": True})
    september_as_known_before = loaded_once.rate_on(
        origin="CN", hts=CELL, entered="2024-09-01", known="2024-08-11", facts={"in_quota": True})

    def reason(answer: RateAnswer) -> str:
        return next(layer.reason for layer in answer.layers if layer.measure == "s201-solar-2022")

    assert "5 gigawatts" in reason(july) and "12.5" not in reason(july)
    assert "12.5 gigawatts" in reason(september)
    assert "12.5" not in reason(september_as_known_before)


def test_the_extension_starts_at_14_75_percent_and_falls_a_quarter_point_a_year(
        loaded_once: TariffTimeline) -> None:
    # Proclamation 10339 (87 FR 7357): 14.75% from 7 Feb 2022, declining 0.25 a year (Sandler,
    # Travis & Rosenberg), 14.25% and 14% in the last two years (DutyDesk, from the USITC HTS)
    expected = {"2022-06-01": "14.75", "2023-06-01": "14.5", "2024-03-01": "14.25",
                "2025-06-01": "14"}
    for entered, rate in expected.items():
        answer = loaded_once.rate_on(origin="KR", hts=MODULE, entered=entered,
                                     facts={"bifacial_panel": False})
        assert _s201(answer) == {"s201-solar-2022": Decimal(rate)}, entered


def test_the_extension_was_unknown_before_proclamation_10339_was_signed(
        loaded_once: TariffTimeline) -> None:
    # Proclamation 9693 set four years, to 6 Feb 2022; Proclamation 10339 of 4 Feb 2022
    # extended them (87 FR 7357)
    before = loaded_once.rate_on(origin="KR", hts=MODULE, entered="2022-06-01",
                                 known="2022-02-03", facts={"bifacial_panel": False})
    after = loaded_once.rate_on(origin="KR", hts=MODULE, entered="2022-06-01",
                                known="2022-02-05", facts={"bifacial_panel": False})
    assert _s201(before) == {}
    assert _s201(after) == {"s201-solar-2022": Decimal("14.75")}


def test_no_solar_safeguard_is_owed_after_6_february_2026(loaded_once: TariffTimeline) -> None:
    # Proclamation 10339 runs through 6 Feb 2026 (Communications Daily, 13 Aug 2024: "still set
    # to expire on Feb. 6, 2026"); section 203(e)(1) of the Trade Act caps relief at 8 years
    last_day = loaded_once.rate_on(origin="KR", hts=MODULE, entered="2026-02-06",
                                   facts={"bifacial_panel": False})
    after = loaded_once.rate_on(origin="KR", hts=MODULE, entered="2026-03-01",
                                facts={"bifacial_panel": False})
    assert _s201(last_day) == {"s201-solar-2022": Decimal(14)}
    assert _s201(after) == {}


def test_canadian_modules_pay_the_safeguard_until_the_mou_suspends_it_from_february_2022(
        loaded_once: TariffTimeline) -> None:
    # USTR notice FR Doc 2022-15519 and CBP CSMS #52609589: the safeguard is suspended for CSPV
    # goods originating in Canada entered from 12:01 a.m. on 1 Feb 2022 (MOU signed 8 Jul 2022)
    facts = {"usmca_qualifying": True, "bifacial_panel": False}
    in_2021 = loaded_once.rate_on(origin="CA", hts=MODULE, entered="2021-06-01", facts=facts)
    in_2023 = loaded_once.rate_on(origin="CA", hts=MODULE, entered="2023-06-01", facts=facts)
    in_2022_as_known_in_june = loaded_once.rate_on(origin="CA", hts=MODULE, entered="2022-03-01",
                                                   known="2022-06-30", facts=facts)
    assert _s201(in_2021) == {"s201-solar": Decimal(18)}
    assert _s201(in_2023) == {}
    assert _s201(in_2022_as_known_in_june) == {"s201-solar-2022": Decimal("14.75")}


# ------------------------------------------------------------------ washers


def test_korean_washers_above_the_quota_pay_50_45_40_then_35_percent(
        loaded_once: TariffTimeline) -> None:
    # Proclamation 9694 (83 FR 3553; STR table): 50/45/40% above 1.2 million units; Proclamation
    # 10133 (86 FR 6541): 35% in year four (GHY, 3 Aug 2021)
    expected = {"2018-06-01": ("s201-washers", 50), "2019-06-01": ("s201-washers", 45),
                "2020-06-01": ("s201-washers", 40), "2021-06-01": ("s201-washers-2021", 35)}
    for entered, (measure, rate) in expected.items():
        answer = loaded_once.rate_on(origin="KR", hts=WASHER, entered=entered,
                                     facts={"in_quota": False})
        assert _s201(answer) == {measure: Decimal(rate)}, entered


def test_korean_washers_within_the_quota_pay_20_18_16_then_15_percent(
        loaded_once: TariffTimeline) -> None:
    # Proclamation 9694 (STR table): 20/18/16% on the first 1.2 million units; Proclamation
    # 10133: 15% in year four (GHY, 3 Aug 2021)
    expected = {"2018-06-01": 20, "2019-06-01": 18, "2020-06-01": 16, "2021-06-01": 15}
    for entered, rate in expected.items():
        answer = loaded_once.rate_on(origin="KR", hts=WASHER, entered=entered,
                                     facts={"in_quota": True})
        assert list(_s201(answer).values()) == [Decimal(rate)], entered


def test_canadian_washers_are_outside_the_safeguard_and_mexican_ones_are_not(
        loaded_once: TariffTimeline) -> None:
    # Proclamation 9694 exempted Canada but not Mexico (STR: "Canada ... is therefore excluded
    # but Mexico did not"); Proclamation 10133 kept Canada out
    canada = loaded_once.rate_on(origin="CA", hts=WASHER, entered="2020-06-01",
                                 facts={"in_quota": False})
    mexico = loaded_once.rate_on(origin="MX", hts="8450.20.00.80", entered="2020-06-01",
                                 facts={"in_quota": False})
    assert _s201(canada) == {} and "s201-washers" not in _considered(canada)
    assert _s201(mexico) == {"s201-washers": Decimal(40)}


def test_washer_tubs_within_the_parts_quota_pay_nothing_more_and_above_it_the_washer_rate(
        loaded_once: TariffTimeline) -> None:
    # Proclamation 9694 annex (83 FR 3561): parts quota of 50,000 units in year one; 9903.45.06
    # over quota 50% in year one; in quota no additional duty (GHY)
    within = loaded_once.rate_on(origin="TH", hts=TUB, entered="2018-06-01",
                                 facts={"in_quota": True})
    above = loaded_once.rate_on(origin="TH", hts=TUB, entered="2018-06-01",
                                facts={"in_quota": False})
    assert _s201(within) == {"s201-washers": Decimal(0)}
    assert _s201(above) == {"s201-washers": Decimal(50)}


def test_the_washer_extension_was_unknown_before_proclamation_10133_and_ended_in_february_2023(
        loaded_once: TariffTimeline) -> None:
    # Proclamation 9694 ran three years and a day, through 7 Feb 2021; Proclamation 10133 of
    # 14 Jan 2021 extended it through 7 Feb 2023 (CBP QB 23-505; USITC news release 23-069)
    as_known_before = loaded_once.rate_on(origin="KR", hts=WASHER, entered="2021-06-01",
                                          known="2021-01-13", facts={"in_quota": False})
    as_known_after = loaded_once.rate_on(origin="KR", hts=WASHER, entered="2021-06-01",
                                         known="2021-01-15", facts={"in_quota": False})
    after_the_end = loaded_once.rate_on(origin="KR", hts=WASHER, entered="2023-03-01",
                                        facts={"in_quota": False})
    assert _s201(as_known_before) == {}
    assert _s201(as_known_after) == {"s201-washers-2021": Decimal(35)}
    assert _s201(after_the_end) == {}
