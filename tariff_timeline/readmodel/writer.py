"""The read model's writer: applies the event store's notifications, exactly once, with the
tracking position committed in the same transaction as the rows it writes. It is eventsourcing's
`TrackingRecorder` for the read model."""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from typing import Any, NamedTuple, cast

from eventsourcing.persistence import Tracking, TrackingRecorder
from sqlalchemy import bindparam, case, delete, null, or_, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tariff_timeline.domain.errors import StoreError
from tariff_timeline.events import (
    EventCorrected,
    EventRetracted,
    PolicyEvent,
    Scope,
    Source,
    subject_key,
    subjects_named,
)
from tariff_timeline.events.instants import fold_key, from_micros, micros
from tariff_timeline.events.policy import named_by_others
from tariff_timeline.projections.pieces import FOREVER, PieceSpan, StatusSpan
from tariff_timeline.projections.replay import (
    Corrected,
    Recorded,
    corrected_log,
    first_change,
    known_order,
)
from tariff_timeline.projections.versions import (
    CONTINUED,
    RESUMED,
    STATE_ADAPTERS,
    SubjectVersion,
    effective_marks,
    piece_keys,
    subject_rows,
    version_keys,
    versions_after,
)
from tariff_timeline.readmodel.codec import EVENT_ADAPTER, PIECE_ADAPTER, RowCache
from tariff_timeline.readmodel.hts import write_chapters
from tariff_timeline.readmodel.reader import families_in
from tariff_timeline.readmodel.tables import (
    GENERATION_NOW,
    Base,
    CitationRow,
    CommitMark,
    CommitWatch,
    EventNameRow,
    EventOriginRow,
    EventProductRow,
    EventRow,
    MarkRow,
    OriginKeyRow,
    PieceOriginRow,
    PieceProductRow,
    PieceRow,
    ProductKeyRow,
    RowsMoved,
    SchemaRow,
    StatusRow,
    TrackingRow,
    VersionRow,
    create_tables,
    defer_answer_indexes,
    give_ids,
    make_answer_indexes,
    refresh_statistics,
)
from tariff_timeline.store import EventStore, TimelineEntry, canonical_bytes
from tariff_timeline.store.bulk import paused_collector
from tariff_timeline.store.chain import ChainState
from tariff_timeline.store.patience import aborted_for_another, busy_reason

APPLICATION_NAME = "TariffTimeline"

_SubjectRow = tuple[int, int, str, str, str | None, str | None, str | None]
"""An event's row as `ReadModelWriter.subject_logs` reads it: seq, recorded instant, payload,
event id, subject, target id, target subject."""

CHUNK = 5000
"""Events of one recorded instant written per statement, and held at most, while applying it."""
REFOLD_BATCH = 500
"""Subjects folded again per round (their logs read together)."""
DEFER_INDEXES_FROM = 20_000
"""Events in the log from which the first catch-up into tables that hold none makes the answer
indexes at its end rather than keeping them row by row (`tables.defer_answer_indexes`)."""
ANALYZE_AFTER = 10_000
"""Events applied by one catch-up after which PostgreSQL samples the tables again
(`tables.refresh_statistics`): a rebuild, or a large import. Within one transaction, too,
once it has written as many event rows, and again each time the rows double (`_Sampling`)."""


CatchUpProgress = Callable[[int, int], None]
"""Called with (events applied, events to apply) as a catch-up proceeds: within a large
import it rises as the import's rows are written and its subjects folded, and reaches the
import's end only once it is committed (rising, never repeating a value)."""


class AlreadyApplied(StoreError):
    """Another process applied these notifications first."""


class TablesSeen(NamedTuple):
    """Which making of the read model's tables a catch-up found current (`generation`), and
    the database's commit mark just before it read that (`version`, `CommitWatch.version`):
    what a question reading them afterwards checks (`same_tables`)."""

    version: CommitMark | None
    generation: str | None


class CaughtUp(NamedTuple):
    """What a catch-up did: the events it applied, the chain state the read model then
    stands at, and the tables it found so."""

    applied: int
    chain: ChainState
    tables: TablesSeen


