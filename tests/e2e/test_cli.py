"""The `tariffs` command as a person runs it: a fresh install, the default store, real files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

TARIFFS = str(Path(sys.executable).parent / "tariffs")


def run(args: list[str], home: Path, db: str | None = None,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    chosen = {k: v for k, v in os.environ.items()
              if k not in ("TARIFFS_DB", "TARIFFS_SIGNING_KEY", "TARIFFS_PUBLIC_KEY")}
    chosen.update(HOME=str(home), XDG_DATA_HOME=str(home / "data"), COLUMNS="200")
    chosen.update(env or {})
    if db is not None:
        chosen["TARIFFS_DB"] = db
    return subprocess.run([TARIFFS, *args], capture_output=True, text=True, env=chosen,
                          timeout=120, check=False)


def as_json(result: subprocess.CompletedProcess[str]) -> Any:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("home")


class TestFirstUseOnTheDefaultStore:
    def test_japanese_car_in_may_2025_pays_the_auto_232_not_the_reciprocal(
            self, home: Path) -> None:
        answer = as_json(run(["rate", "--origin", "JP", "--hts", "8703.23.01", "--entered",
                              "2025-05-01", "--mfn", "2.5", "--json"], home))
        assert (answer["additional"], answer["total"]) == (25, 27.5)
        layers = {layer["measure"]: layer for layer in answer["layers"]}
        assert layers["s232-autos"]["applied"] is True
        recip = layers["ieepa-recip-baseline"]
        assert recip["applied"] is False and "not stacked" in recip["reason"]
        assert recip["sources"] and recip["authority"] == "IEEPA"
        for key in ("origin", "hts", "entered", "known", "recorded", "notes"):
            assert key in answer
        assert (home / "data" / "tariff-timeline" / "timeline.sqlite").exists()

    @pytest.mark.parametrize("known, expected", [("2025-04-08", 24), ("2025-04-10", 10)])
    def test_what_was_expected_depends_on_when_we_looked(
            self, home: Path, known: str, expected: int) -> None:
        answer = as_json(run(["rate", "--origin", "JP", "--hts", "9503.00.00", "--entered",
                              "2025-04-10", "--known", known, "--json"], home))
        assert answer["additional"] == expected
        assert answer["known"].startswith(known)

    def test_chinese_goods_on_11_april_2025_pay_145_percent(self, home: Path) -> None:
        answer = as_json(run(["rate", "--origin", "CN", "--hts", "9503.00.00", "--entered",
                              "2025-04-11", "--json"], home))
        assert answer["additional"] == 145

    def test_the_table_output_names_the_layers_and_the_total(self, home: Path) -> None:
        result = run(["rate", "--origin", "JP", "--hts", "8703.23.01", "--entered",
                      "2025-05-01", "--mfn", "2.5"], home)
        assert result.returncode == 0, result.stderr
        assert "s232-autos" in result.stdout and "27.5%" in result.stdout

    def test_the_schedule_table_gives_each_row_the_stretch_it_holds_over(
            self, home: Path) -> None:
        # given the bundled timeline, when the table of 1 July 2025 for Chinese steel is asked
        result = run(["schedule", "--entered", "2025-07-01", "--origin", "CN", "--hts",
                      "7208.10.15"], home)
        assert result.returncode == 0, result.stderr
        lines = {line.split()[0]: line for line in result.stdout.splitlines()
                 if line and not line.startswith(" ")}
        # then steel says 50% from the raise of 4 June 2025 (not since 2018), fentanyl 20%
        # until its cut, and an announcement with no planned date says so
        assert "50% on top of MFN" in lines["s232-steel"]
        assert lines["s232-steel"].endswith("; 2025-06-04 → open")
        assert lines["ieepa-fentanyl-cn"].endswith("; 2025-03-04 → 2025-11-10")
        assert lines["ieepa-venezuela-oil"].endswith("; no date given")

    def test_the_solar_cell_quota_raised_retroactively_shows_once_it_was_known(
            self, home: Path) -> None:
        # given the bundled timeline: Proclamation 10790, signed on 12 August 2024, raised the
        # solar cell quota from 5 to 12.5 gigawatts for entries from 1 August
        # when cells entered on 5 August are compared as known on 11 and on 13 August
        answer = as_json(run(["diff", "--entered", "2024-08-05", "--known", "2024-08-11",
                              "--known", "2024-08-13", "--hts", "8541.42.00.10", "--json"],
                             home))
        # then the quota's row changed: its volume, and the stretch it holds over from 1 August
        (quota,) = [c for c in answer["changes"] if c["kind"] == "quota"]
        fields = {f["field"]: (f["before"], f["after"]) for f in quota["fields"]}
        assert fields["volume"][0].startswith("5 gigawatts")
        assert fields["volume"][1].startswith("12.5 gigawatts")
        assert fields["interval"] == ("2022-02-07 → 2026-02-07", "2024-08-01 → 2026-02-07")
        # citing the proclamation, whose partly confirmed details stay marked as such
        cited = {e["id"]: e["confidence"] for e in quota["events"]}
        assert cited == {"s201-solar-cells-trq-2022": "verified",
                         "s201-solar-cells-trq-2024": "partly"}

    def test_schedule_and_events_answer_in_json(self, home: Path) -> None:
        schedule = as_json(run(["schedule", "--entered", "2025-04-10", "--origin", "JP",
                                "--json"], home))
        assert {r["id"]: r["status"] for r in schedule["rows"]}["ieepa-recip-jp"] == "paused"
        log = as_json(run(["events", "--measure", "ieepa-recip-cn", "--json"], home))
        ids = [e["id"] for e in log]
        assert [i for i in ids if i.startswith("recip-")][:3] == [
            "recip-country-rates-cn", "recip-cn-84", "recip-cn-125"]
        assert "ieepa-collection-ended-recip-cn" in ids
        assert all({"known", "effective_from", "recorded"} <= set(e) for e in log)


class TestErrors:
    def test_an_unknown_origin_is_a_usage_error(self, home: Path) -> None:
        result = run(["rate", "--origin", "XX", "--hts", "9503", "--entered", "2025-04-10"],
                     home)
        assert result.returncode == 2 and "unknown origin 'XX'" in result.stderr

    def test_a_malformed_import_exits_non_zero_and_writes_nothing(
            self, tmp_path: Path) -> None:
        db = f"sqlite:///{tmp_path / 'store.sqlite'}"
        bad = tmp_path / "bad.yaml"
        bad.write_text("- id: x1\n  type: MeasurePaused\n  known: 2025-04-09\n"
                       "  measure: ghost\n  effective_from: 2025-04-10\n"
                       "  sources: [{title: An order}]\n", encoding="utf-8")
        result = run(["import", str(bad)], tmp_path, db)
        assert result.returncode == 3
        assert f"{bad}:1: event 'x1', field 'measure': no measure 'ghost'" in result.stderr
        assert as_json(run(["events", "--json"], tmp_path, db)) == []

    def test_schema_prints_the_json_schema_of_the_import_format(self, home: Path) -> None:
        schema = as_json(run(["schema"], home))
        assert schema["title"] == "ImportFile" and "events" in schema["properties"]
        assert "MeasureImposed" in json.dumps(schema)


def test_help_lists_the_facts_the_data_uses(home: Path) -> None:
    result = run(["rate", "--help"], home)
    assert result.returncode == 0
    for fact in ("usmca_qualifying", "in_quota", "end_use", "copper_content_share"):
        assert fact in result.stdout


class TestSourcesAndCoverage:
    def test_sources_list_every_citation_with_the_events_citing_it(self, home: Path) -> None:
        rows = as_json(run(["sources", "--json"], home))
        cited = {event for row in rows for event in row["events"]}
        logged = {e["id"] for e in as_json(run(["events", "--json"], home))}
        assert cited == logged
        baseline = [r for r in rows if r["instrument"] == "Executive Order 14257"]
        assert any("recip-baseline-10-imposed" in r["events"] for r in baseline)
        assert all(r["title"] and r["events"] for r in rows)

    def test_coverage_says_per_measure_whether_its_product_list_is_complete(
            self, home: Path) -> None:
        rows = {r["id"]: r for r in as_json(run(["coverage", "--json"], home))}
        steel = rows["s232-steel"]
        assert (steel["kind"], steel["products_complete"]) == ("measure", False)
        assert steel["codes"] > 20 and steel["products_note"]
        chips = rows["s232-semiconductors"]
        assert (chips["products_complete"], chips["codes"]) == (True, 10)
        assert rows["ieepa-recip-baseline"]["codes"] is None
        assert rows["recip-annex-ii"]["kind"] == "exemption"
        assert rows["recip-annex-ii"]["codes"] > 1000

    def test_coverage_as_a_table_marks_partial_lists(self, home: Path) -> None:
        result = run(["coverage"], home)
        assert result.returncode == 0, result.stderr
        assert "partial" in result.stdout and "s232-steel" in result.stdout


def test_importing_the_data_folder_twice_appends_nothing_the_second_time(
        tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'twice.sqlite'}"
    data = str(Path(__file__).resolve().parents[2] / "data")
    first = run(["import", data], tmp_path, db)
    second = run(["import", data], tmp_path, db)
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    appended = int(first.stdout.split()[1])
    assert appended > 200
    assert second.stdout.startswith(f"appended 0 event(s), {appended} already recorded")
