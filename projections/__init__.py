"""What is derived from the events: timelines at a coordinate, rates, schedules (pure)."""

from __future__ import annotations

from projections.answers import (
    CoverageRow,
    Layer,
    LogEntry,
    RateAnswer,
    Schedule,
    ScheduleRow,
    SourceRow,
)
from projections.catalogue import coverage_of, sources_of
from projections.rates import rate_on
from projections.replay import Corrected, Recorded, corrected_log, known_by, timeline_at
from projections.schedule import schedule_as_of

__all__ = [
    "Corrected",
    "CoverageRow",
    "Layer",
    "LogEntry",
    "RateAnswer",
    "Recorded",
    "Schedule",
    "ScheduleRow",
    "SourceRow",
    "corrected_log",
    "coverage_of",
    "known_by",
    "rate_on",
    "schedule_as_of",
    "sources_of",
    "timeline_at",
]
