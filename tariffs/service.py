"""The one place that wires the store, the import and the queries together (also the Python API).

    >>> from tariffs import TariffTimeline
    >>> tt = TariffTimeline.open("sqlite:///timeline.sqlite")
    >>> tt.rate_on(origin="JP", hts="8703.23.01", entered="2025-05-01", mfn=2.5).additional
"""

from __future__ import annotations

import gc
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from importlib import resources
from pathlib import Path

import platformdirs

from domain.clocks import Clock, Coordinate, system_clock
from domain.errors import ConflictingWrite, ImportRejected, InvalidInput, LifecycleError
from domain.rules import FactValue
from events import FACTS, PolicyEvent, country_code, normalise_hts, subject_of
from projections.answers import LogEntry, RateAnswer, Schedule
from projections.rates import rate_on
from projections.replay import Corrected, Recorded, corrected_log, timeline_at
from projections.schedule import schedule_as_of
from tariffs.importer import Located, Progress, read_paths
from tariffs.store import EventStore, canonical_bytes

ENV_DB = "TARIFFS_DB"
When = str | date | datetime


def default_db_url() -> str:
    """The embedded SQLite store in the user's data directory."""
    folder = Path(platformdirs.user_data_dir("tariff-timeline", appauthor=False))
    return f"sqlite:///{folder / 'timeline.sqlite'}"


def bundled_data() -> Path:
    """The folder of the curated timeline shipped with the package."""
    return Path(str(resources.files("tariffs.data")))


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

    def __init__(self, store: EventStore) -> None:
        self.store = store

    @classmethod
    def open(cls, url: str | None = None, clock: Clock = system_clock,
             load_bundled_if_new: bool | None = None) -> TariffTimeline:
        """Open the store at a URL, or TARIFFS_DB, or the embedded default (which loads the
        bundled timeline on first use)."""
        chosen = url or os.environ.get(ENV_DB) or None
        timeline = cls(EventStore(chosen or default_db_url(), clock))
        load = chosen is None if load_bundled_if_new is None else load_bundled_if_new
        if load and timeline.store.count() == 0:
            timeline.import_paths([bundled_data()])
        return timeline

    def close(self) -> None:
        """Release the store."""
        self.store.close()

    # ------------------------------------------------------------ commands

    def import_paths(self, paths: Sequence[Path | str],
                     progress: Progress | None = None) -> ImportReport:
        """Import event files or folders: validate everything, then append in one transaction."""
        files = [Path(p) for p in paths]
        with _bulk():
            located = read_paths(files, progress)
            return self._record(located, len({item.file for item in located}), progress)

    def record_events(self, events: Sequence[PolicyEvent]) -> ImportReport:
        """Record events given in Python (validated and appended like an import)."""
        located = [Located(e, "<python>", i) for i, e in enumerate(events, start=1)]
        with _bulk():
            return self._record(located, 0, None)

    def _record(self, located: list[Located], files: int,
                progress: Progress | None) -> ImportReport:
        for attempt in range(3):
            try:
                return self._record_once(located, files, progress)
            except ConflictingWrite:
                if attempt == 2:
                    raise
        raise ConflictingWrite("the timeline kept moving; try again")  # pragma: no cover

    def _record_once(self, located: list[Located], files: int,
                     progress: Progress | None) -> ImportReport:
        log = list(self.store.read())
        by_id = {r.event.id: r for r in log}
        problems: list[str] = []
        new: list[Located] = []
        for item in located:
            existing = by_id.get(item.event.id)
            if existing is None:
                new.append(item)
            elif canonical_bytes(existing.event) != canonical_bytes(item.event):
                problems.append(
                    f"{item.where}: event {item.event.id!r} is already recorded (log position "
                    f"{existing.seq}) with different content; to fix a recorded event, import "
                    "an EventCorrected that names it")
        if progress is not None:
            progress("checking", 0, len(new))
        if new and not problems:
            problems.extend(self._check_history(log, new))
        if problems:
            raise ImportRejected(problems)
        last = self.store.last_entry()
        version = last.originator_version if last is not None else 0
        recorded_at = self.store.append([i.event for i in new], version) if new else None
        if progress is not None:
            progress("appending", len(new), len(new))
        return ImportReport(files, len(new), len(located) - len(new), recorded_at,
                            version + len(new))

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
        `known` and recorded at `recorded`, with every layer considered and why."""
        try:
            origin_code = country_code(origin)
            hts_digits = normalise_hts(hts)
        except ValueError as exc:
            raise InvalidInput(str(exc)) from exc
        if hts_digits == "ALL":
            raise InvalidInput("--hts: give an HTS code, not ALL")
        mfn_value: Decimal | None = None
        if mfn is not None:
            try:
                mfn_value = Decimal(str(mfn))
            except InvalidOperation as exc:
                raise InvalidInput(f"--mfn: {mfn!r} is not a number") from exc
            if not Decimal(0) <= mfn_value <= Decimal(1000):
                raise InvalidInput(f"--mfn: {mfn} is outside 0 to 1000 percent")
        coordinate = self.coordinate(entered, known, recorded)
        entries = self._entries(coordinate.recorded)
        timeline = timeline_at(entries, coordinate.known)
        return rate_on(timeline, {e.event.id: e for e in entries}, origin=origin_code,
                       hts=hts_digits, coordinate=coordinate, mfn=mfn_value,
                       facts=_coerce_facts(facts))

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
        timeline = timeline_at(self._entries(coordinate.recorded), coordinate.known)
        return schedule_as_of(timeline, coordinate, origin_code, hts_digits)

    def events(self, measure: str | None = None) -> list[LogEntry]:
        """The log as recorded, with all three clocks; optionally only one subject's events."""
        rows = []
        for recorded in self.store.read():
            event = recorded.event
            subject = subject_of(event)
            if measure is not None and subject != measure and measure not in _mentions(event):
                continue
            rows.append(LogEntry(
                seq=recorded.seq, id=event.id, type=type(event).__name__, subject=subject,
                known=event.known.isoformat(),
                effective_from=getattr(event, "effective_from", None),
                effective_until=getattr(event, "effective_until", None),
                recorded=recorded.recorded_at, confidence=event.confidence,
                summary=_summary(event), sources=event.sources,
            ))
        return rows


def _mentions(event: PolicyEvent) -> set[str]:
    names: set[str] = set()
    for attr in ("applies_to", "when", "excludes"):
        selector = getattr(event, attr, None)
        if selector is not None:
            names.update(selector.measures)
    names.update(getattr(event, "measures", ()) or ())
    return names


def _summary(event: PolicyEvent) -> str:
    for attr in ("title", "description", "holding", "step", "reason"):
        value = getattr(event, attr, None)
        if isinstance(value, str):
            return value
    rate = getattr(event, "rate", None)
    if rate is not None:
        return f"rate {rate.percent}% ({rate.kind})"
    return type(event).__name__
