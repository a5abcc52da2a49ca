"""What one bad value at the end of a large JSON file costs (issue 13).

    python -m benchmarks.bad_tail [--events 60000] [--seed 4] [--runs 3]

Generates one JSON file of `--events` events with `benchmarks.generate` (60,000 events are
about 22 MB) and a copy of it whose last event is known on an impossible date, then
imports each into a new SQLite store, each import in a fresh subprocess (seconds and peak
RSS belong to one import only), `--runs` times in turn. The target: refusing the bad file takes
at most twice the time of importing the good one (it used to take eight times as long, and
four times the memory, because a JSON file with a problem was read again as YAML to find its
line). Prints both, and their ratios; exits 1 if the target is missed.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.generate import write_history

TARGET = 2.0
"""Refusing the file with the bad tail may take at most this many times the good import."""


def make_files(events: int, work: Path, seed: int) -> tuple[Path, Path]:
    """The generated file, and a copy whose last event has one bad value (a date that no
    version of the reader ever took, so that versions can be compared)."""
    (good,) = write_history(events, work / "good", seed, per_file=events)
    lines = good.read_text(encoding="utf-8").split("\n")
    # '{"events": [', one event a line, ']}', '': the last event is third from the end.
    last = json.loads(lines[-3])
    last["known"] = last["known"][:5] + "02-30"  # e.g. "2028-12-13" -> "2028-02-30"
    lines[-3] = json.dumps(last, separators=(",", ":"))
    bad = work / "bad" / good.name
    bad.parent.mkdir(parents=True, exist_ok=True)
    bad.write_text("\n".join(lines), encoding="utf-8")
    return good, bad


def measure(path: Path, db: Path) -> dict[str, Any]:
    """Import one file into a new store (in this process): seconds, peak RSS, the outcome."""
    from tariff_timeline import TariffTimeline
    from tariff_timeline.domain.errors import ImportRejected

    timeline = TariffTimeline.open(f"sqlite:///{db}", load_bundled_if_new=False)
    started = time.perf_counter()
    try:
        report = timeline.import_paths([path])
        outcome: dict[str, Any] = {"result": "accepted", "appended": report.appended}
    except ImportRejected as exc:
        outcome = {"result": "refused", "problems": exc.problems}
    outcome["seconds"] = time.perf_counter() - started
    timeline.close()
    outcome["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return outcome


def _child(path: Path, db: Path) -> dict[str, Any]:
    db.unlink(missing_ok=True)
    done = subprocess.run([sys.executable, "-m", "benchmarks.bad_tail", "--child", str(path),
                           str(db)], check=True, stdout=subprocess.PIPE, text=True)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main(argv: list[str] | None = None) -> int:
    """Command line: generate, time both imports, print the figures and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=60_000)
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(measure(Path(args.child[0]), Path(args.child[1]))))
        return 0

    with tempfile.TemporaryDirectory(prefix="tariffs-bad-tail-") as tmp:
        work = Path(tmp)
        good, bad = make_files(args.events, work, args.seed)
        size_mb = good.stat().st_size / 1e6
        print(f"{args.events:,} events in one JSON file of {size_mb:.1f} MB "
              f"(seed {args.seed}); {args.runs} run(s) each, alternating")
        runs: dict[str, list[dict[str, Any]]] = {"good": [], "bad": []}
        for _ in range(args.runs):
            for name, path in (("good", good), ("bad", bad)):
                runs[name].append(_child(path, work / f"{name}.sqlite"))
        if any(r["result"] != "accepted" for r in runs["good"]) or any(
                r["result"] != "refused" for r in runs["bad"]):
            print("unexpected outcome:", json.dumps(runs)[:2000])
            return 1
        seconds = {name: statistics.median(r["seconds"] for r in found)
                   for name, found in runs.items()}
        memory = {name: max(r["peak_rss_mb"] for r in found) for name, found in runs.items()}
        print(f"  without the bad value: imported   {seconds['good']:7.2f} s (median), "
              f"peak RSS {memory['good']:6.0f} MB")
        print(f"  with it, at the end:   refused in {seconds['bad']:7.2f} s (median), "
              f"peak RSS {memory['bad']:6.0f} MB")
        print(f"  refused as: {runs['bad'][0]['problems'][0][len(str(work)) + 1:]}")
        ratio = seconds["bad"] / seconds["good"]
        met = "met" if ratio <= TARGET else "MISSED"
        print(f"  time ratio {ratio:.2f} (target <= {TARGET:g}: {met}); memory ratio "
              f"{memory['bad'] / memory['good']:.2f}")
        return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
