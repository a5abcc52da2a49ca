"""Dropping the read model's tables on SQLite, for a rebuild or a new layout, frees their
pages without writing each of them again: the drop writes a few pages to the log, not every
page the tables held (SQLite as some systems build it overwrites each freed page with zeros,
a minute of writing for a read model of a million events)."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import text

from tariff_timeline import TariffTimeline
from tariff_timeline.readmodel.tables import create_tables


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_dropping_the_read_models_tables_writes_few_pages_to_the_log(
        loaded: TariffTimeline) -> None:
    # Given a store whose read model holds the bundled policy, its log emptied into the file.
    read_model = loaded.read_model
    assert read_model is not None
    engine = read_model.engine
    database = engine.url.database
    assert database is not None
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA secure_delete")).scalar_one() == 2  # 2: FAST
        busy = conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)")).one()[0]
        page_size = conn.execute(text("PRAGMA page_size")).scalar_one()
        free_before = conn.execute(text("PRAGMA freelist_count")).scalar_one()
    assert busy == 0
    assert os.path.getsize(f"{database}-wal") == 0
    # When its tables are dropped and made again.
    create_tables(engine)
    # Then the pages they freed were not written to the log again.
    with engine.connect() as conn:
        freed = (conn.execute(text("PRAGMA freelist_count")).scalar_one() - free_before)
    logged = os.path.getsize(f"{database}-wal")
    assert freed * page_size > 2_000_000
    assert logged < freed * page_size / 10
