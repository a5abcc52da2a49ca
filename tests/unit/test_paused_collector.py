"""Bulk work pauses the cyclic garbage collector and always gives it back as it found it; what
large work leaves alive is frozen, and the cycles it leaves are still collected."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from tariff_timeline.store import bulk
from tariff_timeline.store.bulk import LARGE, SWEEP_EVERY, SWEEP_GROWTH, paused_collector


@pytest.fixture(autouse=True)
def collector_restored(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(bulk, "_SWEEPS", bulk._Sweeps())  # no large work ended yet
    enabled = gc.isenabled()
    yield
    if enabled:
        gc.enable()
    gc.unfreeze()


class _Node:
    """An object that can sit in a reference cycle and be watched by a weak reference."""

    def __init__(self) -> None:
        self.other: object = self


def _keeping(count: int) -> list[list[int]]:
    """Bulk work that leaves `count` new objects alive."""
    with paused_collector():
        return [[i] for i in range(count)]


def test_the_collector_is_paused_during_bulk_work_and_running_after() -> None:
    gc.enable()
    with paused_collector():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_the_collector_runs_again_after_bulk_work_that_failed() -> None:
    gc.enable()
    with pytest.raises(ValueError), paused_collector():
        raise ValueError("bad row")
    assert gc.isenabled()


def test_bulk_work_inside_bulk_work_leaves_the_collector_to_the_outer_one() -> None:
    gc.enable()
    with paused_collector():
        with paused_collector():
            pass
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_collector_paused_by_the_caller_stays_paused() -> None:
    gc.disable()
    with paused_collector():
        pass
    assert not gc.isenabled()


def test_what_large_bulk_work_leaves_alive_is_frozen_out_of_the_next_collection() -> None:
    gc.enable()
    frozen = gc.get_freeze_count()
    kept = _keeping(2 * LARGE)
    assert gc.get_freeze_count() >= frozen + len(kept)
    assert gc.isenabled()


def test_small_bulk_work_leaves_its_objects_to_the_collector() -> None:
    gc.enable()
    gc.collect()
    frozen = gc.get_freeze_count()
    with paused_collector():
        kept = [[i] for i in range(100)]
    assert gc.get_freeze_count() == frozen
    assert len(kept) == 100


def test_a_cycle_left_by_large_bulk_work_is_collected_by_a_later_sweep() -> None:
    gc.enable()
    with paused_collector():
        node = _Node()
        kept = [[i] for i in range(2 * LARGE)]
    watched = weakref.ref(node)
    del node  # garbage now, but only the collector can free a cycle, and it was frozen
    for _ in range(SWEEP_EVERY - 2):
        _keeping(2 * LARGE)
    assert watched() is not None
    _keeping(2 * LARGE)  # the SWEEP_EVERY-th large work ends with a full collection
    assert watched() is None
    assert len(kept) == 2 * LARGE


def test_a_cycle_left_by_large_bulk_work_is_collected_once_the_frozen_objects_grow() -> None:
    gc.enable()
    with paused_collector():
        node = _Node()
        kept = [[i] for i in range(8 * LARGE)]  # so that a quarter more is large work too
    watched = weakref.ref(node)
    del node  # garbage now, frozen with everything else the first large work left
    frozen = gc.get_freeze_count()
    # a large work keeping a quarter more: within the growth allowed, so the cycle waits
    few = _keeping(frozen // 4)
    assert watched() is not None
    # one keeping more than the growth allows: it ends with a full collection
    many = _keeping(int(SWEEP_GROWTH * gc.get_freeze_count()))
    assert watched() is None
    assert len(kept) == 8 * LARGE and few and many



def test_what_starting_up_left_alive_is_frozen_once_a_process() -> None:
    gc.enable()
    gc.unfreeze()
    started = [[i] for i in range(1000)]
    # Given a process that started; when its first store opens, what is alive is frozen
    bulk.freeze_start_up()
    frozen = gc.get_freeze_count()
    assert frozen >= len(started)
    # And what later work leaves alive is not, when another store opens
    later = [[i] for i in range(1000)]
    bulk.freeze_start_up()
    assert gc.get_freeze_count() < frozen + len(later)
    assert gc.isenabled()
