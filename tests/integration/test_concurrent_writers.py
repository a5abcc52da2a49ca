"""Eight `tariffs import` processes write into one store at the same moment: every write lands or
is refused for its content, and none fails because another writer was busy (SQLite and
PostgreSQL; into an existing store, and into a new one that all eight create at once).

Each scenario runs TARIFFS_STRESS_ROUNDS times (2 by default; `make stress` runs 20) and the
module prints the tally of outcomes per scenario and backend.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from benchmarks.generate import write_history
from tariff_timeline import TariffTimeline
from tariff_timeline.events import PolicyEvent
from tariff_timeline.importing import read_paths
from tests.gated import ROUNDS, start_at_once

EVENTS = 1000
"""Events per writer: enough that the writers' checks overlap and their appends collide."""


@dataclass(frozen=True)
class Writer:
    """One process's import: a folder of events (its own history, or another's)."""

    name: str
    folder: Path


@dataclass(frozen=True)
class Outcome:
    """How one writer's import ended."""

    writer: Writer
    code: int
    stdout: str
    stderr: str

    @property
    def kind(self) -> str:
        """landed, already (nothing new to append), refused (for its content), busy or
        failed."""
        if self.code == 0:
            return "already" if self.stdout.startswith("appended 0 ") else "landed"
        return {3: "refused", 6: "busy"}.get(self.code, "failed")


TALLY: dict[str, Counter[str]] = {}


@pytest.fixture(scope="module", autouse=True)
def report() -> Iterator[None]:
    """Print (and, with TARIFFS_STRESS_REPORT, write as JSON) the outcomes of every round."""
    yield
    lines = [f"{scenario}: " + ", ".join(f"{kind} {counts[kind]}" for kind in (
        "landed", "already", "refused", "busy", "failed")) + f" ({counts['rounds']} rounds)"
        for scenario, counts in sorted(TALLY.items())]
    print("\nconcurrent writers, 8 processes a round:\n  " + "\n  ".join(lines))
    path = os.environ.get("TARIFFS_STRESS_REPORT")
    if path:
        Path(path).write_text(json.dumps({k: dict(v) for k, v in TALLY.items()}, indent=1),
                              encoding="utf-8")


@pytest.fixture(scope="module")
def writers(tmp_path_factory: pytest.TempPathFactory) -> list[Writer]:
    """Eight imports: five histories of their own; one history twice (the second finds it
    recorded); and one whose ids are those of the first history with other content (one of
    the two is refused, whichever comes second)."""
    root = tmp_path_factory.mktemp("writers")
    for n in range(6):
        write_history(EVENTS, root / f"w{n}", seed=100 + n, prefix=f"w{n}-")
    write_history(EVENTS, root / "w0-other", seed=999, prefix="w0-")
    folders = ["w0", "w1", "w2", "w3", "w4", "w5", "w5", "w0-other"]
    return [Writer(f"{folder}#{n}", root / folder) for n, folder in enumerate(folders)]


def run_at_once(writers: list[Writer], db_url: str) -> list[Outcome]:
    """Start every writer, let them all go at the same moment, and wait for them."""
    env = {**os.environ, "TARIFFS_DB": db_url}
    env.pop("TARIFFS_WRITE_DEADLINE", None)  # the default deadline, a minute
    processes = start_at_once([["import", str(w.folder)] for w in writers], env)
    outcomes = []
    for writer, process in zip(writers, processes, strict=True):
        stdout, stderr = process.communicate(timeout=600)
        outcomes.append(Outcome(writer, process.returncode, stdout, stderr))
    return outcomes


def events_of(folder: Path) -> dict[str, PolicyEvent]:
    return {item.event.id: item.event for item in read_paths([folder])}


def check_round(scenario: str, writers: list[Writer], db_url: str) -> None:
    """Run one round and check that every write landed or was refused for its content."""
    outcomes = run_at_once(writers, db_url)
    counts = TALLY.setdefault(scenario, Counter())
    counts.update(o.kind for o in outcomes)
    counts["rounds"] += 1
    kinds = [o.kind for o in outcomes]
    problems = [f"{o.writer.name}: exit {o.code}: {o.stderr.strip()[-600:]}"
                for o in outcomes if o.kind in ("busy", "failed")]
    assert not problems, "\n".join(problems)
    # the five histories of their own land; of the same history twice, one lands and the
    # other finds it recorded; of two contents under the same ids, one lands, one is refused
    assert kinds[1:5] == ["landed"] * 4, kinds
    assert sorted(kinds[5:7]) == ["already", "landed"], kinds
    assert sorted([kinds[0], kinds[7]]) == ["landed", "refused"], kinds
    refused = outcomes[0] if kinds[0] == "refused" else outcomes[7]
    assert "already recorded" in refused.stderr and "with different content" in " ".join(
        refused.stderr.split())
    # and the store holds exactly what landed, intact
    expected: dict[str, PolicyEvent] = {}
    for outcome in outcomes:
        if outcome.kind == "landed":
            expected.update(events_of(outcome.writer.folder))
    timeline = TariffTimeline.open(db_url, load_bundled_if_new=False)
    try:
        stored = {r.event.id: r.event for r in timeline.store.read()}
        assert timeline.verify().intact
    finally:
        timeline.close()
    assert len(stored) == len(expected) == 6 * EVENTS
    assert stored == expected


@pytest.mark.parametrize("round_", range(1, ROUNDS + 1))
def test_eight_writers_into_one_store_all_land_or_are_refused_for_their_content(
        db_url: str, writers: list[Writer], round_: int) -> None:
    backend = "postgres" if db_url.startswith("postgres") else "sqlite"
    TariffTimeline.open(db_url, load_bundled_if_new=False).close()  # the store exists
    check_round(f"{backend}, one store", writers, db_url)


@pytest.mark.parametrize("round_", range(1, ROUNDS + 1))
def test_eight_writers_that_create_a_new_store_at_the_same_moment_all_land_or_are_refused(
        db_url: str, writers: list[Writer], round_: int) -> None:
    backend = "postgres" if db_url.startswith("postgres") else "sqlite"
    # on PostgreSQL the schema does not exist yet: all eight create it, its event tables
    # and the read model's tables at once
    check_round(f"{backend}, new {'schema' if backend == 'postgres' else 'file'}", writers,
                db_url)
