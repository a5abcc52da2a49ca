"""A store that holds no events answers no question: it says it is empty and how to load the
bundled timeline, instead of a 0% that looks right."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tariff_timeline import TariffTimeline
from tariff_timeline.domain.errors import EmptyStore, InvalidInput
from tests.conftest import DATA

QUESTIONS: dict[str, Callable[[TariffTimeline], Any]] = {
    "rate": lambda t: t.rate_on(origin="JP", hts="9503", entered="2025-04-10"),
    "rate by fold": lambda t: t.rate_on_by_fold(origin="JP", hts="9503", entered="2025-04-10"),
    "schedule": lambda t: t.schedule_as_of(entered="2025-04-10"),
    "diff": lambda t: t.diff(entered=("2025-04-08", "2025-04-10")),
    "series": lambda t: t.rate_series(origin="JP", hts="9503", start="2025-03-01",
                                      end="2025-12-31"),
    "history at a cell": lambda t: t.history(origin="JP", hts="9503.00.00"),
    "history of a measure": lambda t: t.history("ieepa-recip-jp"),
}


@pytest.mark.parametrize("question", QUESTIONS)
def test_an_empty_store_refuses_to_answer_and_says_how_to_load_the_bundled_timeline(
        timeline: TariffTimeline, question: str) -> None:
    with pytest.raises(EmptyStore) as caught:
        QUESTIONS[question](timeline)
    message = str(caught.value)
    assert "holds no events" in message and "`tariffs import` (no path)" in message


def test_a_malformed_question_to_an_empty_store_is_still_invalid_input(
        timeline: TariffTimeline) -> None:
    with pytest.raises(InvalidInput, match="unknown origin 'XX'"):
        timeline.rate_on(origin="XX", hts="9503", entered="2025-04-10")


def test_the_log_of_an_empty_store_is_empty_and_verifies(timeline: TariffTimeline) -> None:
    assert timeline.events() == [] and timeline.sources() == []
    assert timeline.verify().intact


def test_once_loaded_the_same_store_answers(timeline: TariffTimeline) -> None:
    timeline.import_paths([DATA])
    assert timeline.rate_on(origin="CN", hts="9503.00.00", entered="2025-04-11",
                            known="2025-04-11").additional == 145
