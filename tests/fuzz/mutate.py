"""The mutation engine: seeded cases made by mutating valid import files, as an attacker or a
careless person would.

A case is one file (YAML or JSON bytes) made from a valid base document (a bundled data file
that imports alone, or a small history from `benchmarks.generate`) by one or two mutations of
its types, dates, codes, encoding, structure, size, aliases or depth. Each mutation says what
the import must do with the result: `REFUSE` (it must be refused), `ACCEPT` (it must be
accepted: the mutation changes nothing that matters) or `MAY` (either, as long as it is
refused cleanly or stored as read: shuffling events may or may not break a lifecycle).
`case(seed, index)` is deterministic: a failing case is re-made from its seed and index.
"""

from __future__ import annotations

import copy
import itertools
import json
import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from functools import cache
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

import yaml
from yaml.emitter import Emitter
from yaml.representer import SafeRepresenter
from yaml.serializer import Serializer

from benchmarks.generate import Generator
from tariff_timeline.importing.limits import MAX_FILE_BYTES
from tariff_timeline.importing.yamlcore import CoreResolver, load

Expect = Literal["REFUSE", "ACCEPT", "MAY"]
REPO = Path(__file__).resolve().parents[2]
STANDALONE = ("ieepa-china-fentanyl.yaml", "ieepa-brazil-india.yaml", "other-actions.yaml",
              "s232-steel-aluminium.yaml", "ieepa-reciprocal-2025.yaml",
              "generated-s232-lists.yaml")
"""Bundled files that import alone into an empty store (the rest name measures of others)."""

EASTERN = ZoneInfo("America/New_York")
TEXT_FIELDS = ("title", "note", "holding", "terms", "step", "reason", "description")
DATE_FIELDS = ("known", "effective_from", "effective_until", "planned_from")
BOOL_FIELDS = ("products_complete", "closed", "remainder", "in_effect")


@dataclass(frozen=True)
class Case:
    """One file to import and what the import must do with it."""

    index: int
    kinds: tuple[str, ...]
    expect: Expect
    suffix: str
    content: bytes
    pad_to: int | None = None

    def write(self, folder: Path) -> Path:
        """The case as a file in `folder` (padded with zero bytes, sparsely, if it says so)."""
        path = folder / f"case-{self.index}{self.suffix}"
        path.write_bytes(self.content)
        if self.pad_to is not None:
            with path.open("r+b") as stream:
                stream.truncate(self.pad_to)
        return path


# ---------------------------------------------------------------- documents


class FuzzDumper(Emitter, Serializer, SafeRepresenter, CoreResolver):  # type: ignore[misc]
    """Writes YAML as a person would, typed by the import's own (YAML 1.2 core) resolver:
    dates are left plain, text that would read as a number is quoted."""

    def __init__(self, stream: Any, default_style: str | None = None,
                 default_flow_style: bool | None = False, canonical: bool | None = None,
                 indent: int | None = None, width: int | None = None,
                 allow_unicode: bool | None = None, line_break: str | None = None,
                 encoding: str | None = None, explicit_start: bool | None = None,
                 explicit_end: bool | None = None, version: Any = None, tags: Any = None,
                 sort_keys: bool = True) -> None:
        Emitter.__init__(self, stream, canonical=canonical, indent=indent, width=width,
                         allow_unicode=allow_unicode, line_break=line_break)
        Serializer.__init__(self, encoding=encoding, explicit_start=explicit_start,
                            explicit_end=explicit_end, version=version, tags=tags)
        SafeRepresenter.__init__(self, default_style=default_style,
                                 default_flow_style=default_flow_style, sort_keys=sort_keys)
        CoreResolver.__init__(self)


_UNSET = object()
"""A document's root when it is the usual one (its events, wrapped or bare)."""


