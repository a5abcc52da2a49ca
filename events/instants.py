"""Time, in one home: US Eastern, the instruments' 12:01 a.m. switch, what a bare date means on
each clock, the end of a day, and instants as microseconds since the epoch (the read model's and
the fold's integer keys).

Every other module asks these functions; none parses a date or builds an instant of its own.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

EASTERN = ZoneInfo("America/New_York")
"""US instruments state their effective times in US Eastern time."""

SWITCH_TIME = time(0, 1)
"""The customary switch: 'on or after 12:01 a.m. eastern time'."""

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
"""Microsecond counts are taken from here."""

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ONE_MICROSECOND = timedelta(microseconds=1)


def parse_when(text: str) -> date | datetime:
    """An ISO date, or an ISO datetime with its UTC offset, from text; ValueError says why not."""
    value = text.strip()
    if _DATE.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError as exc:
            raise ValueError(f"{text!r} is not a valid date ({exc})") from exc
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(
            f"{text!r} is neither an ISO date (2025-04-09) nor a datetime with offset "
            "(2025-04-09T00:01:00-04:00)"
        ) from exc
    require_offset(parsed)
    return parsed


def require_offset(value: datetime) -> datetime:
    """The datetime itself, if it names its UTC offset; ValueError otherwise."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{value.isoformat()} has no UTC offset; add one such as -04:00")
    return value


def entry_instant(value: date | datetime) -> datetime:
    """The effective instant a date or datetime names: a bare date D is 12:01 a.m. US Eastern
    on D, the usual switch of an instrument."""
    if isinstance(value, datetime):
        return require_offset(value)
    return datetime.combine(value, SWITCH_TIME, tzinfo=EASTERN)


def known_instant(known: date | datetime) -> datetime:
    """The instant from which an event counts as known (a bare date: 00:00 US Eastern)."""
    if isinstance(known, datetime):
        return known
    return datetime.combine(known, time(0, 0), tzinfo=EASTERN)


def end_of_day(day: date) -> datetime:
    """The last instant of day D in US Eastern: a question 'as known (or recorded) on D' sees
    everything up to and including it."""
    return datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=EASTERN) - (
        _ONE_MICROSECOND)


def cutoff_of(value: date | datetime) -> datetime:
    """The inclusive instant a known or recorded date or datetime names (a bare date: its end)."""
    if isinstance(value, datetime):
        return require_offset(value)
    return end_of_day(value)


def micros(at: datetime) -> int:
    """Microseconds since the epoch: an instant as the read model stores and compares it."""
    return (at - EPOCH) // _ONE_MICROSECOND


def from_micros(value: int) -> datetime:
    """The instant a microsecond count names, in UTC."""
    return EPOCH + timedelta(microseconds=value)


def effective_from_micros(value: int) -> datetime:
    """The effective instant a microsecond count names, in Eastern time, as the instruments
    give effective instants and the events carry them: an answer read from the read model's
    counts then says 00:01-04:00 as the fold's does, not 04:01Z."""
    return from_micros(value).astimezone(EASTERN)


def fold_key(known: date | datetime) -> int:
    """An event's place in the fold's order: microseconds since the epoch of its known instant
    (ties go by log position)."""
    return micros(known_instant(known))


def describe_instant(at: datetime) -> str:
    """An instant as people read it: a bare date where it is the instruments' customary 12:01
    a.m. (or midnight) US Eastern switch, the full datetime where the time matters."""
    local = at.astimezone(EASTERN)
    if local.time() in (SWITCH_TIME, time(0, 0)):
        return local.date().isoformat()
    return at.isoformat()


def describe_cutoff(at: datetime) -> str:
    """A known or recorded time as people read it: a bare date where it is the end of that day
    (a date given as the known time), the instant otherwise."""
    local = at.astimezone(EASTERN)
    if local == end_of_day(local.date()):
        return local.date().isoformat()
    return describe_instant(at)
