"""How PostgreSQL runs the read model's reads: a question leaves nothing to roll back, so the
statements psycopg prepares after five runs stay prepared for the next question (psycopg
forgets every prepared statement at a ROLLBACK); and a large catch-up leaves the planner fresh
statistics, so it does not guess its way to scanning every row, and has it sample the tables
it fills while it fills them, so the plans of its own repeated reads do not go stale."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import Connection

from tariff_timeline import TariffTimeline
from tariff_timeline.readmodel import writer as writer_module
from tests.builders import imposed
from tests.conftest import FakeClock

QUESTION = {"origin": "BR", "hts": "0901.11.00", "entered": "2025-06-01"}


def three_events() -> list[Any]:
    return [imposed(f"baseline-{n}", f"baseline-{n}", known="2025-04-02", start="2025-04-05",
                    percent=n) for n in (10, 20, 30)]


def sampled(timeline: TariffTimeline) -> float:
    """The rows PostgreSQL last counted in the events table: -1 until it was analysed."""
    with timeline.read_model.engine.connect() as conn:
        return float(conn.execute(text(
            "SELECT reltuples FROM pg_class WHERE oid = 'rm_events'::regclass")).scalar_one())


def test_a_question_asked_again_runs_prepared_reads_on_postgres(
        pg_url: str, clock: FakeClock) -> None:
    timeline = TariffTimeline.open(pg_url, clock=clock, load_bundled_if_new=False)
    try:
        # given a store on PostgreSQL holding one measure
        timeline.record_events([imposed("baseline-10", "baseline", known="2025-04-02",
                                        start="2025-04-05", percent=10)])
        # when the same question is asked ten times
        answers = {timeline.rate_on(**QUESTION).additional for _ in range(10)}
        # then each gave the same answer, the read model's one connection (questions run one
        # after another) holds its reads of the pieces prepared, and the connection the
        # commit watch keeps its read of the commit mark (the server's snapshot, which each
        # question reads before and after it reads the tables: nothing was committed
        # meanwhile, so none read the tracking row again)
        engine = timeline.read_model.engine
        assert engine.pool.checkedin() == 1  # type: ignore[attr-defined]
        with engine.connect() as conn:
            prepared = conn.execute(text(
                "SELECT statement FROM pg_prepared_statements")).scalars().all()
        watched = timeline.read_model.writer._watch.first(
            "SELECT string_agg(statement, ' | ') FROM pg_prepared_statements")
    finally:
        timeline.close()
    assert [str(a) for a in answers] == ["10"]
    assert any("FROM rm_pieces" in statement for statement in prepared), prepared
    assert watched is not None and "pg_current_snapshot()" in watched[0], watched


@pytest.mark.parametrize(("analyze_after", "expected"), [(3, 3.0), (4, -1.0)])
def test_a_catch_up_of_at_least_analyze_after_events_refreshes_statistics_on_postgres(
        pg_url: str, clock: FakeClock, analyze_after: int, expected: float) -> None:
    timeline = TariffTimeline.open(pg_url, clock=clock, load_bundled_if_new=False)
    try:
        timeline.read_model.writer.analyze_after = analyze_after
        # given three events recorded, which the read model has not applied yet
        timeline.record_events(three_events())
        # when it catches up with them
        applied = timeline.catch_up()
        # then PostgreSQL sampled its tables only when that reached `analyze_after`
        found = sampled(timeline)
    finally:
        timeline.close()
    assert applied == 3
    assert found == expected


def test_a_long_catch_up_samples_the_tables_it_fills_each_time_their_rows_double_on_postgres(
        pg_url: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    # Event rows are written two at a time, so the transaction's rows grow in steps of two.
    monkeypatch.setattr(writer_module, "CHUNK", 2)
    timeline = TariffTimeline.open(pg_url, clock=clock, load_bundled_if_new=False)
    samplings: list[str | None] = []

    def spy(conn: Connection, cursor: Any, statement: str, *args: Any) -> None:
        if statement.startswith("ANALYZE"):
            samplings.append(conn.get_execution_options().get("isolation_level"))

    try:
        timeline.read_model.writer.analyze_after = 2
        # given nine events recorded in one import, which the read model has not applied yet
        timeline.record_events([imposed(f"m-{n}", f"m-{n}", known="2025-04-02",
                                        start="2025-04-05", percent=n) for n in range(1, 10)])
        event.listen(timeline.read_model.engine, "before_cursor_execute", spy)
        # when it catches up with them, in one transaction
        applied = timeline.catch_up()
        found = sampled(timeline)
    finally:
        timeline.close()
    # then PostgreSQL sampled the tables inside that transaction when its event rows reached
    # two, four and eight (and not at six), and once more after it committed
    assert applied == 9
    assert samplings == [None, None, None, "AUTOCOMMIT"]
    assert found == 9.0


def test_text_written_by_copy_keeps_tabs_line_breaks_backslashes_and_null_markers_on_postgres(
        pg_url: str, clock: FakeClock) -> None:
    # COPY's text format gives tab, line break and backslash a meaning, and reads \N as NULL.
    title = "Annex\tI\nline two \\ C:\\path \\N « é 中 »"
    given = imposed("m-1", "m-1", known="2025-04-02", start="2025-04-05", percent=10)
    cited = type(given).model_validate({**given.model_dump(), "title": title, "sources": [
        {"title": title, "instrument": "\\N", "url": "https://example.org/a"}]})
    timeline = TariffTimeline.open(pg_url, clock=clock, load_bundled_if_new=False)
    try:
        # given an event whose title and citation hold each of them
        timeline.record_events([cited])
        # when the read model applies it and is asked for the sources and the measure's history
        sources = timeline.sources()
        history = timeline.history("m-1")
    finally:
        timeline.close()
    # then the rows written by COPY give back the very text recorded
    assert [(s.title, s.instrument, s.via) for s in sources] == [(title, "\\N", None)]
    assert [(s.title, s.instrument) for s in history.rows[0].sources] == [(title, "\\N")]
