"""The embedded default store follows the bundled timeline as the package is upgraded."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from tariff_timeline import TariffTimeline
from tariff_timeline.bootstrap import bundled_fingerprint
from tariff_timeline.projections import RateAnswer
from tests.builders import imposed
from tests.conftest import FakeClock


def _applied(answer: RateAnswer) -> dict[str, Decimal | None]:
    return {layer.measure: layer.rate for layer in answer.layers if layer.applied}


def _status(answer: RateAnswer, measure: str) -> tuple[str, bool]:
    return next((layer.status, layer.applied) for layer in answer.layers
                if layer.measure == measure)


def _reason(answer: RateAnswer, measure: str) -> str:
    return next(layer.reason for layer in answer.layers if layer.measure == measure)


@pytest.fixture
def data_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("TARIFFS_DB", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    return tmp_path / "tariff-timeline"


def test_a_new_default_store_loads_the_bundled_timeline_and_remembers_its_version(
        data_home: Path, clock: FakeClock) -> None:
    timeline = TariffTimeline.open(clock=clock)
    count = timeline.store.count()
    # a Japanese car entered on 1 May 2025 (MFN 2.5%) pays the autos 232 duty of 25%
    # (Proclamation 10908); the 10% baseline is not stacked on 232 goods (EO 14257 s.3(b)) and
    # Japan's 24% was paused from 10 Apr 2025 (EO 14266)
    car = timeline.rate_on(origin="JP", hts="8703.23.01", entered="2025-05-01", mfn="2.5")
    timeline.close()
    assert count > 200
    assert (car.additional, car.total) == (Decimal(25), Decimal("27.5"))
    assert _applied(car) == {"s232-autos": 25}
    assert _status(car, "ieepa-recip-baseline") == ("in_force", False)
    assert _reason(car, "ieepa-recip-baseline").startswith("not stacked")
    assert _status(car, "ieepa-recip-jp") == ("paused", False)
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
    # and they come from what the store recorded, its own 26%, not the bundle's 25%
    car = reopened.rate_on(origin="JP", hts="8703.23.01", entered="2025-05-01", mfn="2.5")
    reopened.close()
    assert (car.additional, car.total) == (Decimal(26), Decimal("28.5"))
    assert _applied(car) == {"s232-autos": 26}
    assert [layer.measure for layer in car.layers] == ["s232-autos"]
    assert [e.id for e in car.layers[0].events] == ["s232-autos-25"]
