"""Answers about the HTS itself: one line at a date, lines found by words, and what changed
between two dates; each names its three clocks and the revision(s) that answer."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Literal

from pydantic import Field

from tariff_timeline.domain.clocks import Coordinate
from tariff_timeline.domain.mfn import RateKind, parse_rate
from tariff_timeline.domain.nomenclature import (
    DescriptionChange,
    LineAt,
    Nomenclature,
    NomenclatureDiff,
    PathStep,
    RateChange,
    RevisionInForce,
    revision_at,
)
from tariff_timeline.events import format_hts
from tariff_timeline.events.nomenclature import RATE_COLUMNS, HtsLine
from tariff_timeline.projections.answers import Answer, Number


class HtsRevision(Answer):
    """The USITC revision whose lines answer, from when, and whether it stood in for an
    earlier date than its own start."""

    revision: str
    effective_from: datetime
    before_first: bool = Field(
        description="The date asked precedes every revision recorded: the first one answers.")


class HtsStep(Answer):
    """One step of a line's description path: a numbered line, or unnumbered superior text
    (code null) such as 'Horses:'."""

    code: str | None
    description: str


class HtsRates(Answer):
    """A line's three rate columns as written, and its general (MFN) rate read as a value."""

    general: str | None
    special: str | None
    other: str | None = Field(description="Column 2, as written.")
    general_kind: RateKind | None = Field(
        description="free, ad_valorem, specific, compound or other; null without a rate.")
    general_ad_valorem: Number | None = Field(
        description="The ad valorem part of the general rate in percent ('Free': 0).")
    rated_by: str | None = Field(
        description="The line whose columns these are: the line itself, or the nearest line "
                    "above it that prints rates (null: none does).")


class HtsChild(Answer):
    """A line directly under another."""

    code: str
    superiors: tuple[str, ...] = Field(
        description="Unnumbered superior text between the line asked and this child "
                    "(e.g. 'Arabica:').")
    description: str
    units: tuple[str, ...]
    general: str | None


class HtsLineAnswer(Answer):
    """One HTS line at a coordinate of the three clocks: where it sits (its path from the
    heading down), its units, rates and children, and since when it reads so."""

    hts: str = Field(description="The code asked, formatted.")
    code: str = Field(description="The line that answers (an 8-digit code printed only as its "
                                  "single statistical line answers with that line).")
    entered: datetime
    known: datetime
    recorded: datetime
    revision: HtsRevision
    since: datetime = Field(description="Since when this version of the line is in force.")
    event: str = Field(description="The event that recorded this version of the line.")
    description: str
    indent: int
    path: tuple[HtsStep, ...]
    units: tuple[str, ...]
    rates: HtsRates
    children: tuple[HtsChild, ...]
    notes: tuple[str, ...]


class HtsHit(Answer):
    """A line whose description, or the text above it, holds every word searched for."""

    code: str
    description: str
    path: tuple[HtsStep, ...]
    score: float = Field(description="Relevance, higher first: for each word, 4 as a word of "
                                     "the line's description, 3 as the start of one, 2 as a "
                                     "word of the text above it, 1 as the start of one there "
                                     "(the same on every store and path).")


class HtsSearch(Answer):
    """Lines found by words at a coordinate, best first, and how many there are in all."""

    words: str
    entered: datetime
    known: datetime
    recorded: datetime
    revision: HtsRevision
    total: int = Field(description="Lines found in all.")
    limit: int
    offset: int
    hits: tuple[HtsHit, ...]
    notes: tuple[str, ...]


ChangeKind = Literal["added", "removed", "rerated", "redescribed", "restructured"]


class HtsChange(Answer):
    """A line added, removed, re-rated (one column), re-described or moved in the structure
    between two dates."""

    change: ChangeKind
    code: str
    description: str
    column: str | None = Field(default=None, description="For a re-rating: general, special "
                                                         "or other (column 2).")
    before: str | None = None
    after: str | None = None


class HtsSide(Answer):
    """One side of a comparison of the nomenclature: its three clocks and its revision."""

    entered: datetime
    known: datetime
    recorded: datetime
    revision: HtsRevision


class HtsCounts(Answer):
    """How many lines each kind of change touched."""

    added: int
    removed: int
    rerated: int
    redescribed: int
    restructured: int


class HtsDiff(Answer):
    """The nomenclature at the second coordinate compared with the first: every line added,
    removed, re-rated, re-described or restructured, by code (never truncated)."""

    before: HtsSide
    after: HtsSide
    under: tuple[str, ...] = Field(description="Only lines under these codes, if any given.")
    counts: HtsCounts
    changes: tuple[HtsChange, ...]


# ---------------------------------------------------------------- building them


def revision_answer(revision: RevisionInForce) -> HtsRevision:
    """The revision in force as answered."""
    return HtsRevision(revision=revision.revision, effective_from=revision.effective_from,
                       before_first=revision.before_first)


def steps(path: Sequence[PathStep]) -> tuple[HtsStep, ...]:
    """A description path as answered (codes formatted)."""
    return tuple(HtsStep(code=None if s.code is None else format_hts(s.code),
                         description=s.description) for s in path)


def _rates(found: LineAt) -> HtsRates:
    rated = found.rated
    general = None if rated is None else rated.general
    parsed = None if general is None else parse_rate(general)
    return HtsRates(general=general, special=None if rated is None else rated.special,
                    other=None if rated is None else rated.other,
                    general_kind=None if parsed is None else parsed.kind,
                    general_ad_valorem=None if parsed is None else parsed.ad_valorem,
                    rated_by=None if rated is None else format_hts(rated.code))


