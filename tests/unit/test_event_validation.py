"""Events reject malformed content with the field at fault."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import TypeAdapter, ValidationError

from tariff_timeline.events import (
    EVENT_TYPES,
    EVERYWHERE,
    TOPICS,
    AnyEvent,
    PolicyEvent,
    Scope,
    format_hts,
    normalise_hts,
)

ADAPTER: TypeAdapter[PolicyEvent] = TypeAdapter(AnyEvent)


def imposed(**overrides: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "id": "m-imposed", "type": "MeasureImposed", "known": "2025-04-02",
        "measure": "m", "program": "p", "authority": "IEEPA", "title": "A measure",
        "effective_from": "2025-04-05", "scope": {"origins": ["JP"], "products": ["8703"]},
        "rate": {"percent": 10},
        "sources": [{"title": "EO 1", "url": "https://example.org"}],
    }
    event.update(overrides)
    return event


def error_fields(data: dict[str, Any]) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        ADAPTER.validate_python(data)
    return [".".join(str(p) for p in e["loc"][1:]) for e in caught.value.errors()]


class TestScopes:
    def test_hts_codes_are_accepted_with_or_without_dots(self) -> None:
        assert normalise_hts("8703.23.01") == "87032301"
        assert normalise_hts("8703230100") == "8703230100"
        assert format_hts("87032301") == "8703.23.01"

    @pytest.mark.parametrize("code", ["870", "8703.2", "ABCD", "87032301001"])
    def test_bad_hts_code_is_rejected_at_its_field(self, code: str) -> None:
        fields = error_fields(imposed(scope={"origins": ["JP"], "products": [code]}))
        assert fields == ["scope.products.0"]

    def test_unknown_country_is_rejected_at_its_field(self) -> None:
        fields = error_fields(imposed(scope={"origins": ["XX"], "products": ["ALL"]}))
        assert fields == ["scope.origins.0"]

    def test_named_groups_and_all_are_origins(self) -> None:
        event = ADAPTER.validate_python(imposed(scope={"origins": ["EU"], "products": ["ALL"]}))
        assert event.scope.origins == ("EU",)  # type: ignore[attr-defined]


class TestTimes:
    def test_bare_effective_date_means_1201_am_eastern(self) -> None:
        event = ADAPTER.validate_python(imposed())
        start: datetime = event.effective_from  # type: ignore[attr-defined]
        assert start.isoformat() == "2025-04-05T00:01:00-04:00"

    def test_end_before_start_is_rejected(self) -> None:
        fields = error_fields(imposed(effective_until="2025-04-01"))
        assert fields == [""]

    def test_naive_datetime_is_rejected(self) -> None:
        assert error_fields(imposed(effective_from="2025-04-05T00:01:00")) == ["effective_from"]


class TestTypingRule:
    """Dates and HTS codes are text in the import format; Python may pass real dates."""

    @pytest.mark.parametrize("field", ["known", "effective_from", "effective_until"])
    @pytest.mark.parametrize("value", [20250410, 2025.04, True, ["2025-04-10"]])
    def test_a_date_that_is_not_text_is_refused_at_its_field(self, field: str,
                                                              value: object) -> None:
        assert error_fields(imposed(**{field: value})) == [field]

    @pytest.mark.parametrize("value", [101, 9503.0, True, None, ["9503"]])
    def test_an_hts_code_that_is_not_text_is_refused_at_its_field(self, value: object) -> None:
        scope = {"origins": ["JP"], "products": [value]}
        assert error_fields(imposed(scope=scope)) == ["scope.products.0"]

    @pytest.mark.parametrize("code", ["9503 00", "9503\t00", "9503..00", ".9503", "9503."])
    def test_an_hts_code_is_digits_in_groups_separated_by_single_dots(self, code: str) -> None:
        with pytest.raises(ValueError, match="only digits, separated by single dots"):
            normalise_hts(code)

    def test_python_callers_may_pass_date_and_datetime_objects(self) -> None:
        eastern = ZoneInfo("America/New_York")
        event = ADAPTER.validate_python(imposed(
            known=date(2025, 4, 2), effective_from=date(2025, 4, 5),
            effective_until=datetime(2025, 5, 1, 0, 1, tzinfo=eastern)))
        assert event.known == date(2025, 4, 2)
        assert event.effective_from.isoformat() == "2025-04-05T00:01:00-04:00"  # type: ignore[attr-defined]

    def test_a_python_scope_must_name_its_origins_and_products_too(self) -> None:
        with pytest.raises(ValidationError, match="products not given"):
            Scope(origins=("JP",))  # type: ignore[call-arg]
        assert Scope(origins=("ALL",), products=("ALL",)) == EVERYWHERE

    @pytest.mark.parametrize("text", ["a\x00b", "bell\x07", "\x9b[31m", "half \ud800"])
    def test_free_text_refuses_control_characters_and_lone_surrogates(self, text: str) -> None:
        assert error_fields(imposed(title=text)) == ["title"]

    def test_free_text_keeps_tabs_line_breaks_and_any_language(self) -> None:
        ADAPTER.validate_python(imposed(title="Zölle\tauf\nWaren 関税 \U0001f4e6"))


class TestShape:
    def test_unknown_field_is_rejected(self) -> None:
        assert error_fields(imposed(colour="blue")) == ["colour"]

    def test_rate_above_1000_percent_is_rejected(self) -> None:
        assert error_fields(imposed(rate={"percent": 1001})) == ["rate.percent"]

    def test_every_event_cites_a_source(self) -> None:
        assert error_fields(imposed(sources=[])) == ["sources"]

    def test_partly_confirmed_facts_must_say_what_is_uncertain(self) -> None:
        assert error_fields(imposed(confidence="partly")) == [""]
        ADAPTER.validate_python(imposed(confidence="partly", caveats=["date from one source"]))

    def test_replacement_rate_names_what_it_replaces(self) -> None:
        assert error_fields(imposed(rate={"percent": 24, "kind": "replacement"})) == ["rate"]

    def test_events_are_frozen(self) -> None:
        event = ADAPTER.validate_python(imposed())
        with pytest.raises(ValidationError):
            event.id = "other"  # type: ignore[misc]


class TestTopics:
    def test_every_event_type_has_a_unique_versioned_topic(self) -> None:
        topics = [cls.TOPIC for cls in EVENT_TYPES]
        assert len(set(topics)) == len(topics) == len(TOPICS)
        for topic in topics:
            assert topic.startswith("tariffs.") and topic.rsplit(".", 1)[1].startswith("v")

    def test_topics_do_not_depend_on_module_paths(self) -> None:
        for cls in EVENT_TYPES:
            assert cls.__module__ not in cls.TOPIC
