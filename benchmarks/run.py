"""One command for the performance figures of issues 4 and 14, all measured in the same run.

    python -m benchmarks.run --sizes 10000,100000,1000000      (or: make bench SIZES=...)
    .ci/postgres.sh python -m benchmarks.run --sizes 10000     (or: make bench-pg SIZES=...)

For each size it generates a synthetic history (benchmarks.generate), then, on each backend
(SQLite, and PostgreSQL when a server is given: --postgres-url or TARIFFS_TEST_POSTGRES_URL,
which .ci/postgres.sh sets), each in a fresh subprocess so that peak memory belongs to one
measurement only:

- import: ``TariffTimeline.import_paths`` into a new store (events/s, peak RSS): a SQLite
  file, or fresh schemas on the PostgreSQL server (one per size, dropped afterwards);
- raw insert: the backend's plain bulk insert of the very rows the import stored (the same
  serialised payloads) into a table with the same definition, in one transaction: ``sqlite3``
  ``executemany``, or psycopg's ``executemany`` (pipelined INSERTs) into the table eventsourcing
  makes; PostgreSQL's COPY of the same rows is recorded too, for reference only;
- queries: latency (median, p99) of a fixed, seeded sample of rate questions through every
  query path this build has: the pure fold, the read model, a hand-written SQL query (the same
  statement through the bare driver of each backend), the last two asked each question in
  turn, the one asked first alternating (`paired_latencies`); and the read model's first
  catch-up after the import (what a new store's first question waits for) and its rebuild,
  both in events/s.

Each backend gets the ratios of the issues: import / raw insert, read model / hand-written SQL
(medians), first catch-up / import and rebuild / import (events/s), and the read-model median
at each size / at the next smaller one. A measurement whose API is not in this build is
reported as "not available on this build" and listed; nothing is estimated. Results go to
stdout and to benchmarks/results/<timestamp>.json.
"""

from __future__ import annotations

import argparse
import itertools
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
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import make_url

from benchmarks.generate import (
    CHAPTERS,
    COUNTRIES,
    FIRST_DAY,
    PROFILES,
    SPAN_DAYS,
    write_history,
)
from benchmarks.handsql import NotAvailable, close_connections, hand_written_query
from tariff_timeline.store.urls import redact

if TYPE_CHECKING:
    from tariff_timeline.store.urls import StoreUrl

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
DEFAULT_SIZES = "10000,100000,1000000"
BACKENDS = ("sqlite", "postgres")
POSTGRES_ENV = "TARIFFS_TEST_POSTGRES_URL"
"""The server .ci/postgres.sh starts (and the tests use)."""
TARGETS = {
    "import_vs_raw_insert": "issue 4: import at least half as fast as the raw insert "
                            "(ratio >= 0.5)",
    "read_model_vs_hand_sql": "issue 4: rate queries within 3 times the hand-written SQL at "
                              "the largest size (ratio <= 3)",
    "latency_growth": "median latency at 1M events at most 1.5 times that at 100k (<= 1.5)",
    "import_memory": "a 1M-event import within 1 GB of memory (peak RSS <= 1024 MB)",
    "import_vs_raw_insert_at_issue_14": "issue 14: import ÷ raw insert at least 0.15",
    "read_model_vs_hand_sql_at_every_size": "issue 14: rate queries within 3 times the "
                                            "hand-written SQL at every size (ratio <= 3)",
    "rebuild_vs_import": "issue 14: rebuild at least half the import rate (ratio >= 0.5)",
    "first_catch_up_vs_import": "issue 14: a new store's first catch-up after its import at "
                                "least half the import rate (ratio >= 0.5)",
}
"""The targets of the issues that set them: issue 14 kept issue 4's and set its own."""


# ---------------------------------------------------------------- measurements (in children)


def _peak_rss_mb() -> float:
    # ru_maxrss is in KiB on Linux: the high-water mark of this (child) process.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure_import(history: Path, url: str) -> dict[str, Any]:
    """Import a history into a new store: seconds, events/s and peak RSS."""
    from tariff_timeline import TariffTimeline

    timeline = TariffTimeline.open(url, load_bundled_if_new=False)
    started = time.perf_counter()
    report = timeline.import_paths([history])
    seconds = time.perf_counter() - started
    timeline.close()
    return {"events": report.appended, "seconds": seconds,
            "events_per_s": report.appended / seconds, "peak_rss_mb": _peak_rss_mb()}


