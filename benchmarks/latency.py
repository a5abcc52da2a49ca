"""How long rate questions take on one store that already holds a history, by the read model
and by the hand-written SQL, in one run.

    python -m benchmarks.latency --db sqlite:////tmp/1m.sqlite --history DIR [--count 200]

`DIR` is the generated history the store was imported from: the questions are the benchmark's
own sample (`benchmarks.run.questions`, same seed), so the figures compare with a
`benchmarks.run` at that size without importing and rebuilding again (each question asked of
both paths in turn, the one asked first alternating: `benchmarks.run.paired_latencies`). The
read model is brought up to date first, outside the timings. `--rounds 2` asks the sample
again (a warm cache); `--gc-off` turns Python's cyclic garbage collector off, to tell its
pauses from the queries' own time (a diagnosis, not how the application runs).
"""

from __future__ import annotations

import argparse
import gc
import json
import time
from pathlib import Path

from benchmarks.handsql import close_connections, hand_written_query
from benchmarks.run import paired_latencies, questions
from tariff_timeline import TariffTimeline


def main(argv: list[str] | None = None) -> None:
    """Time the sample by both paths and print one JSON object."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--db", required=True, help="the store's URL")
    parser.add_argument("--history", required=True, type=Path,
                        help="the generated history the store holds")
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--gc-off", action="store_true")
    args = parser.parse_args(argv)
    timeline = TariffTimeline.open(args.db, load_bundled_if_new=False)
    try:
        started = time.perf_counter()
        timeline.catch_up()
        caught_up = time.perf_counter() - started
        sample = questions(args.history, args.count)
        if args.gc_off:
            gc.disable()
        rounds = []
        for _ in range(args.rounds):
            by_model, by_hand = paired_latencies(
                lambda q: timeline.rate_on(origin=q.origin, hts=q.hts, entered=q.entered,
                                           known=q.known, mfn="2.5"),
                lambda q: hand_written_query(timeline, q.origin, q.hts, q.entered, q.known),
                sample)
            rounds.append({"read_model": by_model, "hand_sql": by_hand})
        print(json.dumps({"db": args.db, "catch_up_s": round(caught_up, 1),
                          "gc": "off" if args.gc_off else "on", "rounds": rounds}))
    finally:
        close_connections()
        timeline.close()


if __name__ == "__main__":
    main()
