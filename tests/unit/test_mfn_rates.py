"""Rate columns of the HTS read as values, and every rate of the bundled revisions classified."""

from __future__ import annotations

from collections import Counter
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path

import pytest

from tariff_timeline.domain.mfn import RATE_KINDS, parse_rate
from tariff_timeline.domain.nomenclature import Nomenclature, codes_in_force
from tariff_timeline.domain.timeline import fold
from tariff_timeline.events.instants import entry_instant
from tariff_timeline.importing.files import read_file

DATA = Path(__file__).resolve().parents[2] / "data" / "nomenclature"


@pytest.mark.parametrize("text, kind, percent", [
    ("Free", "free", "0"),
    ("2.5%", "ad_valorem", "2.5"),
    ("33 1/3%", "ad_valorem", "33.3333"),
    ("4.4¢/kg + 6%", "compound", "6"),
    ("5¢/kg + 3%", "compound", "3"),
    ("$9.92/kg+ 25%", "compound", "25"),
    ("2.2¢/kg  +  33.5%", "compound", "33.5"),
    ("17¢ each + 2.5% + 1¢/jewel", "compound", "2.5"),
    ("39.9¢/kg of total sugars+ 6%", "compound", "6"),
])
def test_a_rate_with_a_percentage_of_value_gives_it(text: str, kind: str, percent: str) -> None:
    rate = parse_rate(text)
    assert (rate.kind, rate.ad_valorem, rate.text) == (kind, Decimal(percent), text)


@pytest.mark.parametrize("text", ["4.4¢/kg", "$1.035/kg", "37.5¢/doz.", "4¢ each",
                                  "$2/1,000", "10¢/kg on drained weight", "86.1¢/m2 of "
                                  "recording surface", "4.4¢/liter + 31.4¢/pf. liter",
                                  "0.2¢/kg, including weight of container"])
def test_a_specific_rate_has_no_percentage_and_says_what_is_missing(text: str) -> None:
    rate = parse_rate(text)
    assert (rate.kind, rate.ad_valorem) == ("specific", None)
    assert rate.missing is not None and rate.missing.startswith(f"the specific duty {text}")


@pytest.mark.parametrize("text", [
    "The duty provided in the applicable subheading + 25%",
    "$1.50 each + 45% on the case",
    "3.9% on the movement + 5.3% on the battery",
    "$2.25 each + 15¢/jewel over 7 + 60% on the case",
    "1.4606¢/kg less 0.020668¢/kg for each degree under 100 degrees",
    "Free, under bond, as prescribed in U.S. note 1 to this subchapter",
    "See additional U.S. note 1",
    "2% + 3%",
    ":",
])
def test_a_rate_the_value_alone_cannot_compute_is_other(text: str) -> None:
    rate = parse_rate(text)
    assert (rate.kind, rate.ad_valorem, rate.specific) == ("other", None, ())
    assert rate.missing == f"the rate is not a percentage of value: {text!r}"


def test_a_compound_rate_names_its_specific_part_as_missing() -> None:
    rate = parse_rate("4.4¢/kg + 6%")
    assert rate.specific == ("4.4¢/kg",)
    assert rate.missing == ("the specific duty 4.4¢/kg (it depends on the quantity, which the "
                            "question does not give)")
    assert parse_rate("Free").missing is None


@cache
def _bundled() -> Nomenclature:
    events = [item.event for path in sorted(DATA.glob("*.json"))
              for item in read_file(path)[0]]
    return fold(events).nomenclature


# Rows with a rate per kind (free, ad valorem, specific, compound, other), the general column
# and column 2, of each reference file: the table in domain/mfn.py's docstring.
DOCUMENTED = {
    ("2025-05-16", "general"): (5960, 6213, 765, 324, 427),
    ("2025-05-16", "other"): (853, 8088, 1259, 1187, 1943),
    ("2025-12-05", "general"): (5960, 6230, 765, 324, 565),
    ("2025-12-05", "other"): (853, 8088, 1259, 1187, 2093),
    ("2026-02-25", "general"): (5960, 6232, 765, 324, 595),
    ("2026-02-25", "other"): (853, 8088, 1259, 1187, 2122),
}


@pytest.mark.parametrize("start, column", list(DOCUMENTED))
def test_every_rate_of_each_bundled_revision_is_classified_as_documented(
        start: str, column: str) -> None:
    lines = codes_in_force(_bundled(), entry_instant(date.fromisoformat(start)))
    texts = [getattr(line, column) for line in lines.values()]
    kinds = Counter(parse_rate(text).kind for text in texts if text is not None)
    counts = tuple(kinds[kind] for kind in RATE_KINDS)
    print(f"\n{start} {column}: " + ", ".join(f"{k} {n}" for k, n in zip(RATE_KINDS, counts,
                                                                          strict=True)))
    assert counts == DOCUMENTED[start, column]


@pytest.mark.parametrize("start, lines", [("2025-05-16", 29_922), ("2025-12-05", 30_115),
                                          ("2026-02-25", 29_807)])
def test_the_bundled_files_hold_each_reference_revisions_numbered_rows(start: str,
                                                                        lines: int) -> None:
    # The numbered rows of each CSV, as ../shared/reference/hts/README.md counts them by level.
    assert len(codes_in_force(_bundled(), entry_instant(date.fromisoformat(start)))) == lines
