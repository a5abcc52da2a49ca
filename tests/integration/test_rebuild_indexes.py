"""The first catch-up of a large log into tables that hold no event (a rebuild's, or a new
store's) applies it without the indexes only questions read, and makes those once the whole
log is applied. Stopped before its end, either leaves them to the next catch-up of any
process, which makes them once it is caught up; tables that hold events keep them (SQLite and
PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import inspect
from sqlalchemy.engine import Engine

from tariff_timeline import TariffTimeline
from tariff_timeline.readmodel import writer
from tariff_timeline.readmodel.tables import (
    ANSWER_INDEXES,
    Base,
    create_tables,
    defer_answer_indexes,
)
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


def first_events() -> list[Any]:
    return [
        revised("r1-87", "r1", "87", known="2024-12-01", start="2025-01-01", baseline=True,
                added=(hts_line("8703", "Motor cars"),)),
        imposed("m-10", "m", known="2025-01-01", start="2025-02-01", percent=10,
                products=("8703",)),
        exemption("x-on", "x", known="2025-01-01", start="2025-02-01", measures=("m",),
                  origins=("JP",))]


class Watched:
    """What the indexes were while a test's catch-ups applied rows, and which they made."""

    def __init__(self, engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
        self.made: list[list[str]] = []
        self.missing_while_applying: list[set[str]] = []
        real_make, real_apply = writer.make_answer_indexes, writer.ReadModelWriter._apply_stream

        def making(bound: Engine) -> list[str]:
            self.made.append(real_make(bound))
            return self.made[-1]

        def applying(writing: writer.ReadModelWriter, *args: Any) -> int:
            self.missing_while_applying.append(missing_in(engine))
            return real_apply(writing, *args)

        monkeypatch.setattr(writer, "make_answer_indexes", making)
        monkeypatch.setattr(writer.ReadModelWriter, "_apply_stream", applying)

    def made_any(self) -> bool:
        return any(self.made)


def stopped_before_the_indexes(catch_up: Callable[[], object]) -> None:
    """Run a catch-up that is stopped (as a killed process is) once caught up, before it makes
    the answer indexes."""

    def stopped(_: Engine) -> list[str]:
        raise KeyboardInterrupt

    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(writer, "make_answer_indexes", stopped)
        with pytest.raises(KeyboardInterrupt):
            catch_up()


def asked_by_another_process(db_url: str, clock: FakeClock) -> object:
    """The additional rate of `QUESTION` as another process, opening the store, answers it."""
    other = TariffTimeline.open(db_url, clock=clock)
    try:
        return other.rate_on(**QUESTION).additional
    finally:
        other.close()


@pytest.fixture
def unasked(db_url: str, clock: FakeClock) -> Any:
    """A new store whose log holds three events its read model has not applied."""
    timeline = TariffTimeline.open(db_url, clock=clock, load_bundled_if_new=False)
    timeline.record_events(first_events())
    assert timeline.read_model is not None
    assert timeline.read_model.writer.max_tracking_id(writer.APPLICATION_NAME) is None
    yield timeline
    timeline.close()


@pytest.fixture
def recorded(db_url: str, clock: FakeClock) -> Any:
    """A store with a chapter, a measure, its change and an exemption from it, answered."""
    timeline = TariffTimeline.open(db_url, clock=clock, load_bundled_if_new=False)
    timeline.record_events(first_events())
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
    # given a read model with every index of its layout, and a writer that defers them from
    # a log of four events
    assert missing_in(engine) == set()
    recorded.read_model.writer.defer_indexes_from = 4
    watched = Watched(engine, monkeypatch)
    # when it is rebuilt, twice in one process
    for _ in range(2):
        assert recorded.rebuild_read_model() == 4
    # then each rebuild applied the log without the answer indexes and made them at its end
    assert watched.missing_while_applying and all(
        missing == set(ANSWER_INDEXES) for missing in watched.missing_while_applying)
    assert watched.made == [sorted(ANSWER_INDEXES)] * 2
    assert missing_in(engine) == set()
    # and it answers as before
    assert recorded.rate_on(**QUESTION).additional == 30
    assert recorded.rate_on(**{**QUESTION, "origin": "JP"}).additional == 0


def test_a_rebuild_stopped_after_its_last_rows_leaves_the_indexes_to_the_next_process(
        recorded: TariffTimeline, db_url: str, clock: FakeClock) -> None:
    assert recorded.read_model is not None
    engine = recorded.read_model.engine
    recorded.read_model.writer.defer_indexes_from = 4
    # given a rebuild stopped once it had applied the whole log, before it made the indexes
    stopped_before_the_indexes(recorded.rebuild_read_model)
    assert missing_in(engine) == set(ANSWER_INDEXES)
    # when another process opens the store and asks, with nothing left to apply
    assert asked_by_another_process(db_url, clock) == 30
    # then that process made them
    assert missing_in(engine) == set()


def test_tables_made_without_the_answer_indexes_get_them_at_the_next_catch_up(
        recorded: TariffTimeline) -> None:
    assert recorded.read_model is not None
    engine = recorded.read_model.engine
    # given the tables made again, empty, without the answer indexes (a rebuild stopped
    # after it deferred them, before it applied anything), by another process
    create_tables(engine)
    assert defer_answer_indexes(engine) is True
    assert missing_in(engine) == set(ANSWER_INDEXES)
    # when this process asks again, and so catches up
    assert recorded.rate_on(**QUESTION).additional == 30
    # then the whole log is applied and the indexes are made
    assert missing_in(engine) == set()


def test_the_first_catch_up_of_a_large_log_makes_the_answer_indexes_at_its_end(
        unasked: TariffTimeline, monkeypatch: pytest.MonkeyPatch) -> None:
    assert unasked.read_model is not None
    engine = unasked.read_model.engine
    # given a log at least as long as the writer defers the indexes from, none of it applied
    unasked.read_model.writer.defer_indexes_from = 3
    assert missing_in(engine) == set()
    watched = Watched(engine, monkeypatch)
    # when a question catches up
    assert unasked.rate_on(**QUESTION).additional == 10
    # then the log was applied without the answer indexes, which the catch-up made at its end
    assert watched.missing_while_applying == [set(ANSWER_INDEXES)]
    assert watched.made == [sorted(ANSWER_INDEXES)]
    assert missing_in(engine) == set()
    assert unasked.rate_on(**{**QUESTION, "origin": "JP"}).additional == 0


def test_the_first_catch_up_of_a_shorter_log_keeps_the_answer_indexes(
        unasked: TariffTimeline, monkeypatch: pytest.MonkeyPatch) -> None:
    assert unasked.read_model is not None
    engine = unasked.read_model.engine
    # given a log shorter than the writer defers the indexes from
    unasked.read_model.writer.defer_indexes_from = 4
    watched = Watched(engine, monkeypatch)
    # when a question catches up
    assert unasked.rate_on(**QUESTION).additional == 10
    # then every index was kept while the log was applied, and none had to be made
    assert watched.missing_while_applying == [set()]
    assert not watched.made_any()


def test_tables_that_hold_events_keep_their_answer_indexes(
        recorded: TariffTimeline, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    assert recorded.read_model is not None
    engine = recorded.read_model.engine
    # given tables that hold events, and a writer that defers the indexes from one event
    recorded.read_model.writer.defer_indexes_from = 1
    watched = Watched(engine, monkeypatch)
    # when more is recorded and asked about
    clock.advance(hours=1)
    recorded.record_events([rate_changed("m-40", "m", known="2025-05-01", start="2025-06-01",
                                         percent=40)])
    assert recorded.rate_on(**{**QUESTION, "entered": "2025-07-01"}).additional == 40
    # then every index was kept while it was applied
    assert watched.missing_while_applying and all(
        missing == set() for missing in watched.missing_while_applying)
    # and asked directly to defer them, the tables keep them (the drop is rolled back)
    assert defer_answer_indexes(engine) is False
    assert missing_in(engine) == set()


def test_a_first_catch_up_stopped_before_its_end_leaves_the_indexes_to_the_next_process(
        unasked: TariffTimeline, db_url: str, clock: FakeClock) -> None:
    assert unasked.read_model is not None
    engine = unasked.read_model.engine
    unasked.read_model.writer.defer_indexes_from = 3
    # given a first catch-up of a large log stopped once it had applied it, before it made
    # the answer indexes
    stopped_before_the_indexes(lambda: unasked.rate_on(**QUESTION))
    assert missing_in(engine) == set(ANSWER_INDEXES)
    # when another process opens the store and asks, with nothing left to apply
    assert asked_by_another_process(db_url, clock) == 10
    # then that process made them
    assert missing_in(engine) == set()
