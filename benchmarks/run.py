"""One command for the performance figures of issue 4, all measured in the same run.

    python -m benchmarks.run --sizes 10000,100000,1000000      (or: make bench SIZES=...)

For each size it generates a synthetic history (benchmarks.generate), then, each in a fresh
subprocess so that peak memory belongs to one measurement only:

- import: ``TariffTimeline.import_paths`` into a new SQLite store (events/s, peak RSS);
- raw insert: ``sqlite3`` ``executemany`` of the very rows the import stored (the same
  serialised payloads) into a table with the same definition, in one transaction;
- queries: latency (median, p99) of a fixed, seeded sample of rate questions through every
  query path this build has: the pure fold, the read model, a hand-written SQL query; and the
  read model's rebuild throughput.

A measurement whose API is not in this build is reported as "not available on this build" and
listed; nothing is estimated. Results go to stdout and to benchmarks/results/<timestamp>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks.generate import (
    CHAPTERS,
    COUNTRIES,
    FIRST_DAY,
    PROFILES,
    SPAN_DAYS,
    write_history,
)
from benchmarks.handsql import NotAvailable, hand_written_query

RESULTS = Path(__file__).resolve().parent / "results"
DEFAULT_SIZES = "10000,100000,1000000"
TARGETS = {
    "import_vs_raw_insert": "import at least half as fast as the raw insert (ratio >= 0.5)",
    "read_model_vs_hand_sql": "rate queries within 3 times the hand-written SQL (ratio <= 3)",
    "latency_growth": "median latency at 1M events at most 1.5 times that at 100k (<= 1.5)",
    "import_memory": "a 1M-event import within 1 GB of memory (peak RSS <= 1024 MB)",
}


# ---------------------------------------------------------------- measurements (in children)


def _peak_rss_mb() -> float:
    # ru_maxrss is in KiB on Linux: the high-water mark of this (child) process.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure_import(history: Path, db: Path) -> dict[str, Any]:
    """Import a history into a new SQLite store: seconds, events/s and peak RSS."""
    from tariff_timeline import TariffTimeline

    timeline = TariffTimeline.open(f"sqlite:///{db}", load_bundled_if_new=False)
    started = time.perf_counter()
    report = timeline.import_paths([history])
    seconds = time.perf_counter() - started
    timeline.close()
    return {"events": report.appended, "seconds": seconds,
            "events_per_s": report.appended / seconds, "peak_rss_mb": _peak_rss_mb()}


def measure_raw_insert(db: Path, target: Path) -> dict[str, Any]:
    """executemany of the rows the import stored into an identical table: rows/s."""
    source = sqlite3.connect(db)
    (ddl,) = source.execute(
        "SELECT sql FROM sqlite_master WHERE type='table' AND name='stored_events'").fetchone()
    rows = source.execute("SELECT originator_id, originator_version, topic, state "
                          "FROM stored_events ORDER BY rowid").fetchall()
    source.close()
    out = sqlite3.connect(target)
    out.execute(ddl)
    started = time.perf_counter()
    with out:  # one transaction, like the import
        out.executemany("INSERT INTO stored_events (originator_id, originator_version, topic, "
                        "state) VALUES (?, ?, ?, ?)", rows)
    seconds = time.perf_counter() - started
    out.close()
    payload = sum(len(r[3]) for r in rows)
    return {"rows": len(rows), "seconds": seconds, "rows_per_s": len(rows) / seconds,
            "mean_payload_bytes": payload / max(len(rows), 1)}


@dataclass(frozen=True)
class Question:
    """One rate question of the sample."""

    origin: str
    hts: str
    entered: str
    known: str | None


def questions(history: Path, count: int, seed: int = 44) -> list[Question]:
    """A fixed, seeded sample; half ask about HTS codes that narrow scopes in the history name."""
    rng = random.Random(seed)
    first = sorted(history.glob("events-*.json"))[0]
    named: list[tuple[str, str]] = []
    lines: list[str] = []
    for event in json.loads(first.read_text(encoding="utf-8"))["events"]:
        if event.get("type") == "NomenclatureRevised" and event.get("baseline"):
            # A history with an HTS (the realistic profile) refuses codes that are not its
            # lines: the other half asks its baseline's statistical lines.
            lines += [line["code"] for line in event["added"] if len(line["code"]) == 10]
        scope = event.get("scope") or {}
        for code in scope.get("products", ()):
            if len(code) == 10 and scope.get("origins", ["ALL"])[0] in COUNTRIES:
                named.append((scope["origins"][0], code))
    found: list[Question] = []
    for i in range(count):
        if named and i % 2 == 0:
            origin, hts = rng.choice(named)
        else:
            origin = rng.choice(COUNTRIES)
            hts = rng.choice(lines) if lines else \
                rng.choice(CHAPTERS) + f"{rng.randrange(10**8):08d}"
        entered = FIRST_DAY + timedelta(days=rng.randrange(SPAN_DAYS))
        known = (entered + timedelta(days=rng.randint(-60, 400))).isoformat() \
            if rng.random() < 0.5 else None
        found.append(Question(origin, hts, entered.isoformat(), known))
    return found


def _latencies(ask: Callable[[Question], object], sample: list[Question]) -> dict[str, Any]:
    times: list[float] = []
    for question in sample:
        started = time.perf_counter()
        ask(question)
        times.append(time.perf_counter() - started)
    ordered = sorted(times)
    # Nearest-rank percentile: with a small sample the p99 is its slowest question.
    p99 = ordered[min(len(ordered) - 1, max(0, -(-99 * len(ordered) // 100) - 1))]
    return {"n": len(times), "median_ms": statistics.median(times) * 1000,
            "p99_ms": p99 * 1000, "mean_ms": statistics.fmean(times) * 1000}


def _answer(result: object) -> object:
    return getattr(result, "additional", result)


def measure_queries(history: Path, db: Path, count: int, fold_count: int) -> dict[str, Any]:
    """Latency of every query path this build has, and the read model's rebuild throughput."""
    from tariff_timeline import TariffTimeline

    timeline = TariffTimeline.open(f"sqlite:///{db}", load_bundled_if_new=False)
    sample = questions(history, count)
    out: dict[str, Any] = {}
    has_read_model = hasattr(timeline, "rate_on_by_fold")

    def via(method: Callable[..., Any]) -> Callable[[Question], object]:
        return lambda q: method(origin=q.origin, hts=q.hts, entered=q.entered, known=q.known,
                                mfn="2.5")

    rebuild = getattr(timeline, "rebuild_read_model", None)
    if rebuild is not None:
        events = timeline.store.count()
        started = time.perf_counter()
        rebuild()
        seconds = time.perf_counter() - started
        out["rebuild"] = {"events": events, "seconds": seconds, "events_per_s": events / seconds}
    else:
        out["rebuild"] = {"unavailable": "TariffTimeline.rebuild_read_model() is not in this "
                                         "build"}
    fold_method = getattr(timeline, "rate_on_by_fold", None) or timeline.rate_on
    if fold_count > 0:
        out["fold"] = {**_latencies(via(fold_method), sample[:fold_count]),
                       "api": "rate_on_by_fold" if has_read_model else "rate_on (the pure fold)"}
    else:
        out["fold"] = {"skipped": "--fold-budget 0: the pure fold was not asked"}
    if has_read_model:
        out["read_model"] = {**_latencies(via(timeline.rate_on), sample), "api": "rate_on"}
        disagree = [q for q in sample[:fold_count] if _answer(via(timeline.rate_on)(q))
                    != _answer(via(fold_method)(q))]
        out["read_model"]["disagreements_with_fold"] = len(disagree)
    else:
        out["read_model"] = {"unavailable": "TariffTimeline.rate_on_by_fold() is not in this "
                                            "build, so rate_on is still the pure fold"}
    try:
        out["hand_sql"] = {**_latencies(
            lambda q: hand_written_query(timeline, q.origin, q.hts, q.entered, q.known), sample),
            "api": "benchmarks.handsql.hand_written_query"}
    except NotAvailable as exc:
        out["hand_sql"] = {"unavailable": str(exc)}
    timeline.close()
    out["peak_rss_mb"] = _peak_rss_mb()
    return out