@dataclass
class Doc:
    """A document being mutated: its events, how it will be written, and edits to make to
    its text and bytes once written."""

    rng: random.Random
    events: list[Any]
    fmt: Literal["json", "yaml"]
    raw: str | None = None
    root: Literal["wrapped", "bare"] = "wrapped"
    texts: list[Callable[[str], str]] = field(default_factory=list)
    edits: list[Callable[[bytes], bytes]] = field(default_factory=list)
    pad_to: int | None = None
    marks: Iterator[int] = field(default_factory=itertools.count)
    root_object: Any = field(default_factory=lambda: _UNSET)

    def changed(self) -> list[Any]:
        """The events, to change: the document will be written again from them."""
        self.raw = None
        return self.events

    def mark(self, replacement: str) -> str:
        """A placeholder value whose written form becomes `replacement`, verbatim."""
        token = f"zqxmark{next(self.marks)}"
        pattern = re.compile(rf"[\"']?{token}[\"']?")
        self.texts.append(lambda text: pattern.sub(lambda _: replacement, text, count=1))
        self.raw = None
        return token

    def text(self) -> str:
        """The document written as YAML or JSON, with its text edits made."""
        if self.raw is not None:
            written = self.raw
        else:
            root: Any = self.root_object if self.root_object is not _UNSET else (
                {"events": self.events} if self.root == "wrapped" else self.events)
            written = self._json(root) if self.fmt == "json" else self._yaml(root)
        for edit in self.texts:
            written = edit(written)
        return written

    def _json(self, root: Any) -> str:
        rng = self.rng
        ascii_only = rng.random() < 0.7
        if rng.random() < 0.7:  # one event a line, as the benchmark writes them
            if isinstance(root, dict) and list(root) == ["events"] and isinstance(
                    root["events"], list):
                body = ",\n".join(json.dumps(e, ensure_ascii=ascii_only) for e in root["events"])
                return '{"events": [\n' + body + "\n]}\n"
            if isinstance(root, list):
                body = ",\n".join(json.dumps(e, ensure_ascii=ascii_only) for e in root)
                return "[\n" + body + "\n]\n"
        return json.dumps(root, indent=rng.choice([None, 2]), ensure_ascii=ascii_only) + "\n"

    def _yaml(self, root: Any) -> str:
        rng = self.rng
        return yaml.dump(root, Dumper=FuzzDumper, sort_keys=False,
                         allow_unicode=rng.random() < 0.7,
                         default_flow_style=rng.choice([False, None]),
                         width=rng.choice([80, 4096]))

    def content(self) -> bytes:
        """The bytes of the file, with the byte edits made."""
        data = self.text().encode("utf-8", "surrogatepass")
        for edit in self.edits:
            data = edit(data)
        return data


@cache
def _bundled(name: str) -> tuple[str, list[Any]]:
    text = (REPO / "data" / name).read_text(encoding="utf-8")
    _, data = load(text)
    return text, data["events"]


@cache
def _generated(seed: int, events: int) -> list[Any]:
    return list(Generator(events, seed))


def base(rng: random.Random) -> Doc:
    """A valid document to mutate: a bundled file (as written) or a generated history."""
    if rng.random() < 0.4:
        name = rng.choice(STANDALONE)
        text, events = _bundled(name)
        return Doc(rng, copy.deepcopy(events), "yaml", raw=text)
    events = copy.deepcopy(_generated(rng.randrange(8), rng.choice((5, 12, 30))))
    fmt: Literal["json", "yaml"] = "json" if rng.random() < 0.6 else "yaml"
    doc = Doc(rng, events, fmt)
    doc.root = "wrapped" if rng.random() < 0.7 else "bare"
    return doc


# ---------------------------------------------------------------- where to mutate


def _walk(value: Any) -> Iterator[Any]:
    yield value
    if isinstance(value, dict):
        for child in value.values():
            yield from _walk(child)
    elif isinstance(value, list):
        for child in value:
            yield from _walk(child)


def _mappings_with(doc: Doc, *keys: str) -> list[dict[str, Any]]:
    return [m for e in doc.events for m in _walk(e)
            if isinstance(m, dict) and any(k in m for k in keys)]


def _scopes(doc: Doc) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for mapping in _mappings_with(doc, "scope", "partners"):
        found.extend(mapping[k] for k in ("scope", "partners")
                     if isinstance(mapping.get(k), dict))
    return found


def _codes(doc: Doc) -> list[tuple[list[Any], int]]:
    """(list, index) of every HTS code that is not ALL."""
    return [(scope[key], i) for scope in _scopes(doc) for key in ("products", "products_except")
            if isinstance(scope.get(key), list)
            for i, code in enumerate(scope[key]) if code != "ALL"]


