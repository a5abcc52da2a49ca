"""A cell's history answers each row as if it asked every instant again, while it asks again
only where a changed measure is considered otherwise (SQLite; the answer is pure)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from benchmarks.generate import write_history
from tariff_timeline import TariffTimeline
from tariff_timeline.events import Scope
from tariff_timeline.projections import Recorded
from tariff_timeline.projections import history as history_module
from tariff_timeline.projections.history import cell_history
from tests.conftest import POLICY_DATA, FakeClock


def _log(paths: list[Path], store: Path) -> list[Recorded]:
    timeline = TariffTimeline.open(f"sqlite:///{store}", load_bundled_if_new=False,
                                   clock=FakeClock(datetime(2026, 8, 1, 12, 0, tzinfo=UTC)))
    try:
        timeline.import_paths(paths)
        return list(timeline.store.read())
    finally:
        timeline.close()


@pytest.fixture(scope="module")
def bundled_log(tmp_path_factory: pytest.TempPathFactory) -> list[Recorded]:
    """The bundled tariff policy (without the HTS), as the log holds it."""
    return _log(POLICY_DATA, tmp_path_factory.mktemp("bundled") / "store.sqlite")


@pytest.fixture(scope="module", params=[("realistic", 5), ("dense", 3)],
                ids=["realistic", "dense"])
def generated_log(request: pytest.FixtureRequest,
                  tmp_path_factory: pytest.TempPathFactory) -> list[Recorded]:
    """A generated history of 1,500 events of each profile, as the log holds it."""
    profile, seed = request.param
    files = write_history(1500, tmp_path_factory.mktemp("generated") / "history", seed=seed,
                          profile=profile)
    return _log(files, tmp_path_factory.mktemp("store") / "store.sqlite")


def _busiest_cells(log: list[Recorded], count: int) -> list[tuple[str, str]]:
    """The origin and HTS code pairs that the most events name in their scopes."""
    named: Counter[tuple[str, str]] = Counter()
    for record in log:
        scope = getattr(record.event, "scope", None)
        if isinstance(scope, Scope):
            for origin in scope.origins:
                for product in scope.products:
                    if len(origin) == 2 and len(product) >= 4:
                        named[(origin, product)] += 1
    return [cell for cell, _ in named.most_common(count)]


def _counted(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    asked: Counter[str] = Counter()
    rate_on = history_module.rate_on

    def counting(*args: Any, **kwargs: Any) -> Any:
        asked["rate_on"] += 1
        return rate_on(*args, **kwargs)

    monkeypatch.setattr(history_module, "rate_on", counting)
    return asked


def _compared(log: list[Recorded], cells: list[tuple[str, str]],
              monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, str, int, int]]:
    asked = _counted(monkeypatch)
    for origin, hts in cells:
        # when the cell's history is told reusing the row before's answers, and again
        # asking every instant after every row
        asked.clear()
        reused = cell_history(log, origin, hts)
        asked_reusing = asked["rate_on"]
        asked.clear()
        every = cell_history(log, origin, hts, reuse=False)
        # then every row, its rate steps included, is the same
        assert reused.rows == every.rows, (origin, hts)
        yield origin, hts, asked_reusing, asked["rate_on"]


def test_a_generated_cell_history_answers_as_when_every_instant_is_asked_again(
        generated_log: list[Recorded], monkeypatch: pytest.MonkeyPatch) -> None:
    # given a generated history and its four busiest cells
    cells = _busiest_cells(generated_log, 4)
    assert len(cells) == 4
    counts = list(_compared(generated_log, cells, monkeypatch))
    # and reusing asked fewer questions over them (each cell's rows are checked above)
    assert sum(c[2] for c in counts) < sum(c[3] for c in counts) / 2, counts
    assert sum(len(cell_history(generated_log, o, h).rows) for o, h in cells) > 20


@pytest.mark.parametrize(("origin", "hts"), [
    ("CN", "8703.23.01"), ("JP", "8703.23.01"), ("BR", "0901.11.00"), ("CA", "7208.10.15"),
    ("CN", "8541.43.00"), ("IN", "6109.10.00")])
def test_a_bundled_cell_history_answers_as_when_every_instant_is_asked_again(
        bundled_log: list[Recorded], monkeypatch: pytest.MonkeyPatch, origin: str,
        hts: str) -> None:
    # given the bundled policy: pauses, deals, exemptions, quotas, stacking rules and
    # corrections; when a cell's history is told both ways, then its rows are the same
    [(_, _, reusing, every)] = _compared(bundled_log, [(origin, hts)], monkeypatch)
    assert reusing <= every
