"""Reading event files (YAML or JSON) with the file and line of every event and field, and
checking an import while streaming it (see `ImportCheck`)."""

from __future__ import annotations

import json
import re
import tempfile
from array import array
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from types import TracebackType
from typing import IO, Any, get_args

import yaml
from pydantic import TypeAdapter, ValidationError

from domain.errors import ImportRejected, LifecycleError, StoreError, UnknownReference
from domain.timeline import fold
from events import (
    TOPICS,
    AnyEvent,
    Condition,
    EventCorrected,
    EventRetracted,
    PolicyEvent,
    Rate,
    Selector,
    known_instant,
)
from projections.replay import corrected_log
from tariffs.store import (
    GONE,
    EventStore,
    RecordedIndex,
    canonical_bytes,
    content_digest,
    fold_key,
)

SUFFIXES = (".yaml", ".yml", ".json")
_ADAPTER: TypeAdapter[PolicyEvent] = TypeAdapter(AnyEvent)

Progress = Callable[[str, int, int], None]
"""Called with (stage, done, total) as an import proceeds."""


@dataclass(frozen=True)
class Located:
    """An event read from a file, with where it was written."""

    event: PolicyEvent
    file: str
    line: int

    @property
    def where(self) -> str:
        """'file:line', for messages."""
        return f"{self.file}:{self.line}"


def event_files(paths: Iterable[Path]) -> list[Path]:
    """The event files named, folders expanded (sorted, recursively)."""
    found: list[Path] = []
    problems: list[str] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.suffix in SUFFIXES
                                and p.is_file()))
        elif path.is_file():
            found.append(path)
        else:
            problems.append(f"{path}: no such file or folder")
    if problems:
        raise ImportRejected(problems)
    return found


def _node_for(node: yaml.Node, loc: tuple[int | str, ...]) -> yaml.Node:
    """The deepest YAML node a pydantic error location reaches."""
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.value == part:
                    node = value
                    break
            # a part that names no key is a union tag (the event type): stay here
        elif (isinstance(node, yaml.SequenceNode) and isinstance(part, int)
              and 0 <= part < len(node.value)):
            node = node.value[part]
    return node


def _named_field(node: yaml.Node, loc: tuple[int | str, ...], message: str) -> tuple[str, ...]:
    """For a whole-object error, the first of its keys that the message names (or nothing)."""
    target = _node_for(node, loc)
    if not isinstance(target, yaml.MappingNode):
        return ()
    keys = [k.value for k, _ in target.value if isinstance(k, yaml.ScalarNode)]
    named = sorted((message.find(k), k) for k in keys if k in message)
    if loc and isinstance(loc[-1], str) and loc[-1] in keys:
        return ()
    return (named[0][1],) if named else ()


def _describe(data: Any) -> str:
    if isinstance(data, dict):
        ident = data.get("id", "?")
        kind = data.get("type", "?")
        return f"event {ident!r} ({kind})"
    return "event"


_SPACE = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


def _json_items(text: str) -> list[tuple[Any, int]] | None:
    """The items of a JSON list of events (or {"events": [...]}), each with its first line.

    Decoded item by item with the json module, which is two orders of magnitude faster than
    composing YAML nodes. None when the text is not exactly that shape: the caller then reads
    the file as YAML, which reports the problem with its line as before.
    """
    def skip(at: int) -> int:
        found = _SPACE.match(text, at)
        return found.end() if found is not None else at

    try:
        pos = skip(0)
        wrapped = text.startswith("{", pos)
        if wrapped:
            key, pos = _DECODER.raw_decode(text, skip(pos + 1))
            pos = skip(pos)
            if key != "events" or not text.startswith(":", pos):
                return None
            pos = skip(pos + 1)
        if not text.startswith("[", pos):
            return None
        pos = skip(pos + 1)
        items: list[tuple[Any, int]] = []
        line, counted = 1, 0
        if text.startswith("]", pos):
            pos += 1
        else:
            while True:
                line += text.count("\n", counted, pos)
                counted = pos
                item, pos = _DECODER.raw_decode(text, pos)
                items.append((item, line))
                pos = skip(pos)
                if text.startswith("]", pos):
                    pos += 1
                    break
                if not text.startswith(",", pos):
                    return None
                pos = skip(pos + 1)
        if wrapped:
            pos = skip(pos)
            if not text.startswith("}", pos):
                return None
            pos += 1
        return items if skip(pos) == len(text) else None
    except json.JSONDecodeError:
        return None


def _read_json(name: str, text: str) -> list[Located] | None:
    """The events of a well-formed, valid JSON file; None as soon as anything is wrong."""
    items = _json_items(text)
    if not items:
        return None
    located: list[Located] = []
    for item, line in items:
        try:
            event = _ADAPTER.validate_python(item)
        except ValidationError:
            return None
        located.append(Located(event, name, line))
    return located


