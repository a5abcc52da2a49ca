"""Every question the command line answers, over HTTP: the same answers as `--json`, each
naming its three clocks and the store's recorded head, with ETags, pages and problem details
(SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from typing import Any

import jsonschema_rs
import pytest
from fastapi.testclient import TestClient

from tariff_timeline import TariffTimeline

CAR = {"origin": "JP", "hts": "8703.23.01", "entered": "2025-05-01", "mfn": 2.5}


def ok(response: Any) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


class TestAnswersAreThoseOfTheCommandLine:
    def test_a_rate_answer_is_the_json_the_command_line_prints(
            self, client: TestClient, loaded_once: TariffTimeline) -> None:
        answer = ok(client.get("/v1/rate", params=CAR))
        expected = loaded_once.rate_on(**CAR).to_json_dict()  # type: ignore[arg-type]
        assert answer == json.loads(json.dumps(expected))
        # what OpenAPI documents
        document = client.get("/openapi.json").json()
        schema = {"$ref": "#/components/schemas/RateAnswer", **document}
        assert jsonschema_rs.validator_for(schema).is_valid(answer)
        assert (answer["additional"], answer["total"]) == (25, 27.5)
        assert {"entered", "known", "recorded"} <= answer.keys()

    def test_explain_gives_the_same_answer_with_each_layers_sources(
            self, client: TestClient) -> None:
        answer = ok(client.get("/v1/explain", params=CAR))
        autos = next(layer for layer in answer["layers"] if layer["measure"] == "s232-autos")
        assert autos["applied"] and autos["sources"] and autos["events"]

    @pytest.mark.parametrize("known, expected", [("2025-04-08", 24), ("2025-04-10", 10)])
    def test_what_was_expected_depends_on_when_we_looked(
            self, client: TestClient, known: str, expected: int) -> None:
        answer = ok(client.get("/v1/rate", params={"origin": "JP", "hts": "9503.00.00",
                                                   "entered": "2025-04-10", "known": known}))
        assert answer["additional"] == expected and answer["known"].startswith(known)

    def test_facts_are_repeatable_key_value_parameters(self, client: TestClient) -> None:
        question = {"origin": "CA", "hts": "9503", "entered": "2025-04-01"}
        unstated = ok(client.get("/v1/rate", params=question))
        assert unstated["additional"] is None and len(unstated["alternatives"]) == 2
        stated = ok(client.get("/v1/rate", params={**question,
                                                   "fact": ["usmca_qualifying=true"]}))
        assert stated["additional"] == 0

    def test_a_schedule_names_its_coordinate(self, client: TestClient) -> None:
        schedule = ok(client.get("/v1/schedule", params={"entered": "2025-04-10",
                                                         "origin": "JP"}))
        assert {r["id"]: r["status"] for r in schedule["rows"]}["ieepa-recip-jp"] == "paused"
        assert schedule["entered"].startswith("2025-04-10")

    def test_a_diff_takes_a_clock_twice_and_origins_and_codes_repeated(
            self, client: TestClient) -> None:
        found = ok(client.get("/v1/diff", params={
            "entered": "2025-04-10", "known": ["2025-04-08", "2025-04-10"],
            "origin": ["JP", "CN"], "hts": ["9503.00.00"]}))
        assert found["before"]["known"].startswith("2025-04-08")
        assert found["after"]["known"].startswith("2025-04-10")
        jp = next(cell for cell in found["cells"] if cell["origin"] == "JP")
        assert (jp["before"], jp["after"]) == (24, 10)

    def test_a_series_overlays_two_known_times(self, client: TestClient) -> None:
        found = ok(client.get("/v1/series", params={
            "origin": "JP", "hts": "9503.00.00", "from": "2025-03-01", "to": "2025-12-31",
            "known": ["2025-07-08", "2025-08-01"]}))
        assert [s["known"][:10] for s in found["series"]] == ["2025-07-08", "2025-08-01"]
        assert found["head"]["events"] > 0


class TestListsArePagedInAnEnvelope:
    def test_events_come_in_pages_with_a_link_to_the_next(
            self, client: TestClient, loaded_once: TariffTimeline) -> None:
        first = ok(client.get("/v1/events", params={"limit": 10}))
        assert first["total"] == loaded_once.store.count() and len(first["items"]) == 10
        second = ok(client.get(first["next"]))
        assert second["offset"] == 10
        assert [e["seq"] for e in first["items"] + second["items"]] == list(range(1, 21))
        assert first["recorded"] and first["head"]["events"] == first["total"]

    def test_the_last_page_has_no_next(self, client: TestClient) -> None:
        page = ok(client.get("/v1/events", params={"measure": "ieepa-recip-cn",
                                                   "limit": 1000}))
        assert page["next"] is None and page["total"] == len(page["items"])
        assert "recip-country-rates-cn" in [e["id"] for e in page["items"]]

    def test_a_history_of_a_measure_or_a_cell_names_its_subject(
            self, client: TestClient) -> None:
        measure = ok(client.get("/v1/history", params={"measure": "ieepa-recip-jp",
                                                       "limit": 2}))
        assert measure["subject"] == "ieepa-recip-jp" and len(measure["items"]) == 2
        cell = ok(client.get("/v1/history", params={"origin": "JP", "hts": "9503.00.00"}))
        assert cell["items"] and cell["total"] >= len(cell["items"])

    def test_sources_and_coverage_are_pages_too(self, client: TestClient) -> None:
        sources = ok(client.get("/v1/sources", params={"limit": 5}))
        assert len(sources["items"]) == 5 and sources["next"]
        coverage = ok(client.get("/v1/coverage", params={"at": "2025-07-01"}))
        assert coverage["entered"].startswith("2025-07-01") and coverage["items"]


class TestEveryAnswerNamesTheHeadAndCanBeRevalidated:
    def test_the_head_is_in_the_headers_and_the_etag_is_weak(
            self, client: TestClient, loaded_once: TariffTimeline) -> None:
        response = client.get("/v1/rate", params=CAR)
        head = loaded_once.head()
        assert response.headers["x-tariffs-head-events"] == str(head.events)
        assert response.headers["x-tariffs-head-link"] == head.link
        assert response.headers["etag"].startswith('W/"')

    def test_the_same_question_of_the_same_log_is_not_modified(
            self, client: TestClient) -> None:
        tag = client.get("/v1/rate", params=CAR).headers["etag"]
        again = client.get("/v1/rate", params=CAR, headers={"If-None-Match": tag})
        assert again.status_code == 304 and again.headers["etag"] == tag

    def test_another_question_has_another_etag(self, client: TestClient) -> None:
        one = client.get("/v1/rate", params=CAR).headers["etag"]
        other = client.get("/v1/rate", params={**CAR, "mfn": 3}).headers["etag"]
        assert one != other
        assert client.get("/v1/rate", params={**CAR, "mfn": 3},
                          headers={"If-None-Match": one}).status_code == 200


class TestErrorsAreProblemDetails:
    @pytest.mark.parametrize("params, name", [
        ({**CAR, "origin": "XX"}, "origin"),
        ({**CAR, "entered": "someday"}, "entered"),
        ({**CAR, "fact": "no_such_fact=1"}, "fact"),
        ({"origin": "JP", "hts": "8703.23.01"}, "entered"),
        ({**CAR, "mfn": -1}, "mfn"),
    ])
    def test_a_bad_parameter_is_named_as_the_query_parameter(
            self, client: TestClient, params: dict[str, Any], name: str) -> None:
        response = client.get("/v1/rate", params=params)
        assert response.status_code == 400
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert problem["type"].endswith("invalid-input") and problem["status"] == 400
        assert [p["name"] for p in problem["invalid-params"]] == [name]

    def test_a_series_names_from_and_to(self, client: TestClient) -> None:
        problem = client.get("/v1/series", params={"origin": "JP", "hts": "9503",
                                                   "from": "2025-06-01",
                                                   "to": "2025-01-01"}).json()
        assert problem["invalid-params"][0]["name"] == "to"

    def test_an_unknown_path_is_a_problem_too(self, client: TestClient) -> None:
        response = client.get("/v1/nothing-here")
        assert response.status_code == 404
        assert response.json()["type"].endswith("not-found")


class TestTheOpenApiDocument:
    def test_every_operation_has_an_example_and_documents_its_problems(
            self, client: TestClient) -> None:
        document = ok(client.get("/openapi.json"))
        assert "Problem" in document["components"]["schemas"]
        for path, operations in document["paths"].items():
            for method, operation in operations.items():
                text = str(operation)
                assert "example" in text, f"{method} {path} has no example"
                assert "application/problem+json" in text, f"{method} {path}"
