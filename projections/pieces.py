"""A measure's state cut along the effective clock, for the read model.

A measure's folded state holds its whole effective history (every status, rate and scope it
ever had), so storing that state again for every known version grows with the square of the
measure's history. The read model instead stores, for each known version, a small *head* (what
does not depend on the effective date: names, whether imposed, the first and last rates and
scopes that the answers fall back on) and, for each stretch of effective time over which the
topmost status, rate, scope and pause stay the same, a *piece*. A new event changes only the
pieces its interval overlaps, so the rows grow with the history, not its square. A question at
effective instant E reads the one piece containing E and the head, and puts back together a
state that answers every question at E exactly as the full state does.

Pieces outside the time a measure is listed (a year before it starts and a year after it ends,
see ``domain.rules.LISTED_FOR``) are not stored, which keeps old measures out of new answers.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, cast

from tariff_timeline.domain.paint import Stretch, bounding_events
from tariff_timeline.domain.rules import LISTED_FOR
from tariff_timeline.domain.timeline import (
    ENDED,
    Announcement,
    MeasureState,
    Paint,
    Status,
    Timeline,
    fold,
)
from tariff_timeline.events import Rate, Scope
from tariff_timeline.events.instants import fold_key, from_micros, micros
from tariff_timeline.projections.replay import Corrected, known_order

FOREVER = 2**62
"""Stands for an open end of an interval (so that range conditions can use plain indexes)."""
NEVER = -(2**62)
"""Stands for an open start of an interval."""
_ATTRS = ("statuses", "rates", "scopes", "pauses")
_LISTED_US = LISTED_FOR // timedelta(microseconds=1)


Indexed = tuple[int, Paint[Any]]
"""A paint and its position in its list (the order in which the fold painted it)."""


@dataclass(frozen=True)
class MeasureHead:
    """What answers need of a measure besides the paints at the effective instant."""

    id: str
    title: str
    authority: str
    program: str
    imposed: bool
    announcements: tuple[Announcement, ...]
    rates: tuple[tuple[int, Paint[Rate]], ...]
    """The first rate, the topmost rate where the measure starts, and the last rate."""
    scopes: tuple[tuple[int, Paint[Scope]], ...]
    """The first and the last scope."""
    starts: datetime | None = None
    """The earliest instant it is in force (see ``MeasureState.starts``)."""


@dataclass(frozen=True)
class FoundBy:
    """The origins and products (codes, groups, HTS prefixes or ALL) whose questions may find
    a measure over a piece, as named by the scopes that decide it there."""

    origins: tuple[str, ...]
    products: tuple[str, ...]


@dataclass(frozen=True)
class MeasurePiece:
    """The topmost status, rate, scope and pause over one stretch of effective time."""

    status: tuple[int, Paint[Status]] | None = None
    rate: tuple[int, Paint[Rate]] | None = None
    scope: tuple[int, Paint[Scope]] | None = None
    pause: tuple[int, Paint[str]] | None = None
    found_by: FoundBy | None = None
    """The origins and products through which questions find the piece when its own scope
    is not what decides it (None: its own scope), see ``found_by``; kept in the piece so that
    a change of them makes a new row."""


def _in_order(*items: Indexed | None) -> tuple[Paint[Any], ...]:
    """The paints, once each, in the order the fold painted them."""
    return tuple(paint for _, paint in sorted(dict(i for i in items if i is not None).items()))


def head_of(measure: MeasureState, rate_at_start: Indexed | None) -> MeasureHead:
    """The effective-independent part of a measure's state (`rate_at_start`: the topmost rate
    where its first scope starts, which the pieces already know)."""
    rates: list[Indexed] = [rate_at_start] if rate_at_start is not None else []
    scopes: list[Indexed] = []
    if measure.scopes:
        scopes = [(0, measure.scopes[0]), (len(measure.scopes) - 1, measure.scopes[-1])]
    if measure.rates:
        rates += [(0, measure.rates[0]), (len(measure.rates) - 1, measure.rates[-1])]
    return MeasureHead(
        measure.id, measure.title, measure.authority, measure.program, measure.imposed,
        () if measure.imposed else measure.announcements,
        tuple((i, p) for i, p in sorted(dict(rates).items())),
        tuple((i, p) for i, p in sorted(dict(scopes).items())),
        measure.starts(),
    )


_Fallback = tuple[bool, tuple[Scope, ...], Scope | None, Scope | None]
"""What a measure's pieces fall back on for their scope: whether it is imposed, its
announcements' scopes (once each), and its first and last scopes."""


