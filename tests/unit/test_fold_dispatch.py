"""The fold hands each event to the handler registered for its type, and refuses the rest."""

from __future__ import annotations

import json
from typing import Literal

import pytest
from pydantic import TypeAdapter

from tariff_timeline.domain.errors import LifecycleError
from tariff_timeline.domain.timeline import RuleState, RuleVersion, Timeline, evolve, fold, handles
from tariff_timeline.events import EVENT_TYPES, MeasureImposed, PolicyEvent, StackingRuleChanged
from tests.builders import SOURCE, imposed, stacking


class Rumoured(PolicyEvent):
    """An event type the fold was never taught."""

    type: Literal["Rumoured"] = "Rumoured"


class Provisional(MeasureImposed):
    """A subclass of a handled event type, with no handler of its own."""


def _rumour() -> PolicyEvent:
    return Rumoured.model_validate({"id": "r1", "known": "2025-01-01", "sources": SOURCE})


@pytest.mark.parametrize("event_type", EVENT_TYPES, ids=lambda t: t.__name__)
def test_every_event_type_has_a_handler_in_the_fold(event_type: type[PolicyEvent]) -> None:
    assert handles(event_type)


def test_an_event_type_without_a_handler_is_not_known_to_the_fold() -> None:
    assert not handles(Rumoured)


def test_an_event_type_without_a_handler_is_refused() -> None:
    with pytest.raises(LifecycleError) as refused:
        evolve(Timeline(), _rumour())
    assert (refused.value.event_id, refused.value.field) == ("r1", "type")
    assert refused.value.message == "no rule to fold events of type Rumoured"


def test_a_fold_refuses_an_event_type_without_a_handler_among_known_ones() -> None:
    given = imposed("a", "m", known="2025-01-01", start="2025-02-01", percent=10)
    with pytest.raises(LifecycleError, match="no rule to fold events of type Rumoured"):
        fold([given, _rumour()])


def test_a_subclass_of_an_event_type_folds_like_its_parent() -> None:
    parent = imposed("a", "m", known="2025-01-01", start="2025-02-01", percent=10)
    child = Provisional.model_validate(parent.model_dump())
    assert fold([child]).measures == fold([parent]).measures


def test_a_rule_change_keeps_the_selectors_it_does_not_name() -> None:
    rule = stacking("a", "r", known="2025-01-01", start="2025-02-01",
                    when={"programs": ("metals",)}, excludes={"programs": ("reciprocal",)})
    suspended = StackingRuleChanged.model_validate({
        "id": "b", "rule": "r", "known": "2025-03-01", "effective_from": "2025-04-01",
        "in_effect": False, "excludes": {"programs": ("fentanyl",)}, "sources": SOURCE,
    })
    versions = fold([rule, suspended]).rules["r"].versions
    assert [v.value.in_effect for v in versions] == [True, False]
    assert versions[-1].value.when == versions[0].value.when
    assert versions[-1].value.excludes.programs == ("fentanyl",)


def test_a_stored_rule_version_is_still_a_json_list() -> None:
    rule = stacking("a", "r", known="2025-01-01", start="2025-02-01",
                    when={"programs": ("metals",)}, excludes={"programs": ("reciprocal",)})
    state = fold([rule]).rules["r"]
    adapter = TypeAdapter(RuleState)
    stored = adapter.dump_json(state)
    assert isinstance(json.loads(stored)["versions"][0]["value"], list)
    decoded = adapter.validate_json(stored)
    assert decoded == state
    assert isinstance(decoded.versions[0].value, RuleVersion)
