"""How long the questions other than a rate take, by each query path, on one store.

    python -m benchmarks.queries --db sqlite:////tmp/rmq.db [--repeat 3]

The store must hold a history already (`tariffs import DIR --db URL`). The read model is
brought up to date first, outside the timings; then diff, series, history (of a measure and
of a cell), sources, coverage and schedule are each timed by the read model and by the fold of
the whole log, in the same run (the diff both over --before to --after and over the week
before --after) (the machine is shared: compare ratios, not seconds across
runs). Each figure is the median of `--repeat` runs; the first run of each question is a
warm-up and not counted.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tariff_timeline import QueryPath, TariffTimeline
from tariff_timeline.readmodel.tables import EventRow


def _busiest_measure(timeline: TariffTimeline) -> str:
    """The measure with the most events (the longest history to tell)."""
    if timeline.read_model is None:
        raise SystemExit("the store has no read model")
    with Session(timeline.read_model.engine) as session:
        subject = session.execute(
            select(EventRow.subject).where(EventRow.subject.like("measure:%"))
            .group_by(EventRow.subject).order_by(func.count().desc()).limit(1)).scalar()
    if subject is None:
        raise SystemExit("the store holds no measure")
    return str(subject).split(":", 1)[1]


def _time(call: Callable[[], Any], repeat: int) -> float:
    call()  # warm-up: caches of decoded rows, the first catch-up
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> None:
    """Time each question by both query paths and print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--db", required=True, help="the store's URL")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--origin", default="CN")
    parser.add_argument("--hts", default="8703.10.10")
    parser.add_argument("--measure", default=None,
                        help="the measure whose history is timed (default: the busiest)")
    parser.add_argument("--before", default="2025-03-01")
    parser.add_argument("--after", default="2025-09-01")
    parser.add_argument("--only", default="", help="comma-separated question names")
    parser.add_argument("--paths", default="model,fold",
                        help="which query paths to time: model, fold or both")
    args = parser.parse_args(argv)
    timeline = TariffTimeline.open(args.db, load_bundled_if_new=False)
    try:
        started = time.perf_counter()
        applied = timeline.catch_up()
        print(f"catch-up: {applied} events in {time.perf_counter() - started:.1f} s "
              f"(not counted)")
        measure = args.measure or _busiest_measure(timeline)
        # A week's changes: a diff reads what may differ between its sides, not everything.
        week = (date.fromisoformat(args.after) - timedelta(days=7)).isoformat()
        questions: dict[str, Callable[[], Any]] = {
            "diff": lambda: timeline.diff(entered=(args.before, args.after)),
            "diff of a week": lambda: timeline.diff(entered=(week, args.after)),
            "diff --origin --hts": lambda: timeline.diff(
                entered=(args.before, args.after), origins=[args.origin], hts=[args.hts]),
            "series": lambda: timeline.rate_series(
                origin=args.origin, hts=args.hts, start="2025-01-01", end="2026-01-01"),
            f"history {measure}": lambda: timeline.history(measure),
            "cell history --origin --hts": lambda: timeline.history(
                origin=args.origin, hts=args.hts),
            "sources": timeline.sources,
            "coverage": lambda: timeline.coverage(args.after),
            "schedule": lambda: timeline.schedule_as_of(entered=args.after),
        }
        only = [q for q in args.only.split(",") if q]
        print(f"{'question':32} {'read model s':>12} {'fold s':>9} {'ratio':>7}")
        for name, call in questions.items():
            if only and not any(name.startswith(o) for o in only):
                continue
            by_model = by_fold = float("nan")
            if "model" in args.paths:
                timeline.query_path = QueryPath.READ_MODEL
                by_model = _time(call, args.repeat)
            if "fold" in args.paths:
                timeline.query_path = QueryPath.FOLD
                by_fold = _time(call, args.repeat)
            print(f"{name:32} {by_model:12.3f} {by_fold:9.3f} {by_fold / by_model:7.1f}x",
                  flush=True)
    finally:
        timeline.close()


if __name__ == "__main__":
    main()
