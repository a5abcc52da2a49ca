"""An append of later events about a stacking rule, exemption or quota continues its versions
from the last one: the versions are those the fold of the whole history gives."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tariff_timeline.domain.errors import StoreError
from tariff_timeline.events import PolicyEvent, QuotaChanged, StackingRuleChanged
from tariff_timeline.projections import Corrected
from tariff_timeline.projections.pieces import FOREVER
from tariff_timeline.projections.versions import (
    STATE_ADAPTERS,
    SubjectVersion,
    versions_after,
    versions_of,
)
from tests.builders import SOURCE, exemption, exemption_revoked, quota, stacking
from tests.builders import day as _day

RECORDED = datetime(2026, 1, 1, tzinfo=UTC)


def _rule_change(n: int, known: int, start: int, length: int, in_effect: bool) -> PolicyEvent:
    return StackingRuleChanged.model_validate({
        "id": f"c{n}", "rule": "r", "known": _day(known), "effective_from": _day(start),
        "effective_until": _day(start + length), "in_effect": in_effect, "sources": SOURCE})


def _entries(events: list[PolicyEvent]) -> list[Corrected]:
    return [Corrected(seq, RECORDED, event) for seq, event in enumerate(events, 1)]


def _continued(events: list[PolicyEvent], split: int, subject: str) -> list[SubjectVersion]:
    """The versions as the read model keeps them after the first `split` events, then
    continued by the rest (from the last version's stored text, as the writer reads it)."""
    entries = _entries(events)
    before = list(versions_of(entries[:split], subject))
    last = before[-1]
    stored = STATE_ADAPTERS[subject.split(":", 1)[0]].validate_json(last.text)
    return before[:-1] + versions_after(
        SubjectVersion(last.known_from, FOREVER, last.text, stored, last.first_known,
                       last.first_seq), entries[split:], subject)


def _rows(versions: list[SubjectVersion]) -> list[tuple[int, int, str, int, int]]:
    return [(v.known_from, v.known_until, v.text, v.first_known, v.first_seq)
            for v in versions]


_CHANGES = st.lists(st.tuples(st.integers(1, 5), st.integers(0, 90), st.integers(1, 40),
                              st.booleans()), min_size=2, max_size=30)


@given(_CHANGES, st.integers(1, 29))
def test_a_rule_continued_from_its_last_version_has_the_versions_of_its_whole_fold(
        drawn: list[tuple[int, int, int, bool]], cut: int) -> None:
    # Given a rule and changes, each known a few days after the one before
    events: list[PolicyEvent] = [stacking("set", "r", known=_day(0), start=_day(0),
                                          when={"authorities": ["Section 232"]},
                                          excludes={"programs": ["recip"]})]
    known = 0
    for n, (gap, start, length, in_effect) in enumerate(drawn):
        known += gap
        events.append(_rule_change(n, known, start, length, in_effect))
    split = min(cut, len(events) - 1)
    # When the read model held the first events' versions and the rest are appended, then
    # continuing from the last version gives the versions of the whole history
    assert _rows(_continued(events, split, "rule:r")) == _rows(
        list(versions_of(_entries(events), "rule:r")))


def test_an_exemption_and_a_quota_continued_have_the_versions_of_their_whole_fold() -> None:
    granted = [exemption("ex", "x", known=_day(0), start=_day(5), measures=("m",)),
               exemption_revoked("exr", "x", known=_day(30), start=_day(60))]
    assert _rows(_continued(granted, 1, "exemption:x")) == _rows(
        list(versions_of(_entries(granted), "exemption:x")))
    periods: list[PolicyEvent] = [quota("q0", "q", "m", known=_day(0), start=_day(0),
                                        in_quota=0, origins=("MX",))]
    periods += [QuotaChanged.model_validate({
        "id": f"q{n}", "quota": "q", "known": _day(10 * n), "effective_from": _day(10 * n),
        "volume": f"{n * 1000} tonnes", "sources": SOURCE}) for n in range(1, 6)]
    for split in range(1, len(periods)):
        assert _rows(_continued(periods, split, "quota:q")) == _rows(
            list(versions_of(_entries(periods), "quota:q")))


def test_events_known_no_later_than_the_last_version_do_not_continue_it() -> None:
    events = [stacking("set", "r", known=_day(0), start=_day(0),
                       when={"authorities": ["Section 232"]}, excludes={"programs": ["recip"]}),
              _rule_change(1, 10, 20, 5, False)]
    last = list(versions_of(_entries(events), "rule:r"))[-1]
    with pytest.raises(StoreError, match="do not continue"):
        versions_after(last, _entries([_rule_change(2, 10, 30, 5, True)]), "rule:r")
