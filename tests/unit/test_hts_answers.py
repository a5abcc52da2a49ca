"""The answers about the HTS built from the pure nomenclature: a comparison of two
nomenclatures agrees with the domain's diff of one, and its CSV lists every change."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime

from tariff_timeline.domain.clocks import Coordinate, effective_instant
from tariff_timeline.domain.nomenclature import ChapterState, Nomenclature, diff
from tariff_timeline.domain.timeline import fold
from tariff_timeline.events.nomenclature import HtsLine
from tariff_timeline.projections.hts import compare, diff_answer, hts_diff_csv
from tests.unit.test_nomenclature import AFTER, BEFORE, COFFEE, HORSES, HTS


def test_comparing_one_nomenclature_at_two_dates_is_the_domain_diff() -> None:
    # given the small HTS of the nomenclature tests
    # when it is compared with itself at two dates
    found = compare(HTS, HTS, BEFORE, AFTER)
    # then the lines and changes are those of domain.nomenclature.diff
    assert found is not None
    assert found[0] == diff(HTS, BEFORE, AFTER)


def test_two_versions_of_the_log_are_compared_as_each_knows_the_schedule() -> None:
    # given one side that knows only the first revision and one that knows both
    first = fold((HORSES, COFFEE)).nomenclature
    found = compare(first, HTS, AFTER, AFTER)
    assert found is not None
    changed = found[0]
    # then the second revision's changes show even at one effective date
    assert [line.code for line in changed.added] == ["0901110035"]
    assert [line.code for line in changed.removed] == ["0901110025"]
    assert {r.code for r in changed.rerated} == {"09011100"}


def test_a_side_without_a_revision_is_no_comparison() -> None:
    empty = fold(()).nomenclature
    assert compare(empty, HTS, BEFORE, AFTER) is None


def test_the_answer_counts_each_kind_and_its_csv_lists_every_change() -> None:
    found = compare(HTS, HTS, BEFORE, AFTER, under=["0901"])
    assert found is not None
    when = Coordinate(effective_instant("2025-08-01"), AFTER, AFTER)
    later = Coordinate(effective_instant("2026-01-10"), AFTER, AFTER)
    answer = diff_answer(found[0], when, later, ["0901"], found[1])
    assert (answer.counts.added, answer.counts.removed, answer.counts.rerated) == (1, 1, 1)
    assert answer.under == ("0901",) and answer.before.revision.revision == "r1"
    rows = list(csv.DictReader(io.StringIO(hts_diff_csv(answer))))
    assert len(rows) == len(answer.changes) >= 4
    assert {"added", "removed", "rerated", "redescribed"} <= {row["change"] for row in rows}


class _Unwalked(ChapterState):
    """A chapter whose lines must not be walked."""

    def in_force(self, at: datetime) -> Iterator[HtsLine]:
        raise AssertionError(f"chapter {self.chapter} was walked at {at}")


def _unwalked(nomenclature: Nomenclature, *chapters: str) -> Nomenclature:
    return Nomenclature({name: _Unwalked(c.chapter, c.lines, c.revisions, c.event_ids)
                         if name in chapters else c
                         for name, c in nomenclature.chapters.items()})


def test_a_chapter_no_revision_changes_between_the_dates_is_not_walked() -> None:
    # given the HTS whose chapter 01 no revision changes after 2025-05-16
    hts = _unwalked(HTS, "01")
    # when it is compared with itself across the second revision (chapter 09's)
    found = compare(hts, hts, BEFORE, AFTER)
    # then the comparison is the domain's, and chapter 01 was never walked
    assert found is not None and found[0] == diff(HTS, BEFORE, AFTER)
    # and between two dates of the first revision, no chapter is walked and nothing changed
    everything = _unwalked(HTS, "01", "09")
    quiet = compare(everything, everything, effective_instant("2025-06-01"), BEFORE)
    assert quiet is not None
    assert (quiet[0].added, quiet[0].removed, quiet[0].rerated) == ((), (), ())