def _fallback(measure: MeasureState) -> _Fallback:
    return (measure.imposed, tuple(dict.fromkeys(a.scope for a in measure.announcements)),
            measure.scopes[0].value if measure.scopes else None,
            measure.scopes[-1].value if measure.scopes else None)


def found_by(tops: Sequence[Indexed | None], fallback: _Fallback) -> FoundBy | None:
    """What the questions that may find a measure over a piece name, when the scope the rate
    engine and the schedule test goods against there is not the piece's own (None): for a
    measure never imposed, its announcements' scopes; for one imposed, before it starts, its
    first scope; where it has a status but no scope painted (after it ended), its last."""
    imposed, announced, first, last = fallback
    if not imposed:
        scopes: tuple[Scope | None, ...] = announced
    elif tops[0] is None:
        scopes = (first,)
    elif tops[2] is None:
        scopes = (last,)
    else:
        return None
    named = [scope for scope in scopes if scope is not None]
    return FoundBy(tuple(sorted({o for scope in named for o in scope.origins})),
                   tuple(sorted({p for scope in named for p in scope.products})))


def assemble(head: MeasureHead, piece: MeasurePiece, stretch: Stretch | None = None
             ) -> MeasureState:
    """A measure state that answers every question at an instant inside the piece exactly as
    the measure's full state does (the paints it keeps are those questions' answers), given
    the stretch its row holds over there (its status rows', see `StatusSpan`) when the
    piece has a status."""
    return MeasureState(
        id=head.id, title=head.title, authority=head.authority, program=head.program,
        imposed=head.imposed, announcements=head.announcements,
        statuses=_in_order(piece.status), rates=_in_order(*head.rates, piece.rate),
        scopes=_in_order(*head.scopes, piece.scope), pauses=_in_order(piece.pause),
        stretch=stretch,
    )


@dataclass(frozen=True)
class PieceSpan:
    """A piece over [eff_from, eff_until) x [known_from, known_until), as stored."""

    eff_from: int
    eff_until: int
    known_from: int
    known_until: int
    piece: MeasurePiece


@dataclass(frozen=True)
class StatusSpan:
    """A measure's topmost status over [eff_from, eff_until) x [known_from, known_until), over
    all effective time (not only while it is listed), as stored: one span per stretch over
    which its row's status, rate and scope stay the same (`MeasureState.stretch_at`)."""

    eff_from: int
    eff_until: int
    known_from: int
    known_until: int
    status: Status
    bounded_by: tuple[str, ...] = ()
    """The events bounding the stretch (see `domain.paint.Stretch`)."""


@dataclass(frozen=True)
class HeadVersion:
    """A head over [known_from, known_until)."""

    known_from: int
    known_until: int
    head: MeasureHead


_Key = tuple[tuple[int, str] | None, ...]


