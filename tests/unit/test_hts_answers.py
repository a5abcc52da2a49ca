"""The answers about the HTS built from the pure nomenclature: a comparison of two
nomenclatures agrees with the domain's diff of one, and its CSV lists every change."""

from __future__ import annotations

import csv
import io

from tariff_timeline.domain.clocks import Coordinate, effective_instant
from tariff_timeline.domain.nomenclature import diff
from tariff_timeline.domain.timeline import fold
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
