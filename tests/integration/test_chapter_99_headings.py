"""Every applied layer of an answer names its Chapter 99 heading, where one heading covers it.

The headings are set by data/zzz-corrections-headings.json (scripts/build_heading_corrections.py)
and, for Section 301, by data/generated-s301-china.json. A layer without one must belong to a
measure whose rate the build leaves without a heading, for a reason it writes down.
"""

from __future__ import annotations

import importlib.util
import random
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from types import ModuleType

import pytest

from tariff_timeline import TariffTimeline
from tariff_timeline.events import EventCorrected
from tariff_timeline.importing.files import read_file
from tests.conftest import DATA, FakeClock

HEADINGS_FILE = DATA / "zzz-corrections-headings.json"


@pytest.fixture(scope="module")
def script() -> ModuleType:
    path = DATA.parent / "scripts" / "build_heading_corrections.py"
    spec = importlib.util.spec_from_file_location("build_heading_corrections", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # Its NamedTuples look their module up while being defined.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def left(script: ModuleType) -> dict[str, str]:
    """The rate-bearing events the build leaves without a heading, and why."""
    found: dict[str, str] = script.LEFT
    return found


def applied(timeline: TariffTimeline, origin: str, hts: str, entered: str,
            ) -> dict[str, str | None]:
    answer = timeline.rate_on(origin=origin, hts=hts, entered=entered)
    return {layer.measure: layer.heading for layer in answer.layers if layer.applied}


def unheaded(timeline: TariffTimeline, origin: str, hts: str, entered: str,
             left: dict[str, str]) -> dict[str, list[str]]:
    """The applied layers without a heading, each with the left events behind it (an empty
    list: no event of the layer is one the build leaves without a heading)."""
    answer = timeline.rate_on(origin=origin, hts=hts, entered=entered)
    return {layer.measure: [e.id for e in layer.events if e.id in left]
            for layer in answer.layers if layer.applied and layer.heading is None}


def test_a_japanese_car_before_the_deal_is_entered_under_heading_9903_94_01(
        loaded_once: TariffTimeline) -> None:
    assert applied(loaded_once, "JP", "8703.23.01", "2025-06-01") == {
        "s232-autos": "9903.94.01"}


def test_a_japanese_car_on_2025_10_01_names_the_headings_of_its_applied_layers(
        loaded_once: TariffTimeline, left: dict[str, str]) -> None:
    # The 232 layer is charged at the Japan deal's 15% all-in, an exemption whose goods span
    # 9903.94.40-.43 (cars and parts, by MFN): it names none; de minimis charges nothing.
    assert applied(loaded_once, "JP", "8703.23.01", "2025-10-01") == {
        "s232-autos": None, "de-minimis-suspension": None}
    assert unheaded(loaded_once, "JP", "8703.23.01", "2025-10-01", left) == {
        "s232-autos": ["jp-eo14345-autos"], "de-minimis-suspension": ["de-minimis-suspended-all"]}


@pytest.mark.parametrize(("origin", "hts", "entered", "expected"), [
    ("CN", "7208.10.15", "2025-12-01", {"ieepa-fentanyl-cn": "9903.01.24",
                                        "s232-steel": "9903.81.87",
                                        "s301-cn-2024-25": "9903.91.01"}),
    ("CN", "8471.30.01", "2025-06-01", {"ieepa-fentanyl-cn": "9903.01.24"}),
    ("VN", "6109.10.00", "2025-10-01", {"ieepa-recip-vn": "9903.02.69"}),
    ("VN", "6109.10.00", "2025-04-09", {"ieepa-recip-vn": "9903.01.72"}),
    ("BR", "0901.11.00", "2025-09-01", {"ieepa-brazil": "9903.01.77",
                                        "ieepa-recip-baseline": "9903.01.25"}),
    ("CA", "4407.11.00", "2025-11-01", {"s232-softwood-lumber": "9903.76.01"}),
])
def test_goods_of_other_origins_name_the_heading_of_each_charged_layer(
        loaded_once: TariffTimeline, origin: str, hts: str, entered: str,
        expected: dict[str, str]) -> None:
    layers = applied(loaded_once, origin, hts, entered)
    assert {m: h for m, h in layers.items() if m != "de-minimis-suspension"} == expected


ORIGINS = ("JP", "CN", "VN", "CA", "MX", "BR", "IN", "DE", "GB", "KR", "CH", "TW", "TH")
CODES = ("8703.23.01", "7208.10.15", "6109.10.00", "4407.11.00", "9401.61.40.11", "0901.11.00",
         "8471.30.01", "7403.11.00", "8708.29.51", "9403.40.90.60", "8702.10.31", "6403.99.90")
DATES = ("2025-02-10", "2025-03-15", "2025-04-09", "2025-06-01", "2025-08-20", "2025-10-01",
         "2025-11-20", "2026-01-20", "2026-03-01", "2026-05-01", "2026-08-15")


def _sample() -> list[tuple[str, str, str]]:
    chooser = random.Random(99)
    return [(chooser.choice(ORIGINS), chooser.choice(CODES), chooser.choice(DATES))
            for _ in range(30)]


def test_every_applied_layer_of_a_sample_of_30_answers_has_a_heading_or_a_listed_reason(
        loaded_once: TariffTimeline, left: dict[str, str]) -> None:
    missing = [(origin, hts, entered, measure)
               for origin, hts, entered in _sample()
               for measure, why in unheaded(loaded_once, origin, hts, entered, left).items()
               if not why]
    assert missing == []


def test_every_heading_correction_replaces_the_event_in_force_with_only_its_heading_added(
        script: ModuleType) -> None:
    events, ours = script.bundled()
    located, problems = read_file(HEADINGS_FILE)
    assert problems == []
    corrections = [item.event for item in located]
    assert {c.id for c in corrections} == ours
    assert len(corrections) == len(script.HEADINGS)
    for correction in corrections:
        assert isinstance(correction, EventCorrected)
        assert correction.id == f"heading-{correction.corrects}"
        before = events[correction.corrects].model_dump(mode="json")
        after = correction.replacement.model_dump(mode="json")
        assert after["rate"].pop("heading") == script.HEADINGS[correction.corrects].heading
        assert before["rate"].pop("heading") is None
        assert after == before


@pytest.fixture(scope="module")
def without_headings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TariffTimeline]:
    """The bundled timeline loaded as loaded_once is, but without the heading corrections."""
    url = f"sqlite:///{tmp_path_factory.mktemp('bare') / 'timeline.sqlite'}"
    opened = TariffTimeline.open(url, clock=FakeClock(datetime(2026, 8, 1, 12, 0, tzinfo=UTC)))
    paths = sorted(p for p in DATA.rglob("*") if p.suffix in (".yaml", ".json")
                   and p != HEADINGS_FILE)
    opened.import_paths(paths)
    yield opened
    opened.close()


