"""A value painted over an effective interval by one event: the unit of every state the fold
builds (a measure's rate, an exemption's activity, an HTS line's version)."""

from __future__ import annotations

from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar, cast

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


def painted_by(*paints: Paint[Any] | None, first: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The events `first`, then those that painted these paints (none for a paint missing),
    once each: what an answer showing what the paints say cites."""
    return tuple(dict.fromkeys([*first, *(p.event_id for p in paints if p is not None)]))


def paint_at(paints: tuple[Paint[T], ...], at: datetime) -> Paint[T] | None:
    """The topmost paint covering an instant (the latest-known event wins)."""
    if len(paints) >= COVERED_FROM:
        cover = _covering(paints)
        if cover is not None:
            return cover.at(at)
    for paint in reversed(paints):
        # `covers`, written out: a rate series asks this hundreds of millions of times.
        if paint.start <= at and (paint.end is None or at < paint.end):
            return paint
    return None


@dataclass(frozen=True)
class Stretch:
    """The stretch [start, end) of effective time around an instant over which what some
    paints say there holds unbroken (the topmost value stays the same), and the events whose
    paints make its two bounds: what a row saying "since ... until ..." stands on."""

    start: datetime
    end: datetime | None
    bounded_by: tuple[str, ...]
    """The events of the paints that start or end at a bound of the stretch, the topmost on
    either side of it: a later revocation, a pause's extension, the paint's own end."""


NOT_READ = Stretch(datetime.min, None, ())
"""The stretch of a state cut at one instant for a question that shows no since or until (a
rate question), which did not read it: asking that state for its stretch is an error, never
its one paint's own bounds."""


def stretch_around(paints: tuple[Paint[T], ...], at: datetime,
                   same: Callable[[T, T], bool] | None = None) -> Stretch | None:
    """The stretch around an instant over which the topmost paint's value is the one at the
    instant (`same` says when two values are the same; equality when not given); None where
    nothing is painted at the instant."""
    return _cover_of(paints).stretch_at(at, same) if paints else None


def joint_stretch(at: datetime, first: tuple[Paint[Any], ...],
                  *others: tuple[Paint[Any], ...]) -> Stretch | None:
    """The stretch around an instant over which what each of several paints says there
    holds unbroken: where none of their topmost values changes (a measure's row shows its
    status, rate and scope, and holds while all three do). None where `first` paints
    nothing at the instant; among `others`, "nothing painted" is a value like another. The
    events bounding it are, at each bound, those of the paints whose value changes there
    (`bounding_events`), in the order the paints are given."""
    held = _cover_of(first).run_at(at, True) if first else None
    if held is None or held.start is None:
        return None
    runs = [held, *(cast(_Run, _cover_of(paints).run_at(at, False))
                    for paints in others if paints)]
    start = max(run.start for run in runs if run.start is not None)
    ends = [run.end for run in runs if run.end is not None]
    end = min(ends) if ends else None
    return Stretch(start, end, tuple(dict.fromkeys([
        *(e for run in runs if run.start == start
          for e in bounding_events((run.before, run.first, start))),
        *(e for run in runs if end is not None and run.end == end
          for e in bounding_events((run.last, run.after, end)))])))


@dataclass(frozen=True)
class _Run:
    """The segments of a `Cover` around an instant over which the topmost value is the same
    ("nothing painted" included): its bounds (None: open) and the topmost paints just before
    it, at its first and last segments, and just after it."""

    start: datetime | None
    end: datetime | None
    before: Paint[Any] | None
    first: Paint[Any] | None
    last: Paint[Any] | None
    after: Paint[Any] | None


COVERED_FROM = 16
"""Paints from which `paint_at`, once asked `ASKED_BEFORE_COVER` times of the same paints,
looks the instant up in their `Cover` rather than trying each paint from the last: a measure
changed every week holds hundreds of rate paints, and a cell's history asks each state at
hundreds of instants."""
ASKED_BEFORE_COVER = 8
"""Lookups of the same paints by trying each, before their cover is made: a fold asks each
state it makes once or twice before the next event replaces it, and making a cover for each
would cost more than it saves."""
_COVERS: OrderedDict[int, tuple[tuple[Paint[Any], ...], Cover[Any] | int]] = OrderedDict()
_COVERS_KEPT = 1024
"""Paints whose cover (or count of lookups) is kept, with the paints themselves: a bound on
what the cache keeps alive."""


class Cover(Generic[T]):
    """The topmost paint over each stretch between consecutive bounds of some paints (their
    starts and ends), so that the paint covering an instant is found by bisection."""

    def __init__(self, paints: tuple[Paint[T], ...]) -> None:
        bounds = sorted({p.start for p in paints} | {p.end for p in paints if p.end is not None})
        place = {bound: index for index, bound in enumerate(bounds)}
        tops: list[Paint[T] | None] = [None] * len(bounds)
        # The next stretch at or after an index not yet painted (path-halving, as in a
        # union-find): each stretch is given its topmost paint once, from the last paint back.
        unpainted = list(range(len(bounds) + 1))

        def first_unpainted(index: int) -> int:
            while unpainted[index] != index:
                unpainted[index] = unpainted[unpainted[index]]
                index = unpainted[index]
            return index

        for paint in reversed(paints):
            end = len(bounds) if paint.end is None else place[paint.end]
            index = first_unpainted(place[paint.start])
            while index < end:
                tops[index] = paint
                unpainted[index] = index + 1
                index = first_unpainted(index + 1)
        self.bounds = bounds
        self.tops = tops

    def at(self, at: datetime) -> Paint[T] | None:
        """The topmost paint covering an instant (`paint_at`)."""
        index = bisect_right(self.bounds, at) - 1
        return None if index < 0 else self.tops[index]

    def stretch_at(self, at: datetime, same: Callable[[T, T], bool] | None = None
                   ) -> Stretch | None:
        """`stretch_around` the instant, over these paints."""
        run = self.run_at(at, True, same)
        if run is None or run.start is None:
            return None
        return Stretch(run.start, run.end, bounding_events(
            (run.before, run.first, run.start), (run.last, run.after, run.end)))

    def run_at(self, at: datetime, painted: bool,
               same: Callable[[T, T], bool] | None = None) -> _Run | None:
        """The run of segments around the instant with the value there (None when
        `painted` and nothing is painted at the instant)."""
        bounds, tops = self.bounds, self.tops
        index = bisect_right(bounds, at) - 1
        top = tops[index] if index >= 0 else None
        if top is None and painted:
            return None
        alike = same if same is not None else _equal

        def kin(other: Paint[T] | None) -> bool:
            if top is None or other is None:
                return top is other
            return alike(other.value, top.value)

        lo, hi = index, index + 1
        while lo > 0 and kin(tops[lo - 1]):
            lo -= 1
        while hi < len(bounds) and kin(tops[hi]):
            hi += 1
        # Before the first bound nothing is painted: a run reaching there has no start.
        return _Run(bounds[lo] if lo >= 0 else None, bounds[hi] if hi < len(bounds) else None,
                    tops[lo - 1] if lo > 0 else None, tops[lo] if lo >= 0 else None,
                    tops[hi - 1] if hi > 0 else None, tops[hi] if hi < len(bounds) else None)


def bounding_events(*edges: tuple[Paint[Any] | None, Paint[Any] | None, datetime | None]
                    ) -> tuple[str, ...]:
    """`Stretch.bounded_by`: at each bound of a stretch (the topmost paint before it, the
    one after it, the bound; None where open), the events of those two paints that start
    or end there, once each. A bound lies where a paint starts or ends, so one of them does:
    the one inside the stretch, the one beyond it, or both."""
    found: list[str] = []
    for before, after, bound in edges:
        if bound is not None:
            found += [paint.event_id for paint in (before, after)
                      if paint is not None and bound in (paint.start, paint.end)]
    return tuple(dict.fromkeys(found))


def _equal(a: object, b: object) -> bool:
    return a == b


def _cover_of(paints: tuple[Paint[T], ...]) -> Cover[T]:
    """The cover of some paints, kept with those `_covering` keeps: a row's stretch asks it
    of the same paints at each instant a history or a diff asks."""
    key = id(paints)
    found = _COVERS.get(key)
    if found is not None and found[0] is paints and isinstance(found[1], Cover):
        _COVERS.move_to_end(key)
        return found[1]
    cover = Cover(paints)
    _COVERS[key] = (paints, cover)
    if len(_COVERS) > _COVERS_KEPT:
        _COVERS.popitem(last=False)
    return cover


def _covering(paints: tuple[Paint[T], ...]) -> Cover[T] | None:
    """The cover of paints asked often enough (`ASKED_BEFORE_COVER`), else None (the lookup
    counted)."""
    # Keyed by the tuple's identity (states are immutable; the entry holds the tuple, so its
    # id cannot be reused while the entry lives).
    key = id(paints)
    found = _COVERS.get(key)
    if found is None or found[0] is not paints:
        held: Cover[Any] | int = 1
    elif isinstance(found[1], Cover):
        # Kept as the most recently used: the states a history asks again and again, among
        # many asked once.
        _COVERS.move_to_end(key)
        return found[1]
    elif found[1] < ASKED_BEFORE_COVER:
        held = found[1] + 1
    else:
        held = Cover(paints)
    _COVERS[key] = (paints, held)
    if len(_COVERS) > _COVERS_KEPT:
        _COVERS.popitem(last=False)
    return held if isinstance(held, Cover) else None


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
