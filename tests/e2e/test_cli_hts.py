"""`tariffs hts show | search | diff` as a person runs them: readable at 80 columns, JSON and
CSV for scripts with every code, errors naming the argument and the nearest lines."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from tests.e2e.test_cli import as_json, run


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("hts")
    url = f"sqlite:///{folder / 'store.sqlite'}"
    assert run(["import", "--db", url], folder).returncode == 0
    return url


def narrow(args: list[str], home: Path, db: str) -> list[str]:
    shown = run([*args, "--db", db], home, env={"COLUMNS": "80"})
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    return lines


class TestShow:
    def test_a_line_shows_its_path_rates_and_children_at_80_columns(
            self, db: str, tmp_path: Path) -> None:
        lines = narrow(["hts", "show", "0901.11.00", "--at", "2025-12-10"], tmp_path, db)
        text = "\n".join(lines)
        assert lines[0].startswith("0901.11.00 Not decaffeinated")
        assert "Coffee, not roasted:" in text and "general (MFN)" in text
        assert "0901.11.00.15" in text and "HTS 2025-rev-32" in text

    def test_json_is_the_answer_model(self, db: str, tmp_path: Path) -> None:
        answer = as_json(run(["hts", "show", "8703.23.01", "--at", "2025-05-01", "--json",
                              "--db", db], tmp_path))
        assert answer["rates"]["general"] == "2.5%"
        assert answer["revision"]["revision"] == "2025-rev-13"
        assert {"entered", "known", "recorded"} <= set(answer)

    def test_an_unknown_code_names_the_argument_and_the_nearest_lines(
            self, db: str, tmp_path: Path) -> None:
        shown = run(["hts", "show", "9999.99.99", "--at", "2025-12-10", "--json", "--db", db],
                    tmp_path)
        assert shown.returncode == 2
        error = json.loads(shown.stdout)["error"]
        assert error["flag"] == "CODE" and "nearest: 9922" in error["message"]

    def test_help_explains_every_option(self, db: str, tmp_path: Path) -> None:
        shown = run(["hts", "show", "--help"], tmp_path, env={"COLUMNS": "100"})
        assert shown.returncode == 0
        for flag in ("--at", "--known", "--recorded", "--json", "--db"):
            assert flag in shown.stdout


class TestSearch:
    def test_words_find_coffee_ranked_with_where_each_line_sits(
            self, db: str, tmp_path: Path) -> None:
        lines = narrow(["hts", "search", "roasted", "coffee", "--at", "2025-12-10",
                        "--limit", "5"], tmp_path, db)
        text = "\n".join(lines)
        assert "line(s) of HTS 2025-rev-32" in lines[0]
        assert "0901" in text and "(under 0901" in text and "--limit and --offset" in text

    def test_json_pages_through_the_hits(self, db: str, tmp_path: Path) -> None:
        first = as_json(run(["hts", "search", "coffee", "--limit", "3", "--json", "--db", db],
                            tmp_path))
        second = as_json(run(["hts", "search", "coffee", "--limit", "3", "--offset", "3",
                              "--json", "--db", db], tmp_path))
        assert first["total"] == second["total"] > 6
        assert not {h["code"] for h in first["hits"]} & {h["code"] for h in second["hits"]}


class TestDiff:
    def test_the_terminal_counts_and_exports_list_every_code(
            self, db: str, tmp_path: Path) -> None:
        args = ["hts", "diff", "--from", "2025-06-01", "--to", "2026-03-01"]
        lines = narrow(args, tmp_path, db)
        assert any("line(s) added" in line for line in lines)
        exported = as_json(run([*args, "--json", "--db", db], tmp_path))
        added = [c["code"] for c in exported["changes"] if c["change"] == "added"]
        assert len(added) == exported["counts"]["added"] > 400
        rows = list(csv.DictReader(io.StringIO(run([*args, "--csv", "--db", db],
                                                   tmp_path).stdout)))
        assert len(rows) == len(exported["changes"])
        assert not any("more" in row["code"] for row in rows)

    def test_the_schedule_diff_has_a_nomenclature_section(
            self, db: str, tmp_path: Path) -> None:
        args = ["diff", "--entered", "2025-06-01", "--entered", "2026-03-01", "--hts", "0901"]
        lines = narrow(args, tmp_path, db)
        assert any(line.startswith("HTS nomenclature: 2025-rev-13 → 2026-rev-04")
                   for line in lines)
        exported = as_json(run([*args, "--json", "--db", db], tmp_path))
        assert exported["nomenclature"]["counts"]["added"] > 0
        assert all(c["code"].startswith("0901") for c in exported["nomenclature"]["changes"])
        rows = run([*args, "--csv", "--db", db], tmp_path).stdout.splitlines()
        assert any(row.startswith("hts,added,hts line,0901.") for row in rows)

    def test_a_bad_date_names_the_flag(self, db: str, tmp_path: Path) -> None:
        shown = run(["hts", "diff", "--from", "2025-06-01", "--to", "soon", "--json",
                     "--db", db], tmp_path)
        assert shown.returncode == 2
        assert json.loads(shown.stdout)["error"]["flag"] == "--to"
