"""Diff, series, history, sources and coverage answer from the read model exactly as the fold
of the whole log does: over random histories (with corrections and retractions) at several
coordinates, recorded times in the past among them, and over the bundled timeline.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tariff_timeline import QueryPath, TariffTimeline
from tariff_timeline.domain.errors import TariffError
from tariff_timeline.events import RateChanged
from tariff_timeline.readmodel.reader import ReadModelReader
from tariff_timeline.store import EventStore
from tests.conftest import POLICY_DATA, FakeClock
from tests.integration.test_read_model_equals_fold import (
    MEASURES,
    ORIGINS,
    QUESTION_HTS,
    SETTINGS,
    day,
    history,
    record,
)


def _answer(timeline: TariffTimeline, path: QueryPath, ask: Callable[[], Any]) -> Any:
    """The answer by one query path, as JSON (or the error it raised, as its type and
    message)."""
    timeline.query_path = path
    try:
        found = ask()
    except TariffError as problem:
        return (type(problem).__name__, str(problem))
    finally:
        timeline.query_path = QueryPath.READ_MODEL
    if isinstance(found, list):
        return [row.model_dump(mode="json") for row in found]
    return found.model_dump(mode="json")


def same_both_ways(timeline: TariffTimeline, question: str, *args: Any, **kwargs: Any) -> None:
    """The read model's answer to a question (a method of the timeline) is the fold's."""
    ask: Callable[[], Any] = partial(getattr(timeline, question), *args, **kwargs)
    by_model = _answer(timeline, QueryPath.READ_MODEL, ask)
    by_fold = _answer(timeline, QueryPath.FOLD, ask)
    assert by_model == by_fold, (question, args, kwargs)


Coordinate = tuple[int, int, int]
"""Days after the start (entered, known) and hours after the first import (recorded)."""


def compare_queries(timeline: TariffTimeline, base: datetime,
                    coordinates: list[Coordinate], cells: list[tuple[str, str]]) -> None:
    """Ask every query at the coordinates both ways."""
    def recorded(hours: int) -> str:
        return (base + timedelta(minutes=30 + 60 * hours)).isoformat()

    for (e1, k1, r1), (e2, k2, r2) in itertools.pairwise(coordinates):
        origin, code = cells[0]
        # Unfiltered, one cell, one origin, one HTS code (each side then reads only what
        # bears on it), and every origin with every code.
        for origins, codes in [((), ()), ((origin,), (code,)), ((origin,), ()), ((), (code,)),
                               (tuple(o for o, _ in cells), tuple(h for _, h in cells))]:
            same_both_ways(timeline, "diff", entered=(day(e1), day(e2)),
                           known=(day(k1), day(k2)), recorded=(recorded(r1), recorded(r2)),
                           origins=origins, hts=codes)
    for entered, known, rec in coordinates:
        same_both_ways(timeline, "coverage", day(entered))
        for origin, code in cells:
            same_both_ways(timeline, "rate_series", origin=origin, hts=code,
                           start=day(entered), end=day(entered + 200), known=day(known),
                           recorded=recorded(rec))
            same_both_ways(timeline, "history", origin=origin, hts=code,
                           recorded=recorded(rec))
        for measure in (*MEASURES, "nothing"):
            same_both_ways(timeline, "history", measure, recorded=recorded(rec))
    same_both_ways(timeline, "sources")


COORDINATE = st.tuples(st.integers(-10, 420), st.integers(-5, 320), st.integers(0, 8))


@settings(SETTINGS, max_examples=25)
@given(batches=history(), coordinates=st.lists(COORDINATE, min_size=2, max_size=4),
       cells=st.lists(st.tuples(st.sampled_from(ORIGINS), st.sampled_from(QUESTION_HTS)),
                      min_size=1, max_size=2))
def test_read_model_queries_equal_the_fold_over_random_histories(
        tmp_path_factory: pytest.TempPathFactory, batches: list[list[dict[str, Any]]],
        coordinates: list[Coordinate], cells: list[tuple[str, str]]) -> None:
    folder: Path = tmp_path_factory.mktemp("queries")
    clock = FakeClock(datetime(2026, 1, 5, tzinfo=UTC))
    base = clock.now
    timeline = TariffTimeline.open(f"sqlite:///{folder / 'store.sqlite'}", clock=clock)
    try:
        record(timeline, clock, batches)
        if timeline.store.count() == 0:
            return  # every batch was refused: the empty store is the other test's case
        compare_queries(timeline, base, coordinates, cells)
    finally:
        timeline.close()


def test_read_model_queries_equal_the_fold_over_the_bundled_policy_with_a_correction(
        db_url: str) -> None:
    clock = FakeClock(datetime(2026, 1, 5, 12, 0, tzinfo=UTC))
    timeline = TariffTimeline.open(db_url, clock=clock)
    try:
        timeline.import_paths(POLICY_DATA)
        imported = clock.now
        clock.advance(days=1)
        # A correction recorded later: questions recorded before it must not see it.
        first = next(r.event for r in timeline.store.read()
                     if isinstance(r.event, RateChanged))
        timeline.correct(first.id, first.model_copy(update={
            "rate": first.rate.model_copy(update={"percent": first.rate.percent + 1})}),
            "a typo in the rate")
        clock.advance(days=1)
        for at in ("2025-03-01", "2025-08-15", "2026-02-01"):
            same_both_ways(timeline, "coverage", at)
        for recorded in (imported, clock.now):
            same_both_ways(timeline, "diff", entered=("2025-03-01", "2025-08-15"),
                           recorded=(recorded, recorded))
            same_both_ways(timeline, "diff", entered=("2025-04-01", "2025-04-01"),
                           known=("2025-03-01", "2025-12-31"), recorded=(recorded, recorded),
                           origins=["CN"], hts=["8703.23.01"])
            same_both_ways(timeline, "rate_series", origin="CN", hts="8703.23.01",
                           start="2025-01-01", end="2026-01-01", recorded=recorded)
            same_both_ways(timeline, "history", first.measure, recorded=recorded)
            same_both_ways(timeline, "history", origin="CN", hts="8703.23.01",
                           recorded=recorded)
        same_both_ways(timeline, "diff", entered=("2025-08-15", "2025-08-15"),
                       recorded=(imported, clock.now))
        same_both_ways(timeline, "sources")
    finally:
        timeline.close()


# SQLite only, to keep CI's time: the same questions over the bundled policy run on both
# backends above.
@pytest.mark.parametrize("loaded_once", ["sqlite"], indirect=True)
def test_read_model_diffs_equal_the_fold_over_the_bundled_timeline_with_the_hts(
        loaded_once: TariffTimeline) -> None:
    # The nomenclature is compared too: the whole of it, and under one code.
    same_both_ways(loaded_once, "diff", entered=("2025-03-01", "2026-02-01"))
    same_both_ways(loaded_once, "diff", entered=("2025-03-01", "2026-02-01"),
                   origins=["CN"], hts=["8703.23.01"])
    same_both_ways(loaded_once, "diff", entered=("2025-06-01", "2025-06-01"),
                   known=("2025-03-01", "2025-12-31"), hts=["7208"])
    same_both_ways(loaded_once, "coverage", "2025-08-15")


@contextmanager
def whole_log_forbidden() -> Iterator[None]:
    """Reading the whole log, from the event store or the read model's copy of it, or every
    chapter of the HTS, fails while this is in force."""
    def refuse(*_: object, **__: object) -> Any:
        raise AssertionError("the question read the whole log")

    with pytest.MonkeyPatch.context() as patch:
        for owner, name in ((EventStore, "read"), (EventStore, "index"),
                            (ReadModelReader, "log"), (ReadModelReader, "fold_policy"),
                            (ReadModelReader, "nomenclature")):
            patch.setattr(owner, name, refuse)
        yield


@pytest.mark.parametrize("loaded_once", ["sqlite"], indirect=True)
def test_a_cells_rate_series_reads_only_what_bears_on_it_and_answers_as_the_fold(
        loaded_once: TariffTimeline) -> None:
    # Section 301 on a car over most of a year; a line the HTS added at 2025 Revision 32,
    # asked from before it existed (an error, the same both ways); a code whose chapter the
    # HTS revised. Each fold of the whole timeline takes a second: three questions.
    questions = [("CN", "8703.23.01", "2025-06-01", "2026-03-01"),
                 ("BR", "0901.11.00.35", "2025-06-01", "2026-03-01"),
                 ("AU", "0201.30.50", "2025-06-01", "2026-03-01")]
    for origin, code, start, end in questions:
        ask = partial(loaded_once.rate_series, origin=origin, hts=code, start=start, end=end)
        with whole_log_forbidden():
            by_model = _answer(loaded_once, QueryPath.READ_MODEL, ask)
        assert by_model == _answer(loaded_once, QueryPath.FOLD, ask), (origin, code, start)
