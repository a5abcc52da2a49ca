"""`tariffs import` of hostile files, as a person runs it: exit 3 and `file:line: why` on
standard error, never a traceback, and nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.test_cli import as_json, run
from tests.integration.test_hostile_input import GOOD, alias_bomb

HOSTILE: dict[str, bytes] = {
    "bomb.yaml": alias_bomb().encode(),
    "deep.json": b"[" * 5000 + b"]" * 5000,
    "deep.yaml": b"[" * 5000 + b"]" * 5000,
    "nul.yaml": GOOD.replace("A measure", "A \x00").encode(),
    "nul.json": b'[{"id": "a\x00"}]',
    "surrogate.json": b'[{"id": "x", "title": "\\ud800"}]',
    "latin1.yaml": GOOD.replace("A measure", "Caf\xe9").encode("latin-1"),
    "utf16.yaml": GOOD.encode("utf-16"),
    "number.yaml": GOOD.replace("known: 2025-04-02", "known: 20250301").encode(),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_a_hostile_file_exits_3_with_its_file_and_line_and_no_traceback(
        tmp_path: Path, name: str) -> None:
    db = f"sqlite:///{tmp_path / 'store.sqlite'}"
    path = tmp_path / name
    path.write_bytes(HOSTILE[name])
    result = run(["import", str(path)], tmp_path, db)
    assert result.returncode == 3, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert f"{path}:" in result.stderr
    assert as_json(run(["events", "--json"], tmp_path, db)) == []
