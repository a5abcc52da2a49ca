"""What a schedule row or a diff cites for an exemption, a quota or a stacking rule: the events
behind what it says at the instant asked, never every event of the subject's history (pure,
no database). A rate answer cites the same (`RuleState.cited_at` and its kin)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

from tariff_timeline.domain.clocks import Coordinate, cutoff_instant, effective_instant
from tariff_timeline.events import PolicyEvent
from tariff_timeline.projections.answers import ScheduleRow
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


def rows_of(events: Sequence[PolicyEvent], entered: str, kind: str) -> list[ScheduleRow]:
    version = snapshot(events, entered)
    return [row for row in schedule_as_of(version.timeline, version.coordinate).rows
            if row.kind == kind]


def row_events(events: Sequence[PolicyEvent], entered: str, kind: str) -> list[tuple[str, ...]]:
    return [row.events for row in rows_of(events, entered, kind)]


class TestScheduleRows:
    def test_a_rule_changed_every_week_cites_its_setting_the_week_in_force_and_its_bounds(
            self) -> None:
        # given a rule set on 1 June and changed every week for twenty weeks, suspended in
        # the third and sixth weeks' changes
        events = [*BASE, *weekly_rule_changes(20)]
        # when the schedule of 10 July (the sixth week's change, week 5, in force) is asked
        (row,) = rows_of(events, "2025-07-10", "stacking_rule")
        # then the row says the rule holds from the end of the suspension in week 3 to the
        # next in week 6, and cites the event that set it, the week in force, and the weeks
        # whose changes bound that stretch: not all 21
        assert (row.since, row.until) == (effective_instant("2025-06-29"),
                                          effective_instant("2025-07-13"))
        assert row.events == ("rule-set", "rule-week-5", "rule-week-3", "rule-week-4",
                              "rule-week-6")

    def test_a_quota_cites_the_change_in_force_and_the_next_one_not_a_later_one(
            self) -> None:
        # given the steel quota, raised again to 8% from September and to 10% from January
        events = [*BASE, *STEEL_QUOTA,
                  quota_changed("quota-8", "steel-tq", known="2025-08-01", start="2025-09-01",
                                in_quota=8),
                  quota_changed("quota-10", "steel-tq", known="2025-08-01", start="2026-01-01",
                                in_quota=10)]
        # when the schedule of 1 July is asked
        (row,) = rows_of(events, "2025-07-01", "quota")
        # then the row says 5% from June until the 8% change, and cites the opening (title,
        # scope, volume), the 5% change in force and the 8% change that ends it: not the
        # 10% one
        assert row.rate == "in quota 5%"
        assert (row.since, row.until) == (effective_instant("2025-06-01"),
                                          effective_instant("2025-09-01"))
        assert row.events == ("quota-open", "quota-5", "quota-8")

    def test_an_exemption_cites_its_grant_and_the_revocation_that_ends_it(self) -> None:
        # given an exemption granted in April and revoked from October
        events = [*BASE,
                  exemption("books-granted", "books", known="2025-04-02", start="2025-04-05",
                            measures=("recip",), products=("4901",)),
                  exemption_revoked("books-revoked", "books", known="2025-09-01",
                                    start="2025-10-01")]
        # when the schedule of 1 July is asked
        (row,) = rows_of(events, "2025-07-01", "exemption")
        # then the row says it holds until October, citing the grant (all it shows then)
        # and the revocation that ends it
        assert (row.since, row.until) == (effective_instant("2025-04-05"),
                                          effective_instant("2025-10-01"))
        assert row.events == ("books-granted", "books-revoked")


class TestDiff:
    def test_a_rule_changed_weekly_names_the_weeks_in_force_on_each_side(self) -> None:
        # given a rule changed every week for twenty weeks
        events = [*BASE, *weekly_rule_changes(20)]
        # when the schedule of 10 June is compared with that of 30 July
        result = diff(snapshot(events, "2025-06-10"), snapshot(events, "2025-07-30"))
        # then the rule's change names, second side first, its setting, the weeks' changes
        # in force and those bounding the stretches they hold over (weeks 7-8 after, from
        # the suspension of week 6 to that of week 9; the setting and weeks 1-2 before, to
        # the suspension of week 3): not all 21
        (change,) = [c for c in result.changes if c.kind == "stacking_rule"]
        assert [e.id for e in change.events] == [
            "rule-set", "rule-week-8", "rule-week-6", "rule-week-7", "rule-week-9",
            "rule-week-1", "rule-week-2", "rule-week-3"]

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
