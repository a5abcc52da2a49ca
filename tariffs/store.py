"""Where events live: an eventsourcing application on SQLite (default) or PostgreSQL.

The whole timeline is one event stream, because its invariants cross measures (an exemption
names a measure, a stacking rule names programs): appending checks the stream's version, so two
writers can never both extend the same history. The store stamps the recorded time.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, cast
from urllib.parse import parse_qs, unquote, urlparse
from uuid import UUID, uuid5

from eventsourcing.application import Application
from eventsourcing.persistence import IntegrityError, Mapper, StoredEvent, Transcoder
from pydantic import ValidationError

from domain.clocks import Clock, system_clock
from domain.errors import ConflictingWrite, InvalidInput, StoreError
from events import TOPICS, PolicyEvent
from projections.replay import Recorded

TIMELINE_NAMESPACE = UUID("6f1d7c3e-2b55-4f6e-9a43-5c0f3f0b7a11")
TIMELINE_ID = uuid5(TIMELINE_NAMESPACE, "us-tariff-timeline")
"""The one stream that holds the US tariff timeline."""

PAGE = 1000


@dataclass(frozen=True)
class TimelineEntry:
    """A policy event as appended to the stream (eventsourcing's domain-event protocol)."""

    originator_id: UUID
    originator_version: int
    recorded_at: datetime
    event: PolicyEvent


def canonical_bytes(event: PolicyEvent) -> bytes:
    """The event's content as canonical JSON (sorted keys, no spaces)."""
    return json.dumps(event.model_dump(mode="json"), sort_keys=True,
                      separators=(",", ":"), ensure_ascii=False).encode()


class PolicyMapper(Mapper[UUID]):
    """Maps timeline entries to stored events by their stable topics, never class paths."""

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        """The stored form: the event's topic and its canonical JSON with the recorded time."""
        entry = cast(TimelineEntry, domain_event)
        state = json.dumps(
            {"recorded_at": entry.recorded_at.isoformat(),
             "event": entry.event.model_dump(mode="json")},
            sort_keys=True, separators=(",", ":"), ensure_ascii=False,
        ).encode()
        return StoredEvent(
            originator_id=entry.originator_id,
            originator_version=entry.originator_version,
            topic=entry.event.TOPIC,
            state=state,
        )

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        """The entry back from its stored form, validated again."""
        cls = TOPICS.get(stored_event.topic)
        if cls is None:
            raise StoreError(f"stored event with unknown topic {stored_event.topic!r}")
        state = json.loads(stored_event.state)
        try:
            event = cls.model_validate(state["event"])
        except ValidationError as exc:
            raise StoreError(
                f"stored event {stored_event.originator_version} no longer validates: {exc}"
            ) from exc
        return TimelineEntry(
            originator_id=cast(UUID, stored_event.originator_id),
            originator_version=stored_event.originator_version,
            recorded_at=datetime.fromisoformat(state["recorded_at"]),
            event=event,
        )


class TimelineApplication(Application[UUID]):
    """The eventsourcing application that stores the timeline."""

    name = "TariffTimeline"

    def construct_mapper(self) -> Mapper[UUID]:
        """Our mapper, which knows the events' stable topics."""
        transcoder: Transcoder = self.construct_transcoder()
        return PolicyMapper(transcoder=transcoder)


def persistence_env(url: str) -> dict[str, str]:
    """eventsourcing settings for a database URL (sqlite:///path or postgresql://...)."""
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        path = unquote(parsed.path)
        if url.startswith("sqlite:////"):
            path = "/" + path.lstrip("/")
        elif url.startswith("sqlite:///"):
            path = path[1:] if path.startswith("/") else path
        if not path:
            raise InvalidInput(f"database URL {url!r} names no file (sqlite:///path/to/file)")
        if path != ":memory:":
            Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)
            path = str(Path(path).expanduser())
        return {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": path}
    if parsed.scheme in ("postgresql", "postgres"):
        if not parsed.hostname or not parsed.path.strip("/"):
            raise InvalidInput(
                f"database URL {url!r} needs a host and a name: postgresql://user@host:port/name"
            )
        query = parse_qs(parsed.query)
        env = {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": parsed.path.strip("/"),
            "POSTGRES_HOST": parsed.hostname,
            "POSTGRES_PORT": str(parsed.port or 5432),
            "POSTGRES_USER": unquote(parsed.username or os.environ.get("USER", "postgres")),
            "POSTGRES_PASSWORD": unquote(parsed.password or ""),
            "POSTGRES_CONNECT_TIMEOUT": "10",
        }
        if "schema" in query:
            env["POSTGRES_SCHEMA"] = query["schema"][0]
        return env
    raise InvalidInput(
        f"unsupported database URL {url!r}: use sqlite:///path or postgresql://user@host:port/name"
    )


def _ensure_schema(env: dict[str, str]) -> None:
    schema = env.get("POSTGRES_SCHEMA")
    if not schema:
        return
    import psycopg  # only PostgreSQL stores need it
    from psycopg import sql

    with psycopg.connect(
        dbname=env["POSTGRES_DBNAME"], host=env["POSTGRES_HOST"], port=env["POSTGRES_PORT"],
        user=env["POSTGRES_USER"], password=env["POSTGRES_PASSWORD"], autocommit=True,
    ) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))