# ---------------------------------------------------------------- orchestration


def _child(task: str, *args: str) -> dict[str, Any]:
    """Run one measurement in a fresh interpreter; it prints its result as one JSON line."""
    done = subprocess.run([sys.executable, "-m", "benchmarks.run", "--child", task, *args],
                          check=True, stdout=subprocess.PIPE, text=True)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def run_size(size: int, work: Path, seed: int, count: int, fold_count: int,
             say: Callable[[str], None], profile: str = "dense") -> dict[str, Any]:
    """Every measurement at one history size."""
    history, db, raw = work / f"history-{size}", work / f"store-{size}.sqlite", \
        work / f"raw-{size}.sqlite"
    for path in (db, raw):
        path.unlink(missing_ok=True)
    say(f"{size}: generating")
    started = time.perf_counter()
    files = write_history(size, history, seed, profile=profile)
    generated = {"seconds": time.perf_counter() - started, "files": len(files),
                 "bytes": sum(f.stat().st_size for f in files)}
    say(f"{size}: importing")
    imported = _child("import", str(history), str(db))
    say(f"{size}: raw insert")
    raw_insert = _child("raw", str(db), str(raw))
    say(f"{size}: queries")
    queries = _child("queries", str(history), str(db), str(count), str(fold_count))
    raw.unlink(missing_ok=True)
    return {"events": size, "generate": generated, "import": imported, "raw_insert": raw_insert,
            "import_vs_raw_insert": imported["events_per_s"] / raw_insert["rows_per_s"],
            **queries}


