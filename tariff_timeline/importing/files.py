"""Reading event files (YAML or JSON) with the file and line of every event and field.

Event files are untrusted input. A file is read only within the limits of `limits.py` (its
size, its nesting, its YAML aliases); it must be UTF-8 text (a leading UTF-8 byte-order mark
is ignored); YAML is read with the core schema of YAML 1.2 (`yamlcore.py`), so that no value
is typed by guesswork; a mapping may not give a key twice. Every problem is reported as
`file:line: why`, the line as exact as the reader can tell (line 1 where it cannot), and JSON
problems are located by the JSON reader itself: a large JSON file is never read twice.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import TypeAdapter, ValidationError
from pydantic_core import ErrorDetails
from yaml.error import MarkedYAMLError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.reader import ReaderError

from tariff_timeline.domain.errors import (
    ImportRejected,
)
from tariff_timeline.events import (
    AnyEvent,
    EventCorrected,
    EventRetracted,
    PolicyEvent,
)
from tariff_timeline.events.values import TEXT_PATTERN, brief
from tariff_timeline.importing import yamlcore
from tariff_timeline.importing.limits import DEFAULT_LIMITS, Limits

SUFFIXES = (".yaml", ".yml", ".json")
_ADAPTER: TypeAdapter[PolicyEvent] = TypeAdapter(AnyEvent)

MAX_PROBLEMS_LISTED = 1_000
"""Problems listed for one file; beyond them a file's problems are only counted (a file of a
million bad events would otherwise hold a million messages)."""

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


# ---------------------------------------------------------------- bytes to text

_OTHER_ENCODINGS = (
    (codecs.BOM_UTF32_LE, "UTF-32"), (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"), (codecs.BOM_UTF16_BE, "UTF-16"),
)  # fmt: skip
"""Byte-order marks of encodings that are not UTF-8 (UTF-32's first: it begins as UTF-16's)."""


def _too_large(name: str, size: int, limits: Limits) -> str:
    return (f"{name}:1: {size:,} bytes is over the limit of {limits.file_bytes:,} bytes for one "
            "file (MAX_FILE_BYTES); split the events into a folder of files")


def _text(path: Path, limits: Limits) -> tuple[str | None, str | None]:
    """The file's text, or None and why it cannot be read as event text."""
    name = str(path)
    try:
        size = path.stat().st_size
        if size > limits.file_bytes:
            return None, _too_large(name, size, limits)
        with path.open("rb") as stream:
            raw = stream.read(limits.file_bytes + 1)  # it may have grown since
    except OSError as exc:
        return None, f"{name}:1: cannot read: {exc.strerror or exc}"
    if len(raw) > limits.file_bytes:
        return None, _too_large(name, len(raw), limits)
    for mark, encoding in _OTHER_ENCODINGS:
        if raw.startswith(mark):
            return None, (f"{name}:1: the file is {encoding} (it starts with a {encoding} "
                          "byte-order mark); save it as UTF-8")
    try:
        # utf-8-sig: editors on Windows start UTF-8 with a byte-order mark; it is not content.
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        at = exc.start + (len(codecs.BOM_UTF8) if raw.startswith(codecs.BOM_UTF8) else 0)
        line = raw.count(b"\n", 0, at) + 1
        return None, f"{name}:{line}: not UTF-8 text: byte 0x{raw[at]:02x}, {exc.reason}"
    nul = text.find("\x00")
    if nul >= 0:
        line = text.count("\n", 0, nul) + 1
        return None, f"{name}:{line}: holds a NUL character (U+0000): event files are text"
    return text, None


_UNPRINTABLE = re.compile(r"[^\t\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _printable(message: str) -> str:
    """A message with control characters and lone surrogates written as escapes, so that a
    terminal or a log can show it (input may hold anything)."""
    return _UNPRINTABLE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"),
                            message)


# ---------------------------------------------------------------- where a value was written

_Tree = tuple[int, "dict[object, _Tree] | list[_Tree] | None"]
"""The line a value starts on, and the same for what it holds (by key or by index)."""


def _yaml_tree(node: Node) -> _Tree:
    line = node.start_mark.line + 1
    if isinstance(node, MappingNode):
        children: dict[object, _Tree] = {}
        for key, value in node.value:
            if isinstance(key, ScalarNode):
                children.setdefault(key.value, _yaml_tree(value))
        return line, children
    if isinstance(node, SequenceNode):
        return line, [_yaml_tree(value) for value in node.value]
    return line, None


