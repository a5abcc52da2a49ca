"""A question leaves PostgreSQL nothing to roll back: the read model's reads run outside a
transaction, so the statements psycopg prepares after five runs stay prepared for the next
question (psycopg forgets every prepared statement at a ROLLBACK)."""

from __future__ import annotations

from sqlalchemy import text

from tariff_timeline import TariffTimeline
from tests.builders import imposed
from tests.conftest import FakeClock

QUESTION = {"origin": "BR", "hts": "0901.11.00", "entered": "2025-06-01"}


def test_a_question_asked_again_runs_prepared_reads_on_postgres(
        pg_url: str, clock: FakeClock) -> None:
    timeline = TariffTimeline.open(pg_url, clock=clock, load_bundled_if_new=False)
    try:
        # given a store on PostgreSQL holding one measure
        timeline.record_events([imposed("baseline-10", "baseline", known="2025-04-02",
                                        start="2025-04-05", percent=10)])
        # when the same question is asked ten times
        answers = {timeline.rate_on(**QUESTION).additional for _ in range(10)}
        # then each gave the same answer, and the read model's one connection (questions
        # run one after another) holds its reads of the tracking row and the pieces prepared
        engine = timeline.read_model.engine
        assert engine.pool.checkedin() == 1  # type: ignore[attr-defined]
        with engine.connect() as conn:
            prepared = conn.execute(text(
                "SELECT statement FROM pg_prepared_statements")).scalars().all()
    finally:
        timeline.close()
    assert [str(a) for a in answers] == ["10"]
    assert any("FROM rm_tracking" in statement for statement in prepared), prepared
    assert any("FROM rm_pieces" in statement for statement in prepared), prepared
