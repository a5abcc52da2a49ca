"""The read model's hottest reads run on the driver's cursor (`readmodel.bare`): they read what
SQLAlchemy's execution of the same statement reads, fail as SQLAlchemy would, and refuse a
statement whose values the driver alone would not bind or return as SQLAlchemy does."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import (
    Integer,
    String,
    TypeDecorator,
    bindparam,
    column,
    literal_column,
    select,
    table,
    union_all,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from tariff_timeline import TariffTimeline
from tariff_timeline.domain.errors import StoreError
from tariff_timeline.readmodel.bare import bare_rows
from tariff_timeline.readmodel.reader import (
    _families_named,
    _listed_value,
    _texts,
    _texts_of,
)
from tariff_timeline.readmodel.tables import EventRow, RowsMoved, VersionRow
from tests.builders import imposed


@pytest.fixture
def engine(timeline: TariffTimeline) -> Iterator[Engine]:
    # given a store holding two measures, each a version in the read model
    timeline.record_events([
        imposed("baseline-10", "baseline", known="2025-04-02", start="2025-04-05", percent=10),
        imposed("reciprocal-br", "reciprocal-br", known="2025-07-09", start="2025-08-06",
                percent=40, origins=("BR",)),
    ])
    timeline.catch_up()
    assert timeline.read_model is not None
    yield timeline.read_model.reader.engine


def test_a_statement_run_bare_reads_the_rows_sqlalchemy_reads(engine: Engine) -> None:
    # when a union with a bound literal and parameters is run both ways
    statement = union_all(
        select(literal_column("0", Integer).label("part"), VersionRow.subject,
               VersionRow.first_known).where(VersionRow.kind == "measure",
                                             VersionRow.first_known >= bindparam("since")),
        select(literal_column("1", Integer), VersionRow.subject, VersionRow.first_known)
        .where(VersionRow.subject == bindparam("named")),
    ).order_by(literal_column("part"), literal_column("subject"))
    values = {"since": 0, "named": "measure:baseline"}
    with engine.connect() as conn:
        bare = bare_rows(conn, statement, values)
        expected = [tuple(row) for row in conn.execute(statement, values)]
    # then the rows are the same, in the same order, named by the statement's columns
    assert [tuple(row) for row in bare] == expected
    assert [row.subject for row in bare] == ["measure:baseline", "measure:reciprocal-br",
                                             "measure:baseline"]
    assert {row.part for row in bare} == {0, 1}


def test_a_driver_error_in_a_bare_read_is_raised_as_sqlalchemy_raises_it(
        engine: Engine) -> None:
    # given a statement over a table the database does not hold
    missing = select(column("id")).select_from(table("rm_no_such_table"))
    with engine.connect() as conn:
        # when it is run bare, then the error is SQLAlchemy's, naming the table
        with pytest.raises(DBAPIError, match="rm_no_such_table"):
            bare_rows(conn, missing, {})
        # and the connection still answers afterwards
        assert bare_rows(conn, select(VersionRow.id).limit(1), {})


class Shouted(TypeDecorator[str]):
    """Text that SQLAlchemy converts on its way in and out: the driver alone would not."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        return None if value is None else str(value).upper()

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        return None if value is None else str(value).upper()


@pytest.mark.parametrize(("statement", "why"), [
    (select(VersionRow.id).where(VersionRow.id.in_(bindparam("ids", expanding=True))),
     "expanded at execution"),
    (select(VersionRow.id).where(VersionRow.subject == bindparam("ids", type_=Shouted())),
     "parameters its dialect converts"),
    (select(literal_column("'quiet'", Shouted()).label("word")), "converted by its dialect"),
])
def test_a_statement_the_driver_would_read_differently_is_refused(
        engine: Engine, statement: object, why: str) -> None:
    with engine.connect() as conn, pytest.raises(StoreError, match=why):
        bare_rows(conn, statement, {"ids": [1]})  # type: ignore[arg-type]


def test_a_bare_read_missing_a_parameter_is_refused_not_run_with_null(engine: Engine) -> None:
    statement = select(VersionRow.id).where(VersionRow.subject == bindparam("named"))
    with engine.connect() as conn, pytest.raises(StoreError, match="named"):
        bare_rows(conn, statement, {})


def test_rows_listed_in_one_parameter_are_read_whatever_how_many(engine: Engine) -> None:
    # given the versions' ids and the events' ids the store holds
    with engine.connect() as conn:
        ids = list(conn.execute(select(VersionRow.id)).scalars())
        event_ids = list(conn.execute(select(EventRow.event_id)).scalars())
        texts = {row_id: state for row_id, state in conn.execute(
            select(VersionRow.id, VersionRow.state))}
        # when they are read by lists of ids, with ids the store does not hold among them
        # and more ids than one chunk holds
        listed = _texts(conn, VersionRow.id, VersionRow.state,
                        [*ids, *ids], chunk=len(ids))
        absent = bare_rows(conn, _texts_of(VersionRow, "id", "state", conn.dialect.name),
                           {"ids": _listed_value(conn.dialect.name, [-1, -2])})
        nothing = _texts(conn, VersionRow.id, VersionRow.state, [])
        families = bare_rows(conn, _families_named(conn.dialect.name), {
            "ids": _listed_value(conn.dialect.name, [event_ids[-1], "no-such-event"])})
        # then each row listed is read once, with its text, and none other
        assert listed == texts and len(ids) == 2
        assert absent == [] and nothing == {}
        assert [row.event_id for row in families] == [event_ids[-1]]
        # and a row listed that the store does not hold says the question must ask again
        with pytest.raises(RowsMoved, match="gone"):
            _texts(conn, VersionRow.id, VersionRow.state, [ids[0], max(ids) + 1])
