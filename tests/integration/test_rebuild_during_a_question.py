"""A question reads the read model in several statements, after its catch-up checked which
making of the tables it reads. Another process may rebuild the tables in between: it drops
them, makes them empty and fills them again, one transaction at a time. The question then
leaves with RowsMoved and answers nothing; asked again, it answers from the rebuilt tables as
the fold does. Ids given in the new tables never name rows of the old ones, so what the
question decoded before is never taken for a new row. An append's check is checked again the
same way on SQLite; on PostgreSQL its transaction holds the tables, and the rebuild waits for
it, or meets it in a deadlock and tries again (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from threading import Thread
from time import monotonic
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from tariff_timeline import TariffTimeline
from tariff_timeline.readmodel.lookup import RecordedView
from tariff_timeline.readmodel.reader import _texts
from tariff_timeline.readmodel.tables import (
    GIVEN_IDS,
    RowsMoved,
    VersionRow,
    create_tables,
)
from tariff_timeline.readmodel.writer import ABORTS_RETRIED
from tests.builders import hts_line, imposed, rate_changed, revised
from tests.conftest import FakeClock

QUESTION = {"origin": "CN", "hts": "8703", "entered": "2025-06-01"}


def a_measure_changed_and_a_chapter() -> list[object]:
    return [revised("r1-87", "r1", "87", known="2024-12-01", start="2025-01-01",
                    baseline=True, added=(hts_line("8703", "Motor cars"),)),
            imposed("m-10", "m", known="2025-01-01", start="2025-02-01", percent=10,
                    products=("8703",))]


def raised_to_30() -> list[object]:
    return [rate_changed("m-30", "m", known="2025-03-01", start="2025-04-01", percent=30)]


@pytest.fixture
def asker(db_url: str, clock: FakeClock) -> Iterator[TariffTimeline]:
    """A process that recorded a measure, a change of it and a chapter, and answered."""
    opened = TariffTimeline.open(db_url, clock=clock)
    opened.record_events(a_measure_changed_and_a_chapter())
    clock.advance(hours=1)
    opened.record_events(raised_to_30())
    assert opened.rate_on(**QUESTION).additional == 30
    yield opened
    opened.close()


@pytest.fixture
def other(db_url: str, clock: FakeClock) -> Iterator[TariffTimeline]:
    """Another process on the same store."""
    opened = TariffTimeline.open(db_url, clock=clock)
    yield opened
    opened.close()


def before_the_first_call(monkeypatch: pytest.MonkeyPatch, owner: object, name: str,
                          meanwhile: Callable[[], object]) -> list[bool]:
    """Run `meanwhile` once, just before the next call of `owner.name` (an instance's or a
    class's method); the list returned holds True once it ran."""
    call = getattr(owner, name)
    done: list[bool] = []

    def first_after(*args: Any, **kwargs: Any) -> Any:
        if not done:
            done.append(True)
            meanwhile()
        return call(*args, **kwargs)

    monkeypatch.setattr(owner, name, first_after)
    return done


def while_reading(timeline: TariffTimeline, monkeypatch: pytest.MonkeyPatch,
                  meanwhile: Callable[[], object]) -> None:
    """Run `meanwhile` once, after the next question's catch-up and before its first read."""
    assert timeline.read_model is not None
    before_the_first_call(monkeypatch, timeline.read_model.reader, "slice_at", meanwhile)


def most_ids(timeline: TariffTimeline) -> dict[str, tuple[int | None, int | None]]:
    """The lowest and highest id of each table whose ids are given by a counter."""
    assert timeline.read_model is not None
    with Session(timeline.read_model.engine) as session:
        return {table.__tablename__: tuple(session.execute(  # type: ignore[misc]
            select(func.min(table.id), func.max(table.id))).one())  # type: ignore[attr-defined]
            for table in GIVEN_IDS}


def test_ids_given_after_a_rebuild_name_no_row_of_the_tables_before(
        asker: TariffTimeline, other: TariffTimeline) -> None:
    # given the read model's rows, versions, pieces, statuses and HTS lines among them
    before = most_ids(asker)
    assert all(high is not None for _, high in before.values())
    # when another process rebuilds the read model
    other.rebuild_read_model()
    after = most_ids(other)
    # then every table's new ids start above the highest the old tables had given
    for name, (low, _) in after.items():
        assert low is not None and low > (before[name][1] or 0), name
    assert other.rate_on(**QUESTION) == other.rate_on_by_fold(**QUESTION)


def test_a_rebuild_that_fills_the_tables_during_a_question_is_not_answered_from(
        asker: TariffTimeline, other: TariffTimeline,
        monkeypatch: pytest.MonkeyPatch) -> None:
    # given a question whose catch-up found the read model current
    while_reading(asker, monkeypatch, other.rebuild_read_model)
    # when another process rebuilds the tables before the question reads them
    with pytest.raises(RowsMoved, match="made again"):
        asker.rate_on(**QUESTION)
    # then asked again, it answers from the rebuilt tables, as the fold does
    assert asker.rate_on(**QUESTION).additional == 30
    assert asker.rate_on(**QUESTION) == asker.rate_on_by_fold(**QUESTION)


def test_tables_made_empty_during_a_question_give_no_answer(
        asker: TariffTimeline, other: TariffTimeline,
        monkeypatch: pytest.MonkeyPatch) -> None:
    # given a question whose catch-up found the read model current
    assert other.read_model is not None
    engine = other.read_model.engine
    while_reading(asker, monkeypatch, lambda: create_tables(engine))
    # when another process's rebuild has made the tables, empty, and not filled them yet
    # (read, they would give no duty at all: an answer that looks right)
    with pytest.raises(RowsMoved, match="ask again"):
        asker.rate_on(**QUESTION)
    # then asked again, the question catches the read model up first and answers as the fold
    assert asker.rate_on(**QUESTION).additional == 30
    assert asker.rate_on(**QUESTION) == asker.rate_on_by_fold(**QUESTION)


def test_an_append_committed_during_a_question_leaves_its_answer_alone(
        asker: TariffTimeline, other: TariffTimeline, clock: FakeClock,
        monkeypatch: pytest.MonkeyPatch) -> None:
    # given a question asked as recorded now
    def append() -> None:
        clock.advance(hours=1)
        other.record_events([rate_changed("m-50", "m", known="2025-05-01",
                                          start="2025-05-15", percent=50)])
        other.catch_up()

    recorded = clock().isoformat()
    while_reading(asker, monkeypatch, append)
    # when another process appends and catches up before the question reads
    answer = asker.rate_on(**QUESTION, known=recorded, recorded=recorded)
    # then the question is answered, as known and recorded when it was asked
    assert answer.additional == 30
    assert answer == asker.rate_on_by_fold(**QUESTION, known=recorded, recorded=recorded)


def test_rows_listed_and_gone_before_their_text_is_read_are_refused(
        asker: TariffTimeline) -> None:
    # given the ids of versions, one of them never given
    assert asker.read_model is not None
    with asker.read_model.engine.connect() as conn:
        ids = list(conn.scalars(select(VersionRow.id)))
        # when their texts are read
        # then the question is refused and told to ask again, with the table named
        with pytest.raises(RowsMoved, match=r"rm_versions.*ask again"):
            _texts(conn, VersionRow.id, VersionRow.state, [*ids, max(ids) + 1000])
        assert set(_texts(conn, VersionRow.id, VersionRow.state, ids)) == set(ids)


def test_an_append_checked_while_the_tables_are_made_again_is_checked_again(
        asker: TariffTimeline, other: TariffTimeline, clock: FakeClock,
        monkeypatch: pytest.MonkeyPatch) -> None:
    # given an append about the measure, whose check reads the read model's tables
    assert other.read_model is not None
    engine = other.read_model.engine
    rebuilding: list[Thread] = []
    failed: list[BaseException] = []

    def rebuild() -> None:
        try:
            other.rebuild_read_model()
        except BaseException as error:  # the thread's failure, told to the test
            failed.append(error)

    def meanwhile() -> None:
        if engine.dialect.name == "postgresql":
            # The check reads in one transaction, which holds its tables: the rebuild's
            # DROP waits for it to end (or meets it in a deadlock, and tries again).
            rebuilding.append(Thread(target=rebuild))
            rebuilding[0].start()
            waiting_for_a_lock(engine)
        else:
            # A rebuild that has made the tables again and not filled them yet.
            rebuilding.append(Thread(target=create_tables, args=(engine,)))
            rebuilding[0].start()
            rebuilding[0].join()

    before_the_first_call(monkeypatch, RecordedView, "recorded", meanwhile)
    clock.advance(hours=1)
    # when another process rebuilds the read model while the append is checked (its tables
    # read empty, the measure would not be known, and the append refused)
    report = asker.record_events([rate_changed("m-50", "m", known="2025-05-01",
                                               start="2025-05-15", percent=50)])
    rebuilding[0].join()
    assert not failed
    # then the append is checked again against the tables caught up (SQLite), or the
    # rebuild waited for the check (PostgreSQL), and it is recorded once
    assert (report.appended, report.total_events) == (1, 4)
    later = {**QUESTION, "entered": "2025-06-01"}
    assert asker.rate_on(**later).additional == 50
    assert asker.rate_on(**later) == asker.rate_on_by_fold(**later)


def waiting_for_a_lock(engine: Engine, seconds: float = 30.0) -> None:
    """Return once some session of the PostgreSQL server waits for a lock (within a bound)."""
    waited = select(func.count()).select_from(text("pg_stat_activity")).where(
        text("wait_event_type = 'Lock'"))
    deadline = monotonic() + seconds
    with engine.connect() as conn:
        while not conn.execute(waited).scalar():
            conn.rollback()
            if monotonic() > deadline:
                raise AssertionError(f"no session waited for a lock within {seconds} s")


def test_a_catch_up_that_read_its_position_before_a_rebuild_applies_the_whole_log(
        asker: TariffTimeline, other: TariffTimeline, clock: FakeClock,
        monkeypatch: pytest.MonkeyPatch) -> None:
    # given an append about a new measure that the read model has not applied yet
    clock.advance(hours=1)
    asker.record_events([imposed("n-5", "n", known="2025-05-01", start="2025-05-15", percent=5,
                                 products=("9503",))])
    assert asker.read_model is not None and other.read_model is not None
    engine = other.read_model.engine
    done = before_the_first_call(monkeypatch, asker.read_model.writer, "_apply_stream",
                                 lambda: create_tables(engine))
    # when another process's rebuild makes the tables again after the catch-up read its
    # position, and before it applies the append (alone, it would claim the whole position)
    applied = asker.catch_up()
    # then the catch-up applies the whole log to the new tables, and both processes answer
    # as the fold does
    assert done and applied == 4
    for timeline in (asker, other):
        assert timeline.rate_on(**QUESTION).additional == 30
        assert timeline.rate_on(**QUESTION) == timeline.rate_on_by_fold(**QUESTION)


def test_a_question_after_postgres_dropped_the_watching_connection_is_answered(
        pg_url: str, clock: FakeClock) -> None:
    # given a process that answered on PostgreSQL
    timeline = TariffTimeline.open(pg_url, clock=clock)
    try:
        timeline.record_events(a_measure_changed_and_a_chapter())
        assert timeline.rate_on(**QUESTION).additional == 10
        assert timeline.read_model is not None
        watching = timeline.read_model.writer._watch._conn
        assert watching is not None
        pid = watching.dbapi_connection.info.backend_pid  # type: ignore[union-attr]
        # when the server drops the connection it reads the tables' state on
        with timeline.read_model.engine.connect() as conn:
            assert conn.execute(select(func.pg_terminate_backend(pid))).scalar()
        # then the next question connects again, and is answered
        assert timeline.rate_on(**QUESTION).additional == 10
        assert timeline.rate_on(**QUESTION) == timeline.rate_on_by_fold(**QUESTION)
    finally:
        timeline.close()


class Aborted(Exception):
    """PostgreSQL's error for a transaction aborted in a deadlock (its SQLSTATE)."""

    sqlstate = "40P01"


@pytest.mark.parametrize(("aborts", "applied"), [(2, 1), (ABORTS_RETRIED + 1, None)])
def test_a_catch_up_aborted_for_another_transaction_tries_again_a_bounded_number_of_times(
        asker: TariffTimeline, clock: FakeClock, monkeypatch: pytest.MonkeyPatch,
        aborts: int, applied: int | None) -> None:
    # given an append the read model has not applied yet
    clock.advance(hours=1)
    asker.record_events([imposed("n-5", "n", known="2025-05-01", start="2025-05-15", percent=5,
                                 products=("9503",))])
    assert asker.read_model is not None
    writer = asker.read_model.writer
    apply = writer._apply_stream
    left = [aborts]

    def aborted_first(*args: Any, **kwargs: Any) -> Any:
        if left[0]:
            left[0] -= 1
            raise Aborted("deadlock detected")
        return apply(*args, **kwargs)

    monkeypatch.setattr(writer, "_apply_stream", aborted_first)
    # when the database aborts its transaction (a rebuild dropping the tables met it in a
    # deadlock) `aborts` times
    if applied is None:
        # then past the bound, the catch-up gives up with the database's error
        with pytest.raises(Aborted):
            asker.catch_up()
        return
    # then it reads its position again and applies the append
    assert asker.catch_up() == applied
    assert asker.rate_on(**QUESTION) == asker.rate_on_by_fold(**QUESTION)
