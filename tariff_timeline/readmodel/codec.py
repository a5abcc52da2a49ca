"""Stored rows decoded once: a stored row never changes, so its decoded value can be shared
between questions (and between the writer's re-folds)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import TypeAdapter
from pydantic_core import from_json

from tariff_timeline.domain.paint import NOT_READ, Cover, Paint, Stretch
from tariff_timeline.domain.state import RuleState, RuleVersion
from tariff_timeline.events import AnyEvent, PolicyEvent
from tariff_timeline.projections.pieces import MeasurePiece
from tariff_timeline.projections.replay import Recorded
from tariff_timeline.projections.versions import STATE_ADAPTERS

T = TypeVar("T")

EVENT_ADAPTER: TypeAdapter[PolicyEvent] = TypeAdapter(AnyEvent)
PIECE_ADAPTER: TypeAdapter[MeasurePiece] = TypeAdapter(MeasurePiece)

EVENT_BUDGET = 16_000_000
"""Characters of stored JSON whose decoded events the cache keeps: decoded, an event takes
about seven times its text (4.2 KB for the 570 characters of a realistic one), so about
110 MB. Counted in entries (100,000) it held 420 MB all through a large import's catch-up."""
STATE_BUDGET = 32_000_000
"""Characters of stored JSON whose decoded states (and, apart, pieces) the cache keeps: an HTS
chapter's or a long-lived stacking rule's state is hundreds of KB, so a bound in entries
bounded nothing."""


class Decoded(Generic[T]):
    """What was decoded from stored rows, by row id: the newest kept while the text they were
    decoded from adds up to at most `budget` characters."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.weight = 0
        self._values: OrderedDict[int, tuple[T, int]] = OrderedDict()

    def get(self, key: int, text: str, adapter: TypeAdapter[Any],
            held: dict[int, T] | None = None) -> T:
        """The value stored as `text` in row `key`, decoded once (and once for the question
        that holds `held`, even where it reads more than the cache keeps)."""
        return self.parsed(key, text, adapter.validate_json, held)

    def parsed(self, key: int, text: str, parse: Callable[[str], T],
               held: dict[int, T] | None = None) -> T:
        """The value stored as `text` in row `key`, made by `parse` once (see `get`)."""
        if held is not None and key in held:
            return held[key]
        found = self._values.get(key)
        if found is not None:
            value: T = found[0]
        else:
            value = parse(text)
            self._keep(key, value, len(text))
        if held is not None:
            held[key] = value
        return value

    def put(self, key: int, value: T, weight: int) -> None:
        """Keep a value decoded elsewhere (from the very text row `key` holds, `weight`
        characters long)."""
        self._keep(key, value, weight)

    def _keep(self, key: int, value: T, weight: int) -> None:
        old = self._values.pop(key, None)
        if old is not None:
            self.weight -= old[1]
        self._values[key] = (value, weight)
        self.weight += weight
        # The newest stays even alone over the budget: the caller holds it anyway.
        while self.weight > self.budget and len(self._values) > 1:
            _, (_, dropped) = self._values.popitem(last=False)
            self.weight -= dropped

    def cached(self, key: int, held: dict[int, T] | None = None) -> T | None:
        """The value decoded from row `key`, if it is still kept, by the cache or by the
        question that holds `held` (so its text need not be read again)."""
        if held is not None and key in held:
            return held[key]
        found = self._values.get(key)
        return None if found is None else found[0]

    def __len__(self) -> int:
        return len(self._values)

    def clear(self) -> None:
        """Forget everything (the rows were dropped)."""
        self._values.clear()
        self.weight = 0


_RULE_PAINT: TypeAdapter[Paint[RuleVersion]] = TypeAdapter(Paint[RuleVersion])


class StoredRule:
    """A stacking rule's stored state, its paints decoded only where a question looks. A
    rule changed every week for years holds hundreds of paints (40 KB of text), and decoding
    them all was most of what a first question at 100k events decoded; a question at one
    effective instant reads the one paint that holds then (`RuleState.standing_at`)."""

    def __init__(self, text: str) -> None:
        stored = from_json(text)
        self._paints: list[Any] = stored["versions"]
        # The stored instants are pydantic's ISO 8601 with an offset, which `fromisoformat`
        # reads as the same instants, in a tenth of pydantic's time for Python strings.
        parse = datetime.fromisoformat
        self._bounds = [(parse(paint["start"]), None if paint["end"] is None
                         else parse(paint["end"])) for paint in self._paints]
        self._head: RuleState = STATE_ADAPTERS["rule"].validate_python(
            {**stored, "versions": ()})
        self._at: dict[tuple[int, Stretch | None], RuleState] = {}
        self._covered: Cover[int] | None = None

    def standing_at(self, instant: datetime, stretch: bool = True) -> RuleState:
        """`RuleState.standing_at` of the whole state, decoding only the paint it keeps (and
        finding the stretch it holds over among the stored paints' bounds, unless not
        `stretch`: that makes their cover, which a rate question does not need)."""
        found = -1
        # The topmost paint covering the instant, as `paint_at` finds it, over bare bounds:
        # making a Paint of each to call it doubled the cost of parsing a rule.
        for index in range(len(self._bounds) - 1, -1, -1):
            start, end = self._bounds[index]
            if start <= instant and (end is None or instant < end):
                found = index
                break
        if found < 0:
            state = self._at.get((found, None))
            if state is None:
                state = self._at[(found, None)] = replace(self._head, versions=())
            return state
        held = self._cover().stretch_at(instant, self._same) if stretch else NOT_READ
        key = (found, held)
        state = self._at.get(key)
        if state is None:
            state = self._at[key] = replace(
                self._head, versions=(_RULE_PAINT.validate_python(self._paints[found]),),
                stretch=held)
        return state

    def _cover(self) -> Cover[int]:
        """The cover of the paints' bounds, each standing for its paint by its index (the
        stretch a version holds over is the paints' whose values are the same)."""
        if self._covered is None:
            self._covered = Cover(tuple(
                Paint(start, end, index, self._paints[index]["event_id"])
                for index, (start, end) in enumerate(self._bounds)))
        return self._covered

    def _same(self, one: int, other: int) -> bool:
        # Stored values are the same exactly when their JSON is (one encoder wrote them all).
        return bool(self._paints[one]["value"] == self._paints[other]["value"])


