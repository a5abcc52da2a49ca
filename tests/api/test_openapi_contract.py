"""The OpenAPI document is a contract: schemathesis generates requests from it (valid and
invalid) against the app over a small loaded SQLite store, and every response must be
something other than a server error, with a documented status, content type and schema."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tariff_timeline import TariffTimeline
from tariff_timeline.api import create_app
from tests.conftest import DATA, FakeClock

EXAMPLES = 20
"""Generated requests per operation: enough to find the edges, within the time CI allows."""


@pytest.fixture(scope="module")
def small_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TariffTimeline]:
    folder = tmp_path_factory.mktemp("contract")
    opened = TariffTimeline.open(f"sqlite:///{folder / 'timeline.sqlite'}",
                                 clock=FakeClock(datetime(2026, 8, 1, 12, 0, tzinfo=UTC)))
    opened.import_paths([DATA])  # the bundled timeline: a few hundred events
    yield opened
    opened.close()


@pytest.fixture(scope="module")
def api_schema(small_store: TariffTimeline) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_asgi("/openapi.json", create_app(timeline=small_store))


CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]


def test_no_request_from_the_schema_gets_a_server_error_or_an_undocumented_answer(
        api_schema: schemathesis.BaseSchema) -> None:
    # schemathesis's own pytest plugin does not run under pytest 9: drive its Python API,
    # one bounded hypothesis run per operation, and report every operation that failed.
    failed: dict[str, str] = {}
    asked: dict[str, int] = {}
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 13
    for operation in operations:
        label = operation.label

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def answers(case: schemathesis.Case) -> None:
            asked[label] = asked.get(label, 0) + 1  # noqa: B023 (run before the loop moves on)
            case.call_and_validate(checks=CHECKS)

        try:
            answers()
        except Exception as exc:  # a check failed: keep going to report every operation
            failed[label] = str(exc)[:2000]
    assert failed == {}
    assert len(asked) == len(operations) and min(asked.values()) >= 1, asked
