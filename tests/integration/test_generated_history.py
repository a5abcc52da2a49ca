"""The benchmark's synthetic histories are valid imports, and answer as the events they hold say
(SQLite; no timing here)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from benchmarks.generate import COUNTRIES, write_history
from tariff_timeline import QueryPath, TariffTimeline
from tariff_timeline.projections import RateAnswer
from tests.conftest import FakeClock

KNOWN = "2030-01-01"
"""After every generated event became known (their known dates end in 2028)."""


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return write_history(2000, tmp_path_factory.mktemp("generated") / "history", seed=7,
                         per_file=700)


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory,
             generated: list[Path]) -> Iterator[TariffTimeline]:
    """The generated history imported once for the module's read-only questions."""
    store = tmp_path_factory.mktemp("imported") / "store.sqlite"
    timeline = TariffTimeline.open(f"sqlite:///{store}",
                                   clock=FakeClock(datetime(2026, 1, 5, 12, 0, tzinfo=UTC)))
    try:
        assert timeline.import_paths([generated[0].parent]).appended == 2000
        yield timeline
    finally:
        timeline.close()


def _events(files: list[Path]) -> list[dict[str, Any]]:
    return [e for f in files for e in json.loads(f.read_text())["events"]]


def _naming(events: list[dict[str, Any]]) -> Callable[[str], list[dict[str, Any]]]:
    """A lookup of the events that name a measure id or program anywhere in their fields."""
    texts = [(e, json.dumps(e)) for e in events]

    def naming(name: str) -> list[dict[str, Any]]:
        quoted = json.dumps(name)
        return [e for e, text in texts if quoted in text]

    return naming


def _plain(imposed: dict[str, Any]) -> bool:
    """A plain additive rate: the layer's rate is its percent whatever the goods."""
    rate = imposed["rate"]
    return rate.get("kind", "additive") == "additive" and "content_fact" not in rate


def _covered_entry(scope: dict[str, Any]) -> tuple[str, str]:
    """An origin and an HTS code inside a generated scope."""
    origins = scope["origins"]
    if origins == ["ALL"]:
        origin = next(c for c in COUNTRIES if c not in scope.get("origins_except", ()))
    else:
        origin = "DE" if origins == ["EU"] else origins[0]
    product = scope["products"][0]
    return origin, "9503" if product == "ALL" else product


def _layer(answer: RateAnswer, measure: str) -> tuple[str, bool, Decimal | None]:
    found = [(layer.status, layer.applied, layer.rate) for layer in answer.layers
             if layer.measure == measure]
    assert len(found) == 1, (measure, answer.layers)
    return found[0]


def test_a_generated_history_imports_cleanly_once_and_is_reproducible(
        tmp_path: Path, clock: FakeClock) -> None:
    files = write_history(2000, tmp_path / "history", seed=7, per_file=700)
    again = write_history(2000, tmp_path / "again", seed=7, per_file=700)
    assert [f.read_bytes() for f in files] == [f.read_bytes() for f in again]
    events = _events(files)
    kinds = Counter(e["type"] for e in events)
    assert len(events) == 2000 and len(files) == 3
    for kind in ("MeasureImposed", "RateChanged", "ScopeAmended", "MeasurePaused",
                 "ExemptionGranted", "QuotaOpened", "EventCorrected"):
        assert kinds[kind] > 0, kind
    assert any(e.get("effective_from", "9999") < e["known"] for e in events), "retroactive"
    timeline = TariffTimeline.open(f"sqlite:///{tmp_path / 'store.sqlite'}", clock=clock)
    try:
        assert timeline.import_paths([tmp_path / "history"]).appended == 2000
        assert timeline.import_paths([tmp_path / "history"]).appended == 0
        assert timeline.store.count() == 2000
    finally:
        timeline.close()


