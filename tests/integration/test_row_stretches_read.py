"""Since and until on schedule rows and in diffs, answered from the read model as the fold
answers them, on SQLite and PostgreSQL: the stretch a row's status holds over, bounded by
later events (a revocation, a pause, a closing, a rule's next version) as much as its own."""

from __future__ import annotations

from datetime import datetime

from tariff_timeline import TariffTimeline
from tariff_timeline.domain.clocks import effective_instant
from tariff_timeline.projections.answers import ScheduleRow
from tariff_timeline.service import QueryPath
from tests.builders import (
    exemption,
    exemption_revoked,
    imposed,
    pause_extended,
    paused,
    quota,
    quota_changed,
    revoked,
    rule_changed,
    stacking,
)
from tests.conftest import FakeClock

HISTORY = (
    imposed("steel-25", "steel", known="2025-03-01", start="2025-03-12", percent=25,
            program="s232-steel", authority="Section 232"),
    paused("steel-paused", "steel", known="2025-03-20", start="2025-04-01",
           until="2025-05-01"),
    pause_extended("steel-extended", "steel", known="2025-04-20", until="2025-06-01"),
    revoked("steel-revoked", "steel", known="2025-08-20", start="2025-09-01"),
    # Due on 1 October, paused from its third week: scheduled until then.
    imposed("autos-25", "autos", known="2025-08-01", start="2025-10-01", percent=25),
    paused("autos-paused", "autos", known="2025-08-15", start="2025-10-15"),
    quota("quota-open", "steel-tq", "steel", known="2025-03-01", start="2025-03-12",
          in_quota=0, origins=("GB",)),
    quota_changed("quota-closed", "steel-tq", known="2025-06-15", start="2025-08-01",
                  closed=True),
    exemption("books-granted", "books", known="2025-03-01", start="2025-03-12",
              measures=("steel",), products=("4901",)),
    exemption_revoked("books-revoked", "books", known="2025-09-01", start="2025-10-01"),
    stacking("rule-set", "rule", known="2025-03-01", start="2025-03-12",
             when={"programs": ("s232-steel",)}, excludes={"programs": ("recip",)}),
    rule_changed("rule-off", "rule", known="2025-06-01", start="2025-07-20",
                 until="2025-07-27", in_effect=False),
)


def _rows(timeline: TariffTimeline, entered: str, known: str | None = None
          ) -> dict[str, ScheduleRow]:
    return {row.id: row for row in timeline.schedule_as_of(entered=entered,
                                                           known=known).rows}


def _day(text: str) -> datetime:
    return effective_instant(text)


class TestRowsFromTheReadModel:
    def test_rows_show_the_stretches_later_events_bound_as_the_fold_does(
            self, timeline: TariffTimeline, clock: FakeClock) -> None:
        # given steel paused and its pause extended, then revoked from September; autos due
        # in October and paused from its third week; a quota closing from August; an
        # exemption revoked from October; a rule suspended for a week in July
        timeline.record_events(HISTORY)
        clock.advance(days=1)
        by_fold = TariffTimeline(timeline.store, timeline.read_model, QueryPath.FOLD)
        for entered in ("2025-03-15", "2025-04-15", "2025-07-01", "2025-08-15",
                        "2025-09-15"):
            # when the schedule is asked of the read model, then the fold answers the same
            assert timeline.schedule_as_of(entered=entered) == by_fold.schedule_as_of(
                entered=entered), entered
        # and on 1 July each row's until is set by a later event
        rows = _rows(timeline, "2025-07-01")
        until = {ident: (row.since, row.until) for ident, row in rows.items()}
        assert until["steel"] == (_day("2025-06-01"), _day("2025-09-01"))
        assert until["steel-tq"] == (_day("2025-03-12"), _day("2025-08-01"))
        assert until["books"] == (_day("2025-03-12"), _day("2025-10-01"))
        assert until["rule"] == (_day("2025-03-12"), _day("2025-07-20"))
        assert rows["steel"].events == ("steel-25", "steel-extended", "steel-revoked")
        # and on 15 August autos is scheduled until its pause
        autos = _rows(timeline, "2025-08-20")["autos"]
        assert (autos.status, autos.since, autos.until) == (
            "scheduled", _day("2025-10-01"), _day("2025-10-15"))

    def test_a_diff_between_known_times_shows_the_revocation_as_the_fold_does(
            self, timeline: TariffTimeline, clock: FakeClock) -> None:
        # given the same history
        timeline.record_events(HISTORY)
        clock.advance(days=1)
        by_fold = TariffTimeline(timeline.store, timeline.read_model, QueryPath.FOLD)
        # when 1 July as known on 1 August is compared with 1 July as known now
        answer = timeline.diff(entered=("2025-07-01", "2025-07-01"),
                               known=("2025-08-01", None))
        # then steel's and the exemption's intervals changed, each named by its revocation,
        # and that of autos, scheduled on both sides, by its pause (its piece, before it
        # starts, is the same row on both sides)
        changed = {c.id: ([(f.field, f.after) for f in c.fields], [e.id for e in c.events])
                   for c in answer.changes}
        assert changed == {
            "steel": ([("interval", "2025-06-01 → 2025-09-01")],
                      ["steel-extended", "steel-revoked"]),
            "autos": ([("interval", "2025-10-01 → 2025-10-15")],
                      ["autos-25", "autos-paused"]),
            "books": ([("interval", "2025-03-12 → 2025-10-01")],
                      ["books-granted", "books-revoked"])}
        assert by_fold.diff(entered=("2025-07-01", "2025-07-01"),
                            known=("2025-08-01", None)) == answer