def _dates(doc: Doc, *fields: str) -> list[tuple[dict[str, Any], str]]:
    return [(m, f) for m in _mappings_with(doc, *fields) for f in fields
            if isinstance(m.get(f), str)]


def _event(doc: Doc) -> dict[str, Any]:
    events = [e for e in doc.changed() if isinstance(e, dict)]
    return doc.rng.choice(events)


# ---------------------------------------------------------------- mutations

Mutation = Callable[[random.Random, Doc], Expect | None]
"""Changes a document and says what the import must do with it; None: not applicable here."""


def identity(rng: random.Random, doc: Doc) -> Expect:
    """Nothing changes (the base itself, written in one of the formats)."""
    if rng.random() < 0.5:
        doc.changed()
    return "ACCEPT"


def crlf(rng: random.Random, doc: Doc) -> Expect:
    """Windows line ends."""
    doc.texts.append(lambda text: text.replace("\n", "\r\n"))
    return "ACCEPT"


def utf8_bom(rng: random.Random, doc: Doc) -> Expect:
    """A UTF-8 byte-order mark before the text."""
    doc.edits.append(lambda data: b"\xef\xbb\xbf" + data)
    return "ACCEPT"


def shared_sources(rng: random.Random, doc: Doc) -> Expect | None:
    """Every event cites the same sources object: YAML writes an anchor and aliases."""
    if doc.fmt != "yaml":
        return None
    events = [e for e in doc.changed() if isinstance(e, dict) and "sources" in e]
    shared = events[0]["sources"]
    for event in events:
        event["sources"] = shared
    return "ACCEPT"


def unicode_text(rng: random.Random, doc: Doc) -> Expect:
    """Text in other scripts, with characters beyond the BMP (as caveats, which no other
    mutation touches, so that it cannot undo one)."""
    _event(doc)["caveats"] = [rng.choice(["Zölle auf Waren", "関税 📦", "ﬁ\u200d\u00a0é\tx\ny"])]
    return "ACCEPT"


