"""What an import cannot go below: the stages every import must run, each timed alone, in the
same run as the import itself and the backend's raw insert (issue 14's import ÷ raw insert).

    python -m benchmarks.floors --events 100000 [--profile realistic] [--seed 4] [--rounds 3]
        [--postgres-url URL] [--workdir DIR] [--out DIR]

An event is recorded only once it has been read, validated by the project's event models
(the importer's own discriminated union), written as canonical JSON and chained by SHA-256,
and inserted (the standards ask all four). The stages, timed over the whole generated
history a file at a time (`measure_stages`, in a fresh interpreter, the least of `--rounds`
passes for each stage):

- read: the files' text; parse: `json.loads` of each file (the importer locates every event's
  line as it reads, which costs more: the floor leaves that out);
- validate: `TypeAdapter(AnyEvent).validate_python` of each event;
- encode: `store.mapper.canonical_bytes`, the bytes the chain covers;
- chain: `store.chain.link` and `store.mapper.entry_state`, the link and the stored state.

The raw insert is `benchmarks.run`'s (the stored rows copied into an identical table, in one
transaction), and inserting is a stage of the floor too. The floor is their sum; its ceiling,
(events ÷ floor seconds) ÷ raw insert rows/s, is the best import ÷ raw insert an import could
reach that did nothing else: no fold, no lifecycle, reference or duplicate checks, no spool.
Each backend in one run: the stages once (they touch no database), then on each backend the
import (`benchmarks.run`'s, a new store) and its raw insert.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.generate import PROFILES, write_history
from benchmarks.run import POSTGRES_ENV, RESULTS, _child, choose_backends, place, write_result
from tariff_timeline.store.urls import redact

IMPORT_TARGET = 0.15
"""Issue 14's target for import ÷ raw insert."""

STAGES = ("read", "parse", "validate", "encode", "chain")
"""The stages timed in this process, in the order an import runs them."""


def measure_stages(history: Path, rounds: int = 3) -> dict[str, Any]:
    """Seconds spent in each required stage over every event file of a history, a file at a
    time (so only one file's events are held), the least of `rounds` passes for each stage,
    and how many events there were.

    The least, because a floor claims what no import can go below: on a shared machine a
    pass runs up to a fifth slower than another, and a floor raised by a slow pass would set
    the ceiling too low. (Later passes also find the validators' date caches filled, which
    can only lower the floor.)"""
    passes = [_stage_pass(history) for _ in range(max(rounds, 1))]
    return {"events": passes[0]["events"], "stored_bytes": passes[0]["stored_bytes"],
            "rounds": len(passes),
            "seconds": {stage: min(p["seconds"][stage] for p in passes) for stage in STAGES},
            "every_round": [p["seconds"] for p in passes]}


def _stage_pass(history: Path) -> dict[str, Any]:
    """One pass of the stages over every event file of a history."""
    from pydantic import TypeAdapter

    from tariff_timeline.events import AnyEvent, PolicyEvent
    from tariff_timeline.importing.files import event_files
    from tariff_timeline.store.chain import GENESIS, link
    from tariff_timeline.store.mapper import canonical_bytes, entry_state

    adapter: TypeAdapter[PolicyEvent] = TypeAdapter(AnyEvent)
    seconds = dict.fromkeys(STAGES, 0.0)
    # One recorded instant for the whole history, as an import writes it.
    when = datetime.now(UTC).isoformat()
    previous, position, stored = GENESIS, 0, 0

    def timed(stage: str, started: float) -> float:
        now = time.perf_counter()
        seconds[stage] += now - started
        return now

    for path in event_files([history]):
        started = time.perf_counter()
        text = path.read_text(encoding="utf-8")
        started = timed("read", started)
        data = json.loads(text)
        items = data["events"] if isinstance(data, dict) else data
        started = timed("parse", started)
        events = [adapter.validate_python(item) for item in items]
        started = timed("validate", started)
        encoded = [canonical_bytes(event) for event in events]
        started = timed("encode", started)
        for event, event_bytes in zip(events, encoded, strict=True):
            position += 1
            previous = link(previous, event.TOPIC, position, when, event_bytes)
            stored += len(entry_state(event_bytes, when, previous))
        timed("chain", started)
    return {"events": position, "stored_bytes": stored,
            "seconds": seconds}


