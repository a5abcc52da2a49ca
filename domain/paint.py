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


def visible_with(paints: tuple[Paint[T], ...], new: Paint[T]) -> tuple[Paint[T], ...]:
    """`visible` of the paints with one more painted over them, for paints that are all
    visible already (as a fold that keeps only those has them). Only a paint the new one
    overlaps or touches can become hidden, and only one whose start (and, open-ended, its
    end) later paints cover; just those are checked whole. A stacking rule changed thousands
    of times is folded again on every append about it: `visible` over its whole state at
    each change made that fold grow with the square of its history."""
    start, end = new.start, new.end
    # Apart from the new paint's interval (neither overlapping nor touching it), a paint
    # stays as visible as it was; the test is written out, being made of every paint.
    kept = [paint for index, paint in enumerate(paints)
            if (paint.end is not None and paint.end < start)
            or (end is not None and end < paint.start)
            or not _hidden_by(paint, paints[index + 1:], new)]
    kept.append(new)
    return tuple(kept)


def _hidden_by(paint: Paint[T], later: tuple[Paint[T], ...], new: Paint[T]) -> bool:
    """Whether `paint` (not covered by `later`) is wholly covered once `new` is painted too,
    as `visible` decides it: within one interval of the union of the paints after it. Only
    asked of a paint `new` overlaps or touches: over the others the union is as it was."""
    after = (*later, new)
    if paint.end is None or paint.start < paint.end:
        # Necessary conditions, cheap to test: its start is covered, and so is its open end.
        if not any(p.start <= paint.start and (p.end is None or paint.start < p.end)
                   for p in after):
            return False
        if paint.end is None and not any(p.end is None for p in after):
            return False
    covered: list[tuple[datetime, datetime | None]] = []
    start, end = paint.start, paint.end
    for other in after:
        # Paints apart from this one's interval change nothing of the union over it.
        if (end is None or other.start <= end) and (other.end is None or other.end >= start):
            covered = _joined(covered, other.start, other.end)
    return _within(covered, start, end)


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
