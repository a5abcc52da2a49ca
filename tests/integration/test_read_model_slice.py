"""A question about goods reads, of the read model, only what bears on its cell (issue 14):
what a measure falls back on where it has no scope of its own (its announcements, its first
or its last scope) decides who finds it, and answers stay those of the fold."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from benchmarks.generate import write_history
from tariff_timeline import TariffTimeline
from tariff_timeline.domain.timeline import Timeline
from tariff_timeline.projections.pieces import FOREVER
from tests.builders import (
    announced,
    court_ruled,
    imposed,
    scope_amended,
    stacking,
)
from tests.conftest import FakeClock
from tests.integration.test_read_model_equals_fold import _schedule_by_fold

HISTORY = [
    imposed("steel", "steel", known="2024-12-01", start="2025-01-10", percent=25,
            products=("7208",)),
    # Starts after the entry dates asked, for China's toys only.
    imposed("later", "later", known="2025-01-01", start="2025-06-01", percent=20,
            origins=("CN",), products=("9503",)),
    # Never imposed: announced for Vietnam's computers.
    announced("talk", "talk", known="2025-01-05", origins=("VN",), products=("8471",)),
    # Ended on 1 February; learned in mid-February that it covered trucks for a while, which
    # makes trucks its last scope, the one answers fall back on after it ended.
    imposed("ended", "ended", known="2024-12-01", start="2025-01-01", percent=10,
            origins=("DE",), products=("8703",), until="2025-02-01"),
    scope_amended("trucks", "ended", known="2025-02-15", start="2025-01-15", until="2025-01-20",
                  origins=("DE",), products=("8704",)),
    court_ruled("ruled", "ruling", known="2025-01-20", measures=("steel",)),
    stacking("stack", "rule", known="2025-01-02", start="2025-01-01",
             when={"measures": ["steel"]}, excludes={"measures": ["later"]}),
]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TariffTimeline]:
    clock = FakeClock(datetime(2026, 1, 5, tzinfo=UTC))
    folder = tmp_path_factory.mktemp("slice")
    timeline = TariffTimeline.open(f"sqlite:///{folder / 'store.sqlite'}", clock=clock)
    timeline.record_events(HISTORY)
    timeline.catch_up()
    yield timeline
    timeline.close()


def _slice(timeline: TariffTimeline, origin: str, hts: str, entered: str,
           known: str | None = None) -> Timeline:
    assert timeline.read_model is not None
    coordinate = timeline.coordinate(entered, known)
    return timeline.read_model.reader.slice_at(coordinate.effective, coordinate.known,
                                               coordinate.recorded, origin, hts)


def _same_as_fold(timeline: TariffTimeline, origin: str, hts: str, entered: str,
                  known: str | None = None) -> None:
    assert timeline.rate_on(origin=origin, hts=hts, entered=entered, known=known) == (
        timeline.rate_on_by_fold(origin=origin, hts=hts, entered=entered, known=known))


def test_a_question_on_a_cell_reads_none_of_the_measures_starting_or_announced_for_others(
        store: TariffTimeline) -> None:
    found = _slice(store, "DE", "7208101500", "2025-03-01")
    assert set(found.measures) == {"steel"}
    _same_as_fold(store, "DE", "7208101500", "2025-03-01")


def test_a_measure_not_yet_in_force_is_read_by_questions_on_the_goods_of_its_first_scope(
        store: TariffTimeline) -> None:
    assert set(_slice(store, "CN", "9503000090", "2025-03-01").measures) == {"later"}
    assert set(_slice(store, "VN", "9503000090", "2025-03-01").measures) == set()
    assert [layer.status for layer in store.rate_on(
        origin="CN", hts="9503000090", entered="2025-03-01").layers] == ["scheduled"]
    _same_as_fold(store, "CN", "9503000090", "2025-03-01")


def test_a_measure_only_announced_is_read_by_questions_on_the_goods_it_was_announced_for(
        store: TariffTimeline) -> None:
    assert set(_slice(store, "VN", "8471300100", "2025-03-01").measures) == {"talk"}
    assert set(_slice(store, "CN", "8471300100", "2025-03-01").measures) == set()
    _same_as_fold(store, "VN", "8471300100", "2025-03-01")


def test_a_measure_that_ended_is_read_through_its_last_scope_as_known_at_each_time(
        store: TariffTimeline) -> None:
    # Before the amendment was known its last scope was cars; after, trucks.
    assert "ended" in _slice(store, "DE", "8703230100", "2025-03-01", known="2025-02-10").measures
    assert "ended" not in _slice(store, "DE", "8703230100", "2025-03-01").measures
    assert "ended" in _slice(store, "DE", "8704100000", "2025-03-01").measures
    assert "ended" not in _slice(store, "DE", "8704100000", "2025-03-01",
                                 known="2025-02-10").measures
    for hts in ("8703230100", "8704100000"):
        for known in ("2025-02-10", None):
            _same_as_fold(store, "DE", hts, "2025-03-01", known)


def test_a_court_ruling_is_read_by_no_question_on_goods_but_a_stacking_rule_by_every_one(
        store: TariffTimeline) -> None:
    found = _slice(store, "DE", "7208101500", "2025-03-01")
    assert set(found.rulings) == set() and set(found.rules) == {"rule"}
    assert store.read_model is not None
    coordinate = store.coordinate("2025-03-01")
    assert set(store.read_model.reader.slice_at(
        coordinate.effective, coordinate.known, coordinate.recorded).rulings) == {"ruling"}


def test_every_key_row_carries_the_known_and_recorded_ends_of_its_row(
        tmp_path: Path) -> None:
    # given a generated history with corrections and retractions, imported in three appends
    files = write_history(1200, tmp_path / "history", seed=5, per_file=400)
    clock = FakeClock(datetime(2026, 1, 5, tzinfo=UTC))
    timeline = TariffTimeline.open(f"sqlite:///{tmp_path / 'keys.sqlite'}", clock=clock,
                                   load_bundled_if_new=False)
    try:
        for file in files:
            clock.advance(hours=1)
            timeline.import_paths([file])
        timeline.catch_up()
        assert timeline.read_model is not None
        # then no key row disagrees with the piece or version it keys (some were closed)
        with timeline.read_model.engine.connect() as db:
            closed = db.execute(text(
                "SELECT COUNT(*) FROM rm_piece_origins WHERE rec_until < :forever"),
                {"forever": FOREVER}).scalar()
            wrong = [db.execute(text(sql)).scalar() for sql in (
                "SELECT COUNT(*) FROM rm_piece_origins k JOIN rm_pieces p ON p.id = k.piece_id"
                " WHERE k.rec_until != p.rec_until OR k.known_until != p.known_until"
                " OR k.known_from != p.known_from",
                "SELECT COUNT(*) FROM rm_piece_products k JOIN rm_pieces p ON p.id = k.piece_id"
                " WHERE k.rec_until != p.rec_until OR k.known_until != p.known_until"
                " OR k.known_from != p.known_from",
                "SELECT COUNT(*) FROM rm_origin_keys k JOIN rm_versions v ON v.id = k.version_id"
                " WHERE k.rec_until != v.rec_until OR k.known_until != v.known_until"
                " OR k.known_from != v.known_from",
                "SELECT COUNT(*) FROM rm_product_keys k JOIN rm_versions v"
                " ON v.id = k.version_id"
                " WHERE k.rec_until != v.rec_until OR k.known_until != v.known_until"
                " OR k.known_from != v.known_from",
                "SELECT COUNT(*) FROM rm_version_marks k JOIN rm_versions v"
                " ON v.id = k.version_id"
                " WHERE k.rec_until != v.rec_until OR k.known_until != v.known_until"
                " OR k.known_from != v.known_from",
                # and a version's mark rows are exactly the marks its row lists
                "SELECT COUNT(*) FROM rm_versions v WHERE v.eff_marks IS NOT NULL"
                " AND json_array_length(v.eff_marks) != (SELECT COUNT(*) FROM"
                " rm_version_marks k WHERE k.version_id = v.id)",
                "SELECT COUNT(*) FROM rm_version_marks k JOIN rm_versions v"
                " ON v.id = k.version_id WHERE NOT EXISTS (SELECT 1 FROM"
                " json_each(v.eff_marks) j WHERE j.value = k.mark)")]
            marks, closed_marks = db.execute(text(
                "SELECT COUNT(*), SUM(rec_until < :forever) FROM rm_version_marks"),
                {"forever": FOREVER}).one()
        assert closed and marks and closed_marks and wrong == [0, 0, 0, 0, 0, 0, 0]
    finally:
        timeline.close()


def test_an_announcement_known_earlier_moves_its_measure_up_the_schedule_as_in_the_fold(
        timeline: TariffTimeline, clock: FakeClock) -> None:
    # given a measure imposed as known in September, then, recorded later, its announcement
    # known in January and another measure known in January
    timeline.record_events([imposed("m0-on", "m0", known="2025-09-17", start="2025-01-01",
                                    percent=15)])
    timeline.catch_up()
    clock.advance(hours=1)
    timeline.record_events([
        announced("m0-said", "m0", known="2025-01-01"),
        imposed("m1-on", "m1", known="2025-01-01", start="2025-01-01", percent=5)])
    # when the schedule is asked as known in September
    asked = {"entered": "2025-02-01", "known": "2025-09-17"}
    by_model = timeline.schedule_as_of(**asked)
    # then the read model lists the measures in the fold's order: m0 first became known first
    assert [row.id for row in by_model.rows] == ["m0", "m1"]
    assert by_model == _schedule_by_fold(timeline, **asked)
