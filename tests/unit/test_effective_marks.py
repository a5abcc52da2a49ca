"""A version's effective marks: where what a state says along the effective clock may change,
so that a diff can leave out a version the same on both sides with no mark between them."""

from __future__ import annotations

import re
from dataclasses import fields
from typing import Any

from tariff_timeline.domain.nomenclature import ChapterState
from tariff_timeline.domain.timeline import (
    ExemptionState,
    QuotaState,
    RuleState,
    fold,
)
from tariff_timeline.events.instants import micros
from tariff_timeline.projections.versions import MARKED, effective_marks
from tests.builders import exemption, exemption_revoked, imposed, quota, rate_changed


def _at(event: Any) -> int:
    """Where an event takes effect, as the marks count instants."""
    return micros(event.effective_from)


def test_an_exemptions_marks_are_where_it_starts_and_is_revoked() -> None:
    # given an exemption granted and later revoked
    granted = exemption("e-1", "ex", known="2024-12-01", start="2025-01-01", measures=("m",))
    revoked = exemption_revoked("e-2", "ex", known="2025-03-01", start="2025-06-01")
    timeline = fold([imposed("m-1", "m", known="2024-12-01", start="2025-01-01", percent=25),
                     granted, revoked])
    # then its marks are the two instants, in order, once each
    assert effective_marks("exemption", timeline.exemptions["ex"]) == (
        _at(granted), _at(revoked))


def test_a_quotas_marks_cover_every_paint_it_holds() -> None:
    # given a quota opened on a measure
    timeline = fold([
        imposed("m-1", "m", known="2024-12-01", start="2025-01-01", percent=25),
        quota("q-1", "q", "m", known="2024-12-01", start="2025-02-01", in_quota=0,
              origins=("CA",))])
    state = timeline.quotas["q"]
    opened = micros(state.active[0].start)
    # then every start and end of its activity, rates and volumes is a mark
    painted = {micros(p.start) for p in (*state.active, *state.in_quota_percent,
                                         *state.volume)}
    painted |= {micros(p.end) for p in (*state.active, *state.in_quota_percent,
                                        *state.volume) if p.end is not None}
    marks = effective_marks("quota", state)
    assert marks is not None and set(marks) == painted and opened in marks


def test_measures_deals_rulings_and_chapters_keep_no_marks() -> None:
    # given a measure re-rated (its pieces are cut at its changes already) and a chapter
    timeline = fold([
        imposed("m-1", "m", known="2024-12-01", start="2025-01-01", percent=25),
        rate_changed("m-2", "m", known="2025-01-15", start="2025-02-01", percent=30)])
    # then neither keeps marks, and a diff reads them whatever the instants
    assert effective_marks("measure", timeline.measures["m"]) is None
    assert effective_marks("chapter", ChapterState("01")) is None
    assert effective_marks("ruling", object()) is None
    # nor do deals and rulings, which give no row of the schedule for a diff to compare
    assert effective_marks("deal", object()) is None


def test_every_paint_of_a_marked_kind_is_in_a_tuple_the_marks_walk() -> None:
    # given the states of the kinds that keep marks
    states = {"exemption": ExemptionState, "quota": QuotaState, "rule": RuleState}
    assert set(states) == set(MARKED)
    # then each field that holds paints is a tuple of them, where `effective_marks` looks:
    # a paint kept anywhere else would change an answer between two marks
    for kind, state in states.items():
        painted = [field for field in fields(state) if "Paint" in str(field.type)]
        assert painted, kind  # each of them changes along the effective clock
        for field in painted:
            assert re.fullmatch(r"tuple\[Paint\[[\w\[\], ]+\], \.\.\.\]", str(field.type)), (
                kind, field.name, field.type)
