"""A read model written in an older table layout is made again from the log when the store is
next asked, on SQLite and PostgreSQL: the foreign keys that layout 16 made from the key tables
to their pieces and versions (layout 17 has none) do not stand in the way of dropping it."""

from __future__ import annotations

import pytest
from sqlalchemy import func, inspect, select, update
from sqlalchemy.engine import Engine

from tariff_timeline import TariffTimeline
from tariff_timeline.readmodel.tables import SCHEMA, Base, SchemaRow
from tests.builders import exemption, imposed
from tests.conftest import FakeClock

QUESTION = {"origin": "CN", "hts": "8703", "entered": "2025-06-01"}

LAYOUT_16_KEYS = (("rm_piece_origins", "piece_id", "rm_pieces"),
                  ("rm_piece_products", "piece_id", "rm_pieces"),
                  ("rm_origin_keys", "version_id", "rm_versions"),
                  ("rm_product_keys", "version_id", "rm_versions"),
                  ("rm_version_marks", "version_id", "rm_versions"))
"""The foreign keys of layout 16: (table, column, the table its ids name)."""


def foreign_keys_in(engine: Engine) -> int:
    found = inspect(engine)
    return sum(len(found.get_foreign_keys(table.name)) for table in Base.metadata.sorted_tables)


def test_a_read_model_of_layout_16_with_its_foreign_keys_is_made_again_when_asked(
        db_url: str, clock: FakeClock) -> None:
    # given a store whose read model has applied its log, then is made to look as layout 16
    # left it: that number, and (on PostgreSQL, which enforces them) its foreign keys
    timeline = TariffTimeline.open(db_url, clock=clock, load_bundled_if_new=False)
    timeline.record_events([
        imposed("m-10", "m", known="2025-01-01", start="2025-02-01", percent=10,
                products=("8703",)),
        exemption("x-on", "x", known="2025-01-01", start="2025-02-01", measures=("m",),
                  origins=("JP",))])
    assert timeline.rate_on(**QUESTION).additional == 10
    assert timeline.read_model is not None
    engine = timeline.read_model.engine
    with engine.begin() as conn:
        conn.execute(update(SchemaRow).values(version=16))
        if conn.dialect.name == "postgresql":
            for table, column, parent in LAYOUT_16_KEYS:
                conn.exec_driver_sql(f"ALTER TABLE {table} ADD FOREIGN KEY ({column}) "
                                     f"REFERENCES {parent} (id) ON DELETE CASCADE")
    if engine.dialect.name == "postgresql":
        assert foreign_keys_in(engine) == len(LAYOUT_16_KEYS)
    timeline.close()
    # when the store is opened again and asked
    reopened = TariffTimeline.open(db_url, clock=clock, load_bundled_if_new=False)
    answer = reopened.rate_on(**QUESTION)
    # then its read model was made again in this layout, without foreign keys, and answers
    # as the fold does
    assert reopened.read_model is not None
    engine = reopened.read_model.engine
    with engine.connect() as conn:
        assert conn.execute(select(func.max(SchemaRow.version))).scalar() == SCHEMA
    assert foreign_keys_in(engine) == 0
    assert answer.additional == 10
    assert answer.model_dump(mode="json") == (
        reopened.rate_on_by_fold(**QUESTION).model_dump(mode="json"))
    reopened.close()


@pytest.mark.parametrize("table", [table for table, _, _ in LAYOUT_16_KEYS])
def test_no_key_table_of_this_layout_has_a_foreign_key(table: str) -> None:
    assert not Base.metadata.tables[table].foreign_keys
