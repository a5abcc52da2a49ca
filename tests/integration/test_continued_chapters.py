"""A revision of an HTS chapter known after the chapter's others continues its versions and
its line rows from the last version, instead of making every row of the chapter's history
again; the read model then holds exactly the rows that the chapter's whole history gives, and
answers HTS questions as the fold does (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

import tariff_timeline.readmodel.hts as hts
from tariff_timeline import QueryPath, TariffTimeline
from tariff_timeline.domain.errors import InvalidInput
from tariff_timeline.events import EventCorrected, PolicyEvent, subject_key
from tariff_timeline.projections import corrected_log
from tariff_timeline.projections.pieces import FOREVER
from tariff_timeline.projections.versions import versions_of
from tariff_timeline.readmodel.tables import HtsLineRow, HtsRevisionRow
from tests.builders import SOURCE, hts_line, revised
from tests.builders import day as _day
from tests.conftest import FakeClock


def _line(code: str, words: str) -> dict[str, Any]:
    if len(code) == 4:
        return hts_line(code, words)
    return hts_line(code, words, indent=1, parent=code[:4], units=("No.",), general="2.5%")


def _appends() -> list[list[PolicyEvent]]:
    """A chapter's baseline, then one revision an append: lines added, re-worded and removed,
    one retroactive in effective time, one learnt late (known before the latest), and a
    correction of an earlier revision."""
    out: list[list[PolicyEvent]] = [[revised(
        "r0", "r0", "87", known=_day(0), start=_day(5), baseline=True,
        added=(_line("8701", "Tractors"), _line("87011000", "Pedestrian controlled"),
               _line("8703", "Motor cars"), _line("87032100", "Small cars")))]]
    for n in range(1, 9):
        known, start = 10 * n, 10 * n + 5
        out.append([revised(
            f"r{n}", f"r{n}", "87", known=_day(known), start=_day(start),
            added=(_line(f"870390{n:02d}", f"Cars of kind {n}"),),
            changed=(_line("87032100", f"Small cars, as of revision {n}"),),
            removed=(f"870390{n - 1:02d}",) if n > 1 else ())])
    # Known after the rest, effective before some of them.
    out.append([revised("r-back", "r-back", "87", known=_day(95), start=_day(30),
                        changed=(_line("87011000", "Pedestrian controlled tractors"),))])
    # Learnt late: known before the latest revisions, so the chapter is folded whole again.
    out.append([revised("r-late", "r-late", "87", known=_day(35), start=_day(36),
                        changed=(_line("8701", "Tractors (other than 8709)"),))])
    # A correction of a revision: folded whole again.
    fixed = revised("r3", "r3", "87", known=_day(30), start=_day(35),
                    added=(_line("87039003", "Cars of kind three"),),
                    changed=(_line("87032100", "Small cars, as of revision 3"),),
                    removed=("87039002",))
    out.append([EventCorrected.model_validate({
        "id": "r3-fix", "known": _day(100), "sources": SOURCE, "corrects": "r3",
        "replacement": fixed.model_dump(mode="json"), "reason": "wording"})])
    out.append([revised("r10", "r10", "87", known=_day(110), start=_day(115),
                        added=(_line("87039010", "Cars of kind 10"),),
                        removed=("87039008",))])
    return out


@pytest.fixture
def continued(monkeypatch: pytest.MonkeyPatch) -> Iterator[Counter[bool]]:
    """How often chapters' rows were continued (True) or made whole (False)."""
    write = hts.write_chapters
    counted: Counter[bool] = Counter()

    def counting(session: Session, chapters: Any, recorded: int,
                 continued: bool = False) -> None:
        counted[continued] += len(chapters)
        write(session, chapters, recorded, continued)

    monkeypatch.setattr("tariff_timeline.readmodel.writer.write_chapters", counting)
    yield counted


def _open_rows(timeline: TariffTimeline) -> tuple[set[tuple[object, ...]],
                                                  set[tuple[object, ...]]]:
    assert timeline.read_model is not None
    with Session(timeline.read_model.engine) as session:
        lines = {tuple(getattr(row, k) for k in ("chapter", *hts._LINE_KEY))
                 for row in session.scalars(select(HtsLineRow).where(
                     HtsLineRow.rec_until == FOREVER))}
        revisions = {tuple(getattr(row, k) for k in ("chapter", *hts._REVISION_KEY))
                     for row in session.scalars(select(HtsRevisionRow).where(
                         HtsRevisionRow.rec_until == FOREVER))}
    return lines, revisions


def _whole_rows(timeline: TariffTimeline) -> tuple[set[tuple[object, ...]],
                                                   set[tuple[object, ...]]]:
    entries = [e for e in corrected_log(timeline.store.read())
               if subject_key(e.event) == "chapter:87"]
    lines, revisions = hts.chapter_rows(list(versions_of(entries, "chapter:87")))
    return ({tuple(r[k] for k in ("chapter", *hts._LINE_KEY)) for r in lines},
            {tuple(r[k] for k in ("chapter", *hts._REVISION_KEY)) for r in revisions})


def test_revisions_known_later_continue_the_chapters_rows_as_its_whole_history_gives_them(
        timeline: TariffTimeline, clock: FakeClock, continued: Counter[bool]) -> None:
    # Given a chapter's baseline, when revisions are appended one at a time
    for events in _appends():
        clock.advance(hours=1)
        timeline.record_events(events)
        timeline.catch_up()
        # then after each the open rows are those the chapter's whole history gives
        assert _open_rows(timeline) == _whole_rows(timeline)
    # and all but the baseline, the one learnt late and the correction were continued
    assert continued == Counter({True: 10, False: 3})


def test_hts_answers_after_continued_revisions_are_the_folds(
        timeline: TariffTimeline, clock: FakeClock) -> None:
    for events in _appends():
        clock.advance(hours=1)
        timeline.record_events(events)
    answered: Counter[bool] = Counter()
    for effective in (_day(6), _day(33), _day(36), _day(57), _day(100), _day(120)):
        for known in (None, _day(40), _day(96)):
            for code in ("8701.10.00", "8703.21.00", "8703.90.03", "8703.90.10"):
                read_model = _answer(timeline, code, effective, known)
                path, timeline.query_path = timeline.query_path, QueryPath.FOLD
                try:
                    folded = _answer(timeline, code, effective, known)
                finally:
                    timeline.query_path = path
                assert read_model == folded
                answered[isinstance(read_model, dict)] += 1
    # Both kinds of outcome were compared: lines found, and codes not in force then.
    assert answered[True] > 20 and answered[False] > 10


def _answer(timeline: TariffTimeline, code: str, effective: str,
            known: str | None) -> dict[str, Any] | str:
    """The line in force, or why there is none."""
    try:
        return timeline.hts_line(code, effective, known).model_dump(mode="json")
    except InvalidInput as exc:
        return str(exc)