@dataclass
class _Cuts:
    """Pieces as parallel sorted lists: starts (the first is NEVER) and topmost paints."""

    starts: list[int] = field(default_factory=lambda: [NEVER])
    tops: list[list[Indexed | None]] = field(default_factory=lambda: [[None] * 4])

    def split(self, at: int) -> int:
        """Make `at` a boundary; return the index of the piece starting there."""
        index = bisect.bisect_right(self.starts, at) - 1
        if self.starts[index] == at:
            return index
        self.starts.insert(index + 1, at)
        self.tops.insert(index + 1, list(self.tops[index]))
        return index + 1

    def paint(self, slot: int, item: Indexed) -> tuple[int, int]:
        """Paint one attribute over the paint's interval; return the index range touched."""
        paint = item[1]
        lo = self.split(micros(paint.start))
        hi = self.split(micros(paint.end)) if paint.end is not None else len(self.starts)
        for index in range(lo, hi):
            self.tops[index][slot] = item
        return lo, hi

    def merge(self, lo: int, hi: int) -> None:
        """Join neighbours with the same topmost paints, among the pieces [lo, hi)."""
        end = min(hi, len(self.starts)) - 1
        if end <= lo:
            return
        later = _key(self.tops[end])
        for index in range(end, lo, -1):
            # Each piece's key is made once: the earlier of a pair is the later of the next.
            earlier = _key(self.tops[index - 1])
            if later == earlier:
                del self.starts[index], self.tops[index]
            later = earlier

    def keys(self, lo: int, hi: int) -> dict[tuple[int, int, _Key], list[Indexed | None]]:
        """The pieces with index in [lo, hi), keyed by bounds and content."""
        out: dict[tuple[int, int, _Key], list[Indexed | None]] = {}
        for index in range(max(lo, 0), min(hi, len(self.starts))):
            end = self.starts[index + 1] if index + 1 < len(self.starts) else FOREVER
            out[(self.starts[index], end, _key(self.tops[index]))] = self.tops[index]
        return out

    def top_at(self, at: int, slot: int) -> Indexed | None:
        """The topmost paint of one attribute at an instant."""
        return self.tops[bisect.bisect_right(self.starts, at) - 1][slot]

    def region(self, lo_at: int, hi_at: int) -> tuple[int, int]:
        """Bounds of the pieces overlapping [lo_at, hi_at) and one neighbour each side: a
        change inside it (painting, then merging) leaves every piece outside it as it was."""
        first = max(bisect.bisect_right(self.starts, lo_at) - 1 - 1, 0)
        if hi_at >= FOREVER:
            return self.starts[first], FOREVER
        last = bisect.bisect_left(self.starts, hi_at) + 1
        return self.starts[first], self.starts[last] if last < len(self.starts) else FOREVER

    def within(self, lo_at: int, hi_at: int) -> tuple[int, int]:
        """Indexes of the pieces inside [lo_at, hi_at), whose bounds are piece boundaries."""
        lo = bisect.bisect_left(self.starts, lo_at)
        hi = len(self.starts) if hi_at >= FOREVER else bisect.bisect_left(self.starts, hi_at)
        return lo, hi


def _paint(item: Indexed | None) -> Paint[Any] | None:
    return None if item is None else item[1]


def _key(tops: Sequence[Indexed | None]) -> _Key:
    return tuple(None if t is None else (t[0], t[1].event_id) for t in tops)


def _new_paints(before: MeasureState | None, after: MeasureState) -> Iterator[tuple[int, Indexed]]:
    """Paints a group of events added, per attribute slot (the fold only appends, except that
    extending a pause replaces the last pause with one covering more, which is the same as
    painting it on top)."""
    for slot, attr in enumerate(_ATTRS):
        old: tuple[Paint[Any], ...] = getattr(before, attr) if before is not None else ()
        new: tuple[Paint[Any], ...] = getattr(after, attr)
        start = len(old)
        if old and (len(new) < len(old) or new[len(old) - 1] is not old[-1]):
            start = len(old) - 1
        for index in range(start, len(new)):
            yield slot, (index, new[index])


def _window(start: int, end: int, tops: Sequence[Indexed | None],
            imposed: bool) -> tuple[int, int]:
    """The part of a piece during which the measure is listed at all."""
    status = tops[0]
    if status is None:
        if imposed and end < FOREVER:
            # Before the measure starts: listed from a year ahead of it.
            return max(start, end - _LISTED_US), end
        return start, end
    if status[1].value in ENDED:
        return start, min(end, micros(status[1].start + LISTED_FOR))
    return start, end


_Opening = tuple[int, list[Indexed | None], bool, FoundBy | None]
_Opened = dict[tuple[int, int, _Key], _Opening]
"""Pieces whose rows are open in known time: since when, their paints, whether imposed, and
the scopes they are found by (see ``found_by``)."""


def known_groups(entries: Sequence[Corrected]) -> list[tuple[int, list[Corrected]]]:
    """Entries in fold order, grouped by the instant they became known (one version each)."""
    groups: list[tuple[int, list[Corrected]]] = []
    for entry in known_order(entries):
        at = fold_key(entry.event.known)
        if groups and groups[-1][0] == at:
            groups[-1][1].append(entry)
        else:
            groups.append((at, [entry]))
    return groups


def measure_rows(entries: Sequence[Corrected], ident: str) -> tuple[list[HeadVersion],
                                                                   list[PieceSpan]]:
    """The heads and pieces of a measure over known time, from its (corrected) events."""
    heads, pieces, _ = measure_tables(entries, ident)
    return heads, pieces


_Stretch = tuple[int, int, Status, tuple[str, ...]]
"""A stretch of what a measure's row shows: its bounds, its status and the events bounding
it."""
_SHOWN = (0, 1, 2)
"""The slots a measure's row shows (status, rate and scope): its stretch holds while none of
their topmost values changes (`MeasureState.stretch_at`)."""


