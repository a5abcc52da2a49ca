"""The three clocks of a question: effective, known and recorded time.

A bare effective date D means goods entered on D after the day's 12:01 a.m. US Eastern switch.
A bare known or recorded date D means everything up to the end of D (US Eastern). What those
words mean as instants lives in ``events.instants``; this module turns what a caller gave into
a coordinate and names the field at fault when it cannot.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from tariff_timeline.domain.errors import InvalidInput
from tariff_timeline.events.instants import cutoff_of, entry_instant, parse_when

Clock = Callable[[], datetime]
"""Injected source of 'now' (timezone-aware)."""

When = str | date | datetime
"""A time as a caller gives it: ISO text, a date, or a datetime with its offset."""


def system_clock() -> datetime:
    """The machine's clock, in UTC."""
    return datetime.now(UTC)


def _value(when: When, field: str) -> date | datetime:
    try:
        return parse_when(when) if isinstance(when, str) else when
    except ValueError as exc:
        raise InvalidInput(str(exc), field=field) from exc


def effective_instant(when: When, field: str = "entered") -> datetime:
    """The effective instant a caller's time names (a bare date: 12:01 a.m. US Eastern)."""
    try:
        return entry_instant(_value(when, field))
    except ValueError as exc:
        raise InvalidInput(str(exc), field=field) from exc


def cutoff_instant(when: When, field: str) -> datetime:
    """The inclusive known or recorded instant a caller's time names (a bare date: its end)."""
    try:
        return cutoff_of(_value(when, field))
    except ValueError as exc:
        raise InvalidInput(str(exc), field=field) from exc


@dataclass(frozen=True)
class Coordinate:
    """A point on the three clocks at which a question is asked."""

    effective: datetime
    known: datetime
    recorded: datetime

    @classmethod
    def parse(cls, entered: When, known: When | None, recorded: When | None,
              clock: Clock) -> Coordinate:
        """A coordinate from the times of a query; known and recorded default to now."""
        now = clock()
        return cls(
            effective=effective_instant(entered),
            known=cutoff_instant(known, "known") if known is not None else now,
            recorded=cutoff_instant(recorded, "recorded") if recorded is not None else now,
        )
