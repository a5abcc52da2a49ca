"""A diff reads, of the log, only the events it names: a measure whose rate changed every
month for years names the change that differs between the sides, not all of them. And of the
read model, only the subjects whose rows may differ between the sides."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

import pytest

from tariff_timeline import TariffTimeline
from tariff_timeline.readmodel.reader import EventLookup
from tariff_timeline.service import QueryPath
from tests.builders import exemption, exemption_revoked, imposed, quota, rate_changed, revoked
from tests.conftest import FakeClock

MONTHS = [f"{year}-{month:02d}-01" for year in (2024, 2025) for month in range(1, 13)]
HISTORY = (
    imposed("m-1", "steady", known="2023-12-01", start="2024-01-01", percent=10),
    *(rate_changed(f"r-{n}", "steady", known=day, start=day, percent=10 + n)
      for n, day in enumerate(MONTHS[1:], start=1)),
    imposed("o-1", "other", known="2024-12-01", start="2025-01-01", percent=5),
)


class TestADiffReadsOnlyTheEventsItNames:
    def test_the_events_read_are_those_the_answer_names(
            self, timeline: TariffTimeline, clock: FakeClock,
            monkeypatch: pytest.MonkeyPatch) -> None:
        # given a measure re-rated every month, and one that comes into force between the
        # sides (scheduled at the first)
        timeline.record_events(HISTORY)
        clock.advance(days=1)
        requested: set[str] = set()
        real_prefetch = EventLookup.prefetch

        def watched(lookup: EventLookup, event_ids: Iterable[str]) -> None:
            wanted = list(event_ids)
            requested.update(wanted)
            real_prefetch(lookup, wanted)

        monkeypatch.setattr(EventLookup, "prefetch", watched)
        # when
        answer = timeline.diff(entered=("2024-11-15", "2025-03-15"))
        # then the answer names the rate in force after, the next one (which ends the
        # stretch its row holds over) and the measure's imposition, and only those events
        # were read: not the other 22 rates
        named = {event.id for change in answer.changes for event in change.events}
        assert {(c.id, c.change) for c in answer.changes} == {("steady", "changed"),
                                                               ("other", "changed")}
        # r-14: the rate from 1 March 2025; r-15: the one from 1 April
        assert named == {"r-14", "r-15", "o-1"}
        assert requested == named
        # and the fold, which reads the whole log, names the same events
        by_fold = TariffTimeline(timeline.store, timeline.read_model, QueryPath.FOLD)
        assert by_fold.diff(entered=("2024-11-15", "2025-03-15")) == answer


SUBJECTS = (
    imposed("s-1", "steady", known="2023-12-01", start="2024-01-01", percent=10),
    imposed("v-1", "varied", known="2023-12-01", start="2024-01-01", percent=10),
    rate_changed("v-2", "varied", known="2024-12-01", start="2025-01-01", percent=20),
    exemption("e-1", "long", known="2023-12-01", start="2024-01-01", measures=("steady",)),
    exemption("e-2", "new", known="2024-12-01", start="2025-01-01", measures=("varied",)),
    # Revoked after both sides: the same all the while the diff compares.
    exemption("e-3", "ending", known="2023-12-01", start="2024-01-01", measures=("steady",)),
    exemption_revoked("e-4", "ending", known="2023-12-01", start="2026-01-01"),
    quota("q-1", "opening", "varied", known="2024-06-01", start="2025-02-01", in_quota=0,
          origins=("CA",)),
)


class TestADiffReadsOnlyWhatMayDiffer:
    def test_subjects_the_same_on_both_sides_are_not_read(self, timeline: TariffTimeline,
                                                         clock: FakeClock) -> None:
        # given measures and exemptions that stay the same between the sides, a measure
        # re-rated, an exemption granted and a quota opened between them
        timeline.record_events(SUBJECTS)
        clock.advance(days=1)
        timeline.catch_up()
        now = clock.now
        # when the read model gives the two sides of a diff
        before, after = timeline.read_model.reader.slices_between(
            (datetime(2024, 11, 15, tzinfo=UTC), now, now),
            (datetime(2025, 3, 15, tzinfo=UTC), now, now))
        # then each holds only what changed between them (an exemption is a state over all
        # effective time: each side holds it, in effect at one side only)
        assert (set(before.measures), set(after.measures)) == ({"varied"}, {"varied"})
        assert (set(before.exemptions), set(after.exemptions)) == ({"new"}, {"new"})
        assert (set(before.quotas), set(after.quotas)) == ({"opening"}, {"opening"})
        # and the diff from them is the fold's, which reads everything
        answer = timeline.diff(entered=("2024-11-15", "2025-03-15"))
        assert {(c.id, c.change) for c in answer.changes} == {
            ("varied", "changed"), ("new", "added"), ("opening", "added")}
        by_fold = TariffTimeline(timeline.store, timeline.read_model, QueryPath.FOLD)
        assert by_fold.diff(entered=("2024-11-15", "2025-03-15")) == answer

    def test_at_one_effective_instant_a_later_known_version_is_read(
            self, timeline: TariffTimeline, clock: FakeClock) -> None:
        # given the same history, and the exemption 'long' revoked later, known later
        timeline.record_events((*SUBJECTS, exemption_revoked(
            "e-5", "long", known="2025-02-01", start="2025-06-01")))
        clock.advance(days=1)
        timeline.catch_up()
        now = clock.now
        # when the two sides differ only in what was known
        at = datetime(2025, 7, 1, tzinfo=UTC)
        before, after = timeline.read_model.reader.slices_between(
            (at, datetime(2025, 1, 15, tzinfo=UTC), now), (at, now, now))
        # then only the exemption known to have changed is read, and the quota known
        # (before either side) to open is not
        assert (set(before.measures), set(after.measures)) == (set(), set())
        assert (set(before.exemptions), set(after.exemptions)) == ({"long"}, {"long"})
        assert (set(before.quotas), set(after.quotas)) == (set(), set())
        answer = timeline.diff(entered=("2025-07-01", "2025-07-01"),
                               known=("2025-01-15", None))
        assert [(c.id, c.change) for c in answer.changes] == [("long", "removed")]
        by_fold = TariffTimeline(timeline.store, timeline.read_model, QueryPath.FOLD)
        assert by_fold.diff(entered=("2025-07-01", "2025-07-01"),
                            known=("2025-01-15", None)) == answer

    def test_a_revocation_learned_between_known_times_is_read_where_the_piece_is_the_same(
            self, timeline: TariffTimeline, clock: FakeClock) -> None:
        # given a measure's rate restated, the same 25%, from 1 August, and its revocation
        # from 1 September learned on 20 August: the piece holding on 1 July (which the
        # restatement ends) is the same row all along, the stretch its row shows is not
        timeline.record_events((
            imposed("m-1", "steel", known="2025-03-01", start="2025-03-12", percent=25),
            rate_changed("m-2", "steel", known="2025-03-01", start="2025-08-01", percent=25),
            revoked("m-3", "steel", known="2025-08-20", start="2025-09-01")))
        clock.advance(days=1)
        timeline.catch_up()
        now = clock.now
        at = datetime(2025, 7, 1, tzinfo=UTC)
        # when 1 July is compared as known on 1 August and as known now
        before, after = timeline.read_model.reader.slices_between(
            (at, datetime(2025, 8, 1, 23, 59, tzinfo=UTC), now), (at, now, now))
        # then the measure is read on both sides, its row's stretch differing
        assert (set(before.measures), set(after.measures)) == ({"steel"}, {"steel"})
        answer = timeline.diff(entered=("2025-07-01", "2025-07-01"),
                               known=("2025-08-01", None))
        (change,) = answer.changes
        assert [(f.field, f.before, f.after) for f in change.fields] == [
            ("interval", "2025-03-12 → open", "2025-03-12 → 2025-09-01")]
        assert [e.id for e in change.events] == ["m-1", "m-3"]
        # and the fold, which reads everything, gives the same diff
        by_fold = TariffTimeline(timeline.store, timeline.read_model, QueryPath.FOLD)
        assert by_fold.diff(entered=("2025-07-01", "2025-07-01"),
                            known=("2025-08-01", None)) == answer
