"""The layers depend inward: events/ and domain/ know nothing of persistence or SQL."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ALLOWED_THIRD_PARTY = {"pydantic", "pycountry", "eventsourcing.domain"}
FIRST_PARTY = {"events", "domain"}


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def allowed(name: str, first_party: set[str]) -> bool:
    top = name.split(".")[0]
    if top in sys.stdlib_module_names or top in first_party:
        return True
    return any(name == a or name.startswith(a + ".") for a in ALLOWED_THIRD_PARTY)


@pytest.mark.parametrize("layer, first_party", [
    ("events", {"events"}),
    ("domain", {"events", "domain"}),
])
def test_inner_layers_import_only_stdlib_pydantic_and_eventsourcing_domain(
        layer: str, first_party: set[str]) -> None:
    offenders = {
        f"{path.relative_to(REPO)}: {name}"
        for path in (REPO / layer).rglob("*.py")
        for name in imports_of(path)
        if not allowed(name, first_party)
    }
    assert offenders == set()


def test_projections_stay_pure_of_persistence_and_interfaces() -> None:
    forbidden = ("sqlalchemy", "sqlite3", "psycopg", "eventsourcing", "tariffs", "typer",
                 "rich")
    offenders = {
        f"{path.relative_to(REPO)}: {name}"
        for path in (REPO / "projections").rglob("*.py")
        for name in imports_of(path)
        if name.split(".")[0] in forbidden
    }
    assert offenders == set()


def test_the_guard_notices_a_forbidden_import(tmp_path: Path) -> None:
    sneaky = tmp_path / "sneaky.py"
    sneaky.write_text("import sqlalchemy\nfrom eventsourcing.sqlite import SQLiteFactory\n")
    found = {n for n in imports_of(sneaky) if not allowed(n, {"domain"})}
    assert found == {"sqlalchemy", "eventsourcing.sqlite"}
