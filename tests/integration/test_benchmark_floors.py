"""The import's floor (`python -m benchmarks.floors`): the stages every import must run, timed
alone, and the ceiling they set on import ÷ raw insert, beside the import itself."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from benchmarks.floors import STAGES, floors, main
from tariff_timeline.store.opening import connect
from tariff_timeline.store.urls import parse_store_url


def test_the_ceiling_is_the_floor_s_rate_over_the_raw_insert_s() -> None:
    # Given 1,000 events whose stages took 5 s and whose 1,001 rows insert raw in 1 s
    stages = {"events": 1000, "seconds": {"read": 1.0, "parse": 1.0, "validate": 2.0,
                                          "encode": 1.0, "chain": 0.0}}
    raw = {"rows": 1001, "rows_per_s": 1001.0}
    imported = {"seconds": 12.0, "events_per_s": 1000 / 12}
    # When the floor is worked out
    found = floors(stages, imported, raw)
    # Then the floor is the stages and the insert, 6 s; an import doing only that would run
    # at 1,000 / 6 events/s, 0.166 of the raw insert's rate, within the 0.15 target; the
    # import itself took twice the floor
    assert found["floor_seconds"] == pytest.approx(6.0)
    assert found["ceiling_import_vs_raw_insert"] == pytest.approx(1000 / 6 / 1001)
    assert found["target_within_ceiling"]
    assert found["import_over_floor"] == pytest.approx(2.0)
    assert found["import_vs_raw_insert"] == pytest.approx(1000 / 12 / 1001)
    # and stages twice as slow put the target above the ceiling
    slower = {**stages, "seconds": {k: 2 * v for k, v in stages["seconds"].items()}}
    assert not floors(slower, imported, raw)["target_within_ceiling"]


def _run(tmp_path: Path, *args: str) -> dict[str, object]:
    main(["--events", "300", "--rounds", "2", "--workdir", str(tmp_path / "work"), "--out",
          str(tmp_path / "out"), *args])
    (written,) = (tmp_path / "out").glob("floors-*.json")
    result: dict[str, object] = json.loads(written.read_text(encoding="utf-8"))
    return result


def _assert_measured(found: dict[str, object], events: int) -> None:
    imported, raw = found["import"], found["raw_insert"]
    assert isinstance(imported, dict) and isinstance(raw, dict)
    assert imported["events"] == events
    assert raw["rows"] == events + 1  # and the chain head that vouches for them
    for ratio in ("floor_seconds", "raw_insert_seconds", "import_vs_raw_insert",
                  "ceiling_import_vs_raw_insert", "import_over_floor"):
        assert isinstance(found[ratio], float) and found[ratio] > 0


def test_the_floor_benchmark_times_every_stage_then_imports_and_inserts_raw_on_sqlite(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # When the benchmark runs on a 300-event history, SQLite alone
    result = _run(tmp_path, "--backends", "sqlite")
    # Then every stage was timed over all 300 events, twice, and its floor is the quicker
    stages = result["stages"]
    assert isinstance(stages, dict) and stages["events"] == 300
    assert list(stages["seconds"]) == list(STAGES)
    assert all(seconds > 0 for seconds in stages["seconds"].values())
    assert stages["rounds"] == len(stages["every_round"]) == 2
    assert stages["seconds"] == {stage: min(r[stage] for r in stages["every_round"])
                                 for stage in STAGES}
    # and the store took the same 300 events, whose rows were inserted raw; the floor is the
    # stages and that insert
    backends = result["backends"]
    assert isinstance(backends, dict) and list(backends) == ["sqlite"]
    found = backends["sqlite"]
    _assert_measured(found, 300)
    assert found["floor_seconds"] == pytest.approx(
        sum(stages["seconds"].values()) + found["raw_insert_seconds"])
    # and the report says where the target stands
    assert "ceiling" in capsys.readouterr().out


def test_the_floor_benchmark_measures_postgresql_in_the_same_run_as_sqlite(
        pg_server: str, tmp_path: Path) -> None:
    # When the benchmark runs on both backends
    result = _run(tmp_path, "--backends", "sqlite,postgres", "--postgres-url", pg_server)
    # Then both imported the one history, timed once
    backends = result["backends"]
    assert isinstance(backends, dict) and list(backends) == ["sqlite", "postgres"]
    for found in backends.values():
        _assert_measured(found, 300)
    # and the store's and the raw insert's schemas are gone afterwards
    schema = make_url(backends["postgres"]["store"]).query["schema"]
    with connect(parse_store_url(pg_server)) as conn:
        left = conn.execute("SELECT schema_name FROM information_schema.schemata "
                            "WHERE schema_name LIKE %s", (f"{schema}%",)).fetchall()
    assert left == []