class _RowStretches:
    """The stretches of what a measure's row shows (its topmost status, rate and scope, in
    the measure's pieces: where the status is painted and none of the three changes), open
    in known time since when."""

    def __init__(self, cuts: _Cuts) -> None:
        self.cuts = cuts
        self.opened: dict[_Stretch, int] = {}

    def repainted(self, lo_at: int, hi_at: int, at: int, rows: list[StatusSpan]) -> None:
        """After the pieces were painted over [lo_at, hi_at) with statuses, rates or scopes
        one known instant adds: close the stretches that changed (appending them to `rows`)
        and open the new ones from `at`. Only the stretches touching that interval are found
        again: a measure changed every week has hundreds of them."""
        cuts = self.cuts
        # Only the stretches touching the painted interval may change, so they are found
        # again over the window they span with it. Its ends are bounds of stretches, or
        # lie where no status is painted: a stretch reaching one from outside would touch
        # the interval, its paints being unchanged up to there.
        touched = [key for key in self.opened if key[0] <= hi_at and key[1] >= lo_at]
        low = min([lo_at, *(key[0] for key in touched)])
        high = max([hi_at, *(key[1] for key in touched)])
        first = max(bisect.bisect_right(cuts.starts, low) - 1, 0)
        last = max(bisect.bisect_left(cuts.starts, high) - 1, first)
        now = self.stretches(first, last + 1)
        window = (cuts.starts[first],
                  cuts.starts[last + 1] if last + 1 < len(cuts.starts) else FOREVER)
        # Every stretch touched lies inside the window; one outside it stays open.
        for key in [key for key in self.opened
                    if key[0] < window[1] and key[1] > window[0] and key not in now]:
            since = self.opened.pop(key)
            if since < at:
                rows.append(StatusSpan(key[0], key[1], since, at, key[2], key[3]))
        for key in now:
            self.opened.setdefault(key, at)

    def stretches(self, lo: int = 0, hi: int | None = None) -> set[_Stretch]:
        """The stretches among the pieces [lo, hi) (all by default; the window's ends must
        be stretches' bounds) over which the row's status (painted), rate and scope stay the
        same, each with the events bounding it as `domain.paint.joint_stretch` names them:
        at each bound, those of the slots whose value changes there."""
        found: list[tuple[int, int]] = []
        """Each stretch's first and last piece (by index)."""
        starts, tops = self.cuts.starts, self.cuts.tops
        for index in range(lo, len(tops) if hi is None else hi):
            top = tops[index]
            if top[0] is None:
                continue
            if found and found[-1][1] == index - 1 and not _changed(tops[index - 1], top):
                found[-1] = (found[-1][0], index)
            else:
                found.append((index, index))
        out: set[_Stretch] = set()
        for first, last in found:
            start = starts[first]
            end = starts[last + 1] if last + 1 < len(starts) else FOREVER
            before = tops[first - 1] if first > 0 else None
            after = tops[last + 1] if last + 1 < len(tops) else None
            opening = from_micros(start)
            closing = None if end >= FOREVER else from_micros(end)
            by = [*(e for slot in _changed(before, tops[first])
                    for e in bounding_events((_top(before, slot), _top(tops[first], slot),
                                              opening))),
                  *(e for slot in _changed(tops[last], after)
                    for e in bounding_events((_top(tops[last], slot), _top(after, slot),
                                              closing)))]
            status: Status = cast(Indexed, tops[first][0])[1].value
            out.add((start, end, status, tuple(dict.fromkeys(by))))
        return out

    def close(self, rows: list[StatusSpan]) -> None:
        """Append the stretches still open to `rows`, open to the end of known time."""
        rows += [StatusSpan(start, end, since, FOREVER, status, by)
                 for (start, end, status, by), since in self.opened.items()]


def _top(tops: Sequence[Indexed | None] | None, slot: int) -> Paint[Any] | None:
    return None if tops is None else _paint(tops[slot])


def _changed(before: Sequence[Indexed | None] | None, after: Sequence[Indexed | None] | None
             ) -> list[int]:
    """The slots a row shows whose topmost value differs between two neighbouring pieces
    (None: no piece there; "nothing painted" is a value like another)."""
    found = []
    for slot in _SHOWN:
        old = None if before is None else before[slot]
        new = None if after is None else after[slot]
        if old is new:
            continue  # the same paint on both sides, the common case
        if old is None or new is None or (old[1].value is not new[1].value
                                          and old[1].value != new[1].value):
            found.append(slot)
    return found


