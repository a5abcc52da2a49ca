"""A long product list is matched through an index; it answers exactly as a scan would."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tariff_timeline.domain import rules

DIGITS = st.text(alphabet="0123456789", min_size=1, max_size=5).map(lambda s: s * 2)
PREFIX = st.one_of(DIGITS.map(lambda s: s[:10]), st.just("ALL"))


def scanned(prefixes: tuple[str, ...], hts: str) -> str:
    result = "no"
    for prefix in prefixes:
        if prefix == "ALL" or hts.startswith(prefix):
            return "yes"
        if prefix.startswith(hts):
            result = "partly"
    return result


@settings(max_examples=300, deadline=None)
@given(prefixes=st.lists(PREFIX, min_size=32, max_size=120).map(tuple),
       hts=DIGITS.map(lambda s: s[:10]))
def test_an_indexed_list_matches_a_code_exactly_as_a_scan_does(
        prefixes: tuple[str, ...], hts: str) -> None:
    assert rules._product_in(prefixes, hts) == scanned(prefixes, hts)


def test_a_code_under_one_entry_of_a_long_list_is_covered_and_its_heading_partly() -> None:
    long_list = (*(f"{n:04d}" for n in range(7201, 7301)), "84713001")
    assert rules._product_in(long_list, "8471300100") == "yes"
    assert rules._product_in(long_list, "8471") == "partly"
    assert rules._product_in(long_list, "8472") == "no"
