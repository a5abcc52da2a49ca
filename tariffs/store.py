"""Where events live: an eventsourcing application on SQLite (default) or PostgreSQL.

The whole timeline is one event stream, because its invariants cross measures (an exemption
names a measure, a stacking rule names programs): appending checks the stream's version, so two
writers can never both extend the same history. The store stamps the recorded time.
"""

from __future__ import annotations

import hashlib
import json
import os
from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, cast
from urllib.parse import parse_qs, unquote, urlparse
from uuid import UUID, uuid5

from eventsourcing.application import Application
from eventsourcing.persistence import IntegrityError, Mapper, StoredEvent, Transcoder
from pydantic import TypeAdapter, ValidationError

from domain.clocks import Clock, system_clock
from domain.errors import ConflictingWrite, InvalidInput, StoreError
from events import TOPICS, EventCorrected, EventRetracted, PolicyEvent, known_instant
from events.values import KnownTime
from projections.replay import Recorded
from tariffs.chain import GENESIS, HEAD_TOPIC, RawRow, Verification, dumps, link, verify

TIMELINE_NAMESPACE = UUID("6f1d7c3e-2b55-4f6e-9a43-5c0f3f0b7a11")
TIMELINE_ID = uuid5(TIMELINE_NAMESPACE, "us-tariff-timeline")
"""The one stream that holds the US tariff timeline."""
HEAD_ID = uuid5(TIMELINE_NAMESPACE, "us-tariff-timeline-chain-head")
"""The stream of chain heads: after each append, how many events and the last link."""

PAGE = 1000
CHUNK = 5000
"""Rows per insert statement when an append streams its rows into its one transaction."""


@dataclass(frozen=True)
class TimelineEntry:
    """A policy event as appended to the stream (eventsourcing's domain-event protocol)."""

    originator_id: UUID
    originator_version: int
    recorded_at: datetime
    event: PolicyEvent
    chain: str | None = None


@dataclass(frozen=True)
class ChainHead:
    """Store metadata written with each append: the event count and the last link."""

    originator_id: UUID
    originator_version: int
    count: int
    link: str


def canonical_bytes(event: PolicyEvent) -> bytes:
    """The event's content as canonical JSON (sorted keys, no spaces)."""
    # model_dump(mode="json") exactly, without its per-call argument handling (a fifth of
    # the cost of serialising an event, which an import does for every one).
    return dumps(event.__pydantic_serializer__.to_python(event, mode="json"))


def content_digest(event_bytes: bytes) -> bytes:
    """A short digest of an event's canonical bytes (to tell recorded content apart)."""
    return hashlib.blake2b(event_bytes, digest_size=16).digest()


def entry_state(event_bytes: bytes, recorded_at: str, chain: str) -> bytes:
    """The stored state of a chained entry, built around its canonical event bytes.

    Byte for byte what `PolicyMapper` writes, `dumps({"chain", "event", "recorded_at"})`:
    canonical JSON sorts those three keys in this order and nests the event's own canonical
    form unchanged, so an append need not decode and encode every event again.
    """
    return b"".join((b'{"chain":"', chain.encode(), b'","event":', event_bytes,
                     b',"recorded_at":"', recorded_at.encode(), b'"}'))


GONE = -(2**63)
"""The fold key of a position that the fold does not take (a correction, a retraction or a
retracted event)."""
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_KNOWN: TypeAdapter[datetime | date] = TypeAdapter(KnownTime)


def fold_key(known: datetime | date) -> int:
    """An event's place in the fold's order, as microseconds since 1970 of its known instant
    (ties go by log position)."""
    return (known_instant(known) - _EPOCH) // timedelta(microseconds=1)


