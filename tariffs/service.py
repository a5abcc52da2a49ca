"""The one place that wires the store, the import and the queries together (also the Python API).

    >>> from tariffs import TariffTimeline
    >>> tt = TariffTimeline.open("sqlite:///timeline.sqlite")
    >>> tt.rate_on(origin="JP", hts="8703.23.01", entered="2025-05-01", mfn=2.5).additional
"""

from __future__ import annotations

import gc
import hashlib
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from importlib import resources
from pathlib import Path
from threading import Event

import platformdirs

from domain.clocks import (
    Clock,
    Coordinate,
    cutoff_instant,
    effective_instant,
    system_clock,
)
from domain.errors import (
    ConflictingWrite,
    ImportRejected,
    InvalidInput,
    LifecycleError,
    TamperDetected,
)
from domain.rules import FactValue
from events import (
    EASTERN,
    FACTS,
    EventCorrected,
    EventRetracted,
    PolicyEvent,
    Source,
    country_code,
    normalise_hts,
    subject_of,
)
from projections.answers import CoverageRow, LogEntry, RateAnswer, Schedule, SourceRow
from projections.catalogue import coverage_of, sources_of
from projections.diff import Diff, Version, diff
from projections.history import History, cell_history, measure_history, mentions, summary
from projections.rates import rate_on
from projections.replay import Corrected, Recorded, corrected_log, timeline_at
from projections.schedule import schedule_as_of
from projections.series import Series, rate_series
from tariffs.chain import Verification
from tariffs.importer import (
    NO_FILES,
    Batch,
    ImportCheck,
    Located,
    Progress,
    Spool,
    changes_in,
    event_files,
    file_batches,
    read_paths,
)
from tariffs.readmodel import ReadModel, follow
from tariffs.store import EventStore

ENV_DB = "TARIFFS_DB"
When = str | date | datetime


def default_db_url() -> str:
    """The embedded SQLite store in the user's data directory."""
    folder = Path(platformdirs.user_data_dir("tariff-timeline", appauthor=False))
    return f"sqlite:///{folder / 'timeline.sqlite'}"


def bundled_data() -> Path:
    """The folder of the curated timeline shipped with the package."""
    return Path(str(resources.files("tariffs.data")))


def bundled_fingerprint() -> str:
    """SHA-256 over the bundled event files (names and contents): changes with the data."""
    digest = hashlib.sha256()
    folder = bundled_data()
    for path in sorted(folder.rglob("*.yaml")):
        digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


@dataclass(frozen=True)
class ImportReport:
    """What an import did: events appended, events already recorded, and when."""

    files: int
    appended: int
    already_recorded: int
    recorded_at: datetime | None
    total_events: int


