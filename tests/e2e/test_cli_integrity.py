"""Integrity from the command line: a tampered store answers nothing (exit 5), and signed
heads, checkpoints and `verify` work as a person would use them."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from tariff_timeline.store.chain import dumps
from tests.e2e.test_cli import run

RATE = ["rate", "--origin", "BR", "--hts", "0901.11.00", "--entered", "2025-08-10", "--json"]


def store(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'store.sqlite'}"


def test_keygen_signed_import_checkpoint_and_verify_work_together(tmp_path: Path) -> None:
    db = store(tmp_path)
    private, public = tmp_path / "head.key", tmp_path / "head.pub"
    made = run(["keygen", "--private-key", str(private), "--public-key", str(public)],
               tmp_path)
    assert made.returncode == 0, made.stderr
    assert "PRIVATE KEY" not in made.stdout + made.stderr  # the key is never printed
    signed = run(["import", "--db", db], tmp_path, env={"TARIFFS_SIGNING_KEY": str(private)})
    assert signed.returncode == 0, signed.stderr
    mark = run(["checkpoint", "--db", db], tmp_path)
    assert mark.returncode == 0 and mark.stdout.startswith("tt-checkpoint-v1:"), mark.stderr
    checked = run(["verify", "--db", db, "--public-key", str(public), "--since",
                   mark.stdout.strip(), "--json"], tmp_path)
    report = json.loads(checked.stdout)
    assert checked.returncode == 0 and report["intact"] and report["signed_heads"] == 1


def test_a_rate_from_a_tampered_store_exits_5_and_answers_nothing(tmp_path: Path) -> None:
    db = store(tmp_path)
    assert run(["import", "--db", db], tmp_path).returncode == 0
    with sqlite3.connect(tmp_path / "store.sqlite") as conn:
        rowid, state = conn.execute("SELECT rowid, state FROM stored_events WHERE topic = "
                                    "'tariffs.MeasureImposed.v1' LIMIT 1").fetchone()
        data = json.loads(state)
        data["event"]["id"] = data["event"]["id"] + "x"
        conn.execute("UPDATE stored_events SET state = ? WHERE rowid = ?", (dumps(data), rowid))
    answered = run([*RATE, "--db", db], tmp_path)
    # with --json the refusal is JSON too, and holds no answer
    refusal = json.loads(answered.stdout)
    assert answered.returncode == 5 and set(refusal) == {"error"}
    assert refusal["error"]["kind"] == "TamperDetected" and refusal["error"]["exit_code"] == 5
    assert "changed outside the application" in refusal["error"]["message"]
    table = run([arg for arg in RATE if arg != "--json"] + ["--db", db], tmp_path)
    assert table.returncode == 5 and table.stdout == ""
    assert "changed outside the application" in table.stderr
    assert run(["verify", "--db", db], tmp_path).returncode == 5
    assert run(["import", "--db", db], tmp_path).returncode == 5


def test_a_malformed_checkpoint_names_the_flag(tmp_path: Path) -> None:
    db = store(tmp_path)
    assert run(["import", "--db", db], tmp_path).returncode == 0
    refused = run(["verify", "--db", db, "--since", "nonsense"], tmp_path)
    assert refused.returncode == 2 and "--since: 'nonsense' is not a checkpoint" in refused.stderr
