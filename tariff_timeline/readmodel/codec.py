"""Stored rows decoded once: a stored row never changes, so its decoded value can be shared
between questions (and between the writer's re-folds)."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, Generic, TypeVar

from pydantic import TypeAdapter

from tariff_timeline.events import AnyEvent, PolicyEvent
from tariff_timeline.projections.pieces import MeasurePiece

T = TypeVar("T")

EVENT_ADAPTER: TypeAdapter[PolicyEvent] = TypeAdapter(AnyEvent)
PIECE_ADAPTER: TypeAdapter[MeasurePiece] = TypeAdapter(MeasurePiece)


class Decoded(Generic[T]):
    """What was decoded from stored rows, by row id, the newest `size` kept."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._values: OrderedDict[int, T] = OrderedDict()

    def get(self, key: int, text: str, adapter: TypeAdapter[Any]) -> T:
        """The value stored as `text` in row `key`, decoded once."""
        value = self._values.get(key)
        if value is None:
            value = self._values[key] = adapter.validate_json(text)
            if len(self._values) > self.size:
                self._values.popitem(last=False)
        return value

    def put(self, key: int, value: T) -> None:
        """Keep a value decoded elsewhere (from the very text row `key` holds)."""
        self._values[key] = value
        if len(self._values) > self.size:
            self._values.popitem(last=False)

    def cached(self, key: int) -> T | None:
        """The value decoded from row `key`, if it is still kept (so its text need not be
        read again)."""
        return self._values.get(key)

    def clear(self) -> None:
        """Forget everything (the rows were dropped)."""
        self._values.clear()


class RowCache:
    """The decoded states, pieces and events of one read model, shared by its writer and reader."""

    def __init__(self, size: int = 20_000, events: int = 100_000) -> None:
        self.states: Decoded[object] = Decoded(size)
        self.pieces: Decoded[MeasurePiece] = Decoded(size)
        self.events: Decoded[PolicyEvent] = Decoded(events)

    def clear(self) -> None:
        """Forget everything: row ids may be reused once the tables were dropped."""
        self.states.clear()
        self.pieces.clear()
        self.events.clear()
