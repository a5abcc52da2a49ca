"""What a question names, checked as a caller gave it: the origin and HTS code of an entry, an
MFN rate, and facts about the goods. Every error names the parameter at fault (`origin`, `hts`,
`mfn`, `facts`); each interface shows that parameter under its own name."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from tariff_timeline.domain.clocks import When
from tariff_timeline.domain.errors import InvalidInput
from tariff_timeline.domain.rules import FactValue
from tariff_timeline.events import ALL, FACTS, country_code, normalise_hts

Percent = Decimal | float | str
"""A percentage as a caller gives it (2.5, '2.5', Decimal('2.5'))."""


@dataclass(frozen=True)
class RateQuestion:
    """One rate question as a caller gave it (text or Python values), e.g. a row of a batch."""

    origin: str
    hts: str
    entered: When
    known: When | None = None
    recorded: When | None = None
    mfn: Percent | None = None
    facts: Mapping[str, object] = field(default_factory=dict)


def origin_code(origin: str, field: str = "origin") -> str:
    """The ISO 3166 alpha-2 code (or group) of a country of origin."""
    try:
        return country_code(origin)
    except ValueError as exc:
        raise InvalidInput(str(exc), field=field) from exc


def hts_digits(hts: str, field: str = "hts", allow_all: bool = False) -> str:
    """An HTS code or prefix as its digits (`ALL` only where a question allows it)."""
    try:
        digits = normalise_hts(hts)
    except ValueError as exc:
        raise InvalidInput(str(exc), field=field) from exc
    if digits == ALL and not allow_all:
        raise InvalidInput("give an HTS code, not ALL", field=field)
    return digits


def entry(origin: str, hts: str) -> tuple[str, str]:
    """A country of origin and a full HTS code (as digits) from what a caller gave."""
    return origin_code(origin), hts_digits(hts)


def mfn_percent(mfn: Percent | None) -> Decimal | None:
    """The MFN rate in percent, from 0 to 1000, if given."""
    if mfn is None:
        return None
    try:
        value = Decimal(str(mfn))
    except InvalidOperation as exc:
        raise InvalidInput(f"{mfn!r} is not a number", field="mfn") from exc
    if not Decimal(0) <= value <= Decimal(1000):
        raise InvalidInput(f"{mfn} is outside 0 to 1000 percent", field="mfn")
    return value


def fact_pairs(pairs: Iterable[str] | None) -> dict[str, str]:
    """Facts as a caller typed them, KEY=VALUE each, as a mapping of text (typed later by
    `coerce_facts`)."""
    facts: dict[str, str] = {}
    for pair in pairs or ():
        key, sep, value = pair.partition("=")
        if not sep:
            raise InvalidInput(f"{pair!r}: write KEY=VALUE, e.g. usmca_qualifying=true",
                               field="facts")
        facts[key] = value
    return facts


def both_sides(values: Sequence[str] | None, field: str, required: bool = False
               ) -> tuple[str | None, str | None]:
    """A time of a diff given once (the same on both sides) or twice (before, after)."""
    given = list(values or ())
    if len(given) > 2 or (required and not given):
        raise InvalidInput("give it once (both sides) or twice (before, after)", field=field)
    return (given[0], given[-1]) if given else (None, None)


def diff_times(entered: Sequence[str] | None, known: Sequence[str] | None,
               recorded: Sequence[str] | None) -> tuple[tuple[str, str],
                                                     tuple[str | None, str | None],
                                                     tuple[str | None, str | None]]:
    """The three clocks of a diff as a caller gives them (each once or twice; the entry date
    at least once): (before, after) for entered, known and recorded."""
    first, second = both_sides(entered, "entered", required=True)
    if first is None or second is None:  # required: both_sides has refused an empty list
        raise InvalidInput("give it once (both sides) or twice", field="entered")
    return (first, second), both_sides(known, "known"), both_sides(recorded, "recorded")


def parse_facts(pairs: Iterable[str]) -> dict[str, FactValue]:
    """Facts about the goods from KEY=VALUE strings, typed by the facts catalogue."""
    facts: dict[str, FactValue] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise InvalidInput(f"{pair!r}: write KEY=VALUE, e.g. usmca_qualifying=true",
                               field="facts")
        if key not in FACTS:
            raise InvalidInput(f"{pair!r}: unknown fact {key!r}; known facts: "
                               + ", ".join(sorted(FACTS)), field="facts")
        kind = FACTS[key][0]
        value = raw.strip()
        if kind == "bool":
            if value.lower() not in ("true", "false", "yes", "no", "1", "0"):
                raise InvalidInput(f"{pair!r}: {key} is true or false", field="facts")
            facts[key] = value.lower() in ("true", "yes", "1")
        elif kind == "share":
            try:
                share = Decimal(value)
            except InvalidOperation as exc:
                raise InvalidInput(f"{pair!r}: {key} is a number from 0 to 1",
                                   field="facts") from exc
            if not Decimal(0) <= share <= Decimal(1):
                raise InvalidInput(f"{pair!r}: {key} is a number from 0 to 1", field="facts")
            facts[key] = share
        else:
            facts[key] = value
    return facts


def coerce_facts(facts: Mapping[str, object] | None) -> dict[str, FactValue]:
    """Facts given as a mapping (Python values or text), typed like `parse_facts`."""
    pairs = [f"{k}={str(v).lower() if isinstance(v, bool) else v}"
             for k, v in (facts or {}).items()]
    return parse_facts(pairs)
