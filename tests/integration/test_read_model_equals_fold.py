"""The read model answers exactly as the pure fold does, at any coordinate of the three clocks.

Random histories are imported in batches (a batch the domain refuses is dropped whole, as an
import would be); then random questions are asked both ways and compared as JSON.
"""

from __future__ import annotations

import contextlib
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from tariff_timeline import QueryPath, TariffTimeline
from tariff_timeline.domain.errors import EmptyStore, ImportRejected
from tariff_timeline.events import AnyEvent, PolicyEvent
from tests.builders import day
from tests.conftest import FakeClock, _postgres_url

ADAPTER: TypeAdapter[PolicyEvent] = TypeAdapter(AnyEvent)
MEASURES = ("m0", "m1", "m2")
ORIGINS = ("JP", "CN", "DE", "CA")
PRODUCTS = ("87", "8703", "870323", "9503", "ALL")
QUESTION_HTS = ("8703.23.01", "9503.00.00", "870323", "8704", "87")
SOURCE = [{"title": "Property test source", "url": "https://example.org/p"}]


@st.composite
def raw_event(draw: st.DrawFn, n: int) -> dict[str, Any]:
    kind = draw(st.sampled_from([
        "imposed", "imposed", "rate", "rate", "pause", "extend", "resume", "revoke",
        "exemption", "quota", "rule", "correct", "retract", "scope", "announce"]))
    measure = draw(st.sampled_from(MEASURES))
    known = day(draw(st.integers(0, 300)))
    # Impositions early, changes later, so that most changes fall inside a measure's life;
    # either may be known before or after it takes effect (retroactive actions).
    start = day(draw(st.integers(0, 60) if kind == "imposed" else st.integers(61, 330)))
    base: dict[str, Any] = {"id": f"e{n}", "known": known, "sources": SOURCE}
    percent = draw(st.sampled_from([0, 5, 10, 15, 24, 25, 50, 125]))
    rate: dict[str, Any] = {"percent": percent}
    if draw(st.booleans()) and measure != "m0":
        rate = {"percent": percent, "kind": "replacement", "replaces": ["m0"]}
    elif draw(st.integers(0, 5)) == 0:
        rate = {"percent": 15, "kind": "ceiling"}
    scope = {"origins": [draw(st.sampled_from((*ORIGINS, "ALL", "EU")))],
             "products": [draw(st.sampled_from(PRODUCTS))]}
    if kind == "imposed":
        # Some end: after the end no scope is painted, and answers fall back on the last one.
        until = day(draw(st.integers(200, 420))) if draw(st.booleans()) else None
        return base | {
            "type": "MeasureImposed", "measure": measure, "title": f"measure {measure}",
            "authority": draw(st.sampled_from(["IEEPA", "Section 232"])),
            "program": f"p{MEASURES.index(measure) % 2}", "effective_from": start,
            "effective_until": until, "scope": scope, "rate": rate}
    if kind == "scope":
        until = day(draw(st.integers(331, 400))) if draw(st.booleans()) else None
        return base | {"type": "ScopeAmended", "measure": measure, "effective_from": start,
                       "effective_until": until, "scope": scope}
    if kind == "announce":
        return base | {"type": "MeasureAnnounced", "measure": measure,
                       "title": f"measure {measure}", "authority": "IEEPA",
                       "program": f"p{MEASURES.index(measure) % 2}", "scope": scope,
                       "rate": rate if draw(st.booleans()) else None,
                       "planned_from": start if draw(st.booleans()) else None}
    if kind == "rate":
        return base | {"type": "RateChanged", "measure": measure, "effective_from": start,
                       "rate": rate}
    if kind == "pause":
        until = day(draw(st.integers(331, 400))) if draw(st.booleans()) else None
        return base | {"type": "MeasurePaused", "measure": measure, "effective_from": start,
                       "effective_until": until}
    if kind == "extend":
        return base | {"type": "PauseExtended", "measure": measure,
                       "effective_until": day(draw(st.integers(300, 500)))}
    if kind == "resume":
        return base | {"type": "MeasureResumed", "measure": measure, "effective_from": start}
    if kind == "revoke":
        return base | {"type": "MeasureRevoked", "measure": measure, "effective_from": start}
    if kind == "exemption":
        conditions = [{"fact": "usmca_qualifying", "equals": True}] if draw(
            st.booleans()) else []
        return base | {"type": "ExemptionGranted", "exemption": f"x{n}", "title": "exemption",
                       "applies_to": {"measures": [measure]}, "effective_from": start,
                       "scope": {"origins": [draw(st.sampled_from((*ORIGINS, "ALL")))],
                                 "products": ["ALL"]},
                       "conditions": conditions,
                       "rate": None if draw(st.booleans()) else {"percent": 5}}
    if kind == "quota":
        return base | {"type": "QuotaOpened", "quota": f"q{n}", "title": "quota",
                       "measure": measure, "effective_from": start, "in_quota_percent": 0,
                       "volume": "1000 t", "scope": {"origins": [draw(st.sampled_from(ORIGINS))],
                                                     "products": ["ALL"]}}
    if kind == "rule":
        return base | {"type": "StackingRuleSet", "rule": f"r{n}", "description": "rule",
                       "effective_from": start, "when": {"authorities": ["Section 232"]},
                       "excludes": {"programs": [draw(st.sampled_from(["p0", "p1"]))]}}
    target = f"e{draw(st.integers(0, max(n - 1, 0)))}"
    if kind == "retract":
        return base | {"type": "EventRetracted", "retracts": target, "reason": "wrong"}
    replacement: dict[str, Any] = {"id": target, "type": "RateChanged", "measure": measure,
                                   "known": known, "effective_from": start, "rate": rate,
                                   "sources": SOURCE}
    if draw(st.booleans()):
        # The store got an imposition wrong: a different rate, date or scope.
        replacement |= {"type": "MeasureImposed", "title": f"measure {measure}",
                        "authority": "IEEPA", "program": "p0",
                        "effective_from": day(draw(st.integers(0, 60))),
                        "scope": {"origins": [draw(st.sampled_from((*ORIGINS, "ALL")))],
                                  "products": ["ALL"]}}
    return base | {"type": "EventCorrected", "corrects": target, "reason": "typo",
                   "replacement": replacement}


