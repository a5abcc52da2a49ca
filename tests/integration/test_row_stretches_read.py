"""Since and until on schedule rows and in diffs, answered from the read model as the fold
answers them, on SQLite and PostgreSQL: the stretch over which what a row shows holds (a
measure's status, rate and scope), bounded by later events (a revocation, a pause, a rate
change, a wider scope, a closing, a rule's next version) as much as its own."""

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
    rate_changed,
    revoked,
    rule_changed,
    scope_amended,
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

RATES_AND_SCOPES = (
    imposed("steel-25", "steel", known="2025-03-01", start="2025-03-12", percent=25,
            products=("72",), program="s232-steel", authority="Section 232"),
    rate_changed("steel-50", "steel", known="2025-06-02", start="2025-06-04", percent=50),
    scope_amended("steel-73", "steel", known="2025-08-15", start="2025-08-18",
                  products=("72", "73")),
    rate_changed("steel-40", "steel", known="2025-09-10", start="2025-10-01", percent=40),
    quota("quota-open", "steel-tq", "steel", known="2025-03-01", start="2025-03-12",
          in_quota=0, origins=("GB",)),
    quota_changed("quota-5", "steel-tq", known="2025-05-01", start="2025-06-01", in_quota=5),
)
"""Steel raised from 25% to 50% in June, widened to chapter 73 in August and cut to 40% in
October; a quota raised from 0% to 5% in June."""

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

    def test_rows_end_where_their_rate_or_scope_changes_as_the_fold_says(
            self, timeline: TariffTimeline, clock: FakeClock) -> None:
        # given steel's rate raised, its scope widened and its rate cut, and a quota's
        # in-quota rate raised
        timeline.record_events(RATES_AND_SCOPES)
        clock.advance(days=1)
        by_fold = TariffTimeline(timeline.store, timeline.read_model, QueryPath.FOLD)
        for entered in ("2025-04-15", "2025-07-01", "2025-09-01", "2025-11-01"):
            # when the schedule is asked of the read model, then the fold answers the same
            assert timeline.schedule_as_of(entered=entered) == by_fold.schedule_as_of(
                entered=entered), entered
        # and each row holds from the change that set what it shows to the next one
        held = {entered: {ident: (row.rate, row.since, row.until) for ident, row in
                          _rows(timeline, entered).items()}
                for entered in ("2025-04-15", "2025-07-01", "2025-09-01")}
        assert held["2025-04-15"]["steel"] == ("25% on top of MFN", _day("2025-03-12"),
                                              _day("2025-06-04"))
        assert held["2025-07-01"]["steel"] == ("50% on top of MFN", _day("2025-06-04"),
                                              _day("2025-08-18"))
        assert held["2025-09-01"]["steel"] == ("50% on top of MFN", _day("2025-08-18"),
                                              _day("2025-10-01"))
        assert held["2025-04-15"]["steel-tq"] == ("in quota 0%", _day("2025-03-12"),
                                                 _day("2025-06-01"))
        assert held["2025-07-01"]["steel-tq"] == ("in quota 5%", _day("2025-06-01"), None)
        # when 1 July as known on 1 August is compared with 1 July as known now
        answer = timeline.diff(entered=("2025-07-01", "2025-07-01"),
                               known=("2025-08-01", None))
        # then steel's interval ends at the widening learned between them, named by it, as
        # the fold says
        (change,) = answer.changes
        assert (change.id, [(f.field, f.before, f.after) for f in change.fields]) == (
            "steel", [("interval", "2025-06-04 → open", "2025-06-04 → 2025-08-18")])
        assert "steel-73" in [e.id for e in change.events]
        assert by_fold.diff(entered=("2025-07-01", "2025-07-01"),
                            known=("2025-08-01", None)) == answer
