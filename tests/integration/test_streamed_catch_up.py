"""A large import is applied to the read model a chunk at a time, in one transaction: the rows
are those of applying it whole, its progress is heard as it goes, and a break in its chain
anywhere leaves nothing of it applied."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import TypeAdapter
from sqlalchemy import select
from sqlalchemy.orm import Session

from tariff_timeline import TariffTimeline
from tariff_timeline.domain.errors import TamperDetected
from tariff_timeline.events import AnyEvent, PolicyEvent
from tariff_timeline.readmodel import writer
from tariff_timeline.readmodel.tables import Base, EventRow, SchemaRow, TrackingRow
from tariff_timeline.store import canonical_bytes
from tests.builders import exemption, imposed, paused, rate_changed
from tests.conftest import FakeClock

ADAPTER: TypeAdapter[PolicyEvent] = TypeAdapter(AnyEvent)
SOURCE = [{"title": "Streamed catch-up test", "url": "https://example.org/s"}]
ORIGINS = ("JP", "CN", "DE", "VN")


def a_large_import(measures: int = 10) -> list[PolicyEvent]:
    """Measures with rate changes, pauses and exemptions, then corrections and retractions
    whose targets lie in earlier chunks (one event corrected twice, moved between measures)."""
    events: list[PolicyEvent] = []
    for n in range(measures):
        m = f"m{n}"
        events += [
            imposed(f"i{n}", m, known="2025-01-02", start="2025-02-01", percent=10 + n,
                    origins=(ORIGINS[n % 4],), products=("87", "9503")[n % 2:]),
            rate_changed(f"r{n}", m, known="2025-03-01", start=f"2025-03-{n + 1:02d}",
                         percent=n * 3),
            paused(f"p{n}", m, known="2025-04-09", start="2025-04-10", until="2025-07-09"),
        ]
        if n % 3 == 0:
            events.append(exemption(f"x{n}", f"x{n}", known="2025-05-01", start="2025-04-01",
                                    measures=(m,)))

    def moved(target: str, measure: str, percent: int) -> dict[str, Any]:
        return {"id": target, "type": "RateChanged", "measure": measure, "known": "2025-03-02",
                "effective_from": "2025-03-20", "rate": {"percent": percent},
                "sources": SOURCE}

    events += [ADAPTER.validate_python(raw) for raw in [
        {"id": "c1", "type": "EventCorrected", "known": "2025-06-01", "sources": SOURCE,
         "corrects": "r1", "reason": "wrong measure", "replacement": moved("r1", "m2", 7)},
        {"id": "c2", "type": "EventRetracted", "known": "2025-06-02", "sources": SOURCE,
         "retracts": "r4", "reason": "never happened"},
        {"id": "c3", "type": "EventCorrected", "known": "2025-06-03", "sources": SOURCE,
         "corrects": "r1", "reason": "wrong again", "replacement": moved("r1", "m3", 9)},
    ]]
    return events


def rows_of(timeline: TariffTimeline) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the read model's tables but its position and layout, in order."""
    assert timeline.read_model is not None
    with Session(timeline.read_model.engine) as session:
        return {table.name: sorted(tuple(row) for row in session.execute(select(table)))
                for table in Base.metadata.sorted_tables
                if table.name not in (TrackingRow.__tablename__, SchemaRow.__tablename__)}


def a_store(path: Path, events: list[PolicyEvent]) -> TariffTimeline:
    timeline = TariffTimeline.open(f"sqlite:///{path}",
                                   clock=FakeClock(datetime(2026, 1, 5, 12, tzinfo=UTC)))
    timeline.record_events(events)
    return timeline


