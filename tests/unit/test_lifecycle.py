"""A measure's lifecycle invariants hold in the fold, whatever order events are given."""

from __future__ import annotations

import pytest

from tariff_timeline.domain import LifecycleError, UnknownReference, evolve, fold
from tests.builders import imposed, pause_extended, paused, rate_changed, revoked


def test_pausing_a_revoked_measure_is_refused() -> None:
    given = [
        imposed("a", "m", known="2025-01-01", start="2025-02-01", percent=10),
        revoked("b", "m", known="2025-02-10", start="2025-03-01"),
    ]
    with pytest.raises(LifecycleError, match="cannot pause measure 'm': it is revoked"):
        fold([*given, paused("c", "m", known="2025-03-02", start="2025-03-05")])


def test_extending_a_pause_that_does_not_exist_is_refused() -> None:
    given = [imposed("a", "m", known="2025-01-01", start="2025-02-01", percent=10)]
    with pytest.raises(LifecycleError, match="no pause to extend"):
        fold([*given, pause_extended("b", "m", known="2025-03-01", until="2025-09-01")])


def test_extension_must_end_later_than_the_pause() -> None:
    given = [
        imposed("a", "m", known="2025-01-01", start="2025-02-01", percent=10),
        paused("b", "m", known="2025-03-01", start="2025-03-02", until="2025-06-01"),
    ]
    with pytest.raises(LifecycleError, match="not after the current end"):
        fold([*given, pause_extended("c", "m", known="2025-03-05", until="2025-05-01")])


def test_pausing_an_unknown_measure_is_refused() -> None:
    with pytest.raises(UnknownReference, match="no measure 'ghost'"):
        fold([paused("a", "ghost", known="2025-03-01", start="2025-03-02")])


def test_changing_a_rate_before_the_measure_starts_is_refused() -> None:
    given = [imposed("a", "m", known="2025-01-01", start="2025-02-01", percent=10)]
    with pytest.raises(LifecycleError, match="not in force"):
        fold([*given, rate_changed("b", "m", known="2025-01-02", start="2025-01-15",
                                   percent=20)])


def test_imposing_the_same_measure_twice_is_refused() -> None:
    first = imposed("a", "m", known="2025-01-01", start="2025-02-01", percent=10)
    again = imposed("b", "m", known="2025-01-05", start="2025-03-01", percent=20)
    with pytest.raises(LifecycleError, match="already imposed"):
        fold([first, again])


def test_the_fold_is_pure_and_leaves_earlier_states_untouched() -> None:
    first = fold([imposed("a", "m", known="2025-01-01", start="2025-02-01", percent=10)])
    second = fold([paused("b", "m", known="2025-03-01", start="2025-03-02")], first)
    assert first.measures["m"].pauses == ()
    assert len(second.measures["m"].pauses) == 1
    assert (first.folded, second.folded) == (1, 2)


def test_folding_at_once_equals_evolving_event_by_event_and_changes_no_given_state() -> None:
    # fold writes into one private copy of the maps; it must give what evolve gives step by
    # step, and leave the state it started from exactly as it was.
    events = [
        imposed("a", "m", known="2025-01-01", start="2025-02-01", percent=10),
        imposed("b", "n", known="2025-01-02", start="2025-02-01", percent=5),
        paused("c", "m", known="2025-03-01", start="2025-03-02", until="2025-06-01"),
        pause_extended("d", "m", known="2025-05-01", until="2025-08-01"),
        rate_changed("e", "n", known="2025-05-02", start="2025-04-01", percent=20),
        revoked("f", "n", known="2025-07-01", start="2025-07-02"),
    ]
    start = fold(events[:2])
    snapshot = (dict(start.measures), start.folded)
    stepwise = start
    for event in events[2:]:
        stepwise = evolve(stepwise, event)
    assert fold(events[2:], start) == stepwise
    assert (dict(start.measures), start.folded) == snapshot
    assert fold(events) == stepwise


def test_a_refused_event_leaves_the_given_state_untouched() -> None:
    start = fold([imposed("a", "m", known="2025-01-01", start="2025-02-01", percent=10)])
    with pytest.raises(UnknownReference):
        fold([rate_changed("b", "m", known="2025-01-02", start="2025-02-05", percent=20),
              paused("c", "ghost", known="2025-01-03", start="2025-02-06")], start)
    assert len(start.measures["m"].rates) == 1 and set(start.measures) == {"m"}
