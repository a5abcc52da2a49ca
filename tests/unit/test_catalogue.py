"""What the dataset cites and how completely it lists products, from given events (no database)."""

from __future__ import annotations

from datetime import UTC, datetime

from tariff_timeline.domain.clocks import effective_instant
from tariff_timeline.projections import (
    Corrected,
    Recorded,
    corrected_log,
    coverage_of,
    fold_at,
    sources_of,
)
from tests.builders import exemption, imposed

RECORDED = datetime(2026, 1, 1, tzinfo=UTC)
STEEL = imposed("steel", "s232-steel", known="2018-03-08", start="2018-03-23", percent=25,
                products=("7208", "7209"), authority="Section 232")
BASE = imposed("base", "baseline", known="2025-04-02", start="2025-04-05", percent=10)
ANNEX = exemption("annex", "annex-ii", known="2025-04-02", start="2025-04-05",
                  measures=("baseline",), products=("2709",))


def _entries() -> list[Corrected]:
    return corrected_log([Recorded(i, RECORDED, e)
                          for i, e in enumerate([STEEL, BASE, ANNEX], start=1)])


def test_each_citation_is_listed_once_with_every_event_citing_it() -> None:
    rows = sources_of(_entries())
    assert len(rows) == 1
    assert rows[0].events == ("steel", "base", "annex")


def test_coverage_counts_codes_and_says_all_for_unlisted_products() -> None:
    timeline = fold_at(_entries(), RECORDED)
    rows = {r.id: r for r in coverage_of(timeline, effective_instant("2025-05-01"))}
    assert (rows["s232-steel"].codes, rows["s232-steel"].status) == (2, "in_force")
    assert rows["baseline"].codes is None
    assert (rows["annex-ii"].kind, rows["annex-ii"].status) == ("exemption", "in_effect")


def test_coverage_before_a_measure_starts_calls_it_scheduled() -> None:
    timeline = fold_at(_entries(), RECORDED)
    rows = {r.id: r for r in coverage_of(timeline, effective_instant("2025-04-01"))}
    assert rows["baseline"].status == "scheduled"
    assert rows["annex-ii"].status == "not_in_effect"
