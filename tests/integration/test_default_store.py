"""The embedded default store follows the bundled timeline as the package is upgraded."""

from __future__ import annotations

from pathlib import Path

import pytest

from tariff_timeline import TariffTimeline
from tariff_timeline.bootstrap import bundled_fingerprint
from tests.builders import imposed
from tests.conftest import FakeClock


@pytest.fixture
def data_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("TARIFFS_DB", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    return tmp_path / "tariff-timeline"


def test_a_new_default_store_loads_the_bundled_timeline_and_remembers_its_version(
        data_home: Path, clock: FakeClock) -> None:
    timeline = TariffTimeline.open(clock=clock)
    count = timeline.store.count()
    timeline.close()
    assert count > 200
    marker = data_home / "timeline.sqlite.bundled"
    assert marker.read_text(encoding="utf-8").strip() == bundled_fingerprint()


def test_a_changed_bundled_timeline_is_added_to_an_existing_default_store(
        data_home: Path, clock: FakeClock) -> None:
    TariffTimeline.open(clock=clock).close()
    marker = data_home / "timeline.sqlite.bundled"
    marker.write_text("an older release\n", encoding="utf-8")
    reopened = TariffTimeline.open(clock=clock)
    # the import ran again, appended nothing new, and the store remembers the version
    assert reopened.warnings == []
    assert marker.read_text(encoding="utf-8").strip() == bundled_fingerprint()
    reopened.close()


def test_a_store_whose_events_conflict_with_the_bundle_stays_usable_and_says_why(
        data_home: Path, clock: FakeClock) -> None:
    # given a default store that recorded a different version of a bundled event
    timeline = TariffTimeline.open(clock=clock, load_bundled_if_new=False)
    timeline.record_events([imposed("s232-autos-25", "s232-autos", known="2025-03-26",
                                    start="2025-04-03", percent=26, products=("8703",),
                                    authority="Section 232", program="s232-autos")])
    count = timeline.store.count()
    timeline.close()
    # when it is opened as the default store
    reopened = TariffTimeline.open(clock=clock)
    # then nothing was written, answers still come, and the warning names the event
    assert reopened.store.count() == count
    assert reopened.warnings and "different content" in reopened.warnings[0]
    assert reopened.rate_on(origin="JP", hts="8703.23.01", entered="2025-05-01").additional
    reopened.close()
