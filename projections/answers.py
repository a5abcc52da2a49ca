"""The shapes of answers: what a rate question, a schedule and the log return."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, computed_field

from tariff_timeline.events import Source
from tariff_timeline.events.instants import describe_instant


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


Number = Annotated[Decimal, PlainSerializer(_number, return_type=int | float, when_used="json")]


class Answer(BaseModel):
    """Base of answer shapes: immutable and strictly shaped."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class EventRef(Answer):
    """An event behind an answer, with its three clocks and its sources."""

    id: str
    type: str
    known: str
    effective_from: datetime | None
    effective_until: datetime | None
    recorded: datetime
    corrected_by: tuple[str, ...] = ()
    confidence: str
    caveats: tuple[str, ...] = ()
    sources: tuple[Source, ...]


class Layer(Answer):
    """One measure considered for an entry: applied or not, at what rate, and why."""

    measure: str
    title: str
    authority: str
    program: str
    status: str
    rate: Number | None
    rate_rule: str | None
    heading: str | None = None
    applied: bool
    reason: str
    events: tuple[EventRef, ...]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def sources(self) -> tuple[Source, ...]:
        """Every citation behind this layer, without repeats (part of the answer's JSON)."""
        seen: dict[tuple[str, str | None], Source] = {}
        for event in self.events:
            for source in event.sources:
                seen.setdefault((source.title, source.url), source)
        return tuple(seen.values())


class Alternative(Answer):
    """The answer under one assumption about facts the caller did not give."""

    assumptions: dict[str, bool]
    additional: Number | None


class RateAnswer(Answer):
    """The additional US duty on an entry at a coordinate of the three clocks, explained."""

    origin: str
    hts: str
    entered: datetime
    known: datetime
    recorded: datetime
    mfn: Number | None
    facts: dict[str, bool | str | Number]
    additional: Number | None
    total: Number | None
    layers: tuple[Layer, ...]
    notes: tuple[str, ...]
    alternatives: tuple[Alternative, ...] = ()
    line: str | None = Field(
        default=None, description="The HTS line the code names in the revision used (an "
        "8-digit code may be printed as its single statistical line .00); None without "
        "nomenclature, or for a chapter, heading or subheading that is not a line.")
    description: str | None = Field(default=None, description="The line's own description.")
    path: tuple[str, ...] = Field(
        default=(), description="The line's description path, from the heading down.")
    revision: str | None = Field(
        default=None, description="The HTS revision whose lines answered: the latest that "
        "revised the code's chapter by the entry date (the first one before it).")
    revision_from: datetime | None = Field(
        default=None, description="When that revision took effect.")
    mfn_source: Literal["given", "hts"] | None = Field(
        default=None, description="Where `mfn` came from: given by the question, or the "
        "general column of the line (see notes for what a specific rate leaves out).")
    mfn_general: str | None = Field(
        default=None, description="The line's general (MFN) column as written.")

    def to_json_dict(self) -> dict[str, object]:
        """The answer as plain JSON data, each layer with its sources listed (a source's
        empty members left out, as in the import format)."""
        data = self.model_dump(mode="json")
        for layer in data["layers"]:
            layer["sources"] = [{k: v for k, v in source.items() if v is not None}
                                for source in layer["sources"]]
        return data


class SubjectRow(Answer):
    """A measure, exemption, quota or rule, named, with its status."""

    kind: str
    id: str
    title: str
    authority: str | None
    program: str | None
    status: str


class ScheduleRow(SubjectRow):
    """A measure, exemption, quota or rule and its state at a coordinate."""

    rate: str | None
    origins: str
    products: str
    products_complete: bool
    since: datetime | None
    """Where the stretch over which what the row shows (a measure's status, rate and scope;
    a quota's opening, in-quota rate and volume) holds unbroken begins (see `until`)."""
    until: datetime | None
    """Where that stretch ends as known at the coordinate, a later event's bound included (a
    rate change, a revocation known for a later date, a pause's extension); None: open. A
    scheduled row gives its first scope's start and the end of the stretch from there, an
    announced one its planned start."""
    events: tuple[str, ...]
    """The events behind what the row shows at its coordinate, never every event of the
    item's history (see `MeasureState` paints and `cited_at` of the other states), then those
    whose paints bound its since and until (`Stretch.bounded_by`)."""
    volume: str | None = None
    """A quota's volume at the coordinate, as its instrument states it (a quota cut or
    raised is a change to its row); None for every other kind of row."""

    def interval(self) -> str:
        """Its since and until as a reader sees them, in a table or a diff: days, "open" for
        no end, and "no date given" for an announcement without a planned date (whose
        "open → open" would read as in force without bounds)."""
        if self.since is None and self.until is None:
            return "no date given"
        return " → ".join("open" if at is None else describe_instant(at)
                          for at in (self.since, self.until))


class Schedule(Answer):
    """The tariff schedule at a coordinate: in force, paused, scheduled and announced."""

    entered: datetime
    known: datetime
    recorded: datetime
    origin: str | None
    hts: str | None
    rows: tuple[ScheduleRow, ...]


class LogEntry(Answer):
    """One stored event with its three clocks."""

    seq: int
    id: str
    type: str
    subject: str | None
    known: str
    effective_from: datetime | None
    effective_until: datetime | None
    recorded: datetime
    confidence: str
    summary: str
    sources: tuple[Source, ...]


class SourceRow(Answer):
    """One citation of the dataset and the events that cite it."""

    title: str
    url: str | None
    instrument: str | None
    federal_register: str | None
    via: str | None
    events: tuple[str, ...]


class CoverageRow(SubjectRow):
    """How completely a measure (or exemption) lists its products."""

    products_complete: bool
    codes: int | None
    products_note: str | None
