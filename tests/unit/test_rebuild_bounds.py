"""What keeps a read model's rebuild within bounded memory and near-linear work gives the same
rows: the decoded-row cache is bounded by text, a subject's versions come one at a time, and a
chapter's line rows are found once per epoch that changed, each version going on from the
epochs it shares with the version before."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter

import tariff_timeline.readmodel.hts as hts
from tariff_timeline.domain.nomenclature import ChapterState, revise
from tariff_timeline.events import NomenclatureRevised, PolicyEvent
from tariff_timeline.events.instants import entry_instant
from tariff_timeline.projections import Corrected
from tariff_timeline.projections.replay import Recorded
from tariff_timeline.projections.versions import SubjectVersion, versions_of
from tariff_timeline.readmodel.codec import Decoded, Families
from tests.builders import hts_line, revised

RECORDED = datetime(2026, 1, 1, tzinfo=UTC)
INT: TypeAdapter[int] = TypeAdapter(int)


def _entries(events: list[PolicyEvent]) -> list[Corrected]:
    return [Corrected(seq, RECORDED, event) for seq, event in enumerate(events, 1)]


def test_the_row_cache_keeps_the_newest_rows_whose_text_fits_its_budget() -> None:
    cache: Decoded[int] = Decoded(budget=10)
    for key in range(1, 6):
        assert cache.get(key, "123", INT) == 123  # three characters each
    assert cache.weight <= 10
    assert len(cache) == 3
    assert [cache.cached(key) for key in range(1, 6)] == [None, None, 123, 123, 123]
    cache.put(6, 7, weight=9)
    assert [cache.cached(key) for key in (5, 6)] == [None, 7]
    assert cache.weight == 9


def test_a_row_larger_than_the_budget_is_kept_alone_until_the_next() -> None:
    cache: Decoded[int] = Decoded(budget=2)
    assert cache.get(1, "12345", INT) == 12345
    assert cache.cached(1) == 12345
    cache.put(2, 1, weight=1)
    assert (cache.cached(1), cache.cached(2), len(cache)) == (None, 1, 1)


def test_a_question_that_holds_its_rows_decodes_each_once_beyond_the_budget() -> None:
    # Given a cache that keeps one row, and a question (a whole diff) that reads three twice
    cache: Decoded[int] = Decoded(budget=3)
    counted: list[str] = []

    class Counting(TypeAdapter[int]):
        def validate_json(self, data: Any, /, **kwargs: Any) -> int:
            counted.append(data)
            return super().validate_json(data, **kwargs)

    adapter = Counting(int)
    held: dict[int, int] = {}  # what the question holds, as `Held` does for a diff
    # When each side reads the same rows
    for _side in range(2):
        assert [cache.get(key, str(100 + key), adapter, held) for key in (1, 2, 3)] == [
            101, 102, 103]
    # Then each row was decoded once, though the cache kept only the last of them
    assert counted == ["101", "102", "103"]
    assert len(cache) == 1
    assert [cache.cached(key) for key in (1, 2, 3)] == [None, None, 103]
    assert [cache.cached(key, held) for key in (1, 2, 3)] == [101, 102, 103]
    # And without a held question, a row the cache let go is decoded again
    assert cache.get(1, "101", adapter) == 101 and counted[-1] == "101"


def test_cited_events_families_are_kept_only_at_the_position_they_were_read_at() -> None:
    families = Families(kept=10)
    # Given no position told yet: nothing can be kept (its rows might already be stale)
    assert families.current() is None
    # When the read model stands at 7 and a question reads a family
    families.stand_at(7)
    row = Recorded(1, RECORDED, hts_line("0101", "Horses"))
    kept = families.current()
    assert kept is not None
    families.keep(kept, {"e1": (row,)})
    # Then it is there at 7, and forgotten once the read model moves (a correction of it may
    # have been applied since)
    families.stand_at(7)
    assert families.current() == {"e1": (row,)}
    families.stand_at(8)
    assert families.current() == {}
    # and a question that read at 7 and keeps what it read after the move keeps nothing at 8
    families.keep(kept, {"e2": (row,)})
    assert families.current() == {}


def test_cited_events_families_stay_within_their_bound() -> None:
    families = Families(kept=4)
    families.stand_at(1)
    kept = families.current()
    assert kept is not None
    # A question that read more than half the bound (a whole diff) keeps none of it
    families.keep(kept, {f"d{i}": () for i in range(3)})
    assert kept == {}
    # Others are kept until the next would overflow: then the families start again
    families.keep(kept, {"e1": (), "e2": ()})
    families.keep(kept, {"e3": (), "e4": ()})
    assert sorted(kept) == ["e1", "e2", "e3", "e4"]
    families.keep(kept, {"e5": ()})
    assert families.current() == {"e5": ()}
    families.clear()
    assert families.current() is None


def test_a_subjects_versions_are_given_one_at_a_time() -> None:
    versions = versions_of(_entries(_chapter_history()), "chapter:01")
    assert isinstance(versions, Iterator)
    first = next(versions)
    assert first.known_from < first.known_until
    assert len(list(versions)) == 4


def _chapter_history() -> list[PolicyEvent]:
    lines: list[dict[str, Any]] = [
        hts_line("0101", "Live horses", indent=0),
        hts_line("010121", "Purebred", indent=1, parent="0101"),
        hts_line("010129", "Other", indent=1, parent="0101"),
    ]
    return [
        revised("b", "2025-basic", "01", known="2025-01-01", start="2025-01-01",
                baseline=True, added=tuple(lines)),
        revised("r1", "2025-rev-1", "01", known="2025-02-01", start="2025-03-01",
                changed=(hts_line("0101", "Live horses, asses", indent=0),)),
        # Learned later, in force earlier: epochs before the one it starts change too.
        revised("r2", "2025-rev-2", "01", known="2025-04-01", start="2025-02-01",
                added=(hts_line("010130", "Asses", indent=1, parent="0101"),)),
        revised("r3", "2025-rev-3", "01", known="2025-05-01", start="2025-06-01",
                removed=("010129",),
                changed=(hts_line("010121", "Purebred breeding", indent=1,
                                  parent="0101"),)),
        revised("r4", "2025-rev-4", "01", known="2025-06-01", start="2025-03-15",
                changed=(hts_line("010130", "Asses and mules", indent=1,
                                  parent="0101"),)),
    ]


class _FindsAgain(hts._EpochCache):
    """The epoch cache as it was before: every epoch found again for every version."""

    def moved_to(self, chapter: Any) -> None:
        self.found = {}


def test_a_chapters_rows_are_the_same_as_when_every_epoch_is_found_again(
        monkeypatch: Any) -> None:
    versions: list[SubjectVersion] = list(versions_of(_entries(_chapter_history()),
                                                      "chapter:01"))
    assert len(versions) == 5
    kept = hts.chapter_rows(versions)
    monkeypatch.setattr(hts, "_EpochCache", _FindsAgain)
    assert kept == hts.chapter_rows(versions)


# A small chapter's codes under two headings: a heading's change reaches the rows of the
# lines under it (the text above them), and a line may outlive its heading.
_CODES = {"0101": None, "010121": "0101", "010129": "0101", "010130": "0101",
          "0102": None, "010210": "0102"}


@st.composite
def _revisions(draw: st.DrawFn) -> list[PolicyEvent]:
    """A chapter's baseline and revisions, each valid where the fold (in known order) meets
    it: learned on days in order, in force from days drawn in any order, adding, changing
    and removing lines."""
    events: list[PolicyEvent] = []
    chapter: ChapterState | None = None
    count = draw(st.integers(min_value=1, max_value=9))
    for number in range(count):
        day = date(2025, 1 + draw(st.integers(min_value=0, max_value=11)), 1)
        start = entry_instant(day)
        found = {code: chapter is not None and chapter.version_at(code, start) is not None
                 for code in _CODES}
        added, changed, removed = [], [], []
        for code, parent in _CODES.items():
            what = draw(st.sampled_from(("keep", "add", "change", "remove")))
            line = hts_line(code, f"{code} as of revision {number}",
                            indent=0 if parent is None else 1, parent=parent)
            if what == "add" and not found[code]:
                added.append(line)
            elif what == "change" and found[code]:
                changed.append(line)
            elif what == "remove" and found[code]:
                removed.append(code)
        if not (added or changed or removed):
            # A revision touches at least one line.
            (changed if found["0102"] else added).append(
                hts_line("0102", f"0102 as of revision {number}"))
        event = revised(f"r{number}", f"2025-rev-{number}", "01",
                        known=f"2025-{1 + number:02d}-01", start=day.isoformat(),
                        baseline=chapter is None, added=tuple(added), changed=tuple(changed),
                        removed=tuple(removed))
        assert isinstance(event, NomenclatureRevised)
        chapter = revise(chapter, event)
        events.append(event)
    return events


@settings(max_examples=150, deadline=None)
@given(_revisions())
def test_a_chapters_rows_going_on_from_shared_epochs_are_those_found_from_the_first(
        events: list[PolicyEvent]) -> None:
    versions = list(versions_of(_entries(events), "chapter:01"))
    kept = hts.chapter_rows(versions)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(hts, "_EpochCache", _FindsAgain)
        assert kept == hts.chapter_rows(versions)
    # Every version's rows, each version alone, stretched over known time as the rows are.
    alone = [hts.chapter_rows([version]) for version in versions]
    for found, each in zip(kept, zip(*alone, strict=True), strict=True):
        assert sorted(map(_row_key, found)) == sorted(map(_row_key, _merged(list(each))))


def _row_key(row: dict[str, Any]) -> tuple[str, ...]:
    return tuple(sorted(f"{k}={v}" for k, v in row.items()))


def _merged(each: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Rows of consecutive versions with the same content and effective interval, as one row
    over their known intervals."""
    merged: list[dict[str, Any]] = []
    open_rows: dict[tuple[str, ...], dict[str, Any]] = {}
    for rows in each:
        for row in rows:
            key = _row_key({k: v for k, v in row.items()
                            if k not in ("known_from", "known_until")})
            found = open_rows.get(key)
            if found is not None and found["known_until"] == row["known_from"]:
                found["known_until"] = row["known_until"]
                continue
            open_rows[key] = dict(row)
            merged.append(open_rows[key])
    return merged
