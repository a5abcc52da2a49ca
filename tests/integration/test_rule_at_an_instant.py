"""A question at one effective instant reads a stacking rule as it stands then (issue 14): the
one paint that holds at the instant, not every interval of the rule's history, decoded from
the stored state only where the question looks, and answering as the fold does."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from tariff_timeline import TariffTimeline
from tariff_timeline.domain.timeline import RuleState
from tariff_timeline.events import PolicyEvent, StackingRuleChanged
from tariff_timeline.projections.versions import STATE_ADAPTERS
from tariff_timeline.readmodel.codec import StoredRule
from tariff_timeline.readmodel.tables import VersionRow
from tests.builders import SOURCE, imposed, stacking


def _changed(eid: str, *, known: str, start: str, until: str | None = None,
             in_effect: bool = True, when: dict[str, Any] | None = None,
             excludes: dict[str, Any] | None = None) -> PolicyEvent:
    return StackingRuleChanged.model_validate({
        "id": eid, "rule": "stack", "known": known, "effective_from": start,
        "effective_until": until, "in_effect": in_effect, "when": when,
        "excludes": excludes, "sources": SOURCE})


STEEL = {"measures": ["steel"]}
RECIPROCAL = {"measures": ["recip"]}
HISTORY = [
    imposed("steel-1", "steel", known="2024-12-01", start="2025-01-01", percent=25,
            origins=("CN",), authority="Section 232", program="s232"),
    imposed("recip-1", "recip", known="2024-12-01", start="2025-01-01", percent=10,
            origins=("CN",), program="ieepa-recip"),
    stacking("rule-1", "stack", known="2025-01-02", start="2025-02-01", when=STEEL,
             excludes=RECIPROCAL),
    # Suspended for April, then in effect again for a week inside it (painted over the
    # suspension), then the other way round from July, known only in June.
    _changed("rule-2", known="2025-03-01", start="2025-04-01", until="2025-05-01",
             in_effect=False),
    _changed("rule-3", known="2025-03-10", start="2025-04-15", until="2025-04-22"),
    _changed("rule-4", known="2025-06-01", start="2025-07-01", when=RECIPROCAL,
             excludes=STEEL),
]
KNOWN = ("2025-01-05", "2025-03-05", "2025-03-15", "2025-06-15")


def _instants(timeline: TariffTimeline) -> list[datetime]:
    """Every start and end of the rule's paints, a microsecond either side, and an instant
    before the rule starts."""
    whole = _whole(timeline, KNOWN[-1])
    edges = {p.start for p in whole.versions} | {p.end for p in whole.versions if p.end}
    around = {edge + timedelta(microseconds=shift) for edge in edges for shift in (-1, 0, 1)}
    return sorted(around | {timeline.coordinate("2025-01-15").effective})


def _whole(timeline: TariffTimeline, known: str) -> RuleState:
    assert timeline.read_model is not None
    coordinate = timeline.coordinate("2025-01-15", known)
    return timeline.read_model.reader.fold_subjects(
        ["rule:stack"], coordinate.known, coordinate.recorded).rules["stack"]


def _sliced(timeline: TariffTimeline, at: datetime, known: str) -> RuleState:
    assert timeline.read_model is not None
    coordinate = timeline.coordinate(at, known)
    return timeline.read_model.reader.slice_at(
        at, coordinate.known, coordinate.recorded, "CN", "7208101500",
        lines_of_code=True).rules["stack"]


@pytest.fixture
def recorded(timeline: TariffTimeline) -> TariffTimeline:
    timeline.record_events(HISTORY)
    timeline.catch_up()
    return timeline


def _forget_decoded(timeline: TariffTimeline) -> None:
    assert timeline.read_model is not None
    timeline.read_model.reader.cache.clear()


def _decode_whole_versions(timeline: TariffTimeline) -> None:
    """Put every version of the rule in the cache whole, as an append's check decodes them."""
    assert timeline.read_model is not None
    cache = timeline.read_model.reader.cache
    cache.clear()
    with timeline.read_model.engine.connect() as conn:
        for vid, text in conn.execute(select(VersionRow.id, VersionRow.state).where(
                VersionRow.subject == "rule:stack")):
            cache.states.put(vid, STATE_ADAPTERS["rule"].validate_json(text), len(text))


@pytest.mark.parametrize("decoded", ["from its text", "whole before"])
def test_a_slice_holds_the_rule_with_only_the_paint_holding_at_its_instant(
        recorded: TariffTimeline, decoded: str) -> None:
    # Given a rule changed over overlapping intervals, known at four times
    instants = _instants(recorded)
    # When its versions were decoded from their texts for the questions, or whole before
    (_forget_decoded if decoded == "from its text" else _decode_whole_versions)(recorded)
    # Then each slice holds the rule with the one paint the fold's whole state shows then
    for known in KNOWN:
        whole = _whole(recorded, known)
        for at in instants:
            found = _sliced(recorded, at, known)
            assert found == whole.standing_at(at)
            assert len(found.versions) <= 1
            assert found.event_ids == whole.event_ids


def test_questions_at_every_edge_of_the_rule_answer_as_the_fold(
        recorded: TariffTimeline) -> None:
    # Given the rule's history; when asked at each edge of its paints, as known at each time
    _forget_decoded(recorded)
    excluded = []
    for known in KNOWN:
        for at in _instants(recorded):
            answer = recorded.rate_on(origin="CN", hts="7208101500", entered=at, known=known)
            # Then the read model answers as the fold of the whole log
            assert answer == recorded.rate_on_by_fold(origin="CN", hts="7208101500",
                                                      entered=at, known=known)
            excluded.append(sorted(layer.measure for layer in answer.layers
                                   if not layer.applied))
    # And the rule did decide some answers each way (the questions bear on it)
    assert ["recip"] in excluded and ["steel"] in excluded and [] in excluded


def test_a_stored_rule_at_an_instant_is_the_whole_state_at_it(
        recorded: TariffTimeline) -> None:
    # Given every stored version of the rule, decoded whole and as questions decode them
    assert recorded.read_model is not None
    with recorded.read_model.engine.connect() as conn:
        texts = conn.execute(select(VersionRow.state).where(
            VersionRow.subject == "rule:stack")).scalars().all()
    assert len(texts) >= len(KNOWN)
    for text in texts:
        whole, stored = STATE_ADAPTERS["rule"].validate_json(text), StoredRule(text)
        # Then at every instant each says what the whole state says then
        for at in _instants(recorded):
            assert stored.standing_at(at) == whole.standing_at(at)
            assert stored.standing_at(at) is stored.standing_at(at)
