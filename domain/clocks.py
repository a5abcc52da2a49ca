"""The three clocks of a question: effective, known and recorded time.

A bare effective date D means goods entered on D after the day's 12:01 a.m. US Eastern switch.
A bare known or recorded date D means everything up to the end of D (US Eastern).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from domain.errors import InvalidInput
from events import EASTERN

Clock = Callable[[], datetime]
"""Injected source of 'now' (timezone-aware)."""


def system_clock() -> datetime:
    """The machine's clock, in UTC."""
    return datetime.now(UTC)


def _parse(text: str, flag: str) -> date | datetime:
    value = text.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        try:
            return date.fromisoformat(value)
        except ValueError as exc:
            raise InvalidInput(f"{flag}: {text!r} is not a valid date ({exc})") from exc
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise InvalidInput(
            f"{flag}: {text!r} is neither an ISO date (2025-04-09) nor a datetime with offset "
            "(2025-04-09T00:01:00-04:00)"
        ) from exc
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise InvalidInput(f"{flag}: {text!r} has no UTC offset; add one such as -04:00")
    return parsed


def effective_instant(text: str, flag: str = "--entered") -> datetime:
    """The effective instant a WHEN string names (a bare date: 12:01 a.m. US Eastern)."""
    value = _parse(text, flag)
    if isinstance(value, datetime):
        return value
    return datetime.combine(value, time(0, 1), tzinfo=EASTERN)


def end_of_day(day: date) -> datetime:
    """The last representable instant of a day in US Eastern time."""
    return datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=EASTERN) - timedelta(
        microseconds=1
    )


def cutoff_instant(text: str, flag: str) -> datetime:
    """The inclusive instant a known or recorded WHEN string names (a bare date: its end)."""
    value = _parse(text, flag)
    if isinstance(value, datetime):
        return value
    return end_of_day(value)


@dataclass(frozen=True)
class Coordinate:
    """A point on the three clocks at which a question is asked."""

    effective: datetime
    known: datetime
    recorded: datetime

    @classmethod
    def parse(
        cls, entered: str, known: str | None, recorded: str | None, clock: Clock
    ) -> Coordinate:
        """A coordinate from the WHEN strings of a query; known and recorded default to now."""
        now = clock()
        return cls(
            effective=effective_instant(entered),
            known=cutoff_instant(known, "--known") if known else now,
            recorded=cutoff_instant(recorded, "--recorded") if recorded else now,
        )
