"""A large import is checked while it is read and appended in chunks, in one transaction.

The streamed check must find exactly what the reference check (fold the whole candidate log in
memory) finds; the streamed append must write exactly what the mapper writes, all or nothing.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

import tariff_timeline.store.eventstore as eventstore
from benchmarks.generate import write_history
from tariff_timeline import TariffTimeline
from tariff_timeline.domain.errors import ImportRejected
from tariff_timeline.events import (
    EventCorrected,
    EventRetracted,
    MeasureRevoked,
    PolicyEvent,
    Rate,
    RateChanged,
    known_instant,
)
from tariff_timeline.importing import Located, read_file, read_paths
from tariff_timeline.importing.check import ImportCheck, _Interner
from tariff_timeline.importing.spool import Spool
from tariff_timeline.store import (
    TIMELINE_ID,
    EventStore,
    PolicyMapper,
    TimelineEntry,
    canonical_bytes,
    entry_state,
)
from tariff_timeline.store.index import _event_bytes
from tests.builders import imposed, rate_changed
from tests.conftest import DATA, FakeClock
from tests.integration.test_read_model_equals_fold import ADAPTER, history


def _changes(events: list[PolicyEvent]) -> list[PolicyEvent]:
    return [e for e in events if isinstance(e, EventCorrected | EventRetracted)]


def _streamed(timeline: TariffTimeline, events: list[PolicyEvent],
              changes: list[PolicyEvent] | None = None) -> list[str] | None:
    """The streamed check's verdict on recording `events` (None: it could not stream)."""
    located = [Located(e, "<python>", i) for i, e in enumerate(events, start=1)]
    with Spool() as spool:
        check = ImportCheck(timeline.store, timeline.store.index(),
                            _changes(events) if changes is None else changes, spool)
        check.run([(located, [])])
        return check.verdict()


def recorded_or_refused(timeline: TariffTimeline, events: list[PolicyEvent],
                        expected: list[str]) -> None:
    """The append is refused with exactly the problems expected, or recorded if none."""
    if expected:
        with pytest.raises(ImportRejected) as caught:
            timeline.record_events(events)
        assert caught.value.problems == expected
    else:
        timeline.record_events(events)


def _reference(timeline: TariffTimeline, events: list[PolicyEvent]) -> list[str]:
    """What the reference check finds: the whole candidate log folded in memory."""
    log = list(timeline.store.read())
    recorded = {r.event.id for r in log}
    new = [Located(e, "<python>", i) for i, e in enumerate(events, start=1)
           if e.id not in recorded]
    return timeline.importer._check_history(log, new) if new else []


