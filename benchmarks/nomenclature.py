"""What the HTS nomenclature costs a rate question (issue 10: at most 1.2x), both in one run.

    python -m benchmarks.nomenclature [--questions 4000] [--rounds 5]

The bundled timeline is folded twice, with and without its NomenclatureRevised events; the
same seeded sample of rate questions (the origins, codes and dates of benchmarks.http, without
and with an MFN rate) is answered by the pure rate engine on each fold, in interleaved rounds,
and the best round of each is kept (the machine may be shared). Refused questions (a code not
in the revision in force) count as answered. Results are printed as JSON lines.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from tariff_timeline.bootstrap import bundled_data
from tariff_timeline.domain.clocks import Coordinate, cutoff_instant, effective_instant
from tariff_timeline.domain.errors import InvalidInput
from tariff_timeline.domain.questions import hts_digits
from tariff_timeline.domain.timeline import Timeline
from tariff_timeline.events import NomenclatureRevised, PolicyEvent
from tariff_timeline.importing import read_paths
from tariff_timeline.projections import Corrected, Recorded, corrected_log, fold_at, rate_on

ORIGINS = ("JP", "CN", "CA", "MX", "DE", "GB", "KR", "BR", "IN", "VN", "CH")
CODES = ("8703.23.01", "9503.00.00", "7208.10.15", "7601.10.30", "8471.30.01", "0901.11.00",
         "8542.31.00", "3004.90.92", "4407.11.00", "8708.29.51")
"""benchmarks.http's codes, with 8708.29.51: 8708.29.50 is not a line of the 2025-2026 HTS."""
KNOWN = cutoff_instant("2026-07-01", "known")
RECORDED = datetime(2026, 7, 1, tzinfo=UTC)

Question = tuple[str, str, datetime]


def _fold(events: Sequence[PolicyEvent]) -> tuple[Timeline, Mapping[str, Corrected]]:
    entries = corrected_log([Recorded(i, RECORDED, e) for i, e in enumerate(events, start=1)])
    return fold_at(entries, KNOWN), {e.event.id: e for e in entries}


def _questions(count: int, seed: int) -> list[Question]:
    chance = random.Random(seed)
    return [(chance.choice(ORIGINS), hts_digits(chance.choice(CODES)), effective_instant(
        (date(2025, 1, 1) + timedelta(days=chance.randrange(540))).isoformat()))
        for _ in range(count)]


def _per_second(fold: tuple[Timeline, Mapping[str, Corrected]], questions: list[Question],
                mfn: Decimal | None) -> float:
    timeline, entries = fold
    started = time.perf_counter()
    for origin, hts, at in questions:
        with contextlib.suppress(InvalidInput):
            rate_on(timeline, entries, origin=origin, hts=hts,
                    coordinate=Coordinate(at, KNOWN, RECORDED), mfn=mfn)
    return len(questions) / (time.perf_counter() - started)


def main(argv: Sequence[str] | None = None) -> None:
    """Print, for questions without and with an MFN rate, the best questions per second with
    and without the nomenclature, and the cost ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=4000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    events = [located.event for located in read_paths([bundled_data()])]
    folds = {"with": _fold(events),
             "without": _fold([e for e in events if not isinstance(e, NomenclatureRevised)])}
    questions = _questions(args.questions, 11)
    for mfn in (None, Decimal("2.5")):
        best = dict.fromkeys(folds, 0.0)
        for _ in range(args.rounds):
            for name, fold in folds.items():
                best[name] = max(best[name], _per_second(fold, questions, mfn))
        print(json.dumps({"mfn": None if mfn is None else str(mfn),
                          "questions": len(questions), "rounds": args.rounds,
                          "with_per_s": round(best["with"]),
                          "without_per_s": round(best["without"]),
                          "cost_ratio": round(best["without"] / best["with"], 3)}))


if __name__ == "__main__":
    main()
