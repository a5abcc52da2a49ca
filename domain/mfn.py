"""A column-1 general (MFN) or column-2 rate of the HTS, read from the text as written.

Kinds, as the three revisions of ../shared/reference/hts write them: rows with a rate, and in
brackets distinct texts, per file and column (`tests/unit/test_mfn_rates.py` counts them again):

| file | column | free | ad valorem | specific | compound | other |
|---|---|---|---|---|---|---|
| 2025 Rev 13 | general | 5,960 (1) | 6,213 (216) | 765 (251) | 324 (197) | 427 (164) |
| 2025 Rev 13 | column 2 | 853 (1) | 8,088 (245) | 1,259 (248) | 1,187 (249) | 1,943 (100) |
| 2025 Rev 32 | general | 5,960 (1) | 6,230 (216) | 765 (251) | 324 (197) | 565 (168) |
| 2025 Rev 32 | column 2 | 853 (1) | 8,088 (245) | 1,259 (248) | 1,187 (249) | 2,093 (103) |
| 2026 Rev 4 | general | 5,960 (1) | 6,232 (216) | 765 (251) | 324 (197) | 595 (170) |
| 2026 Rev 4 | column 2 | 853 (1) | 8,088 (245) | 1,259 (248) | 1,187 (249) | 2,122 (102) |

"Other" is mostly Chapter 99 ("The duty provided in the applicable subheading + 25%"; in
column 2, "No change"); elsewhere (188 general rows of 2026 Rev 4) it is a rate on part of the
article ("3.9% on the movement + 5.3% on the battery"), a sliding scale (sugar by degree), a
condition ("Free, under bond, ...") or words ("See additional U.S. note 1").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

RateKind = Literal["free", "ad_valorem", "specific", "compound", "other"]
RATE_KINDS: tuple[RateKind, ...] = ("free", "ad_valorem", "specific", "compound", "other")

_PERCENT = re.compile(r"(?P<whole>\d+(?:\.\d+)?)(?: (?P<num>\d+)/(?P<den>\d+))?%")
"""A bare ad valorem term: '2.5%', or with a fraction, '33 1/3%'."""
_AMOUNT = re.compile(r"(?:\$(?P<dollars>\d[\d,]*(?:\.\d+)?)|(?P<cents>\d+(?:\.\d+)?)¢)")
_SPECIFIC = re.compile(_AMOUNT.pattern + r"\s*(?:/|each\b)(?P<rest>.*)")
"""An amount per unit ('4.4¢/kg', '$1.035/kg', '4¢ each'), maybe with its basis ('on lead
content', 'of total sugars', ', including weight of container')."""
_UNIT_DIGITS = re.compile(r"m[23]|1,?000")
"""Digits that belong to a unit (m2, m3, per 1,000): any other digit after the amount is a
condition ('15¢/jewel over 7', 'less 0.06¢/kg for each degree') the rate cannot say alone."""
_SPLIT = re.compile(r"\s*\+\s*")


@dataclass(frozen=True)
class MfnRate:
    """A rate column's text read as a value: its kind, its ad valorem part in percent (None
    when it has none, or for 'other'), its specific parts as written, and what an answer
    cannot compute from the value of the goods alone."""

    text: str
    kind: RateKind
    ad_valorem: Decimal | None
    specific: tuple[str, ...] = ()

    @property
    def missing(self) -> str | None:
        """What the ad valorem part leaves out, in words (None when it is the whole rate)."""
        if self.kind in ("free", "ad_valorem"):
            return None
        if self.kind == "other":
            return f"the rate is not a percentage of value: {self.text!r}"
        parts = " + ".join(self.specific)
        return (f"the specific duty {parts} (it depends on the quantity, which the question "
                "does not give)")


def _percent(term: str) -> Decimal | None:
    match = _PERCENT.fullmatch(term)
    if match is None:
        return None
    value = Decimal(match["whole"])
    if match["num"] is not None:
        # 33 1/3% cannot be written exactly in decimals: four places are kept.
        value = (value + Decimal(match["num"]) / Decimal(match["den"])).quantize(
            Decimal("0.0001"))
    return value


def _is_specific(term: str) -> bool:
    match = _SPECIFIC.fullmatch(term)
    return match is not None and not re.search(r"\d", _UNIT_DIGITS.sub("", match["rest"]))


def parse_rate(text: str) -> MfnRate:
    """A rate column's text as written ('Free', '2.5%', '4.4¢/kg', '4.4¢/kg + 6%', or words)
    read as a value; never raises: what it cannot read is of kind 'other'."""
    written = " ".join(text.split())
    if written.casefold() == "free":
        return MfnRate(text, "free", Decimal(0))
    terms = _SPLIT.split(written)
    percents = [p for p in map(_percent, terms) if p is not None]
    specific = tuple(t for t in terms if _is_specific(t))
    if len(percents) + len(specific) != len(terms) or len(percents) > 1:
        return MfnRate(text, "other", None)
    if not specific:
        return MfnRate(text, "ad_valorem", percents[0])
    if not percents:
        return MfnRate(text, "specific", None, specific)
    return MfnRate(text, "compound", percents[0], specific)
