"""The recorded log as an import's check reads it from the read model: events by id and the
whole history of a few subjects, without reading the log (see `importing.subjects`)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from sqlalchemy import select
from sqlalchemy.orm import Session

from tariff_timeline.events import PolicyEvent
from tariff_timeline.projections.pieces import FOREVER
from tariff_timeline.projections.replay import Recorded
from tariff_timeline.projections.versions import CONTINUED, RESUMED, STATE_ADAPTERS
from tariff_timeline.readmodel.codec import EVENT_ADAPTER
from tariff_timeline.readmodel.tables import EventNameRow, EventRow, VersionRow, hold_snapshot
from tariff_timeline.readmodel.writer import ReadModelWriter, known_spans
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

    def last_states(self, subjects: Iterable[str]) -> dict[str, tuple[int, object]]:
        """Of these subjects (of the kinds in CONTINUED, whose versions hold their whole
        state), each with an upper bound of the latest instant one of its events became known
        (as corrected, a `fold_key`: see `writer.known_spans`) and the state the fold of all
        its events gives (its one open last version's). Its events' payloads are not read
        (only its corrections'), nor any version but the last."""
        wanted = sorted({s for s in subjects if s.split(":", 1)[0] in CONTINUED})
        # Every recorded event comes before the next notification.
        latest = {subject: before for subject, (before, _) in known_spans(
            self.session, wanted, self.last_notification + 1).items() if before is not None}
        states: dict[str, list[tuple[int, str]]] = {}
        for start in range(0, len(wanted), _CHUNK):
            part = wanted[start:start + _CHUNK]
            # `known_until + 0`: an expression, so that SQLite walks the subject's open
            # versions by its index rather than every open version by the coordinate's
            # (0.32 s at a million events).
            for subject, version_id, text in self.session.execute(select(
                    VersionRow.subject, VersionRow.id, VersionRow.state).where(
                    VersionRow.subject.in_(part), VersionRow.rec_until == FOREVER,
                    VersionRow.known_until + 0 == FOREVER)):
                states.setdefault(subject, []).append((version_id, text))
        found: dict[str, tuple[int, object]] = {}
        for subject, known in latest.items():
            last = states.get(subject, [])
            if len(last) != 1:
                continue
            version_id, text = last[0]
            found[subject] = (known, self.writer.cache.states.get(
                version_id, text, STATE_ADAPTERS[subject.split(":", 1)[0]]))
        return found

    def naming(self, subjects: Iterable[str]) -> set[str]:
        """The subjects of every recorded event about another subject that names one of these
        measures or rulings ('kind:id'), and of every correction that names one, by the names
        the catch-up wrote for each event."""
        found: set[str] = set()
        wanted = sorted(set(subjects))
        for start in range(0, len(wanted), _CHUNK):
            for row in self.session.execute(select(
                    EventRow.subject, EventRow.target_subject).where(
                    EventRow.seq.in_(select(EventNameRow.seq).where(
                        EventNameRow.name.in_(wanted[start:start + _CHUNK]))),
                    EventRow.seq <= self.last_notification)):
                found.update(key for key in row if key is not None)
        return found

    def changes_of(self, event_id: str) -> list[PolicyEvent]:
        """Every correction and retraction recorded of one event, in log order (by the
        target's index)."""
        return [self.writer.cache.events.get(seq, payload, EVENT_ADAPTER)
                for seq, payload in self.session.execute(select(
                    EventRow.seq, EventRow.payload).where(
                    EventRow.target_id == event_id, EventRow.seq <= self.last_notification)
                    .order_by(EventRow.seq))]

    def state_before(self, subject: str, instant: int) -> object | None:
        """The state of a subject (of a kind in RESUMED) that its open version covering the
        instant before `instant` (a `fold_key`) holds: the fold of its own events known
        before it. None where no version covers it."""
        kind = subject.split(":", 1)[0]
        if kind not in RESUMED:
            return None
        # `known_until + 0`, as in `last_states`: SQLite took the coordinate's index and
        # walked every open version of every subject after the instant (0.32 s at 1M).
        found = self.session.execute(select(VersionRow.id, VersionRow.state).where(
            VersionRow.subject == subject, VersionRow.rec_until == FOREVER,
            VersionRow.known_from < instant, VersionRow.known_until + 0 >= instant)).all()
        if len(found) != 1:
            return None
        version_id, text = found[0]
        return self.writer.cache.states.get(version_id, text, STATE_ADAPTERS[kind])

    def position(self, notification_id: int) -> int:
        """The log position of the event recorded under a notification id."""
        return self.store.position_of(notification_id)


@contextmanager
def recorded_view(writer: ReadModelWriter, store: EventStore) -> Iterator[RecordedView]:
    """The read model brought up to the end of the log (checking the hash chain from where it
    last checked), held in one read transaction while an import is checked against it.
    RowsMoved (which the import's patience retries) when another process made its tables
    again meanwhile: they may have been read empty, or half filled."""
    found = writer.caught_up(store).tables
    with (writer.same_tables(found), Session(writer.engine) as session,
          session.begin()):
        hold_snapshot(session)
        tracked = writer.tracked(session)
        yield RecordedView(session, writer, store, tracked.events, tracked.notification_id)
