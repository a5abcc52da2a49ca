"""Naming a store on the command line: a bad URL is refused without its password, a missing
directory is not made, and an empty store answers nothing, saying how to load it."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tests.e2e.test_cli import as_json, run

SECRET = "TopSecret2"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class TestBadUrls:
    @pytest.mark.parametrize("url, code", [
        (f"postgresql://tariffs:{SECRET}@/tt", 2),
        (f"postgresql://tariffs:{SECRET}@localhost:99999/tt", 2),
        (f"postgresql://tariffs:{SECRET}@localhost:port/tt", 2),
        (f"postgresql://tariffs:{SECRET}@localhost/tt?schema=sa,public", 2),
        (f"postgresql://tariffs:{SECRET}@localhost/tt?sslmode=disable", 2),
        (f"mysql://tariffs:{SECRET}@localhost/tt", 2),
        (f"tariffs:{SECRET}@localhost/tt", 2),
        (f"postgresql://tariffs:{SECRET}@127.0.0.1:{free_port()}/tt", 4),
    ])
    def test_a_bad_or_unreachable_url_never_prints_its_password(
            self, tmp_path: Path, url: str, code: int) -> None:
        result = run(["rate", "--origin", "JP", "--hts", "9503", "--entered", "2025-04-10",
                      "--db", url], tmp_path)
        assert result.returncode == code, result.stderr
        assert SECRET not in result.stdout + result.stderr
        assert "Traceback" not in result.stderr and result.stderr.startswith("error: ")

    def test_a_port_out_of_range_is_named_as_the_db_flags_fault(self, tmp_path: Path) -> None:
        result = run(["events", "--db", f"postgresql://tariffs:{SECRET}@localhost:99999/tt"],
                     tmp_path)
        assert result.returncode == 2
        assert " ".join(result.stderr.split()) == (
            "error: --db: database URL 'postgresql://tariffs:***@localhost:99999/tt' has "
            "port 99999, outside 1-65535")

    def test_a_store_in_a_missing_directory_is_refused_and_the_directory_not_made(
            self, tmp_path: Path) -> None:
        missing = tmp_path / "nonexistent" / "dir"
        result = run(["rate", "--origin", "JP", "--hts", "9503", "--entered", "2025-04-10",
                      "--db", f"sqlite:///{missing / 'x.sqlite'}"], tmp_path)
        assert result.returncode == 2 and result.stdout == ""
        assert f"directory {missing} does not exist" in " ".join(result.stderr.split())
        assert not (tmp_path / "nonexistent").exists()

    def test_a_store_under_a_file_is_a_clear_error_not_a_traceback(
            self, tmp_path: Path) -> None:
        (tmp_path / "hostname").write_text("box\n", encoding="utf-8")
        result = run(["events", "--db", f"sqlite:///{tmp_path / 'hostname' / 'x.sqlite'}"],
                     tmp_path)
        assert result.returncode == 2 and "Traceback" not in result.stderr
        assert f"{tmp_path / 'hostname'} is a file, not a directory" in " ".join(
            result.stderr.split())


class TestAnEmptyStore:
    @pytest.mark.parametrize("question", [
        ["rate", "--origin", "JP", "--hts", "9503", "--entered", "2025-04-10"],
        ["schedule", "--entered", "2025-04-10"],
        ["diff", "--entered", "2025-04-08", "--entered", "2025-04-10"],
        ["timeline", "--origin", "JP", "--hts", "9503", "--from", "2025-03-01",
         "--to", "2025-12-31"],
        ["history", "--origin", "JP", "--hts", "9503.00.00"],
    ])
    def test_answers_nothing_exits_7_and_says_how_to_load_the_bundled_timeline(
            self, tmp_path: Path, question: list[str]) -> None:
        db = f"sqlite:///{tmp_path / 'new.sqlite'}"
        result = run(question, tmp_path, db)
        assert result.returncode == 7 and result.stdout == ""
        said = " ".join(result.stderr.split())
        assert said.startswith(f"error: the store at {db} holds no events")
        assert "load the bundled timeline with `tariffs import` (no path)" in said

    def test_is_answered_from_once_the_bundled_timeline_is_imported(
            self, tmp_path: Path) -> None:
        db = f"sqlite:///{tmp_path / 'new.sqlite'}"
        loaded = run(["import"], tmp_path, db)
        assert loaded.returncode == 0, loaded.stderr
        answer = as_json(run(["rate", "--origin", "CN", "--hts", "9503.00.00", "--entered",
                              "2025-04-11", "--json"], tmp_path, db))
        assert answer["additional"] == 145
