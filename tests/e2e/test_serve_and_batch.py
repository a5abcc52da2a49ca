"""`tariffs serve` as a real process on a free loopback port, and `tariffs rate --input` on
real files: CSV, JSON Lines and Parquet in and out."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.test_cli import TARIFFS, run

QUESTIONS = ("id,origin,hts,entered,known,mfn,usmca_qualifying\n"
             "car,JP,8703.23.01,2025-05-01,,2.5,\n"
             "toy,CA,9503,2025-04-01,,,\n"
             "bad,XX,9503,2025-04-01,,,\n"
             "usmca,CA,9503,2025-04-01,,,true\n")
STARTUP_SECONDS = 60


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Served:
    """A `tariffs serve` process and its base URL; stopped (then killed) on close."""

    def __init__(self, args: list[str], home: Path, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        chosen = {k: v for k, v in os.environ.items()
                  if k not in ("TARIFFS_DB", "TARIFFS_API_TOKEN", "TARIFFS_API_TOKEN_FILE")}
        chosen.update(HOME=str(home), XDG_DATA_HOME=str(home / "data"), **(env or {}))
        self.process = subprocess.Popen(
            [TARIFFS, "serve", "--port", str(self.port), *args], env=chosen,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"serve exited: {self.process.communicate()[1]}")
            try:
                if httpx.get(self.url + "/v1/health", timeout=5).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            # Polling a port that is not open yet: a short pause between connection attempts.
            time.sleep(0.2)
        self.close()
        raise AssertionError("serve did not answer within a minute")

    def close(self) -> str:
        """Stop the server; return what it logged."""
        self.process.terminate()
        try:
            _, logged = self.process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            _, logged = self.process.communicate()
        return logged


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("serve-home")


@pytest.fixture(scope="module")
def served(home: Path) -> Iterator[Served]:
    server = Served(["--db", f"sqlite:///{home / 'served.sqlite'}"], home)
    # A store named by --db is not loaded with the bundled timeline on its own.
    assert run(["import", "--db", f"sqlite:///{home / 'served.sqlite'}"], home).returncode == 0
    yield server
    server.close()


class TestServe:
    def test_a_rate_question_over_http_is_answered_as_the_command_line_answers(
            self, served: Served, home: Path) -> None:
        question = {"origin": "JP", "hts": "8703.23.01", "entered": "2025-05-01",
                    "mfn": "2.5", "known": "2026-01-01"}
        # Both asked at the same recorded time: the one the first answer was given at.
        question["recorded"] = httpx.get(served.url + "/v1/rate", params=question,
                                         timeout=30).json()["recorded"]
        over_http = httpx.get(served.url + "/v1/rate", params=question, timeout=30).json()
        cli = run(["rate", *[x for k, v in question.items() for x in (f"--{k}", v)],
                   "--json", "--db", f"sqlite:///{home / 'served.sqlite'}"], home)
        assert over_http == json.loads(cli.stdout)
        assert (over_http["additional"], over_http["total"]) == (25, 27.5)

    def test_a_batch_streams_back_one_row_per_question(self, served: Served) -> None:
        answered = httpx.post(served.url + "/v1/rate/batch", content=QUESTIONS, timeout=60,
                              headers={"Content-Type": "text/csv"})
        rows = [json.loads(line) for line in answered.text.splitlines()]
        assert [r["status"] for r in rows] == ["exact", "depends on facts", "refused",
                                               "exact"]

    def test_writes_are_off_without_a_token(self, served: Served) -> None:
        assert httpx.post(served.url + "/v1/import", json={"events": []},
                          timeout=30).status_code == 403

    def test_it_logs_one_json_line_per_request_and_stops_on_sigterm(self, home: Path) -> None:
        token = home / "token"
        token.write_text("a-token-of-at-least-16-characters\n")
        server = Served(["--db", f"sqlite:///{home / 'logged.sqlite'}", "--token-file",
                         str(token)], home)
        written = httpx.post(server.url + "/v1/import", json={"events": []}, timeout=30,
                             headers={"Authorization": "Bearer a-token-of-at-least-16-"
                                                       "characters"})
        logged = server.close()
        assert written.status_code == 200, written.text
        lines = [json.loads(line) for line in logged.splitlines() if line.startswith("{")]
        assert {"method": "POST", "path": "/v1/import", "status": 200} in [
            {k: v for k, v in line.items() if k != "duration_ms"} for line in lines]
        assert "a-token-of" not in logged
        assert server.process.returncode is not None

    def test_several_workers_on_sqlite_are_refused(self, home: Path) -> None:
        result = run(["serve", "--workers", "2", "--db", f"sqlite:///{home / 'x.sqlite'}"],
                     home)
        assert result.returncode == 2 and "--workers" in result.stderr

    def test_several_workers_serve_a_postgresql_store(self, home: Path, pg_url: str) -> None:
        assert run(["import", "--db", pg_url], home).returncode == 0
        server = Served(["--db", pg_url, "--workers", "2"], home)
        try:
            answers = [httpx.get(server.url + "/v1/rate", timeout=30, params={
                "origin": "CN", "hts": "9503.00.00", "entered": "2025-04-11"}).json()
                for _ in range(4)]
        finally:
            server.close()
        assert {a["additional"] for a in answers} == {145}


class TestRateInputOutput:
    @pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
    def test_a_file_of_questions_gives_a_file_of_answers(
            self, home: Path, tmp_path: Path, suffix: str) -> None:
        import pandas as pd

        questions = tmp_path / "questions.csv"
        questions.write_text(QUESTIONS)
        source = questions
        if suffix == ".parquet":
            source = tmp_path / "questions.parquet"
            pd.read_csv(questions, dtype=str).to_parquet(source)
        answers = tmp_path / f"answers{suffix}"
        db = f"sqlite:///{home / 'batch.sqlite'}"
        run(["import", "--db", db], home)
        result = run(["rate", "--input", str(source), "--output", str(answers), "--db", db],
                     home)
        assert result.returncode == 0, result.stderr
        if suffix == ".csv":
            frame = pd.read_csv(answers)
        elif suffix == ".jsonl":
            frame = pd.read_json(answers, lines=True)
        else:
            frame = pd.read_parquet(answers)
        assert list(frame["status"]) == ["exact", "depends on facts", "refused", "exact"]
        assert frame["additional"].dtype == "float64" and frame["total"].iloc[0] == 27.5
        assert frame["field"].iloc[2] == "origin"

    def test_without_output_the_answers_go_to_standard_output(
            self, home: Path, tmp_path: Path) -> None:
        questions = tmp_path / "questions.csv"
        questions.write_text(QUESTIONS)
        result = run(["rate", "--input", str(questions), "--db",
                      f"sqlite:///{home / 'batch.sqlite'}"], home)
        rows: list[dict[str, Any]] = [json.loads(x) for x in result.stdout.splitlines()]
        assert [r["row"] for r in rows] == [1, 2, 3, 4]

    def test_questions_given_as_flags_and_a_file_at_once_are_refused(
            self, home: Path, tmp_path: Path) -> None:
        questions = tmp_path / "questions.csv"
        questions.write_text(QUESTIONS)
        result = run(["rate", "--input", str(questions), "--origin", "JP"], home)
        assert result.returncode == 2 and "--origin" in result.stderr
