"""A read that finds some rows already decoded and decodes the others still answers whole
when decoding the others pushes the first out of the cache's budget (a diff at a million
events read more events than the cache holds, and failed on a row it had not read)."""

from __future__ import annotations

from tariff_timeline import TariffTimeline
from tariff_timeline.service import QueryPath
from tests.builders import exemption, hts_line, imposed, revised
from tests.conftest import FakeClock

EVENTS = [imposed(f"imp-{n}", f"m-{n}", known="2025-03-01", start="2025-03-10", percent=10 + n,
                  origins=("CN",)) for n in range(6)]
EVENTS += [exemption(f"ex-{n}", f"x-{n}", known="2025-03-02", start="2025-03-10",
                     measures=(f"m-{n}",)) for n in range(3)]
EVENTS += [revised(f"rev-{chapter}", "r1", chapter, known="2025-03-01", start="2025-03-05",
                   baseline=True, added=(hts_line(f"{chapter}01", f"Heading {chapter}"),))
           for chapter in ("01", "02", "03")]


def test_reads_answer_whole_when_decoding_evicts_rows_found_decoded(
        timeline: TariffTimeline, clock: FakeClock) -> None:
    # Given a store whose read model caught up, and caches that hold one row at a time
    timeline.record_events(EVENTS)
    clock.advance(days=1)
    timeline.catch_up()
    model = timeline.read_model
    assert model is not None
    cache = model.reader.cache
    cache.events.budget = cache.states.budget = 1
    by_fold = TariffTimeline(timeline.store, timeline.read_model, QueryPath.FOLD)
    for _ in range(2):
        # When each question finds the row decoded last still cached, and decodes the rest
        history = timeline.history("m-1")
        coverage = timeline.coverage("2025-04-01")
        diff = timeline.diff(entered=("2025-03-01", "2025-04-01"))
        # Then each answers whole, as the fold does
        assert history.model_dump() == by_fold.history("m-1").model_dump()
        assert [row.id for row in history.rows] == ["imp-1", "ex-1"]
        assert coverage == by_fold.coverage("2025-04-01")
        assert diff.model_dump() == by_fold.diff(entered=("2025-03-01", "2025-04-01")).model_dump()