def test_a_large_import_applied_in_small_chunks_writes_the_rows_of_applying_it_whole(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # given the same import of some forty events in two stores
    events = a_large_import()
    whole = a_store(tmp_path / "whole.db", events)
    chunked = a_store(tmp_path / "chunked.db", events)
    # when one applies it whole and the other three events and two subjects at a time
    assert whole.catch_up() == len(events)
    monkeypatch.setattr(writer, "CHUNK", 3)
    monkeypatch.setattr(writer, "REFOLD_BATCH", 2)
    assert chunked.catch_up(batch=5) == len(events)
    # then both read models hold the very same rows, and answer as the fold does
    assert rows_of(chunked) == rows_of(whole)
    for origin in ORIGINS:
        for entered in ("2025-03-25", "2025-05-01", "2025-08-01"):
            question: dict[str, Any] = {"origin": origin, "hts": "8703.23.01",
                                        "entered": entered}
            assert (chunked.rate_on(**question).model_dump(mode="json")
                    == chunked.rate_on_by_fold(**question).model_dump(mode="json"))
    whole.close()
    chunked.close()


def test_a_catch_up_keeps_each_events_text_as_the_log_holds_it(tmp_path: Path) -> None:
    # given a large import whose events carry text the store writes unescaped
    events = [*a_large_import(), ADAPTER.validate_python(
        {"id": "u1", "type": "RateChanged", "measure": "m0", "known": "2025-08-01",
         "effective_from": "2025-08-02", "rate": {"percent": 11},
         "sources": [{"title": 'Zölle "reziprok" \\ 关税', "url": "https://example.org/u"}]})]
    timeline = a_store(tmp_path / "one.db", events)
    # when the read model catches up with it
    assert timeline.catch_up() == len(events)
    # then each event's row holds the canonical text its link covers, which reads back as
    # the event the log holds at that position
    assert timeline.read_model is not None
    with Session(timeline.read_model.engine) as session:
        payloads = {seq: payload for seq, payload in session.execute(
            select(EventRow.seq, EventRow.payload))}
    recorded = list(timeline.store.read())
    assert sorted(payloads) == [row.seq for row in recorded]
    for row in recorded:
        assert payloads[row.seq] == canonical_bytes(row.event).decode()
        assert ADAPTER.validate_json(payloads[row.seq]) == row.event
    assert "Zölle" in payloads[recorded[-1].seq]
    timeline.close()


def test_a_large_import_reports_progress_as_it_is_applied_and_whole_only_once_committed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # given one import of some forty events
    events = a_large_import()
    timeline = a_store(tmp_path / "one.db", events)
    monkeypatch.setattr(writer, "CHUNK", 4)
    monkeypatch.setattr(writer, "REFOLD_BATCH", 3)
    heard: list[tuple[int, int]] = []
    # when the read model catches up with it
    assert timeline.catch_up(progress=lambda done, total: heard.append((done, total))) == (
        len(events))
    # then progress was heard many times while the import was being applied, rising, and
    # the whole import only at the end
    total = len(events)
    assert heard[-1] == (total, total)
    assert len(heard) >= 10
    assert all(done < total and seen == total for done, seen in heard[:-1])
    assert [done for done, _ in heard] == sorted({done for done, _ in heard})
    timeline.close()


def test_a_break_late_in_a_large_import_leaves_nothing_of_it_applied(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # given an import applied to the read model, then a large one whose last event was
    # edited in the database behind the application's back
    path = tmp_path / "edited.db"
    timeline = a_store(path, a_large_import())
    applied_first = timeline.catch_up()
    before = rows_of(timeline)
    timeline.store.clock.advance(hours=1)  # type: ignore[attr-defined]
    timeline.record_events([rate_changed(f"late{n}", f"m{n % 2}", known="2025-08-01",
                                         start=f"2025-08-{n + 1:02d}", percent=n)
                            for n in range(20)])
    table = timeline.store.events_table
    with sqlite3.connect(path) as db:
        (last,) = db.execute(f"SELECT MAX(rowid) FROM {table} WHERE topic != "
                             "'tariffs.ChainHead.v1'").fetchone()
        db.execute(f"UPDATE {table} SET state = replace(state, CAST('\"percent\"' AS BLOB), "
                   f"CAST('\"percEnt\"' AS BLOB)) WHERE rowid = ?", (last,))
    monkeypatch.setattr(writer, "CHUNK", 3)
    monkeypatch.setattr(writer, "REFOLD_BATCH", 2)
    # when the read model catches up in transactions smaller than the import, so that it
    # writes the import's first chunks before it reads the break
    with pytest.raises(TamperDetected):
        timeline.catch_up(batch=5)
    # then none of the import was applied: the rows and the position are as before
    assert rows_of(timeline) == before
    assert timeline.read_model is not None
    assert timeline.read_model.writer.chain_state().events == applied_first
    timeline.close()