def measure_raw_insert(store: str, target: str) -> dict[str, Any]:
    """The backend's plain bulk insert of the rows the import stored, into an identical
    table, in one transaction: rows/s (the import's ceiling on that backend)."""
    from tariff_timeline.store.urls import parse_store_url

    source, out = parse_store_url(store), parse_store_url(target)
    if source.backend == "postgresql":
        return _raw_insert_postgres(source, out)
    if source.path is None or out.path is None:  # parse_store_url names a SQLite file
        raise ValueError("a SQLite raw insert needs two database files")
    return _raw_insert_sqlite(Path(source.path), Path(out.path))


def _raw_insert_sqlite(db: Path, target: Path) -> dict[str, Any]:
    """sqlite3 executemany of the stored rows into a table made by the store's own DDL."""
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
            "mean_payload_bytes": payload / max(len(rows), 1),
            "method": "sqlite3 executemany, one transaction"}


def _raw_insert_postgres(source: StoreUrl, target: StoreUrl) -> dict[str, Any]:
    """psycopg executemany (pipelined INSERTs) of the stored rows into the table eventsourcing
    makes, in one transaction; and, for reference only, COPY into a copy of that table."""
    import psycopg
    from psycopg import sql

    from tariff_timeline.store.opening import EVENTS_TABLE, connect, open_application
    from tariff_timeline.store.patience import Patience

    # eventsourcing itself makes the target table (columns, primary key, notification index)
    # in a schema of its own, so it is the very table the import wrote to.
    open_application(target, Patience()).close()
    columns = sql.SQL("originator_id, originator_version, topic, state")
    events = sql.Identifier(source.schema or "public", EVENTS_TABLE)
    table = sql.Identifier(target.schema or "public", EVENTS_TABLE)
    with connect(source) as conn:
        rows = conn.execute(sql.SQL("SELECT {} FROM {} ORDER BY notification_id").format(
            columns, events)).fetchall()
    with psycopg.connect(**target.connect_args()) as out:
        started = time.perf_counter()
        with out.transaction(), out.cursor() as cursor:  # one transaction, like the import
            cursor.executemany(sql.SQL("INSERT INTO {} ({}) VALUES (%s, %s, %s, %s)").format(
                table, columns), rows)
        seconds = time.perf_counter() - started
        copied = sql.Identifier(target.schema or "public", "copied_events")
        out.execute(sql.SQL("CREATE TABLE {} (LIKE {} INCLUDING ALL)").format(copied, table))
        out.commit()
        started = time.perf_counter()
        with out.transaction(), out.cursor() as cursor, cursor.copy(
                sql.SQL("COPY {} ({}) FROM STDIN").format(copied, columns)) as copy:
            for row in rows:
                copy.write_row(row)
        copy_seconds = time.perf_counter() - started
    payload = sum(len(r[3]) for r in rows)
    return {"rows": len(rows), "seconds": seconds, "rows_per_s": len(rows) / seconds,
            "mean_payload_bytes": payload / max(len(rows), 1),
            "method": "psycopg executemany (pipelined INSERTs), one transaction",
            "copy_rows_per_s": len(rows) / copy_seconds}


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
    return _summary(times)