def measure_tables(entries: Sequence[Corrected], ident: str) -> tuple[
        list[HeadVersion], list[PieceSpan], list[StatusSpan]]:
    """The heads, pieces and topmost statuses of a measure over known time, from its
    (corrected) events."""
    groups = known_groups(entries)
    statuses: list[StatusSpan] = []
    state = Timeline()
    cuts = _Cuts()
    line = _RowStretches(cuts)
    heads: list[HeadVersion] = []
    rows: list[PieceSpan] = []
    opened: _Opened = {}
    before: MeasureState | None = None
    imposed = False
    fallback: _Fallback | None = None
    for index, (at, group) in enumerate(groups):
        state = fold((entry.event for entry in group), state, strict=False)
        measure = state.measures.get(ident)
        if measure is None:
            continue
        painted = list(_new_paints(before, measure))
        if before is None or measure.imposed != imposed:
            lo_at, hi_at = NEVER, FOREVER  # the whole line changes meaning
        elif painted:
            lo_at = min(micros(item[1].start) for _, item in painted)
            hi_at = max(FOREVER if item[1].end is None else micros(item[1].end)
                        for _, item in painted)
        else:
            lo_at = hi_at = 0
        before, imposed = measure, measure.imposed
        now = _fallback(measure)
        if lo_at < hi_at:
            opened = _repaint(cuts, painted, lo_at, hi_at, opened, at, imposed, now, rows)
        shown = [item[1] for slot, item in painted if slot in _SHOWN]
        if shown:
            line.repainted(min(micros(p.start) for p in shown),
                           max(FOREVER if p.end is None else micros(p.end) for p in shown),
                           at, statuses)
        if now != fallback:
            _refind(opened, now, at, rows)
            fallback = now
        first_start = micros(measure.scopes[0].start) if measure.scopes else None
        head = head_of(measure, None if first_start is None else cuts.top_at(first_start, 1))
        until = groups[index + 1][0] if index + 1 < len(groups) else FOREVER
        if heads and heads[-1].head == head and heads[-1].known_until == at:
            heads[-1] = replace(heads[-1], known_until=until)
        else:
            heads.append(HeadVersion(at, until, head))
    for key, opening in opened.items():
        rows += _rows(key, opening, FOREVER)
    line.close(statuses)
    return heads, rows, statuses


def _refind(opened: _Opened, fallback: _Fallback, at: int, rows: list[PieceSpan]) -> None:
    """Close the rows of open pieces whose scopes to be found by changed with what the
    measure falls back on (appending them to `rows`), and open them again from `at`."""
    for key, opening in opened.items():
        _, tops, was_imposed, was_found_by = opening
        now = found_by(tops, fallback)
        if now != was_found_by:
            rows += _rows(key, opening, at)
            opened[key] = (at, tops, was_imposed, now)


def _repaint(cuts: _Cuts, painted: list[tuple[int, Indexed]], lo_at: int, hi_at: int,
             opened: _Opened, at: int, imposed: bool, fallback: _Fallback,
             rows: list[PieceSpan]) -> _Opened:
    """Paint one known instant's new paints; close the rows of pieces that changed (appending
    them to `rows`) and open rows for the new pieces."""
    lo_at, hi_at = cuts.region(lo_at, hi_at)
    old = cuts.keys(*cuts.within(lo_at, hi_at))
    for slot, item in painted:
        cuts.paint(slot, item)
    cuts.merge(*cuts.within(lo_at, hi_at))
    new = cuts.keys(*cuts.within(lo_at, hi_at))
    for key in old:
        if key not in new and key in opened:
            rows += _rows(key, opened.pop(key), at)
    for key, tops in new.items():
        if key not in opened:
            opened[key] = (at, list(tops), imposed, found_by(tops, fallback))
    # Pieces open but outside the compared range were not touched, and stay open.
    return opened


def _rows(key: tuple[int, int, _Key], opening: _Opening, known_until: int) -> list[PieceSpan]:
    start, end, _ = key
    known_from, tops, imposed, scopes = opening
    lo, hi = _window(start, end, tops, imposed)
    if lo >= hi or known_from >= known_until:
        return []
    status, rate, scope, pause = tops
    return [PieceSpan(lo, hi, known_from, known_until,
                      MeasurePiece(status, rate, scope, pause, scopes))]