class ReadModelWriter(TrackingRecorder):
    """Projects the log into the read model's tables and keeps its tracking position."""

    def __init__(self, engine: Engine, cache: RowCache, reading: Engine) -> None:
        # `reading`: the same database for reads alone (`tables.read_only`).
        self.engine = engine
        self.cache = cache
        self._reading = reading
        self._watch = CommitWatch(engine)
        self._driver_integrity: type[Exception] = engine.dialect.loaded_dbapi.IntegrityError
        self._tracked = str(_TRACKED.compile(dialect=engine.dialect,
                                             compile_kwargs={"literal_binds": True}))
        # The commit mark seen before the last catch-up that found nothing new, the
        # chain state it found and the tables it found so (see `caught_up`).
        self._quiet: tuple[CommitMark, ChainState, TablesSeen] | None = None
        # The making of the tables whose rows the cache holds (see `chain_state`).
        self._generation: str | None = None
        self.analyze_after = ANALYZE_AFTER
        self.defer_indexes_from = DEFER_INDEXES_FROM
        # The making of the tables whose answer indexes this process saw made while they
        # held events (see `caught_up`): a first catch-up of a large log (a rebuild's too)
        # leaves them out until its end, and may stop before.
        self._indexed: str | None = ""  # no generation yet: none is empty

    def close(self) -> None:
        """Close the connection that watches for commits."""
        self._watch.close()

    # ------------------------------------------------------------ tracking

    def insert_tracking(self, tracking: Tracking) -> None:
        """Refused: the read model moves its position only with the rows and the chain state
        it verified (see `catch_up`), never on its own."""
        raise StoreError("the read model records its position together with its rows")

    def max_tracking_id(self, application_name: str) -> int | None:
        """The last notification the read model has applied."""
        with Session(self.engine) as session:
            row = session.get(TrackingRow, application_name)
            return None if row is None else row.notification_id

    def chain_state(self) -> ChainState:
        """The hash chain as verified up to the last notification applied."""
        return self._tracked_tables()[0]

    def _tracked_tables(self, read: tuple[CommitMark | None, tuple[Any, ...] | None] | None
                        = None) -> tuple[ChainState, TablesSeen]:
        """The chain state, and the tables it was read from (`TablesSeen`): from the mark and
        tracking row `read` just now (`CommitWatch.marked_first`), else read now.

        Rows decoded from tables made before (by another process's rebuild) are forgotten
        first: nothing asks for their ids again."""
        # On the watch's connection, through the driver: every question that finds
        # something committed reads it before answering (on PostgreSQL 0.23 ms through
        # SQLAlchemy, 0.09 so), in the same round trip as the mark there.
        seen, row = read if read is not None else self._watch.marked_first(self._tracked)
        generation = None if row is None else row[0]
        if generation != self._generation:
            self.cache.clear()
            self._generation = generation
        chain = ChainState() if row is None or row[1] is None else ChainState(*row[1:])
        return chain, TablesSeen(seen, generation)

    @contextmanager
    def same_tables(self, found: TablesSeen) -> Iterator[None]:
        """A block that reads the read model in several statements, as a question does after
        the catch-up that `found` the tables current: RowsMoved when, by its end, they were
        made again (a rebuild, perhaps still filling them), whatever it read meanwhile.

        An error inside it that says the database was busy with another transaction (on
        PostgreSQL a rebuild's DROP meets a question's reads in a deadlock) is RowsMoved too.

        A block during which nothing was committed since the catch-up read the tables costs
        one look at the commit mark (`CommitWatch.version`); otherwise the generation is
        read again at its end."""
        try:
            yield
        except Exception as error:
            if self._remade_since(found):
                raise RowsMoved(_REMADE) from error
            reason = busy_reason(error)
            if reason is not None:
                # On PostgreSQL a statement reading several tables while a rebuild drops
                # them meets it in a deadlock, before the new tables are committed.
                raise RowsMoved(f"this question met {reason} while it read the read model "
                                "(another process may be rebuilding it); nothing was "
                                "answered: ask again") from error
            raise
        if self._remade_since(found):
            raise RowsMoved(_REMADE)

    def _remade_since(self, found: TablesSeen) -> bool:
        """Whether the tables were made again since a catch-up `found` them."""
        mark, row = self._watch.marked_first(GENERATION_NOW, unless=found.version)
        if found.version is not None and mark == found.version:
            return False
        return (None if row is None else str(row[0])) != found.generation

    @staticmethod
    def tracked(session: Session) -> ChainState:
        """How far the read model has applied the log, as seen in this session's transaction."""
        row = session.get(TrackingRow, APPLICATION_NAME)
        return ChainState() if row is None else row.chain()

    def _track(self, session: Session, chain: ChainState, start: ChainState) -> None:
        """Move the tracking position to `chain`, from `start`, where this transaction's rows
        were applied from: AlreadyApplied when the position is not there any more (another
        catch-up applied them first, or another process made the tables again, empty, whose
        position this one would otherwise claim with its rows alone)."""
        row = session.get(TrackingRow, APPLICATION_NAME, with_for_update=True,
                          populate_existing=True)
        at = (0, 0) if row is None else (row.notification_id, row.chain_events)
        if at != (start.notification_id, start.events):
            raise AlreadyApplied(
                f"notifications after {start.notification_id} were to be applied, but the "
                f"read model stands at {at[0]} (another catch-up applied them, or the tables "
                "were made again)")
        values = {"notification_id": chain.notification_id, "chain_events": chain.events,
                  "chain_link": chain.link, "chain_heads": chain.heads,
                  "chain_head_events": chain.head_events, "chain_head_link": chain.head_link,
                  "chain_signed_from": chain.signed_from}
        if row is None:
            session.add(TrackingRow(application_name=APPLICATION_NAME, **values))
        else:
            for name, value in values.items():
                setattr(row, name, value)

    # ------------------------------------------------------------ projecting

    def catch_up(self, store: EventStore, batch: int = 5000,
                 progress: CatchUpProgress | None = None) -> int:
        """Apply every append after the tracking position; return how many events.

        Each transaction takes whole appends (an import is atomic, so a part of one is not a
        state that ever was), about `batch` events, streamed from the log and checked against
        the hash chain from where the last check ended: a broken chain raises TamperDetected
        and the transaction rolls back, so nothing of it is applied. An import larger than
        `batch` is still one transaction, but its rows are read, checked and written a chunk
        at a time, and each subject it touches is folded again once, so memory does not grow
        with the import. Another process applying the same appends first is not an error,
        nor one making the tables again: a transaction moves the position only from where
        it was read (`_track`), else the catch-up reads it again.
        One that applied at least `analyze_after` events has PostgreSQL sample the tables
        again (`tables.refresh_statistics`). The first catch-up of at least
        `defer_indexes_from` events into tables that hold none (a new store's, or a
        rebuild's) leaves the answer indexes out (`tables.defer_answer_indexes`). Once caught
        up on tables this process has not seen indexed, a catch-up makes any missing,
        whoever's catch-up left them out and however it ended
        (`tables.make_answer_indexes`).
        """
        return self.caught_up(store, batch, progress).applied

    def caught_up(self, store: EventStore, batch: int = 5000,
                  progress: CatchUpProgress | None = None) -> CaughtUp:
        """Catch up (`catch_up`) and tell how many events that applied and the chain state the
        read model then stands at (whose `events` say whether the log holds any, without
        counting it)."""
        # The mark is read before anything else, so that a commit during this catch-up moves
        # it from what is kept below: the next question then checks the log again.
        quiet = self._quiet
        seen, row = self._watch.marked_first(self._tracked,
                                             unless=None if quiet is None else quiet[0])
        if seen is not None and quiet is not None and quiet[0] == seen:
            # Nothing committed to the database since a catch-up that found nothing new:
            # the tracking row, the log and the row it names are as that catch-up read them.
            return CaughtUp(0, quiet[1], quiet[2])
        read: tuple[CommitMark | None, tuple[Any, ...] | None] | None = (seen, row)
        done, aborted = 0, 0
        report = _Report(progress)
        deferring = True
        while True:
            # The first turn uses the tracking row read with the mark.
            chain, tables = self._tracked_tables(read)
            read = None
            if deferring and chain.events == 0:
                deferring = False
                self._defer_indexes(store)
            if progress is not None and report.total is None:
                report.total = max(store.count() - chain.events, 0)
            rows = store.verified_rows(chain, page=batch)
            # Most questions find nothing new: that is known (and the row the position names
            # found still there) before any transaction of the read model's is begun.
            first = next(rows, None)
            try:
                with self._forgetting_if_rolled_back():
                    applied = 0 if first is None else self._apply_stream(
                        itertools.chain((first,), rows), chain, batch, report.at(done))
            except (AlreadyApplied, IntegrityError, self._driver_integrity):
                # Another catch-up got there first: read its position again. (Rows written
                # by COPY meet it as the driver's own error, not SQLAlchemy's.)
                continue
            except Exception as error:
                # On PostgreSQL a catch-up writing while a rebuild drops the tables meets it
                # in a deadlock, and one of the two is aborted: read the position again.
                if not aborted_for_another(error) or aborted >= ABORTS_RETRIED:
                    raise
                aborted += 1
                continue
            if applied == 0:
                if tables.generation != self._indexed:
                    # Caught up: tables a first catch-up left without them are full,
                    # whoever applied their last rows.
                    make_answer_indexes(self.engine)
                    if chain.events:
                        # Tables that hold events are never deferred again: this process
                        # need not look at them again until they are made anew.
                        self._indexed = tables.generation
                if done >= self.analyze_after:
                    refresh_statistics(self.engine)
                self.cache.families.stand_at(chain.notification_id)
                if seen is not None and done == 0:
                    self._quiet = (seen, chain, tables)
                return CaughtUp(done, chain, tables)
            done += applied
            report.committed(done)

    def _defer_indexes(self, store: EventStore) -> None:
        """Before a first catch-up of at least `defer_indexes_from` events into tables that
        hold none (a new store after a large import), drop the answer indexes, which its end
        makes (`tables.defer_answer_indexes`). Another process busy with the same tables
        leaves them as they are: this is only a saving."""
        if store.count() < self.defer_indexes_from:
            return
        try:
            defer_answer_indexes(self.engine)
        except Exception as error:
            if busy_reason(error) is None and not aborted_for_another(error):
                raise

    # Paused one transaction at a time: the cycles transactions leave are collected every
    # few of them (`SWEEP_EVERY`), so memory stays bounded over a whole rebuild.
    @paused_collector()
    def _apply_stream(self, rows: Iterable[tuple[int, TimelineEntry | None, ChainState]],
                      chain: ChainState, batch: int, report: _Step) -> int:
        """One transaction: whole appends of the rows after `chain` (`verified_rows`), about
        `batch` events; return how many events (0: none).

        Appends are read and checked before anything is applied, as long as they fit in
        `batch` events, so a broken chain costs only the reading. An append recorded at one
        instant that does not fit is applied as it is read, alone in its transaction: its
        subjects are folded only once its last head vouched for it."""
        with Session(self.engine) as session, session.begin():
            applying = _Applying(self, session, report,
                                 _Sampling(held=chain.events, first=self.analyze_after))
            held: list[tuple[int, TimelineEntry]] = []  # read and checked, not applied yet
            streaming = False
            written, vouched, vouched_state = 0, 0, chain
            instant: datetime | None = None
            before_instant: tuple[int, ChainState] = (0, chain)
            for seq, entry, after in rows:
                if entry is None:
                    # A head closes an append: what it vouches for can be applied.
                    vouched, vouched_state = written, after
                    continue
                if instant is not None and entry.recorded_at != instant:
                    if vouched >= batch and vouched == written:
                        break  # the next instant goes in the next transaction
                    before_instant = (vouched, vouched_state)
                instant = entry.recorded_at
                written += 1
                report.streamed(written)
                if streaming:
                    applying.add(seq, entry)
                    continue
                held.append((seq, entry))
                if len(held) <= batch:
                    continue
                done_before, state_before = before_instant
                if done_before:
                    # Earlier appends first, alone: the large one starts the next transaction.
                    applying.add_all(held[:done_before])
                    applying.finish()
                    self._track(session, state_before, chain)
                    return done_before
                streaming = True
                applying.add_all(held)
                held = []
            if vouched == 0:
                return 0
            applying.add_all(held[:vouched])
            applying.finish()
            self._track(session, vouched_state, chain)
        return vouched

    @contextmanager
    def _forgetting_if_rolled_back(self) -> Iterator[None]:
        """A transaction of the read model's that fails forgets what it decoded: its rows
        went with it, and their ids will be given again."""
        try:
            yield
        except BaseException:
            self.cache.clear()
            raise

    def subject_logs(self, session: Session,
                      subjects: Sequence[str]) -> dict[str, list[Recorded]]:
        """For each subject, every event that is or ever was about it, with all corrections
        (the rows of the ids `family_ids` gives it: those events and every row correcting or
        retracting one).

        Read in one statement, by the subject indexes: a row's target subject is the subject
        of its target's own row (`_Group.add`), so the rows about the subjects and those
        whose target was about one of them hold every family but those of the targets
        corrected into them from elsewhere, which are read by id. Reading every family by id
        took a stacking rule's 4,000 ids, twice over, into the statements' IN lists."""
        wanted = set(subjects)
        columns = (EventRow.seq, EventRow.recorded_us, EventRow.payload, EventRow.event_id,
                   EventRow.subject, EventRow.target_id, EventRow.target_subject)
        rows: dict[int, _SubjectRow] = {}
        for start in range(0, len(subjects), 500):
            part = subjects[start:start + 500]
            rows.update((row[0], row) for row in session.execute(select(*columns).where(
                or_(EventRow.subject.in_(part), EventRow.target_subject.in_(part)))))
        ids = families_in(((row[3], row[4], row[5], row[6]) for row in rows.values()),
                          subjects)
        elsewhere = sorted({row[5] for row in rows.values()
                            if row[5] is not None and row[6] not in wanted})
        for start in range(0, len(elsewhere), 500):
            part = elsewhere[start:start + 500]
            rows.update((row[0], row) for row in session.execute(select(*columns).where(
                or_(EventRow.event_id.in_(part), EventRow.target_id.in_(part)))))
        # Rows by the event they are (or correct): each subject then takes its families'.
        by_event: dict[str, list[tuple[int, int, str]]] = {}
        for seq, at, payload, event_id, _, target_id, _ in rows.values():
            for key in {event_id, target_id} - {None}:
                by_event.setdefault(cast(str, key), []).append((seq, at, payload))
        logs: dict[str, list[Recorded]] = {}
        for subject, family in ids.items():
            chosen = sorted({row for event_id in family for row in by_event.get(event_id, ())})
            logs[subject] = [
                Recorded(seq, from_micros(at), self.cache.events.get(seq, payload, EVENT_ADAPTER))
                for seq, at, payload in chosen]
        return logs

    def _refold(self, session: Session, subjects: Sequence[str], recorded: int,
                since: int | None = None) -> None:
        """Fold the subjects again and bring their open versions in line, in bulk.

        A version's state is compared by a digest of its text, and new versions are written
        whenever their texts add up to VERSION_FLUSH characters: the versions of a stacking
        rule or an HTS chapter with a long history are each hundreds of KB, and together
        (one rule's: 1.2 GB at a million events) more than a process should hold at once.

        `since`: the first log position of the events being applied. A subject of a kind in
        `versions.CONTINUED` whose events from there on are all known after the rest, and
        correct nothing, is continued from its last version (`_continued`); any other of
        those kinds but a chapter is folded again from the version before the first known
        instant the events change (`_resumed`)."""
        # Subjects whose new events correct nothing and are all known after the others
        # (as corrected) need only those new events read (`_only_later`).
        later = self._only_later(session, subjects, since)
        logs = self.subject_logs(session, [s for s in subjects if s not in later])
        resumable = [s for s in subjects if s not in later and since is not None
                     and s.split(":", 1)[0] in RESUMED]
        # A version is the same only with the same place in the fold's order too: an event
        # about the subject known earlier moves that place without changing the state.
        existing: dict[str, dict[_VersionKey, tuple[int, int]]] = {s: {} for s in subjects}
        # A continued or resumed subject keeps its versions before the one it goes on from
        # whatever their states: only the states from there on are read (a long-lived
        # rule's are 140 MB at 1M events).
        self._existing(session, [s for s in subjects if s not in later and s not in resumable],
                       existing, True)
        self._existing(session, [*later, *resumable], existing, False)
        resumed = self._resumed(session, logs, resumable, existing, cast(int, since))
        self._existing(session, [s for s in resumable if s not in resumed], existing, True)
        open_pieces: dict[str, dict[tuple[int, int, int, int, str], tuple[int, int]]] = {
            s: {} for s in subjects}
        measures = [s for s in subjects if s.startswith("measure:")]
        for start in range(0, len(measures), 500):
            for subject, pid, ef, eu, kf, ku, st, rf in session.execute(select(
                    PieceRow.subject, PieceRow.id, PieceRow.eff_from, PieceRow.eff_until,
                    PieceRow.known_from, PieceRow.known_until, PieceRow.state,
                    PieceRow.rec_from).where(PieceRow.subject.in_(measures[start:start + 500]),
                                               PieceRow.rec_until == FOREVER)):
                open_pieces[subject][(ef, eu, kf, ku, st)] = (pid, rf)
        continued = self._continued(session, logs, later, existing, since)
        # Those not continued after all are folded whole, and compared with every state.
        self._existing(session, [s for s in later if s not in continued], existing, True)
        never_seen: list[int] = []
        closed: list[int] = []
        new = _NewVersions(session, recorded)
        pieces_gone: list[int] = []
        pieces_closed: list[int] = []
        new_pieces: list[tuple[str, PieceSpan, str]] = []
        new_statuses: dict[str, list[StatusSpan]] = {}
        for subject in subjects:
            wanted: Iterable[SubjectVersion]
            pieces: list[PieceSpan]
            statuses: list[StatusSpan]
            keep: set[_VersionKey] = set()
            if subject in continued:
                # The versions before the last one stay as they are.
                wanted, pieces, statuses = continued[subject], [], []
                keep = {key for key in existing[subject] if key[1] != FOREVER}
            elif subject in resumed:
                # The versions before the one it goes on from stay as they are.
                changed, wanted = resumed[subject]
                pieces, statuses = [], []
                keep = {key for key in existing[subject] if key[1] < changed}
            else:
                entries = [e for e in corrected_log(logs.pop(subject))
                           if subject_key(e.event) == subject]
                wanted, pieces, statuses = subject_rows(entries, subject)
            if subject.startswith("measure:"):
                new_statuses[subject] = statuses
            texts = [PIECE_ADAPTER.dump_json(p.piece).decode() for p in pieces]
            keep_pieces = {(p.eff_from, p.eff_until, p.known_from, p.known_until, text)
                           for p, text in zip(pieces, texts, strict=True)}
            for piece_key, (pid, rf) in open_pieces[subject].items():
                if piece_key not in keep_pieces:
                    (pieces_gone if rf == recorded else pieces_closed).append(pid)
            new_pieces += [(subject, p, text) for p, text in zip(pieces, texts, strict=True)
                           if (p.eff_from, p.eff_until, p.known_from, p.known_until, text)
                           not in open_pieces[subject]]
            chapter: list[SubjectVersion] | None = (
                [] if subject.startswith("chapter:") else None)
            for v in wanted:
                key = (v.known_from, v.known_until, _digest(v.text), v.first_known,
                       v.first_seq)
                keep.add(key)
                if key not in existing[subject]:
                    new.add(subject, v)
                if chapter is not None:
                    chapter.append(v)
            for key, (vid, rf) in existing[subject].items():
                if key not in keep:
                    # Superseded within the instant it was recorded: never visible to any
                    # query, so it goes; otherwise it stays, closed at this recorded time.
                    (never_seen if rf == recorded else closed).append(vid)
            if chapter is not None:
                # One chapter at a time: each holds its lines under every version.
                write_chapters(session, {subject: chapter}, recorded,
                               continued=subject in continued)
        for start in range(0, len(never_seen), 500):
            chunk = never_seen[start:start + 500]
            for keys in _VERSION_KEYS:
                session.execute(delete(keys).where(keys.version_id.in_(chunk)))
            session.execute(delete(VersionRow).where(VersionRow.id.in_(chunk)))
        for start in range(0, len(closed), 500):
            chunk = closed[start:start + 500]
            session.execute(update(VersionRow).where(VersionRow.id.in_(chunk))
                            .values(rec_until=recorded))
            for keys in _VERSION_KEYS:
                session.execute(update(keys).where(keys.version_id.in_(chunk))
                                .values(rec_until=recorded))
        self._write_pieces(session, pieces_gone, pieces_closed, new_pieces, recorded)
        self._write_statuses(session, new_statuses, recorded)
        new.flush()

    @staticmethod
    def _existing(session: Session, subjects: Sequence[str],
                  existing: dict[str, dict[_VersionKey, tuple[int, int]]],
                  every_state: bool) -> None:
        """The subjects' open versions by key (`_VersionKey`) into `existing`, with each
        one's id and recorded start; without `every_state`, the digest of the last one's
        state only (the others' b"")."""
        state = VersionRow.state if every_state else case(
            (VersionRow.known_until == FOREVER, VersionRow.state), else_=null())
        for start in range(0, len(subjects), 500):
            part = subjects[start:start + 500]
            for subject in part:
                existing[subject] = {}
            # Streamed row by row: only each state's digest is kept. The option is the
            # statement's: on the connection it would make every later statement of the
            # transaction use a server-side cursor, which psycopg refuses for executemany.
            for subject, vid, kf, ku, st, rf, fk, fs in session.execute(select(
                    VersionRow.subject, VersionRow.id, VersionRow.known_from,
                    VersionRow.known_until, state, VersionRow.rec_from,
                    VersionRow.first_known, VersionRow.first_seq).where(
                    VersionRow.subject.in_(part),
                    VersionRow.rec_until == FOREVER).execution_options(yield_per=100)):
                existing[subject][(kf, ku, b"" if st is None else _digest(st), fk, fs)] = (
                    vid, rf)

    def _only_later(self, session: Session, subjects: Sequence[str],
                    since: int | None) -> dict[str, list[Recorded]]:
        """Of the subjects of a kind in CONTINUED that no correction or retraction from log
        position `since` on touches, those whose events from there on are all known after
        every earlier one (as corrected, see `known_spans`): each with those later events
        alone (its whole history is not read)."""
        candidates = [s for s in subjects if s.split(":", 1)[0] in CONTINUED]
        if since is None or not candidates:
            return {}
        chosen = [subject for subject, (before, after) in known_spans(
                      session, candidates, since).items()
                  if before is not None and after is not None and after > before]
        later: dict[str, list[Recorded]] = {subject: [] for subject in chosen}
        for start in range(0, len(chosen), 500):
            for seq, subject, at, payload in session.execute(select(
                    EventRow.seq, EventRow.subject, EventRow.recorded_us, EventRow.payload)
                    .where(EventRow.subject.in_(chosen[start:start + 500]),
                           EventRow.seq >= since).order_by(EventRow.seq)):
                later[cast(str, subject)].append(Recorded(
                    seq, from_micros(at), self.cache.events.get(seq, payload, EVENT_ADAPTER)))
        return later

    def _resumed(self, session: Session, logs: dict[str, list[Recorded]],
                 subjects: Sequence[str],
                 existing: dict[str, dict[_VersionKey, tuple[int, int]]],
                 since: int) -> dict[str, tuple[int, list[SubjectVersion]]]:
        """The subjects whose versions are folded again only from the first known instant
        the events from log position `since` on change, each with that instant and its
        versions from the one before it on (`versions.versions_after` from that version).

        The fold of a subject's entries in known order gives, at each known instant, the
        state of those known by then: where its entries before and after the new events
        agree up to an instant, so do its versions. A correction of a stacking rule's last
        change made all of its 2,607 versions again at 1M events (2.2 s). A subject goes
        the whole way (not returned) when its first entry changes, or no version holds the
        state just before the instant. Its `existing` keys from the instant on get their
        states' digests, so that a version folded again the same is kept."""
        found: dict[str, tuple[int, list[SubjectVersion]]] = {}
        for subject in subjects:
            if not existing[subject]:
                continue  # new: nothing to go on from (a large import's catch-up)
            log = logs[subject]
            now = known_order(e for e in corrected_log(log) if subject_key(e.event) == subject)
            was = known_order(e for e in corrected_log(r for r in log if r.seq < since)
                              if subject_key(e.event) == subject)
            changed = first_change(was, now)
            if changed is None:
                continue
            base = [(key, vid) for key, (vid, _) in existing[subject].items()
                    if key[0] < changed <= key[1]]
            if len(base) != 1 or base[0][0][3:] != (fold_key(now[0].event.known), now[0].seq):
                continue
            (known_from, known_until, _, first_known, first_seq), base_id = base[0]
            redone = {vid: key for key, (vid, _) in existing[subject].items()
                      if key[1] >= changed}
            texts = _version_texts(session, list(redone))
            for vid, key in redone.items():
                rf = existing[subject].pop(key)[1]
                existing[subject][(*key[:2], _digest(texts[vid]), *key[3:])] = (vid, rf)
            state = self.cache.states.get(base_id, texts[base_id],
                                          STATE_ADAPTERS[subject.split(":", 1)[0]])
            version = SubjectVersion(known_from, known_until, texts[base_id], state,
                                     first_known, first_seq)
            tail = [e for e in now if fold_key(e.event.known) >= changed]
            found[subject] = (changed, versions_after(version, tail, subject) if tail else
                              [replace(version, known_until=FOREVER)])
            del logs[subject]
        return found

    def _continued(self, session: Session, logs: dict[str, list[Recorded]],
                   later_only: dict[str, list[Recorded]],
                   existing: dict[str, dict[_VersionKey, tuple[int, int]]],
                   since: int | None) -> dict[str, list[SubjectVersion]]:
        """The subjects whose new events (from log position `since` on) only continue their
        history, each with its versions from its last one on (`versions.versions_after`):
        of a kind in CONTINUED, with one open last version, none of the new events a
        correction or retraction, and all of them known after every earlier one. Those in
        `later_only` (`_only_later`) are known to be so; the others are told from their
        whole logs (`logs`). One of `later_only` without one open last version has its whole
        log read into `logs` here, to be folded whole."""
        if since is None:
            return {}
        found: dict[str, tuple[int, _VersionKey, list[Corrected]]] = {}
        for subject, events in later_only.items():
            last = [key for key in existing[subject] if key[1] == FOREVER]
            if len(last) == 1:
                found[subject] = (existing[subject][last[0]][0], last[0], corrected_log(events))
        logs.update(self.subject_logs(session, [s for s in later_only if s not in found]))
        for subject, log in logs.items():
            if subject in later_only:
                continue
            if subject.split(":", 1)[0] not in CONTINUED or any(
                    r.seq >= since and isinstance(r.event, EventCorrected | EventRetracted)
                    for r in log):
                continue
            entries = [e for e in corrected_log(log) if subject_key(e.event) == subject]
            old = [fold_key(e.event.known) for e in entries if e.seq < since]
            later = [e for e in entries if e.seq >= since]
            last = [key for key in existing[subject] if key[1] == FOREVER]
            if old and later and len(last) == 1 and min(
                    fold_key(e.event.known) for e in later) > max(old):
                found[subject] = (existing[subject][last[0]][0], last[0], later)
        texts = _version_texts(session, [vid for vid, _, _ in found.values()])
        out: dict[str, list[SubjectVersion]] = {}
        for subject, (vid, key, later) in found.items():
            known_from, known_until, _, first_known, first_seq = key
            state = self.cache.states.get(vid, texts[vid],
                                          STATE_ADAPTERS[subject.split(":", 1)[0]])
            out[subject] = versions_after(SubjectVersion(
                known_from, known_until, texts[vid], state, first_known, first_seq), later,
                subject)
        return out

    @staticmethod
    def _write_pieces(session: Session, gone: list[int], closed: list[int],
                      new: list[tuple[str, PieceSpan, str]], recorded: int) -> None:
        """Remove pieces never visible, close superseded ones, insert new ones with keys."""
        for start in range(0, len(gone), 500):
            chunk = gone[start:start + 500]
            session.execute(delete(PieceOriginRow).where(PieceOriginRow.piece_id.in_(chunk)))
            session.execute(delete(PieceProductRow).where(PieceProductRow.piece_id.in_(chunk)))
            session.execute(delete(PieceRow).where(PieceRow.id.in_(chunk)))
        for start in range(0, len(closed), 500):
            chunk = closed[start:start + 500]
            session.execute(update(PieceRow).where(PieceRow.id.in_(chunk))
                            .values(rec_until=recorded))
            for keys in (PieceOriginRow, PieceProductRow):
                session.execute(update(keys).where(keys.piece_id.in_(chunk))
                                .values(rec_until=recorded))
        if not new:
            return
        ids = give_ids(session, PieceRow, len(new))
        _insert_tuples(session, PieceRow, _PIECE_COLUMNS, [
            (pid, subject, p.eff_from, p.eff_until, p.known_from, p.known_until, recorded,
             FOREVER, text)
            for pid, (subject, p, text) in zip(ids, new, strict=True)])
        origin_rows: list[tuple[int, int, int, int, int, int, str]] = []
        product_rows: list[tuple[int, int, int, int, int, int, str]] = []
        for piece_id, (_, row, _) in zip(ids, new, strict=True):
            origins, products = piece_keys(row.piece)
            span = (piece_id, row.eff_from, row.eff_until, row.known_from, row.known_until,
                    FOREVER)
            origin_rows += [(*span, o) for o in origins]
            product_rows += [(*span, p) for p in products]
        _insert_tuples(session, PieceOriginRow, (*_PIECE_KEY_COLUMNS, "origin"), origin_rows)
        _insert_tuples(session, PieceProductRow, (*_PIECE_KEY_COLUMNS, "product"),
                       product_rows)

    @staticmethod
    def _write_statuses(session: Session, statuses: dict[str, list[StatusSpan]],
                        recorded: int) -> None:
        """Bring the measures' open status rows in line with their statuses folded again:
        remove rows never visible, close superseded ones, insert new ones."""
        measures = list(statuses)
        opened: dict[str, dict[tuple[int, int, int, int, str, str], tuple[int, int]]] = {}
        for start in range(0, len(measures), 500):
            for subject, sid, ef, eu, kf, ku, status, by, rf in session.execute(select(
                    StatusRow.subject, StatusRow.id, StatusRow.eff_from, StatusRow.eff_until,
                    StatusRow.known_from, StatusRow.known_until, StatusRow.status,
                    StatusRow.bounded_by, StatusRow.rec_from).where(
                        StatusRow.subject.in_(measures[start:start + 500]),
                        StatusRow.rec_until == FOREVER)):
                opened.setdefault(subject, {})[(ef, eu, kf, ku, status, by)] = (sid, rf)
        gone: list[int] = []
        closed: list[int] = []
        new: list[tuple[str, str, int, int, int, int, str]] = []
        for subject, spans in statuses.items():
            keep = {(s.eff_from, s.eff_until, s.known_from, s.known_until, s.status,
                     json.dumps(s.bounded_by)): s for s in spans}
            was = opened.get(subject, {})
            for key, (sid, rf) in was.items():
                if key not in keep:
                    (gone if rf == recorded else closed).append(sid)
            new += [(subject, key[4], *key[:4], key[5]) for key in keep if key not in was]
        for start in range(0, len(gone), 500):
            session.execute(delete(StatusRow).where(StatusRow.id.in_(gone[start:start + 500])))
        for start in range(0, len(closed), 500):
            session.execute(update(StatusRow).where(StatusRow.id.in_(closed[start:start + 500]))
                            .values(rec_until=recorded))
        if new:
            ids = give_ids(session, StatusRow, len(new))
            _insert_tuples(session, StatusRow, _STATUS_COLUMNS,
                           [(i, *row, recorded, FOREVER) for i, row in zip(ids, new, strict=True)])

    def rebuild(self, store: EventStore, progress: CatchUpProgress | None = None) -> int:
        """Drop every row and project the whole log again; return how many events.

        The catch-up that follows is a first catch-up into tables that hold no event: of a
        log of at least `defer_indexes_from` events, it makes the `ANSWER_INDEXES` once it
        has applied the whole log (`caught_up`). On PostgreSQL, dropping the tables waits for the
        transactions reading them (an append's check holds its tables until it ends) and may
        meet them in a deadlock, which the store's patience retries."""
        store.patience.run(lambda: create_tables(self.engine),
                           "make the read model's tables again")
        self.cache.clear()
        return self.catch_up(store, progress=progress)


