"""Reading event files (YAML or JSON) with the file and line of every event and field."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import TypeAdapter, ValidationError

from tariff_timeline.domain.errors import (
    ImportRejected,
)
from tariff_timeline.events import (
    AnyEvent,
    EventCorrected,
    EventRetracted,
    PolicyEvent,
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
