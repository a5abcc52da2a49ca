"""`tariffs rebuild` in one process while two `tariffs import` processes append and this one
asks rate questions again and again: every question is answered as the fold answers it, or
told to ask again (RowsMoved), never from tables being made; every process succeeds; and the
read model then holds every event of the log once, and answers as the fold does (SQLite and
PostgreSQL).

Each round is a race, so what it meets differs from run to run: the module prints the tally
of answers and of questions told to ask again. TARIFFS_STRESS_ROUNDS rounds (2 by default;
`make stress` runs 20).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from benchmarks.generate import write_history
from benchmarks.run import Question, questions
from tariff_timeline import TariffTimeline
from tariff_timeline.readmodel.tables import RowsMoved, row_counts
from tests.gated import ROUNDS, start_at_once

EVENTS = 1500
"""Events of the stored history: enough that the rebuild takes a while to fill the tables."""

TALLY: dict[str, Counter[str]] = {}


@pytest.fixture(scope="module", autouse=True)
def report() -> Iterator[None]:
    """Print the tally of every round."""
    yield
    print("\nrebuild under load:\n  " + "\n  ".join(
        f"{backend}: " + ", ".join(f"{kind} {counts[kind]}" for kind in (
            "answered", "asked again", "rounds")) for backend, counts in sorted(TALLY.items())))


@pytest.fixture(scope="module")
def histories(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The stored history, and two more that the imports append."""
    root = tmp_path_factory.mktemp("histories")
    for name, seed in (("stored", 7), ("w1", 8), ("w2", 9)):
        write_history(EVENTS if name == "stored" else EVENTS // 3, root / name, seed=seed,
                      prefix=f"{name}-")
    return {name: root / name for name in ("stored", "w1", "w2")}


def additional(timeline: TariffTimeline, question: Question, at: str,
               by_fold: bool = False) -> Decimal:
    ask = timeline.rate_on_by_fold if by_fold else timeline.rate_on
    return ask(origin=question.origin, hts=question.hts, entered=question.entered,
               known=at, recorded=at).additional


@pytest.mark.parametrize("round_", range(1, ROUNDS + 1))
def test_a_rebuild_among_writers_and_questions_answers_nothing_from_tables_being_made(
        db_url: str, histories: dict[str, Path], round_: int) -> None:
    backend = "postgres" if db_url.startswith("postgres") else "sqlite"
    tally = TALLY.setdefault(backend, Counter())
    # given a store holding a history, caught up, and questions about it, answered by the
    # fold as known and recorded before anything else is appended
    timeline = TariffTimeline.open(db_url, load_bundled_if_new=False)
    try:
        timeline.import_paths([histories["stored"]])
        timeline.catch_up()
        at = timeline.store.clock().isoformat()
        sample = questions(histories["stored"], 12)
        expected = [additional(timeline, q, at, by_fold=True) for q in sample]
        # when a rebuild and two imports start at the same moment in other processes, while
        # this process asks the questions again and again
        processes = start_at_once([["rebuild"], ["import", str(histories["w1"])],
                                   ["import", str(histories["w2"])]],
                                  {**os.environ, "TARIFFS_DB": db_url})
        wrong: list[str] = []
        while any(process.poll() is None for process in processes):
            for question, answer in zip(sample, expected, strict=True):
                try:
                    got = additional(timeline, question, at)
                except RowsMoved:
                    tally["asked again"] += 1
                    continue
                tally["answered"] += 1
                if got != answer:
                    wrong.append(f"{question}: {got} where the fold says {answer}")
        tally["rounds"] += 1
        # then every process succeeded, and every question was answered as the fold does
        # or told to ask again
        failed = [f"{process.args[3:]}: exit {process.returncode}: {process.stderr.read()}"
                  for process in processes if process.returncode != 0]
        assert not failed, "\n".join(failed)
        assert not wrong, "\n".join(wrong[:10])
        # and the read model holds every event once, and answers now as the fold does
        timeline.catch_up()
        assert timeline.read_model is not None
        assert row_counts(timeline.read_model.engine)["rm_events"] == timeline.store.count()
        now = timeline.store.clock().isoformat()
        for question in sample:
            assert additional(timeline, question, now) == additional(
                timeline, question, now, by_fold=True)
    finally:
        timeline.close()
