"""Product-list entries shorter than 8 digits (issue 10, item 4), checked against the table of
scripts/build_product_lists.py, the bundled nomenclature and the answers they give."""

from __future__ import annotations

import importlib.util
import sys
from decimal import Decimal
from pathlib import Path
from types import ModuleType

import pytest

from tariff_timeline import TariffTimeline
from tariff_timeline.domain.nomenclature import Nomenclature, codes_in_force, line_at
from tariff_timeline.domain.rules import product_matches
from tariff_timeline.domain.timeline import fold
from tariff_timeline.events import ExemptionGranted, MeasureImposed, PolicyEvent, ScopeAmended
from tariff_timeline.importing.files import read_file

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "data"


@pytest.fixture(scope="module")
def script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_product_lists",
                                                  REPO / "scripts" / "build_product_lists.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # Its NamedTuple looks its module up while being defined.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _events(paths: list[Path]) -> list[PolicyEvent]:
    read = [read_file(path) for path in paths]
    assert [problems for _, problems in read] == [[] for _ in paths]
    return [item.event for located, _ in read for item in located]


@pytest.fixture(scope="module")
def generated() -> list[PolicyEvent]:
    """The events of data/generated-*.yaml, as the import reads them."""
    return _events(sorted(DATA.glob("generated-*.yaml")))


@pytest.fixture(scope="module")
def hts() -> Nomenclature:
    """The bundled nomenclature (the three reference revisions), folded."""
    return fold(_events(sorted((DATA / "nomenclature").glob("*.json")))).nomenclature


Scoped = MeasureImposed | ScopeAmended | ExemptionGranted


def _scoped(events: list[PolicyEvent]) -> list[Scoped]:
    return [event for event in events if isinstance(event, Scoped)]


def _short(events: list[PolicyEvent]) -> list[tuple[Scoped, str]]:
    return [(event, code) for event in _scoped(events) for code in event.scope.products
            if code != "ALL" and len(code) < 8]


def test_every_short_entry_of_a_generated_list_is_one_the_table_says_the_annex_names(
        script: ModuleType, generated: list[PolicyEvent]) -> None:
    # Given the generated lists and the generator's table of short entries
    named = {(e.event, e.code) for e in script.SHORT_ENTRIES if e.decision == "named"}
    # When every product entry shorter than 8 digits is looked up in the table
    short = _short(generated)
    unexplained = [(event.id, code) for event, code in short if (event.id, code) not in named]
    # Then each one is there, kept because the instrument's list names it at that length
    assert short, "the lists keep some headings the annexes name"
    assert unexplained == []


def test_a_short_entry_the_table_drops_or_replaces_is_not_in_any_list(
        script: ModuleType, generated: list[PolicyEvent]) -> None:
    # Given the entries the table leaves out or replaces by 8-digit lines
    resolved = [(e.event, e.code) for e in script.SHORT_ENTRIES if e.decision != "named"]
    # When the generated lists are read
    present = {(event.id, code) for event, code in _short(generated)}
    # Then none of them is there, and each replacement line is
    assert resolved and not present & set(resolved)
    products = {event.id: set(event.scope.products) for event in _scoped(generated)}
    for entry in script.SHORT_ENTRIES:
        assert set(entry.lines) <= products[entry.event], entry


def test_every_row_of_the_table_says_why_and_cites_the_list_it_was_checked_against(
        script: ModuleType) -> None:
    # Given the table, when each row is read, then it has a reason and a citation
    for entry in script.SHORT_ENTRIES:
        assert len(entry.code) in (4, 6), entry
        assert len(entry.why) > 20 and len(entry.source) > 20, entry
        assert entry.decision != "lines" or all(len(c) == 8 for c in entry.lines), entry


def test_each_short_entry_kept_is_a_heading_or_subheading_of_the_hts_then_in_force(
        generated: list[PolicyEvent], hts: Nomenclature) -> None:
    # Given each kept short entry and the start of its measure
    missing = []
    for event, code in _short(generated):
        at = event.effective_from
        # When it is looked up in the revision in force then (a heading or subheading without
        # subdivisions is printed as its one line, 8605 as 8605.00.00)
        found = line_at(hts, code, at) or line_at(hts, code.ljust(8, "0"), at)
        # Then it names a line of that revision
        if not found:
            missing.append((event.id, code))
    assert missing == []


def test_each_replacement_line_is_an_eight_digit_line_of_the_hts_then_in_force(
        script: ModuleType, generated: list[PolicyEvent], hts: Nomenclature) -> None:
    # Given the lines that replace a short entry, when looked up at their measure's start
    starts = {event.id: event.effective_from for event in _scoped(generated)}
    lines = [(e.event, line) for e in script.SHORT_ENTRIES for line in e.lines]
    # Then each is a line of that revision
    assert lines
    assert [(ev, line) for ev, line in lines if line_at(hts, line, starts[ev]) is None] == []