@st.composite
def history(draw: st.DrawFn) -> list[list[dict[str, Any]]]:
    batches: list[list[dict[str, Any]]] = []
    n = 0
    for _ in range(draw(st.integers(2, 7))):
        batch = []
        for _ in range(draw(st.integers(1, 6))):
            batch.append(draw(raw_event(n)))
            n += 1
        batches.append(batch)
    return batches


QUESTION = st.tuples(
    st.sampled_from(ORIGINS), st.sampled_from(QUESTION_HTS), st.integers(-10, 420),
    st.integers(-5, 320), st.integers(0, 8), st.sampled_from([None, "2.5", "20"]),
    st.sampled_from([{}, {"usmca_qualifying": True}, {"in_quota": False}]),
)


def valid_events(batch: list[dict[str, Any]]) -> list[PolicyEvent]:
    """The events of a generated batch that validate (the strategy may draw invalid ones)."""
    events = []
    for raw in batch:
        try:
            events.append(ADAPTER.validate_python(raw))
        except ValidationError:
            continue
    return events


def record(timeline: TariffTimeline, clock: FakeClock,
           batches: list[list[dict[str, Any]]]) -> list[datetime]:
    """Import each batch at a later recorded time; return the recorded times used."""
    times = []
    for batch in batches:
        events = valid_events(batch)
        clock.advance(hours=1)
        try:
            timeline.record_events(events)
        except ImportRejected:
            # Refused whole, as an import is; then try its events one by one at the same
            # recorded instant, so that several transactions share one recorded time.
            for event in events:
                with contextlib.suppress(ImportRejected):
                    timeline.record_events([event])
        times.append(clock.now)
    return times