@contextmanager
def _bulk() -> Iterator[None]:
    """Pause the cyclic garbage collector while an import builds its (acyclic) objects.

    A large import allocates millions of long-lived objects; the collector would walk all of
    them again and again as they accumulate (40% of a 100k-event import). Reference counting
    still frees everything; the collector is restored afterwards, even on error.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _when_text(value: When) -> str:
    return value.isoformat() if isinstance(value, date | datetime) else value


def parse_facts(pairs: Iterable[str]) -> dict[str, FactValue]:
    """Facts about the goods from KEY=VALUE strings, typed by the facts catalogue."""
    facts: dict[str, FactValue] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise InvalidInput(f"--fact {pair!r}: write KEY=VALUE, e.g. usmca_qualifying=true")
        if key not in FACTS:
            raise InvalidInput(f"--fact {pair!r}: unknown fact {key!r}; known facts: "
                               + ", ".join(sorted(FACTS)))
        kind = FACTS[key][0]
        value = raw.strip()
        if kind == "bool":
            if value.lower() not in ("true", "false", "yes", "no", "1", "0"):
                raise InvalidInput(f"--fact {pair!r}: {key} is true or false")
            facts[key] = value.lower() in ("true", "yes", "1")
        elif kind == "share":
            try:
                share = Decimal(value)
            except InvalidOperation as exc:
                raise InvalidInput(f"--fact {pair!r}: {key} is a number from 0 to 1") from exc
            if not Decimal(0) <= share <= Decimal(1):
                raise InvalidInput(f"--fact {pair!r}: {key} is a number from 0 to 1")
            facts[key] = share
        else:
            facts[key] = value
    return facts


def _coerce_facts(facts: Mapping[str, object] | None) -> dict[str, FactValue]:
    pairs = [f"{k}={str(v).lower() if isinstance(v, bool) else v}"
             for k, v in (facts or {}).items()]
    return parse_facts(pairs)


class TariffTimeline:
    """The tariff timeline: import events and ask what duty applied, when, as known when."""

    def __init__(self, store: EventStore, read_model: ReadModel | None = None) -> None:
        self.store = store
        self.read_model = read_model
        self.warnings: list[str] = []

    @classmethod
    def open(cls, url: str | None = None, clock: Clock = system_clock,
             load_bundled_if_new: bool | None = None) -> TariffTimeline:
        """Open the store at a URL, or TARIFFS_DB, or the embedded default (which loads the
        bundled timeline on first use, and again whenever the bundled timeline changes)."""
        chosen = url or os.environ.get(ENV_DB) or None
        store = EventStore(chosen or default_db_url(), clock)
        in_memory = store.app.env.get("SQLITE_DBNAME") == ":memory:"
        timeline = cls(store, None if in_memory else ReadModel(store.url))
        load = chosen is None if load_bundled_if_new is None else load_bundled_if_new
        if load:
            timeline._sync_bundled()
        return timeline

    def _sync_bundled(self) -> None:
        """Import the bundled timeline if this store has not seen its current version.

        Importing is idempotent, so only new events are appended; an event whose recorded
        content differs is refused (that needs an EventCorrected), which leaves the store as
        it was and is reported in `warnings`."""
        marker = Path(self.store.app.env.get("SQLITE_DBNAME", "") + ".bundled")
        fingerprint = bundled_fingerprint()
        if self.store.count() > 0 and marker.is_file() and (
                marker.read_text(encoding="utf-8").strip() == fingerprint):
            return
        try:
            self.import_paths([bundled_data()])
        except ImportRejected as exc:
            if self.store.count() == 0:
                raise
            self.warnings.append(f"the bundled timeline changed but could not be added to "
                                 f"{self.store.url}: {exc}")
            return
        if marker.parent.is_dir():
            marker.write_text(fingerprint + "\n", encoding="utf-8")

    def close(self) -> None:
        """Release the store and the read model."""
        if self.read_model is not None:
            self.read_model.close()
        self.store.close()

    def catch_up(self, batch: int = 5000) -> int:
        """Bring the read model up to the end of the log; return how many events it applied."""
        if self.read_model is None:
            return 0
        return self.read_model.catch_up(self.store, batch)

    def follow(self, stop: Event) -> None:
        """Keep the read model up to date until `stop` is set."""
        if self.read_model is None:
            raise InvalidInput("an in-memory store has no read model to keep up to date")
        follow(self.store.url, self.read_model, self.store, stop)

    def rebuild_read_model(self) -> int:
        """Drop the read model and project the whole log again; return how many events."""
        if self.read_model is None:
            raise InvalidInput("an in-memory store has no read model to rebuild")
        return self.read_model.rebuild(self.store)

    # ------------------------------------------------------------ commands

    def import_paths(self, paths: Sequence[Path | str],
                     progress: Progress | None = None) -> ImportReport:
        """Import event files or folders: validate everything, then append in one transaction."""
        files = event_files([Path(p) for p in paths])
        if not files:
            raise ImportRejected([NO_FILES])
        with _bulk():
            return self._record(lambda: changes_in(files),
                                lambda: file_batches(files, progress), None, progress)

    def record_events(self, events: Sequence[PolicyEvent]) -> ImportReport:
        """Record events given in Python (validated and appended like an import)."""
        located = [Located(e, "<python>", i) for i, e in enumerate(events, start=1)]
        changes = [e for e in events if isinstance(e, EventCorrected | EventRetracted)]
        with _bulk():
            return self._record(lambda: changes, lambda: iter([(located, [])]), 0, None)

    def correct(self, event_id: str, replacement: PolicyEvent, reason: str,
                sources: Sequence[Source] = ()) -> EventCorrected:
        """Record that the store got an event wrong: `replacement` is what it should have said.

        Recorded through the normal import path (validated against the whole history)."""
        if isinstance(replacement, EventCorrected | EventRetracted):
            raise InvalidInput("a replacement is a world event, not a correction or retraction")
        if replacement.id != event_id:
            raise InvalidInput(f"the replacement's id {replacement.id!r} must be {event_id!r}")
        log = list(self.store.read())
        if not any(r.event.id == event_id for r in log):
            raise InvalidInput(f"no recorded event {event_id!r} to correct")
        ids = {r.event.id for r in log}
        number = 1
        while f"{event_id}.corrected-{number}" in ids:
            number += 1
        now = self.store.clock().astimezone(EASTERN)
        try:
            correction = EventCorrected(
                id=f"{event_id}.corrected-{number}"[:120], known=now.date(),
                sources=tuple(sources) or replacement.sources, corrects=event_id,
                reason=reason, replacement=replacement.model_dump(mode="json"))
        except ValueError as exc:
            raise InvalidInput(f"cannot build the correction: {exc}") from exc
        self.record_events([correction])
        return correction

    def correct_from_file(self, event_id: str, path: Path | str, reason: str) -> EventCorrected:
        """A correction whose replacement event is read from an import file (one event)."""
        located = read_paths([Path(path)])
        if len(located) != 1:
            raise InvalidInput(f"{path}: a replacement file holds exactly one event, "
                               f"found {len(located)}")
        return self.correct(event_id, located[0].event, reason)

    def _record(self, changes: Callable[[], Sequence[PolicyEvent]],
                batches: Callable[[], Iterable[Batch]], files: int | None,
                progress: Progress | None) -> ImportReport:
        for attempt in range(3):
            try:
                return self._record_once(changes, batches(), files, progress)
            except ConflictingWrite:
                if attempt == 2:
                    raise
        raise ConflictingWrite("the timeline kept moving; try again")  # pragma: no cover

    def _record_once(self, changes: Callable[[], Sequence[PolicyEvent]],
                     batches: Iterable[Batch],
                     files: int | None, progress: Progress | None) -> ImportReport:
        """Check the events while reading them once, then append them in one transaction.

        Nothing but indexes, the validation fold and a spool of canonical bytes is held: the
        new events are read, compared with the log, spooled and folded one at a time
        (`ImportCheck`), and the append streams the spool into the store.
        """
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
            recorded_at = (self.store.append_canonical(spool.rows(), index.count)
                           if check.new else None)
        if progress is not None:
            progress("appending", check.new, check.new)
        return ImportReport(check.files if files is None else files, check.new,
                            check.already, recorded_at, index.count + check.new)

    def _check_history(self, log: list[Recorded], new: list[Located]) -> list[str]:
        """Fold the whole history with the new events; name the file and line of a break."""
        where = {item.event.id: item.where for item in new}
        next_seq = (log[-1].seq if log else 0) + 1
        now = self.store.clock()
        candidate = log + [Recorded(next_seq + i, now, item.event) for i, item in enumerate(new)]
        try:
            entries = corrected_log(candidate)
            timeline_at(entries, datetime.max.replace(tzinfo=now.tzinfo))
        except LifecycleError as exc:
            place = where.get(exc.event_id, f"recorded event {exc.event_id!r}")
            return [f"{place}: event {exc.event_id!r}, field {exc.field!r}: {exc.message}"]
        return []

    # ------------------------------------------------------------ tamper evidence

    def verify(self, *, raise_on_break: bool = True) -> Verification:
        """Walk the hash chain over the stored rows; raise TamperDetected at the first break."""
        result = self.store.verify()
        if raise_on_break:
            check_intact(result)
        return result

    # ------------------------------------------------------------ queries

    def _entries(self, recorded: datetime) -> list[Corrected]:
        return corrected_log(self.store.read(), recorded)

    def coordinate(self, entered: When, known: When | None = None,
                   recorded: When | None = None) -> Coordinate:
        """The coordinate a question names; known and recorded default to now."""
        return Coordinate.parse(
            _when_text(entered),
            _when_text(known) if known is not None else None,
            _when_text(recorded) if recorded is not None else None,
            self.store.clock,
        )

    def rate_on(self, *, origin: str, hts: str, entered: When, known: When | None = None,
                recorded: When | None = None, mfn: Decimal | float | str | None = None,
                facts: Mapping[str, object] | None = None) -> RateAnswer:
        """The additional duty on goods of `origin` and `hts` entered at `entered`, as known at
        `known` and recorded at `recorded`, with every layer considered and why (answered
        from the read model, brought up to date first)."""
        if self.read_model is None:
            return self.rate_on_by_fold(origin=origin, hts=hts, entered=entered, known=known,
                                        recorded=recorded, mfn=mfn, facts=facts)
        origin_code, hts_digits, mfn_value, coordinate = self._rate_question(
            origin, hts, entered, known, recorded, mfn)
        self.read_model.catch_up(self.store)
        timeline = self.read_model.timeline_at(coordinate.effective, coordinate.known,
                                               coordinate.recorded, origin_code, hts_digits)
        return rate_on(timeline, self.read_model.entries(coordinate.recorded),
                       origin=origin_code, hts=hts_digits, coordinate=coordinate,
                       mfn=mfn_value, facts=_coerce_facts(facts))

    def rate_on_by_fold(self, *, origin: str, hts: str, entered: When,
                        known: When | None = None, recorded: When | None = None,
                        mfn: Decimal | float | str | None = None,
                        facts: Mapping[str, object] | None = None) -> RateAnswer:
        """The same question answered by folding the whole log: the reference answer."""
        origin_code, hts_digits, mfn_value, coordinate = self._rate_question(
            origin, hts, entered, known, recorded, mfn)
        entries = self._entries(coordinate.recorded)
        timeline = timeline_at(entries, coordinate.known)
        return rate_on(timeline, {e.event.id: e for e in entries}, origin=origin_code,
                       hts=hts_digits, coordinate=coordinate, mfn=mfn_value,
                       facts=_coerce_facts(facts))

    def _rate_question(
        self, origin: str, hts: str, entered: When, known: When | None,
        recorded: When | None, mfn: Decimal | float | str | None,
    ) -> tuple[str, str, Decimal | None, Coordinate]:
        origin_code, hts_digits = _entry(origin, hts)
        return origin_code, hts_digits, _mfn(mfn), self.coordinate(entered, known, recorded)

    def schedule_as_of(self, *, entered: When, known: When | None = None,
                       recorded: When | None = None, origin: str | None = None,
                       hts: str | None = None) -> Schedule:
        """The schedule at a coordinate, optionally only what covers an origin or HTS code."""
        try:
            origin_code = country_code(origin) if origin else None
            hts_digits = normalise_hts(hts) if hts else None
        except ValueError as exc:
            raise InvalidInput(str(exc)) from exc
        coordinate = self.coordinate(entered, known, recorded)
        if self.read_model is not None:
            self.read_model.catch_up(self.store)
            timeline = self.read_model.timeline_at(coordinate.effective, coordinate.known,
                                                   coordinate.recorded, origin_code, hts_digits)
        else:
            timeline = timeline_at(self._entries(coordinate.recorded), coordinate.known)
        return schedule_as_of(timeline, coordinate, origin_code, hts_digits)

    def version(self, entered: When, known: When | None = None,
                recorded: When | None = None) -> Version:
        """The timeline and its entries at a coordinate (one side of a diff)."""
        coordinate = self.coordinate(entered, known, recorded)
        entries = self._entries(coordinate.recorded)
        return Version(coordinate, timeline_at(entries, coordinate.known),
                       {e.event.id: e for e in entries})

    def diff(self, *, entered: tuple[When, When], known: tuple[When | None, When | None] = (
                 None, None), recorded: tuple[When | None, When | None] = (None, None),
             origins: Sequence[str] = (), hts: Sequence[str] = ()) -> Diff:
        """The schedule at the second coordinate compared with the first, optionally only for
        some origins and HTS prefixes (both given: also every origin×HTS cell that changed)."""
        try:
            origin_codes = [country_code(o) for o in origins]
            hts_digits = [normalise_hts(h) for h in hts]
        except ValueError as exc:
            raise InvalidInput(str(exc)) from exc
        if "ALL" in hts_digits:
            raise InvalidInput("--hts: give HTS codes or prefixes, not ALL")
        now = self.store.clock()  # one 'now' for both sides, so defaults compare equal
        before = self.version(entered[0], _or(known[0], now), _or(recorded[0], now))
        after = self.version(entered[1], _or(known[1], now), _or(recorded[1], now))
        if before.coordinate == after.coordinate:
            raise InvalidInput("the two coordinates are the same: give one of --entered, "
                               "--known or --recorded twice")
        return diff(before, after, origins=origin_codes, hts=hts_digits)

    def rate_series(self, *, origin: str, hts: str, start: When, end: When,
                    known: When | None = None, recorded: When | None = None,
                    mfn: Decimal | float | str | None = None) -> Series:
        """The additional duty on `origin` × `hts` as a step series over [start, end]."""
        origin_code, hts_digits = _entry(origin, hts)
        first = self.coordinate(start, known, recorded)
        last = effective_instant(_when_text(end), "--to")
        if last <= first.effective:
            raise InvalidInput("--to must be after --from")
        entries = self._entries(first.recorded)
        return rate_series(timeline_at(entries, first.known), {e.event.id: e for e in entries},
                           origin=origin_code, hts=hts_digits, start=first.effective,
                           end=last, known=first.known, recorded=first.recorded,
                           mfn=_mfn(mfn))

    def history(self, measure: str | None = None, *, origin: str | None = None,
                hts: str | None = None, recorded: When | None = None,
                mfn: Decimal | float | str | None = None) -> History:
        """Every event that touched a measure, or an origin × HTS code, in order, with every
        recorded version and the state or rate after each."""
        if (measure is None) == (origin is None or hts is None):
            raise InvalidInput("give a MEASURE, or --origin and --hts (not both)")
        cutoff = (cutoff_instant(_when_text(recorded), "--recorded")
                  if recorded is not None else self.store.clock())
        log = [r for r in self.store.read() if r.recorded_at <= cutoff]
        if measure is not None:
            if not any(measure == subject_of(r.event) for r in log):
                raise InvalidInput(f"no recorded event is about {measure!r}")
            return measure_history(log, measure)
        if origin is None or hts is None:
            raise InvalidInput("give --origin and --hts together")
        origin_code, hts_digits = _entry(origin, hts)
        return cell_history(log, origin_code, hts_digits, _mfn(mfn))

    def sources(self) -> list[SourceRow]:
        """Every citation in the store (corrections applied), with the events citing it."""
        return sources_of(self._entries(self.store.clock()))

    def coverage(self, at: When | None = None) -> list[CoverageRow]:
        """Per measure and exemption: complete or partial product list, count of codes, note;
        statuses at `at` (default now), as known and recorded now."""
        coordinate = self.coordinate(at if at is not None else self.store.clock())
        timeline = timeline_at(self._entries(coordinate.recorded), coordinate.known)
        return coverage_of(timeline, coordinate.effective)

    def events(self, measure: str | None = None) -> list[LogEntry]:
        """The log as recorded, with all three clocks; optionally only one subject's events."""
        rows = []
        for recorded in self.store.read():
            event = recorded.event
            subject = subject_of(event)
            if measure is not None and subject != measure and measure not in mentions(event):
                continue
            rows.append(LogEntry(
                seq=recorded.seq, id=event.id, type=type(event).__name__, subject=subject,
                known=event.known.isoformat(),
                effective_from=getattr(event, "effective_from", None),
                effective_until=getattr(event, "effective_until", None),
                recorded=recorded.recorded_at, confidence=event.confidence,
                summary=summary(event), sources=event.sources,
            ))
        return rows


