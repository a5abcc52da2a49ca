"""The generator's realistic profile (issue 14): its histories import, grow by products, origins
and narrow actions while the layers bearing on one (origin, HTS) cell stay bounded; the dense
profile is unchanged (SQLite; no timing here)."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from benchmarks.cells import ORIGINS, generated_dates, measure
from benchmarks.generate import BROAD, write_history

SIZES = (2000, 8000)
BEARING_BOUND = 12
"""At most this many layers, exemptions and quotas bear on a sampled cell at either size: the
profile's fixed part gives a cell 5-7 (4 broad layers on every product, one or two
country-wide ones, one or two sector chapters), and narrow actions a few more at most. The
bundled data's cells have a p99 of 13 and a max of 19 (benchmarks/results/cells-bundled-*)."""
DENSE_SEED3_2000_SHA256 = "25458ca69266cdbecd051a1fa9b7c5092a1de14911621dbf44cc599d553c09cf"
"""The first file of `benchmarks.generate --events 2000 --seed 3` before the realistic profile
was added."""


def _events(folder: Path) -> list[dict[str, Any]]:
    return [e for f in sorted(folder.glob("events-*.json"))
            for e in json.loads(f.read_text(encoding="utf-8"))["events"]]


@pytest.fixture(scope="module")
def measured(tmp_path_factory: pytest.TempPathFactory) -> dict[int, dict[str, Any]]:
    """Each size generated, imported into a temporary SQLite store and its cells counted:
    40 origins x 60 statistical lines, 60 cells at each of three dates."""
    out: dict[int, dict[str, Any]] = {}
    for size in SIZES:
        folder = tmp_path_factory.mktemp(f"realistic-{size}")
        write_history(size, folder, seed=5, check=True, per_file=3000, profile="realistic")
        out[size] = {"events": _events(folder),
                     "cells": measure(folder, generated_dates(3), ORIGINS, 60, 60)}
    return out


def test_realistic_histories_import_whole_at_two_sizes(
        measured: dict[int, dict[str, Any]]) -> None:
    for size in SIZES:
        assert measured[size]["cells"]["events"] == size
        assert measured[size]["cells"]["refused"] == 0


def test_realistic_histories_grow_by_lines_origins_and_narrow_actions_not_broad_measures(
        measured: dict[int, dict[str, Any]]) -> None:
    for size in SIZES:
        events = measured[size]["events"]
        kinds = Counter(e["type"] for e in events)
        revisions = [e for e in events if e["type"] == "NomenclatureRevised"]
        assert any(not e.get("baseline") for e in revisions), "no line changes"
        assert kinds["QuotaChanged"] > 0 and kinds["ExemptionGranted"] > 0
        imposed = [e for e in events if e["type"] == "MeasureImposed"]
        broad = [e for e in imposed if e["scope"]["origins"] == ["ALL"]]
        assert len(broad) == len(BROAD), "broad measures are a fixed set"
        narrow = [e for e in imposed if all(len(p) >= 8 for p in e["scope"]["products"])]
        assert narrow and all(len(e["scope"]["origins"]) == 1 for e in narrow)
    small, large = (measured[size]["events"] for size in SIZES)

    def lines(events: list[dict[str, Any]]) -> int:
        return sum(len(e.get("added", ())) for e in events if e.get("baseline"))

    def origins(events: list[dict[str, Any]]) -> int:
        return len({o for e in events for o in (e.get("scope") or {}).get("origins", ())})

    assert lines(large) >= lines(small) and origins(large) > origins(small)


def test_the_layers_bearing_on_a_sampled_cell_stay_under_a_bound_at_two_sizes(
        measured: dict[int, dict[str, Any]]) -> None:
    for size in SIZES:
        found = measured[size]["cells"]["all"]
        assert found["bearing"]["n"] == 180
        assert found["bearing"]["max"] <= BEARING_BOUND, (size, found)
        assert 4 <= found["layers"]["median"] <= 7, (size, found)
    small, large = (measured[size]["cells"]["all"]["bearing"] for size in SIZES)
    assert large["median"] <= small["median"] + 1


def test_the_dense_profile_writes_what_it_wrote_before_for_a_fixed_seed(
        tmp_path: Path) -> None:
    files = write_history(2000, tmp_path / "dense", seed=3)
    assert hashlib.sha256(files[0].read_bytes()).hexdigest() == DENSE_SEED3_2000_SHA256
    again = write_history(2000, tmp_path / "again", seed=3, profile="dense")
    assert again[0].read_bytes() == files[0].read_bytes()
