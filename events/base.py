"""The base of every event: identity, the known clock, sources and how sure the store is.

Kept apart from ``policy`` so that event modules of other subjects (``nomenclature``) can
subclass it while ``policy`` still lists every event type in one place.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, model_validator

from tariff_timeline.events.values import Confidence, EventId, Frozen, KnownTime, Source, Text


class PolicyEvent(Frozen):
    """Something that happened to US tariff policy (or to this store's record of it)."""

    TOPIC: ClassVar[str] = ""

    id: EventId
    known: KnownTime
    sources: tuple[Source, ...] = Field(min_length=1)
    confidence: Confidence = "verified"
    caveats: tuple[Text, ...] = Field(
        default=(),
        description="What is uncertain about this event (a 'partly' fact, a disputed figure).",
    )
    note: Text | None = None

    @model_validator(mode="after")
    def _partly_says_why(self) -> PolicyEvent:
        if self.confidence != "verified" and not self.caveats:
            raise ValueError(
                f"confidence is {self.confidence!r}: caveats must say what is uncertain"
            )
        return self
