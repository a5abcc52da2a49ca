"""The layers depend inward under one import root: events/ and domain/ know nothing of
persistence or SQL, projections/ nothing of the app package, and nothing imports a top-level
name that another installed package could own."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ROOT = "tariff_timeline"
ALLOWED_THIRD_PARTY = {"pydantic", "pycountry", "eventsourcing.domain"}
APP_ROOMS = ("store", "importing", "readmodel", "cli", "api", "batch", "service", "bootstrap",
             "errors")
OWN_CODE = ("events", "domain", "projections", "tariff_timeline", "tests", "benchmarks",
            "scripts")


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
    if top in sys.stdlib_module_names:
        return True
    if any(name == f"{ROOT}.{layer}" or name.startswith(f"{ROOT}.{layer}.")
           for layer in first_party):
        return True
    return any(name == a or name.startswith(a + ".") for a in ALLOWED_THIRD_PARTY)


def sources(folder: str) -> list[Path]:
    # The folders of the app package are real directories; the pure layers are linked into
    # the root, so walk each real folder once.
    return sorted(p for p in (REPO / folder).rglob("*.py") if not p.is_symlink())


@pytest.mark.parametrize("layer, first_party", [
    ("events", {"events"}),
    ("domain", {"events", "domain"}),
])
def test_inner_layers_import_only_stdlib_pydantic_and_eventsourcing_domain(
        layer: str, first_party: set[str]) -> None:
    offenders = {
        f"{path.relative_to(REPO)}: {name}"
        for path in sources(layer)
        for name in imports_of(path)
        if not allowed(name, first_party)
    }
    assert offenders == set()


def test_projections_stay_pure_of_persistence_and_interfaces() -> None:
    forbidden = {"sqlalchemy", "sqlite3", "psycopg", "eventsourcing", "typer", "rich",
                 "fastapi", "matplotlib"}
    offenders = {
        f"{path.relative_to(REPO)}: {name}"
        for path in sources("projections")
        for name in imports_of(path)
        if name.split(".")[0] in forbidden
        or any(name == f"{ROOT}.{room}" or name.startswith(f"{ROOT}.{room}.")
               for room in APP_ROOMS)
    }
    assert offenders == set()


def test_nothing_imports_a_bare_top_level_name_of_ours() -> None:
    bare = {"events", "domain", "projections", "tariffs", "data"}
    offenders = {
        f"{path.relative_to(REPO)}: {name}"
        for folder in OWN_CODE if (REPO / folder).is_dir()
        for path in sources(folder)
        for name in imports_of(path)
        if name.split(".")[0] in bare
    }
    assert offenders == set()


def test_only_the_interfaces_reach_the_interfaces() -> None:
    # The HTTP API and the command line depend on the service, never the other way round.
    interfaces = {f"{ROOT}.api", f"{ROOT}.cli"}
    inner = [REPO / ROOT / name for name in ("store", "importing", "readmodel")] + [
        REPO / ROOT / f"{name}.py" for name in ("service", "bootstrap", "errors", "batch")]
    offenders = {
        f"{path.relative_to(REPO)}: {name}"
        for place in inner
        for path in ([place] if place.is_file() else sources(str(place.relative_to(REPO))))
        for name in imports_of(path)
        if any(name == i or name.startswith(i + ".") for i in interfaces)
    }
    assert offenders == set()


def test_the_root_maps_the_top_level_layers_in() -> None:
    for layer in ("events", "domain", "projections", "data"):
        linked = REPO / ROOT / layer
        assert linked.is_symlink() and linked.resolve() == (REPO / layer).resolve(), layer


def test_importing_the_pure_layers_loads_no_persistence() -> None:
    probe = (
        "import sys\n"
        f"import {ROOT}.events, {ROOT}.domain.timeline, {ROOT}.domain.questions\n"
        f"import {ROOT}.projections.rates, {ROOT}.projections.pieces\n"
        f"import {ROOT}.projections.versions, {ROOT}.projections.diff\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('sqlalchemy', 'psycopg', 'typer', 'rich') or m in ('eventsourcing.persistence', "
        "'eventsourcing.application', 'eventsourcing.sqlite', 'eventsourcing.postgres'))\n"
        "print(','.join(loaded))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=True, cwd=REPO)
    assert done.stdout.strip() == ""


def test_the_guard_notices_a_forbidden_import(tmp_path: Path) -> None:
    sneaky = tmp_path / "sneaky.py"
    sneaky.write_text("import sqlalchemy\nfrom eventsourcing.sqlite import SQLiteFactory\n"
                      f"from {ROOT}.store import EventStore\nfrom {ROOT}.domain import rules\n")
    found = {n for n in imports_of(sneaky) if not allowed(n, {"domain"})}
    assert found == {"sqlalchemy", "eventsourcing.sqlite", f"{ROOT}.store"}
