"""Checking an import while streaming it: each event validated, compared with the log and folded
once (see `ImportCheck`)."""

from __future__ import annotations

from array import array
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, get_args

from tariff_timeline.domain.errors import (
    LifecycleError,
    StoreError,
    UnknownReference,
)
from tariff_timeline.domain.timeline import fold
from tariff_timeline.events import (
    TOPICS,
    Condition,
    EventCorrected,
    EventRetracted,
    PolicyEvent,
    Rate,
    Selector,
    known_instant,
)
from tariff_timeline.events.instants import fold_key
from tariff_timeline.importing.files import Batch, Located
from tariff_timeline.importing.spool import Spool
from tariff_timeline.importing.subjects import LogLookup
from tariff_timeline.projections.replay import corrected_log
from tariff_timeline.store import (
    GONE,
    EventStore,
    RecordedIndex,
    canonical_bytes,
    content_digest,
)


class _Interner:
    """Shares equal values between the events that the validation fold keeps.

    The fold keeps each event's rates, selectors and conditions in the painted intervals of
    its state: for a million events, more than a gigabyte, most of it repeated values (rates
    alone are a third). A value is shared only with one equal in everything that can be
    observed (a Decimal by its digits too), and only the copies fed to the validation fold are
    changed, never an event that is stored or answered from. Instants need no sharing here:
    validation parses each distinct date text once and hands out one instant for it. Scopes
    are left alone: they are mostly distinct, and a memo of them (and of their HTS codes) took
    more memory than sharing them saved.
    """

    _FLAT = (Rate, Selector, Condition)
    """Models whose fields are all strings, booleans, None, Decimals or tuples of strings."""

    def __init__(self) -> None:
        self._memo: dict[object, Any] = {}
        self._fields: dict[type[PolicyEvent], tuple[str, ...]] = {}

    def event(self, event: PolicyEvent) -> PolicyEvent:
        """The event with its parts shared with equal ones seen before."""
        names = self._fields.get(type(event))
        if names is None:
            names = self._fields[type(event)] = tuple(
                name for name, info in type(event).model_fields.items()
                if _mentions(info.annotation, self._FLAT))
        if not names:
            return event
        changes: dict[str, Any] = {}
        values = event.__dict__
        for name in names:
            value = values[name]
            if value is not None:
                shared = self._share(value)
                if shared is not value:
                    changes[name] = shared
        return event.model_copy(update=changes) if changes else event

    def _share(self, value: object) -> object:
        key: object
        if isinstance(value, self._FLAT):
            parts = tuple(value.__dict__.values())
            # Decimal('10') == Decimal('10.0'), with one hash: key them by their digits too.
            key = (type(value), parts, *[str(p) for p in parts if type(p) is Decimal])
        elif type(value) is tuple and value and isinstance(value[0], Condition):
            value = tuple(self._share(c) for c in value)
            key = (tuple, *map(id, value))  # shared conditions live as long as the memo
        else:
            return value
        return self._memo.setdefault(key, value)


def _mentions(annotation: object, kinds: tuple[type, ...]) -> bool:
    """Whether a field's type is, or contains (in a union or tuple), one of `kinds`."""
    if isinstance(annotation, type) and issubclass(annotation, kinds):
        return True
    return any(_mentions(arg, kinds) for arg in get_args(annotation))


_SKIPPED, _WORLD, _CHANGE = 0, 1, 2
"""What became of each event read: recorded already (or a duplicate), new world event, new
correction or retraction."""


