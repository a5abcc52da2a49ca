"""How many layers bear on one (origin, HTS) cell: the measure for issue 14's realistic profile.

    python -m benchmarks.cells                       (the bundled data, data/)
    python -m benchmarks.cells --history /tmp/h-10k  (a generated history, e.g. --profile realistic)

The history is imported into a temporary SQLite store (``TariffTimeline.open`` and
``import_paths``). A seeded sample of cells is drawn: 40 origins x 500 HTS statistical lines
(the 10-digit lines of the first HTS revision the history records; a history without one gives
the 10-digit codes its scopes name), and at each of a few entry dates a seeded subset of that
grid (``--cells`` a date) is asked, with everything known. For each cell it counts

- layers: the measures whose scope covers the cell (``rate_on(...).layers``, every status);
- applied: those of them applied;
- exemptions: exemptions in effect at the date whose scope covers the cell (or part of it) and
  whose selector names one of its layers (by measure, program or authority);
- quotas: quotas open at the date on one of its layers whose scope covers the cell;

and prints the distribution of each (median, p90, p99, max, mean) over all cells asked, over
all dates and per date. A code that is not a line of the revision in force at a date is counted
as refused and left out. Results go to benchmarks/results/cells-<label>-<timestamp>.json.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from benchmarks.run import write_result
from tariff_timeline import TariffTimeline
from tariff_timeline.domain.errors import InvalidInput
from tariff_timeline.domain.paint import paint_at
from tariff_timeline.domain.rules import scope_matches
from tariff_timeline.events.values import Selector
from tariff_timeline.projections import rate_on
from tariff_timeline.projections.answers import Layer

RESULTS = Path(__file__).resolve().parent / "results"
DATA = Path(__file__).resolve().parents[1] / "data"
ORIGINS: tuple[str, ...] = (
    "CN", "MX", "CA", "JP", "DE", "KR", "VN", "TW", "IN", "GB", "IT", "FR", "IE", "CH", "TH",
    "MY", "SG", "BR", "ID", "NL", "IL", "AU", "PH", "BE", "ES", "AT", "SE", "CL", "CO", "ZA",
    "TR", "SA", "AE", "KH", "BD", "PK", "AR", "NZ", "RU", "NG",
)  # fmt: skip
"""40 origins: the largest US trading partners, and a few the bundled measures single out."""
BUNDLED_DATES = ("2018-07-15", "2019-10-01", "2020-06-01", "2024-01-01", "2025-04-10",
                 "2025-08-15", "2026-03-01")
"""Entry dates across the bundled history: Section 232/301 years, 2024, and the 2025-26
IEEPA and Section 232 wave (before and after the first HTS revision the data records)."""
KEYS = ("layers", "applied", "exemptions", "quotas", "bearing")


def generated_dates(count: int = 7) -> list[str]:
    """Entry dates spread over a generated history's span (benchmarks.generate)."""
    from benchmarks.generate import FIRST_DAY, SPAN_DAYS

    return [(FIRST_DAY + timedelta(days=(2 * k + 1) * SPAN_DAYS // (2 * count))).isoformat()
            for k in range(count)]


def _lines(history: Path, count: int, seed: int) -> list[str]:
    """A seeded sample of 10-digit lines: of the first HTS revision the history records, or
    else the 10-digit codes its scopes name."""
    first_revision: str | None = None
    lines: set[str] = set()
    named: set[str] = set()
    files = sorted(history.rglob("*.json")) if history.is_dir() else [history]
    for path in files:
        try:
            events = json.loads(path.read_text(encoding="utf-8")).get("events", [])
        except (ValueError, AttributeError):
            continue
        for event in events:
            if event.get("type") == "NomenclatureRevised":
                if first_revision is None:
                    first_revision = event["revision"]
                if event["revision"] == first_revision:
                    lines.update(line["code"] for line in event.get("added", ())
                                 if len(line["code"]) == 10)
            for code in (event.get("scope") or {}).get("products", ()):
                if len(code) == 10:
                    named.add(code)
    pool = sorted(lines or named)
    return sorted(random.Random(seed).sample(pool, min(count, len(pool))))


def _picks(selector: Selector, layers: Sequence[Layer]) -> bool:
    return any(layer.measure in selector.measures or layer.program in selector.programs
               or layer.authority in selector.authorities for layer in layers)


def count_cell(timeline: TariffTimeline, origin: str, hts: str,
               entered: str) -> dict[str, int] | None:
    """What bears on one cell at one entry date (everything known), or None when refused."""
    coordinate = timeline.coordinate(entered)
    with timeline._answering() as model:
        sliced, entries = timeline._timeline(model, coordinate, origin, hts)
        try:
            answer = rate_on(sliced, entries, origin=origin, hts=hts, coordinate=coordinate)
        except InvalidInput:
            return None
    at = coordinate.effective
    layers = answer.layers
    ids = {layer.measure for layer in layers}
    exemptions = sum(
        1 for e in sliced.exemptions.values()
        if (p := e.active_at(at)) is not None and p.value
        and scope_matches(e.scope, origin, hts) != "no" and _picks(e.applies_to, layers))
    quotas = sum(
        1 for q in sliced.quotas.values()
        if q.measure in ids and (p := paint_at(q.active, at)) is not None and p.value
        and scope_matches(q.scope, origin, hts) != "no")
    return {"layers": len(layers), "applied": sum(1 for layer in layers if layer.applied),
            "exemptions": exemptions, "quotas": quotas,
            "bearing": len(layers) + exemptions + quotas}


def distribution(values: Sequence[int]) -> dict[str, float]:
    """Median, p90, p99 (nearest rank), max and mean of counts."""
    if not values:
        return {"n": 0}
    ordered = sorted(values)

    def rank(p: int) -> int:
        return ordered[min(len(ordered) - 1, max(0, -(-p * len(ordered) // 100) - 1))]

    return {"n": len(ordered), "median": statistics.median(ordered), "p90": rank(90),
            "p99": rank(99), "max": ordered[-1], "mean": round(statistics.fmean(ordered), 3)}


def measure(history: Path, dates: Sequence[str], origins: Sequence[str], lines: int,
            cells: int, seed: int = 14) -> dict[str, Any]:
    """Import a history into a temporary store and count what bears on sampled cells."""
    codes = _lines(history, lines, seed)
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="tariffs-cells-") as work:
        timeline = TariffTimeline.open(f"sqlite:///{Path(work) / 'cells.sqlite'}",
                                       load_bundled_if_new=False)
        started = time.perf_counter()
        report = timeline.import_paths([history])
        imported = time.perf_counter() - started
        timeline.catch_up()
        per_date: dict[str, dict[str, Any]] = {}
        every: dict[str, list[int]] = {key: [] for key in KEYS}
        refused = 0
        started = time.perf_counter()
        for entered in dates:
            grid = [(o, c) for o in origins for c in codes]
            asked = grid if cells >= len(grid) else rng.sample(grid, cells)
            counts: dict[str, list[int]] = {key: [] for key in KEYS}
            for origin, code in asked:
                found = count_cell(timeline, origin, code, entered)
                if found is None:
                    refused += 1
                    continue
                for key in KEYS:
                    counts[key].append(found[key])
                    every[key].append(found[key])
            per_date[entered] = {key: distribution(v) for key, v in counts.items()}
        asked_seconds = time.perf_counter() - started
        timeline.close()
    return {"history": str(history), "events": report.appended,
            "import_seconds": round(imported, 1), "count_seconds": round(asked_seconds, 1),
            "origins": len(origins), "lines": len(codes), "cells_per_date": cells,
            "dates": list(dates), "refused": refused,
            "all": {key: distribution(v) for key, v in every.items()}, "per_date": per_date}


def render(result: dict[str, Any]) -> str:
    """The distributions as a plain-text table."""
    out = [f"{result['history']}: {result['events']:,} events, {result['origins']} origins x "
           f"{result['lines']} lines, {result['cells_per_date']} cells at each of "
           f"{len(result['dates'])} dates ({result['refused']} refused)",
           f"{'':>12} {'what':>10} {'median':>7} {'p90':>5} {'p99':>5} {'max':>5} {'mean':>7}"]
    for label, block in [("all dates", result["all"]), *result["per_date"].items()]:
        for key in KEYS:
            d = block[key]
            if d.get("n"):
                out.append(f"{label:>12} {key:>10} {d['median']:>7} {d['p90']:>5} "
                           f"{d['p99']:>5} {d['max']:>5} {d['mean']:>7}")
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: measure and print the distribution, and write it as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--history", type=Path, default=DATA,
                        help="a folder (or file) of events to import (default: data/)")
    parser.add_argument("--dates", default=None,
                        help="comma-separated entry dates (default: seven from 2018 to 2026 "
                             "for data/, else seven spread over the generator's span)")
    parser.add_argument("--lines", type=int, default=500)
    parser.add_argument("--cells", type=int, default=2000,
                        help="cells asked at each date, drawn from origins x lines")
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--label", default=None)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if args.dates:
        dates = [d.strip() for d in args.dates.split(",") if d.strip()]
    elif args.history.resolve() == DATA.resolve():
        dates = list(BUNDLED_DATES)
    else:
        dates = generated_dates()
    result = measure(args.history, dates, ORIGINS, args.lines, args.cells, args.seed)
    result["command"] = "python -m benchmarks.cells " + " ".join(
        sys.argv[1:] if argv is None else argv)
    label = args.label or ("bundled" if args.history.resolve() == DATA.resolve()
                           else args.history.name)
    path = write_result(args.out, f"cells-{label}", result)
    print(render(result))
    print(f"\nwritten to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