def read_file(path: Path) -> tuple[list[Located], list[str]]:
    """The events of one file, and the problems found in it (with lines and fields).

    JSON files take a fast path (the json module); a file that is not valid JSON of the right
    shape, or holds an event that does not validate, is read again as YAML nodes so that every
    problem is reported with its file, line and field exactly as for YAML files.
    """
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return [], [f"{name}: cannot read: {exc}"]
    if path.suffix == ".json":
        fast = _read_json(name, text)
        if fast is not None:
            return fast, []
    return _read_yaml(name, text)


def _read_yaml(name: str, text: str) -> tuple[list[Located], list[str]]:
    """The events of a YAML (or JSON) text read as YAML nodes, which carry their lines."""
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        return [], [f"{name}{line}: not valid YAML/JSON: {exc}"]
    finally:
        loader.dispose()
    if root is None:
        return [], [f"{name}: the file is empty"]
    items_node: yaml.Node = root
    items: Any = data
    if isinstance(data, dict):
        if set(data) != {"events"}:
            extra = sorted(set(data) - {"events"})
            return [], [f"{name}:{root.start_mark.line + 1}: a file is a list of events or a "
                        f"mapping with only 'events' (found {extra or 'no events key'})"]
        items = data["events"]
        items_node = _node_for(root, ("events",))
    if not isinstance(items, list) or not isinstance(items_node, yaml.SequenceNode):
        return [], [f"{name}:{root.start_mark.line + 1}: expected a list of events"]
    located: list[Located] = []
    problems: list[str] = []
    for index, (item, node) in enumerate(zip(items, items_node.value, strict=True)):
        line = node.start_mark.line + 1
        try:
            event = _ADAPTER.validate_python(item)
        except ValidationError as exc:
            for error in exc.errors(include_url=False):
                loc = tuple(error["loc"])
                loc = loc + _named_field(node, loc, error["msg"])
                at = _node_for(node, loc).start_mark.line + 1
                fields = ".".join(str(p) for p in loc if not (
                    isinstance(p, str) and p[:1].isupper())) or "(event)"
                problems.append(f"{name}:{at}: {_describe(item)}, item {index + 1}, field "
                                f"'{fields}': {error['msg']}")
            continue
        located.append(Located(event, name, line))
    return located, problems


def read_paths(paths: Iterable[Path], progress: Progress | None = None) -> list[Located]:
    """Every event in the files named, or ImportRejected listing every problem found."""
    files = event_files(paths)
    located: list[Located] = []
    problems: list[str] = []
    for done, path in enumerate(files, start=1):
        events, found = read_file(path)
        located.extend(events)
        problems.extend(found)
        if progress is not None:
            progress("reading", done, len(files))
    seen: dict[str, Located] = {}
    for item in located:
        first = seen.setdefault(item.event.id, item)
        if first is not item:
            problems.append(f"{item.where}: event id {item.event.id!r} is used twice "
                            f"(first at {first.where})")
    if not files:
        problems.append("no event files (*.yaml, *.yml, *.json) found")
    if problems:
        raise ImportRejected(problems)
    return located


# ---------------------------------------------------------------- streaming import

NO_FILES = "no event files (*.yaml, *.yml, *.json) found"

Batch = tuple[list[Located], list[str]]
"""The valid events of one source (a file), in order, and the problems found in it."""


def file_batches(files: Sequence[Path], progress: Progress | None = None) -> Iterator[Batch]:
    """Each file's events and problems, one file at a time, so only one file is held."""
    for done, path in enumerate(files, start=1):
        yield read_file(path)
        if progress is not None:
            progress("reading", done, len(files))


_CHANGES = ("EventCorrected", "EventRetracted")
_CHANGE_TYPES = (EventCorrected, EventRetracted)


def changes_in(files: Sequence[Path]) -> list[PolicyEvent]:
    """The valid corrections and retractions in the files, in order (a quick first pass).

    The check folds each event as it reads it, so it must know beforehand which events a later
    correction replaces or a retraction removes. Only files that name such an event are
    decoded, and only those items are validated. This pass is a prediction: the check compares
    every correction and retraction it reads with it, and if they differ (an item left out
    here because it does not validate, a file changed meanwhile) it does not trust its fold.
    """
    found: list[PolicyEvent] = []
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue  # reported when the check reads the file
        if not any(kind in text for kind in _CHANGES):
            continue
        items: Any = None
        if path.suffix == ".json":
            try:
                items = json.loads(text)  # one call, no lines: much quicker than _json_items
            except ValueError:
                items = None
            if isinstance(items, dict):
                items = items.get("events")
        if not isinstance(items, list):
            located, _ = _read_yaml(str(path), text)
            found.extend(item.event for item in located
                         if isinstance(item.event, EventCorrected | EventRetracted))
            continue
        for item in items:
            if isinstance(item, dict) and item.get("type") in _CHANGES:
                try:
                    found.append(_ADAPTER.validate_python(item))
                except ValidationError:
                    continue
    return found


