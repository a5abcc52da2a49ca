"""A rebuild makes the read model's tables without the indexes only questions read, and makes
those once the whole log is applied. Stopped before its end, it leaves them to the next
catch-up of any process, which makes them once it is caught up (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import inspect
from sqlalchemy.engine import Engine

from tariff_timeline import TariffTimeline
from tariff_timeline.readmodel import writer
from tariff_timeline.readmodel.tables import ANSWER_INDEXES, Base, create_tables
from tests.builders import exemption, hts_line, imposed, rate_changed, revised
from tests.conftest import FakeClock

QUESTION = {"origin": "CN", "hts": "8703", "entered": "2025-06-01"}


def indexes_in(engine: Engine) -> set[str]:
    found = inspect(engine)
    return {str(index["name"]) for table in Base.metadata.sorted_tables
            for index in found.get_indexes(table.name)}


def missing_in(engine: Engine) -> set[str]:
    """The indexes of the layout's tables that the database lacks (PostgreSQL's full-text
    index, made by DDL of its own, is not among them)."""
    return {str(index.name) for table in Base.metadata.sorted_tables
            for index in table.indexes} - indexes_in(engine)


@pytest.fixture
def recorded(db_url: str, clock: FakeClock) -> Any:
    """A store with a chapter, a measure, its change and an exemption from it, answered."""
    timeline = TariffTimeline.open(db_url, clock=clock, load_bundled_if_new=False)
    timeline.record_events([
        revised("r1-87", "r1", "87", known="2024-12-01", start="2025-01-01", baseline=True,
                added=(hts_line("8703", "Motor cars"),)),
        imposed("m-10", "m", known="2025-01-01", start="2025-02-01", percent=10,
                products=("8703",)),
        exemption("x-on", "x", known="2025-01-01", start="2025-02-01", measures=("m",),
                  origins=("JP",))])
    clock.advance(hours=1)
    timeline.record_events([rate_changed("m-30", "m", known="2025-03-01", start="2025-04-01",
                                         percent=30)])
    assert timeline.rate_on(**QUESTION).additional == 30
    yield timeline
    timeline.close()


def test_every_answer_index_is_one_of_the_layouts() -> None:
    assert set(ANSWER_INDEXES) <= {str(index.name) for table in Base.metadata.sorted_tables
                                   for index in table.indexes}


def test_a_rebuild_makes_the_answer_indexes_only_once_the_log_is_applied(
        recorded: TariffTimeline, monkeypatch: pytest.MonkeyPatch) -> None:
    assert recorded.read_model is not None
    engine = recorded.read_model.engine
    # given a read model with every index of its layout
    assert missing_in(engine) == set()
    made: list[list[str]] = []
    missing_while_applying: list[set[str]] = []
    real_make, real_apply = writer.make_answer_indexes, writer.ReadModelWriter._apply_stream

    def making(bound: Engine) -> list[str]:
        made.append(real_make(bound))
        return made[-1]

    def applying(self: writer.ReadModelWriter, *args: Any) -> int:
        missing_while_applying.append(missing_in(engine))
        return real_apply(self, *args)

    monkeypatch.setattr(writer, "make_answer_indexes", making)
    monkeypatch.setattr(writer.ReadModelWriter, "_apply_stream", applying)
    # when it is rebuilt, twice in one process
    for _ in range(2):
        assert recorded.rebuild_read_model() == 4
    # then each rebuild applied the log without the answer indexes and made them at its end
    assert missing_while_applying and all(
        missing == set(ANSWER_INDEXES) for missing in missing_while_applying)
    assert made == [sorted(ANSWER_INDEXES)] * 2
    assert missing_in(engine) == set()
    # and it answers as before
    assert recorded.rate_on(**QUESTION).additional == 30
    assert recorded.rate_on(**{**QUESTION, "origin": "JP"}).additional == 0


def test_a_rebuild_stopped_after_its_last_rows_leaves_the_indexes_to_the_next_process(
        recorded: TariffTimeline, db_url: str, clock: FakeClock,
        monkeypatch: pytest.MonkeyPatch) -> None:
    assert recorded.read_model is not None
    engine = recorded.read_model.engine

    def stopped(_: Engine) -> list[str]:
        raise KeyboardInterrupt

    # given a rebuild stopped once it had applied the whole log, before it made the indexes
    monkeypatch.setattr(writer, "make_answer_indexes", stopped)
    with pytest.raises(KeyboardInterrupt):
        recorded.rebuild_read_model()
    monkeypatch.undo()
    assert missing_in(engine) == set(ANSWER_INDEXES)
    # when another process opens the store and asks, with nothing left to apply
    other = TariffTimeline.open(db_url, clock=clock)
    try:
        assert other.rate_on(**QUESTION).additional == 30
    finally:
        other.close()
    # then that process made them
    assert missing_in(engine) == set()


def test_tables_made_without_the_answer_indexes_get_them_at_the_next_catch_up(
        recorded: TariffTimeline) -> None:
    assert recorded.read_model is not None
    engine = recorded.read_model.engine
    # given the tables made again, empty, without the answer indexes (a rebuild stopped
    # before it applied anything), by another process
    create_tables(engine, answer_indexes=False)
    assert missing_in(engine) == set(ANSWER_INDEXES)
    # when this process asks again, and so catches up
    assert recorded.rate_on(**QUESTION).additional == 30
    # then the whole log is applied and the indexes are made
    assert missing_in(engine) == set()