_SPACE = re.compile(r"[ \t\n\r]*")
_PLAIN = json.JSONDecoder()
_scan_string: Callable[[str, int], tuple[str, int]] = json.decoder.scanstring  # type: ignore[attr-defined]


def _skip(text: str, at: int) -> int:
    found = _SPACE.match(text, at)
    return found.end() if found is not None else at


class _Lines:
    """Line numbers of offsets in a text, counted forward from the last one asked about."""

    def __init__(self, text: str, line: int = 1, at: int = 0) -> None:
        self.text = text
        self.line = line
        self.at = at

    def of(self, at: int) -> int:
        """The line the offset is on (offsets are asked about in increasing order)."""
        if at < self.at:
            return self.line - self.text.count("\n", at, self.at)
        self.line += self.text.count("\n", self.at, at)
        self.at = at
        return self.line


def _json_tree(text: str, at: int, lines: _Lines,
               duplicates: list[tuple[int, str]]) -> tuple[_Tree, int]:
    """The tree of lines of the JSON value that starts at `at`, and where it ends.

    Only called for an item that is well-formed (at least up to a key given twice, which is
    added to `duplicates`) and nested no deeper than the limit.
    """
    line = lines.of(at)
    if text.startswith("{", at):
        children: dict[object, _Tree] = {}
        at = _skip(text, at + 1)
        while text.startswith('"', at):
            key_line = lines.of(at)
            key, at = _scan_string(text, at + 1)
            at = _skip(text, _skip(text, at) + 1)  # past the colon
            child, at = _json_tree(text, at, lines, duplicates)
            if key in children:
                duplicates.append((key_line, key))
            children.setdefault(key, child)
            at = _skip(text, at)
            at = _skip(text, at + 1) if text.startswith(",", at) else at
        return (line, children), at + 1
    if text.startswith("[", at):
        items: list[_Tree] = []
        at = _skip(text, at + 1)
        while at < len(text) and not text.startswith("]", at):
            child, at = _json_tree(text, at, lines, duplicates)
            items.append(child)
            at = _skip(text, at)
            at = _skip(text, at + 1) if text.startswith(",", at) else at
        return (line, items), at + 1
    _, end = _PLAIN.raw_decode(text, at)
    return (line, None), end


def _reach(tree: _Tree, loc: tuple[int | str, ...]) -> _Tree:
    """The deepest value a pydantic error location reaches."""
    for part in loc:
        children = tree[1]
        if isinstance(children, list):
            children = dict(enumerate(children)) if isinstance(part, int) else None
        if children is not None and part in children:
            tree = children[part]
        # a part that names no key is a union tag (the event type): stay here
    return tree


def _named_field(tree: _Tree, loc: tuple[int | str, ...], message: str) -> tuple[str, ...]:
    """For a whole-object error, the first of its keys that the message names (or nothing)."""
    children = _reach(tree, loc)[1]
    if not isinstance(children, dict):
        return ()
    keys = [k for k in children if isinstance(k, str)]
    named = sorted((message.find(k), k) for k in keys if k in message)
    if loc and isinstance(loc[-1], str) and loc[-1] in keys:
        return ()
    return (named[0][1],) if named else ()


def _short(name: str) -> str:
    """A field name as a message shows it (an unknown key may be any length)."""
    return name if len(name) <= 60 else name[:55] + "[...]"


def _describe(data: Any) -> str:
    if isinstance(data, dict):
        ident, kind = data.get("id"), data.get("type")
        shown = kind if isinstance(kind, str) and kind.isidentifier() and len(kind) < 40 else (
            "?" if kind is None else brief(kind, 40))
        return f"event {'?' if ident is None else brief(ident)} ({shown})"
    return "event"


