"""How SQLite runs the read model's reads: a question gives its connection back to the pool
as it found it, so the statements SQLite prepared on that connection stay prepared for the next
question (SQLite expires every prepared statement of a connection when a flag PRAGMA such as
`read_uncommitted` is set on it, and switching a pooled connection to autocommit and back set
one at every return)."""

from __future__ import annotations

from pathlib import Path

from tariff_timeline import TariffTimeline
from tests.builders import imposed
from tests.conftest import FakeClock

QUESTION = {"origin": "BR", "hts": "0901.11.00", "entered": "2025-06-01"}


def test_a_question_asked_again_on_sqlite_runs_no_pragma_that_expires_its_statements(
        tmp_path: Path, clock: FakeClock) -> None:
    timeline = TariffTimeline.open(f"sqlite:///{tmp_path / 'store.sqlite'}", clock=clock,
                                   load_bundled_if_new=False)
    try:
        # given a store on SQLite holding one measure, asked once (its statements prepared)
        timeline.record_events([imposed("baseline-10", "baseline", known="2025-04-02",
                                        start="2025-04-05", percent=10)])
        first = timeline.rate_on(**QUESTION).additional
        engine = timeline.read_model.reader.engine
        # Questions run one after another, so the pool lends its one connection to each:
        # every statement run on it from here is seen.
        assert engine.pool.checkedin() == 1  # type: ignore[attr-defined]
        seen: list[str] = []
        with engine.connect() as conn:
            conn.connection.driver_connection.set_trace_callback(  # type: ignore[union-attr]
                seen.append)
        # when the same question is asked three more times
        again = {timeline.rate_on(**QUESTION).additional for _ in range(3)}
    finally:
        timeline.close()
    # then each gave the same answer, read on that connection by its slice's statement, and
    # nothing between the questions set a PRAGMA on it
    assert [str(a) for a in {first, *again}] == ["10"]
    assert sum("FROM rm_pieces" in statement for statement in seen) == 3, seen
    assert not [s for s in seen if s.lstrip().upper().startswith("PRAGMA")], seen
