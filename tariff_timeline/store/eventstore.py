"""Where events live: an eventsourcing application on SQLite (default) or PostgreSQL.

The whole timeline is one event stream, because its invariants cross measures (an exemption
names a measure, a stacking rule names programs): appending checks the stream's version, so two
writers can never both extend the same history. The store stamps the recorded time.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any, cast

from eventsourcing.persistence import IntegrityError, StoredEvent

from tariff_timeline.domain.clocks import Clock, system_clock
from tariff_timeline.domain.errors import ConflictingWrite, InvalidInput, StoreError
from tariff_timeline.events import PolicyEvent
from tariff_timeline.projections.replay import Recorded
from tariff_timeline.store.chain import GENESIS, RawRow, Verification, link, verify
from tariff_timeline.store.index import RecordedIndex
from tariff_timeline.store.mapper import (
    HEAD_ID,
    TIMELINE_ID,
    ChainHead,
    TimelineEntry,
    canonical_bytes,
    entry_state,
)
from tariff_timeline.store.opening import open_application
from tariff_timeline.store.patience import Patience, write_deadline_seconds
from tariff_timeline.store.urls import parse_store_url

PAGE = 1000
CHUNK = 5000
"""Rows per insert statement when an append streams its rows into its one transaction."""


class EventStore:
    """Appends timeline entries and reads the log back, with an injected clock."""

    def __init__(self, url: str, clock: Clock = system_clock,
                 patience: Patience | None = None) -> None:
        self.url = url
        self.clock = clock
        # How long opening (and each wait for a lock) may take before giving up.
        self.patience = patience or Patience(write_deadline_seconds())
        self.target = parse_store_url(url)
        self.app = open_application(self.target, self.patience)

    def close(self) -> None:
        """Release the database connections."""
        self.app.close()

    @property
    def persistence(self) -> dict[str, str]:
        """The eventsourcing settings the store was opened with (module, database, schema)."""
        return dict(self.app.env)

    @property
    def in_memory(self) -> bool:
        """Whether the store lives only in this process (an in-memory SQLite database)."""
        return self.app.env.get("SQLITE_DBNAME") == ":memory:"

    def policy_page(self, start: int, limit: int
                    ) -> tuple[list[tuple[int, TimelineEntry]], int | None, int]:
        """Policy events among `limit` notifications from `start` on (with their notification
        ids), the last notification id read, and how many were read (chain heads are the
        store's metadata: passed over)."""
        page = self.app.recorder.select_notifications(start, limit)
        entries = [(n.id, cast(TimelineEntry, self.app.mapper.to_domain_event(n)))
                   for n in page if n.originator_id == TIMELINE_ID]
        return entries, (page[-1].id if page else None), len(page)

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
