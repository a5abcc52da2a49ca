"""A diff reads, of the log, only the events it names: a measure whose rate changed every
month for years names the change that differs between the sides, not all of them."""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from tariff_timeline import TariffTimeline
from tariff_timeline.readmodel.reader import EventLookup
from tariff_timeline.service import QueryPath
from tests.builders import imposed, rate_changed
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
        # then the answer names the rate in force after and the measure's imposition, and
        # only those events were read
        named = {event.id for change in answer.changes for event in change.events}
        assert {(c.id, c.change) for c in answer.changes} == {("steady", "changed"),
                                                               ("other", "changed")}
        assert named == {"r-14", "o-1"}  # r-14: the rate from 1 March 2025
        assert requested == named
        # and the fold, which reads the whole log, names the same events
        by_fold = TariffTimeline(timeline.store, timeline.read_model, QueryPath.FOLD)
        assert by_fold.diff(entered=("2024-11-15", "2025-03-15")) == answer
