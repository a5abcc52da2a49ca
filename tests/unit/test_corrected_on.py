"""A log corrected in two parts (`projections.replay.corrected_on`) is the log corrected
whole: an append's check corrects what it read once, then only what it adds."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tariff_timeline.domain.errors import LifecycleError
from tariff_timeline.events import EventCorrected, EventRetracted, PolicyEvent
from tariff_timeline.projections.replay import Corrected, Recorded, corrected_log, corrected_on
from tests.builders import SOURCE, imposed, rate_changed

START = datetime(2026, 1, 1, tzinfo=UTC)


def _event(kind: int, n: int, target: int, percent: int) -> PolicyEvent:
    """The n-th event of a log: a rate change, or a correction or retraction of the event
    numbered `target` (which may not be in force, or not be recorded at all)."""
    if kind == 0 or n == 0:
        return rate_changed(f"e{n}", "m", known="2025-03-01", start="2025-03-05",
                            percent=percent)
    if kind == 1:
        return EventCorrected(
            id=f"e{n}", known="2025-04-01", sources=SOURCE, corrects=f"e{target}",
            reason="typo", replacement=imposed(f"e{target}", "m", known="2025-01-02",
                                               start="2025-01-05", percent=percent))
    return EventRetracted(id=f"e{n}", known="2025-04-01", sources=SOURCE,
                          retracts=f"e{target}", reason="wrong")


LOGS = st.lists(st.tuples(st.integers(0, 2), st.integers(0, 12), st.integers(0, 50)),
                min_size=1, max_size=12)


def _log(drawn: list[tuple[int, int, int]]) -> list[Recorded]:
    return [Recorded(n + 1, START + timedelta(minutes=n), _event(kind, n, target, percent))
            for n, (kind, target, percent) in enumerate(drawn)]


def _outcome(make: Callable[[], list[Corrected]]) -> object:
    """What correcting gives, or the refusal it raises (as a comparable value)."""
    try:
        return make()
    except LifecycleError as refused:
        return ("refused", refused.event_id, refused.field)


@given(drawn=LOGS, split=st.integers(0, 12))
def test_a_log_corrected_in_two_parts_is_the_log_corrected_whole(
        drawn: list[tuple[int, int, int]], split: int) -> None:
    log = _log(drawn)
    first, rest = log[:split], log[split:]
    whole = _outcome(lambda: corrected_log(log))
    before = _outcome(lambda: corrected_log(first))
    if isinstance(before, tuple):
        # A first part that cannot be corrected alone cannot be corrected whole either.
        assert isinstance(whole, tuple) and whole == before
        return
    assert isinstance(before, list)
    assert _outcome(lambda: corrected_on(before, rest)) == whole


def test_a_correction_in_the_second_part_replaces_an_entry_of_the_first_in_place() -> None:
    log = _log([(0, 0, 10), (0, 0, 20), (1, 0, 30)])

    entries = corrected_on(corrected_log(log[:2]), log[2:])

    assert [e.event.id for e in entries] == ["e0", "e1"]
    assert entries[0].corrected_by == ("e2",) and entries[0].seq == 1
    assert entries == corrected_log(log)


def test_a_retraction_in_the_second_part_of_an_event_it_cannot_find_is_refused() -> None:
    log = _log([(0, 0, 10), (2, 0, 0), (2, 0, 0)])

    with pytest.raises(LifecycleError) as refused:
        corrected_on(corrected_log(log[:2]), log[2:])

    assert (refused.value.event_id, refused.value.field) == ("e2", "retracts")
