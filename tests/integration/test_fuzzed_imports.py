"""Seeded fuzzing of the import (issue 13): mutated import files are refused cleanly, with
their file and line and nothing written, or stored as they were read; never a traceback.

TARIFFS_FUZZ_CASES cases (1,000 by default; `make fuzz` runs 10,000) of seed TARIFFS_FUZZ_SEED
(13) are made by `tests.fuzz.mutate` and imported in batches of 100, each batch by a worker
process of its own (`tests.fuzz.worker`), which also gives each batch's peak memory. A failing
case is re-made with `tests.fuzz.mutate.case(seed, index)`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
CASES = int(os.environ.get("TARIFFS_FUZZ_CASES", "1000"))
SEED = int(os.environ.get("TARIFFS_FUZZ_SEED", "13"))
BATCH = 100
PARALLEL = max(1, min(4, os.cpu_count() or 1))
CASE_SECONDS = 60.0
BATCH_TIMEOUT = 1800


def _run_batches() -> tuple[list[dict[str, Any]], list[str]]:
    """Every case's outcome, and the batches that did not finish (each a message)."""
    pending = [(first, min(BATCH, CASES - first)) for first in range(0, CASES, BATCH)]
    running: list[tuple[int, int, subprocess.Popen[str], float]] = []
    outcomes: list[dict[str, Any]] = []
    broken: list[str] = []
    while pending or running:
        while pending and len(running) < PARALLEL:
            first, count = pending.pop(0)
            process = subprocess.Popen(
                [sys.executable, "-m", "tests.fuzz.worker", "--seed", str(SEED),
                 "--first", str(first), "--count", str(count)],
                cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            running.append((first, count, process, time.monotonic()))
        for entry in list(running):
            first, count, process, started = entry
            if process.poll() is None and time.monotonic() - started < BATCH_TIMEOUT:
                continue
            running.remove(entry)
            if process.returncode is None:
                process.kill()
            out, err = process.communicate()
            found = [json.loads(line) for line in out.splitlines() if line.strip()]
            outcomes.extend(found)
            if process.returncode != 0 or len(found) != count:
                broken.append(f"cases {first}..{first + count - 1}: worker exit "
                              f"{process.returncode}, {len(found)} of {count} reported: "
                              f"{err[-2000:]}")
        time.sleep(0.05)
    outcomes.sort(key=lambda o: o["index"])
    return outcomes, broken


@pytest.fixture(scope="module")
def fuzzed() -> tuple[list[dict[str, Any]], list[str]]:
    """The run, once for the module; its summary line is printed (see it with -s)."""
    started = time.monotonic()
    outcomes, broken = _run_batches()
    results = Counter(o["result"] for o in outcomes)
    expected = Counter(o["expect"] for o in outcomes)
    summary = (
        f"fuzz seed {SEED}: {len(outcomes)} cases ({expected['REFUSE']} must be refused, "
        f"{expected['ACCEPT']} must be accepted, {expected['MAY']} may be either), "
        f"{results['refused']} refused, "
        f"{results['accepted']} accepted, {results['traceback']} tracebacks, "
        f"{sum(o['partial'] for o in outcomes)} partial writes, max "
        f"{max((o['seconds'] for o in outcomes), default=0):.2f} s a case, max "
        f"{max((o['peak_mb'] for o in outcomes), default=0):.0f} MB peak RSS of a batch of "
        f"{BATCH} (each in a fresh process; one case raised it by at most "
        f"{max((o['rise_mb'] for o in outcomes), default=0):.1f} MB), "
        f"{time.monotonic() - started:.0f} s in all")
    print("\n" + summary)
    kinds = Counter((kind, o["result"]) for o in outcomes for kind in o["kinds"])
    print("  " + ", ".join(f"{kind} {result} {n}" for (kind, result), n in sorted(kinds.items())))
    return outcomes, broken


def _show(outcomes: list[dict[str, Any]]) -> str:
    return "\n".join(f"case {o['index']} {o['kinds']} ({o['suffix']}, {o['expect']}): "
                     f"{o['result']} {o.get('problems', '')} {o.get('traceback', '')}"
                     for o in outcomes[:10])


class TestFuzzedImportFiles:
    def test_every_case_ran_to_its_end(self, fuzzed: tuple[list[dict[str, Any]],
                                                           list[str]]) -> None:
        outcomes, broken = fuzzed
        assert not broken
        assert len(outcomes) == CASES

    def test_no_file_ends_in_a_traceback(self, fuzzed: tuple[list[dict[str, Any]],
                                                             list[str]]) -> None:
        escaped = [o for o in fuzzed[0] if o["result"] == "traceback"]
        assert not escaped, _show(escaped)

    def test_a_refused_file_writes_nothing(self, fuzzed: tuple[list[dict[str, Any]],
                                                                list[str]]) -> None:
        partial = [o for o in fuzzed[0] if o["partial"]]
        assert not partial, _show(partial)

    def test_no_file_that_must_be_refused_is_accepted(
            self, fuzzed: tuple[list[dict[str, Any]], list[str]]) -> None:
        wrong = [o for o in fuzzed[0] if o["expect"] == "REFUSE" and o["result"] == "accepted"]
        assert not wrong, _show(wrong)

    def test_every_file_that_must_be_accepted_is_accepted(
            self, fuzzed: tuple[list[dict[str, Any]], list[str]]) -> None:
        wrong = [o for o in fuzzed[0] if o["expect"] == "ACCEPT" and o["result"] != "accepted"]
        assert not wrong, _show(wrong)

    def test_every_problem_of_a_refusal_names_its_file_and_line(
            self, fuzzed: tuple[list[dict[str, Any]], list[str]]) -> None:
        unlocated = [o for o in fuzzed[0] if o.get("unlocated")]
        assert not unlocated, _show(unlocated) + str([o["unlocated"] for o in unlocated[:5]])

    def test_no_case_takes_over_a_minute(self, fuzzed: tuple[list[dict[str, Any]],
                                                             list[str]]) -> None:
        slow = [o for o in fuzzed[0] if o["seconds"] > CASE_SECONDS]
        assert not slow, _show(slow)

    def test_the_cases_cover_refusals_and_acceptances(
            self, fuzzed: tuple[list[dict[str, Any]], list[str]]) -> None:
        expected = Counter(o["expect"] for o in fuzzed[0])
        assert expected["REFUSE"] > CASES // 2 and expected["ACCEPT"] > CASES // 20
