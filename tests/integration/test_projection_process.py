"""The projection process and a correction survive being killed anywhere, and the projection
follows the log on PostgreSQL."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tariff_timeline import TariffTimeline
from tariff_timeline.events import EventCorrected, PolicyEvent
from tariff_timeline.readmodel import APPLICATION_NAME
from tariff_timeline.readmodel.tables import EventRow, create_tables
from tariff_timeline.store import TIMELINE_ID
from tests.builders import exemption, imposed, paused, rate_changed
from tests.conftest import FakeClock

TARIFFS = str(Path(sys.executable).parent / "tariffs")
ORIGINS = ("JP", "CN", "DE", "VN", "CA", "GB")


def a_long_history(timeline: TariffTimeline, clock: FakeClock, groups: int) -> None:
    """Given many imports, each of a few events, each at its own recorded time."""
    for g in range(groups):
        clock.advance(minutes=5)
        m = f"m{g}"
        events = [
            imposed(f"i{g}", m, known="2025-01-02", start="2025-02-01", percent=10 + g % 7,
                    origins=(ORIGINS[g % 6],), products=("87", "9503")[g % 2:],
                    program=f"p{g % 3}"),
            rate_changed(f"r{g}", m, known="2025-03-01", start="2025-03-10", percent=g % 40),
            paused(f"p{g}", m, known="2025-04-09", start="2025-04-10", until="2025-07-09"),
            exemption(f"x{g}", f"x{g}", known="2025-05-01", start="2025-04-01",
                      measures=(m,), conditions=({"fact": "usmca_qualifying",
                                                  "equals": True},)),
        ]
        timeline.record_events(events)


def log_ids(timeline: TariffTimeline) -> list[int]:
    """Notification ids of the policy events (not of the chain heads that vouch for them)."""
    return [n.id for n in timeline.store.app.recorder.select_notifications(1, 1_000_000)
            if n.originator_id == TIMELINE_ID]


def read_model_position(timeline: TariffTimeline) -> tuple[int, list[int]]:
    assert timeline.read_model is not None
    with Session(timeline.read_model.engine) as session:
        seqs = list(session.execute(select(EventRow.seq).order_by(EventRow.seq)).scalars())
    return timeline.read_model.writer.max_tracking_id(APPLICATION_NAME) or 0, seqs


def answers_match(timeline: TariffTimeline, seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(25):
        question: dict[str, Any] = {
            "origin": rng.choice(ORIGINS), "hts": rng.choice(["8703.23", "9503.00.00"]),
            "entered": f"2025-0{rng.randint(1, 9)}-15", "known": f"2025-0{rng.randint(1, 9)}-01",
            "facts": rng.choice([{}, {"usmca_qualifying": False}])}
        assert (timeline.rate_on(**question).model_dump(mode="json")
                == timeline.rate_on_by_fold(**question).model_dump(mode="json")), question


def cli_env(db_url: str) -> dict[str, str]:
    return {**os.environ, "TARIFFS_DB": db_url}


def test_killing_the_projection_anywhere_never_loses_or_double_applies_an_event(
        db_url: str, clock: FakeClock) -> None:
    timeline = TariffTimeline.open(db_url, clock=clock)
    a_long_history(timeline, clock, groups=250)
    total = timeline.store.count()
    ids = log_ids(timeline)
    rng = random.Random(20251123)
    kills = 0
    # Kill windows start after the command's own start-up, measured here, so that a busy
    # machine still gives every attempt time to apply something.
    started = time.monotonic()
    subprocess.run([TARIFFS, "schema"], env=cli_env(db_url), capture_output=True, check=True)
    start_up = time.monotonic() - started
    for _attempt in range(80):
        process = subprocess.Popen([TARIFFS, "project", "--batch", "3"], env=cli_env(db_url),
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            process.wait(timeout=start_up + rng.uniform(0.3, 1.5))
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGKILL)
            process.wait()
            kills += 1
        position, seqs = read_model_position(timeline)
        # Exactly the notifications up to the tracking position, each once.
        assert seqs == [i for i in ids if i <= position]
        if process.returncode == 0:
            if kills >= 3:
                break
            # Finished before it was killed often enough: start again from nothing.
            assert timeline.read_model is not None
            create_tables(timeline.read_model.engine)
            continue
        assert process.returncode == -signal.SIGKILL, process.stderr
    print(f"killed the projection {kills} time(s) before it finished")
    assert kills >= 3 and process.returncode == 0
    position, seqs = read_model_position(timeline)
    assert len(ids) == total and position >= ids[-1] and seqs == ids
    answers_match(timeline, seed=kills)
    timeline.close()


def corrections_of(timeline: TariffTimeline, event_id: str) -> list[EventCorrected]:
    return [r.event for r in timeline.store.read()
            if isinstance(r.event, EventCorrected) and r.event.corrects == event_id]


def replacement_file(folder: Path, event: PolicyEvent) -> Path:
    path = folder / f"{event.id}.json"
    path.write_text(json.dumps([event.model_dump(mode="json")]), encoding="utf-8")
    return path


def test_killing_a_correction_anywhere_leaves_it_whole_or_absent_and_a_rerun_records_it_once(
        db_url: str, clock: FakeClock, tmp_path: Path) -> None:
    timeline = TariffTimeline.open(db_url, clock=clock)
    a_long_history(timeline, clock, groups=40)
    # Given, for each of several recorded rate changes, a file with what it should have said
    fixes = {f"r{g}": rate_changed(f"r{g}", f"m{g}", known="2025-03-01", start="2025-03-10",
                                   percent=g % 40 + 1) for g in range(7)}
    files = {eid: replacement_file(tmp_path, event) for eid, event in fixes.items()}

    def correct(eid: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen([TARIFFS, "correct", eid, "--file", str(files[eid]),
                                 "--reason", "the annex gives another rate"],
                                env=cli_env(db_url), stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE)

    # A run left alone shows how long a correction takes from start to exit.
    started = time.monotonic()
    whole = correct("r0")
    assert whole.wait(timeout=120) == 0, whole.stderr
    window = time.monotonic() - started
    rng = random.Random(20261130)
    outcomes: list[str] = []
    for eid in list(fixes)[1:]:
        # When one is killed at a random point of its run
        process = correct(eid)
        try:
            process.wait(timeout=rng.uniform(0.1, window))
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGKILL)
            process.wait()
        # then the log is intact and the correction is either all there or not at all
        assert timeline.verify().intact
        found = corrections_of(timeline, eid)
        assert len(found) <= 1
        if found:
            assert found[0].replacement == fixes[eid]
        outcomes.append(("killed" if process.returncode == -signal.SIGKILL else "finished")
                        + (", recorded" if found else ", absent"))
    print("corrections:", ", ".join(outcomes))
    assert any(outcome.startswith("killed") for outcome in outcomes)
    verified = subprocess.run([TARIFFS, "verify"], env=cli_env(db_url), capture_output=True,
                              text=True, timeout=120, check=False)
    assert verified.returncode == 0 and verified.stdout.startswith("intact"), verified.stderr
    # And running each again records it exactly once
    for eid in fixes:
        again = correct(eid)
        assert again.wait(timeout=120) == 0, again.stderr
        found = corrections_of(timeline, eid)
        assert len(found) == 1 and found[0].replacement == fixes[eid], eid
        assert found[0].id == f"{eid}.corrected-1"
    assert timeline.verify().intact
    answers_match(timeline, seed=len(outcomes))
    timeline.close()


def wait_until(condition: Any, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met in time")
        time.sleep(0.1)


def test_on_postgres_the_projection_runner_follows_new_imports(
        pg_url: str, clock: FakeClock) -> None:
    db_url = pg_url
    timeline = TariffTimeline.open(db_url, clock=clock)
    a_long_history(timeline, clock, groups=5)
    follower = subprocess.Popen([TARIFFS, "project", "--follow"], env=cli_env(db_url),
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_until(lambda: read_model_position(timeline)[0] >= log_ids(timeline)[-1])
        # New imports reach the read model through the subscription, not through a query.
        clock.now = datetime(2026, 2, 1, tzinfo=UTC)
        timeline.record_events([imposed("late", "late", known="2025-06-01",
                                        start="2025-06-02", percent=33, origins=("JP",))])
        wait_until(lambda: read_model_position(timeline)[0] >= log_ids(timeline)[-1])
        follower.send_signal(signal.SIGKILL)
        follower.wait()
        timeline.record_events([imposed("later", "later", known="2025-06-05",
                                        start="2025-06-06", percent=7, origins=("CN",))])
        follower = subprocess.Popen([TARIFFS, "project", "--follow"], env=cli_env(db_url),
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wait_until(lambda: read_model_position(timeline)[0] >= log_ids(timeline)[-1])
        position, seqs = read_model_position(timeline)
        assert seqs == log_ids(timeline) and position >= seqs[-1]
        answers_match(timeline, seed=7)
    finally:
        follower.send_signal(signal.SIGTERM)
        try:
            follower.wait(timeout=20)
        except subprocess.TimeoutExpired:
            follower.kill()
        timeline.close()
