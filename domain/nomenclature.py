"""The HTS nomenclature as the fold knows it, and the pure questions asked of it.

State is kept per chapter: a revision's event replaces only its own chapter, and each code keeps
its versions as effective-dated paints (a removal paints ``None``), so folding the ~250 events
of three revisions touches each of the ~36,000 lines a few times, not once per event.

Every query takes the effective instant explicitly; the known and recorded clocks were applied
by choosing which events to fold. An instant before the first revision recorded is answered
with that revision's lines, and ``RevisionInForce.note`` says so.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import NamedTuple

from tariff_timeline.domain.errors import InvalidInput, LifecycleError
from tariff_timeline.domain.paint import Paint, paint_at
from tariff_timeline.events.instants import describe_instant
from tariff_timeline.events.nomenclature import RATE_COLUMNS, HtsLine, NomenclatureRevised
from tariff_timeline.events.values import ALL, format_hts, normalise_hts

LineVersions = tuple[Paint[HtsLine | None], ...]
"""A code's versions over effective time, in the order they became known (None: removed)."""


# ---------------------------------------------------------------- state


@dataclass(frozen=True)
class ChapterState:
    """One chapter of the HTS: each code's versions over effective time, and the revisions
    that changed it."""

    chapter: str
    lines: Mapping[str, LineVersions] = field(default_factory=dict)
    revisions: tuple[Paint[str], ...] = ()
    event_ids: tuple[str, ...] = ()

    def version_at(self, code: str, at: datetime) -> Paint[HtsLine | None] | None:
        """The version of a code in force at an instant (None if it is not a line then)."""
        paint = paint_at(self.lines.get(code, ()), at)
        return paint if paint is not None and paint.value is not None else None

    def in_force(self, at: datetime) -> Iterator[HtsLine]:
        """The chapter's lines in force at an instant, in no particular order."""
        for versions in self.lines.values():
            paint = paint_at(versions, at)
            if paint is not None and paint.value is not None:
                yield paint.value


@dataclass(frozen=True)
class Nomenclature:
    """The HTS as known after some revisions: its chapters, each with its own versions."""

    chapters: Mapping[str, ChapterState] = field(default_factory=dict)


def revise(chapter: ChapterState | None, event: NomenclatureRevised) -> ChapterState:
    """A chapter after one more revision (pure; LifecycleError when the revision adds a line
    already in force, or changes or removes one that is not)."""
    eid, at = event.id, event.effective_from
    when = describe_instant(at)
    revision: Paint[str] = Paint(at, None, event.revision, eid)
    if event.baseline:
        if chapter is not None:
            raise LifecycleError(eid, "baseline", f"chapter {event.chapter} already has a "
                                 f"baseline ({chapter.event_ids[0]!r}); a later revision "
                                 "records only what it adds, changes or removes")
        lines: dict[str, LineVersions] = {
            line.code: (Paint(at, None, line, eid),) for line in event.added}
        return ChapterState(event.chapter, lines, (revision,), (eid,))
    if chapter is None:
        raise LifecycleError(eid, "chapter", f"chapter {event.chapter} has no baseline: the "
                             "first revision of a chapter records every line (baseline: true)")
    lines = dict(chapter.lines)

    def paint(code: str, value: HtsLine | None) -> None:
        lines[code] = (*lines.get(code, ()), Paint(at, None, value, eid))

    for line in event.added:
        if chapter.version_at(line.code, at) is not None:
            raise LifecycleError(eid, "added", f"line {format_hts(line.code)} is already in "
                                 f"force at {when}; a line that changes goes under changed")
        paint(line.code, line)
    for line in event.changed:
        if chapter.version_at(line.code, at) is None:
            raise LifecycleError(eid, "changed", f"line {format_hts(line.code)} is not in "
                                 f"force at {when}; a new line goes under added")
        paint(line.code, line)
    for code in event.removed:
        if chapter.version_at(code, at) is None:
            raise LifecycleError(eid, "removed", f"line {format_hts(code)} is not in force at "
                                 f"{when}, so it cannot be removed")
        paint(code, None)
    return ChapterState(chapter.chapter, lines, (*chapter.revisions, revision),
                        (*chapter.event_ids, eid))