def _or(value: When | None, default: datetime) -> When:
    return default if value is None else value


def _entry(origin: str, hts: str) -> tuple[str, str]:
    """A country of origin and a full HTS code (as digits) from what a person typed."""
    try:
        origin_code = country_code(origin)
        hts_digits = normalise_hts(hts)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from exc
    if hts_digits == "ALL":
        raise InvalidInput("--hts: give an HTS code, not ALL")
    return origin_code, hts_digits


def _mfn(mfn: Decimal | float | str | None) -> Decimal | None:
    if mfn is None:
        return None
    try:
        value = Decimal(str(mfn))
    except InvalidOperation as exc:
        raise InvalidInput(f"--mfn: {mfn!r} is not a number") from exc
    if not Decimal(0) <= value <= Decimal(1000):
        raise InvalidInput(f"--mfn: {mfn} is outside 0 to 1000 percent")
    return value


def check_intact(result: Verification) -> None:
    """Raise TamperDetected if a verification found a break."""
    found = result.first_break
    if found is None:
        return
    where = (f"at notification {found.notification_id}, position {found.position}"
             if found.notification_id is not None else "at the end of the log")
    raise TamperDetected(
        f"the stored log was changed outside the application: {where}: {found.problem} "
        f"({result.events} event(s) verified before it)", found.notification_id, found.position)
