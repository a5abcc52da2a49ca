"""`tariffs diff`, `correct`, `history`, `timeline` and `verify` as a person runs them."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from pathlib import Path

import pytest

from tests.e2e.test_cli import as_json, run

REPO = Path(__file__).resolve().parents[2]

REPLACEMENT = """\
- id: recip-country-rates-jp
  type: MeasureImposed
  known: 2025-04-02
  measure: ieepa-recip-jp
  program: ieepa-reciprocal
  authority: IEEPA
  title: "Reciprocal tariff: Japan country rate (EO 14257 Annex I)"
  effective_from: 2025-04-09T00:01:00-04:00
  scope: {origins: [JP], products: [ALL]}
  rate: {percent: 26, kind: replacement, replaces: [ieepa-recip-baseline]}
  sources: [{title: "Annex I as re-read", instrument: "Executive Order 14257, Annex I"}]
"""


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A home folder and a store with the bundled data (which holds EO 14326)."""
    home = tmp_path_factory.mktemp("versions")
    db = f"sqlite:///{home / 'store.sqlite'}"
    result = run(["import", str(REPO / "data")], home, db)
    assert result.returncode == 0, result.stderr
    return home, db


def test_diff_between_two_known_dates_lists_the_31_july_rates_in_json_csv_and_a_table(
        store: tuple[Path, str]) -> None:
    home, db = store
    args = ["diff", "--entered", "2025-08-10", "--known", "2025-07-08", "--known",
            "2025-08-01", "--origin", "JP", "--origin", "KR", "--hts", "9503.00.00"]
    data = as_json(run([*args, "--json"], home, db))
    # the country rates of the origins asked about are among the changes (other changes,
    # such as measures announced in July, may be listed too)
    changed = {c["id"] for c in data["changes"]}
    assert {"ieepa-recip-jp", "ieepa-recip-kr"} <= changed
    assert not changed & {"ieepa-recip-vn", "ieepa-recip-tw", "ieepa-recip-in"}
    assert {(c["origin"], c["before"], c["after"]) for c in data["cells"]} == {
        ("JP", 24, 15), ("KR", 25, 15)}
    table = run(args, home, db)
    assert table.returncode == 0 and "Executive Order 14326" in table.stdout
    rows = list(csv.DictReader(io.StringIO(run([*args, "--csv"], home, db).stdout)))
    jp = {r["field"]: r for r in rows if r["id"] == "ieepa-recip-jp"}
    assert (jp["rate"]["before"], jp["rate"]["after"], jp["rate"]["instruments"]) == (
        "24% in place of ieepa-recip-baseline (heading 9903.01.53)",
        "15% in place of ieepa-recip-baseline (heading 9903.02.30)", "Executive Order 14326")
    # the same order extended the pause to 7 August: the rate is in force from then
    assert (jp["interval"]["before"], jp["interval"]["after"]) == ("2025-08-01 → open",
                                                                   "2025-08-07 → open")


def test_diff_between_8_and_10_april_shows_the_pause(store: tuple[Path, str]) -> None:
    home, db = store
    data = as_json(run(["diff", "--entered", "2025-04-08", "--entered", "2025-04-10",
                        "--origin", "JP", "--json"], home, db))
    jp = next(c for c in data["changes"] if c["id"] == "ieepa-recip-jp")
    assert {"field": "status", "before": "scheduled", "after": "paused"} in jp["fields"]
    assert jp["events"][0]["id"] == "recip-pause-jp"


def test_diff_needs_two_different_coordinates(store: tuple[Path, str]) -> None:
    home, db = store
    result = run(["diff", "--entered", "2025-04-08"], home, db)
    assert result.returncode == 2 and "same" in result.stderr


