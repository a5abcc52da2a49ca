"""What a person sees at the terminal: answers readable at 80 columns, the layers that bear on
the answer first, JSON errors for scripts, country names, completion, and a follower that says
what it applies."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.builders import imposed, rate_changed
from tests.e2e.test_cli import TARIFFS, run

JP_CAR = ["rate", "--origin", "JP", "--hts", "8703.23.01", "--entered", "2025-05-01",
          "--mfn", "2.5"]


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("output")
    url = f"sqlite:///{folder / 'store.sqlite'}"
    assert run(["import", "--db", url], folder).returncode == 0
    return url


def narrow(args: list[str], home: Path, db: str) -> subprocess.CompletedProcess[str]:
    return run([*args, "--db", db], home, env={"COLUMNS": "80"})


class TestARateAnswerAt80Columns:
    def test_every_line_fits_and_no_measure_id_is_broken(self, db: str, tmp_path: Path) -> None:
        shown = narrow(JP_CAR, tmp_path, db)
        assert shown.returncode == 0, shown.stderr
        lines = shown.stdout.splitlines()
        assert max(len(line) for line in lines) <= 80
        for measure in ("s232-autos", "ieepa-recip-baseline", "ieepa-recip-jp"):
            assert any(measure in line for line in lines), measure
        assert "additional duty: 25%" in shown.stdout and "27.5%" in shown.stdout
        assert len(lines) < 30

    def test_layers_that_do_not_bear_on_the_answer_wait_behind_all(
            self, db: str, tmp_path: Path) -> None:
        default = narrow(JP_CAR, tmp_path, db).stdout
        everything = narrow([*JP_CAR, "--all"], tmp_path, db).stdout
        assert "ieepa-venezuela-oil" not in default and "--all shows them" in default
        assert "ieepa-venezuela-oil" in everything and "--all shows them" not in everything
        # a never-used authority's caveat is not a note on every answer
        assert "venezuela" not in default.lower()

    def test_entry_dates_are_shown_as_dates(self, db: str, tmp_path: Path) -> None:
        shown = narrow(JP_CAR, tmp_path, db).stdout
        assert "entered 2025-05-01," in shown and "T00:01:00" not in shown


class TestScriptsGetJson:
    def test_a_bad_value_with_json_is_a_json_error_naming_the_flag(
            self, db: str, tmp_path: Path) -> None:
        refused = narrow([*JP_CAR[:-1], "abc", "--json"], tmp_path, db)
        error = json.loads(refused.stdout)["error"]
        assert refused.returncode == 2
        assert (error["field"], error["flag"], error["exit_code"]) == ("mfn", "--mfn", 2)

    def test_a_diff_export_keeps_every_code(self, db: str, tmp_path: Path) -> None:
        exported = narrow(["diff", "--entered", "2025-03-01", "--entered", "2025-06-30",
                           "--json"], tmp_path, db)
        assert exported.returncode == 0, exported.stderr
        assert "more;" not in exported.stdout and "more)" not in exported.stdout


class TestPeopleTypeWhatTheyKnow:
    @pytest.mark.parametrize("origin", ["China", "CHN", "cn"])
    def test_a_country_may_be_named(self, db: str, tmp_path: Path, origin: str) -> None:
        answer = json.loads(narrow(["rate", "--origin", origin, "--hts", "9503.00.00",
                                    "--entered", "2025-04-11", "--json"], tmp_path, db).stdout)
        assert answer["origin"] == "CN" and answer["additional"] == 145

    def test_shell_completion_can_be_installed(self, tmp_path: Path) -> None:
        helped = run(["--help"], tmp_path, env={"COLUMNS": "120"})
        assert "--install-completion" in helped.stdout


def test_the_follower_says_what_it_applies(tmp_path: Path) -> None:
    # given a store that exists (opening a new store is not what is tested here)
    url = f"sqlite:///{tmp_path / 'follow.sqlite'}"
    first, second = tmp_path / "first.json", tmp_path / "second.json"
    first.write_text(json.dumps([imposed("m-10", "m", known="2025-04-02", start="2025-04-05",
                                         percent=10).model_dump(mode="json")]))
    second.write_text(json.dumps([rate_changed("m-20", "m", known="2025-05-02",
                                               start="2025-06-01",
                                               percent=20).model_dump(mode="json")]))
    assert run(["import", str(first), "--db", url], tmp_path).returncode == 0
    env = {k: v for k, v in os.environ.items() if k != "TARIFFS_DB"}
    env.update(HOME=str(tmp_path), XDG_DATA_HOME=str(tmp_path / "data"))
    follower = subprocess.Popen([TARIFFS, "project", "--follow", "--db", url], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    heard: list[str] = []
    try:
        assert follower.stdout is not None
        # when the follower is running and another import lands
        assert run(["import", str(second), "--db", url], tmp_path).returncode == 0
        # Until it reports the whole log (both events): each round that applied something
        # is one line, and the first import may have been applied before it started.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any("holds 2" in line for line in heard):
            ready, _, _ = select.select([follower.stdout], [], [], 1.0)
            if ready:
                heard.append(follower.stdout.readline())
    finally:
        follower.send_signal(signal.SIGTERM)
        follower.communicate(timeout=30)
    # then it said what it applied, up to the whole log
    assert heard and all("applied" in line and "the read model holds" in line
                         for line in heard), heard
    assert heard[-1].rstrip().endswith("holds 2"), heard
