"""A writer that meets another writer waits its turn, checks again and retries until its
deadline; one that still cannot append says so with its own error and exit code."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from tariff_timeline import TariffTimeline
from tariff_timeline.domain.clocks import Clock
from tariff_timeline.domain.errors import ImportRejected, StoreBusy
from tariff_timeline.events import PolicyEvent
from tariff_timeline.importing import Importer
from tariff_timeline.store import EventStore, Patience, parse_store_url
from tariff_timeline.store.patience import TurnTimeout
from tariff_timeline.store.turns import WriterTurn
from tests.builders import imposed
from tests.conftest import FakeClock
from tests.unit.test_patience import FakeTimer

TARIFFS = str(Path(sys.executable).parent / "tariffs")


class RacedStore(EventStore):
    """An event store where a rival writer appends just before each of the first `times`
    appends of this one, as if it had been a moment quicker."""

    def __init__(self, url: str, clock: Clock, patience: Patience,
                 rival: Callable[[], None], times: int) -> None:
        super().__init__(url, clock, patience)
        self.rival = rival
        self.times = times

    def append_canonical(self, rows: Iterable[tuple[str, bytes]],
                         after_version: int) -> datetime:
        if self.times:
            self.times -= 1
            self.rival()
        return super().append_canonical(rows, after_version)


def measure(eid: str, percent: float = 10) -> PolicyEvent:
    return imposed(eid, eid, known="2025-04-02", start="2025-04-05", percent=percent,
                   origins=("JP",))


class Rival:
    """Another writer on the same store, appending one new measure each time it is asked
    (straight to the log, as a writer that takes no turn would)."""

    def __init__(self, url: str, clock: FakeClock) -> None:
        self.store = EventStore(url, clock)
        self.appended: list[str] = []
        self.events: list[PolicyEvent] = []

    def __call__(self) -> None:
        event = self.events.pop(0) if self.events else measure(f"rival-{len(self.appended)}")
        self.store.append([event], self.store.count())
        self.appended.append(event.id)


@pytest.fixture
def rival(db_url: str, clock: FakeClock) -> Iterator[Rival]:
    opened = Rival(db_url, clock)
    yield opened
    opened.store.close()


def raced(db_url: str, clock: FakeClock, rival: Rival, times: int,
          timer: FakeTimer, seconds: float = 60) -> TariffTimeline:
    waiting = Patience(seconds, timer.monotonic, timer.sleep, lambda low, high: high)
    return TariffTimeline(RacedStore(db_url, clock, waiting, rival, times))


class TestAWriterThatMeetsAnother:
    def test_checks_again_and_lands_after_it(self, db_url: str, clock: FakeClock,
                                             rival: Rival) -> None:
        timer = FakeTimer()
        timeline = raced(db_url, clock, rival, 3, timer)
        try:
            report = timeline.record_events([measure("mine")])
            ids = [r.event.id for r in timeline.store.read()]
        finally:
            timeline.close()
        assert report.appended == 1 and report.total_events == 4
        assert ids == ["rival-0", "rival-1", "rival-2", "mine"]
        assert timer.pauses == [0.05, 0.1, 0.2]

    def test_is_refused_for_its_content_when_the_other_recorded_the_same_id_otherwise(
            self, db_url: str, clock: FakeClock, rival: Rival) -> None:
        rival.events = [measure("shared", percent=25)]
        timeline = raced(db_url, clock, rival, 1, FakeTimer())
        try:
            with pytest.raises(ImportRejected, match="'shared' is already recorded"):
                timeline.record_events([measure("shared", percent=10), measure("mine")])
            ids = [r.event.id for r in timeline.store.read()]
        finally:
            timeline.close()
        assert ids == ["shared"]

    def test_finds_its_events_already_recorded_when_the_other_wrote_the_same(
            self, db_url: str, clock: FakeClock, rival: Rival) -> None:
        rival.events = [measure("shared")]
        timeline = raced(db_url, clock, rival, 1, FakeTimer())
        try:
            report = timeline.record_events([measure("shared")])
        finally:
            timeline.close()
        assert (report.appended, report.already_recorded) == (0, 1)

    def test_gives_up_at_its_deadline_having_written_nothing(
            self, db_url: str, clock: FakeClock, rival: Rival) -> None:
        timer = FakeTimer()
        timeline = raced(db_url, clock, rival, 10_000, timer, seconds=5)
        try:
            with pytest.raises(StoreBusy, match="within the write deadline of 5 s") as caught:
                timeline.record_events([measure("mine")])
            ids = {r.event.id for r in timeline.store.read()}
        finally:
            timeline.close()
        assert "another writer appended first" in str(caught.value)
        assert "mine" not in ids and len(ids) == len(rival.appended) == len(timer.pauses) + 1
        assert timer.now <= 5


def test_an_importer_takes_its_deadline_from_the_store_unless_given_one(
        db_url: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TARIFFS_WRITE_DEADLINE", "7")
    timeline = TariffTimeline.open(db_url, clock=clock)
    given = TariffTimeline.open(db_url, clock=clock, write_deadline=2.5)
    try:
        assert timeline.importer.patience.seconds == 7
        assert given.importer.patience.seconds == 2.5
        assert Importer(timeline.store, write_deadline=1).patience.seconds == 1
    finally:
        timeline.close()
        given.close()


class TestTheWritersTurn:
    def test_is_held_by_one_writer_at_a_time_and_waited_for_up_to_a_deadline(
            self, db_url: str) -> None:
        target = parse_store_url(db_url)
        first, second = WriterTurn(target), WriterTurn(target)
        with first.hold(5), pytest.raises(TurnTimeout):
            second.hold(0.2).__enter__()
        # released when its holder is done
        with second.hold(5):
            pass

    def test_is_reentrant_within_one_writer(self, db_url: str) -> None:
        turn = WriterTurn(parse_store_url(db_url))
        with turn.hold(5), turn.hold(0):
            pass

    def test_a_writer_that_waits_for_it_past_its_deadline_gives_up_having_written_nothing(
            self, db_url: str, clock: FakeClock) -> None:
        timeline = TariffTimeline.open(db_url, clock=clock, write_deadline=0.5)
        try:
            with (WriterTurn(timeline.store.target).hold(5),
                  pytest.raises(StoreBusy, match="another writer's turn")):
                timeline.record_events([measure("mine")])
            assert timeline.store.count() == 0
            assert timeline.record_events([measure("mine")]).appended == 1
        finally:
            timeline.close()


@contextmanager
def write_lock_held(db_url: str) -> Iterator[None]:
    """Another session holds the event table's write lock (as a long append would)."""
    if db_url.startswith("sqlite"):
        conn = sqlite3.connect(db_url.removeprefix("sqlite:///"), isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            conn.execute("ROLLBACK")
            conn.close()
        return
    import psycopg

    parsed = urlparse(db_url)
    schema = parse_qs(parsed.query)["schema"][0]
    with psycopg.connect(db_url.split("?")[0]) as conn, conn.transaction():
        conn.execute(f'LOCK TABLE "{schema}".tarifftimeline_events IN EXCLUSIVE MODE')
        yield


def test_an_import_blocked_past_its_deadline_exits_6_and_one_after_it_lands(
        db_url: str, clock: FakeClock, tmp_path: Path) -> None:
    TariffTimeline.open(db_url, clock=clock).close()  # the tables exist
    events = tmp_path / "events.yaml"
    events.write_text(
        "- {id: mine, type: MeasureImposed, known: 2025-04-02, measure: m, title: M,\n"
        "   authority: IEEPA, program: p, effective_from: 2025-04-05, rate: {percent: 10},\n"
        "   scope: {origins: [JP], products: [ALL]}, sources: [{title: An order}]}\n",
        encoding="utf-8")
    env = {**os.environ, "TARIFFS_DB": db_url, "TARIFFS_WRITE_DEADLINE": "1"}
    command = [TARIFFS, "import", str(events)]
    with write_lock_held(db_url):
        blocked = subprocess.run(command, env=env, capture_output=True, text=True,
                                 timeout=120, check=False)
    assert blocked.returncode == 6, blocked.stderr
    assert "within the write deadline of 1 s: other writers kept the store busy" in (
        " ".join(blocked.stderr.split()))
    landed = subprocess.run([*command, "--write-deadline", "30"], env=env,
                            capture_output=True, text=True, timeout=120, check=False)
    assert landed.returncode == 0, landed.stderr
    assert landed.stdout.startswith("appended 1 event(s)")
