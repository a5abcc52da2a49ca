"""A long catch-up and a rebuild say how far they have come (the CLI draws it as a bar)."""

from __future__ import annotations

from tariff_timeline import TariffTimeline
from tariff_timeline.importing import Importer
from tests.builders import imposed, rate_changed
from tests.conftest import FakeClock


def test_a_catch_up_reports_progress_up_to_every_event_it_applies(
        timeline: TariffTimeline, clock: FakeClock) -> None:
    # given thirty appends that the read model has not applied yet (by a writer that checks
    # them against the whole log: an append through the read model would bring it up first)
    writer = Importer(timeline.store)
    writer.record_events([imposed("m-1", "m", known="2025-04-02", start="2025-04-05",
                                  percent=10)])
    for n in range(2, 31):
        clock.advance(hours=1)
        writer.record_events([rate_changed(f"m-{n}", "m", known="2025-04-03",
                                           start=f"2025-05-{n:02d}", percent=n)])
    heard: list[tuple[int, int]] = []
    # when it catches up in small transactions
    applied = timeline.catch_up(batch=4, progress=lambda done, total: heard.append((done, total)))
    # then it reported each step, rising to the whole log
    assert applied == 30 and heard[-1] == (30, 30)
    assert [done for done, _ in heard] == sorted({done for done, _ in heard})
    assert len(heard) >= 7


def test_a_rebuild_reports_progress_too(timeline: TariffTimeline) -> None:
    timeline.record_events([imposed("m-1", "m", known="2025-04-02", start="2025-04-05",
                                    percent=10)])
    heard: list[tuple[int, int]] = []
    assert timeline.rebuild_read_model(lambda done, total: heard.append((done, total))) == 1
    assert heard == [(1, 1)]
