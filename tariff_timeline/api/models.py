"""What the API answers with: the answer models of the command line's --json, and envelopes
that name the three clocks and the store's recorded head around lists."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from tariff_timeline.projections.answers import (
    Answer,
)
from tariff_timeline.projections.hts import (
    HtsChange,
    HtsCounts,
    HtsHit,
    HtsRevision,
    HtsSide,
)
from tariff_timeline.projections.series import Series
from tariff_timeline.service import Head

T = TypeVar("T")


class HeadOut(Answer):
    """The store's recorded head when the answer was given: the log's event count and the
    chain link of its last event."""

    events: int
    link: str

    @classmethod
    def of(cls, head: Head) -> HeadOut:
        """The head as answered."""
        return cls(events=head.events, link=head.link)


class Page(Answer, Generic[T]):
    """One page of a list, with the clocks it was read at (null where the list spans a
    clock), the store's head, and where the next page is."""

    entered: datetime | None = Field(description="The effective time of the list, if one.")
    known: datetime | None = Field(description="As known at, if the list is at one.")
    recorded: datetime = Field(description="As recorded by the store at.")
    head: HeadOut
    subject: str | None = Field(default=None, description="A history's subject.")
    total: int = Field(description="Items in the whole list.")
    limit: int
    offset: int
    next: str | None = Field(description="The URL of the next page, if any.")
    items: tuple[T, ...]


class SeriesSet(Answer):
    """The additional duty on one origin and HTS code as step series, one per `known` asked
    (the `timeline` command), with the store's head."""

    head: HeadOut
    series: tuple[Series, ...]


class ChainHealth(Answer):
    """Whether the chain checks out up to the log's head."""

    intact: bool | None = Field(description="Null when the store could not be read.")
    checked_events: int = Field(description="Events checked now (those the read model has "
                                            "not applied; the whole log without one).")
    detail: str | None = None


class ReadModelHealth(Answer):
    """How far the read model trails the log, in notifications."""

    lag: int
    applied_notification_id: int
    log_notification_id: int


class Health(Answer):
    """Whether the server can answer: the store answers, the chain checks out, and how far the
    read model trails the log."""

    status: str = Field(examples=["ok"], description="ok, or failing (then status 503).")
    store: str = Field(description="reachable, or why not.")
    chain: ChainHealth
    read_model: ReadModelHealth | None
    head: HeadOut | None


class ImportResult(Answer):
    """What an import did, and the head after it."""

    appended: int
    already_recorded: int
    total_events: int
    head: HeadOut


class CorrectRequest(BaseModel):
    """A data correction: the id of a recorded event, the replacement event (same id, in the
    import format) and what the store got wrong."""

    model_config = ConfigDict(extra="forbid")

    event_id: str = Field(min_length=1, examples=["recip-country-rates-jp"])
    reason: str = Field(min_length=1, examples=["Annex I misread"])
    replacement: dict[str, Any]


class CorrectionResult(Answer):
    """The EventCorrected recorded, and the head after it."""

    id: str
    corrects: str
    head: HeadOut


class BatchQuestion(BaseModel):
    """One row of a batch: a rate question (facts as their own members)."""

    model_config = ConfigDict(extra="allow")

    id: str | None = None
    origin: str = Field(examples=["JP"])
    hts: str = Field(examples=["8703.23.01"])
    entered: str = Field(examples=["2025-05-01"])
    known: str | None = None
    recorded: str | None = None
    mfn: float | str | None = None


# ---------------------------------------------------------------- the HTS itself


class HtsSearchPage(Page[HtsHit]):
    """One page of the HTS lines found by words (as `tariffs hts search --json` gives them),
    with the revision in force at the effective time asked."""

    words: str = Field(description="The words searched for, as read.")
    revision: HtsRevision
    notes: tuple[str, ...]


class HtsDiffPage(Page[HtsChange]):
    """One page of the changes to the nomenclature between two dates (as `tariffs hts diff
    --json` lists them), with both sides' clocks and revisions and the counts of the whole
    comparison."""

    before: HtsSide
    after: HtsSide
    under: tuple[str, ...]
    counts: HtsCounts