@dataclass
class RecordedIndex:
    """The stored log as an import needs it, without holding its events.

    `recorded(id)` gives the digest of a recorded event's stored canonical bytes and its log
    position; `retired` holds the ids that a correction cannot name (corrections,
    retractions and retracted events), so every other recorded id is in force. `keys` holds
    the fold key of each position's content after the log's corrections (GONE where the fold
    takes nothing), and `corrected_at` the position of the last correction of each corrected
    event: with them an import can tell whether the log is in fold order and fold it as it
    reads it. `contiguous` is False if positions do not run 1, 2, 3... (an edited log).
    """

    retired: set[str] = field(default_factory=set)
    keys: array[int] = field(default_factory=lambda: array("q"))
    corrected_at: dict[str, int] = field(default_factory=dict)
    count: int = 0
    contiguous: bool = True
    # Digest and position packed in one bytes object: a third of the memory of a tuple of a
    # bytes and an int, which counts for a log of a million events.
    _packed: dict[str, bytes] = field(default_factory=dict)
    # A few thousand distinct known times recur across a large log.
    _known_keys: dict[str, int] = field(default_factory=dict)

    def __contains__(self, event_id: object) -> bool:
        return event_id in self._packed

    def recorded(self, event_id: str) -> tuple[bytes, int] | None:
        """The digest of a recorded event's canonical bytes and its position, if recorded."""
        packed = self._packed.get(event_id)
        return None if packed is None else (packed[:16], int.from_bytes(packed[16:]))

    def in_force(self, event_id: str) -> bool:
        """Whether a recorded world event has this id and has not been retracted."""
        return event_id in self._packed and event_id not in self.retired

    def add(self, row: RawRow) -> None:
        """Take in one stored event, in log order."""
        event = json.loads(row.state)["event"]
        ident = event["id"]
        position = row.originator_version
        self._packed[ident] = (content_digest(_event_bytes(row.state, event))
                               + position.to_bytes(8))
        self.contiguous = self.contiguous and position == self.count + 1
        self.count = position
        kind = TOPICS.get(row.topic)
        key = GONE
        if kind is EventCorrected:
            self.retired.add(ident)
            target = self.recorded(event["corrects"])
            if target is not None and self.contiguous:
                self.keys[target[1] - 1] = self._key(event["replacement"]["known"])
                self.corrected_at[event["corrects"]] = position
        elif kind is EventRetracted:
            self.retired.update((ident, event["retracts"]))
            target = self.recorded(event["retracts"])
            if target is not None and self.contiguous:
                self.keys[target[1] - 1] = GONE
                self.corrected_at.pop(event["retracts"], None)
        else:
            key = self._key(event["known"])
        self.keys.append(key)

    def _key(self, known: str) -> int:
        key = self._known_keys.get(known)
        if key is None:
            key = self._known_keys[known] = fold_key(_KNOWN.validate_python(known))
        return key


def _event_bytes(state: bytes, event: dict[str, Any]) -> bytes:
    """An event's canonical bytes as stored: cut out of the row's state, which nests them
    unchanged (see entry_state), or encoded again if the state is not laid out so.

    Only a digest is taken of them, to find recorded events an import repeats: a row whose
    bytes were edited just matches nothing, and comparing the events themselves decides.
    """
    start = state.find(b'"event":')
    end = state.rfind(b',"recorded_at":')
    return state[start + 8:end] if 0 <= start < end else dumps(event)


