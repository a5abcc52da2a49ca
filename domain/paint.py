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


def visible(paints: tuple[Paint[T], ...]) -> tuple[Paint[T], ...]:
    """The paints that `paint_at` can still return, in their order: those not wholly covered
    by paints after them. The others can never show again, since a later paint only covers
    more; keeping them would make a state grow with every change over the same dates."""
    kept: list[Paint[T]] = []
    covered: list[tuple[datetime, datetime | None]] = []
    """Disjoint intervals covered by the paints seen so far (the later ones), by start."""
    for paint in reversed(paints):
        if not _within(covered, paint.start, paint.end):
            kept.append(paint)
        covered = _joined(covered, paint.start, paint.end)
    return tuple(reversed(kept))


def _within(covered: list[tuple[datetime, datetime | None]], start: datetime,
            end: datetime | None) -> bool:
    # The intervals are merged, so one covered by their union lies within one of them.
    return any(lo <= start and (hi is None or (end is not None and end <= hi))
               for lo, hi in covered)


def _joined(covered: list[tuple[datetime, datetime | None]], start: datetime,
            end: datetime | None) -> list[tuple[datetime, datetime | None]]:
    """The intervals with [start, end) added, overlapping or touching ones merged."""
    out: list[tuple[datetime, datetime | None]] = []
    lo, hi = start, end
    for a, b in covered:
        if (b is not None and b < lo) or (hi is not None and hi < a):
            out.append((a, b))
            continue
        lo = min(lo, a)
        hi = None if hi is None or b is None else max(hi, b)
    out.append((lo, hi))
    out.sort(key=lambda interval: interval[0])
    return out
