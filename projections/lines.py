"""Which HTS line a rate question names, in the revision in force at its entry date, and the
MFN rate that line's general column gives.

Only the code's own chapter is read, both here and in the read model's slice (which holds only
that chapter): so the revision named is the latest one that revised the chapter by the entry
date, and the fold and the read model give the same answer. The known and recorded clocks were
applied by choosing which events to fold.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Literal

from tariff_timeline.domain.errors import InvalidInput
from tariff_timeline.domain.mfn import MfnRate, parse_rate
from tariff_timeline.domain.nomenclature import (
    ChapterState,
    Nomenclature,
    RevisionInForce,
    line_at,
    lines_under,
    nearest,
)
from tariff_timeline.events import format_hts
from tariff_timeline.events.instants import describe_instant
from tariff_timeline.events.nomenclature import HtsLine

NOT_CHECKED = ("{code} was not checked against an HTS revision: none recorded here was known "
               "by {known}, and the MFN rate is only what the question gave")
"""The note of every answer given without nomenclature: the store holds none, or none known at
the question's known time (a revision published later must not answer for that time)."""


@dataclass(frozen=True)
class _Found:
    """What a chapter says of one code in one revision (the same for every date it covers)."""

    line: HtsLine | None
    """The line named (an 8-digit code may be answered by its single `00` line); None for a
    chapter or a prefix that is not itself a line."""
    path: tuple[str, ...]
    rated: HtsLine | None
    statistical: tuple[str, ...]
    """The 10-digit lines under the code (the code itself when it is one)."""
    mfn: MfnRate | None


@dataclass(frozen=True)
class ClassifiedCode:
    """The HTS line a question names at its entry date, in the revision in force then."""

    asked: str
    revision: RevisionInForce
    line: HtsLine | None
    path: tuple[str, ...]
    """The description path from the heading down, each step as written."""
    rated: HtsLine | None
    """The line whose rate columns apply: the line itself or the nearest one above it."""
    statistical: tuple[str, ...]
    mfn: MfnRate | None
    """The rated line's general (MFN) column read as a value (None: no such column)."""

    @property
    def split(self) -> tuple[str, ...]:
        """The statistical lines an 8-digit code is resolved to, for deciding product lists
        suffix by suffix (empty for other codes)."""
        return self.statistical if len(self.asked) == 8 else ()

    @property
    def heading(self) -> bool:
        """Whether the code is a chapter, heading or subheading (fewer than 8 digits)."""
        return len(self.asked) < 8

    def notes(self) -> list[str]:
        """What an answer using this line must say: a stand-in revision, a heading."""
        notes: list[str] = []
        if self.revision.note is not None:
            notes.append(self.revision.note)
        if self.heading:
            level = {2: "chapter", 4: "heading", 6: "subheading"}.get(len(self.asked),
                                                                      "prefix")
            notes.append(
                f"{format_hts(self.asked)} is an HTS {level} with {len(self.statistical)} "
                f"statistical line(s) in {self.revision.revision}; a measure or product list "
                "that covers only some of them is not decided line by line: ask with an 8- or "
                "10-digit code for that")
        return notes


def revision_of(chapter: ChapterState, effective: datetime) -> RevisionInForce | None:
    """The latest revision of one chapter started by an instant (the first one before it):
    `revision_at` for one chapter, without building a nomenclature for each question."""
    if not chapter.revisions:
        return None
    first = min(chapter.revisions, key=lambda paint: paint.start)
    started = [paint for paint in chapter.revisions if paint.start <= effective]
    chosen = max(started, key=lambda paint: paint.start) if started else first
    return RevisionInForce(chosen.value, chosen.start, effective)


def classify(nomenclature: Nomenclature, digits: str,
             effective: datetime) -> ClassifiedCode | None:
    """The line that an HTS code (as digits) names at an entry date; None when the store holds
    no nomenclature. InvalidInput (field 'hts') when the revision in force has no such line,
    naming the nearest ones; a chapter, heading or subheading is accepted when lines fall
    under it."""
    if not nomenclature.chapters:
        return None
    chapter = nomenclature.chapters.get(digits[:2])
    revision = None if chapter is None else revision_of(chapter, effective)
    if chapter is None or revision is None:
        raise InvalidInput(f"{format_hts(digits)}: chapter {digits[:2]} is not in the HTS "
                           "this store records", "hts")
    found = _found(chapter, digits, revision)
    if isinstance(found, str):
        raise InvalidInput(found, "hts")
    return ClassifiedCode(digits, revision, found.line, found.path, found.rated,
                          found.statistical, found.mfn)


