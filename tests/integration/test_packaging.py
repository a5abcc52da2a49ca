"""The built wheel installs one import root and nothing else at the top level."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SKIP = shutil.ignore_patterns(".git", ".venv*", "build", "*.egg-info", "__pycache__",
                              ".pytest_cache", ".mypy_cache", ".ruff_cache", "results")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    """The project's wheel, built from a copy of the checkout (the checkout stays clean)."""
    source = tmp_path_factory.mktemp("source") / "project"
    shutil.copytree(REPO, source, symlinks=True, ignore=SKIP)
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                    "--no-build-isolation", "--wheel-dir", str(out), str(source)],
                   check=True, capture_output=True, text=True)
    (built,) = out.glob("tariff_timeline-*.whl")
    return zipfile.ZipFile(built)


def test_the_wheel_holds_one_import_root_and_its_metadata(wheel: zipfile.ZipFile) -> None:
    tops = {name.split("/")[0] for name in wheel.namelist()}
    metadata = {t for t in tops if t.endswith(".dist-info")}
    assert tops - metadata == {"tariff_timeline"}
    assert len(metadata) == 1


def test_the_pure_layers_and_the_data_are_inside_the_root(wheel: zipfile.ZipFile) -> None:
    names = set(wheel.namelist())
    for module in ("events/policy.py", "domain/timeline.py", "projections/rates.py",
                   "store/eventstore.py", "readmodel/writer.py", "importing/check.py",
                   "cli/commands.py", "service.py", "bootstrap.py"):
        assert f"tariff_timeline/{module}" in names, module
    bundled = {n for n in names if n.startswith("tariff_timeline/data/") and n.endswith(".yaml")}
    assert len(bundled) == len(list((REPO / "data").glob("*.yaml")))
    # The top-level JSON files too (the Section 301 measures, the heading corrections).
    for path in (REPO / "data").glob("*.json"):
        assert f"tariff_timeline/data/{path.name}" in names, path.name


def test_the_console_script_is_still_called_tariffs(wheel: zipfile.ZipFile) -> None:
    (entry_points,) = [n for n in wheel.namelist() if n.endswith("entry_points.txt")]
    text = wheel.read(entry_points).decode()
    assert "tariffs = tariff_timeline.cli:main" in text


def test_the_web_page_and_its_charting_library_ship_inside_the_root(
        wheel: zipfile.ZipFile) -> None:
    names = set(wheel.namelist())
    static = "tariff_timeline/api/static/"
    for asset in ("timeline.html", "timeline.js", "timeline.css", "vendor/uplot/LICENSE",
                  "vendor/uplot/VERSION", "vendor/uplot/uPlot.iife.min.js",
                  "vendor/uplot/uPlot.min.css"):
        assert static + asset in names, asset
