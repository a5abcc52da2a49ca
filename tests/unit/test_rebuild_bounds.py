"""What keeps a read model's rebuild within bounded memory and near-linear work gives the same
rows: the decoded-row cache is bounded by text, a subject's versions come one at a time, and a
chapter's line rows are found once per epoch that changed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from pydantic import TypeAdapter

import tariff_timeline.readmodel.hts as hts
from tariff_timeline.events import PolicyEvent
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