def known_spans(session: Session, subjects: Sequence[str],
                since: int) -> dict[str, tuple[int | None, int | None]]:
    """Of these subjects, each that no correction or retraction from log position `since` on
    touches, with an upper bound of the latest instant (a `fold_key`) one of its events
    before `since` became known, as corrected, and the earliest one from `since` on (None
    where it has no event there).

    Read from the events' known instants and positions, and the payloads of corrections
    alone (a replacement's known instant is not a column). The bound takes every event that
    ever was about a subject, the retracted and the corrected too, and every replacement
    about it: more than the corrected log holds, never less, so a subject is taken for
    continued only when it is. A correction from `since` on touches a subject when it names
    it (as the replacement's or the target's first subject) or corrects or retracts an event
    some earlier correction made about it (or away from it)."""
    spans: dict[str, list[int | None]] = {}
    touched: set[str] = set()
    # The events each subject's corrections before `since` moved in or out: a correction
    # of one of them from `since` on may move it again, naming neither subject.
    moved: dict[str, set[str]] = {}
    wanted = set(subjects)
    corrections = case((EventRow.target_id.is_not(None), EventRow.payload), else_=null())
    for start in range(0, len(subjects), 500):
        part = subjects[start:start + 500]
        for subject, target_subject, target_id, seq, known, payload in session.execute(select(
                EventRow.subject, EventRow.target_subject, EventRow.target_id,
                EventRow.seq, EventRow.known_us, corrections).where(or_(
                EventRow.subject.in_(part), EventRow.target_subject.in_(part)))):
            if target_id is None:
                if subject is not None:
                    _span(spans, subject, seq < since, known)
                continue
            named = {key for key in (subject, target_subject) if key in wanted}
            if seq >= since:
                touched |= named
                continue
            for key in named:
                moved.setdefault(key, set()).add(target_id)
            event = EVENT_ADAPTER.validate_json(payload)
            if subject in wanted and isinstance(event, EventCorrected):
                _span(spans, subject, True, fold_key(event.replacement.known))
    targets = sorted(set().union(*moved.values()))
    later: set[str] = set()
    for start in range(0, len(targets), 500):
        later.update(session.scalars(select(EventRow.target_id).where(
            EventRow.target_id.in_(targets[start:start + 500]), EventRow.seq >= since)))
    touched.update(subject for subject, ids in moved.items() if ids & later)
    return {subject: (before, after) for subject, (before, after) in spans.items()
            if subject not in touched}


