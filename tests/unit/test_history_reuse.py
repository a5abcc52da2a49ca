"""A cell's history reuses the row before's answer at an instant only where every changed
state reads as before: a later change to a stacking rule, an exemption or a quota that exists
already moves the answers at instants asked before (pure, no database)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tariff_timeline.events import PolicyEvent, QuotaChanged, StackingRuleChanged
from tariff_timeline.projections.history import cell_history
from tariff_timeline.projections.replay import Recorded
from tests.builders import (
    SOURCE,
    exemption,
    exemption_revoked,
    imposed,
    quota,
    rate_changed,
    stacking,
)

RECORDED = datetime(2026, 1, 1, tzinfo=UTC)

# A baseline on everything and a Japanese layer over it, whose rate rises on 1 August: that
# instant is asked in every row after the layer's, before the change that moves it.
LAYERS = [
    imposed("base", "base", known="2025-04-02", start="2025-04-05", percent=10,
            program="recip"),
    imposed("jp", "jp", known="2025-04-02", start="2025-04-09", percent=25, origins=("JP",),
            program="s232", authority="Section 232"),
    rate_changed("jp-30", "jp", known="2025-04-02", start="2025-08-01", percent=30),
]

CHANGES: dict[str, tuple[list[PolicyEvent], str]] = {
    "a stacking rule set, then lifted": ([
        stacking("no-stack", "no-stack", known="2025-04-20", start="2025-05-01",
                 when={"measures": ["jp"]}, excludes={"measures": ["base"]}),
        StackingRuleChanged.model_validate({
            "id": "no-stack-off", "rule": "no-stack", "known": "2025-06-20",
            "effective_from": "2025-07-01", "in_effect": False, "sources": SOURCE}),
    ], "2025-04-05: 10%; 2025-04-09: 35%; 2025-05-01: 25%; 2025-07-01: 35%; "
       "2025-08-01: 40%"),
    "an exemption granted, then revoked": ([
        exemption("ex-jp", "ex-jp", known="2025-04-20", start="2025-05-01", measures=("jp",),
                  origins=("JP",)),
        exemption_revoked("ex-jp-off", "ex-jp", known="2025-06-20", start="2025-07-01"),
    ], "2025-04-05: 10%; 2025-04-09: 35%; 2025-05-01: 10%; 2025-07-01: 35%; "
       "2025-08-01: 40%"),
    "a quota opened, then closed": ([
        quota("q-jp", "q-jp", "jp", known="2025-04-20", start="2025-05-01", in_quota=5,
              origins=("JP",)),
        QuotaChanged.model_validate({
            "id": "q-jp-closed", "quota": "q-jp", "known": "2025-06-20",
            "effective_from": "2025-07-01", "closed": True, "sources": SOURCE}),
    ], "2025-04-05: 10%; 2025-04-09: 35%; 2025-05-01: ?; 2025-07-01: 35%; 2025-08-01: 40%"),
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_a_later_change_of_a_state_already_there_moves_the_answers_asked_before(
        change: str) -> None:
    # given the layers, then a rule, exemption or quota, then a change to it
    events, expected = CHANGES[change]
    log = [Recorded(seq, RECORDED, event)
           for seq, event in enumerate([*LAYERS, *events], start=1)]
    # when the cell's history is told
    history = cell_history(log, "JP", "9503")
    # then the last row shows the change, at 1 August too, as when every instant is asked
    assert [row.id for row in history.rows] == [e.id for e in [*LAYERS, *events]]
    assert history.rows[-1].after == expected
    assert history.rows == cell_history(log, "JP", "9503", reuse=False).rows