def effective_as_datetime(rng: random.Random, doc: Doc) -> Expect | None:
    """An effective date written as the very instant it means (12:01 a.m. US Eastern)."""
    found = [(m, f) for m, f in _dates(doc, "effective_from", "effective_until")
             if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", m[f]) and _is_date(m[f])]
    if not found:
        return None
    mapping, name = rng.choice(found)
    doc.changed()
    instant = datetime.combine(date.fromisoformat(mapping[name]), time(0, 1), tzinfo=EASTERN)
    mapping[name] = instant.isoformat()
    return "ACCEPT"


def _is_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def date_not_text(rng: random.Random, doc: Doc) -> Expect | None:
    """A date written as a number (20250301, 2025.03), a boolean, a list or a mapping."""
    found = _dates(doc, *DATE_FIELDS)
    if not found:
        return None
    mapping, name = rng.choice(found)
    doc.changed()
    # The digits alone: an earlier mutation of the case may have left a malformed date.
    digits = "".join(c for c in mapping[name][:10] if c.isdigit()) or "20250301"
    mapping[name] = rng.choice([int(digits), float(digits[:4] + "." + digits[4:6]), True,
                                [mapping[name]], {"date": mapping[name]}])
    return "REFUSE"


def date_unquoted_number(rng: random.Random, doc: Doc) -> Expect | None:
    """A date written as bare digits in the file: 20250301 (or 0x, 0o, 1e3 forms)."""
    found = _dates(doc, *DATE_FIELDS)
    if not found:
        return None
    mapping, name = rng.choice(found)
    # The digits alone: an earlier mutation of the case may have left a malformed date.
    digits = "".join(c for c in mapping[name][:10] if c.isdigit()) or "20250301"
    mapping[name] = doc.mark(rng.choice([digits, "0o17", "0x1F", "1e3", "-1", "true"]))
    return "REFUSE"


def date_malformed(rng: random.Random, doc: Doc) -> Expect | None:
    """A date that is not an ISO date or a datetime with its offset."""
    found = _dates(doc, *DATE_FIELDS)
    if not found:
        return None
    mapping, name = rng.choice(found)
    doc.changed()
    mapping[name] = rng.choice([
        "2025-02-30", "2025-13-01", "2025/03/01", "01.03.2025", "2025-3-1", "20250301",
        "March 1, 2025", "", " ", "2025-03-01T10:00:00", "2025-03-01 10:00", "today",
        "2025-03-01T25:00:00-05:00", "2025-03-01T10:00:00+25:00"])
    return "REFUSE"


def until_not_after_from(rng: random.Random, doc: Doc) -> Expect | None:
    """An effective interval that ends when (or before) it starts."""
    found = [m for m in _mappings_with(doc, "effective_from")
             if isinstance(m.get("effective_from"), str) and "type" in m
             and m["type"] in ("MeasureImposed", "RateChanged", "ScopeAmended",
                               "MeasurePaused", "ExemptionGranted", "QuotaOpened",
                               "StackingRuleSet", "StackingRuleChanged")]
    if not found:
        return None
    mapping = rng.choice(found)
    doc.changed()
    mapping["effective_until"] = mapping["effective_from"]
    return "REFUSE"


def hts_not_text(rng: random.Random, doc: Doc) -> Expect | None:
    """An HTS code as a number, a boolean or null."""
    found = _codes(doc)
    if not found:
        return None
    codes, i = rng.choice(found)
    doc.changed()
    digits = str(codes[i]).replace(".", "")
    codes[i] = rng.choice([int(digits), float(digits[:4] + "." + (digits[4:] or "0")), True,
                           None])
    return "REFUSE"


def hts_unquoted(rng: random.Random, doc: Doc) -> Expect | None:
    """An HTS code written bare: 0101, 9503 or 8703.23 (YAML reads numbers, not codes)."""
    found = _codes(doc)
    if not found:
        return None
    codes, i = rng.choice(found)
    digits = str(codes[i]).replace(".", "")
    codes[i] = doc.mark(rng.choice([digits, "0" + digits[1:], digits[:4] + "." + digits[4:6]
                                    if len(digits) > 4 else digits]))
    return "REFUSE"


def hts_malformed(rng: random.Random, doc: Doc) -> Expect | None:
    """An HTS code with a space, a letter, an odd number of digits or stray dots."""
    found = _codes(doc)
    if not found:
        return None
    codes, i = rng.choice(found)
    doc.changed()
    digits = str(codes[i]).replace(".", "")
    codes[i] = rng.choice([digits[:4] + " " + digits[4:] if len(digits) > 4 else digits + " 00",
                           digits[:-1] + "x", digits + "0", digits[:4] + ".." + digits[4:],
                           "." + digits, "", "ALL " + digits, "\u0669" * 4, digits + "\n00"])
    return "REFUSE"


def scope_incomplete(rng: random.Random, doc: Doc) -> Expect | None:
    """A scope that is empty or leaves out its origins or its products."""
    scopes = _scopes(doc)
    if not scopes:
        return None
    scope = rng.choice(scopes)
    doc.changed()
    choice = rng.randrange(3)
    if choice == 0:
        scope.clear()
    else:
        scope.pop("origins" if choice == 1 else "products", None)
    return "REFUSE"


def scope_all_combined(rng: random.Random, doc: Doc) -> Expect | None:
    """ALL beside other origins, or excluded."""
    scopes = _scopes(doc)
    if not scopes:
        return None
    scope = rng.choice(scopes)
    doc.changed()
    if rng.random() < 0.5:
        scope["origins"] = ["ALL", "JP"]
    else:
        scope["origins_except"] = ["ALL"]
    return "REFUSE"


def origin_unknown(rng: random.Random, doc: Doc) -> Expect | None:
    """An origin that is no country, group or ALL."""
    scopes = [s for s in _scopes(doc) if isinstance(s.get("origins"), list)]
    if not scopes:
        return None
    doc.changed()
    rng.choice(scopes)["origins"] = [rng.choice(["ZZ", "XX", "EUR", "", "J P", 81])]
    return "REFUSE"


def norway_plain(rng: random.Random, doc: Doc) -> Expect | None:
    """Origins written NO, ON or Y unquoted in YAML: text (Norway is a country)."""
    scopes = [s for s in _scopes(doc) if isinstance(s.get("origins"), list)]
    if doc.fmt != "yaml" or not scopes:
        return None
    doc.changed()
    rng.choice(scopes)["origins"] = [doc.mark(rng.choice(["NO", "no", "No"]))]
    return "MAY"


def bool_not_bool(rng: random.Random, doc: Doc) -> Expect | None:
    """A true/false field given as text, a number or a YAML 1.1 word (yes, off)."""
    scopes = _scopes(doc)
    if not scopes:
        return None
    scope = rng.choice(scopes)
    value = rng.choice(["true", "false", "yes", 1, 0, "on"])
    if rng.random() < 0.5 and doc.fmt == "yaml":
        scope["products_complete"] = doc.mark(rng.choice(["yes", "no", "on", "off", "y", "1"]))
    else:
        doc.changed()
        scope["products_complete"] = value
    return "REFUSE"


def percent_changed(rng: random.Random, doc: Doc) -> Expect | None:
    """A rate that is negative, above 1000, not finite, or of thousands of digits."""
    rates = [m["rate"] for m in _mappings_with(doc, "rate") if isinstance(m.get("rate"), dict)]
    if not rates:
        return None
    rate = rng.choice(rates)
    if rng.random() < 0.4:
        raw = rng.choice(["9" * 5000, "1e999", "-1e999", ".nan" if doc.fmt == "yaml" else "NaN",
                          ".inf" if doc.fmt == "yaml" else "Infinity", "0x10000"])
        rate["percent"] = doc.mark(raw)
    else:
        doc.changed()
        rate["percent"] = rng.choice([-1, 1000.5, 1001, "ten", "", None, [10], "1e999"])
    return "REFUSE"


def percent_as_text(rng: random.Random, doc: Doc) -> Expect | None:
    """A rate given as a decimal string ("10", "2.5"): exact, so it may be read."""
    rates = [m["rate"] for m in _mappings_with(doc, "rate") if isinstance(m.get("rate"), dict)
             and isinstance(m["rate"].get("percent"), int | float)]
    if not rates:
        return None
    doc.changed()
    rate = rng.choice(rates)
    rate["percent"] = str(rate["percent"])
    return "MAY"


def field_wrong_type(rng: random.Random, doc: Doc) -> Expect:
    """The id, type or a piece of text given as a number, a list, a mapping or null."""
    event = _event(doc)
    name = rng.choice([k for k in ("id", "type", "title", "sources", "measure") if k in event])
    event[name] = rng.choice([42, 4.2, ["x"], {"x": 1}, None, False])
    return "REFUSE"


def field_missing(rng: random.Random, doc: Doc) -> Expect:
    """A field every event needs, left out."""
    event = _event(doc)
    event.pop(rng.choice(["id", "type", "known", "sources"]), None)
    return "REFUSE"


def field_unknown(rng: random.Random, doc: Doc) -> Expect:
    """A field the format does not have, in an event or in a value inside it."""
    targets = [m for m in _walk(_event(doc)) if isinstance(m, dict)]
    rng.choice(targets)[rng.choice(["colour", "Known", "effective_form", "id_", "<<", ""])] = 1
    return "REFUSE"


def type_unknown(rng: random.Random, doc: Doc) -> Expect:
    """An event type that does not exist (a typo, another case, a version)."""
    event = _event(doc)
    event["type"] = rng.choice(["MeasureImposd", "measureimposed", "MeasureImposed.v2", ""])
    return "REFUSE"


def event_not_mapping(rng: random.Random, doc: Doc) -> Expect:
    """An item of the list that is not an event at all."""
    events = doc.changed()
    events[rng.randrange(len(events))] = rng.choice([42, "event", [], None, [{"id": "x"}]])
    return "REFUSE"


def root_shape(rng: random.Random, doc: Doc) -> Expect:
    """A file that is not a list of events or a mapping with only 'events'."""
    doc.changed()
    doc.root_object = rng.choice([
        {"events": doc.events, "version": 2}, {"event": doc.events}, {"events": {"a": 1}},
        {"events": "none"}, "events", 42, None, {}])
    if doc.root_object is None:
        doc.texts.append(lambda text: "" if text.strip() in ("null", "null\n...") else text)
    return "REFUSE"


def empty_list(rng: random.Random, doc: Doc) -> Expect:
    """No events at all: nothing to write, so nothing is refused."""
    doc.changed().clear()
    return "MAY"


def duplicate_id(rng: random.Random, doc: Doc) -> Expect:
    """The same event twice, or another event under an id already used."""
    events = doc.changed()
    first = _event(doc)
    other = _event(doc)
    twin = copy.deepcopy(first) if rng.random() < 0.5 else dict(other, id=first.get("id"))
    events.insert(rng.randrange(len(events) + 1), twin)
    return "REFUSE"


def duplicate_key(rng: random.Random, doc: Doc) -> Expect:
    """A key given twice in one mapping (the last would have won)."""
    mapping = rng.choice([m for m in _walk(_event(doc)) if isinstance(m, dict) and m])
    existing = rng.choice(list(mapping))
    token = doc.mark(json.dumps(existing))
    mapping[token] = mapping[existing]
    return "REFUSE"


def truncated(rng: random.Random, doc: Doc) -> Expect:
    """The file cut short."""
    def cut(text: str) -> str:
        end = len(text.rstrip())
        return text[: rng.randrange(end)] if end > 1 else ""
    doc.texts.append(cut)
    return "REFUSE" if doc.fmt == "json" else "MAY"


def byte_flipped(rng: random.Random, doc: Doc) -> Expect:
    """One byte of the file changed at random."""
    def flip(data: bytes) -> bytes:
        at = rng.randrange(len(data))
        return data[:at] + bytes([data[at] ^ (1 << rng.randrange(8))]) + data[at + 1:]
    doc.edits.append(flip)
    return "MAY"


def reordered(rng: random.Random, doc: Doc) -> Expect:
    """Events shuffled, or some left out (lifecycles may break)."""
    events = doc.changed()
    if rng.random() < 0.5 or len(events) < 2:
        rng.shuffle(events)
    else:
        del events[rng.randrange(len(events))]
    return "MAY"


def lifecycle_broken(rng: random.Random, doc: Doc) -> Expect:
    """An event about a measure, or a correction of an event, that does not exist."""
    events = doc.changed()
    sources = [{"title": "Fuzzed order"}]
    events.append(rng.choice([
        {"id": "fuzz-pause", "type": "MeasurePaused", "known": "2030-01-01",
         "measure": "no-such-measure", "effective_from": "2030-01-02", "sources": sources},
        {"id": "fuzz-retract", "type": "EventRetracted", "known": "2030-01-01",
         "retracts": "no-such-event", "reason": "fuzz", "sources": sources},
        {"id": "fuzz-revoke", "type": "MeasureRevoked", "known": "2030-01-01",
         "measure": "no-such-measure", "effective_from": "2030-01-02", "sources": sources},
    ]))
    return "REFUSE"


def other_encoding(rng: random.Random, doc: Doc) -> Expect:
    """The text saved as UTF-16 or UTF-32 (with their byte-order marks)."""
    encoding = rng.choice(["utf-16", "utf-32", "utf-16-le", "utf-16-be"])
    doc.edits.append(lambda data: data.decode("utf-8").encode(encoding))
    # utf-16-le/be have no mark: their NUL bytes are refused instead.
    return "REFUSE"


def invalid_utf8(rng: random.Random, doc: Doc) -> Expect:
    """A byte that cannot be UTF-8 (or a sequence cut short) somewhere in the file."""
    bad = rng.choice([b"\xff", b"\xc3", b"\xe9", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80"])
    doc.edits.append(lambda data: _insert(rng, data, bad))
    return "REFUSE"


def raw_nul(rng: random.Random, doc: Doc) -> Expect:
    """A NUL byte somewhere in the file."""
    doc.edits.append(lambda data: _insert(rng, data, b"\x00"))
    return "REFUSE"


def _insert(rng: random.Random, data: bytes, bad: bytes) -> bytes:
    # Between two characters, never inside one: the bad bytes alone make the file bad.
    starts = [i for i in range(len(data) + 1) if i == len(data) or data[i] & 0xC0 != 0x80]
    at = rng.choice(starts)
    return data[:at] + bad + data[at:]


def escaped_control(rng: random.Random, doc: Doc) -> Expect:
    """NUL, a bell, an escape sequence or a C1 control written as an escape in text."""
    event = _event(doc)
    name = rng.choice([k for k in TEXT_FIELDS if isinstance(event.get(k), str)] or ["note"])
    event[name] = str(event.get(name) or "x") + rng.choice(["\x00", "\x07", "\x1b[2J", "\x85",
                                                            "\x9b", "\x7f"])
    return "REFUSE"


def lone_surrogate(rng: random.Random, doc: Doc) -> Expect:
    """Half of a surrogate pair, escaped, in text or in a key."""
    event = _event(doc)
    half = rng.choice(["\\ud800", "\\udfff", "\\udc00\\ud800"])
    if rng.random() < 0.3:
        event[doc.mark(f'"k{half}"')] = "x"
    else:
        event["note"] = doc.mark(f'"text {half}"')
    return "REFUSE"


def huge_text(rng: random.Random, doc: Doc) -> Expect:
    """A very long caveat: text, so it may be stored."""
    _event(doc)["caveats"] = ["tariff " * rng.choice((1_000, 30_000))]
    return "MAY"


def over_size_limit(rng: random.Random, doc: Doc) -> Expect:
    """A file one byte over MAX_FILE_BYTES (zero bytes, sparsely, after the text)."""
    doc.pad_to = MAX_FILE_BYTES + 1
    return "REFUSE"


def many_problems(rng: random.Random, doc: Doc) -> Expect:
    """Every event broken: each is listed, up to the limit of a file's problems."""
    for event in doc.changed():
        if isinstance(event, dict):
            event["known"] = 20250301
    return "REFUSE"


def alias_bomb(rng: random.Random, doc: Doc) -> Expect | None:
    """Anchors nesting aliases nine by nine (the billion laughs), at some depth."""
    if doc.fmt != "yaml":
        return None
    levels, width = rng.randint(3, 12), rng.randint(2, 12)
    parts = [f"&f0 [{', '.join(['lol'] * width)}]"]
    parts += [f"&f{i} [{', '.join([f'*f{i - 1}'] * width)}]" for i in range(1, levels)]
    where = rng.choice(["note", "scope", "known", "sources"])
    _event(doc)[where] = doc.mark("[" + ", ".join(parts) + "]")
    return "REFUSE"


def alias_loop(rng: random.Random, doc: Doc) -> Expect | None:
    """An alias inside what it names, an alias to nothing, or an anchor named twice."""
    if doc.fmt != "yaml":
        return None
    _event(doc)["note"] = doc.mark(rng.choice(["&r [*r]", "&r {a: *r}", "*nowhere",
                                               "[&d x, &d y]"]))
    return "REFUSE"


def yaml_tag(rng: random.Random, doc: Doc) -> Expect | None:
    """A tag that builds another type: a timestamp, bytes, a set, a Python object."""
    found = _dates(doc, "known")
    if doc.fmt != "yaml" or not found:
        return None
    mapping, name = rng.choice(found)
    mapping[name] = doc.mark(rng.choice([
        f"!!timestamp {mapping[name]}", "!!binary aGk=", "!!set {a: null}",
        "!!python/object/apply:os.system [echo]", "!!omap [a: 1]", "!custom x",
        f"!!int {mapping[name][:4]}"]))
    return "REFUSE"


def merge_key(rng: random.Random, doc: Doc) -> Expect | None:
    """A YAML 1.1 merge key, `<<`: a key like any other in YAML 1.2, and unknown."""
    if doc.fmt != "yaml":
        return None
    event = _event(doc)
    event[doc.mark("<<")] = {"measure": "merged"}
    return "REFUSE"


def more_documents(rng: random.Random, doc: Doc) -> Expect | None:
    """A second YAML document after the first."""
    if doc.fmt != "yaml":
        return None
    doc.texts.append(lambda text: text + rng.choice(["---\n- {}\n", "--- []\n", "...\n---\n"]))
    return "REFUSE"


def deep(rng: random.Random, doc: Doc) -> Expect:
    """A value nested far past the limit (or past Python's recursion limit)."""
    depth = rng.choice([33, 40, 300, 990, 1500, 20_000])
    if rng.random() < 0.5:
        raw = "[" * depth + "1" + "]" * depth
    elif doc.fmt == "json":
        raw = '{"a": ' * depth + "1" + "}" * depth
    else:
        raw = "{a: " * depth + "1" + "}" * depth
    _event(doc)[rng.choice(["note", "scope", "rate", "sources"])] = doc.mark(raw)
    return "REFUSE"


def json_lenient(rng: random.Random, doc: Doc) -> Expect | None:
    """JSON that is not JSON: a trailing comma, a comment, single quotes, bare words."""
    if doc.fmt != "json" or not doc.events:
        return None
    doc.changed()
    kind = rng.randrange(4)

    def edit(text: str) -> str:
        if kind == 0:
            return re.sub(r"\}(\s*)\]", r"},\1]", text, count=1)  # a trailing comma
        if kind == 1 or '"known"' not in text:
            return "// events\n" + text
        if kind == 2:
            return text.replace('"', "'", 6)
        return text.replace('"known"', "known", 1)
    doc.texts.append(edit)
    return "REFUSE"


MUTATIONS: tuple[tuple[Mutation, int], ...] = (
    (identity, 6), (crlf, 2), (utf8_bom, 2), (shared_sources, 2), (unicode_text, 2),
    (effective_as_datetime, 2),
    (date_not_text, 4), (date_unquoted_number, 4), (date_malformed, 4),
    (until_not_after_from, 2), (hts_not_text, 3), (hts_unquoted, 4), (hts_malformed, 3),
    (scope_incomplete, 3), (scope_all_combined, 1), (origin_unknown, 2), (norway_plain, 1),
    (bool_not_bool, 2), (percent_changed, 3), (percent_as_text, 1), (field_wrong_type, 3),
    (field_missing, 2), (field_unknown, 2), (type_unknown, 1), (event_not_mapping, 1),
    (root_shape, 2), (empty_list, 1), (duplicate_id, 2), (duplicate_key, 3), (truncated, 2),
    (byte_flipped, 2), (reordered, 2), (lifecycle_broken, 2), (other_encoding, 2),
    (invalid_utf8, 2), (raw_nul, 2), (escaped_control, 3), (lone_surrogate, 3),
    (huge_text, 1), (over_size_limit, 1), (many_problems, 1), (alias_bomb, 3),
    (alias_loop, 2), (yaml_tag, 2), (merge_key, 1), (more_documents, 1), (deep, 3),
    (json_lenient, 2),
)
"""Every mutation, with how often it is drawn relative to the others."""

LOSSY = frozenset({"truncated", "byte_flipped", "reordered", "root_shape", "empty_list",
                   "event_not_mapping", "many_problems"})
"""Mutations that may undo what came before them (cut it off, drop its event): only ever the
last of a case, and what came before counts for nothing then."""
BYTES = frozenset({"utf8_bom", "other_encoding", "invalid_utf8", "raw_nul", "byte_flipped"})
"""Mutations of the bytes: only ever the last of a case (one byte mutation at most)."""
FIRST = frozenset({"norway_plain", "shared_sources"})
"""Mutations that overwrite values an earlier mutation may have broken: only ever first."""


def _combined(first: Expect, second: Expect) -> Expect:
    """What two mutations together require: a refusal wins, acceptance needs both."""
    if "REFUSE" in (first, second):
        return "REFUSE"
    return "ACCEPT" if first == second == "ACCEPT" else "MAY"


def case(seed: int, index: int) -> Case:
    """The case at `index` of the run seeded `seed` (the same bytes every time)."""
    rng = random.Random(f"{seed}:{index}")
    doc = base(rng)
    kinds: list[str] = []
    expect: Expect | None = None
    mutations, weights = zip(*MUTATIONS, strict=True)
    wanted = 1 if rng.random() < 0.75 else 2
    while len(kinds) < wanted:
        mutation = rng.choices(mutations, weights)[0]
        name = mutation.__name__
        last = len(kinds) == wanted - 1
        if name in kinds or (name in LOSSY | BYTES and not last) or (name in FIRST and kinds):
            continue
        said = mutation(rng, doc)
        if said is None:
            continue
        if expect is None:
            expect = said
        elif name in LOSSY:
            expect = "REFUSE" if said == "REFUSE" else "MAY"
        else:
            expect = _combined(expect, said)
        kinds.append(name)
    assert expect is not None
    return Case(index, tuple(kinds), expect, "." + doc.fmt, doc.content(), doc.pad_to)