# ---------------------------------------------------------------- which revision answers


@dataclass(frozen=True)
class RevisionInForce:
    """The revision whose lines answer for an effective instant (`asked`)."""

    revision: str
    effective_from: datetime
    asked: datetime

    @property
    def before_first(self) -> bool:
        """Whether the instant asked precedes every revision recorded (the first one answers)."""
        return self.asked < self.effective_from

    @property
    def at(self) -> datetime:
        """The instant whose lines answer: the one asked, or the first revision's start."""
        return self.effective_from if self.before_first else self.asked

    @property
    def note(self) -> str | None:
        """What an answer must say when the first revision stood in for an earlier date."""
        if not self.before_first:
            return None
        return (f"{describe_instant(self.asked)} precedes the first HTS revision this store "
                f"records ({self.revision}, from {describe_instant(self.effective_from)}); "
                "its lines are used")


def revision_at(nomenclature: Nomenclature, effective: datetime) -> RevisionInForce | None:
    """The latest revision started by an effective instant, or the first one for an instant
    before it; None when no revision is known.

    On a timeline holding only some chapters (the read model's slice for one code), this is
    the latest revision that changed those chapters.
    """
    starts: dict[str, datetime] = {}
    for chapter in nomenclature.chapters.values():
        for paint in chapter.revisions:
            known = starts.get(paint.value)
            starts[paint.value] = paint.start if known is None else min(known, paint.start)
    if not starts:
        return None
    # The last of the revisions in (start, name) order that started by then, or the first
    # of all: one pass, since a store holds thousands of them (a diff asks twice).
    started = [(start, name) for name, start in starts.items() if start <= effective]
    start, name = max(started) if started else min(
        (start, name) for name, start in starts.items())
    return RevisionInForce(name, start, effective)


def _revision(nomenclature: Nomenclature, effective: datetime) -> RevisionInForce:
    found = revision_at(nomenclature, effective)
    if found is None:
        raise InvalidInput("the store holds no HTS revision (no nomenclature was imported)",
                           "hts")
    return found


# ---------------------------------------------------------------- one line


class PathStep(NamedTuple):
    """One step of a line's description path: a numbered line, or unnumbered superior text
    (code None) such as 'Horses:'."""

    code: str | None
    description: str


@dataclass(frozen=True)
class LineAt:
    """One HTS line as in force at an effective instant, with where it sits and what it holds.

    `asked` is the code as asked; `line` may be its single statistical line `<8 digits>00`,
    which the schedule prints in place of an 8-digit line of its own. `rated` is the line whose
    rate columns apply: the line itself or the nearest numbered line above it with rates.
    """

    asked: str
    line: HtsLine
    revision: RevisionInForce
    event_id: str
    since: datetime
    path: tuple[PathStep, ...]
    children: tuple[HtsLine, ...]
    rated: HtsLine | None

    @property
    def resolved(self) -> bool:
        """Whether an 8-digit code was answered by its single `00` statistical line."""
        return self.line.code != self.asked

    @property
    def notes(self) -> tuple[str, ...]:
        """What an answer about this line must say (a stand-in revision, a resolved code)."""
        notes: list[str] = []
        if self.resolved:
            notes.append(f"{format_hts(self.asked)} is printed as its single statistical line "
                         f"{format_hts(self.line.code)}")
        if self.revision.note is not None:
            notes.append(self.revision.note)
        return tuple(notes)


def _digits(code: str, name: str = "hts") -> str:
    try:
        digits = normalise_hts(code)
    except ValueError as exc:
        raise InvalidInput(str(exc), name) from None
    if digits == ALL:
        raise InvalidInput("ALL is not an HTS code: give digits such as 8703.23.01", name)
    return digits


def _version(nomenclature: Nomenclature, code: str,
             at: datetime) -> Paint[HtsLine | None] | None:
    chapter = nomenclature.chapters.get(code[:2])
    return None if chapter is None else chapter.version_at(code, at)