def _span(spans: dict[str, list[int | None]], subject: str, before: bool, known: int) -> None:
    """Widen a subject's span (see `known_spans`) by one known instant."""
    span = spans.setdefault(subject, [None, None])
    if before:
        span[0] = known if span[0] is None else max(span[0], known)
    else:
        span[1] = known if span[1] is None else min(span[1], known)


def _version_texts(session: Session, ids: Sequence[int]) -> dict[int, str]:
    """The stored states of these versions, by id."""
    texts: dict[int, str] = {}
    for start in range(0, len(ids), 500):
        for version_id, text in session.execute(select(VersionRow.id, VersionRow.state).where(
                VersionRow.id.in_(ids[start:start + 500]))):
            texts[version_id] = text
    return texts


VERSION_FLUSH = 8_000_000
"""Characters of new versions' states held before they are written."""

_VersionKey = tuple[int, int, bytes, int, int]
"""A version as compared with the open rows: its known interval, a digest of its state's text
and its place in the fold's order."""


def _digest(text: str) -> bytes:
    """A digest that stands for a state's text when versions are compared (a 128-bit
    BLAKE2b: two different states colliding is not a concern)."""
    return hashlib.blake2b(text.encode(), digest_size=16).digest()


class _NewVersions:
    """New versions of re-folded subjects, written with their keys whenever their states add
    up to VERSION_FLUSH characters, and at the end."""

    def __init__(self, session: Session, recorded: int) -> None:
        self.session = session
        self.recorded = recorded
        self.pending: list[tuple[str, SubjectVersion]] = []
        self.size = 0

    def add(self, subject: str, version: SubjectVersion) -> None:
        """A version to insert, open from this recorded time."""
        self.pending.append((subject, version))
        self.size += len(version.text)
        if self.size >= VERSION_FLUSH:
            self.flush()

    def flush(self) -> None:
        """Insert the versions held, and their origin and product keys."""
        new, self.pending, self.size = self.pending, [], 0
        if not new:
            return
        session, recorded = self.session, self.recorded
        ids = give_ids(session, VersionRow, len(new))
        kinds = [subject.split(":", 1)[0] for subject, _ in new]
        marks = [effective_marks(kind, v.state) for kind, (_, v) in zip(kinds, new, strict=True)]
        _insert_tuples(session, VersionRow, _VERSION_COLUMNS, [
            (vid, subject, kind, v.known_from, v.known_until, recorded, FOREVER,
             v.first_known, v.first_seq, v.text, None if found is None else json.dumps(found))
            for vid, (subject, v), kind, found in zip(ids, new, kinds, marks, strict=True)])
        origin_rows: list[tuple[int, int, int, int, str]] = []
        product_rows: list[tuple[int, int, int, int, str]] = []
        mark_rows: list[tuple[int, int, int, int, int]] = []
        for version_id, (_, version), kind, found in zip(ids, new, kinds, marks, strict=True):
            if kind == "measure":
                continue  # a measure is found through its pieces
            origins, products = version_keys(kind, version.state)
            ends = (version_id, version.known_from, version.known_until, FOREVER)
            origin_rows += [(*ends, o) for o in origins]
            product_rows += [(*ends, p) for p in products]
            mark_rows += [(*ends, mark) for mark in found or ()]
        _insert_tuples(session, OriginKeyRow, ("version_id", "known_from", "known_until",
                                               "rec_until", "origin"), origin_rows)
        _insert_tuples(session, ProductKeyRow, ("version_id", "known_from", "known_until",
                                                "rec_until", "product"), product_rows)
        _insert_tuples(session, MarkRow, ("version_id", "known_from", "known_until",
                                          "rec_until", "mark"), mark_rows)


