"""What the HTS nomenclature costs a store of the bundled timeline (issue 10), in one run.

    python -m benchmarks.hts                  (or: make bench-hts, with benchmarks.nomenclature)

benchmarks.nomenclature measures the pure rate engine on two folds; this measures what a user
meets: questions through a store's read model, and the first use of a new default store.

- Rate queries: the same seeded sample of rate questions (origins x bundled HTS lines x entry
  dates in 2025 to mid-2026, each with an MFN rate so that no answer depends on the general
  column being known) asked of two SQLite stores, one holding the bundled policy alone and one
  the whole bundled timeline with the nomenclature, through the read model (the default path),
  after one warm-up pass: median and p99 per question, and their ratio (target: at most 1.2).
- First use: `tariffs rate ...` on a new default store (a fresh XDG_DATA_HOME), which loads
  the bundled timeline, nomenclature included, and brings the read model up before answering:
  wall time and peak RSS of that process (target: within 15 s).

Results are printed and written to benchmarks/results/hts-<timestamp>.json.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from tariff_timeline import TariffTimeline
from tariff_timeline.domain.errors import TariffError

RESULTS = Path(__file__).resolve().parent / "results"
DATA = Path(__file__).resolve().parents[1] / "data"
TARIFFS = str(Path(sys.executable).parent / "tariffs")
ORIGINS = ("JP", "CN", "CA", "MX", "DE", "GB", "KR", "BR", "IN", "VN", "CH", "CL")
CODES = ("8703.23.01", "9503.00.00", "7208.10.15", "7601.10.30", "8471.30.01", "0901.11.00",
         "8542.31.00", "3004.90.92", "4407.11.00", "8708.29.51", "7403.11.00", "9401.61.40")
FIRST, DAYS = date(2025, 1, 1), 540


def questions(count: int, seed: int) -> list[dict[str, str]]:
    """A seeded sample of rate questions with an MFN rate each."""
    chance = random.Random(seed)
    return [{"origin": chance.choice(ORIGINS), "hts": chance.choice(CODES),
             "entered": (FIRST + timedelta(days=chance.randrange(DAYS))).isoformat(),
             "mfn": str(chance.choice((0, 2.5, 4.4)))} for _ in range(count)]


def policy_files() -> list[Path]:
    """The bundled policy without the nomenclature (the files of data/, not its folders)."""
    return sorted(p for p in DATA.iterdir() if p.suffix in (".yaml", ".json"))


def latencies(store: TariffTimeline, sample: list[dict[str, str]]) -> list[float]:
    """Milliseconds per question, in order (a refused question is timed too)."""
    out = []
    for q in sample:
        started = time.perf_counter()
        # A code not in the revision of that date is refused: still a question, timed.
        with contextlib.suppress(TariffError):
            store.rate_on(origin=q["origin"], hts=q["hts"], entered=q["entered"], mfn=q["mfn"])
        out.append((time.perf_counter() - started) * 1000)
    return out


def summary(ms: list[float]) -> dict[str, float]:
    """Median and p99 of a list of milliseconds."""
    ordered = sorted(ms)
    return {"median_ms": round(statistics.median(ordered), 3),
            "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 3)}


def first_use(folder: Path) -> dict[str, Any]:
    """A first `tariffs rate` on a new default store: wall seconds and the child's peak RSS."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TARIFFS_")}
    env.update(HOME=str(folder), XDG_DATA_HOME=str(folder / "data"))
    started = time.perf_counter()
    process = subprocess.Popen([TARIFFS, "rate", "--origin", "JP", "--hts", "8703.23.01",
                                "--entered", "2025-05-01", "--mfn", "2.5"], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError("the first tariffs rate failed")
    return {"seconds": round(seconds, 2), "peak_rss_mb": round(usage.ru_maxrss / 1024, 1)}


def main(argv: list[str] | None = None) -> None:
    """Run every measurement once and report it."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--questions", type=int, default=400)
    parser.add_argument("--seed", type=int, default=10)
    args = parser.parse_args(argv)
    sample = questions(args.questions, args.seed)
    report: dict[str, Any] = {"machine": {"python": platform.python_version(),
                                          "cpus": os.cpu_count(), "node": platform.node()},
                              "questions": len(sample)}
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        stores = {"policy only": policy_files(), "with nomenclature": [DATA]}
        opened = {}
        for name, paths in stores.items():
            store = TariffTimeline.open(f"sqlite:///{folder / (name.replace(' ', '-') + '.db')}")
            store.import_paths(paths)
            latencies(store, sample[:50])  # warm up: the read model's catch-up, caches
            opened[name] = store
        # Interleaved rounds, so that a noisy neighbour slows both sides alike.
        runs: dict[str, list[float]] = {name: [] for name in opened}
        for start in range(0, len(sample), 50):
            for name, store in opened.items():
                runs[name] += latencies(store, sample[start:start + 50])
        for name, store in opened.items():
            report[name] = summary(runs[name])
            store.close()
        report["ratio_median"] = round(report["with nomenclature"]["median_ms"]
                                       / report["policy only"]["median_ms"], 3)
        report["ratio_p99"] = round(report["with nomenclature"]["p99_ms"]
                                    / report["policy only"]["p99_ms"], 3)
        report["first_use"] = first_use(folder / "fresh")
    print(json.dumps(report, indent=2))
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"hts-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"written to {out}")


if __name__ == "__main__":
    main()