def line_answer(found: LineAt, coordinate: Coordinate,
                revision: RevisionInForce | None = None) -> HtsLineAnswer:
    """One line as answered at a coordinate (`revision`: the revision in force over the whole
    schedule, when the line was read from a part of it)."""
    line = found.line
    chosen = revision or found.revision
    notes = list(found.notes)
    if found.rated is not None and found.rated.code != line.code:
        notes.append(f"its rates are printed on {format_hts(found.rated.code)}, above it")
    return HtsLineAnswer(
        hts=format_hts(found.asked), code=format_hts(line.code),
        entered=coordinate.effective, known=coordinate.known, recorded=coordinate.recorded,
        revision=revision_answer(chosen), since=found.since, event=found.event_id,
        description=line.description, indent=line.indent, path=steps(found.path),
        units=line.units, rates=_rates(found),
        children=tuple(HtsChild(code=format_hts(c.code), superiors=c.superiors,
                                description=c.description, units=c.units, general=c.general)
                       for c in found.children),
        notes=tuple(notes))


def _described(line: HtsLine) -> str:
    return line.description


def compare(before: Nomenclature, after: Nomenclature, at_before: datetime,
            at_after: datetime, under: Sequence[str] = ()
            ) -> tuple[NomenclatureDiff, dict[str, str]] | None:
    """The lines in force at `at_before` in one nomenclature compared with those in force at
    `at_after` in another (two versions of the log may differ in what they know), only under
    the given code prefixes if any; with each line's latest description (of the chapters
    compared: a chapter whose state is the same object on both sides and which no revision
    changes between the instants is not walked). None when either holds no revision."""
    old, new = revision_at(before, at_before), revision_at(after, at_after)
    if old is None or new is None:
        return None
    low, high = sorted((old.at, new.at))
    was_lines: dict[str, HtsLine] = {}
    now_lines: dict[str, HtsLine] = {}
    for name in {*before.chapters, *after.chapters}:
        was, now = before.chapters.get(name), after.chapters.get(name)
        if was is now and was is not None and not any(
                low < revision.start <= high for revision in was.revisions):
            # One state on both sides, and no revision of it takes effect between the two
            # instants (only a revision starts a line's version): the same lines at both.
            continue
        if was is not None:
            was_lines.update((line.code, line) for line in was.in_force(old.at))
        if now is not None:
            now_lines.update((line.code, line) for line in now.in_force(new.at))
    added: list[HtsLine] = []
    removed: list[HtsLine] = []
    rerated: list[RateChange] = []
    redescribed: list[DescriptionChange] = []
    restructured: list[str] = []
    for code in sorted({*was_lines, *now_lines}):
        if under and not any(code.startswith(prefix) for prefix in under):
            continue
        a, b = was_lines.get(code), now_lines.get(code)
        if a == b:
            continue
        if a is None or b is None:
            (added if a is None else removed).append(b if a is None else a)  # type: ignore[arg-type]
            continue
        rerated += [RateChange(code, column, getattr(a, column), getattr(b, column))
                    for column in RATE_COLUMNS if getattr(a, column) != getattr(b, column)]
        if a.description != b.description:
            redescribed.append(DescriptionChange(code, a.description, b.description))
        if (a.indent, a.parent, a.superiors, a.units) != (b.indent, b.parent, b.superiors,
                                                         b.units):
            restructured.append(code)
    descriptions = {code: line.description for code, line in {**was_lines, **now_lines}.items()}
    return (NomenclatureDiff(old, new, tuple(added), tuple(removed), tuple(rerated),
                             tuple(redescribed), tuple(restructured)), descriptions)


def diff_answer(result: NomenclatureDiff, before: Coordinate, after: Coordinate,
                under: Sequence[str], descriptions: Mapping[str, str]) -> HtsDiff:
    """A comparison of the nomenclature as answered: one change per line and column, by code
    (`descriptions`: each changed line's description at the later side, else the earlier)."""
    changes: list[HtsChange] = []
    changes += [HtsChange(change="added", code=format_hts(line.code),
                          description=_described(line), after=line.general)
                for line in result.added]
    changes += [HtsChange(change="removed", code=format_hts(line.code),
                          description=_described(line), before=line.general)
                for line in result.removed]
    changes += [HtsChange(change="rerated", code=format_hts(r.code),
                          description=descriptions.get(r.code, ""), column=r.column,
                          before=r.before, after=r.after) for r in result.rerated]
    changes += [HtsChange(change="redescribed", code=format_hts(d.code),
                          description=d.after, before=d.before, after=d.after)
                for d in result.redescribed]
    changes += [HtsChange(change="restructured", code=format_hts(code),
                          description=descriptions.get(code, ""))
                for code in result.restructured]
    counts = HtsCounts(added=len(result.added), removed=len(result.removed),
                       rerated=len({r.code for r in result.rerated}),
                       redescribed=len(result.redescribed),
                       restructured=len(result.restructured))

    def side(coordinate: Coordinate, revision: RevisionInForce) -> HtsSide:
        return HtsSide(entered=coordinate.effective, known=coordinate.known,
                       recorded=coordinate.recorded, revision=revision_answer(revision))

    return HtsDiff(before=side(before, result.before), after=side(after, result.after),
                   under=tuple(format_hts(u) for u in under), counts=counts,
                   changes=tuple(changes))


HTS_CSV_COLUMNS = ("change", "code", "column", "before", "after", "description")


def hts_diff_csv(result: HtsDiff) -> str:
    """A comparison of the nomenclature as CSV: one row per change, every code."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HTS_CSV_COLUMNS)
    for item in result.changes:
        writer.writerow([item.change, item.code, item.column or "", item.before or "",
                         item.after or "", item.description])
    return buffer.getvalue()