_VERSION_COLUMNS = ("id", "subject", "kind", "known_from", "known_until", "rec_from",
                    "rec_until", "first_known", "first_seq", "state", "eff_marks")


_TRACKED = select(SchemaRow.generation, TrackingRow.notification_id, TrackingRow.chain_events,
                  TrackingRow.chain_link, TrackingRow.chain_heads, TrackingRow.chain_head_events,
                  TrackingRow.chain_head_link, TrackingRow.chain_signed_from).select_from(
    SchemaRow).outerjoin(TrackingRow, TrackingRow.application_name == APPLICATION_NAME)
"""The tables' generation, then the tracking row's chain state in `ChainState`'s order (all
None before the first catch-up), run as SQL text on the watch's connection."""


_TARGET_FAMILY = select(EventRow.event_id, EventRow.subject, EventRow.seq).where(or_(
    EventRow.event_id == bindparam("target"), EventRow.target_id == bindparam("target")))
"""The written rows of an event a correction or retraction names, and of those correcting it
(`target`: its id), built once: building and compiling it for each correction cost more than
running it (0.6 ms a correction in a rebuild)."""


ABORTS_RETRIED = 10
"""Transactions of one catch-up that PostgreSQL may abort for another's sake (a deadlock with
a rebuild dropping the tables) before the catch-up gives up and raises."""


