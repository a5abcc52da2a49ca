"""Edges of the rule code: the exact known instant, where a bare known day ends, a share exactly
at its threshold, and layers charged on the share of value that content-based layers leave."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tariff_timeline.events import PolicyEvent, Rate
from tests.builders import exemption, imposed, stacking
from tests.unit.pure import applied, ask, reason


def _known_at(known: str) -> PolicyEvent:
    """A 10% measure in force from 5 Apr 2025 that became known at `known`."""
    return imposed("m", "measure", known=known, start="2025-04-05", percent=10)


def _asked(given: list[PolicyEvent], known: str) -> tuple[object, dict[str, object]]:
    """The additional duty and the applied layers of goods entered on 10 Apr 2025, as known at
    `known`."""
    answer = ask(given, origin="VN", hts="9503", entered="2025-04-10", known=known)
    return answer.additional, applied(answer)


SEEN: tuple[object, dict[str, object]] = (10, {"measure": 10})
"""The answer of a question that sees the measure."""
UNSEEN: tuple[object, dict[str, object]] = (0, {})
"""The answer of a question that does not."""


class TestAnEventKnownAtAnInstant:
    # given an event whose known time is a full datetime with its offset
    EVENT = _known_at("2025-04-09T13:15:00-04:00")

    def test_a_question_at_the_exact_known_instant_sees_the_event(self) -> None:
        assert _asked([self.EVENT], "2025-04-09T13:15:00-04:00") == SEEN

    def test_a_question_a_microsecond_before_the_known_instant_does_not_see_it(self) -> None:
        assert _asked([self.EVENT], "2025-04-09T13:14:59.999999-04:00") == UNSEEN

    def test_the_same_instant_written_in_another_offset_sees_the_event(self) -> None:
        assert _asked([self.EVENT], "2025-04-09T17:15:00+00:00") == SEEN
        assert _asked([self.EVENT], "2025-04-09T17:14:59.999999+00:00") == UNSEEN


class TestABareKnownDateMeansTheEndOfThatDayInUsEastern:
    def test_a_bare_known_date_sees_an_event_known_that_evening(self) -> None:
        # given an event that became known at 6 p.m. US Eastern on 9 April
        given = [_known_at("2025-04-09T18:00:00-04:00")]
        # when asked as known on 9 April, then it is seen; as known on 8 April, it is not
        assert _asked(given, "2025-04-09") == SEEN
        assert _asked(given, "2025-04-08") == UNSEEN

    def test_a_bare_known_date_ends_at_its_last_microsecond(self) -> None:
        assert _asked([_known_at("2025-04-09T23:59:59.999999-04:00")], "2025-04-09") == SEEN
        assert _asked([_known_at("2025-04-10T00:00:00-04:00")], "2025-04-09") == UNSEEN

    def test_the_day_ends_in_us_eastern_not_in_utc(self) -> None:
        # 02:00 UTC on 10 April is 10 p.m. on 9 April in New York (EDT, UTC-4)
        assert _asked([_known_at("2025-04-10T02:00:00+00:00")], "2025-04-09") == SEEN
        # 04:00 UTC on 10 April is midnight in New York: the next day
        assert _asked([_known_at("2025-04-10T04:00:00+00:00")], "2025-04-09") == UNSEEN

    def test_an_event_known_on_a_bare_date_is_known_from_the_start_of_that_day(self) -> None:
        given = [_known_at("2025-04-09")]
        assert _asked(given, "2025-04-09T00:00:00-04:00") == SEEN
        assert _asked(given, "2025-04-08T23:59:59.999999-04:00") == UNSEEN
        assert _asked(given, "2025-04-08") == UNSEEN


class TestAShareAtItsThreshold:
    # given the 2026 metals tariff on equipment (25%) and the two share tests the
    # proclamations of 2 Apr and 1 Jun 2026 set on it (data/s232-*.yaml)
    METALS = imposed("metals", "s232-metals", known="2026-04-02", start="2026-04-06",
                     percent=25, authority="Section 232", program="s232-metals-2026",
                     products=("8479",))
    US_METAL = exemption("usm", "us-metal-10", known="2026-06-01", start="2026-06-08",
                         programs=("s232-metals-2026",), percent=10,
                         conditions=({"fact": "us_content_share", "at_least": "0.85"},))
    LOW_CONTENT = exemption("low", "low-content", known="2026-04-02", start="2026-04-06",
                            programs=("s232-metals-2026",),
                            conditions=({"fact": "metal_content_share", "below": "0.15"},))

    def _us_content(self, share: str) -> dict[str, object]:
        return applied(ask([self.METALS, self.US_METAL], origin="DE", hts="8479.89",
                           entered="2026-06-10", facts={"us_content_share": Decimal(share)}))

    def _metal_content(self, share: str) -> dict[str, object]:
        return applied(ask([self.METALS, self.LOW_CONTENT], origin="DE", hts="8479.89",
                           entered="2026-06-10", facts={"metal_content_share": Decimal(share)}))

    def test_a_share_exactly_at_an_at_least_threshold_meets_it(self) -> None:
        # when the US content is exactly 85%, then the reduced 10% applies
        assert self._us_content("0.85") == {"s232-metals": 10}
        answer = ask([self.METALS, self.US_METAL], origin="DE", hts="8479.89",
                     entered="2026-06-10", facts={"us_content_share": Decimal("0.85")})
        assert reason(answer, "s232-metals").startswith("reduced rate: exemption us-metal-10")

    def test_a_share_just_under_an_at_least_threshold_does_not_meet_it(self) -> None:
        assert self._us_content("0.8499") == {"s232-metals": 25}

    def test_a_share_exactly_at_a_below_threshold_does_not_meet_it(self) -> None:
        assert self._metal_content("0.15") == {"s232-metals": 25}

    def test_a_share_just_under_a_below_threshold_meets_it(self) -> None:
        assert self._metal_content("0.1499") == {}


class TestALayerOnTheShareThatContentLayersLeave:
    # given a 10% reciprocal baseline, a 50% steel-derivative duty and a remainder rule
    # (Proclamation 10947: the reciprocal tariff applies to the non-metal content)
    BASELINE = imposed("base", "baseline", known="2025-04-02", start="2025-04-05", percent=10,
                       program="recip")
    RULE = stacking("rem", "remainder", known="2025-06-03", start="2025-06-04",
                    when={"programs": ["s232-steel-der", "s232-alu-der"]},
                    excludes={"programs": ["recip"]}).model_copy(update={"remainder": True})

    @staticmethod
    def _derivative(measure: str, program: str, percent: int,
                    content_fact: str | None) -> PolicyEvent:
        event = imposed(measure, measure, known="2025-06-03", start="2025-06-04",
                        percent=percent, authority="Section 232", program=program)
        return event.model_copy(update={"rate": Rate(percent=Decimal(percent),
                                                     content_fact=content_fact)})

    def _ask(self, given: list[PolicyEvent], **facts: str) -> tuple[object, dict[str, object]]:
        answer = ask([self.BASELINE, *given, self.RULE], origin="VN", hts="9403.20",
                     entered="2025-07-01", facts={k: Decimal(v) for k, v in facts.items()})
        return answer.additional, applied(answer)

    def test_the_content_layer_charges_its_share_and_the_excluded_layer_the_rest(self) -> None:
        steel = self._derivative("steel-der", "s232-steel-der", 50, "steel_content_share")
        # 50% of the 30% steel content is 15; 10% of the other 70% is 7
        assert self._ask([steel], steel_content_share="0.3") == (
            22, {"steel-der": 15, "baseline": 7})

    def test_two_content_layers_leave_one_minus_both_shares(self) -> None:
        steel = self._derivative("steel-der", "s232-steel-der", 50, "steel_content_share")
        alu = self._derivative("alu-der", "s232-alu-der", 25, "aluminium_content_share")
        # 50% x 0.3 = 15, 25% x 0.2 = 5, and the baseline on the other half: 10% x 0.5 = 5
        assert self._ask([steel, alu], steel_content_share="0.3",
                         aluminium_content_share="0.2") == (
            25, {"steel-der": 15, "alu-der": 5, "baseline": 5})

    def test_shares_that_take_the_whole_value_leave_nothing_to_charge(self) -> None:
        steel = self._derivative("steel-der", "s232-steel-der", 50, "steel_content_share")
        alu = self._derivative("alu-der", "s232-alu-der", 25, "aluminium_content_share")
        # 0.7 + 0.5 is more than the whole value: the baseline charges max(0, 1 - 1.2) = 0
        assert self._ask([steel, alu], steel_content_share="0.7",
                         aluminium_content_share="0.5") == (
            Decimal("47.5"), {"steel-der": 35, "alu-der": Decimal("12.5"), "baseline": 0})

    def test_a_triggering_layer_on_the_full_value_drops_the_excluded_layer(self) -> None:
        # given a derivative charged on its full value although its steel share is stated
        steel = self._derivative("steel-der", "s232-steel-der", 50, None)
        answer = ask([self.BASELINE, steel, self.RULE], origin="VN", hts="9403.20",
                     entered="2025-07-01", facts={"steel_content_share": Decimal("0.4")})
        # then it leaves no share for the reciprocal layer: that layer is not stacked at all
        assert answer.additional == 50
        assert applied(answer) == {"steel-der": 50}
        assert reason(answer, "baseline").startswith("not stacked: rule remainder")


class TestWhatACallerTypes:
    def test_a_diff_time_given_once_stands_on_both_sides_and_twice_on_each(self) -> None:
        from tariff_timeline.domain.questions import both_sides

        assert both_sides(["2025-04-08"], "known") == ("2025-04-08", "2025-04-08")
        assert both_sides(["2025-04-08", "2025-04-10"], "known") == ("2025-04-08", "2025-04-10")
        assert both_sides(None, "known") == (None, None)

    def test_a_diff_time_given_three_times_is_refused_naming_its_field(self) -> None:
        from tariff_timeline.domain.errors import InvalidInput
        from tariff_timeline.domain.questions import both_sides

        with pytest.raises(InvalidInput) as refused:
            both_sides(["a", "b", "c"], "entered", required=True)
        assert refused.value.field == "entered"

    def test_a_fact_without_an_equals_sign_is_refused_with_the_form_to_write(self) -> None:
        from tariff_timeline.domain.errors import InvalidInput
        from tariff_timeline.domain.questions import fact_pairs

        assert fact_pairs(["usmca_qualifying=true"]) == {"usmca_qualifying": "true"}
        with pytest.raises(InvalidInput, match="write KEY=VALUE") as refused:
            fact_pairs(["usmca_qualifying"])
        assert refused.value.field == "facts"
