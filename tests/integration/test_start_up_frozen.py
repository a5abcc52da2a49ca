"""Opening a store freezes what starting the process left alive, so that no question pays for
the collector walking it (see `store.bulk.freeze_start_up`)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from tariff_timeline import TariffTimeline
from tariff_timeline.store import bulk


@pytest.fixture
def fresh_process(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(bulk, "_SWEEPS", bulk._Sweeps())  # nothing frozen at start-up yet
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_the_first_store_a_process_opens_freezes_what_is_alive(
        fresh_process: None, tmp_path: Path) -> None:
    # Given a process that froze nothing; when it opens its first store
    assert gc.get_freeze_count() == 0
    opened = TariffTimeline.open(f"sqlite:///{tmp_path / 'store.sqlite'}",
                                 load_bundled_if_new=False)
    # Then what starting up left alive is frozen, the store's own objects with it
    try:
        assert gc.get_freeze_count() > 0
        assert bulk._SWEEPS.started
    finally:
        opened.close()