def test_a_measure_named_by_no_other_event_applies_at_its_rate_from_its_start(
        generated: list[Path], imported: TariffTimeline) -> None:
    # given a measure the generator imposed at a plain rate, which no later event names
    # (no rate change, pause, exemption, quota, replacement or correction touches it) and
    # whose program no exemption or stacking rule selects for the entry asked
    events = _events(generated)
    naming = _naming(events)
    chosen = []
    for imposed in (e for e in events if e["type"] == "MeasureImposed" and _plain(e)):
        origin, hts = _covered_entry(imposed["scope"])
        if [e for e in naming(imposed["measure"]) if e is not imposed]:
            continue
        selecting = [e for e in naming(imposed["program"])
                     if e["type"] in ("ExemptionGranted", "StackingRuleSet", "StackingRuleChanged")]
        if any(e["type"] != "ExemptionGranted"
               or {"ALL", "EU", origin} & set(e["scope"]["origins"]) for e in selecting):
            continue
        chosen.append((imposed, origin, hts))
    assert chosen, "the generator wrote no measure that only its imposition names"
    for imposed, origin, hts in chosen:
        start = date.fromisoformat(imposed["effective_from"])
        percent = Decimal(str(imposed["rate"]["percent"]))
        # when asked on the day it takes effect, then it applies at its rate
        on_start = imported.rate_on(origin=origin, hts=hts, entered=start.isoformat(),
                                    known=KNOWN)
        assert _layer(on_start, imposed["measure"]) == ("in_force", True, percent), imposed
        # and the day before, it is listed as scheduled, not applied
        day_before = imported.rate_on(origin=origin, hts=hts,
                                      entered=(start - timedelta(days=1)).isoformat(),
                                      known=KNOWN)
        assert _layer(day_before, imposed["measure"])[:2] == ("scheduled", False), imposed
        # and as known before it was announced, it is not there at all
        before = date.fromisoformat(imposed["known"]) - timedelta(days=1)
        unknown = imported.rate_on(origin=origin, hts=hts, entered=start.isoformat(),
                                   known=before.isoformat())
        assert imposed["measure"] not in [layer.measure for layer in unknown.layers]


def test_a_measure_paused_once_is_paused_between_the_dates_the_pause_names(
        generated: list[Path], imported: TariffTimeline) -> None:
    # given a measure imposed at a plain rate and named by nothing but one pause
    events = _events(generated)
    naming = _naming(events)
    pairs = []
    for imposed in (e for e in events if e["type"] == "MeasureImposed" and _plain(e)):
        others = [e for e in naming(imposed["measure"]) if e is not imposed]
        if [e["type"] for e in others] == ["MeasurePaused"]:
            pairs.append((imposed, others[0]))
    assert pairs, "the generator wrote no measure that only a pause names"
    for imposed, pause in pairs:
        origin, hts = _covered_entry(imposed["scope"])
        start = date.fromisoformat(pause["effective_from"])
        until = date.fromisoformat(pause["effective_until"])
        percent = Decimal(str(imposed["rate"]["percent"]))
        during = imported.rate_on(origin=origin, hts=hts, entered=start.isoformat(),
                                  known=KNOWN)
        assert _layer(during, imposed["measure"]) == ("paused", False, percent), pause
        last_day = imported.rate_on(origin=origin, hts=hts,
                                    entered=(until - timedelta(days=1)).isoformat(),
                                    known=KNOWN)
        assert _layer(last_day, imposed["measure"])[:2] == ("paused", False), pause
        after = imported.rate_on(origin=origin, hts=hts, entered=until.isoformat(),
                                 known=KNOWN)
        assert _layer(after, imposed["measure"])[0] == "in_force", pause


def test_the_read_model_answers_a_generated_history_as_the_fold_does(
        generated: list[Path], imported: TariffTimeline) -> None:
    assert imported.query_path is QueryPath.READ_MODEL
    events = _events(generated)
    questions: list[dict[str, Any]] = [
        {"origin": "CN", "hts": "8703.23.01.00", "entered": "2019-06-01"},
        {"origin": "CN", "hts": "8703.23.01.00", "entered": "2019-06-01", "known": "2018-06-01"},
    ]
    # questions inside the scopes of generated impositions, at their start, a year on, and
    # as known before the latest changes; with and without MFN and facts
    impositions = [e for e in events if e["type"] == "MeasureImposed"]
    for imposed in impositions[::20]:
        origin, hts = _covered_entry(imposed["scope"])
        start = date.fromisoformat(imposed["effective_from"])
        for entered, known in ((start, KNOWN), (start + timedelta(days=365), KNOWN),
                               (start + timedelta(days=365), imposed["known"])):
            questions.append({"origin": origin, "hts": hts, "entered": str(entered),
                              "known": str(known), "mfn": "2.5",
                              "facts": {"usmca_qualifying": False, "in_quota": False}})
    answers = []
    for question in questions:
        by_model = imported.rate_on(**question)
        by_fold = imported.rate_on_by_fold(**question)
        assert by_model.model_dump(mode="json") == by_fold.model_dump(mode="json"), question
        answers.append(by_model)
    # the comparison is not vacuous: most questions meet layers that apply
    with_layers = [a for a in answers if any(layer.applied for layer in a.layers)]
    assert len(with_layers) >= len(answers) // 2, len(with_layers)
