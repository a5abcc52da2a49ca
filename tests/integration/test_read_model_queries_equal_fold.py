"""Diff, series, history, sources and coverage answer from the read model exactly as the fold
of the whole log does: over random histories (with corrections and retractions) at several
coordinates, recorded times in the past among them, and over the bundled timeline.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from tariff_timeline import QueryPath, TariffTimeline
from tariff_timeline.domain.errors import TariffError
from tariff_timeline.events import EventCorrected, EventRetracted, RateChanged
from tariff_timeline.projections.answers import SourceRow
from tariff_timeline.projections.citations import coverage_of, sources_of
from tariff_timeline.projections.replay import Corrected, corrected_log, fold_at
from tariff_timeline.readmodel.reader import ReadModelReader
from tariff_timeline.store import EventStore
from tests.builders import exemption, imposed, rate_changed, revoked
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
    """The read model's answer to a question (a method of the timeline) is the fold's, and
    says so in the same JSON (instants in the same time zone, not only the same instants)."""
    ask: Callable[[], Any] = partial(getattr(timeline, question), *args, **kwargs)
    by_model = _answer(timeline, QueryPath.READ_MODEL, ask)
    by_fold = _answer(timeline, QueryPath.FOLD, ask)
    assert by_model == by_fold, (question, args, kwargs)
    assert _json(by_model) == _json(by_fold), (question, args, kwargs)


def _json(answer: Any) -> Any:
    """An answer as the CLI and the API would send it: a model's JSON, or a list of them."""
    if isinstance(answer, BaseModel):
        return answer.model_dump_json()
    if isinstance(answer, list | tuple):
        return [_json(item) for item in answer]
    return answer


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
        # Two effective instants alone (the pieces that start or end between them are read).
        same_both_ways(timeline, "diff", entered=(day(e1), day(e2)), known=(day(k1), day(k1)),
                       recorded=(recorded(r1), recorded(r1)))
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


def test_a_history_row_that_cannot_be_folded_names_its_own_subjects_problem_both_ways(
        db_url: str) -> None:
    # Given one import: a rate change of m1 (never imposed), a revocation of m0 known earlier,
    # and a correction of the same import that turns the rate change into m0's imposition
    clock = FakeClock(datetime(2026, 1, 5, tzinfo=UTC))
    timeline = TariffTimeline.open(db_url, clock=clock)
    try:
        first = rate_changed("e7", "m1", known="2025-05-30", start="2025-05-16", percent=0)
        fix = EventCorrected.model_validate({
            "id": "e10", "known": "2025-01-28", "corrects": "e7", "reason": "typo",
            "sources": first.sources, "replacement": imposed(
                "e7", "m0", known="2025-01-28", start="2025-02-23",
                percent=15).model_dump(mode="json")})
        timeline.record_events([
            first, revoked("e8", "m0", known="2025-04-30", start="2025-11-05"), fix])
        clock.advance(hours=1)
        # When m1's history is told, from the read model and from the fold of the whole log
        same_both_ways(timeline, "history", "m1")
        # Then the version first recorded names m1's problem, not m0's (whose revocation,
        # earlier in known order, also needs the correction)
        (row,) = timeline.history("m1").rows
        assert (row.id, row.version) == ("e7", "superseded")
        assert row.after == ("cannot be folded with this version in force: event 'e7', "
                             "field 'measure': no measure 'm1' is known")
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
        # Long before and after the measures too, where the read model keeps none of their
        # pieces: their statuses are kept apart.
        for at in ("2020-01-01", "2025-03-01", "2025-08-15", "2026-02-01", "2029-01-01"):
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


@pytest.mark.parametrize("loaded_once", ["sqlite"], indirect=True)
def test_a_cells_history_reads_only_the_subjects_that_bear_on_it_and_answers_as_the_fold(
        loaded_once: TariffTimeline) -> None:
    # A car under Section 301 and the reciprocal and vehicle measures; coffee from Brazil
    # (a deal, an exemption); a steel code (Section 232 and its quotas).
    for origin, code in (("CN", "8703.23.01"), ("BR", "0901.11.00"), ("JP", "7208.10.15")):
        ask = partial(loaded_once.history, origin=origin, hts=code)
        with whole_log_forbidden():
            by_model = _answer(loaded_once, QueryPath.READ_MODEL, ask)
        assert by_model == _answer(loaded_once, QueryPath.FOLD, ask), (origin, code)
        assert by_model["rows"], (origin, code)


# ---------------------------------------------------------------- sources and coverage

CITED = (
    {"title": "Property test source", "url": "https://example.org/p"},
    # The same place in the answer's order as the first (title case, no instrument).
    {"title": "property test source", "url": "https://example.org/p"},
    {"title": "Proclamation A", "instrument": "Proclamation 1", "url": "https://example.org/a"},
    {"title": "Proclamation A", "instrument": "Proclamation 1", "url": "https://example.org/a",
     "via": "a data set"},
    {"title": "A notice", "federal_register": "90 FR 1"},
)


