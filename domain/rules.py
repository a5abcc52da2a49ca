"""What scopes, rates and conditions mean for one entry of goods."""

from __future__ import annotations

from bisect import bisect_left
from collections import OrderedDict
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Literal

from tariff_timeline.events import ALL, ORIGIN_GROUPS, Condition, Rate, Scope, Selector

Match = Literal["yes", "no", "partly"]
FactValue = bool | str | Decimal

LISTED_FOR = timedelta(days=365)
"""How long before a measure takes effect, and after it ends, answers still list it: a year
of notice either side explains a change to a reader without every measure that ever was."""


def listed_before_start(starts: datetime, at: datetime) -> bool:
    """Whether a measure that takes effect at `starts` is listed (as scheduled) at `at`."""
    return starts - LISTED_FOR <= at


def listed_after_end(ended: datetime, at: datetime) -> bool:
    """Whether a measure that ended at `ended` is still listed (as ended) at `at`."""
    return at < ended + LISTED_FOR


def _origin_in(codes: tuple[str, ...], origin: str) -> bool:
    return any(
        code in (ALL, origin) or origin in ORIGIN_GROUPS.get(code, ()) for code in codes
    )


def origin_matches(scope: Scope, origin: str) -> bool:
    """Whether goods from this country fall inside the scope's origins."""
    return _origin_in(scope.origins, origin) and not _origin_in(scope.origins_except, origin)


class _PrefixIndex:
    """A long list of HTS prefixes as a set and a sorted tuple, so that a code is matched by
    looking up its own prefixes and bisecting, not by scanning thousands of entries."""

    __slots__ = ("every", "ordered", "prefixes")

    def __init__(self, prefixes: tuple[str, ...]) -> None:
        self.prefixes = frozenset(prefixes)
        self.ordered = tuple(sorted(self.prefixes))
        self.every = ALL in self.prefixes

    def match(self, hts: str) -> Match:
        if self.every or any(hts[:n] in self.prefixes for n in range(1, len(hts) + 1)):
            return "yes"
        at = bisect_left(self.ordered, hts)
        return "partly" if at < len(self.ordered) and self.ordered[at].startswith(hts) else "no"


_INDEXED_FROM = 32
"""Lists at least this long are indexed; shorter ones are scanned (quicker than a lookup)."""
_INDEXES: OrderedDict[int, tuple[tuple[str, ...], _PrefixIndex]] = OrderedDict()
_INDEXES_KEPT = 4096


def _index(prefixes: tuple[str, ...]) -> _PrefixIndex:
    # Keyed by the tuple's identity (hashing thousands of strings per question would cost
    # what the index saves); the tuple is kept with its index, so its id cannot be reused.
    found = _INDEXES.get(id(prefixes))
    if found is not None and found[0] is prefixes:
        _INDEXES.move_to_end(id(prefixes))
        return found[1]
    index = _PrefixIndex(prefixes)
    _INDEXES[id(prefixes)] = (prefixes, index)
    if len(_INDEXES) > _INDEXES_KEPT:
        _INDEXES.popitem(last=False)
    return index


def _product_in(prefixes: tuple[str, ...], hts: str) -> Match:
    if len(prefixes) >= _INDEXED_FROM:
        return _index(prefixes).match(hts)
    result: Match = "no"
    for prefix in prefixes:
        if prefix == ALL or hts.startswith(prefix):
            return "yes"
        if prefix.startswith(hts):
            result = "partly"
    return result


def product_matches(scope: Scope, hts: str) -> Match:
    """Whether an HTS code falls inside the scope: yes, no, or partly (only some codes under it)."""
    included = _product_in(scope.products, hts)
    if included == "no":
        return "no"
    excluded = _product_in(scope.products_except, hts)
    if excluded == "yes":
        return "no"
    if excluded == "partly" or included == "partly":
        return "partly"
    return "yes"


def scope_matches(scope: Scope, origin: str, hts: str) -> Match:
    """Whether an entry (origin, HTS code) falls inside a scope."""
    if not origin_matches(scope, origin):
        return "no"
    return product_matches(scope, hts)


def selects(selector: Selector, measure_id: str, program: str, authority: str) -> bool:
    """Whether a selector picks a measure."""
    return (
        measure_id in selector.measures
        or program in selector.programs
        or authority in selector.authorities
    )


def condition_holds(condition: Condition, facts: dict[str, FactValue]) -> bool | None:
    """Whether the goods meet a condition; None when the fact was not given."""
    if condition.fact not in facts:
        return None
    value = facts[condition.fact]
    if condition.equals is not None:
        if isinstance(condition.equals, bool):
            return value is condition.equals
        return str(value) == condition.equals
    if condition.one_of:
        return str(value) in condition.one_of
    if not isinstance(value, Decimal):
        return False
    if condition.at_least is not None:
        return value >= condition.at_least
    return condition.below is not None and value < condition.below


def layer_percent(rate: Rate, mfn: Decimal | None, facts: dict[str, FactValue]) -> Decimal | None:
    """The additional duty a rate adds, or None when it depends on an unknown MFN or share."""
    if rate.kind == "ceiling":
        if mfn is None:
            return None
        percent = max(Decimal(0), rate.percent - mfn)
    else:
        percent = rate.percent
    if rate.content_fact is not None:
        share = facts.get(rate.content_fact)
        if not isinstance(share, Decimal):
            return None
        percent = percent * share
    return percent


def capped_percent(ceiling: Rate, own: Rate | None, mfn: Decimal | None,
                   facts: dict[str, FactValue]) -> Decimal | None:
    """The layer an all-in ceiling exemption leaves: min(own layer, max(0, cap - MFN)).

    A ceiling caps a layer, it never raises one: softwood lumber at 10% stays at 10% under a
    15% all-in cap. None when either side depends on an unknown MFN or share (the cap alone
    is only an upper bound, not the answer).
    """
    capped = layer_percent(ceiling, mfn, facts)
    if own is None or capped is None:
        return capped
    own_percent = layer_percent(own, mfn, facts)
    return None if own_percent is None else min(capped, own_percent)


def describe_rate(rate: Rate) -> str:
    """The rate in words, e.g. '15% all-in (max(0, 15 - MFN))'."""
    base = f"{rate.percent.normalize():f}%"
    if rate.kind == "ceiling":
        text = f"{base} all-in: max(0, {rate.percent.normalize():f} - MFN)"
        if rate.replaces:
            text += f", in place of {', '.join(rate.replaces)}"
    elif rate.kind == "replacement":
        text = f"{base} in place of {', '.join(rate.replaces)}"
    else:
        text = f"{base} on top of MFN"
    if rate.content_fact:
        text += f", on the share of value given by {rate.content_fact}"
    if rate.heading:
        text += f" (heading {rate.heading})"
    return text