_REMADE = ("the read model's tables were made again (another process rebuilt them) while this "
           "question read them; nothing was answered: ask again")


_VERSION_KEYS = (OriginKeyRow, ProductKeyRow, MarkRow)
"""The tables whose rows key a version (by origin, product and effective mark), each
carrying the version's known interval and recorded end."""


CITATION_COLUMNS = ("event_id", "revision", "seq", "position", "title", "url",
                    "instrument", "federal_register", "via", "rec_from", "rec_until")
"""The columns of a citation row as the writer holds it (a tuple: a hundred thousand of them
in a large import)."""


_PIECE_COLUMNS = ("id", "subject", "eff_from", "eff_until", "known_from", "known_until",
                  "rec_from", "rec_until", "state")
_PIECE_KEY_COLUMNS = ("piece_id", "eff_from", "eff_until", "known_from", "known_until",
                      "rec_until")
_STATUS_COLUMNS = ("id", "subject", "status", "eff_from", "eff_until", "known_from",
                   "known_until", "bounded_by", "rec_from", "rec_until")
_EVENT_COLUMNS = ("seq", "event_id", "subject", "target_id", "target_subject", "known_us",
                  "recorded_us", "payload")


def _insert_tuples(session: Session, table: type[Base], names: Sequence[str],
                   rows: list[tuple[Any, ...]]) -> None:
    """Insert rows (plain numbers and text), given as tuples of the columns `names`, in one
    executemany.

    Straight to the driver, and as tuples: SQLAlchemy's work per row (binding each dict to
    its compiled statement), and then turning dicts into tuples, cost more than the
    database's for the million key rows of a large import. The tables live in the
    connection's database and search path, as for every statement.

    On PostgreSQL, by COPY: psycopg's executemany sends each row as a statement of its own
    (pipelined), and spent about 15 µs a row on that, for the 1.5 million rows of a rebuild
    at 100k events."""
    if not rows:
        return
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        # The driver's own connection, in the session's transaction (psycopg: COPY is not a
        # DB-API call).
        driver: Any = connection.connection.dbapi_connection
        with driver.cursor() as cursor, cursor.copy(
                f"COPY {table.__tablename__} ({', '.join(names)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    statement = (f"INSERT INTO {table.__tablename__} ({', '.join(names)}) "
                 f"VALUES ({', '.join([mark] * len(names))})")
    connection.exec_driver_sql(statement, rows)