def compare(timeline: TariffTimeline, base: datetime,
            questions: list[tuple[Any, ...]]) -> None:
    for origin, hts, entered, known, recorded, mfn, facts in questions:
        kwargs: dict[str, Any] = {
            "origin": origin, "hts": hts, "entered": day(entered), "known": day(known),
            "recorded": (base + timedelta(minutes=30 + 60 * recorded)).isoformat(),
            "mfn": mfn, "facts": facts}
        if timeline.store.count() == 0:
            # Every batch was refused: both paths refuse to answer from an empty store.
            with pytest.raises(EmptyStore):
                timeline.rate_on(**kwargs)
            with pytest.raises(EmptyStore):
                timeline.rate_on_by_fold(**kwargs)
            continue
        by_model = timeline.rate_on(**kwargs).model_dump(mode="json")
        by_fold = timeline.rate_on_by_fold(**kwargs).model_dump(mode="json")
        assert by_model == by_fold, kwargs
    # The schedule of everything, and of the goods each question names (found through the
    # read model's keys).
    asked: list[dict[str, str]] = []
    for origin, hts, entered, known, *_ in questions:
        asked += [{"entered": day(entered), "known": day(known)},
                  {"entered": day(entered), "known": day(known), "origin": origin, "hts": hts}]
    for schedule in asked:
        if timeline.store.count() == 0:
            with pytest.raises(EmptyStore):
                timeline.schedule_as_of(**schedule)
            with pytest.raises(EmptyStore):
                _schedule_by_fold(timeline, **schedule)
            continue
        assert timeline.schedule_as_of(**schedule) == _schedule_by_fold(timeline, **schedule)


def _schedule_by_fold(timeline: TariffTimeline, **kwargs: str) -> Any:
    path, timeline.query_path = timeline.query_path, QueryPath.FOLD
    try:
        return timeline.schedule_as_of(**kwargs)
    finally:
        timeline.query_path = path


class Crash(Exception):
    """Raised inside the read model's transaction, as a process dying there would."""


def run_case(url: str, batches: list[list[dict[str, Any]]],
             questions: list[tuple[Any, ...]], crash_after: int) -> None:
    clock = FakeClock(datetime(2026, 1, 5, tzinfo=UTC))
    base = clock.now
    timeline = TariffTimeline.open(url, clock=clock)
    try:
        assert timeline.read_model is not None
        calls = {"n": 0}

        def crash_once(connection: object) -> None:
            # Fires after the rows and the tracking position were written, before the
            # database commits them: a crash at the worst moment.
            calls["n"] += 1
            if calls["n"] == crash_after:
                raise Crash

        engine = timeline.read_model.engine
        sqlalchemy.event.listen(engine, "commit", crash_once)
        try:
            record(timeline, clock, batches)
        except Crash:
            # The crash fell in the catch-up an append makes before its check: the writer
            # died and nothing of its import was written; restarted, it imports them again.
            record(timeline, clock, batches)
        # Apply the log three notifications a transaction, so that the crash falls between
        # two batches (or inside one import's group of events).
        with contextlib.suppress(Crash):
            timeline.read_model.catch_up(timeline.store, batch=3)
        sqlalchemy.event.remove(engine, "commit", crash_once)
        timeline.catch_up()
        compare(timeline, base, questions)
        timeline.rebuild_read_model()
        compare(timeline, base, questions)
    finally:
        timeline.close()


SETTINGS = settings(max_examples=60, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow, HealthCheck.data_too_large])


@SETTINGS
@given(batches=history(), questions=st.lists(QUESTION, min_size=4, max_size=8),
       crash_after=st.integers(1, 9))
def test_read_model_answers_equal_the_fold_on_sqlite(
        tmp_path_factory: pytest.TempPathFactory, batches: list[list[dict[str, Any]]],
        questions: list[tuple[Any, ...]], crash_after: int) -> None:
    folder: Path = tmp_path_factory.mktemp("prop")
    run_case(f"sqlite:///{folder / 'store.sqlite'}", batches, questions, crash_after)


@settings(SETTINGS, max_examples=25)
@given(batches=history(), questions=st.lists(QUESTION, min_size=4, max_size=8),
       crash_after=st.integers(1, 9))
def test_read_model_answers_equal_the_fold_on_postgres(
        batches: list[list[dict[str, Any]]], questions: list[tuple[Any, ...]],
        crash_after: int) -> None:
    url = _postgres_url()
    if url is None:
        pytest.skip("no PostgreSQL server: run `make test`, which starts one")
    run_case(f"{url}?schema=p_{uuid.uuid4().hex[:12]}", batches, questions, crash_after)