def test_no_hts_line_pays_two_of_the_2026_metals_annexes(
        generated: list[PolicyEvent], hts: Nomenclature) -> None:
    # Given the three annex measures of April 2026 and the lines in force on 6 April 2026
    annexes = [e for e in generated if isinstance(e, MeasureImposed)
               and e.measure.startswith("s232-metals-annex-")]
    assert len(annexes) == 3
    at = annexes[0].effective_from
    lines = [code for code in codes_in_force(hts, at) if len(code) == 10]
    # When each line is matched against each annex's scope
    twice = [code for code in lines
             if sum(product_matches(a.scope, code) == "yes" for a in annexes) > 1]
    # Then no line falls in two (the longest entry of the list wins)
    assert twice == []


LAPTOP = ("Laptop 8471.30.01.00: heading 8471 is left out of the auto-parts scope (computers are "
          "not automobile parts); the 11 Apr 2025 memorandum exempts it from the reciprocal "
          "tariff")


@pytest.mark.parametrize("origin", ["JP", "DE"])
def test_the_auto_parts_duty_no_longer_reaches_a_laptop(
        loaded_once: TariffTimeline, origin: str) -> None:
    # Given the bundled timeline
    # When a laptop is entered on 1 June 2025
    answer = loaded_once.rate_on(origin=origin, hts="8471.30.01.00", entered="2025-06-01")
    # Then no auto-parts layer is considered, and nothing is owed on top of MFN
    assert "s232-auto-parts" not in {layer.measure for layer in answer.layers}, LAPTOP
    assert answer.additional == Decimal(0), (LAPTOP, answer.layers)


@pytest.mark.parametrize("origin", ["JP", "DE"])
def test_a_gear_box_the_auto_parts_list_names_still_pays_the_auto_parts_duty(
        loaded_once: TariffTimeline, origin: str) -> None:
    # Given the bundled timeline, and a gear box for a passenger car, 8708.40.11.10: the CBP
    # list of Proclamation 10908's parts names 8708.40.11 at 8 digits (U.S. note 33(g))
    # When it is entered on 1 June 2025, not for the US-assembly offset
    answer = loaded_once.rate_on(origin=origin, hts="8708.40.11.10", entered="2025-06-01",
                                 facts={"end_use": "aftermarket"})
    # Then it pays the 25% auto-parts layer (and, as a 232 good, no reciprocal layer)
    applied = {layer.measure: layer.rate for layer in answer.layers if layer.applied}
    assert applied.get("s232-auto-parts") == Decimal(25), applied
    assert answer.additional == Decimal(25), applied


def test_a_road_tractor_for_semi_trailers_pays_the_truck_duty(
        loaded_once: TariffTimeline) -> None:
    # Given the bundled timeline, whose truck list read 8701.20 (gone since the 2017 HS) and
    # now names 8701.21-.29 (Proclamation 10984, U.S. note 38(b), as the CBP list gives them)
    # When a diesel road tractor is entered on 1 December 2025
    answer = loaded_once.rate_on(origin="JP", hts="8701.21.00.45", entered="2025-12-01")
    # Then the 25% truck layer applies
    applied = {layer.measure: layer.rate for layer in answer.layers if layer.applied}
    assert applied.get("s232-trucks") == Decimal(25), applied


def test_a_cast_iron_article_pays_annex_i_a_only_not_i_b_as_well(
        loaded_once: TariffTimeline) -> None:
    # Given the bundled timeline: note 16(c) (as the reference list reads it) names 7325.10 in
    # Annex I-B and its 10-digit lines in Annex I-A
    # When a non-malleable cast iron article is entered on 1 May 2026
    answer = loaded_once.rate_on(origin="DE", hts="7325.10.00.10", entered="2026-05-01",
                                 facts={"metal_content_share": "0.5", "us_content_share": "0"})
    # Then it pays the 50% of Annex I-A alone, not 75%
    applied = {layer.measure: layer.rate for layer in answer.layers if layer.applied}
    assert applied.get("s232-metals-annex-1a") == Decimal(50), applied
    assert "s232-metals-annex-1b" not in applied



def test_a_bolt_of_chapter_73_pays_annex_i_a_from_april_2026(
        loaded_once: TariffTimeline) -> None:
    # Given the bundled timeline: the reference derivative list holds only the steel lines of
    # 18 Aug 2025 (9903.81.91), none in 7318, so bolts carry no steel layer before April 2026
    # (the lists of Proclamations 9980 and 10896 are not in the reference: products_complete is
    # false); note 16(c) as the reference list reads it names 7318.15.20 in Annex I-A
    facts = {"metal_content_share": "0.9", "us_content_share": "0"}
    # When a structural bolt is entered in May 2026
    answer = loaded_once.rate_on(origin="DE", hts="7318.15.20.30", entered="2026-05-01",
                                 facts=facts)
    # Then it pays the 50% of Annex I-A on its full value
    applied = {layer.measure: layer.rate for layer in answer.layers if layer.applied}
    assert applied.get("s232-metals-annex-1a") == Decimal(50), applied
    assert answer.additional == Decimal(50), applied