STREAM_SHARE = 0.25
"""The share of an event's cost in reading, checking and writing it; the rest is folding its
subjects again (for the progress bar only)."""


class _Step:
    """Progress inside one transaction: events streamed and subjects folded again, as a
    number of events on the bar, which reaches an append's end only when it commits."""

    def __init__(self, report: _Report, base: int) -> None:
        self.report = report
        self.base = base
        self.streamed_events = 0
        self.folded = 0.0

    def streamed(self, events: int) -> None:
        """`events` were read, checked and written in this transaction so far."""
        self.streamed_events = events
        self._show()

    def folding(self, group_start: int, group_size: int, share: float) -> None:
        """The subjects of the group that starts at `group_start` are `share` folded."""
        self.folded = (group_start + group_size * share) * (1 - STREAM_SHARE)
        self._show()

    def _show(self) -> None:
        if self.streamed_events and self.report.progress is not None:
            value = self.base + int(self.streamed_events * STREAM_SHARE + self.folded)
            # Not the whole transaction until it commits: a part of it was never a state.
            self.report.show(min(value, self.base + self.streamed_events - 1))


class _Report:
    """Hands (events applied, events to apply) to a progress callback, only when it rises."""

    def __init__(self, progress: CatchUpProgress | None) -> None:
        self.progress = progress
        self.total: int | None = None
        self.last = 0

    def at(self, done: int) -> _Step:
        """Progress of the next transaction, after `done` events committed."""
        return _Step(self, done)

    def show(self, done: int) -> None:
        """Report `done` events if that is further than before."""
        if self.progress is None or done <= self.last:
            return
        self.last = done
        self.total = max(self.total or 0, done)
        self.progress(done, self.total)

    def committed(self, done: int) -> None:
        """A transaction committed: `done` events are applied."""
        self.show(done)


class _Sampling:
    """When a long transaction has PostgreSQL sample the tables it fills: once they hold
    `first` event rows, and again each time that doubles. psycopg prepares a statement run
    often, and PostgreSQL then keeps one plan for it, made while the tables were small and
    unsampled: a rebuild at 100k events walked the whole primary key for each correction it
    applied (9 ms each, 19 of its 66 s)."""

    def __init__(self, held: int, first: int) -> None:
        self.rows = held
        self.next = max(first, 2 * held)

    def written(self, conn: Connection, rows: int) -> None:
        """`rows` more event rows were written in the transaction on `conn`."""
        self.rows += rows
        if self.rows >= self.next:
            refresh_statistics(conn)
            self.next = 2 * self.rows


class _Applying:
    """Events fed in log order within one transaction, applied a recorded instant (a group)
    at a time."""

    def __init__(self, writer: ReadModelWriter, session: Session, report: _Step,
                 sampling: _Sampling) -> None:
        self.writer = writer
        self.session = session
        self.report = report
        self.sampling = sampling
        self.group: _Group | None = None
        self.count = 0

    def add(self, seq: int, entry: TimelineEntry) -> None:
        """Take the next event; the group before it is finished when its instant ends."""
        if self.group is not None and entry.recorded_at != self.group.recorded_at:
            self.group.finish(self.report)
            self.group = None
        if self.group is None:
            self.group = _Group(self.writer, self.session, entry.recorded_at, self.count,
                                self.sampling)
        self.group.add(seq, entry)
        self.count += 1

    def add_all(self, entries: Iterable[tuple[int, TimelineEntry]]) -> None:
        """Take events in order."""
        for seq, entry in entries:
            self.add(seq, entry)

    def finish(self) -> None:
        """Finish the last group."""
        if self.group is not None:
            self.group.finish(self.report)
            self.group = None


