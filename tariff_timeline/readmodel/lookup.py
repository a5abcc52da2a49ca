"""The recorded log as an import's check reads it from the read model: events by id and the
whole history of a few subjects, without reading the log (see `importing.subjects`)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from sqlalchemy import select
from sqlalchemy.orm import Session

from tariff_timeline.events import PolicyEvent
from tariff_timeline.projections.replay import Recorded
from tariff_timeline.readmodel.codec import EVENT_ADAPTER
from tariff_timeline.readmodel.tables import EventRow
from tariff_timeline.readmodel.writer import ReadModelWriter
from tariff_timeline.store import EventStore

_CHUNK = 500
"""Ids per IN list: well under SQLite's and PostgreSQL's limits on bound parameters."""


class RecordedView:
    """The log's first `count` events (up to notification `last_notification`), as the read
    model copied them when it checked the hash chain: questions about recorded events
    answered by index, never by a scan. Events are placed by notification id, which orders
    them as their log positions do."""

    def __init__(self, session: Session, writer: ReadModelWriter, store: EventStore,
                 count: int, last_notification: int) -> None:
        self.session = session
        self.writer = writer
        self.store = store
        self.count = count
        self.last_notification = last_notification

    def recorded(self, event_ids: Iterable[str]) -> dict[str, tuple[int, PolicyEvent]]:
        """The notification id and content of each of these ids that is recorded."""
        found: dict[str, tuple[int, PolicyEvent]] = {}
        wanted = sorted(set(event_ids))
        for start in range(0, len(wanted), _CHUNK):
            for event_id, seq, payload in self.session.execute(select(
                    EventRow.event_id, EventRow.seq, EventRow.payload).where(
                    EventRow.event_id.in_(wanted[start:start + _CHUNK]),
                    EventRow.seq <= self.last_notification)):
                found[event_id] = (seq, self.writer.cache.events.get(seq, payload,
                                                                     EVENT_ADAPTER))
        return found

    def subject_logs(self, subjects: Iterable[str]) -> list[Recorded]:
        """Every recorded event that is or ever was about one of these subjects, with every
        correction and retraction of them, in log order."""
        wanted = sorted(set(subjects))
        rows: dict[int, Recorded] = {}
        for start in range(0, len(wanted), _CHUNK):
            logs = self.writer.subject_logs(self.session, wanted[start:start + _CHUNK])
            for log in logs.values():
                rows.update((r.seq, r) for r in log if r.seq <= self.last_notification)
        return [rows[seq] for seq in sorted(rows)]

    def naming(self, idents: Iterable[str]) -> set[str]:
        """The subjects of every recorded event whose content names one of these ids (found
        by text, so it may find more than those, never fewer: an id is a plain JSON string)."""
        found: set[str] = set()
        for ident in sorted(set(idents)):
            pattern = '%"' + ident.replace("_", "\\_") + '"%'
            for row in self.session.execute(select(
                    EventRow.subject, EventRow.target_subject).where(
                    EventRow.payload.like(pattern, escape="\\"),
                    EventRow.seq <= self.last_notification)):
                found.update(key for key in row if key is not None)
        return found

    def position(self, notification_id: int) -> int:
        """The log position of the event recorded under a notification id."""
        return self.store.position_of(notification_id)


@contextmanager
def recorded_view(writer: ReadModelWriter, store: EventStore) -> Iterator[RecordedView]:
    """The read model brought up to the end of the log (checking the hash chain from where it
    last checked), held in one read transaction while an import is checked against it."""
    writer.catch_up(store)
    with Session(writer.engine) as session, session.begin():
        tracked = writer.tracked(session)
        yield RecordedView(session, writer, store, tracked.events, tracked.notification_id)
