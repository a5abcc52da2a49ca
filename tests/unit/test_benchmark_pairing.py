"""How the benchmark times the read model against the hand-written SQL
(`benchmarks.run.paired_latencies`): the same questions, neither path always second."""

from __future__ import annotations

import time

import pytest

from benchmarks.run import Question, paired_latencies


def _sample(count: int) -> list[Question]:
    return [Question("CN", f"8703.{i:02d}", "2025-05-01", None) for i in range(count)]


def test_each_question_is_asked_of_both_paths_the_first_alternating() -> None:
    asked: list[tuple[str, str]] = []
    sample = _sample(4)

    by_model, by_hand = paired_latencies(lambda q: asked.append(("model", q.hts)),
                                         lambda q: asked.append(("hand", q.hts)), sample)

    # Whichever path reads a question second finds its pages cached by the first.
    assert asked == [("model", "8703.00"), ("hand", "8703.00"),
                     ("hand", "8703.01"), ("model", "8703.01"),
                     ("model", "8703.02"), ("hand", "8703.02"),
                     ("hand", "8703.03"), ("model", "8703.03")]
    assert by_model["n"] == by_hand["n"] == 4
    assert by_model["order"] == by_hand["order"] == "alternating"


def test_each_paths_times_are_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    ticks = iter(range(100))

    def model(_: Question) -> None:
        # Three more ticks of the clock than the hand-written path takes.
        for _tick in range(3):
            next(ticks)

    monkeypatch.setattr(time, "perf_counter", lambda: float(next(ticks)))
    by_model, by_hand = paired_latencies(model, lambda _: None, _sample(3))

    assert by_model["median_ms"] == 4000.0 and by_model["p99_ms"] == 4000.0
    assert by_hand["median_ms"] == 1000.0 and by_hand["mean_ms"] == 1000.0