def test_the_heading_corrections_leave_every_rate_unchanged(
        loaded_once: TariffTimeline, without_headings: TariffTimeline) -> None:
    for origin, hts, entered in _sample():
        with_them = loaded_once.rate_on(origin=origin, hts=hts, entered=entered)
        bare = without_headings.rate_on(origin=origin, hts=hts, entered=entered)
        assert with_them.additional == bare.additional, (origin, hts, entered)
        assert ([(layer.measure, layer.rate, layer.applied) for layer in with_them.layers]
                == [(layer.measure, layer.rate, layer.applied) for layer in bare.layers])


def test_the_later_of_two_corrections_of_one_event_wins(loaded_once: TariffTimeline) -> None:
    # ieepa-cn-fentanyl-20 is corrected by zz-corrections-issue11.yaml and then by the heading
    # file: the answer shows both the issue-11 citation and the heading.
    answer = loaded_once.rate_on(origin="CN", hts="8471.30.01", entered="2025-06-01")
    layer = next(layer for layer in answer.layers if layer.measure == "ieepa-fentanyl-cn")
    assert layer.heading == "9903.01.24"
    cited = {source.federal_register for event in layer.events for source in event.sources}
    assert "90 FR 11463" in cited


def test_section_201_rates_stay_without_a_heading_because_each_spans_two(
        script: ModuleType, left: dict[str, str]) -> None:
    events, _ = script.bundled()
    rates = [eid for eid, event in events.items() if eid.startswith("s201-")
             and script.rate_of(event) is not None]
    assert len(rates) == 16
    assert all("9903.45" in left[eid] for eid in rates)