def _median(size: dict[str, Any], path: str) -> float | None:
    value = size.get(path, {}).get("median_ms")
    return float(value) if value is not None else None


def judge(sizes: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Each target of the issue: the measured figure, met or missed, or not available."""
    verdicts: list[dict[str, Any]] = []

    def add(key: str, value: float | None, limit: float, higher_is_better: bool,
            note: str) -> None:
        if value is None:
            verdicts.append({"target": key, "wanted": TARGETS[key], "status": "not available",
                             "note": note})
            return
        met = value >= limit if higher_is_better else value <= limit
        verdicts.append({"target": key, "wanted": TARGETS[key], "measured": value,
                         "status": "met" if met else "missed",
                         "factor": (limit / value if higher_is_better else value / limit),
                         "note": note})

    largest = max(sizes, key=int) if sizes else None
    if largest is not None:
        add("import_vs_raw_insert", min(s["import_vs_raw_insert"] for s in sizes.values()), 0.5,
            True, "worst ratio over the sizes measured")
        big = sizes[largest]
        hand, model = _median(big, "hand_sql"), _median(big, "read_model")
        add("read_model_vs_hand_sql", model / hand if model and hand else None, 3.0, False,
            f"median latencies at {largest} events")
    if "100000" in sizes and "1000000" in sizes:
        low, high = sizes["100000"], sizes["1000000"]
        model_low, model_high = _median(low, "read_model"), _median(high, "read_model")
        add("latency_growth", model_high / model_low if model_low and model_high else None,
            1.5, False, "read-model median at 1M / at 100k")
        fold_low, fold_high = _median(low, "fold"), _median(high, "fold")
        if fold_low and fold_high:
            verdicts[-1]["pure_fold_growth"] = fold_high / fold_low
        add("import_memory", float(high["import"]["peak_rss_mb"]), 1024.0, False,
            "peak RSS of the import subprocess at 1M events")
    else:
        verdicts.append({"target": "latency_growth", "wanted": TARGETS["latency_growth"],
                         "status": "not measured", "note": "needs sizes 100000 and 1000000"})
        verdicts.append({"target": "import_memory", "wanted": TARGETS["import_memory"],
                         "status": "not measured", "note": "needs size 1000000"})
    return verdicts


def _fmt(value: object, digits: int = 1) -> str:
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _latency(entry: dict[str, Any]) -> str:
    if "unavailable" in entry:
        return "not available on this build"
    if "skipped" in entry:
        return "not asked (--fold-budget 0)"
    return f"{entry['median_ms']:,.1f} / {entry['p99_ms']:,.1f} (n={entry['n']})"


def render(result: dict[str, Any]) -> str:
    """The results as a plain-text table."""
    lines = [f"Tariff Timeline benchmark ({result['settings'].get('profile', 'dense')} "
             f"profile), {result['started']} "
             f"({result['machine']['cpus']} CPUs, {result['machine']['memory_gib']} GiB, "
             f"Python {result['machine']['python']})", ""]
    rows = [("events", "import ev/s", "raw insert rows/s", "ratio", "import peak RSS MB",
             "fold ms median / p99", "read model ms median / p99", "hand SQL ms median / p99",
             "rebuild ev/s")]
    for size, s in sorted(result["sizes"].items(), key=lambda kv: int(kv[0])):
        rebuild = s["rebuild"]
        rows.append((_fmt(int(size)), _fmt(s["import"]["events_per_s"], 0),
                     _fmt(s["raw_insert"]["rows_per_s"], 0),
                     _fmt(s["import_vs_raw_insert"], 4), _fmt(s["import"]["peak_rss_mb"], 0),
                     _latency(s["fold"]), _latency(s["read_model"]), _latency(s["hand_sql"]),
                     "not available on this build" if "unavailable" in rebuild
                     else _fmt(rebuild["events_per_s"], 0)))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for n, row in enumerate(rows):
        lines.append("  ".join(cell.rjust(w) for cell, w in zip(row, widths, strict=True)))
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    lines += ["", "Targets:"]
    for v in result["targets"]:
        measured = f" measured {_fmt(v['measured'], 4)}" if "measured" in v else ""
        factor = f", off by a factor of {_fmt(v['factor'], 1)}" if v.get("status") == "missed" \
            else ""
        lines.append(f"  - {v['wanted']}: {v['status']}{measured}{factor} ({v['note']})")
    if result["not_available"]:
        lines += ["", "Not available on this build:"]
        lines += [f"  - {item}" for item in result["not_available"]]
    return "\n".join(lines)


def _memory_gib() -> float:
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            kib = int(meminfo.readline().split()[1])
        return round(kib / 1024 / 1024, 1)
    except (OSError, ValueError, IndexError):
        return 0.0


def main(argv: list[str] | None = None) -> int:
    """Command line: run the benchmark (or, with --child, one measurement)."""
    parser = argparse.ArgumentParser(description="Tariff Timeline benchmarks (issue 4)")
    parser.add_argument("--sizes", default=DEFAULT_SIZES,
                        help=f"comma-separated history sizes (default {DEFAULT_SIZES})")
    parser.add_argument("--queries", type=int, default=200,
                        help="questions per query path (default 200)")
    parser.add_argument("--fold-budget", type=int, default=300_000,
                        help="the pure fold reads the whole log per question: it is asked "
                             "max(3, min(queries, budget / events)) questions (default 300000; "
                             "0: not at all)")
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--profile", choices=sorted(PROFILES), default="dense",
                        help="the generator's profile (benchmarks.generate): dense (default) "
                             "or realistic")
    parser.add_argument("--workdir", type=Path, default=None,
                        help="where histories and stores go (default: a temporary folder)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        task, *rest = args.child
        if task == "import":
            child = measure_import(Path(rest[0]), Path(rest[1]))
        elif task == "raw":
            child = measure_raw_insert(Path(rest[0]), Path(rest[1]))
        else:
            child = measure_queries(Path(rest[0]), Path(rest[1]), int(rest[2]), int(rest[3]))
        print(json.dumps(child))
        return 0

    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    work = args.workdir or Path(tempfile.mkdtemp(prefix="tariffs-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    started = datetime.now(UTC)

    def say(message: str) -> None:
        print(f"[{datetime.now(UTC):%H:%M:%S}] {message}", file=sys.stderr, flush=True)

    result: dict[str, Any] = {
        "started": started.isoformat(timespec="seconds"),
        "command": "python -m benchmarks.run " + " ".join(sys.argv[1:] if argv is None
                                                           else argv),
        "machine": {"cpus": os.cpu_count(), "memory_gib": _memory_gib(),
                    "python": platform.python_version(), "platform": platform.platform(),
                    "sqlite": sqlite3.sqlite_version},
        "settings": {"sizes": sizes, "queries": args.queries, "fold_budget": args.fold_budget,
                     "seed": args.seed, "profile": args.profile,
                     "backend": "SQLite (file)"},
        "sizes": {},
    }
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"{started:%Y%m%dT%H%M%SZ}.json"
    try:
        for size in sizes:
            fold_count = 0 if args.fold_budget == 0 else max(
                3, min(args.queries, args.fold_budget // size))
            result["sizes"][str(size)] = run_size(size, work, args.seed, args.queries,
                                                  fold_count, say, args.profile)
            # Written after every size, so a long run that is stopped keeps what it measured.
            path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    finally:
        if not args.keep and args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)
    result["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
    result["targets"] = judge(result["sizes"])
    unavailable: dict[str, str] = {}
    for s in result["sizes"].values():
        for key in ("read_model", "hand_sql", "rebuild"):
            if "unavailable" in s[key]:
                unavailable[key] = s[key]["unavailable"]
    result["not_available"] = [f"{k}: {v}" for k, v in unavailable.items()]
    path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(render(result))
    print(f"\nwritten to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

