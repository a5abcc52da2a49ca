"""Bulk work pauses the cyclic garbage collector and always gives it back as it found it."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from tariff_timeline.store.bulk import paused_collector


@pytest.fixture(autouse=True)
def collector_restored() -> Iterator[None]:
    enabled = gc.isenabled()
    yield
    if enabled:
        gc.enable()


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
