"""Where events live: an eventsourcing application on SQLite (default) or PostgreSQL.

The whole timeline is one event stream, because its invariants cross measures (an exemption
names a measure, a stacking rule names programs): appending checks the stream's version, so two
writers can never both extend the same history. The store stamps the recorded time.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from eventsourcing.persistence import IntegrityError, Notification, StoredEvent

from tariff_timeline.domain.clocks import Clock, system_clock
from tariff_timeline.domain.errors import ConflictingWrite, InvalidInput, StoreError
from tariff_timeline.events import PolicyEvent
from tariff_timeline.projections.replay import Recorded
from tariff_timeline.store.chain import (
    GENESIS,
    Break,
    ChainBroken,
    ChainState,
    ChainWalker,
    RawRow,
    SignatureCheck,
    Verification,
    head_message,
    head_unchanged,
    link,
    row_state,
    tamper_detected,
)
from tariff_timeline.store.index import RecordedIndex
from tariff_timeline.store.keys import HeadSigner
from tariff_timeline.store.mapper import (
    HEAD_ID,
    TIMELINE_ID,
    ChainHead,
    PolicyMapper,
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
                 patience: Patience | None = None, *, signer: HeadSigner | None = None,
                 signature_check: SignatureCheck | None = None) -> None:
        self.url = url
        self.clock = clock
        self.signer = signer
        self.signature_check = signature_check
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

    def last_entry(self) -> TimelineEntry | None:
        """The latest entry in the stream, if any."""
        stored = self.app.recorder.select_events(TIMELINE_ID, desc=True, limit=1)
        if not stored:
            return None
        return cast(TimelineEntry, self.app.mapper.to_domain_event(stored[0]))

    @property
    def _mapper(self) -> PolicyMapper:
        # The application builds our mapper (construct_mapper); its type says only Mapper.
        return cast(PolicyMapper, self.app.mapper)

    def _walker(self, start: ChainState | None = None) -> ChainWalker:
        return ChainWalker(TIMELINE_ID, HEAD_ID, start, self.signature_check)

    def read(self) -> Iterator[Recorded]:
        """Every recorded event in log order, with its position and recorded time, each
        checked against the hash chain as it is read: a broken chain raises TamperDetected
        (at the end of the log, too, if its last head does not vouch for every event)."""
        walker = self._walker()
        try:
            for notification in self._notifications(1):
                state = walker.step(_raw(notification))
                if state is None:
                    continue  # chain heads are the store's metadata, not policy events
                entry = cast(TimelineEntry,
                             self._mapper.to_domain_event(notification, state))
                # The position in the stream, not the notification id: heads share the ids.
                yield Recorded(notification.originator_version, entry.recorded_at,
                               entry.event)
            walker.finish()
        except ChainBroken as broken:
            raise tamper_detected(broken.found, walker.state.events) from None

    def index(self) -> RecordedIndex:
        """Every recorded event id with a digest of its canonical bytes and its fold key (one
        pass over the raw rows, checked against the hash chain; events are not validated:
        `recorded_event` does that)."""
        index = RecordedIndex()
        walker = self._walker()
        try:
            for notification in self._notifications(1):
                row = _raw(notification)
                data = walker.step(row)
                if data is None:
                    continue
                try:
                    # The walk checked the row's types: an int position, a str topic, bytes.
                    index.add(cast(int, row.originator_version), cast(str, row.topic),
                              bytes(cast(bytes, row.state)), data)
                except (ValueError, KeyError, TypeError) as exc:
                    raise StoreError(f"stored row {row.originator_version} cannot be read "
                                     f"({exc}); run `tariffs verify`") from exc
            walker.finish()
        except ChainBroken as broken:
            raise tamper_detected(broken.found, walker.state.events) from None
        return index

    def verified_rows(self, state: ChainState, page: int = PAGE
                      ) -> Iterator[tuple[int, TimelineEntry | None, ChainState]]:
        """The rows recorded after a verified position, one at a time, each checked against
        the chain as it is read: (notification id, the entry or None for a chain head, the
        chain state after the row). A head closes an append: only what a head vouches for
        may be applied. A broken chain raises TamperDetected when the walk reaches it (at the
        end of the log, too, if the last head does not vouch for every event), so a reader
        that applies rows as they come must do so in a transaction it can roll back.

        Before reading on, the row the position names must still be there as it was, so that
        deleting the newest events is noticed even when nothing new was appended."""
        walker = self._walker(state)
        try:
            for notification in self._after(state, page=max(page, 1)):
                state_of_row = walker.step(_raw(notification))
                entry = None if state_of_row is None else cast(
                    TimelineEntry, self._mapper.to_domain_event(notification, state_of_row,
                                                                walker.event_bytes))
                yield notification.id, entry, walker.state
            walker.finish()
        except ChainBroken as broken:
            raise tamper_detected(broken.found, walker.state.events) from None

    def verified_appends(self, state: ChainState, limit: int
                         ) -> tuple[list[tuple[int, TimelineEntry]], ChainState]:
        """Whole appends recorded after a verified position, checked against the chain, with
        their notification ids, and the chain state after the last head read: about `limit`
        events (whole appends, never splitting the appends recorded at one instant). It holds
        them all: a reader of large appends streams `verified_rows` instead."""
        entries: list[tuple[int, TimelineEntry]] = []
        vouched, vouched_state, full = 0, state, False
        for notification_id, entry, after in self.verified_rows(state, page=limit):
            if entry is None:
                # A head closes an append: what it vouches for can be applied.
                vouched, vouched_state = len(entries), after
                full = vouched >= limit
                continue
            if full and entry.recorded_at != entries[vouched - 1][1].recorded_at:
                return entries[:vouched], vouched_state
            entries.append((notification_id, entry))
        return entries[:vouched], vouched_state

    def count_unapplied(self, state: ChainState) -> int:
        """Check the chain after a verified position to the end of the log, holding nothing;
        return how many events it checked that a head vouches for."""
        vouched = 0
        for _, entry, after in self.verified_rows(state):
            if entry is None:
                vouched = after.events - state.events
        return vouched

    def _after(self, state: ChainState, page: int) -> Iterator[Notification]:
        """The stored rows after a verified position, in order, a page at a time, once the row
        it names is found still there as it was (`_still_there`). That row is read with the
        first page, in one statement: a question checks the log this way before each answer,
        and most often finds nothing new."""
        if state.notification_id == 0:
            yield from self._notifications(1, page)
            return
        found = self.app.recorder.select_notifications(state.notification_id, page + 1)
        _still_there(state, found[:1], self.signature_check)
        yield from found[1:]
        if len(found) == page + 1:
            yield from self._notifications(found[-1].id + 1, page)

    def _notifications(self, start: int, page: int = PAGE) -> Iterator[Notification]:
        """Stored rows from a notification id on, in order, a page at a time."""
        while True:
            found = self.app.recorder.select_notifications(start, page)
            yield from found
            if len(found) < page:
                return
            start = found[-1].id + 1

    def recorded_event(self, position: int) -> PolicyEvent:
        """The event recorded at a log position, validated as reading the log does."""
        stored = self.app.recorder.select_events(TIMELINE_ID, gt=position - 1, lte=position)
        if not stored:
            raise StoreError(f"no event at log position {position}")
        return cast(TimelineEntry, self.app.mapper.to_domain_event(stored[0])).event

    def position_of(self, notification_id: int) -> int:
        """The log position of the event stored under a notification id."""
        found = self.app.recorder.select_notifications(notification_id, 1)
        if not found or found[0].id != notification_id or str(
                found[0].originator_id) != str(TIMELINE_ID):
            raise StoreError(f"no event under notification {notification_id}")
        return int(found[0].originator_version)

    def raw_rows(self) -> Iterator[RawRow]:
        """Every stored row as the database holds it, in notification order."""
        return map(_raw, self._notifications(1))

    def verify(self, signature_check: SignatureCheck | None = None,
               since: Checkpoint | None = None) -> Verification:
        """Walk the chain over the raw rows and report the first break, if any: with a
        signature check, heads must be signed by its key; with a checkpoint, the log must
        still extend it (hold its events with the same link at its position)."""
        check = signature_check or self.signature_check
        walker = ChainWalker(TIMELINE_ID, HEAD_ID, None, check)
        try:
            for row in self.raw_rows():
                walker.step(row)
                if since is not None and walker.state.events == since.events and (
                        walker.state.link != since.link):
                    raise ChainBroken(Break(row.notification_id, since.events,
                                            "the log no longer extends the checkpoint: "
                                            "another event stands at its position"))
            walker.finish()
            if since is not None and walker.state.events < since.events:
                raise ChainBroken(Break(None, None, f"the log holds {walker.state.events} "
                                        f"events, fewer than the {since.events} of the "
                                        "checkpoint (events were deleted at the end)"))
        except ChainBroken as broken:
            return walker.result(broken.found)
        return walker.result()

    @property
    def events_table(self) -> str:
        """The name of the table eventsourcing stores the rows in."""
        return str(getattr(self.app.recorder, "events_table_name", "stored_events"))

    def count(self) -> int:
        """How many events the store holds (the last position, read without decoding it)."""
        stored = self.app.recorder.select_events(TIMELINE_ID, desc=True, limit=1)
        return 0 if not stored else int(stored[0].originator_version)

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
            signature = (self.signer.sign(head_message(head_version, position, previous)).hex()
                         if self.signer is not None else None)
            head = ChainHead(HEAD_ID, head_version, position, previous, signature)
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
            if postgres:
                _dump_rows_binary(cursor, recorder)
            for chunk in chunks:
                if postgres:
                    recorder._insert_stored_events(cursor, chunk)
                else:
                    recorder._insert_events(cursor, chunk)


@dataclass(frozen=True)
class Checkpoint:
    """A head digest kept outside the store: the log had `events` events ending in `link`.
    A later log that still extends it holds the same link at that position."""

    events: int
    link: str

    PREFIX = "tt-checkpoint-v1"

    def __str__(self) -> str:
        return f"{self.PREFIX}:{self.events}:{self.link}"

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        """A checkpoint from the text `tariffs checkpoint` printed."""
        prefix, _, rest = text.strip().partition(":")
        events, _, last_link = rest.partition(":")
        if prefix != cls.PREFIX or not events.isdigit() or len(last_link) != 64 or any(
                c not in "0123456789abcdef" for c in last_link):
            raise InvalidInput(f"{text!r} is not a checkpoint ({cls.PREFIX}:EVENTS:LINK)",
                               field="since")
        return cls(int(events), last_link)


def _still_there(state: ChainState, found: Sequence[Notification],
                 signature_check: SignatureCheck | None) -> None:
    """Raise ChainBroken if the last verified row (`found`: the row read at its position,
    or nothing) is gone or no longer what it was."""
    if not found or found[0].id != state.notification_id:
        raise ChainBroken(Break(state.notification_id, None, "the row verified last is gone "
                                "(events were deleted at the end of the log)"))
    row = _raw(found[0])
    problem: str | None
    if str(row.originator_id) == str(HEAD_ID):
        # A walk stops after a head (an append ends with one): read again field by field.
        problem = head_unchanged(row, state, TIMELINE_ID, HEAD_ID, signature_check)
    else:
        data = row_state(row)
        problem = data if isinstance(data, str) else (
            None if data.get("chain") == state.link else "its chain link differs")
    if problem is not None:
        raise ChainBroken(Break(state.notification_id, None, "the row verified last was "
                                f"changed since it was verified: {problem}"))


def _raw(notification: Notification) -> RawRow:
    """A stored row as the database holds it (its state in whatever type it came back)."""
    return RawRow(notification.id, notification.originator_id,
                  notification.originator_version, notification.topic, notification.state)


def _dump_rows_binary(cursor: Any, recorder: Any) -> None:
    """Send an append's rows to PostgreSQL in psycopg's binary format, on this cursor only.

    eventsourcing inserts a chunk as one array of its stored-event composite type, and
    psycopg dumps lists and composites as text by default: every event's bytes are then
    escaped by a regular expression, which took 5 of the 7 s an import of 100,000 events
    spent inserting. Both types have binary dumpers, registered beside the text ones; making
    them the cursor's choice for `%s` sends the bytes as they are."""
    from psycopg.adapt import PyFormat

    stored = recorder.datastore.psycopg_python_types[recorder.stored_event_type_name]
    for cls in (list, stored):
        cursor.adapters.register_dumper(cls, cursor.adapters.get_dumper(cls, PyFormat.BINARY))
