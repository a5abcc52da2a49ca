"""The benchmark runner (`python -m benchmarks.run`): its PostgreSQL path on a tiny history,
and which backends it measures."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from benchmarks import appends
from benchmarks.run import choose_backends, main
from tariff_timeline import TariffTimeline
from tariff_timeline.events import EventCorrected
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
    assert pg["first_catch_up"]["events"] == pg["rebuild"]["events"] == 200
    for ratio in ("import_vs_raw_insert", "read_model_vs_hand_sql", "first_catch_up_vs_import",
                  "rebuild_vs_import"):
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


def test_the_append_benchmark_times_both_checks_then_pairs_on_the_store_it_built(
        tmp_path: Path) -> None:
    # Given the append benchmark run once on a tiny history, into a store kept afterwards
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    first = appends.run(200, "realistic", 4, trials=1, whole_log_trials=1, db=url)
    # When it runs again on that store as it is, without the whole-log check
    again = appends.run(0, "realistic", 4, trials=1, whole_log_trials=0, db=None, existing=url)
    # Then the first run imported and timed both checks; the second imported nothing,
    # timed only the check by subject, and appended one and 1,000 events more, then a rule
    # change
    assert first["events"] == 200 and first["import_s"] > 0
    timed = first["append_1000"]
    assert len(timed["whole_log_s"]) == len(timed["by_subject_s"]) == 1
    assert again["existing"] and "import_s" not in again
    assert again["events"] == first["store_events_after"]
    assert "whole_log_s" not in again["append_1"]
    assert again["append_1000"]["by_subject_median_s"] > 0
    # and both appended a change to the profile's stacking rule and a revision to its
    # busiest HTS chapter, then corrected the rule's change and the busiest measure's last
    # rate, each caught up apart
    for run in (first, again):
        assert run["append_rule_1"]["rule_events"] >= 1
        assert len(run["append_rule_1"]["catch_up_s"]) == 1
        assert run["append_revision_1"]["chapter_events"] >= 1
        assert len(run["append_revision_1"]["catch_up_s"]) == 1
        assert run["correct_rule_1"]["rule"] == run["append_rule_1"]["rule"]
        assert len(run["correct_rule_1"]["catch_up_s"]) == 1
        assert run["correct_measure_1"]["measure_events"] >= 1
        assert len(run["correct_measure_1"]["catch_up_s"]) == 1
    assert again["append_revision_1"]["chapter_events"] == (
        first["append_revision_1"]["chapter_events"] + 1)
    assert again["store_events_after"] == first["store_events_after"] + 1005
    # each correction is recorded, saying the change held a day longer
    timeline = TariffTimeline.open(url, load_bundled_if_new=False)
    try:
        events = {r.event.id: r.event for r in timeline.store.read()}
    finally:
        timeline.close()
    changed = events[again["correct_rule_1"]["corrects"]]
    corrected = [e for e in events.values() if isinstance(e, EventCorrected)
                 and e.corrects == changed.id]
    assert len(corrected) == 1
    assert corrected[0].replacement.effective_until == (  # type: ignore[attr-defined]
        changed.effective_until + timedelta(days=1))  # type: ignore[attr-defined]
    # and the measure's rate was corrected by both runs, the second from the first's content,
    # to another rate and nothing else
    rated = again["correct_measure_1"]["corrects"]
    assert rated == first["correct_measure_1"]["corrects"]
    was, now = [e.replacement for e in events.values()  # type: ignore[attr-defined]
                if isinstance(e, EventCorrected) and e.corrects == rated]
    assert was.rate != now.rate != events[rated].rate  # type: ignore[attr-defined]
    assert was.model_copy(update={"rate": now.rate}) == now
