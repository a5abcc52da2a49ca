"""The HTS itself as events: the lines of one chapter that a USITC revision added, changed or
removed, from the revision's start date.

A line is recorded as the USITC CSV export prints it (its own description, the unnumbered
superior text above it, units and the three rate columns as written); what the lines *mean*
(a line in force at a date, its path, its MFN rate) lives in ``domain/``.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field, model_validator

from tariff_timeline.events.base import PolicyEvent
from tariff_timeline.events.values import TEXT_PATTERN, EffectiveInstant, Frozen, Ref

LINE_LEVELS = (4, 6, 8, 10)
"""The numbered levels of the schedule: heading, subheading, tariff line, statistical line."""

MAX_INDENT = 20
"""Deepest USITC indent accepted (the 2025-2026 revisions go to 11)."""

LineCode = Annotated[
    str,
    Field(pattern=r"^(?:[0-9]{4}|[0-9]{6}|[0-9]{8}|[0-9]{10})$",
          description="An HTS line as bare digits: 4, 6, 8 or 10 of them."),
]
ChapterCode = Annotated[
    str, Field(pattern=r"^[0-9]{2}$", description="An HTS chapter: two digits, e.g. '84'.")
]

# The project's Text has no length bound; HTS text is bounded here so that a damaged file cannot
# hand the fold megabytes per line. The longest description in the three revisions of
# ../shared/reference/hts is 1,685 characters and the longest rate 439.
LineText = Annotated[str, Field(min_length=1, max_length=4000, pattern=TEXT_PATTERN)]
RateText = Annotated[str, Field(min_length=1, max_length=1000, pattern=TEXT_PATTERN)]
UnitText = Annotated[str, Field(min_length=1, max_length=40, pattern=TEXT_PATTERN)]

RATE_COLUMNS = ("general", "special", "other")
"""The three rate columns: column 1 general (MFN), column 1 special, column 2."""


class HtsLine(Frozen):
    """One numbered line of the HTS as a revision prints it."""

    code: LineCode
    indent: int = Field(ge=0, le=MAX_INDENT)
    parent: LineCode | None = Field(
        default=None,
        description="The nearest numbered line above it with a smaller indent, as USITC's "
                    "indents give it (not always a prefix of its code: see 9823).")
    superiors: tuple[LineText, ...] = Field(
        default=(), max_length=MAX_INDENT,
        description="The unnumbered superior text lines between its parent and itself, from "
                    "the top down (e.g. 'Horses:').")
    description: LineText
    units: tuple[UnitText, ...] = Field(default=(), max_length=8)
    general: RateText | None = Field(default=None, description="Column 1 general, as written.")
    special: RateText | None = Field(default=None, description="Column 1 special, as written.")
    other: RateText | None = Field(default=None, description="Column 2, as written.")

    @model_validator(mode="after")
    def _not_its_own_parent(self) -> HtsLine:
        if self.parent == self.code:
            raise ValueError(f"line {self.code} names itself as its parent")
        return self


class NomenclatureRevised(PolicyEvent):
    """A USITC revision of the HTS changed one chapter from its start date: lines added,
    changed (the whole new line) or removed. A baseline records every line of the chapter."""

    TOPIC: ClassVar[str] = "tariffs.NomenclatureRevised.v1"
    type: Literal["NomenclatureRevised"] = "NomenclatureRevised"
    revision: Ref = Field(description="The USITC revision, e.g. '2025-rev-13'.")
    chapter: ChapterCode
    effective_from: EffectiveInstant
    baseline: bool = Field(
        default=False,
        description="True for the first revision this store records: every line of the "
                    "chapter, all in `added`.")
    added: tuple[HtsLine, ...] = ()
    changed: tuple[HtsLine, ...] = ()
    removed: tuple[LineCode, ...] = ()

    @model_validator(mode="after")
    def _one_change_per_line(self) -> NomenclatureRevised:
        if self.baseline and (self.changed or self.removed):
            raise ValueError("a baseline records every line as added: it changes and removes "
                             "nothing")
        if not (self.added or self.changed or self.removed):
            raise ValueError("a revision of a chapter adds, changes or removes at least one line")
        seen: set[str] = set()
        codes = [line.code for line in (*self.added, *self.changed)] + list(self.removed)
        for code in codes:
            if code in seen:
                raise ValueError(f"line {code} is given more than once")
            seen.add(code)
            if code[:2] != self.chapter:
                raise ValueError(f"line {code} is not in chapter {self.chapter}")
        return self