def _why(error: ErrorDetails) -> str:
    """What a validation error says, in the words of the import format."""
    kind = error["type"]
    if kind == "value_error":
        return str(error.get("ctx", {}).get("error", error["msg"]))
    text = error["input"] if isinstance(error["input"], str) else ""
    if kind == "string_unicode":
        odd = next((c for c in text if "\ud800" <= c <= "\udfff"), None)
        if odd is not None:
            return (f"holds U+{ord(odd):04X}, half of a UTF-16 surrogate pair, which is not a "
                    "character on its own")
    if kind == "string_pattern_mismatch" and error.get("ctx", {}).get("pattern") == TEXT_PATTERN:
        odd = next((c for c in text if _UNPRINTABLE.match(c) and c not in "\n\r"), None)
        if odd is not None:
            return f"holds the control character U+{ord(odd):04X}; text may not hold them"
    return error["msg"]


class _Problems:
    """The problems of one file, each `file:line: ...`, listed up to MAX_PROBLEMS_LISTED."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.listed: list[str] = []
        self.more = 0

    def add(self, line: int, message: str) -> None:
        """One problem at a line of the file."""
        if len(self.listed) < MAX_PROBLEMS_LISTED:
            self.listed.append(_printable(f"{self.name}:{line}: {message}"))
        else:
            self.more += 1

    def invalid(self, index: int, item: Any, tree: _Tree, exc: ValidationError) -> None:
        """Every error of an item that did not validate, at the line of its field."""
        for error in exc.errors(include_url=False):
            loc = tuple(error["loc"])
            why = _why(error)
            loc = loc + _named_field(tree, loc, why)
            fields = ".".join(_short(str(p)) for p in loc if not (
                isinstance(p, str) and p[:1].isupper())) or "(event)"
            self.add(_reach(tree, loc)[0], f"{_describe(item)}, item {index + 1}, field "
                                           f"'{fields}': {why}")

    def all(self) -> list[str]:
        """Every problem listed, and how many more there were."""
        if self.more:
            return [*self.listed, f"{self.name}: ... and {self.more:,} more problem(s) in this "
                                  "file"]
        return self.listed


# ---------------------------------------------------------------- reading a file


def read_file(path: Path, limits: Limits = DEFAULT_LIMITS) -> tuple[list[Located], list[str]]:
    """The events of one file, and the problems found in it (with lines and fields)."""
    text, problem = _text(path, limits)
    if text is None:
        return [], [_printable(problem or f"{path}:1: cannot be read")]
    if path.suffix == ".json":
        return _read_json(str(path), text, limits)
    return _read_yaml(str(path), text, limits)


def _read_yaml(name: str, text: str, limits: Limits = DEFAULT_LIMITS) -> tuple[
        list[Located], list[str]]:
    """The events of a YAML text read as YAML nodes, which carry their lines."""
    problems = _Problems(name)
    odd = _YAML_BREAKS.search(text)
    if odd is not None:
        problems.add(text.count("\n", 0, odd.start()) + 1, _yaml_break(odd.group()))
        return [], problems.all()
    try:
        root, data = yamlcore.load(text, limits)
    except yaml.YAMLError as exc:
        problems.add(*_yaml_problem(text, exc))
        return [], problems.all()
    if root is None:
        problems.add(1, "the file is empty")
        return [], problems.all()
    items_node: Node = root
    items: Any = data
    if isinstance(data, dict):
        if set(data) != {"events"}:
            extra = sorted(map(str, set(data) - {"events"}))
            problems.add(root.start_mark.line + 1, "a file is a list of events or a mapping "
                         f"with only 'events' (found {extra or 'no events key'})")
            return [], problems.all()
        items = data["events"]
        items_node = next(v for k, v in root.value if isinstance(k, ScalarNode)
                          and k.value == "events")
    if not isinstance(items, list) or not isinstance(items_node, SequenceNode):
        problems.add(root.start_mark.line + 1, "expected a list of events")
        return [], problems.all()
    located: list[Located] = []
    for index, (item, node) in enumerate(zip(items, items_node.value, strict=True)):
        try:
            event = _ADAPTER.validate_python(item)
        except ValidationError as exc:
            problems.invalid(index, item, _yaml_tree(node), exc)
            continue
        located.append(Located(event, name, node.start_mark.line + 1))
    return located, problems.all()


_YAML_BREAKS = re.compile("[\x80-\x9f\u2028\u2029]")
"""C1 controls (NEL among them) and the Unicode line and paragraph separators: YAML 1.1
readers, PyYAML's too, end a line at NEL, U+2028 and U+2029, where YAML 1.2 and JSON read
text; whichever is meant, the value would change without a word."""


def _yaml_break(character: str) -> str:
    code = f"U+{ord(character):04X}"
    if character in "\u2028\u2029":
        return (f"holds {code}, which YAML readers take as a line break or as text depending "
                f"on their version: write it as \\u{ord(character):04x} in double quotes, or "
                "remove it")
    return (f"holds the control character {code} (often '…' or a quote from a file decoded "
            "as Latin-1); control characters are not text")


def _yaml_problem(text: str, exc: yaml.YAMLError) -> tuple[int, str]:
    """Where and why a YAML text could not be read."""
    if isinstance(exc, ReaderError):
        line = text.count("\n", 0, exc.position) + 1
        return line, (f"holds the character U+{exc.character:04X}, which YAML does not allow "
                      "(control characters are not text)")
    if isinstance(exc, yamlcore.LimitExceeded):
        mark = exc.problem_mark
        return (mark.line + 1 if mark is not None else 1), str(exc.problem)
    if isinstance(exc, MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        why = "; ".join(str(p) for p in (exc.context, exc.problem) if p)
        return (mark.line + 1 if mark is not None else 1), f"not valid YAML: {why}"
    return 1, f"not valid YAML: {exc}"


# ---------------------------------------------------------------- JSON

_BRACKETS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


def _too_deep(text: str, at: int, depth: int, limits: Limits,
              end: int | None = None) -> int | None:
    """Where, from `at` (inside `depth` lists or mappings) up to `end`, the nesting passes the
    limit."""
    # Bounded by the item's end when it is known: scanning on to the end of the text made
    # reading a file of many bracket-rich items quadratic (the HTS nomenclature files).
    for found in _BRACKETS.finditer(text, at, len(text) if end is None else end):
        token = found.group()
        if token in "[{":
            depth += 1
            if depth >= limits.depth:  # what it holds would be one level deeper still
                return found.start()
        elif token in "]}":
            depth -= 1
            if depth <= 0:
                return None
    return None


def _unique_keys(duplicates: list[str]) -> json.JSONDecoder:
    """A JSON decoder that notes each mapping key given twice, instead of keeping the last."""
    def unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        data = dict(pairs)
        if len(data) != len(pairs):
            seen: set[str] = set()
            for key, _ in pairs:
                if key in seen:
                    duplicates.append(key)
                seen.add(key)
        return data
    return json.JSONDecoder(object_pairs_hook=unique)


def _deeper(limits: Limits) -> str:
    return f"nested more than {limits.depth} levels deep (the nesting limit, MAX_DEPTH)"


class _JsonFile:
    """One JSON text of events, read item by item with the json module.

    A list of events or {"events": [...]}. Each item is decoded alone, so only one is held
    undecoded-and-unvalidated at a time, and every problem is located here, from offsets
    (a large file is never read a second time to find a line). A text that is not JSON of
    that shape, too deep, or gives a key twice is `broken`: none of its events are taken.
    """

    def __init__(self, text: str, limits: Limits, problems: _Problems) -> None:
        self.text = text
        self.limits = limits
        self.problems = problems
        self.lines = _Lines(text)
        self.broken = False
        self._duplicates: list[str] = []
        self._decoder = _unique_keys(self._duplicates)

    def refuse(self, at: int, why: str) -> None:
        """The text is not an event file: say where and why."""
        self.problems.add(self.lines.of(at), why)
        self.broken = True

    def items(self) -> Iterator[tuple[Any, int, int]]:
        """Each item, with the line and offset it starts at, until the text ends or breaks."""
        text = self.text
        at = _skip(text, 0)
        if at == len(text):
            self.refuse(0, "the file is empty")
            return
        wrapped = text.startswith("{", at)
        if wrapped:
            first = at
            at = _skip(text, at + 1)
            try:
                key, at = _PLAIN.raw_decode(text, at)
            except ValueError:
                key = None
            at = _skip(text, at)
            if key != "events" or not text.startswith(":", at):
                found = brief(key) if key is not None else "no events key"
                self.refuse(first, "a file is a list of events or a mapping with only "
                            f"'events' (found {found})")
                return
            at = _skip(text, at + 1)
        if not text.startswith("[", at):
            self.refuse(at, "expected a list of events")
            return
        at = _skip(text, at + 1)
        depth = 2 if wrapped else 1
        if not text.startswith("]", at):
            while True:
                item = self._item(at, depth)
                if item is None:
                    return
                yield item[:3]
                at = _skip(text, item[3])
                if text.startswith("]", at):
                    break
                if not text.startswith(",", at):
                    self.refuse(at, "not valid JSON: expected ',' or ']' after an event")
                    return
                at = _skip(text, at + 1)
        at = _skip(text, at + 1)
        if wrapped:
            if not text.startswith("}", at):
                self.refuse(at, "a file is a list of events or a mapping with only 'events' "
                            "(found more after the list)")
                return
            at = _skip(text, at + 1)
        if at != len(text):
            self.refuse(at, "not valid JSON: more after the list of events")

    def _item(self, start: int, depth: int) -> tuple[Any, int, int, int] | None:
        """The item at `start` (inside `depth` lists and mappings): its value, line, start and
        end; None when it breaks the file."""
        text = self.text
        line = self.lines.of(start)
        try:
            item, end = self._decoder.raw_decode(text, start)
        except json.JSONDecodeError as exc:
            self.refuse(exc.pos, f"not valid JSON: {exc.msg} (column {exc.colno})")
            return None
        except RecursionError:
            deep = _too_deep(text, start, depth, self.limits)
            self.refuse(start if deep is None else deep, _deeper(self.limits))
            return None
        except ValueError as exc:  # a number of more digits than Python converts
            self.refuse(start, f"not valid JSON: {str(exc).split(';')[0]}")
            return None
        # Cheap first: an item holding fewer brackets than the limit cannot pass it.
        if text.count("[", start, end) + text.count("{", start, end) + depth >= self.limits.depth:
            deep = _too_deep(text, start, depth, self.limits, end)
            if deep is not None:
                self.refuse(deep, _deeper(self.limits))
                return None
        if self._duplicates:
            places: list[tuple[int, str]] = []
            _json_tree(text, start, _Lines(text, line, start), places)
            key_line, key = places[0] if places else (line, self._duplicates[0])
            self.problems.add(key_line, f"the key {brief(key)} is given twice")
            self.broken = True
            return None
        return item, line, start, end


def _read_json(name: str, text: str, limits: Limits = DEFAULT_LIMITS) -> tuple[
        list[Located], list[str]]:
    """The events of a JSON text, and its problems, located by the JSON reader itself."""
    problems = _Problems(name)
    reader = _JsonFile(text, limits, problems)
    located: list[Located] = []
    for index, (item, line, start) in enumerate(reader.items()):
        try:
            event = _ADAPTER.validate_python(item)
        except ValidationError as exc:
            tree, _ = _json_tree(text, start, _Lines(text, line, start), [])
            problems.invalid(index, item, tree, exc)
            continue
        located.append(Located(event, name, line))
    return ([] if reader.broken else located), problems.all()


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


def changes_in(files: Sequence[Path]) -> list[PolicyEvent]:
    """The valid corrections and retractions in the files, in order (a quick first pass).

    The check folds each event as it reads it, so it must know beforehand which events a later
    correction replaces or a retraction removes. Only files that name such an event are
    decoded, and only those items are validated. This pass is a prediction: the check compares
    every correction and retraction it reads with it, and if they differ (an item left out
    here because it does not validate, a file changed meanwhile) it does not trust its fold.
    A file that cannot be read within the limits is left out here: the check reports it.
    """
    found: list[PolicyEvent] = []
    for path in files:
        text, _ = _text(path, DEFAULT_LIMITS)
        if text is None or not any(kind in text for kind in _CHANGES):
            continue
        if path.suffix != ".json":
            located, _ = _read_yaml(str(path), text)
            found.extend(item.event for item in located
                         if isinstance(item.event, EventCorrected | EventRetracted))
            continue
        try:
            items: Any = json.loads(text)  # one call, no lines: much quicker than _JsonFile
        except (ValueError, RecursionError):
            continue
        if isinstance(items, dict):
            items = items.get("events")
        for item in items if isinstance(items, list) else ():
            if isinstance(item, dict) and item.get("type") in _CHANGES:
                try:
                    found.append(_ADAPTER.validate_python(item))
                except ValidationError:
                    continue
    return found