def paired_latencies(first: Callable[[Question], object], second: Callable[[Question], object],
                     sample: list[Question]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The latencies of two ways of answering the same sample, each question asked of both in
    turn, the one asked first alternating from question to question.

    Whichever path asks a question second finds the pages it reads already in the operating
    system's cache (and SQLite's) where the first path read them: asked one whole sample
    after the other, the second path was timed warm and the first cold (the hand-written SQL,
    asked after the read model, took 0.45-0.9 ms a question at 100k, and 1.8 ms asked
    first). Alternating gives each path the same share of questions asked first."""
    times: tuple[list[float], list[float]] = ([], [])
    for index, question in enumerate(sample):
        order = ((0, first), (1, second)) if index % 2 == 0 else ((1, second), (0, first))
        for side, ask in order:
            started = time.perf_counter()
            ask(question)
            times[side].append(time.perf_counter() - started)
    return ({**_summary(times[0]), "order": "alternating"},
            {**_summary(times[1]), "order": "alternating"})


def _summary(times: list[float]) -> dict[str, Any]:
    """Median, p99 and mean of a sample's latencies, in milliseconds."""
    ordered = sorted(times)
    # Nearest-rank percentile: with a small sample the p99 is its slowest question.
    p99 = ordered[min(len(ordered) - 1, max(0, -(-99 * len(ordered) // 100) - 1))]
    return {"n": len(times), "median_ms": statistics.median(times) * 1000,
            "p99_ms": p99 * 1000, "mean_ms": statistics.fmean(times) * 1000}


def _answer(result: object) -> object:
    return getattr(result, "additional", result)


def measure_queries(history: Path, url: str, count: int, fold_count: int) -> dict[str, Any]:
    """Latency of every query path this build has, and the read model's throughput: its
    first catch-up after the import, then its rebuild."""
    from tariff_timeline import TariffTimeline

    timeline = TariffTimeline.open(url, load_bundled_if_new=False)
    sample = questions(history, count)
    out: dict[str, Any] = {}
    has_read_model = hasattr(timeline, "rate_on_by_fold")

    def via(method: Callable[..., Any]) -> Callable[[Question], object]:
        return lambda q: method(origin=q.origin, hts=q.hts, entered=q.entered, known=q.known,
                                mfn="2.5")

    rebuild = getattr(timeline, "rebuild_read_model", None)
    if rebuild is not None:
        # Before anything else asks: the import appended without applying, so this catch-up
        # applies the whole history into tables that hold no event.
        started = time.perf_counter()
        applied = timeline.catch_up()
        seconds = time.perf_counter() - started
        out["first_catch_up"] = {"events": applied, "seconds": seconds,
                                 "events_per_s": applied / seconds}
        events = timeline.store.count()
        started = time.perf_counter()
        rebuild()
        seconds = time.perf_counter() - started
        out["rebuild"] = {"events": events, "seconds": seconds, "events_per_s": events / seconds}
    else:
        out["rebuild"] = {"unavailable": "TariffTimeline.rebuild_read_model() is not in this "
                                         "build"}
        out["first_catch_up"] = {"unavailable": "this build has no read model to catch up"}
    fold_method = getattr(timeline, "rate_on_by_fold", None) or timeline.rate_on
    if fold_count > 0:
        out["fold"] = {**_latencies(via(fold_method), sample[:fold_count]),
                       "api": "rate_on_by_fold" if has_read_model else "rate_on (the pure fold)"}
    else:
        out["fold"] = {"skipped": "--fold-budget 0: the pure fold was not asked"}

    def hand(q: Question) -> object:
        return hand_written_query(timeline, q.origin, q.hts, q.entered, q.known)

    hand_api = {"api": "benchmarks.handsql.hand_written_query"}
    if has_read_model:
        try:
            by_model, by_hand = paired_latencies(via(timeline.rate_on), hand, sample)
            out["hand_sql"] = {**by_hand, **hand_api}
        except NotAvailable as exc:
            by_model = _latencies(via(timeline.rate_on), sample)
            out["hand_sql"] = {"unavailable": str(exc)}
        out["read_model"] = {**by_model, "api": "rate_on"}
        disagree = [q for q in sample[:fold_count] if _answer(via(timeline.rate_on)(q))
                    != _answer(via(fold_method)(q))]
        out["read_model"]["disagreements_with_fold"] = len(disagree)
    else:
        out["read_model"] = {"unavailable": "TariffTimeline.rate_on_by_fold() is not in this "
                                            "build, so rate_on is still the pure fold"}
        try:
            out["hand_sql"] = {**_latencies(hand, sample), **hand_api}
        except NotAvailable as exc:
            out["hand_sql"] = {"unavailable": str(exc)}
    close_connections()
    timeline.close()
    out["peak_rss_mb"] = _peak_rss_mb()
    return out


# ---------------------------------------------------------------- orchestration


def _child(task: str, *args: str, module: str = "benchmarks.run") -> dict[str, Any]:
    """Run one measurement in a fresh interpreter (`module`'s `--child` task); it prints its
    result as one JSON line."""
    done = subprocess.run([sys.executable, "-m", module, "--child", task, *args],
                          check=True, stdout=subprocess.PIPE, text=True, cwd=REPO)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def write_result(folder: Path, name: str, result: dict[str, Any]) -> Path:
    """Write a benchmark's result as indented JSON to `folder`/`name`-<UTC time>.json (the
    folder made if need be); return the file's path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return path


def with_schema(server: str, schema: str) -> str:
    """A PostgreSQL store URL on the server's database, in a schema of its own."""
    url = make_url(server).update_query_dict({"schema": schema})
    return url.render_as_string(hide_password=False)


def drop_schemas(server: str, schemas: Sequence[str]) -> None:
    """Drop the benchmark's schemas (and everything in them) from the server's database."""
    from psycopg import sql

    from tariff_timeline.store.opening import connect
    from tariff_timeline.store.urls import parse_store_url

    with connect(parse_store_url(server)) as conn:
        for schema in schemas:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                sql.Identifier(schema)))


def postgres_settings(server: str) -> dict[str, str]:
    """The server's version and the settings that bear on write speed, for the record."""
    from tariff_timeline.store.opening import connect
    from tariff_timeline.store.urls import parse_store_url

    target = parse_store_url(server)
    found = {"server": target.server, "database": str(target.url.database)}
    with connect(target) as conn:
        for name in ("server_version", "fsync", "synchronous_commit", "shared_buffers"):
            row = conn.execute(f"SHOW {name}").fetchone()
            found[name] = str(row[0]) if row else "?"
    return found


@dataclass(frozen=True)
class Place:
    """Where one size's store and its raw-insert table live on one backend."""

    store: str
    raw: str
    server: str | None = None
    """PostgreSQL: the server URL the two schemas are in."""
    schemas: tuple[str, str] | None = None
    """PostgreSQL: the store's schema and the raw insert's."""

    def drop_raw(self) -> None:
        """Remove the raw insert's table, once it is measured."""
        if self.server and self.schemas:
            drop_schemas(self.server, self.schemas[1:])
        else:
            Path(self.raw.removeprefix("sqlite:///")).unlink(missing_ok=True)

    def drop_store(self) -> None:
        """Remove a PostgreSQL store (a SQLite store goes with the work folder)."""
        if self.server and self.schemas:
            drop_schemas(self.server, self.schemas[:1])


def place(backend: str, size: int, work: Path, server: str | None) -> Place:
    """A new, empty place for one size on one backend: SQLite files in the work folder, or
    fresh schemas on the PostgreSQL server (as the tests make one per test)."""
    if backend == "sqlite":
        db, raw = work / f"store-{size}.sqlite", work / f"raw-{size}.sqlite"
        for path in (db, raw):
            path.unlink(missing_ok=True)
        return Place(f"sqlite:///{db}", f"sqlite:///{raw}")
    if server is None:
        raise ValueError("the postgres backend needs a server URL")
    schema = f"bench_{size}_{uuid.uuid4().hex[:8]}"
    return Place(with_schema(server, schema), with_schema(server, f"{schema}_raw"), server,
                 (schema, f"{schema}_raw"))


def _ratio(top: float | None, bottom: float | None) -> float | None:
    return top / bottom if top and bottom else None


def run_backend(size: int, history: Path, where: Place, count: int, fold_count: int,
                say: Callable[[str], None], label: str) -> dict[str, Any]:
    """Every measurement at one history size on one backend, with the ratios between them."""
    say(f"{size} {label}: importing")
    imported = _child("import", str(history), where.store)
    say(f"{size} {label}: raw insert")
    try:
        raw_insert = _child("raw", where.store, where.raw)
    finally:
        where.drop_raw()
    say(f"{size} {label}: queries")
    queries = _child("queries", str(history), where.store, str(count), str(fold_count))
    measured: dict[str, Any] = {"store": redact(where.store), "import": imported,
                                "raw_insert": raw_insert, **queries}
    measured["import_vs_raw_insert"] = imported["events_per_s"] / raw_insert["rows_per_s"]
    measured["read_model_vs_hand_sql"] = _ratio(_median(measured, "read_model"),
                                                _median(measured, "hand_sql"))
    measured["rebuild_vs_import"] = _ratio(queries["rebuild"].get("events_per_s"),
                                           imported["events_per_s"])
    measured["first_catch_up_vs_import"] = _ratio(
        queries["first_catch_up"].get("events_per_s"), imported["events_per_s"])
    return measured


def run_size(size: int, work: Path, seed: int, count: int, fold_count: int,
             say: Callable[[str], None], profile: str = "dense",
             backends: Sequence[str] = ("sqlite",), server: str | None = None,
             keep: bool = False) -> dict[str, Any]:
    """Every measurement at one history size, on every backend asked for (one history,
    generated once, imported into each)."""
    history = work / f"history-{size}"
    say(f"{size}: generating")
    started = time.perf_counter()
    files = write_history(size, history, seed, profile=profile)
    generated = {"seconds": time.perf_counter() - started, "files": len(files),
                 "bytes": sum(f.stat().st_size for f in files)}
    measured: dict[str, Any] = {}
    for backend in backends:
        where = place(backend, size, work, server)
        try:
            measured[backend] = run_backend(size, history, where, count, fold_count, say,
                                            backend)
        finally:
            if not keep:
                where.drop_store()
    return {"events": size, "generate": generated, "backends": measured}


def _median(size: dict[str, Any], path: str) -> float | None:
    value = size.get(path, {}).get("median_ms")
    return float(value) if value is not None else None


def add_growth(per_size: dict[str, dict[str, Any]]) -> None:
    """Each size's read-model median over that of the next smaller size measured."""
    ordered = sorted(per_size, key=int)
    for smaller, larger in itertools.pairwise(ordered):
        ratio = _ratio(_median(per_size[larger], "read_model"),
                       _median(per_size[smaller], "read_model"))
        per_size[larger]["read_model_growth"] = {"over": int(smaller), "ratio": ratio}


def judge(sizes: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Each target of the issue on one backend (its measurements by size): the measured
    figure, met or missed, or not available."""
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
        worst_import, _ = _worst(sizes, "import_vs_raw_insert", higher_is_better=True)
        add("import_vs_raw_insert", worst_import, 0.5, True,
            "worst ratio over the sizes measured")
        big = sizes[largest]
        add("read_model_vs_hand_sql", big.get("read_model_vs_hand_sql"), 3.0, False,
            f"median latencies at {largest} events")
        add("import_vs_raw_insert_at_issue_14", worst_import, 0.15, True,
            "worst ratio over the sizes measured")
        worst, at = _worst(sizes, "read_model_vs_hand_sql", higher_is_better=False)
        add("read_model_vs_hand_sql_at_every_size", worst, 3.0, False,
            f"worst ratio over the sizes measured, at {at} events")
        worst, at = _worst(sizes, "rebuild_vs_import", higher_is_better=True)
        add("rebuild_vs_import", worst, 0.5, True,
            f"worst ratio over the sizes measured, at {at} events")
        worst, at = _worst(sizes, "first_catch_up_vs_import", higher_is_better=True)
        add("first_catch_up_vs_import", worst, 0.5, True,
            f"worst ratio over the sizes measured, at {at} events")
    if "100000" in sizes and "1000000" in sizes:
        low, high = sizes["100000"], sizes["1000000"]
        add("latency_growth", _ratio(_median(high, "read_model"), _median(low, "read_model")),
            1.5, False, "read-model median at 1M / at 100k")
        fold_low, fold_high = _median(low, "fold"), _median(high, "fold")
        if fold_low and fold_high:
            verdicts[-1]["pure_fold_growth"] = fold_high / fold_low
        add("import_memory", float(high["import"]["peak_rss_mb"]), 1024.0, False,
            "peak RSS of the import subprocess at 1M events")
    else:
        growth = sizes[largest].get("read_model_growth") if largest is not None else None
        if growth and growth["ratio"] is not None:
            # Not the target's sizes, so no verdict; the ratio still says how it grows.
            verdicts.append({"target": "latency_growth", "wanted": TARGETS["latency_growth"],
                             "status": "not the target's sizes", "measured": growth["ratio"],
                             "note": f"read-model median at {largest} / at {growth['over']} "
                                     "events; the target needs sizes 100000 and 1000000"})
        else:
            verdicts.append({"target": "latency_growth", "wanted": TARGETS["latency_growth"],
                             "status": "not measured", "note": "needs sizes 100000 and 1000000"})
        verdicts.append({"target": "import_memory", "wanted": TARGETS["import_memory"],
                         "status": "not measured", "note": "needs size 1000000"})
    return verdicts


def _worst(sizes: dict[str, dict[str, Any]], key: str, higher_is_better: bool
           ) -> tuple[float | None, str | None]:
    """The worst of a ratio over the sizes that have it, and the size it was at (None, None:
    no size has it)."""
    found = [(float(s[key]), size) for size, s in sizes.items() if s.get(key) is not None]
    if not found:
        return None, None
    return min(found) if higher_is_better else max(found)


def _fmt(value: object, digits: int = 1) -> str:
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    if value is None:
        return "-"
    return str(value)


def _latency(entry: dict[str, Any]) -> str:
    if "unavailable" in entry:
        return "not available on this build"
    if "skipped" in entry:
        return "not asked (--fold-budget 0)"
    return f"{entry['median_ms']:,.1f} / {entry['p99_ms']:,.1f} (n={entry['n']})"


def render(result: dict[str, Any]) -> str:
    """The results as a plain-text table, a row per backend and size."""
    lines = [f"Tariff Timeline benchmark ({result['settings'].get('profile', 'dense')} "
             f"profile), {result['started']} "
             f"({result['machine']['cpus']} CPUs, {result['machine']['memory_gib']} GiB, "
             f"Python {result['machine']['python']})", ""]
    for backend, described in result["settings"]["backends"].items():
        lines.append(f"  {backend}: {described}")
    lines.append("")
    rows = [("backend", "events", "import ev/s", "raw insert rows/s", "import ÷ raw",
             "import peak RSS MB", "fold ms median / p99", "read model ms median / p99",
             "hand SQL ms median / p99", "model ÷ SQL", "1st catch-up ÷ import",
             "rebuild ev/s", "rebuild ÷ import",
             "median ÷ smaller size")]
    copies: list[str] = []
    for backend in result["settings"]["backends"]:
        for size, entry in sorted(result["sizes"].items(), key=lambda kv: int(kv[0])):
            s = entry["backends"].get(backend)
            if s is None:
                continue
            rebuild = s["rebuild"]
            growth = s.get("read_model_growth")
            rows.append((
                backend, _fmt(int(size)), _fmt(s["import"]["events_per_s"], 0),
                _fmt(s["raw_insert"]["rows_per_s"], 0), _fmt(s["import_vs_raw_insert"], 4),
                _fmt(s["import"]["peak_rss_mb"], 0), _latency(s["fold"]),
                _latency(s["read_model"]), _latency(s["hand_sql"]),
                _fmt(s.get("read_model_vs_hand_sql"), 2),
                _fmt(s.get("first_catch_up_vs_import"), 3),
                "not available on this build" if "unavailable" in rebuild
                else _fmt(rebuild["events_per_s"], 0),
                _fmt(s.get("rebuild_vs_import"), 3),
                f"{_fmt(growth['ratio'], 2)} (÷ {growth['over']:,})" if growth else "-"))
            if "copy_rows_per_s" in s["raw_insert"]:
                copies.append(f"{backend} {int(size):,}: {s['raw_insert']['copy_rows_per_s']:,.0f}")
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for n, row in enumerate(rows):
        lines.append("  ".join(cell.rjust(w) for cell, w in zip(row, widths, strict=True)))
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    methods = {backend: entry["backends"][backend]["raw_insert"].get("method", "?")
               for entry in result["sizes"].values() for backend in entry["backends"]}
    lines += ["", "Raw insert: " + "; ".join(f"{b}: {m}" for b, m in methods.items()) + "."]
    if copies:
        lines.append("For reference, not the baseline: COPY of the same rows, rows/s: "
                     + ", ".join(copies) + ".")
    for backend, verdicts in result["targets"].items():
        lines += ["", f"Targets ({backend}):"]
        for v in verdicts:
            measured = f" measured {_fmt(v['measured'], 4)}" if "measured" in v else ""
            factor = f", off by a factor of {_fmt(v['factor'], 1)}" \
                if v.get("status") == "missed" else ""
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


def choose_backends(asked: str | None, server: str | None) -> list[str]:
    """The backends to measure: those asked for, else SQLite, and PostgreSQL too when a
    server is given; ValueError names one that cannot be measured."""
    if asked is None:
        return ["sqlite", "postgres"] if server else ["sqlite"]
    chosen = [b.strip() for b in asked.split(",") if b.strip()]
    unknown = sorted(set(chosen) - set(BACKENDS))
    if unknown or not chosen:
        raise ValueError(f"unknown backend(s) {', '.join(unknown) or '(none)'}: "
                         f"choose from {', '.join(BACKENDS)}")
    if "postgres" in chosen and not server:
        raise ValueError(f"the postgres backend needs a server: --postgres-url or "
                         f"{POSTGRES_ENV} (.ci/postgres.sh starts one and sets it)")
    return list(dict.fromkeys(chosen))


def main(argv: list[str] | None = None) -> int:
    """Command line: run the benchmark (or, with --child, one measurement)."""
    parser = argparse.ArgumentParser(description="Tariff Timeline benchmarks (issue 4)")
    parser.add_argument("--sizes", default=DEFAULT_SIZES,
                        help=f"comma-separated history sizes (default {DEFAULT_SIZES})")
    parser.add_argument("--backends", default=None,
                        help="comma-separated: sqlite, postgres (default: sqlite, and postgres "
                             f"too when --postgres-url or {POSTGRES_ENV} names a server)")
    parser.add_argument("--postgres-url", default=os.environ.get(POSTGRES_ENV),
                        help="a PostgreSQL server URL (postgresql://user@host:port/db); each "
                             f"size gets fresh schemas there, dropped after (default "
                             f"${POSTGRES_ENV})")
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
                        help="where histories and SQLite stores go (default: a temporary "
                             "folder)")
    parser.add_argument("--keep", action="store_true",
                        help="keep the work folder and the PostgreSQL stores' schemas")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        task, *rest = args.child
        if task == "import":
            child = measure_import(Path(rest[0]), rest[1])
        elif task == "raw":
            child = measure_raw_insert(rest[0], rest[1])
        else:
            child = measure_queries(Path(rest[0]), rest[1], int(rest[2]), int(rest[3]))
        print(json.dumps(child))
        return 0

    try:
        backends = choose_backends(args.backends, args.postgres_url)
    except ValueError as exc:
        parser.error(str(exc))
    server = args.postgres_url if "postgres" in backends else None
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    work = (args.workdir or Path(tempfile.mkdtemp(prefix="tariffs-bench-"))).resolve()
    work.mkdir(parents=True, exist_ok=True)
    started = datetime.now(UTC)

    def say(message: str) -> None:
        print(f"[{datetime.now(UTC):%H:%M:%S}] {message}", file=sys.stderr, flush=True)

    described = {"sqlite": f"SQLite {sqlite3.sqlite_version} (a file; eventsourcing's WAL "
                           "journal, default synchronous)"}
    if server is not None:
        pg = postgres_settings(server)
        described["postgres"] = (
            f"PostgreSQL {pg['server_version']} at {pg['server']} (database {pg['database']}, "
            f"a fresh schema per size; fsync={pg['fsync']}, "
            f"synchronous_commit={pg['synchronous_commit']}, "
            f"shared_buffers={pg['shared_buffers']})")
    result: dict[str, Any] = {
        "started": started.isoformat(timespec="seconds"),
        "command": "python -m benchmarks.run " + " ".join(sys.argv[1:] if argv is None
                                                           else argv),
        "machine": {"cpus": os.cpu_count(), "memory_gib": _memory_gib(),
                    "python": platform.python_version(), "platform": platform.platform(),
                    "sqlite": sqlite3.sqlite_version},
        "settings": {"sizes": sizes, "queries": args.queries, "fold_budget": args.fold_budget,
                     "seed": args.seed, "profile": args.profile,
                     "backends": {b: described[b] for b in backends}},
        "sizes": {},
    }
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"{started:%Y%m%dT%H%M%SZ}.json"
    try:
        for size in sizes:
            fold_count = 0 if args.fold_budget == 0 else max(
                3, min(args.queries, args.fold_budget // size))
            result["sizes"][str(size)] = run_size(size, work, args.seed, args.queries,
                                                  fold_count, say, args.profile, backends,
                                                  server, args.keep)
            # Written after every size, so a long run that is stopped keeps what it measured.
            path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    finally:
        if not args.keep and args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)
    result["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
    result["targets"] = {}
    unavailable: dict[str, str] = {}
    for backend in backends:
        per_size = {size: entry["backends"][backend]
                    for size, entry in result["sizes"].items()}
        add_growth(per_size)
        result["targets"][backend] = judge(per_size)
        for s in per_size.values():
            for key in ("read_model", "hand_sql", "first_catch_up", "rebuild"):
                if "unavailable" in s[key]:
                    unavailable[f"{key} ({backend})"] = s[key]["unavailable"]
    result["not_available"] = [f"{k}: {v}" for k, v in unavailable.items()]
    path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(render(result))
    print(f"\nwritten to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
