"""A decoded row is kept by its id, so an id must never name two contents that a process could
both see: not after a version or piece is replaced within the instant it was recorded (two
appends at one recorded instant, with a question between them), and not after another
process rebuilt the read model and gave the ids out again (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tariff_timeline import TariffTimeline
from tariff_timeline.readmodel.tables import HtsLineRow, PieceRow, VersionRow
from tariff_timeline.readmodel.writer import ReadModelWriter
from tests.builders import hts_line, imposed, rate_changed, revised
from tests.conftest import FakeClock

QUESTION = {"origin": "CN", "hts": "8703.10.00", "entered": "2025-06-01"}


def imposed_at_10() -> list[object]:
    return [imposed("m-10", "m", known="2025-01-01", start="2025-02-01", percent=10,
                    products=("8703",))]


def changed_to_30_known_the_same_day() -> list[object]:
    # Known the same day and effective from the same date: the measure's newest piece and
    # its only version (the rows with the highest ids) get another content over the very
    # same intervals.
    return [rate_changed("m-30", "m", known="2025-01-01", start="2025-02-01", percent=30)]


def rows(timeline: TariffTimeline) -> dict[tuple[str, int], tuple[object, ...]]:
    """The read model's pieces and versions, each by kind and id."""
    assert timeline.read_model is not None
    found: dict[tuple[str, int], tuple[object, ...]] = {}
    with Session(timeline.read_model.engine) as session:
        for table, kind in ((PieceRow, "piece"), (VersionRow, "version")):
            for row in session.scalars(select(table)):
                found[kind, row.id] = (row.subject, row.known_from, row.known_until,
                                       row.rec_from, row.state)
    return found


def line_rows(timeline: TariffTimeline) -> dict[int, tuple[object, ...]]:
    """The read model's HTS line rows by id."""
    assert timeline.read_model is not None
    with Session(timeline.read_model.engine) as session:
        return {row.id: (row.code, row.description, row.known_from, row.known_until,
                         row.rec_from) for row in session.scalars(select(HtsLineRow))}


@pytest.fixture
def frozen(db_url: str, clock: FakeClock) -> Iterator[TariffTimeline]:
    """A store whose clock does not move: every append is recorded at one instant (as a
    clock that stalls, or steps back, records them: recorded times never go backwards)."""
    opened = TariffTimeline.open(db_url, clock=clock)
    yield opened
    opened.close()


def test_a_question_between_two_appends_at_one_instant_is_not_answered_again_later(
        frozen: TariffTimeline) -> None:
    # given an append, answered (its rows decoded and kept)
    frozen.record_events(imposed_at_10())
    assert frozen.rate_on(**QUESTION).additional == 10
    # when another append at the same recorded instant replaces its rows
    frozen.record_events(changed_to_30_known_the_same_day())
    # then the answer is the new content's, as the fold's is
    assert frozen.rate_on(**QUESTION).additional == 30
    assert frozen.rate_on(**QUESTION) == frozen.rate_on_by_fold(**QUESTION)


def test_rows_replaced_within_their_instant_leave_their_ids_unused(
        frozen: TariffTimeline) -> None:
    # given an append's rows
    frozen.record_events(imposed_at_10())
    frozen.catch_up()
    before = rows(frozen)
    # when another append at the same instant replaces some of them
    frozen.record_events(changed_to_30_known_the_same_day())
    frozen.catch_up()
    after = rows(frozen)
    # then some rows went (a piece and a version), and no row took an id one of them had
    gone = {key for key, row in before.items() if after.get(key) != row}
    assert {kind for kind, _ in gone} == {"piece", "version"}
    assert not gone & after.keys()
    assert {kind for kind, _ in after.keys() - before.keys()} == {"piece", "version"}


def test_hts_lines_replaced_within_their_instant_leave_their_ids_unused(
        frozen: TariffTimeline) -> None:
    # given a chapter's lines
    frozen.record_events([revised("r1-87", "r1", "87", known="2025-01-01", start="2025-01-05",
                                  baseline=True, added=(hts_line("8703", "Motor cars"),))])
    frozen.catch_up()
    before = line_rows(frozen)
    # when a revision known the same day, at the same recorded instant, words the line anew
    frozen.record_events([revised("r2-87", "r2", "87", known="2025-01-01", start="2025-01-05",
                                  changed=(hts_line("8703", "Motor cars and vehicles"),))])
    frozen.catch_up()
    after = line_rows(frozen)
    # then the line's row went, and the new one took another id
    gone = {key for key, row in before.items() if after.get(key) != row}
    assert gone and not gone & after.keys()
    assert [row[1] for row in after.values()] == ["Motor cars and vehicles"]


def test_another_process_rebuilding_the_read_model_is_noticed(
        db_url: str, frozen: TariffTimeline, clock: FakeClock) -> None:
    # given a process that answered from rows replaced within their instant
    frozen.record_events(imposed_at_10())
    assert frozen.rate_on(**QUESTION).additional == 10
    frozen.record_events(changed_to_30_known_the_same_day())
    assert frozen.rate_on(**QUESTION).additional == 30
    # when another process rebuilds the read model (both appends then fold as one, so the
    # rows and their ids come out otherwise than they were written one append at a time)
    other = TariffTimeline.open(db_url, clock=clock)
    try:
        other.rebuild_read_model()
        assert other.rate_on(**QUESTION).additional == 30
    finally:
        other.close()
    # then the first process answers from the rebuilt rows, not from what it decoded before
    assert frozen.rate_on(**QUESTION).additional == 30
    assert frozen.rate_on(**QUESTION) == frozen.rate_on_by_fold(**QUESTION)


class Refused(Exception):
    """The fault a test injects into a catch-up's transaction."""


def test_a_catch_up_rolled_back_forgets_what_it_decoded(
        timeline: TariffTimeline, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    # given an append applied and answered, and a second one not applied yet
    timeline.record_events(imposed_at_10())
    assert timeline.rate_on(**QUESTION).additional == 10
    clock.advance(hours=1)
    timeline.record_events(changed_to_30_known_the_same_day())
    assert timeline.read_model is not None
    cache = timeline.read_model.writer.cache

    # when the catch-up's transaction fails after its rows were written and decoded
    def refuse(*_: object) -> None:
        raise Refused

    monkeypatch.setattr(ReadModelWriter, "_track", refuse)
    with pytest.raises(Refused):
        timeline.catch_up()
    # then nothing it decoded is kept: its rows were rolled back, and their ids will be
    # given again
    assert (len(cache.events), len(cache.states), len(cache.pieces)) == (0, 0, 0)
    monkeypatch.undo()
    assert timeline.rate_on(**QUESTION).additional == 30
    assert timeline.rate_on(**QUESTION) == timeline.rate_on_by_fold(**QUESTION)
