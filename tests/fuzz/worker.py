"""Imports a batch of fuzzed cases, each into an empty SQLite store, and reports what became of
each one as JSON lines; run in a process of its own so that its peak memory is its own.

    python -m tests.fuzz.worker --seed 13 --first 0 --count 100 > results.jsonl

A store is reused while cases are refused (its event count must stay 0: a refusal writes
nothing); after a case is accepted the next case gets a fresh store. Anything raised that is
not a TariffError is reported with its traceback, never raised.
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

from tariff_timeline import TariffTimeline
from tariff_timeline.domain.errors import ImportRejected, TariffError
from tests.fuzz.mutate import Case, case

REUSE = 25
"""Cases one store serves at most, even if all are refused."""


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux


def _located(path: Path, problems: list[str]) -> list[str]:
    """The problems that do not start `file:line: ` (every one must)."""
    where = re.compile(re.escape(str(path)) + r":[0-9]+: ")
    return [p for p in problems if not where.match(p) and not (
        p.startswith(f"{path}: ... and ") and p.endswith(" more problem(s) in this file"))]


def run_case(timeline: TariffTimeline, item: Case, folder: Path) -> dict[str, Any]:
    """Import one case; what happened, how long it took, and whether anything was written."""
    path = item.write(folder)
    before = timeline.store.count()
    peak = _peak_mb()
    started = time.perf_counter()
    outcome: dict[str, Any] = {"index": item.index, "kinds": item.kinds, "expect": item.expect,
                               "suffix": item.suffix}
    try:
        report = timeline.import_paths([path])
        outcome.update(result="accepted", appended=report.appended)
    except ImportRejected as exc:
        outcome.update(result="refused", problems=exc.problems[:5],
                       unlocated=_located(path, exc.problems)[:5])
    except TariffError as exc:
        outcome.update(result="refused", problems=[str(exc)], unlocated=[
            f"{type(exc).__name__} instead of ImportRejected: {exc}"])
    except BaseException:  # every escape is what the fuzzer is looking for
        outcome.update(result="traceback", traceback=traceback.format_exc()[-3000:])
    outcome["seconds"] = time.perf_counter() - started
    try:
        after = timeline.store.count()
    except BaseException:
        after = -1
    outcome["partial"] = outcome["result"] != "accepted" and after != before
    outcome["peak_mb"] = _peak_mb()
    outcome["rise_mb"] = outcome["peak_mb"] - peak  # how far this case raised the peak
    path.unlink()
    return outcome


def run(seed: int, first: int, count: int) -> list[dict[str, Any]]:
    """Every case of the batch, in order."""
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="tariffs-fuzz-") as tmp:
        folder = Path(tmp)
        timeline: TariffTimeline | None = None
        served = 0
        for index in range(first, first + count):
            if timeline is None or served >= REUSE:
                if timeline is not None:
                    timeline.close()
                store = folder / f"store-{index}.sqlite"
                timeline = TariffTimeline.open(f"sqlite:///{store}")
                served = 0
            outcome = run_case(timeline, case(seed, index), folder)
            results.append(outcome)
            served += 1
            if outcome["result"] != "refused" or outcome["partial"]:
                timeline.close()
                timeline = None
        if timeline is not None:
            timeline.close()
    return results


def main(argv: list[str] | None = None) -> int:
    """Command line: one batch, one JSON line a case on standard output."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--first", type=int, required=True)
    parser.add_argument("--count", type=int, required=True)
    args = parser.parse_args(argv)
    for outcome in run(args.seed, args.first, args.count):
        sys.stdout.write(json.dumps(outcome) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