def test_timeline_plot_writes_a_png_with_the_two_known_versions(
        store: tuple[Path, str], tmp_path: Path) -> None:
    home, db = store
    chart = tmp_path / "jp.png"
    data = as_json(run(["timeline", "--origin", "JP", "--hts", "9503.00.00", "--from",
                        "2025-03-01", "--to", "2025-09-30", "--known", "2025-07-08",
                        "--known", "2025-08-01", "--plot", str(chart), "--json"], home, db))
    assert [version["label"] for version in data] == ["known 2025-07-08", "known 2025-08-01"]
    assert [s["additional"] for s in data[1]["steps"]] == [0, 10, 24, 10, 15]
    assert chart.read_bytes()[:4] == b"\x89PNG"


class TestCorrectionAndTamperingThroughTheCommandLine:
    """These change the store, so they use one of their own."""

    @pytest.fixture
    def own(self, tmp_path: Path) -> tuple[Path, str, Path]:
        db_file = tmp_path / "own.sqlite"
        db = f"sqlite:///{db_file}"
        assert run(["import", str(REPO / "data")], tmp_path, db).returncode == 0
        return tmp_path, db, db_file

    def test_correct_then_rate_at_the_old_recorded_time_gives_the_same_bytes(
            self, own: tuple[Path, str, Path]) -> None:
        home, db, _ = own
        first = run(["rate", "--origin", "JP", "--hts", "9503", "--entered", "2025-04-09",
                     "--json"], home, db)
        then = json.loads(first.stdout)["recorded"]
        replacement = home / "jp.yaml"
        replacement.write_text(REPLACEMENT, encoding="utf-8")
        fixed = run(["correct", "recip-country-rates-jp", "--file", str(replacement),
                     "--reason", "Annex I rate misread"], home, db)
        assert fixed.returncode == 0, fixed.stderr
        now = as_json(run(["rate", "--origin", "JP", "--hts", "9503", "--entered",
                           "2025-04-09", "--json"], home, db))
        assert now["additional"] == 26
        again = run(["rate", "--origin", "JP", "--hts", "9503", "--entered", "2025-04-09",
                     "--known", then, "--recorded", then, "--json"], home, db)
        assert again.stdout == first.stdout
        history = as_json(run(["history", "ieepa-recip-jp", "--json"], home, db))
        versions = [(row["id"], row["version"]) for row in history["rows"]
                    if row["id"] == "recip-country-rates-jp"]
        # The bundled heading correction (data/zzz-corrections-headings.json) came first.
        assert versions == [("recip-country-rates-jp", "superseded"),
                            ("recip-country-rates-jp", "correction"),
                            ("recip-country-rates-jp", "correction")], versions

    def test_verify_passes_then_fails_after_an_edit_in_the_database(
            self, own: tuple[Path, str, Path]) -> None:
        home, db, db_file = own
        intact = run(["verify"], home, db)
        assert intact.returncode == 0 and "intact" in intact.stdout
        with sqlite3.connect(db_file) as conn:
            (position,) = conn.execute(
                "SELECT originator_version FROM stored_events "
                "WHERE CAST(state AS TEXT) LIKE '%\"percent\":\"24\"%'").fetchone()
            conn.execute("UPDATE stored_events SET state = CAST(REPLACE(CAST(state AS TEXT), "
                         "'\"percent\":\"24\"', '\"percent\":\"20\"') AS BLOB) "
                         "WHERE originator_version = ?", (position,))
        broken = run(["verify"], home, db)
        assert broken.returncode == 5
        assert "changed outside the application" in broken.stderr
        assert f"position {position}" in broken.stderr

    def test_a_row_broken_in_the_database_makes_queries_refuse_cleanly_saying_where(
            self, own: tuple[Path, str, Path]) -> None:
        home, db, db_file = own
        with sqlite3.connect(db_file) as conn:
            conn.execute("UPDATE stored_events SET state = CAST('{not json' AS BLOB) "
                         "WHERE originator_version = 3")
        result = run(["rate", "--origin", "JP", "--hts", "9503", "--entered", "2025-04-09"],
                     home, db)
        # the chain is checked before answering: the same exit code as `verify`, and where
        assert result.returncode == 5, result.stderr
        assert "changed outside the application: at notification 3" in result.stderr
        assert "Traceback" not in result.stderr and result.stdout == ""
        assert run(["verify"], home, db).returncode == 5
