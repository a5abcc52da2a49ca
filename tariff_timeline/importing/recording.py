"""Recording an import: check every event against the log, then append all of them in one
transaction, or nothing; a writer that meets a concurrent append or a busy database checks
again and retries until its write deadline."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path

from tariff_timeline.domain.errors import ImportRejected, LifecycleError
from tariff_timeline.events import EventCorrected, EventRetracted, PolicyEvent
from tariff_timeline.importing.check import ImportCheck
from tariff_timeline.importing.files import (
    NO_FILES,
    Batch,
    Located,
    Progress,
    changes_in,
    event_files,
    file_batches,
)
from tariff_timeline.importing.spool import Spool
from tariff_timeline.importing.subjects import (
    LogLookup,
    SubjectHistories,
    check_by_subjects,
)
from tariff_timeline.projections.replay import Recorded, corrected_log, fold_at
from tariff_timeline.store import EventStore, Patience, write_deadline_seconds
from tariff_timeline.store.bulk import paused_collector
from tariff_timeline.store.turns import WriterTurn


@dataclass(frozen=True)
class ImportReport:
    """What an import did: events appended, events already recorded, and when."""

    files: int
    appended: int
    already_recorded: int
    recorded_at: datetime | None
    total_events: int


class Importer:
    """Records events into one store: all or nothing, never twice; a writer waits its turn."""

    def __init__(self, store: EventStore, write_deadline: float | None = None,
                 patience: Patience | None = None, *,
                 histories: SubjectHistories | None = None) -> None:
        self.store = store
        # Where an append reads the history of the subjects it touches (the read model);
        # without it, every import is checked against the whole log.
        self.histories = histories
        # The store's own deadline unless this importer is given one.
        self.patience = patience or (store.patience if write_deadline is None else
                                     Patience(write_deadline_seconds(write_deadline)))
        self.turn = WriterTurn(store.target)

    def import_paths(self, paths: Sequence[Path | str],
                     progress: Progress | None = None) -> ImportReport:
        """Import event files or folders: validate everything, then append in one transaction."""
        files = event_files([Path(p) for p in paths])
        if not files:
            raise ImportRejected([NO_FILES])
        with paused_collector():
            return self._record(lambda: changes_in(files),
                                lambda: file_batches(files, progress), None, progress)

    def record_events(self, events: Sequence[PolicyEvent]) -> ImportReport:
        """Record events given in Python (validated and appended like an import)."""
        with paused_collector():
            # Inside: a collection here walks every object a large store's caches hold.
            located = [Located(e, "<python>", i) for i, e in enumerate(events, start=1)]
            changes = [e for e in events if isinstance(e, EventCorrected | EventRetracted)]
            return self._record(lambda: changes, lambda: iter([(located, [])]), 0, None)

    def _record(self, changes: Callable[[], Sequence[PolicyEvent]],
                batches: Callable[[], Iterable[Batch]], files: int | None,
                progress: Progress | None) -> ImportReport:
        ends = self.patience.monotonic() + self.patience.seconds
        tries = 0

        def turn() -> AbstractContextManager[None]:
            return self.turn.hold(ends - self.patience.monotonic())

        def attempt() -> ImportReport:
            nonlocal tries
            tries += 1
            if tries == 1:
                # Most imports meet no other writer: check at once, take the turn to append.
                return self._record_once(changes, batches(), files, progress, turn)
            # Each later try reads the log again (what another writer recorded meanwhile is
            # then already recorded, or refused for its content), within this writer's turn,
            # so that no other writer can append between its check and its append.
            with turn():
                return self._record_once(changes, batches(), files, progress, turn)

        return self.patience.run(attempt, "record the import")

    def _record_once(self, changes: Callable[[], Sequence[PolicyEvent]],
                     batches: Iterable[Batch], files: int | None, progress: Progress | None,
                     turn: Callable[[], AbstractContextManager[None]]) -> ImportReport:
        """Check the events while reading them once, then append them in one transaction.

        Nothing but indexes, the validation fold and a spool of canonical bytes is held: the
        new events are read, compared with the log, spooled and folded one at a time
        (`ImportCheck`), and the append streams the spool into the store.
        """
        # The first pass over the files, made once whichever check decides.
        changes = cache(changes)
        if self.histories is not None:
            report = self._record_by_subjects(self.histories, changes, batches, files,
                                              progress, turn)
            if report is not None:
                return report
        index = self.store.index()
        with Spool() as spool:
            # The first pass's corrections are held only while the check is set up: it keeps
            # just their replacements, until it reaches the events they replace.
            check = ImportCheck(self.store, index, changes(), spool)
            check.run(batches)
            problems = check.verdict()
            if problems is None:
                # The new events were not in known order: fold the whole candidate log, as
                # it is, in memory (the reference check).
                if progress is not None:
                    progress("checking", 0, check.new)
                problems = self._check_history(list(self.store.read()),
                                               list(check.new_events()))
            if problems:
                raise ImportRejected(problems)
            recorded_at = None
            if check.new:
                with turn():
                    recorded_at = self.store.append_canonical(spool.rows(), index.count)
        if progress is not None:
            progress("appending", check.new, check.new)
        return ImportReport(check.files if files is None else files, check.new,
                            check.already, recorded_at, index.count + check.new)

    def _record_by_subjects(self, histories: SubjectHistories,
                            changes: Callable[[], Sequence[PolicyEvent]],
                            batches: Iterable[Batch], files: int | None,
                            progress: Progress | None,
                            turn: Callable[[], AbstractContextManager[None]]
                            ) -> ImportReport | None:
        """Check the events against the history of the subjects they touch (read from the
        read model, brought up to the end of the log), then append them after the position
        that history reflects: if another writer appended meanwhile, the append is refused
        and the import is checked again. None, having read nothing, when the store is empty:
        its import is checked as it is read."""
        with Spool() as spool:
            with histories(self.store) as log:
                if not log.count:
                    return None
                check = ImportCheck(self.store, LogLookup(log), changes(), spool,
                                    fold_log=False)
                check.run(batches)
                problems = check.verdict()
                if problems is None:
                    if progress is not None:
                        progress("checking", 0, check.new)
                    problems = check_by_subjects(log, check.new_events())
                after = log.count
            if problems:
                raise ImportRejected(problems)
            recorded_at = None
            if check.new:
                with turn():
                    recorded_at = self.store.append_canonical(spool.rows(), after)
        if progress is not None:
            progress("appending", check.new, check.new)
        return ImportReport(check.files if files is None else files, check.new,
                            check.already, recorded_at, after + check.new)

    def _check_history(self, log: list[Recorded], new: list[Located]) -> list[str]:
        """Fold the whole history with the new events; name the file and line of a break."""
        where = {item.event.id: item.where for item in new}
        next_seq = (log[-1].seq if log else 0) + 1
        now = self.store.clock()
        candidate = log + [Recorded(next_seq + i, now, item.event) for i, item in enumerate(new)]
        try:
            entries = corrected_log(candidate)
            fold_at(entries, datetime.max.replace(tzinfo=now.tzinfo))
        except LifecycleError as exc:
            place = where.get(exc.event_id, f"recorded event {exc.event_id!r}")
            return [f"{place}: event {exc.event_id!r}, field {exc.field!r}: {exc.message}"]
        return []