class EventStore:
    """Appends timeline entries and reads the log back, with an injected clock."""

    def __init__(self, url: str, clock: Clock = system_clock) -> None:
        self.url = url
        self.clock = clock
        env = persistence_env(url)
        try:
            _ensure_schema(env)
            self.app = TimelineApplication(env=env)
        except InvalidInput:
            raise
        except Exception as exc:
            raise StoreError(f"cannot open the event store at {redact(url)}: {exc}") from exc

    def close(self) -> None:
        """Release the database connections."""
        self.app.close()

    def last_entry(self) -> TimelineEntry | None:
        """The latest entry in the stream, if any."""
        stored = self.app.recorder.select_events(TIMELINE_ID, desc=True, limit=1)
        if not stored:
            return None
        return cast(TimelineEntry, self.app.mapper.to_domain_event(stored[0]))

    def read(self) -> Iterator[Recorded]:
        """Every recorded event in log order, with its position and recorded time."""
        start = 1
        while True:
            page = self.app.recorder.select_notifications(start, PAGE)
            for notification in page:
                entry = cast(TimelineEntry, self.app.mapper.to_domain_event(notification))
                yield Recorded(notification.id, entry.recorded_at, entry.event)
            if len(page) < PAGE:
                return
            start = page[-1].id + 1

    def count(self) -> int:
        """How many events the store holds."""
        last = self.last_entry()
        return 0 if last is None else last.originator_version

    def append(self, events: Sequence[PolicyEvent], after_version: int) -> datetime:
        """Append events in one transaction after the given stream version; all or nothing."""
        last = self.last_entry()
        current = 0 if last is None else last.originator_version
        if current != after_version:
            raise ConflictingWrite(
                f"the timeline moved from version {after_version} to {current} meanwhile"
            )
        now = self.clock()
        if now.tzinfo is None:
            raise InvalidInput("the injected clock must return timezone-aware datetimes")
        # Recorded times never go backwards along the log, so 'recorded at or before R' is
        # always a prefix of the log, whatever the clock does.
        recorded_at = max(now, last.recorded_at) if last is not None else now
        entries = [
            TimelineEntry(TIMELINE_ID, after_version + i, recorded_at, event)
            for i, event in enumerate(events, start=1)
        ]
        try:
            self.app.save(*entries)
        except IntegrityError as exc:
            raise ConflictingWrite(f"another writer appended to the timeline: {exc}") from exc
        return recorded_at


def redact(url: str) -> str:
    """A database URL without its password, for messages."""
    parsed = urlparse(url)
    if parsed.password:
        return url.replace(f":{parsed.password}@", ":***@")
    return url