_CACHES: OrderedDict[int, tuple[ChapterState, dict[tuple[str, str, datetime],
                                                   _Found | str]]] = OrderedDict()
_CACHES_KEPT = 64


def _found(chapter: ChapterState, digits: str, revision: RevisionInForce) -> _Found | str:
    """What the chapter says of a code in a revision, or why it has no such line."""
    # Keyed by the chapter state's identity (immutable; kept with its cache, so its id cannot
    # be reused while cached): a batch, and the read model's cached chapters, ask the same
    # codes again, and reading a chapter's lines costs a scan of thousands.
    entry = _CACHES.get(id(chapter))
    if entry is None or entry[0] is not chapter:
        entry = _CACHES[id(chapter)] = (chapter, {})
        if len(_CACHES) > _CACHES_KEPT:
            _CACHES.popitem(last=False)
    else:
        _CACHES.move_to_end(id(chapter))
    # A chapter's lines change only when a revision of it starts.
    key = (digits, revision.revision, revision.effective_from)
    cache = entry[1]
    if key not in cache:
        cache[key] = _look_up(chapter, digits, revision)
    return cache[key]


def _look_up(chapter: ChapterState, digits: str, revision: RevisionInForce) -> _Found | str:
    own = Nomenclature({chapter.chapter: chapter})
    at = revision.at
    under = tuple(line.code for line in lines_under(own, digits, at))
    found = line_at(own, digits, at) if len(digits) >= 4 else None
    if found is None:
        # A chapter, or a heading or subheading the schedule does not print as a line of its
        # own, is still a fair question when lines fall under it; any other code is not.
        if len(digits) in (2, 4, 6) and under:
            return _Found(None, (), None, under, None)
        near = ", ".join(format_hts(c) for c in nearest(own, digits, at))
        return (f"{format_hts(digits)} is not a line of HTS chapter {chapter.chapter} in "
                f"{revision.revision} (in force from "
                f"{describe_instant(revision.effective_from)})"
                + (f"; nearest: {near}" if near else ""))
    path = tuple(step.description for step in found.path)
    rated = found.rated
    mfn = None if rated is None or rated.general is None else parse_rate(rated.general)
    return _Found(found.line, path, rated, under, mfn)


MfnSource = Literal["given", "hts"]


def hts_mfn(found: ClassifiedCode, given: Decimal | None
            ) -> tuple[Decimal | None, MfnSource | None, list[str]]:
    """The MFN rate an answer uses, where it came from ('given' or 'hts'), and the notes that
    say what the number leaves out."""
    rated = found.rated
    written = None if rated is None else rated.general
    column = (f"the general column of {format_hts(rated.code)} ({written!r}, HTS "
              f"{found.revision.revision})" if rated is not None and written is not None
              else None)
    rate = found.mfn
    if given is not None:
        # Only a given rate that differs from the line's is worth a note.
        same = rate is not None and rate.kind in ("free", "ad_valorem") and (
            rate.ad_valorem == given)
        return given, "given", ([f"MFN {given.normalize():f}% as given, in place of {column}"]
                                if column is not None and not same else [])
    if rate is None or column is None:
        return None, None, [f"no general (MFN) rate for {format_hts(found.asked)} in HTS "
                            f"{found.revision.revision}: give the MFN rate (mfn) for the "
                            "total"]
    if rate.kind in ("free", "ad_valorem"):
        return rate.ad_valorem, "hts", []
    missing = rate.missing or ""
    if rate.ad_valorem is not None:
        return rate.ad_valorem, "hts", [
            f"MFN is {column}: only its ad valorem part {rate.ad_valorem.normalize():f}% is in "
            f"the total, which leaves out {missing}"]
    return None, None, [f"MFN is {column}, not a percentage of value: no total ({missing}); "
                        "give the MFN rate (mfn) as a percentage for one"]


def group_name(codes: tuple[str, ...]) -> str:
    """Statistical lines of one 8-digit line named briefly: '0901.11.00.15, .25'."""
    first, *rest = codes
    return ", ".join([format_hts(first), *(f".{code[8:]}" for code in rest)])
