"""Since and until on a schedule row: the stretch over which what the row shows holds, as
known at the row's coordinate, bounded by later events as much as by the row's own (pure, no
database)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from tariff_timeline.domain.clocks import Coordinate, cutoff_instant, effective_instant
from tariff_timeline.domain.errors import StoreError
from tariff_timeline.domain.paint import NOT_READ
from tariff_timeline.events import PolicyEvent
from tariff_timeline.projections.answers import ScheduleRow
from tariff_timeline.projections.diff import Snapshot, diff
from tariff_timeline.projections.replay import Recorded, corrected_log, fold_at
from tariff_timeline.projections.schedule import schedule_as_of
from tests.builders import (
    imposed,
    pause_extended,
    paused,
    quota,
    quota_changed,
    rate_changed,
    revoked,
    scope_amended,
    stacking,
)

RECORDED = datetime(2027, 1, 1, tzinfo=UTC)

STEEL = imposed("steel-25", "steel", known="2025-03-01", start="2025-03-12", percent=25,
                program="s232-steel", authority="Section 232")
REVOKED_IN_SEPTEMBER = revoked("steel-revoked", "steel", known="2025-08-20",
                               start="2025-09-01")


def snapshot(events: Sequence[PolicyEvent], entered: str,
             known: str = "2026-12-31") -> Snapshot:
    entries = corrected_log([Recorded(i, RECORDED, e) for i, e in enumerate(events, 1)],
                            RECORDED)
    coordinate = Coordinate(effective_instant(entered), cutoff_instant(known, "known"),
                            RECORDED)
    return Snapshot(coordinate, fold_at(entries, coordinate.known),
                    {e.event.id: e for e in entries})


def row(events: Sequence[PolicyEvent], entered: str, kind: str = "measure",
        known: str = "2026-12-31") -> ScheduleRow:
    version = snapshot(events, entered, known)
    (found,) = [r for r in schedule_as_of(version.timeline, version.coordinate).rows
                if r.kind == kind]
    return found


def day(text: str) -> datetime:
    return effective_instant(text)


class TestMeasureRows:
    def test_a_measure_in_force_shows_until_a_revocation_known_for_a_later_date(self) -> None:
        # given steel in force from 12 March, and its revocation from 1 September known
        events = [STEEL, REVOKED_IN_SEPTEMBER]
        # when the schedule of 1 July is asked
        found = row(events, "2025-07-01")
        # then the row is in force from 12 March until 1 September, citing the revocation
        assert (found.status, found.since, found.until) == (
            "in_force", day("2025-03-12"), day("2025-09-01"))
        assert found.events == ("steel-25", "steel-revoked")

    def test_the_same_row_known_before_the_revocation_shows_no_end(self) -> None:
        # given the same events
        events = [STEEL, REVOKED_IN_SEPTEMBER]
        # when the schedule of 1 July is asked as known on 1 August, before the revocation
        found = row(events, "2025-07-01", known="2025-08-01")
        # then the row has no end and cites only the imposition
        assert (found.since, found.until, found.events) == (day("2025-03-12"), None,
                                                            ("steel-25",))

    def test_a_rate_change_ends_the_row_that_showed_the_old_rate(self) -> None:
        # given steel at 25% from 12 March, raised to 50% from 4 June, revoked from 1
        # September
        events = [STEEL, rate_changed("steel-50", "steel", known="2025-06-02",
                                      start="2025-06-04", percent=50),
                  REVOKED_IN_SEPTEMBER]
        # when the schedule of 1 May and of 1 July is asked
        may, july = row(events, "2025-05-01"), row(events, "2025-07-01")
        # then 25% holds from 12 March until the raise, and 50% from the raise until the
        # revocation: no row says 50% since March
        assert (may.rate, may.since, may.until) == ("25% on top of MFN", day("2025-03-12"),
                                                    day("2025-06-04"))
        assert (july.rate, july.since, july.until) == ("50% on top of MFN",
                                                       day("2025-06-04"), day("2025-09-01"))
        # and each cites what it shows, then the events bounding it
        assert may.events == ("steel-25", "steel-50")
        assert july.events == ("steel-25", "steel-50", "steel-revoked")

    def test_a_wider_scope_ends_the_row_that_showed_the_narrower_one(self) -> None:
        # given steel on every origin's chapter 72 from 12 March, widened to chapter 73
        # from 18 August
        events = [imposed("steel-25", "steel", known="2025-03-01", start="2025-03-12",
                          percent=25, products=("72",), program="s232-steel",
                          authority="Section 232"),
                  scope_amended("steel-73", "steel", known="2025-08-15", start="2025-08-18",
                                products=("72", "73"))]
        # when the schedule of 1 July and of 1 September is asked
        july, september = row(events, "2025-07-01"), row(events, "2025-09-01")
        # then the narrower scope holds until the widening, the wider one from it
        assert (july.products, july.since, july.until) == ("72", day("2025-03-12"),
                                                           day("2025-08-18"))
        assert (september.products, september.since, september.until) == (
            "72, 73", day("2025-08-18"), None)
        assert july.events == ("steel-25", "steel-73")

    def test_a_measure_shows_in_force_until_a_pause_and_since_the_pause_ended(self) -> None:
        # given steel paused over April
        events = [STEEL, paused("steel-paused", "steel", known="2025-03-20",
                                start="2025-04-01", until="2025-05-01")]
        # when the schedule of 15 March, of 15 April and of 1 July is asked
        before, during, after = (row(events, d) for d in ("2025-03-15", "2025-04-15",
                                                           "2025-07-01"))
        # then it is in force until the pause, paused over April, and in force since May
        assert (before.status, before.since, before.until) == (
            "in_force", day("2025-03-12"), day("2025-04-01"))
        assert (during.status, during.since, during.until) == (
            "paused", day("2025-04-01"), day("2025-05-01"))
        assert (after.status, after.since, after.until) == ("in_force", day("2025-05-01"),
                                                            None)
        # and each row cites the pause that bounds it
        assert [r.events for r in (before, during, after)] == [
            ("steel-25", "steel-paused"), ("steel-paused", "steel-25"),
            ("steel-25", "steel-paused")]

    def test_an_extended_pause_shows_its_new_end_and_cites_the_extension(self) -> None:
        # given steel paused over April, the pause then extended to June
        events = [STEEL, paused("steel-paused", "steel", known="2025-03-20",
                                start="2025-04-01", until="2025-05-01"),
                  pause_extended("steel-extended", "steel", known="2025-04-20",
                                 until="2025-06-01")]
        # when the schedule of 15 April is asked
        found = row(events, "2025-04-15")
        # then it is paused until June, by the extension
        assert (found.status, found.since, found.until) == ("paused", day("2025-04-01"),
                                                            day("2025-06-01"))
        assert found.events == ("steel-paused", "steel-25", "steel-extended")


    def test_a_scheduled_measure_shows_until_a_pause_known_before_it_starts(self) -> None:
        # given steel due on 12 March, its pause over April known already
        events = [STEEL, paused("steel-paused", "steel", known="2025-03-01",
                                start="2025-04-01", until="2025-05-01")]
        # when the schedule of 1 March is asked
        found = row(events, "2025-03-01")
        # then it is scheduled from 12 March until the pause, which it cites
        assert (found.status, found.since, found.until) == (
            "scheduled", day("2025-03-12"), day("2025-04-01"))
        assert found.events == ("steel-25", "steel-paused")


class TestOtherRows:
    def test_a_quota_shows_open_until_a_closing_known_for_a_later_date(self) -> None:
        # given a quota on British steel opened in March, its closing from August known
        events = [STEEL, quota("quota-open", "steel-tq", "steel", known="2025-03-01",
                               start="2025-03-12", in_quota=0, origins=("GB",)),
                  quota_changed("quota-closed", "steel-tq", known="2025-06-15",
                                start="2025-08-01", closed=True)]
        # when the schedule of 1 July is asked
        found = row(events, "2025-07-01", kind="quota")
        # then it is open until August, citing the closing
        assert (found.since, found.until) == (day("2025-03-12"), day("2025-08-01"))
        assert found.events == ("quota-open", "quota-closed")

    def test_a_quota_shows_its_volume_since_the_volume_last_changed(self) -> None:
        # given a quota on British steel opened in March, its volume cut from June
        events = [STEEL, quota("quota-open", "steel-tq", "steel", known="2025-03-01",
                               start="2025-03-12", in_quota=0, origins=("GB",)),
                  quota_changed("quota-cut", "steel-tq", known="2025-05-15",
                                start="2025-06-01", volume="40,000 units")]
        # when the schedules of April and July are asked
        april, july = row(events, "2025-04-15", kind="quota"), row(events, "2025-07-01",
                                                                   kind="quota")
        # then April shows the opening's volume until the cut, July the cut's since then
        assert (april.volume, april.since, april.until) == (
            "100,000 units", day("2025-03-12"), day("2025-06-01"))
        assert (july.volume, july.since, july.until) == ("40,000 units", day("2025-06-01"), None)
        assert july.events == ("quota-open", "quota-cut")


class TestDiffBetweenKnownTimes:
    def test_a_revocation_learned_between_them_changes_the_interval_and_is_named(self) -> None:
        # given steel in force, its revocation from 1 September learned on 20 August
        events = [STEEL, REVOKED_IN_SEPTEMBER]
        # when 1 July as known on 1 August is compared with 1 July as known on 1 September
        result = diff(snapshot(events, "2025-07-01", known="2025-08-01"),
                      snapshot(events, "2025-07-01", known="2025-09-01"))
        # then steel's interval changed, and the revocation is named for it
        (change,) = result.changes
        assert change.id == "steel"
        assert [(f.field, f.before, f.after) for f in change.fields] == [
            ("interval", "2025-03-12 → open", "2025-03-12 → 2025-09-01")]
        assert [e.id for e in change.events] == ["steel-25", "steel-revoked"]


class TestStatesCutWithoutStretches:
    def test_a_state_cut_for_a_rate_question_refuses_to_say_its_stretch(self) -> None:
        # given steel, its revocation known, and a rule, each cut at 1 July as a rate
        # question reads them (the read model does not read their stretches for it)
        version = snapshot([STEEL, REVOKED_IN_SEPTEMBER,
                            stacking("rule-set", "rule", known="2025-03-01",
                                     start="2025-03-12", when={"programs": ("s232-steel",)},
                                     excludes={"programs": ("recip",)})], "2025-07-01")
        at = version.coordinate.effective
        steel = replace(version.timeline.measures["steel"],
                        statuses=(version.timeline.measures["steel"].statuses[0],),
                        stretch=NOT_READ)
        rule = version.timeline.rules["rule"].standing_at(at, stretch=False)
        # when each is asked its stretch, then it refuses rather than give its one paint's
        # own bounds (which would say 'until: open')
        for state in (steel, rule):
            with pytest.raises(StoreError, match="shows no since or until"):
                state.stretch_at(at)
        # and the rule cut with its stretch gives the whole state's
        assert version.timeline.rules["rule"].standing_at(at).stretch_at(at) == (
            version.timeline.rules["rule"].stretch_at(at))
