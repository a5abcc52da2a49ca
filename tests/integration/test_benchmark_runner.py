"""The benchmark runner (`python -m benchmarks.run`): its PostgreSQL path on a tiny history,
and which backends it measures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from benchmarks.run import choose_backends, main
from tariff_timeline.store.opening import connect
from tariff_timeline.store.urls import parse_store_url


def test_the_runner_measures_every_path_on_postgresql_when_a_server_is_given(
        pg_server: str, tmp_path: Path) -> None:
    # 200 events and 4 questions: seconds; the pure fold answers the 4 as well, so the run
    # also checks that the read model on PostgreSQL agrees with it.
    main(["--sizes", "200", "--queries", "4", "--fold-budget", "800", "--profile",
          "realistic", "--backends", "postgres", "--postgres-url", pg_server,
          "--workdir", str(tmp_path / "work"), "--out", str(tmp_path / "out")])

    (written,) = (tmp_path / "out").glob("*.json")
    result = json.loads(written.read_text(encoding="utf-8"))
    measured = result["sizes"]["200"]["backends"]
    assert list(measured) == ["postgres"]
    pg = measured["postgres"]
    assert pg["import"]["events"] == 200
    assert pg["raw_insert"]["rows"] == 201  # the events and the chain head that vouches for them
    assert pg["raw_insert"]["rows_per_s"] > 0 and pg["raw_insert"]["copy_rows_per_s"] > 0
    assert pg["fold"]["n"] == pg["read_model"]["n"] == pg["hand_sql"]["n"] == 4
    assert pg["read_model"]["disagreements_with_fold"] == 0
    assert pg["rebuild"]["events"] == 200
    for ratio in ("import_vs_raw_insert", "read_model_vs_hand_sql", "rebuild_vs_import"):
        assert pg[ratio] > 0
    assert [v["target"] for v in result["targets"]["postgres"]][:2] == [
        "import_vs_raw_insert", "read_model_vs_hand_sql"]
    # The store and raw-insert schemas were fresh, and are gone after the run.
    schema = make_url(pg["store"]).query["schema"]
    with connect(parse_store_url(pg_server)) as conn:
        left = conn.execute("SELECT schema_name FROM information_schema.schemata "
                            "WHERE schema_name LIKE %s", (f"{schema}%",)).fetchall()
    assert left == []


def test_the_runner_measures_sqlite_alone_when_no_server_is_given() -> None:
    assert choose_backends(None, None) == ["sqlite"]


def test_the_runner_measures_both_backends_when_a_server_is_given() -> None:
    assert choose_backends(None, "postgresql://u@h/db") == ["sqlite", "postgres"]
    assert choose_backends("postgres, sqlite", "postgresql://u@h/db") == ["postgres", "sqlite"]


@pytest.mark.parametrize("asked, server", [("postgres", None), ("mysql", "postgresql://u@h/d"),
                                           (",", None)])
def test_the_runner_refuses_a_backend_it_cannot_measure(asked: str, server: str | None) -> None:
    with pytest.raises(ValueError, match="backend"):
        choose_backends(asked, server)