def floors(stages: dict[str, Any], imported: dict[str, Any], raw: dict[str, Any]
           ) -> dict[str, Any]:
    """The floor of an import on one backend (its stages and the raw insert of its rows),
    the ceiling it sets on import ÷ raw insert, and where the import stands against both."""
    events = stages["events"]
    raw_seconds = raw["rows"] / raw["rows_per_s"]
    floor_seconds = sum(stages["seconds"].values()) + raw_seconds
    ceiling = events / floor_seconds / raw["rows_per_s"]
    return {
        "floor_seconds": floor_seconds,
        "raw_insert_seconds": raw_seconds,
        "import_seconds": imported["seconds"],
        "import_vs_raw_insert": imported["events_per_s"] / raw["rows_per_s"],
        "ceiling_import_vs_raw_insert": ceiling,
        "import_over_floor": imported["seconds"] / floor_seconds,
        "target": IMPORT_TARGET,
        "target_within_ceiling": ceiling >= IMPORT_TARGET,
    }


def run(events: int, work: Path, seed: int, profile: str, backends: list[str],
        server: str | None, rounds: int = 3) -> dict[str, Any]:
    """Generate a history, time its stages, then import it and insert its rows raw on each
    backend: one JSON-ready result (each measurement in a fresh interpreter)."""
    history = work / f"history-{events}"
    write_history(events, history, seed, profile=profile)
    stages = _child("stages", str(history), str(rounds), module="benchmarks.floors")
    measured: dict[str, Any] = {}
    for backend in backends:
        where = place(backend, events, work, server)
        try:
            imported = _child("import", str(history), where.store)
            try:
                raw = _child("raw", where.store, where.raw)
            finally:
                where.drop_raw()
        finally:
            where.drop_store()
        measured[backend] = {"store": redact(where.store), "import": imported,
                             "raw_insert": raw, **floors(stages, imported, raw)}
    return {"events": events, "seed": seed, "profile": profile, "stages": stages,
            "backends": measured}


def report(result: dict[str, Any]) -> str:
    """The result as lines a person reads: the stages, then each backend's floor."""
    stages = result["stages"]
    lines = [f"{result['events']:,} events ({result['profile']}, seed {result['seed']}): "
             + ", ".join(f"{name} {value:.2f} s" for name, value in stages["seconds"].items())]
    for backend, found in result["backends"].items():
        verdict = ("within the ceiling" if found["target_within_ceiling"]
                   else "above the ceiling: no import that validates, encodes, chains and "
                        "inserts every event reaches it")
        lines.append(
            f"{backend}: raw insert {found['raw_insert_seconds']:.2f} s, floor "
            f"{found['floor_seconds']:.2f} s, import {found['import_seconds']:.2f} s "
            f"({found['import_over_floor']:.2f} × the floor); import ÷ raw insert "
            f"{found['import_vs_raw_insert']:.3f}, ceiling "
            f"{found['ceiling_import_vs_raw_insert']:.3f}; target {found['target']} "
            f"{verdict}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command line: measure the floors (or, with --child, one measurement)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--profile", choices=sorted(PROFILES), default="realistic")
    parser.add_argument("--rounds", type=int, default=3,
                        help="passes over the stages; each stage's least is its floor "
                             "(default 3)")
    parser.add_argument("--backends", default=None,
                        help="comma-separated: sqlite, postgres (default: sqlite, and postgres "
                             f"too when --postgres-url or {POSTGRES_ENV} names a server)")
    parser.add_argument("--postgres-url", default=os.environ.get(POSTGRES_ENV))
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=RESULTS,
                        help="the folder the JSON result is written to (default "
                             "benchmarks/results)")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        task, *rest = args.child
        if task != "stages":
            parser.error(f"unknown child task {task!r}")
        print(json.dumps(measure_stages(Path(rest[0]), int(rest[1]))))
        return 0
    try:
        backends = choose_backends(args.backends, args.postgres_url)
    except ValueError as exc:
        parser.error(str(exc))
    with tempfile.TemporaryDirectory(prefix="tariffs-floors-") as scratch:
        work = args.workdir or Path(scratch)
        work.mkdir(parents=True, exist_ok=True)
        result = run(args.events, work, args.seed, args.profile, backends, args.postgres_url,
                     args.rounds)
    out = write_result(args.out, "floors", result)
    print(report(result))
    print(f"written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
