"""A quota's volume is part of what its row shows: a quota cut or raised from a date changes
its schedule row (the volume, and the since and until it holds over), shows in a diff between
dates or between known times, and steps its history, on the read model as on the fold."""

from __future__ import annotations

from tariff_timeline import TariffTimeline
from tariff_timeline.domain.clocks import effective_instant
from tariff_timeline.projections.answers import ScheduleRow
from tariff_timeline.projections.diff import Diff
from tariff_timeline.service import QueryPath
from tests.builders import imposed, quota, quota_changed
from tests.conftest import FakeClock

HISTORY = (
    imposed("steel-25", "steel", known="2024-12-01", start="2025-01-01", percent=25),
    quota("kr-open", "kr-steel", "steel", known="2024-12-01", start="2025-01-01", in_quota=0,
          origins=("KR",)),
    # the quota cut from 100,000 to 50,000 units from 1 June, learned on 1 May
    quota_changed("kr-cut", "kr-steel", known="2025-05-01", start="2025-06-01",
                  volume="50,000 units"),
)


def _quota_row(timeline: TariffTimeline, entered: str) -> ScheduleRow:
    rows = [row for row in timeline.schedule_as_of(entered=entered).rows
            if row.kind == "quota"]
    assert len(rows) == 1
    return rows[0]


def _by_fold(timeline: TariffTimeline) -> TariffTimeline:
    return TariffTimeline(timeline.store, timeline.read_model, QueryPath.FOLD)


def _quota_changes(diff: Diff) -> list[tuple[str, str, list[tuple[str, str | None, str | None]],
                                          list[str]]]:
    return [(c.id, c.change, [(f.field, f.before, f.after) for f in c.fields],
             [e.id for e in c.events]) for c in diff.changes if c.kind == "quota"]


class TestAQuotaCutFromADate:
    def test_its_row_shows_the_volume_in_force_and_the_stretch_that_volume_holds_over(
            self, timeline: TariffTimeline, clock: FakeClock) -> None:
        # given a quota opened at 100,000 units and cut to 50,000 from 1 June
        timeline.record_events(HISTORY)
        clock.advance(days=1)
        # when its row is asked in March and in July
        march, july = (_quota_row(timeline, "2025-03-01"), _quota_row(timeline, "2025-07-01"))
        # then March shows 100,000 units until the cut, which bounds it, and July 50,000
        # since the cut
        assert (march.volume, march.rate) == ("100,000 units", "in quota 0%")
        assert (march.since, march.until) == (effective_instant("2025-01-01"),
                                              effective_instant("2025-06-01"))
        assert march.events == ("kr-open", "kr-cut")
        assert (july.volume, july.since, july.until) == (
            "50,000 units", effective_instant("2025-06-01"), None)
        assert july.events == ("kr-open", "kr-cut")
        # and the fold shows the same rows
        fold = _by_fold(timeline)
        assert (_quota_row(fold, "2025-03-01"), _quota_row(fold, "2025-07-01")) == (march, july)

    def test_a_diff_across_the_cut_names_the_volume_and_cites_the_cut(
            self, timeline: TariffTimeline, clock: FakeClock) -> None:
        # given the quota cut from 1 June
        timeline.record_events(HISTORY)
        clock.advance(days=1)
        # when March and July are compared
        answer = timeline.diff(entered=("2025-03-01", "2025-07-01"))
        # then the quota's row changed: its volume and the stretch it holds over, citing
        # the opening and the cut (before, nothing at all was reported)
        assert _quota_changes(answer) == [(
            "kr-steel", "changed",
            [("interval", "2025-01-01 → 2025-06-01", "2025-06-01 → open"),
             ("volume", "100,000 units", "50,000 units")],
            ["kr-open", "kr-cut"])]
        # and the fold gives the same answer
        assert _by_fold(timeline).diff(entered=("2025-03-01", "2025-07-01")) == answer

    def test_the_cut_shows_only_once_it_was_known(
            self, timeline: TariffTimeline, clock: FakeClock) -> None:
        # given the cut, learned on 1 May
        timeline.record_events(HISTORY)
        clock.advance(days=1)
        # when March and July are compared as known on 30 April
        before_known = timeline.diff(entered=("2025-03-01", "2025-07-01"),
                                     known=("2025-04-30", "2025-04-30"))
        # then the quota did not change
        assert _quota_changes(before_known) == []
        # and July as known on 30 April and on 2 May differs by the cut
        learned = timeline.diff(entered=("2025-07-01", "2025-07-01"),
                                known=("2025-04-30", "2025-05-02"))
        assert _quota_changes(learned) == [(
            "kr-steel", "changed",
            [("interval", "2025-01-01 → open", "2025-06-01 → open"),
             ("volume", "100,000 units", "50,000 units")],
            ["kr-open", "kr-cut"])]
        fold = _by_fold(timeline)
        assert fold.diff(entered=("2025-07-01", "2025-07-01"),
                         known=("2025-04-30", "2025-05-02")) == learned

    def test_its_history_steps_at_the_cut(self, timeline: TariffTimeline,
                                          clock: FakeClock) -> None:
        # given the cut
        timeline.record_events(HISTORY)
        clock.advance(days=1)
        # when the quota's history is asked
        rows = timeline.history("kr-steel").rows
        # then the cut's row shows the new volume from 1 June
        assert [(row.id, row.after) for row in rows] == [
            ("kr-open", "2025-01-01: open, in quota 0%, volume 100,000 units"),
            ("kr-cut", "2025-01-01: open, in quota 0%, volume 100,000 units; "
                       "2025-06-01: open, in quota 0%, volume 50,000 units")]
        # and the fold tells the same history
        assert _by_fold(timeline).history("kr-steel").rows == rows
