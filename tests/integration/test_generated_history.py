"""The benchmark's synthetic histories are valid imports (SQLite; no timing here)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from benchmarks.generate import write_history
from tariff_timeline import TariffTimeline
from tests.conftest import FakeClock


def test_a_generated_history_imports_cleanly_once_and_is_reproducible(
        tmp_path: Path, clock: FakeClock) -> None:
    files = write_history(2000, tmp_path / "history", seed=7, per_file=700)
    again = write_history(2000, tmp_path / "again", seed=7, per_file=700)
    assert [f.read_bytes() for f in files] == [f.read_bytes() for f in again]
    events = [e for f in files for e in json.loads(f.read_text())["events"]]
    kinds = Counter(e["type"] for e in events)
    assert len(events) == 2000 and len(files) == 3
    for kind in ("MeasureImposed", "RateChanged", "ScopeAmended", "MeasurePaused",
                 "ExemptionGranted", "QuotaOpened", "EventCorrected"):
        assert kinds[kind] > 0, kind
    assert any(e.get("effective_from", "9999") < e["known"] for e in events), "retroactive"
    timeline = TariffTimeline.open(f"sqlite:///{tmp_path / 'store.sqlite'}", clock=clock)
    try:
        assert timeline.import_paths([tmp_path / "history"]).appended == 2000
        assert timeline.import_paths([tmp_path / "history"]).appended == 0
        answer = timeline.rate_on(origin="CN", hts="8703.23.01.00", entered="2019-06-01")
        assert answer.origin == "CN"
    finally:
        timeline.close()