FAMILIES_KEPT = 20_000
"""Event ids whose families `Families` keeps at once (their events are those the event cache
keeps anyway: an answer cites a few dozen of the same few thousand)."""

Family = tuple[Recorded, ...]
"""An event's row and those of the corrections and retractions naming it, in log order."""


class Families:
    """Each cited event's family of rows (`Family`), by event id, as the read model held them
    at one tracking position. Rows are only ever added, so a family read at a position holds
    for every recorded time (the rows recorded after it filtered out) until the position
    moves: then every family is forgotten (`stand_at`)."""

    def __init__(self, kept: int = FAMILIES_KEPT) -> None:
        self.kept = kept
        self._at: tuple[int | None, dict[str, Family]] = (None, {})

    def stand_at(self, position: int) -> None:
        """The read model stands at this tracking position (a catch-up found it there, or
        moved it there): families read at another are forgotten."""
        if self._at[0] != position:
            self._at = (position, {})

    def current(self) -> dict[str, Family] | None:
        """The families kept at the position the read model stands at (None while no position
        was told), for a question to read and then `keep` what it read: if the position moves
        meanwhile, what it keeps goes with the families of the old one."""
        position, families = self._at
        return None if position is None else families

    def keep(self, families: dict[str, Family], read: dict[str, Family]) -> None:
        """Keep the families a question read into those `current` gave it, within the bound:
        a question that read more than half of it (a whole diff cites tens of thousands of
        events) keeps none, and the families start again rather than overflow."""
        if len(read) > self.kept // 2:
            return
        if len(families) + len(read) > self.kept:
            families.clear()
        families.update(read)

    def clear(self) -> None:
        """Forget every family and the position."""
        self._at = (None, {})


class Held:
    """The rows one question decoded, by row id, while it holds them all anyway: the two sides
    of a whole diff read more rows than the cache keeps, and most of them are the same rows
    on both sides, which would otherwise be decoded twice."""

    def __init__(self) -> None:
        self.pieces: dict[int, MeasurePiece] = {}
        self.states: dict[int, object] = {}


class RowCache:
    """The decoded states, pieces and events of one read model, and the cited events'
    families, shared by its writer and reader."""

    def __init__(self, states: int = STATE_BUDGET, events: int = EVENT_BUDGET) -> None:
        self.states: Decoded[object] = Decoded(states)
        self.pieces: Decoded[MeasurePiece] = Decoded(states)
        self.rules: Decoded[StoredRule] = Decoded(states)
        """Stacking rules' versions as questions at one instant read them (`StoredRule`)."""
        self.events: Decoded[PolicyEvent] = Decoded(events)
        self.families = Families()

    def clear(self) -> None:
        """Forget everything: row ids may be reused once the tables were dropped."""
        self.states.clear()
        self.pieces.clear()
        self.rules.clear()
        self.events.clear()
        self.families.clear()
