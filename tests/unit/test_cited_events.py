"""What a schedule row or a diff cites for an exemption, a quota or a stacking rule: the events
behind what it says at the instant asked, never every event of the subject's history (pure,
no database). A rate answer cites the same (`RuleState.cited_at` and its kin)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

from tariff_timeline.domain.clocks import Coordinate, cutoff_instant, effective_instant
from tariff_timeline.events import PolicyEvent
from tariff_timeline.projections.diff import Snapshot, diff
from tariff_timeline.projections.rates import rate_on
from tariff_timeline.projections.replay import Recorded, corrected_log, fold_at
from tariff_timeline.projections.schedule import schedule_as_of
from tests.builders import (
    exemption,
    exemption_revoked,
    imposed,
    quota,
    quota_changed,
    rule_changed,
    stacking,
)

RECORDED = datetime(2027, 1, 1, tzinfo=UTC)

BASE = [
    imposed("steel-25", "steel", known="2025-03-01", start="2025-03-12", percent=25,
            program="s232-steel", authority="Section 232"),
    imposed("recip-10", "recip", known="2025-04-02", start="2025-04-05", percent=10,
            program="recip", authority="IEEPA"),
]

STEEL_QUOTA = [
    quota("quota-open", "steel-tq", "steel", known="2025-03-01", start="2025-03-12",
          in_quota=0, origins=("GB",)),
    quota_changed("quota-5", "steel-tq", known="2025-05-01", start="2025-06-01", in_quota=5),
]
"""A quota on British steel opened at 0% in March and raised to 5% from June."""


def weekly_rule_changes(weeks: int) -> list[PolicyEvent]:
    """A stacking rule set on 1 June 2025 and changed every week after, each change in
    effect for its week."""
    first = date(2025, 6, 1)
    return [stacking("rule-set", "no-recip-on-steel", known="2025-05-20", start="2025-06-01",
                     when={"programs": ("s232-steel",)}, excludes={"programs": ("recip",)}),
            *(rule_changed(f"rule-week-{n}", "no-recip-on-steel", known="2025-05-25",
                           start=(first + timedelta(weeks=n)).isoformat(),
                           until=(first + timedelta(weeks=n + 1)).isoformat(),
                           in_effect=n % 3 != 0)
              for n in range(1, weeks + 1))]


def snapshot(events: Sequence[PolicyEvent], entered: str) -> Snapshot:
    entries = corrected_log([Recorded(i, RECORDED, e) for i, e in enumerate(events, 1)],
                            RECORDED)
    coordinate = Coordinate(effective_instant(entered), cutoff_instant("2026-12-31", "known"),
                            RECORDED)
    return Snapshot(coordinate, fold_at(entries, coordinate.known),
                    {e.event.id: e for e in entries})


def row_events(events: Sequence[PolicyEvent], entered: str, kind: str) -> list[tuple[str, ...]]:
    version = snapshot(events, entered)
    return [row.events for row in schedule_as_of(version.timeline, version.coordinate).rows
            if row.kind == kind]


class TestScheduleRows:
    def test_a_rule_changed_every_week_cites_its_setting_and_the_week_in_force(self) -> None:
        # given a rule set on 1 June and changed every week for twenty weeks
        events = [*BASE, *weekly_rule_changes(20)]
        # when the schedule of 10 July (the sixth week's change in force) is asked
        cited = row_events(events, "2025-07-10", "stacking_rule")
        # then its row cites the event that set it and the sixth week's, not all 21
        assert cited == [("rule-set", "rule-week-5")]

    def test_a_quota_cites_its_opening_and_the_change_in_force_not_a_later_one(self) -> None:
        # given the steel quota, raised again to 8% from September
        events = [*BASE, *STEEL_QUOTA,
                  quota_changed("quota-8", "steel-tq", known="2025-08-01", start="2025-09-01",
                                in_quota=8)]
        # when the schedule of 1 July is asked
        cited = row_events(events, "2025-07-01", "quota")
        # then the row cites the opening (title, scope, volume) and the 5% change in force
        assert cited == [("quota-open", "quota-5")]

    def test_an_exemption_cites_its_grant_while_it_is_in_effect(self) -> None:
        # given an exemption granted in April and revoked from October
        events = [*BASE,
                  exemption("books-granted", "books", known="2025-04-02", start="2025-04-05",
                            measures=("recip",), products=("4901",)),
                  exemption_revoked("books-revoked", "books", known="2025-09-01",
                                    start="2025-10-01")]
        # when the schedule of 1 July is asked
        cited = row_events(events, "2025-07-01", "exemption")
        # then the row cites the grant, which says all it shows then
        assert cited == [("books-granted",)]


class TestDiff:
    def test_a_rule_changed_weekly_names_the_weeks_in_force_on_each_side(self) -> None:
        # given a rule changed every week for twenty weeks
        events = [*BASE, *weekly_rule_changes(20)]
        # when the schedule of 10 June is compared with that of 30 July
        result = diff(snapshot(events, "2025-06-10"), snapshot(events, "2025-07-30"))
        # then the rule's change names its setting and the two weeks' changes, second first
        (change,) = [c for c in result.changes if c.kind == "stacking_rule"]
        assert [e.id for e in change.events] == ["rule-set", "rule-week-8", "rule-week-1"]

    def test_a_quota_closed_between_two_dates_names_its_opening_and_closing(self) -> None:
        # given the steel quota, closed from August
        events = [*BASE, *STEEL_QUOTA,
                  quota_changed("quota-closed", "steel-tq", known="2025-07-15",
                                start="2025-08-01", closed=True)]
        # when the schedule of 1 July is compared with that of 1 September
        result = diff(snapshot(events, "2025-07-01"), snapshot(events, "2025-09-01"))
        # then the quota is removed, named by its opening, its closing and the rate it had
        (change,) = [c for c in result.changes if c.kind == "quota"]
        assert change.change == "removed"
        assert [e.id for e in change.events] == ["quota-open", "quota-closed", "quota-5"]


class TestRateAnswers:
    def test_a_rule_that_triggers_cites_its_setting_and_the_week_in_force(self) -> None:
        # given a rule keeping the country rate off steel, changed every week
        events = [*BASE, *weekly_rule_changes(20)]
        version = snapshot(events, "2025-07-10")
        # when the rate on British steel is asked on 10 July
        answer = rate_on(version.timeline, version.entries, origin="GB", hts="7208.10.15",
                         coordinate=version.coordinate)
        # then the layer the rule drops cites the rule's setting and that week's change only
        cited = {e.id for layer in answer.layers for e in layer.events}
        assert {"rule-set", "rule-week-5"} <= cited
        assert not cited & {f"rule-week-{n}" for n in (*range(1, 5), *range(6, 21))}