def _resolved(nomenclature: Nomenclature, digits: str,
              at: datetime) -> Paint[HtsLine | None] | None:
    found = _version(nomenclature, digits, at)
    if found is None and len(digits) == 8:
        # The schedule prints an 8-digit line with a single statistical suffix as that one
        # 10-digit row, which carries the rates.
        found = _version(nomenclature, digits + "00", at)
    return found


def _ancestors(nomenclature: Nomenclature, line: HtsLine, at: datetime) -> list[HtsLine]:
    """The numbered lines above a line, nearest first (parents as USITC's indents give them)."""
    chain: list[HtsLine] = []
    seen = {line.code}
    parent = line.parent
    while parent is not None and parent not in seen:
        found = _version(nomenclature, parent, at)
        if found is None or found.value is None:
            break
        chain.append(found.value)
        seen.add(parent)
        parent = found.value.parent
    return chain


def _path(nomenclature: Nomenclature, line: HtsLine, at: datetime) -> tuple[PathStep, ...]:
    steps: list[PathStep] = []
    for item in [*reversed(_ancestors(nomenclature, line, at)), line]:
        steps += [PathStep(None, text) for text in item.superiors]
        steps.append(PathStep(item.code, item.description))
    return tuple(steps)


def _has_rates(line: HtsLine) -> bool:
    return any(getattr(line, column) is not None for column in RATE_COLUMNS)


def line_at(nomenclature: Nomenclature, code: str, effective: datetime) -> LineAt | None:
    """The line a code names at an effective instant (an 8-digit code without a row of its own
    resolves to its `<8 digits>00` line), or None when the revision then has no such line.

    InvalidInput (field 'hts') for a malformed code or a store without nomenclature.
    """
    digits = _digits(code)
    if len(digits) == 2:
        raise InvalidInput(f"{digits} is a chapter, not a line: ask for the lines under it",
                           "hts")
    revision = _revision(nomenclature, effective)
    at = revision.at
    found = _resolved(nomenclature, digits, at)
    if found is None or found.value is None:
        return None
    line = found.value
    chapter = nomenclature.chapters[line.code[:2]]
    children = tuple(sorted((c for c in chapter.in_force(at) if c.parent == line.code),
                            key=lambda c: c.code))
    rated = next((item for item in [line, *_ancestors(nomenclature, line, at)]
                  if _has_rates(item)), None)
    return LineAt(digits, line, revision, found.event_id, found.start,
                  _path(nomenclature, line, at), children, rated)


def require_line(nomenclature: Nomenclature, code: str, effective: datetime) -> LineAt:
    """The line a code names at an effective instant; InvalidInput (field 'hts') naming the
    nearest existing lines when the revision in force has none."""
    found = line_at(nomenclature, code, effective)
    if found is not None:
        return found
    revision = _revision(nomenclature, effective)
    digits = _digits(code)
    near = ", ".join(format_hts(c) for c in nearest(nomenclature, digits, effective))
    raise InvalidInput(f"{format_hts(digits)} is not a line of HTS {revision.revision} (in "
                       f"force from {describe_instant(revision.effective_from)})"
                       + (f"; nearest: {near}" if near else ""), "hts")


def lines_under(nomenclature: Nomenclature, code: str,
                effective: datetime) -> tuple[HtsLine, ...]:
    """The 10-digit statistical lines under a chapter, heading, subheading or 8-digit line (or
    the 10-digit line itself) in force at an effective instant, by code."""
    digits = _digits(code)
    at = _revision(nomenclature, effective).at
    chapter = nomenclature.chapters.get(digits[:2])
    if chapter is None:
        return ()
    return tuple(sorted((line for line in chapter.in_force(at)
                         if len(line.code) == 10 and line.code.startswith(digits)),
                        key=lambda line: line.code))