class ImportCheck:
    """Checks an import while reading it once, holding neither its events nor the log's.

    Each event read is validated (by the reader), compared by id with the recorded log (an
    index of ids and content digests) and with the events read before it, written to the
    spool as canonical bytes if new, and folded into the validation timeline, merged with the
    recorded events in the fold's order (known time, then log position). Corrections and
    retractions are known from a first pass (`changes_in`), so an event is folded with its
    final content. The streamed fold equals the reference check (`corrected_log` then
    `fold_at` over the whole candidate log) when the new events arrive in known order;
    when they do not, or the first pass turns out wrong, `streamed` is False and the caller
    runs the reference check instead. Problems are found and ranked as the reference import
    does: reading problems and duplicate ids, then content conflicts with the log, then the
    first broken lifecycle rule.
    """

    def __init__(self, store: EventStore, index: RecordedIndex | LogLookup,
                 changes: Sequence[PolicyEvent], spool: Spool, *,
                 fold_log: bool = True) -> None:
        self.store = store
        self.index = index
        # The whole log's index, which the streamed fold reads in fold order; a lookup by id
        # serves a check that leaves the fold to the caller.
        self.log_index = index if isinstance(index, RecordedIndex) else RecordedIndex()
        self.spool = spool
        # Without the fold, the lifecycle rules are left to the caller (`check_by_subjects`).
        self.fold_log = fold_log
        self.problems: list[str] = []
        self.twice: list[str] = []
        self.conflicts: list[str] = []
        self.unknown: LifecycleError | None = None
        self.broken: LifecycleError | None = None
        self.streamed = True
        self.folding = fold_log
        self.new = 0
        self.already = 0
        self.files = 0
        self._expected = [content_digest(canonical_bytes(c)) for c in changes]
        self._checked = 0
        # The last content each target will have: a replacement, or None when retracted.
        self._final: dict[str, PolicyEvent | None] = {}
        for change in changes:
            if change.id in index:
                continue  # recorded already: its effect is in the log
            if isinstance(change, EventCorrected):
                self._final[change.corrects] = change.replacement
            elif isinstance(change, EventRetracted):
                self._final[change.retracts] = None
        self._seen: dict[str, int] = {}
        self._lines = array("I")
        self._kinds = bytearray()
        self._names: list[str] = []
        self._starts: list[int] = []
        self._retracted: set[str] = set()
        self._last_known: datetime | None = None
        self._recorded: Iterator[tuple[datetime, int, PolicyEvent]] | None = None
        self._next: tuple[datetime, int, PolicyEvent] | None = None
        self._interner = _Interner()

    # ------------------------------------------------------------ driving

    def run(self, batches: Iterable[Batch]) -> None:
        """Read every batch to the end, folding as long as the fold can tell something."""
        stream = self._contents(batches)
        if not self.fold_log:
            for _ in stream:  # read, compare and spool; the caller checks the lifecycle
                pass
            return
        try:
            fold(stream)
        except LifecycleError as exc:
            # Without its traceback, which holds the fold's state while the rest is read.
            self.broken = exc.with_traceback(None)
            self.folding = False
            for _ in stream:  # read, compare and spool the rest; nothing more is folded
                pass

    def verdict(self) -> list[str] | None:
        """Every problem, ranked as the reference import ranks them; None when the fold could
        not be streamed and the reference check must decide."""
        if self.problems or self.twice:
            return self.problems + self.twice
        if self.conflicts:
            return self.conflicts
        if not self.new:
            return []
        if not self.fold_log or not self.streamed or self._checked != len(self._expected):
            return None
        found = self.unknown or self.broken
        if found is None:
            return []
        return [f"{self.place(found.event_id)}: event {found.event_id!r}, field "
                f"{found.field!r}: {found.message}"]

    def place(self, event_id: str) -> str:
        """'file:line' of a new event, else how a message names a recorded one."""
        position = self._seen.get(event_id)
        if position is None or self._kinds[position] == _SKIPPED:
            return f"recorded event {event_id!r}"
        return self._where(position)

    def new_events(self) -> Iterator[Located]:
        """The new events again, from the spool, with where they were read."""
        for topic, event_bytes in self.spool.rows():
            event = TOPICS[topic].model_validate_json(event_bytes)
            position = self._seen[event.id]
            file = self._names[bisect_right(self._starts, position) - 1]
            yield Located(event, file, self._lines[position])

    # ------------------------------------------------------------ reading

    def _where(self, position: int) -> str:
        file = self._names[bisect_right(self._starts, position) - 1]
        return f"{file}:{self._lines[position]}"

    def _contents(self, batches: Iterable[Batch]) -> Iterator[PolicyEvent]:
        """Take every event of every batch; yield what the fold takes, in its order."""
        for located, problems in batches:
            if problems:
                self.problems.extend(problems)
                self.folding = False
            if located:
                self.files += 1
                self._names.append(located[0].file)
                self._starts.append(len(self._kinds))
                if isinstance(self.index, LogLookup):
                    self.index.prefetch(item.event.id for item in located)
            for item in located:
                content = self._take(item)
                if content is None or not self.streamed:
                    continue
                # Checked to the end even after the fold stopped: a lifecycle break found
                # before an event that is out of known order may not be the first one.
                known = known_instant(content.known)
                if self._last_known is not None and known < self._last_known:
                    self.streamed = self.folding = False
                    continue
                self._last_known = known
                if self.folding:
                    if self._recorded is None or (
                            self._next is not None and self._next[0] <= known):
                        yield from self._recorded_until(known)
                    yield self._interner.event(content)
        if self.new and self.folding:
            yield from self._recorded_until(None)

    def _take(self, item: Located) -> PolicyEvent | None:
        """Compare, index and spool one event; its content for the fold, if it has one."""
        event = item.event
        ident = event.id
        position = len(self._kinds)
        self._lines.append(item.line)
        first = self._seen.get(ident)
        if first is not None:
            self._kinds.append(_SKIPPED)
            self.twice.append(f"{item.where}: event id {ident!r} is used twice (first at "
                              f"{self._where(first)})")
            self.folding = False
            return None
        self._seen[ident] = position
        event_bytes = canonical_bytes(event)
        change = isinstance(event, EventCorrected | EventRetracted)
        if change:
            self._check_first_pass(event_bytes)
        recorded = self.index.recorded(ident)
        if recorded is not None:
            self._kinds.append(_SKIPPED)
            self.already += 1
            digest, seq = recorded
            if isinstance(self.index, LogLookup):
                # Digests of the recorded contents: a mismatch is a different content.
                differs = content_digest(event_bytes) != digest
                seq = self.index.log.position(seq) if differs else seq
            else:
                # Digests come from the raw rows; only a mismatch costs reading the row.
                differs = content_digest(event_bytes) != digest and canonical_bytes(
                    self.store.recorded_event(seq)) != event_bytes
            if differs:
                self.conflicts.append(
                    f"{item.where}: event {ident!r} is already recorded (log position {seq}) "
                    "with different content; to fix a recorded event, import an "
                    "EventCorrected that names it")
                self.folding = False
            return None
        self._kinds.append(_CHANGE if change else _WORLD)
        self.new += 1
        self.spool.write(event.TOPIC, event_bytes)
        if isinstance(event, EventCorrected):
            self._names_in_force(event, event.corrects, "corrects", "correct")
            return None
        if isinstance(event, EventRetracted):
            if self._names_in_force(event, event.retracts, "retracts", "retract"):
                self._retracted.add(event.retracts)
            return None
        if ident in self._final:
            return self._final.pop(ident)  # None: retracted later in this import
        return event

    def _check_first_pass(self, event_bytes: bytes) -> None:
        """The first pass must have seen this very correction or retraction, in this order."""
        digest = content_digest(event_bytes)
        if self._checked >= len(self._expected) or self._expected[self._checked] != digest:
            self.streamed = self.folding = False
        self._checked += 1

    def _names_in_force(self, event: PolicyEvent, target: str, field: str, verb: str) -> bool:
        """Whether a correction or retraction names an event in force (as corrected_log
        requires); records the first that does not."""
        position = self._seen.get(target)
        in_force = (self.index.in_force(target) or (
            position is not None and self._kinds[position] == _WORLD)) and (
            target not in self._retracted)
        if not in_force:
            if self.unknown is None:
                self.unknown = UnknownReference(event.id, field,
                                                f"no recorded event {target!r} to {verb}")
            self.folding = False
        return in_force

    def _recorded_until(self, known: datetime | None) -> Iterator[PolicyEvent]:
        """The recorded events that the fold takes before a new one known at `known` (all of
        them for None): recorded positions come before new ones at the same instant."""
        if self._recorded is None:
            self._recorded = self._recorded_in_fold_order()
            self._next = next(self._recorded, None)
        while self._next is not None and self.folding and (
                known is None or self._next[0] <= known):
            content = self._next[2]
            self._next = next(self._recorded, None)
            yield self._interner.event(content)

    def _recorded_in_fold_order(self) -> Iterator[tuple[datetime, int, PolicyEvent]]:
        """The recorded log, with its corrections and this import's applied, in fold order
        (known instant, then position), read only when the import has new events.

        A log whose positions are already in fold order (as one written by in-order imports
        is) is read as the fold takes it, one page at a time; any other is held whole and
        sorted, as the reference check does.
        """
        index = self.log_index
        if not index.count:
            return iter(())
        keys = index.keys
        for target, content in self._final.items():
            found = index.recorded(target)
            if found is not None and index.contiguous:
                keys[found[1] - 1] = GONE if content is None else fold_key(content.known)
        last = GONE
        in_order = index.contiguous
        for key in keys:
            if key != GONE:
                if key < last:
                    in_order = False
                    break
                last = key
        return self._recorded_streamed() if in_order else self._recorded_sorted()

    def _content(self, event: PolicyEvent) -> PolicyEvent | None:
        """What the fold takes for a recorded world event: its latest replacement, if any."""
        if event.id in self._final:
            return self._final.pop(event.id)
        position = self.log_index.corrected_at.get(event.id)
        if position is None:
            return event
        # Read again here rather than held: few events are corrected, and a large log's
        # corrections would take tens of megabytes.
        correction = self.store.recorded_event(position)
        if not isinstance(correction, EventCorrected):  # pragma: no cover - an edited log
            raise StoreError(f"log position {position} holds no correction; run "
                             "`tariffs verify`")
        return correction.replacement

    def _recorded_streamed(self) -> Iterator[tuple[datetime, int, PolicyEvent]]:
        for recorded in self.store.read():
            if recorded.seq > self.log_index.count:
                return  # appended meanwhile: the append will find out and start again
            if self.log_index.keys[recorded.seq - 1] == GONE:
                continue
            content = self._content(recorded.event)
            if content is not None:
                yield known_instant(content.known), recorded.seq, content

    def _recorded_sorted(self) -> Iterator[tuple[datetime, int, PolicyEvent]]:
        try:
            entries = corrected_log(r for r in self.store.read()
                                    if r.seq <= self.log_index.count)
        except LifecycleError as exc:  # only a log edited outside the application
            self.unknown = self.unknown or exc
            self.folding = False
            return iter(())
        found: list[tuple[datetime, int, PolicyEvent]] = []
        for entry in entries:
            content: PolicyEvent | None = entry.event
            if entry.event.id in self._final:
                content = self._final.pop(entry.event.id)
            if content is not None:
                found.append((known_instant(content.known), entry.seq, content))
        found.sort(key=lambda e: (e[0], e[1]))
        return iter(found)
