"""What is derived from the events: timelines at a coordinate, rates, schedules (pure)."""

from __future__ import annotations

from tariff_timeline.projections.answers import (
    CoverageRow,
    Layer,
    LogEntry,
    RateAnswer,
    Schedule,
    ScheduleRow,
    SourceRow,
)
from tariff_timeline.projections.citations import coverage_of, sources_of
from tariff_timeline.projections.rates import rate_on
from tariff_timeline.projections.replay import (
    Corrected,
    Recorded,
    corrected_log,
    fold_at,
    known_by,
)
from tariff_timeline.projections.schedule import schedule_as_of

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
    "fold_at",
    "known_by",
    "rate_on",
    "schedule_as_of",
    "sources_of",
]