class _Group:
    """The events recorded at one instant (one import), being applied in a transaction: their
    rows are written a chunk at a time, and the subjects they touch are folded again once,
    when the group ends, from the rows in the database (so no chunk is held past its
    writing)."""

    def __init__(self, writer: ReadModelWriter, session: Session, recorded_at: datetime,
                 start: int, sampling: _Sampling) -> None:
        self.writer = writer
        self.session = session
        self.sampling = sampling
        self.recorded_at = recorded_at
        self.recorded = micros(recorded_at)
        self.start = start
        self.first_seq: int | None = None  # the group's first log position
        self.size = 0
        self.affected: dict[str, None] = {}
        self.rows: list[tuple[Any, ...]] = []  # in _EVENT_COLUMNS' order
        self.origin_rows: list[tuple[int, str]] = []
        self.product_rows: list[tuple[int, str]] = []
        self.name_rows: list[tuple[int, str]] = []
        # Within the chunk not written yet: each event's subject, and the subjects its rows
        # give each event (a later correction in the group must fold them all again); once
        # written, the database answers both.
        self.subjects_of: dict[str, str | None] = {}
        self.in_chunk: dict[str, list[str]] = {}
        # Citations not written yet: a world event's by its id (a later correction in the
        # chunk replaces them, a retraction drops them), and the revisions' own; and the
        # world events whose written citations a correction or retraction closes.
        self.seq_of: dict[str, int] = {}
        self.cites: dict[str, list[tuple[Any, ...]]] = {}
        self.own_cites: list[tuple[Any, ...]] = []
        self.closing: set[str] = set()

    def add(self, seq: int, entry: TimelineEntry) -> None:
        """Take one event of the group: its row, and the subjects it makes fold again."""
        session, affected = self.session, self.affected
        if self.first_seq is None:
            self.first_seq = seq
        event = entry.event
        subject = subject_key(event)
        target_id: str | None = None
        target_subject: str | None = None
        if isinstance(event, EventCorrected | EventRetracted):
            target_id = event.corrects if isinstance(event, EventCorrected) else event.retracts
            # The target's written rows and its corrections', by the two id indexes. Its
            # first row is picked here, not by ORDER BY seq LIMIT 1: PostgreSQL, without
            # statistics for tables a rebuild is filling, walked the primary key for that
            # (9 ms a correction at 100k events, a third of a catch-up).
            family = session.connection().execute(_TARGET_FAMILY, {"target": target_id}).all()
            target_seq: int | None
            if target_id in self.subjects_of:
                target_subject = self.subjects_of[target_id]
                target_seq = self.seq_of.get(target_id)
            else:
                own = [(row_seq, was) for row_id, was, row_seq in family
                       if row_id == target_id]
                target_seq, target_subject = min(own) if own else (None, None)
            self._recite(target_id, target_seq,
                         event.replacement if isinstance(event, EventCorrected) else None)
            self.own_cites += self._citations(event.id, 1, seq, event.sources)
            # Earlier corrections may have moved the target to other subjects: every
            # subject it ever belonged to must be folded again.
            for _, was, _ in family:
                if was is not None:
                    affected[was] = None
            affected.update(dict.fromkeys(self.in_chunk.get(target_id, ())))
        else:
            self.cites[event.id] = self._citations(event.id, 0, seq, event.sources)
        self.subjects_of.setdefault(event.id, subject)
        self.seq_of.setdefault(event.id, seq)
        if subject is not None:
            for key in (event.id, target_id):
                if key is not None:
                    self.in_chunk.setdefault(key, []).append(subject)
        # The log's own text when the entry was read from it (every catch-up's is), rather
        # than encoding each event again (7-9 us an event, about 2% of a catch-up).
        payload = (entry.canonical if entry.canonical is not None
                   else canonical_bytes(event)).decode()
        self.rows.append((seq, event.id, subject, target_id, target_subject,
                          fold_key(event.known), micros(entry.recorded_at), payload))
        # What a cell's history reads: every subject some version of an event about it
        # (a correction's replacement too) gave a scope that may cover the cell.
        scope = getattr(event.replacement if isinstance(event, EventCorrected) else event,
                        "scope", None)
        if isinstance(scope, Scope):
            self.origin_rows += [(seq, origin) for origin in dict.fromkeys(scope.origins)]
            self.product_rows += [(seq, product) for product in dict.fromkeys(scope.products)]
        # What finds the subjects whose histories refer to a measure or ruling that changes.
        # Not an event's own subject (found by its subject; four in five rows at 1M), but
        # every name of a correction: the subject it moves its target from must be found.
        names = subjects_named(event)
        if target_id is None and subject is not None:
            names = names - {subject}
        self.name_rows += [(seq, name) for name in sorted(names)
                           if name.split(":", 1)[0] in named_by_others()]
        # The refold reads this event back by its row: decoded already, it is not parsed
        # again (the cache is bounded, so a large import keeps only its newest events).
        self.writer.cache.events.put(seq, event, len(payload))
        for key in (subject, target_subject):
            if key is not None:
                affected[key] = None
        self.size += 1
        if len(self.rows) >= CHUNK:
            self._write()

    def _citations(self, event_id: str, revision: int, seq: int,
                   sources: Sequence[Source]) -> list[tuple[Any, ...]]:
        """Rows (in CITATION_COLUMNS' order) for the sources an event cites, from this
        group's recorded time on."""
        return [(event_id, revision, seq, index, source.title, source.url, source.instrument,
                 source.federal_register, source.via, self.recorded, FOREVER)
                for index, source in enumerate(sources)]

    def _recite(self, target_id: str, target_seq: int | None,
                replacement: PolicyEvent | None) -> None:
        """A correction or retraction of `target_id`: what it cited stops being cited (its
        rows written are closed with the chunk), and a replacement's sources are cited under
        its id, at its first place in the log."""
        self.cites.pop(target_id, None)  # never visible: recorded at this same instant
        self.closing.add(target_id)
        if replacement is not None and target_seq is not None:
            self.cites[target_id] = self._citations(target_id, 0, target_seq,
                                                    replacement.sources)

    def _write_citations(self) -> None:
        """Close the written citations of the events corrected or retracted in the chunk
        (removing those recorded at this same instant, which no question ever saw), then
        write the chunk's."""
        closing = sorted(self.closing)
        for start in range(0, len(closing), 500):
            part = closing[start:start + 500]
            # `revision + 0`: on the key's first column, SQLite walked every world event's
            # citations by the key rather than the event's by its index (0.2 s at 1M).
            opened = (CitationRow.event_id.in_(part), CitationRow.revision + 0 == 0,
                      CitationRow.rec_until == FOREVER)
            self.session.execute(delete(CitationRow).where(
                *opened, CitationRow.rec_from == self.recorded))
            self.session.execute(update(CitationRow).where(*opened)
                                 .values(rec_until=self.recorded))
        rows = [row for rows in self.cites.values() for row in rows] + self.own_cites
        _insert_tuples(self.session, CitationRow, CITATION_COLUMNS, rows)
        self.cites, self.own_cites, self.closing = {}, [], set()

    def _write(self) -> None:
        _insert_tuples(self.session, EventRow, _EVENT_COLUMNS, self.rows)
        _insert_tuples(self.session, EventOriginRow, ("seq", "origin"), self.origin_rows)
        _insert_tuples(self.session, EventProductRow, ("seq", "product"), self.product_rows)
        _insert_tuples(self.session, EventNameRow, ("seq", "name"), self.name_rows)
        self.origin_rows, self.product_rows, self.name_rows = [], [], []
        self._write_citations()
        self.sampling.written(self.session.connection(), len(self.rows))
        self.rows = []
        self.subjects_of = {}
        self.in_chunk = {}
        self.seq_of = {}

    def finish(self, report: _Step) -> None:
        """Write what is left and fold every subject the group touched again, in batches."""
        self._write()
        subjects = list(self.affected)
        for start in range(0, len(subjects), REFOLD_BATCH):
            self.writer._refold(self.session, subjects[start:start + REFOLD_BATCH],
                                self.recorded, self.first_seq)
            report.folding(self.start, self.size,
                           min(start + REFOLD_BATCH, len(subjects)) / len(subjects))
        report.folding(self.start, self.size, 1.0)