def nearest(nomenclature: Nomenclature, code: str, effective: datetime,
            n: int = 5) -> tuple[str, ...]:
    """Up to n existing codes nearest to one (for an error message): those sharing the longest
    prefix first, then those of the same length, then the numerically nearest.

    An 8-digit line printed only as its `00` statistical line counts as an 8-digit code too.
    """
    digits = _digits(code)
    at = _revision(nomenclature, effective).at
    own = nomenclature.chapters.get(digits[:2])
    pool = [own] if own is not None else []
    if sum(1 for _ in _codes(pool, at)) < n:
        pool = list(nomenclature.chapters.values())
    target = int(digits.ljust(10, "0"))

    def rank(candidate: str) -> tuple[int, int, int, str]:
        shared = next((i for i, (a, b) in enumerate(zip(candidate, digits, strict=False))
                       if a != b), min(len(candidate), len(digits)))
        return (-shared, abs(len(candidate) - len(digits)),
                abs(int(candidate.ljust(10, "0")) - target), candidate)

    found = sorted({c for c in _codes(pool, at) if c != digits}, key=rank)
    return tuple(found[:n])


def _codes(chapters: Iterable[ChapterState], at: datetime) -> Iterator[str]:
    for chapter in chapters:
        codes = {line.code for line in chapter.in_force(at)}
        yield from codes
        # 8-digit lines that the schedule prints only as their single `00` statistical line.
        yield from (c[:8] for c in codes if len(c) == 10 and c.endswith("00")
                    and c[:8] not in codes)


# ---------------------------------------------------------------- search


@dataclass(frozen=True)
class SearchHit:
    """A line whose description (or path) holds the words searched for, with its rank score."""

    code: str
    description: str
    path: tuple[PathStep, ...]
    score: int


_WORD = re.compile(r"[^\W_]+")


def _words(text: str) -> list[str]:
    return _WORD.findall(text.casefold())


def words_of(text: str) -> frozenset[str]:
    """The words of a text as a search sees them (letters and digits, case folded)."""
    return frozenset(_words(text))


SearchRank = tuple[int, int, int, str]
"""Where a line ranks in a search, smaller first: minus its score, its indent, how many words
its description holds, its code."""


def search_rank(terms: Sequence[str], own: frozenset[str],
                above: Callable[[], frozenset[str]], indent: int, code: str
                ) -> SearchRank | None:
    """Where a line ranks in a search for `terms` (`search_terms`), from the words of its
    description (`own`) and of the text above it (`above`, asked only when a term is not in
    `own`: its superior text and its ancestors'), each as `words_of` gives them; None when a
    term is in neither.

    A term scores 4 as a word of the line's own description, 3 as the start of one, 2 as a
    word of the text above it, 1 as the start of one there; ties go to the line higher in the
    tree (smaller indent), then the shorter description (fewer distinct words), then the
    code. Every path ranks by this, the read model's SQL only finding the lines that may hold
    the words: the same search gives the same page on SQLite, PostgreSQL and the fold."""
    total = 0
    upper: frozenset[str] | None = None
    for term in terms:
        if term in own:
            total += 4
        elif any(word.startswith(term) for word in own):
            total += 3
        else:
            if upper is None:
                upper = above()
            if term in upper:
                total += 2
            elif any(word.startswith(term) for word in upper):
                total += 1
            else:
                return None
    return (-total, indent, len(own), code)


def search_terms(words: str) -> list[str]:
    """The distinct words a search looks for (letters and digits, case folded), in order;
    InvalidInput (field 'words') when there are none."""
    terms = list(dict.fromkeys(_words(words)))
    if not terms:
        raise InvalidInput("give at least one word to search for", "words")
    return terms


