"""A value painted over an effective interval by one event: the unit of every state the fold
builds (a measure's rate, an exemption's activity, an HTS line's version)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Paint(Generic[T]):
    """A value that holds over [start, end) because of one event."""

    start: datetime
    end: datetime | None
    value: T
    event_id: str

    def covers(self, at: datetime) -> bool:
        """Whether the instant falls inside this interval."""
        return self.start <= at and (self.end is None or at < self.end)


def paint_at(paints: tuple[Paint[T], ...], at: datetime) -> Paint[T] | None:
    """The topmost paint covering an instant (the latest-known event wins)."""
    for paint in reversed(paints):
        # `covers`, written out: a rate series asks this hundreds of millions of times.
        if paint.start <= at and (paint.end is None or at < paint.end):
            return paint
    return None