class PolicyMapper(Mapper[UUID]):
    """Maps timeline entries to stored events by their stable topics, never class paths."""

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        """The stored form: the event's topic and its canonical JSON with the recorded time
        and chain link (chain heads: their count and link)."""
        if isinstance(domain_event, ChainHead):
            return StoredEvent(
                originator_id=domain_event.originator_id,
                originator_version=domain_event.originator_version,
                topic=HEAD_TOPIC,
                state=dumps({"count": domain_event.count, "link": domain_event.link,
                             "number": domain_event.originator_version}),
            )
        entry = cast(TimelineEntry, domain_event)
        data: dict[str, Any] = {"recorded_at": entry.recorded_at.isoformat(),
                                "event": entry.event.model_dump(mode="json")}
        if entry.chain is not None:
            data["chain"] = entry.chain
        state = dumps(data)
        return StoredEvent(
            originator_id=entry.originator_id,
            originator_version=entry.originator_version,
            topic=entry.event.TOPIC,
            state=state,
        )

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        """The entry back from its stored form, validated again."""
        try:
            return self._to_domain_event(stored_event)
        except (ValueError, KeyError, TypeError) as exc:
            # Only an edit made outside the application leaves such a row behind.
            raise StoreError(
                f"stored row {stored_event.originator_version} cannot be read ({exc}); "
                "run `tariffs verify`"
            ) from exc

    def _to_domain_event(self, stored_event: StoredEvent) -> Any:
        if stored_event.topic == HEAD_TOPIC:
            head = json.loads(stored_event.state)
            return ChainHead(cast(UUID, stored_event.originator_id),
                             stored_event.originator_version, head["count"], head["link"])
        cls = TOPICS.get(stored_event.topic)
        if cls is None:
            raise StoreError(f"stored event with unknown topic {stored_event.topic!r}; run "
                             "`tariffs verify`")
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
            chain=state.get("chain"),
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
                if notification.originator_id != TIMELINE_ID:
                    continue  # chain heads are the store's metadata, not policy events
                entry = cast(TimelineEntry, self.app.mapper.to_domain_event(notification))
                # The position in the stream, not the notification id: heads share the ids.
                yield Recorded(notification.originator_version, entry.recorded_at,
                               entry.event)
            if len(page) < PAGE:
                return
            start = page[-1].id + 1

    def index(self) -> RecordedIndex:
        """Every recorded event id with a digest of its canonical bytes and its fold key (one
        pass over the raw rows; events are not validated: `recorded_event` does that)."""
        index = RecordedIndex()
        for row in self.raw_rows():
            if str(row.originator_id) != str(TIMELINE_ID):
                continue
            try:
                index.add(row)
            except (ValueError, KeyError, TypeError) as exc:
                raise StoreError(f"stored row {row.originator_version} cannot be read "
                                 f"({exc}); run `tariffs verify`") from exc
        return index

    def recorded_event(self, position: int) -> PolicyEvent:
        """The event recorded at a log position, validated as reading the log does."""
        stored = self.app.recorder.select_events(TIMELINE_ID, gt=position - 1, lte=position)
        if not stored:
            raise StoreError(f"no event at log position {position}")
        return cast(TimelineEntry, self.app.mapper.to_domain_event(stored[0])).event

    def raw_rows(self) -> Iterator[RawRow]:
        """Every stored row as the database holds it, in notification order."""
        start = 1
        while True:
            page = self.app.recorder.select_notifications(start, PAGE)
            for n in page:
                yield RawRow(n.id, n.originator_id, n.originator_version, n.topic,
                             bytes(n.state))
            if len(page) < PAGE:
                return
            start = page[-1].id + 1

    def verify(self) -> Verification:
        """Walk the chain over the raw rows and report the first break, if any."""
        return verify(self.raw_rows(), TIMELINE_ID, HEAD_ID)

    @property
    def events_table(self) -> str:
        """The name of the table eventsourcing stores the rows in."""
        return str(getattr(self.app.recorder, "events_table_name", "stored_events"))

    def count(self) -> int:
        """How many events the store holds."""
        last = self.last_entry()
        return 0 if last is None else last.originator_version

    def append(self, events: Sequence[PolicyEvent], after_version: int) -> datetime:
        """Append events in one transaction after the given stream version; all or nothing."""
        return self.append_canonical(((e.TOPIC, canonical_bytes(e)) for e in events),
                                     after_version)

    def append_canonical(self, rows: Iterable[tuple[str, bytes]],
                         after_version: int) -> datetime:
        """Append events given as (topic, canonical bytes), in order, after the given stream
        version: chained, in chunks, all in one transaction with their chain head.

        Rows are turned into stored events a chunk at a time, so an append of a million
        events never holds more than one chunk of them.
        """
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
        when = recorded_at.isoformat()
        previous = (last.chain or GENESIS) if last is not None else GENESIS
        position = after_version
        heads = self.app.recorder.select_events(HEAD_ID, desc=True, limit=1)
        head_version = (heads[0].originator_version if heads else 0) + 1

        def chunks() -> Iterator[list[StoredEvent]]:
            nonlocal previous, position
            chunk: list[StoredEvent] = []
            for topic, event_bytes in rows:
                position += 1
                previous = link(previous, topic, position, when, event_bytes)
                chunk.append(StoredEvent(TIMELINE_ID, position, topic,
                                         entry_state(event_bytes, when, previous)))
                if len(chunk) == CHUNK:
                    yield chunk
                    chunk = []
            if position == after_version:
                return  # nothing to append: no head either (a head vouches for new events)
            # The head that vouches for the events goes in the same transaction, last.
            head = ChainHead(HEAD_ID, head_version, position, previous)
            yield [*chunk, self.app.mapper.to_stored_event(head)]

        try:
            self._insert_in_one_transaction(chunks())
        except IntegrityError as exc:
            raise ConflictingWrite(f"another writer appended to the timeline: {exc}") from exc
        return recorded_at

    def _insert_in_one_transaction(self, chunks: Iterable[Sequence[StoredEvent]]) -> None:
        """Insert chunks of stored events with eventsourcing's recorder, in one transaction.

        `Application.save` takes every event at once, which for a large import means holding
        all of them (and eventsourcing's copies) in memory. Below it, the recorders insert a
        list of stored events inside a transaction they are handed: SQLite's
        `_insert_events(cursor, ...)`, PostgreSQL's `_insert_stored_events(cursor, ...)`
        (which also takes the table lock and notifies listeners, as `save` does). These are
        eventsourcing 9.5 internals, hence the version pin in pyproject.toml; on any error
        the transaction rolls back and nothing is written.
        """
        recorder: Any = self.app.recorder
        postgres = self.app.env.get("PERSISTENCE_MODULE") == "eventsourcing.postgres"
        with recorder.datastore.transaction(commit=True) as cursor:
            for chunk in chunks:
                if postgres:
                    recorder._insert_stored_events(cursor, chunk)
                else:
                    recorder._insert_events(cursor, chunk)


def redact(url: str) -> str:
    """A database URL without its password, for messages."""
    parsed = urlparse(url)
    if parsed.password:
        return url.replace(f":{parsed.password}@", ":***@")
    return url