def search(nomenclature: Nomenclature, words: str, effective: datetime,
           limit: int = 20) -> tuple[SearchHit, ...]:
    """The lines in force at an effective instant whose text holds every word, best first
    (`search_rank`): the pure reference for the read model's full-text searches."""
    terms = search_terms(words)
    if limit < 1:
        raise InvalidInput(f"limit must be at least 1, not {limit}", "limit")
    at = _revision(nomenclature, effective).at
    lines = {line.code: line for chapter in nomenclature.chapters.values()
             for line in chapter.in_force(at)}
    context: dict[str, frozenset[str]] = {}

    def above(line: HtsLine) -> frozenset[str]:
        """The words of the text above a line: its superior text and its ancestors' (memoised,
        walked without recursion)."""
        pending: list[HtsLine] = []
        item: HtsLine | None = line
        while item is not None and item.code not in context:
            pending.append(item)
            parent = lines.get(item.parent) if item.parent is not None else None
            item = None if parent is None or parent.code in {p.code for p in pending} else parent
        for step in reversed(pending):
            parent = lines.get(step.parent) if step.parent is not None else None
            here = {w for text in step.superiors for w in _words(text)}
            if parent is not None:
                here.update(_words(parent.description))
                here.update(context.get(parent.code, frozenset()))
            context[step.code] = frozenset(here)
        return context[line.code]

    ranked = sorted(rank for code, line in lines.items() if (rank := search_rank(
        terms, words_of(line.description), partial(above, line), line.indent, code))
        is not None)
    return tuple(SearchHit(code, lines[code].description, _path(nomenclature, lines[code], at),
                           -negative) for negative, _, _, code in ranked[:limit])


# ---------------------------------------------------------------- comparing two dates


@dataclass(frozen=True)
class RateChange:
    """A line's rate column that differs between two instants (None: empty)."""

    code: str
    column: str
    before: str | None
    after: str | None


@dataclass(frozen=True)
class DescriptionChange:
    """A line whose own description differs between two instants."""

    code: str
    before: str
    after: str


@dataclass(frozen=True)
class NomenclatureDiff:
    """What differs between the lines in force at two effective instants: lines added and
    removed, rate columns re-rated, descriptions re-worded, and lines moved in the structure
    (indent, parent, superior text or units changed)."""

    before: RevisionInForce
    after: RevisionInForce
    added: tuple[HtsLine, ...]
    removed: tuple[HtsLine, ...]
    rerated: tuple[RateChange, ...]
    redescribed: tuple[DescriptionChange, ...]
    restructured: tuple[str, ...]

    @property
    def empty(self) -> bool:
        """Whether nothing differs."""
        return not (self.added or self.removed or self.rerated or self.redescribed
                    or self.restructured)


def diff(nomenclature: Nomenclature, before: datetime, after: datetime,
         under: str | None = None) -> NomenclatureDiff:
    """The lines added, removed, re-rated and re-described between two effective instants
    (only those under a code prefix when `under` is given), each list by code."""
    prefix = "" if under is None else _digits(under, "under")
    old, new = _revision(nomenclature, before), _revision(nomenclature, after)
    added: list[HtsLine] = []
    removed: list[HtsLine] = []
    rerated: list[RateChange] = []
    redescribed: list[DescriptionChange] = []
    restructured: list[str] = []
    chapters = [c for key, c in sorted(nomenclature.chapters.items())
                if key.startswith(prefix[:2])]
    for chapter in chapters:
        for code in sorted(chapter.lines):
            if not code.startswith(prefix):
                continue
            was, now = chapter.version_at(code, old.at), chapter.version_at(code, new.at)
            a = None if was is None else was.value
            b = None if now is None else now.value
            if a == b:
                continue
            if a is None:
                if b is not None:
                    added.append(b)
                continue
            if b is None:
                removed.append(a)
                continue
            rerated += [RateChange(code, column, getattr(a, column), getattr(b, column))
                        for column in RATE_COLUMNS if getattr(a, column) != getattr(b, column)]
            if a.description != b.description:
                redescribed.append(DescriptionChange(code, a.description, b.description))
            if (a.indent, a.parent, a.superiors, a.units) != (
                    b.indent, b.parent, b.superiors, b.units):
                restructured.append(code)
    return NomenclatureDiff(old, new, tuple(added), tuple(removed), tuple(rerated),
                            tuple(redescribed), tuple(restructured))


def codes_in_force(nomenclature: Nomenclature, effective: datetime) -> Mapping[str, HtsLine]:
    """Every line in force at an effective instant, by code."""
    at = _revision(nomenclature, effective).at
    return {line.code: line for chapter in nomenclature.chapters.values()
            for line in chapter.in_force(at)}