class Spool:
    """The new events of an import as (topic, canonical bytes), in log order, on disk.

    An anonymous temporary file (gone when closed, or when the process dies): a million
    events are about 700 MB of canonical JSON, which the append then reads back in order.
    Canonical JSON never holds a raw newline byte, so one event is one line.
    """

    def __init__(self) -> None:
        # Closed by __exit__: the spool is itself the context manager.
        self._file: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115
        self._topics: dict[str, bytes] = {}

    def __enter__(self) -> Spool:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self._file.close()

    def write(self, topic: str, event_bytes: bytes) -> None:
        """Add one event at the end."""
        prefix = self._topics.get(topic)
        if prefix is None:
            prefix = self._topics[topic] = topic.encode() + b" "
        self._file.write(prefix + event_bytes + b"\n")

    def rows(self) -> Iterator[tuple[str, bytes]]:
        """Every event written, in order, as (topic, canonical bytes)."""
        self._file.seek(0)
        topics = {prefix[:-1]: topic for topic, prefix in self._topics.items()}
        for line in self._file:
            topic, _, event_bytes = line[:-1].partition(b" ")
            yield topics[topic], event_bytes


class _Interner:
    """Shares equal values between the events that the validation fold keeps.

    The fold keeps each event's rates, selectors, conditions and instants in the painted
    intervals of its state: for a million events, more than a gigabyte, most of it repeated
    values (rates alone are a third). A value is shared only with one equal in everything that
    can be observed (a Decimal by its digits, an instant by its zone and fold), and only the
    copies fed to the validation fold are changed, never an event that is stored or answered
    from. Scopes are left alone: they are mostly distinct, and a memo of them (and of their
    HTS codes) took more memory than sharing them saved.
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
                if _mentions(info.annotation, (datetime, *self._FLAT)))
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
        if isinstance(value, datetime):
            key = (value, value.tzinfo, value.fold)
        elif isinstance(value, self._FLAT):
            parts = tuple(value.__dict__.values())
            # Decimal('10') == Decimal('10.0'), with one hash: key them by their digits too.
            key = (type(value), parts, *(str(p) for p in parts if isinstance(p, Decimal)))
        elif type(value) is tuple and value and isinstance(value[0], Condition):
            value = tuple(self._share(c) for c in value)
            key = (tuple, *map(id, value))  # shared conditions live as long as the memo
        else:
            return value  # a date (known), or a type not worth sharing
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
    `timeline_at` over the whole candidate log) when the new events arrive in known order;
    when they do not, or the first pass turns out wrong, `streamed` is False and the caller
    runs the reference check instead. Problems are found and ranked as the reference import
    does: reading problems and duplicate ids, then content conflicts with the log, then the
    first broken lifecycle rule.
    """

    def __init__(self, store: EventStore, index: RecordedIndex,
                 changes: Sequence[PolicyEvent], spool: Spool) -> None:
        self.store = store
        self.index = index
        self.spool = spool
        self.problems: list[str] = []
        self.twice: list[str] = []
        self.conflicts: list[str] = []
        self.unknown: LifecycleError | None = None
        self.broken: LifecycleError | None = None
        self.streamed = True
        self.folding = True
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
        if not self.streamed or self._checked != len(self._expected):
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
            event = TOPICS[topic].model_validate(json.loads(event_bytes))
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
        change = isinstance(event, _CHANGE_TYPES)
        if change:
            self._check_first_pass(event_bytes)
        recorded = self.index.recorded(ident)
        if recorded is not None:
            self._kinds.append(_SKIPPED)
            self.already += 1
            digest, seq = recorded
            # Digests come from the raw rows; only a mismatch costs reading the row properly.
            if content_digest(event_bytes) != digest and canonical_bytes(
                    self.store.recorded_event(seq)) != event_bytes:
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
        index = self.index
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
        position = self.index.corrected_at.get(event.id)
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
            if recorded.seq > self.index.count:
                return  # appended meanwhile: the append will find out and start again
            if self.index.keys[recorded.seq - 1] == GONE:
                continue
            content = self._content(recorded.event)
            if content is not None:
                yield known_instant(content.known), recorded.seq, content

    def _recorded_sorted(self) -> Iterator[tuple[datetime, int, PolicyEvent]]:
        try:
            entries = corrected_log(r for r in self.store.read() if r.seq <= self.index.count)
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