def cited_variously(batches: list[list[dict[str, Any]]],
                    seed: int) -> list[list[dict[str, Any]]]:
    """The batches with each event (and each replacement) citing one to three sources of a
    few, repeats and ties in the answer's order among them."""
    pick = random.Random(seed)

    def cite(raw: dict[str, Any]) -> dict[str, Any]:
        sources = [pick.choice(CITED) for _ in range(pick.randint(1, 3))]
        raw = raw | {"sources": sources}
        if "replacement" in raw:
            raw["replacement"] = cite(raw["replacement"])
        return raw

    return [[cite(raw) for raw in batch] for batch in batches]


def sources_by_fold(timeline: TariffTimeline, recorded: datetime) -> list[SourceRow]:
    """The citations as recorded at `recorded`, from the whole log."""
    log = [r for r in timeline.store.read() if r.recorded_at <= recorded]
    revisions = [Corrected(r.seq, r.recorded_at, r.event) for r in log
                 if isinstance(r.event, EventCorrected | EventRetracted)]
    return sources_of([*corrected_log(log, recorded), *revisions])


@settings(SETTINGS, max_examples=10)
@given(batches=history(), seed=st.integers(0, 2**16),
       known=st.lists(st.integers(-5, 320), min_size=1, max_size=3))
def test_sources_and_coverage_from_the_read_model_equal_the_fold_at_every_recorded_time(
        tmp_path_factory: pytest.TempPathFactory, batches: list[list[dict[str, Any]]],
        seed: int, known: list[int]) -> None:
    folder: Path = tmp_path_factory.mktemp("cited")
    clock = FakeClock(datetime(2026, 1, 5, tzinfo=UTC))
    base = clock.now
    timeline = TariffTimeline.open(f"sqlite:///{folder / 'store.sqlite'}", clock=clock)
    try:
        times = record(timeline, clock, cited_variously(batches, seed))
        timeline.catch_up()
        if timeline.read_model is None:
            raise AssertionError("the store has no read model")
        reader = timeline.read_model.reader
        # Before anything was recorded, at each import, and between imports: a citation a
        # later correction replaced is still cited as recorded before it.
        for recorded in [base, *(t - timedelta(minutes=30) for t in times)]:
            assert reader.sources(recorded) == sources_by_fold(timeline, recorded), recorded
        for recorded in times:
            assert reader.sources(recorded) == sources_by_fold(timeline, recorded), recorded
            entries = corrected_log(timeline.store.read(), recorded)
            for k in known:
                # Far before and after everything too, where no piece of a measure is kept.
                for e in (-400, 0, 30, 90, 200, 420, 800):
                    at = timeline.coordinate(day(e), day(k), recorded)
                    assert reader.coverage(at.effective, at.known, recorded) == coverage_of(
                        fold_at(entries, at.known), at.effective), (e, k, recorded)
        same_both_ways(timeline, "sources")
        for e in (-400, 800):
            same_both_ways(timeline, "coverage", day(e))
    finally:
        timeline.close()


def test_sources_and_coverage_never_read_or_fold_the_whole_log(db_url: str) -> None:
    clock = FakeClock(datetime(2026, 1, 5, 12, 0, tzinfo=UTC))
    timeline = TariffTimeline.open(db_url, clock=clock, load_bundled_if_new=False)
    try:
        # Given measures (one ended long before the question), an exemption, a correction
        # and a retraction
        timeline.record_events([
            imposed("a-on", "a", known="2024-01-01", start="2024-02-01", percent=10),
            revoked("a-off", "a", known="2024-03-01", start="2024-03-01"),
            imposed("b-on", "b", known="2025-01-01", start="2025-02-01", percent=20,
                    origins=("CN",)),
            rate_changed("b-up", "b", known="2025-04-01", start="2025-04-01", percent=25),
            exemption("x-on", "x", known="2025-01-01", start="2025-01-01", measures=("b",)),
        ])
        clock.advance(days=1)
        up = rate_changed("b-up", "b", known="2025-04-01", start="2025-04-01", percent=30)
        timeline.correct("b-up", up, "a typo in the rate")
        timeline.record_events([EventRetracted.model_validate({
            "id": "x-retracted", "known": "2025-06-01", "retracts": "x-on",
            "reason": "granted in error", "sources": [CITED[2]]})])
        expected = (_answer(timeline, QueryPath.FOLD, timeline.sources),
                    _answer(timeline, QueryPath.FOLD, partial(timeline.coverage, "2025-08-15")))
        timeline.catch_up()

        def refuse(*args: Any, **kwargs: Any) -> Any:
            raise AssertionError("the question read the whole log")

        # When sources and coverage are asked with reading the whole log forbidden
        with pytest.MonkeyPatch.context() as patch:
            for name in ("log", "fold_policy"):
                patch.setattr(ReadModelReader, name, refuse)
            patch.setattr(EventStore, "read", refuse)
            found = (_answer(timeline, QueryPath.READ_MODEL, timeline.sources),
                     _answer(timeline, QueryPath.READ_MODEL,
                             partial(timeline.coverage, "2025-08-15")))
        # Then they answer as the fold does: the exemption retracted, the revoked measure
        # ended over a year before, and the retraction's own source cited under its id
        assert found == expected
        assert [(row["id"], row["status"]) for row in found[1]] == [("a", "revoked"),
                                                                    ("b", "in_force")]
        assert found[0][0]["events"] == ["x-retracted"]
    finally:
        timeline.close()