@settings(max_examples=80, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(batches=history(), in_order=st.lists(st.booleans(), min_size=7, max_size=7),
       resend=st.lists(st.booleans(), min_size=7, max_size=7))
def test_the_streamed_check_finds_exactly_what_the_reference_check_finds(
        tmp_path_factory: pytest.TempPathFactory, batches: list[list[dict[str, Any]]],
        in_order: list[bool], resend: list[bool]) -> None:
    clock = FakeClock(datetime(2026, 1, 5, tzinfo=UTC))
    folder = tmp_path_factory.mktemp("streamed")
    timeline = TariffTimeline.open(f"sqlite:///{folder / 'store.sqlite'}", clock=clock,
                                   load_bundled_if_new=False)
    previous: list[PolicyEvent] = []
    try:
        for n, batch in enumerate(batches):
            events: list[PolicyEvent] = []
            for raw in batch:
                try:
                    events.append(ADAPTER.validate_python(raw))
                except ValidationError:
                    continue
            if in_order[n]:  # in known order, the streamed check decides alone
                events.sort(key=lambda e: known_instant(e.known))
            if resend[n]:  # events already recorded (or refused before) come again
                events = previous + events
            expected = _reference(timeline, events)
            verdict = _streamed(timeline, events)
            assert verdict is None or verdict == expected
            clock.advance(minutes=1)
            recorded_or_refused(timeline, events, expected)
            previous = events
        assert timeline.verify().intact
    finally:
        timeline.close()


def test_a_generated_history_is_checked_as_it_is_read(timeline: TariffTimeline,
                                                      tmp_path: Path) -> None:
    files = write_history(1500, tmp_path / "history", seed=3, per_file=400)
    located = read_paths(files)
    events = [item.event for item in located]
    assert any(isinstance(e, EventCorrected) for e in events)
    assert _streamed(timeline, events) == []


def test_an_import_into_a_log_in_fold_order_reads_the_log_as_it_folds(
        timeline: TariffTimeline, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = write_history(1500, tmp_path / "history", seed=11, per_file=500)
    timeline.import_paths(files[:1])
    later = [item.event for item in read_paths(files[1:])]
    recorded = {r.event.id for r in timeline.store.read()}
    assert any(isinstance(e, EventCorrected) and e.corrects in recorded for e in later)
    assert any(isinstance(e, EventRetracted) and e.retracts in recorded for e in later)

    def held_whole(self: ImportCheck) -> None:
        raise AssertionError("the log was held whole")

    monkeypatch.setattr(ImportCheck, "_recorded_sorted", held_whole)
    assert _streamed(timeline, later) == _reference(timeline, later) == []
    # A break in the new events is found at the same place, with the log read as it folds.
    revoked = next(e for e in later if isinstance(e, MeasureRevoked))
    clash = rate_changed("clash", revoked.measure, known="2035-01-01", start="2035-01-02",
                         percent=1)
    assert _streamed(timeline, [*later, clash]) == _reference(timeline, [*later, clash])
    assert len(_reference(timeline, [*later, clash])) == 1
    assert timeline.import_paths(files[1:]).appended == 1000
    assert timeline.verify().intact


def test_a_wrong_first_pass_hands_the_decision_to_the_reference_check(
        timeline: TariffTimeline) -> None:
    events = [imposed("m-imposed", "m", known="2025-04-02", start="2025-04-05", percent=10),
              rate_changed("m-raised", "m", known="2025-04-20", start="2025-04-21",
                           percent=30)]
    fixed = rate_changed("m-raised", "m", known="2025-04-20", start="2025-04-21", percent=25)
    correction = EventCorrected.model_validate({
        "id": "m-raised.fix", "known": "2025-04-22", "corrects": "m-raised", "reason": "typo",
        "replacement": fixed.model_dump(mode="json"),
        "sources": [{"title": "Errata", "url": "https://example.org/errata"}]})
    assert _streamed(timeline, [*events, correction]) == []
    assert _streamed(timeline, [*events, correction], changes=[]) is None
    report = timeline.record_events([*events, correction])
    assert report.appended == 3
    assert timeline.rate_on(origin="JP", hts="9503", entered="2025-05-01").additional == 25


def test_an_out_of_order_import_is_decided_by_the_reference_check(
        timeline: TariffTimeline) -> None:
    later = rate_changed("m-raised", "m", known="2025-04-20", start="2025-04-21", percent=30)
    first = imposed("m-imposed", "m", known="2025-04-02", start="2025-04-05", percent=10)
    assert _streamed(timeline, [later, first]) is None
    assert timeline.record_events([later, first]).appended == 2


def test_the_appended_state_is_byte_for_byte_what_the_mapper_writes() -> None:
    mapper = PolicyMapper(transcoder=None)
    at = datetime(2026, 1, 5, 12, 0, 0, 123456, tzinfo=UTC)
    for position, item in enumerate(read_paths([DATA]), start=1):
        entry = TimelineEntry(TIMELINE_ID, position, at, item.event, "ab" * 32)
        expected = mapper.to_stored_event(entry).state
        assert entry_state(canonical_bytes(item.event), at.isoformat(), "ab" * 32) == expected


def test_a_repeated_import_is_recognised_by_digest_without_reading_events_back(
        timeline: TariffTimeline, monkeypatch: pytest.MonkeyPatch) -> None:
    timeline.import_paths([DATA])

    def read_back(self: object, position: int) -> PolicyEvent:
        raise AssertionError(f"event {position} was read back")

    monkeypatch.setattr(EventStore, "recorded_event", read_back)
    report = timeline.import_paths([DATA])
    assert report.appended == 0 and report.already_recorded == timeline.store.count()


@pytest.mark.parametrize("state", [
    b'{"chain":"' + b"ab" * 32 + b'","event":{"id":"x","n":[1,{"a":"b"}]},'
    b'"recorded_at":"2026-01-05T12:00:00+00:00"}',
    b'{"event":{"id":"x","n":[1,{"a":"b"}]},"recorded_at":"2026-01-05T12:00:00+00:00"}',
])
def test_stored_event_bytes_are_cut_out_of_the_state(state: bytes) -> None:
    event = json.loads(state)["event"]
    assert _event_bytes(state, event) == b'{"id":"x","n":[1,{"a":"b"}]}'
    assert _event_bytes(b'{"odd": 1}', event) == b'{"id":"x","n":[1,{"a":"b"}]}'


class TestChunkedAppend:
    def test_a_history_in_many_chunks_verifies_and_imports_once(
            self, timeline: TariffTimeline, tmp_path: Path,
            monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(eventstore, "CHUNK", 97)
        write_history(1200, tmp_path / "history", seed=5, per_file=500)
        assert timeline.import_paths([tmp_path / "history"]).appended == 1200
        assert timeline.verify().intact and timeline.verify().heads == 1
        again = timeline.import_paths([tmp_path / "history"])
        assert (again.appended, again.already_recorded) == (0, 1200)
        assert timeline.import_paths([DATA]).appended > 40
        assert timeline.verify().heads == 2

    def test_a_changed_event_in_a_large_import_is_refused_at_its_line(
            self, timeline: TariffTimeline, tmp_path: Path) -> None:
        files = write_history(900, tmp_path / "history", seed=5, per_file=300)
        timeline.import_paths([tmp_path / "history"])
        data = json.loads(files[1].read_text(encoding="utf-8"))
        changed = next(i for i, e in enumerate(data["events"]) if e["type"] == "RateChanged")
        data["events"][changed]["rate"]["percent"] = "99.5"
        files[1].write_text(json.dumps(data, indent=1), encoding="utf-8")
        with pytest.raises(ImportRejected) as caught:
            timeline.import_paths([tmp_path / "history"])
        event_id = data["events"][changed]["id"]
        (where,) = [item.where for item in read_file(files[1])[0] if item.event.id == event_id]
        assert caught.value.problems == [
            f"{where}: event {event_id!r} is already recorded (log position "
            f"{301 + changed}) with different content; to fix a recorded event, import an "
            "EventCorrected that names it"]
        assert timeline.store.count() == 900

    def test_a_failure_in_a_later_chunk_leaves_nothing_written(
            self, timeline: TariffTimeline, monkeypatch: pytest.MonkeyPatch) -> None:
        timeline.import_paths([DATA])
        count, heads = timeline.store.count(), timeline.verify().heads
        monkeypatch.setattr(eventstore, "CHUNK", 2)
        recorder = timeline.store.app.recorder
        name = ("_insert_stored_events" if hasattr(recorder, "_insert_stored_events")
                else "_insert_events")
        insert = getattr(recorder, name)
        calls = {"n": 0}

        def fail_third(cursor: Any, chunk: Any) -> Any:
            calls["n"] += 1
            if calls["n"] == 3:
                raise RuntimeError("the disk filled up")
            return insert(cursor, chunk)

        monkeypatch.setattr(recorder, name, fail_third)
        events = [imposed(f"x{i}", f"x{i}", known="2026-01-02", start="2026-01-03", percent=i)
                  for i in range(9)]
        with pytest.raises(RuntimeError, match="disk filled up"):
            timeline.record_events(events)
        assert calls["n"] == 3
        assert timeline.store.count() == count and timeline.verify().heads == heads
        assert timeline.verify().intact
        monkeypatch.undo()
        assert timeline.record_events(events).appended == 9
        assert timeline.verify().intact


def test_the_interner_shares_only_values_equal_in_every_respect() -> None:
    interner = _Interner()
    ten = rate_changed("a", "m", known="2025-04-02", start="2025-04-05", percent=10)
    again = rate_changed("b", "m", known="2025-04-02", start="2025-04-05", percent=10)
    decimal = _rate_changed_to("10.0")
    shared = interner.event(ten), interner.event(again), interner.event(decimal)
    assert shared[0] == ten and shared[1] == again and shared[2] == decimal
    changed = [e for e in shared if isinstance(e, RateChanged)]
    rates = [e.rate for e in changed]
    assert rates[0] is rates[1] and rates[2] is not rates[0]
    assert str(rates[2].percent) == "10.0"
    starts = [e.effective_from for e in changed]
    assert starts[0] is starts[1]  # validation hands out one instant per date text
    assert isinstance(rates[0], Rate) and rates[0].percent == Decimal(10)


def _rate_changed_to(percent: str) -> PolicyEvent:
    return ADAPTER.validate_python({
        "id": "c", "type": "RateChanged", "known": "2025-04-02", "measure": "m",
        "effective_from": "2025-04-05", "rate": {"percent": percent},
        "sources": [{"title": "Test instrument"}]})
