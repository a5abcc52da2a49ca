"""Batch answers over HTTP (JSON array, JSON Lines, CSV in; JSON Lines or CSV out), writes
behind a token, health, request logs and CORS (SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import io
import json
import logging
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tariff_timeline import TariffTimeline, batch
from tariff_timeline.api import ApiSettings, create_app
from tests.api.conftest import TOKEN, bearer
from tests.integration.test_tamper_evidence import RawTable

QUESTIONS = ("id,origin,hts,entered,known,mfn,usmca_qualifying\n"
             "car,JP,8703.23.01,2025-05-01,,2.5,\n"
             "toy,CA,9503,2025-04-01,,,\n"
             "bad,XX,9503,2025-04-01,,,\n"
             "usmca,CA,9503,2025-04-01,,,true\n")


def lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines()]


class TestBatchAnswers:
    def test_csv_in_gives_one_json_line_per_row_in_order_with_an_error_row_in_place(
            self, client: TestClient) -> None:
        response = client.post("/v1/rate/batch", content=QUESTIONS,
                               headers={"Content-Type": "text/csv"})
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/x-ndjson")
        rows = lines(response.text)
        assert [(r["row"], r["id"], r["status"]) for r in rows] == [
            (1, "car", "exact"), (2, "toy", "depends on facts"), (3, "bad", "refused"),
            (4, "usmca", "exact")]
        assert (rows[0]["additional"], rows[0]["total"], rows[0]["applied"]) == (
            25.0, 27.5, ["s232-autos"])
        assert (rows[1]["additional_min"], rows[1]["additional_max"]) == (0.0, 25.0)
        assert rows[1]["alternatives"][0]["assumptions"] == {"usmca_qualifying = true": True}
        assert rows[2]["field"] == "origin" and "XX" in rows[2]["error"]

    def test_a_json_array_answered_as_csv(self, client: TestClient) -> None:
        response = client.post("/v1/rate/batch", headers={"Accept": "text/csv"}, json=[
            {"origin": "JP", "hts": "8703.23.01", "entered": "2025-05-01", "mfn": 2.5},
            {"origin": "JP", "hts": "8703.23.01"}])
        assert response.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(response.text)))
        assert tuple(rows[0]) == batch.ANSWER_COLUMNS
        assert (rows[0]["total"], rows[1]["status"], rows[1]["field"]) == (
            "27.5", "refused", "entered")

    def test_json_lines_with_a_line_that_is_not_json(self, client: TestClient) -> None:
        body = ('{"origin": "JP", "hts": "8703.23.01", "entered": "2025-05-01"}\n'
                "{not json\n")
        rows = lines(client.post("/v1/rate/batch", content=body,
                                 headers={"Content-Type": "application/x-ndjson"}).text)
        assert [(r["row"], r["status"]) for r in rows] == [(1, "exact"), (2, "refused")]

    def test_more_rows_than_a_batch_takes_is_refused_whole(
            self, client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(batch, "MAX_ROWS", 2)
        response = client.post("/v1/rate/batch", content=QUESTIONS,
                               headers={"Content-Type": "text/csv"})
        assert response.status_code == 413
        assert response.json()["type"].endswith("too-large")

    def test_an_unknown_media_type_names_the_body(self, client: TestClient) -> None:
        problem = client.post("/v1/rate/batch", content="x",
                              headers={"Content-Type": "text/plain"}).json()
        assert problem["status"] == 400 and problem["invalid-params"][0]["name"] == "body"


class TestWritesNeedTheToken:
    def test_a_server_without_a_token_takes_no_writes(self, client: TestClient) -> None:
        response = client.post("/v1/import", json={"events": []}, headers=bearer())
        assert response.status_code == 403
        assert response.json()["type"].endswith("writes-disabled")

    @pytest.mark.parametrize("headers", [{}, bearer("wrong-token-wrong-token"),
                                         {"Authorization": TOKEN}])
    def test_a_write_without_the_right_bearer_token_is_unauthenticated(
            self, writable: TestClient, headers: dict[str, str]) -> None:
        response = writable.post("/v1/import", json={"events": []}, headers=headers)
        assert response.status_code == 401 and response.headers["www-authenticate"] == "Bearer"

    def test_an_uploaded_event_file_is_imported_and_moves_the_head(
            self, writable: TestClient, loaded: TariffTimeline) -> None:
        before = writable.get("/v1/rate", params={"origin": "JP", "hts": "9503.00.00",
                                                  "entered": "2027-01-10"})
        event = {"id": "api-test-jp", "type": "MeasureImposed", "known": "2026-01-01",
                 "sources": [{"title": "a test source"}], "measure": "api-test-jp",
                 "title": "A test measure", "authority": "IEEPA", "program": "test",
                 "effective_from": "2027-01-01",
                 "scope": {"origins": ["JP"], "products": ["9503"]},
                 "rate": {"kind": "additive", "percent": 7}}
        done = writable.post("/v1/import", json={"events": [event]}, headers=bearer())
        assert done.status_code == 200, done.text
        assert done.json()["appended"] == 1
        assert done.json()["head"]["events"] == loaded.store.count()
        after = writable.get("/v1/rate", params={"origin": "JP", "hts": "9503.00.00",
                                                 "entered": "2027-01-10"},
                             headers={"If-None-Match": before.headers["etag"]})
        assert after.status_code == 200
        assert "api-test-jp" in [layer["measure"] for layer in after.json()["layers"]]

    def test_a_refused_import_is_422_with_every_problem(self, writable: TestClient) -> None:
        response = writable.post("/v1/import", content="events: [{id: x, type: Nope}]",
                                 headers={**bearer(), "Content-Type": "application/yaml"})
        assert response.status_code == 422 and response.json()["problems"]

    def test_a_correction_is_recorded(self, writable: TestClient,
                                      loaded: TariffTimeline) -> None:
        original = next(e for e in loaded.events("ieepa-recip-jp")
                        if e.id == "recip-country-rates-jp")
        stored = next(r.event for r in loaded.store.read() if r.event.id == original.id)
        replacement = stored.model_dump(mode="json", exclude_none=True)
        done = writable.post("/v1/correct", headers=bearer(), json={
            "event_id": original.id, "reason": "a test", "replacement": replacement})
        assert done.status_code == 200, done.text
        assert done.json()["corrects"] == original.id

    def test_a_correction_with_a_broken_replacement_names_it(
            self, writable: TestClient) -> None:
        response = writable.post("/v1/correct", headers=bearer(), json={
            "event_id": "recip-country-rates-jp", "reason": "x", "replacement": {"id": 1}})
        assert response.status_code == 400
        assert response.json()["invalid-params"][0]["name"] == "replacement"


class TestHealth:
    def test_a_caught_up_store_is_healthy(self, client: TestClient) -> None:
        client.get("/v1/rate", params={"origin": "JP", "hts": "9503", "entered": "2025-05-01"})
        health = client.get("/v1/health").json()
        assert health["status"] == "ok" and health["chain"]["intact"] is True
        assert health["read_model"]["lag"] == 0 and health["head"]["events"] > 0

    def test_the_read_model_lag_is_what_it_has_not_applied(
            self, timeline: TariffTimeline) -> None:
        timeline.import_paths([batch.Path(__file__).resolve().parents[2] / "data"])
        with TestClient(create_app(timeline=timeline)) as fresh:
            health = fresh.get("/v1/health").json()
        assert health["read_model"]["lag"] == health["read_model"]["log_notification_id"] > 0
        assert health["chain"]["checked_events"] == timeline.store.count()

    def test_a_log_changed_outside_the_application_fails_health_and_answers_nothing(
            self, timeline: TariffTimeline, db_url: str) -> None:
        from tests.integration.test_answers_from_a_checked_log import baseline, rewrite_rate

        timeline.record_events(baseline())
        raw = RawTable(db_url, timeline.store.events_table)
        try:
            (key,) = raw.sql(f"SELECT MIN({raw.key}) FROM {raw.table}")[0]
            rewrite_rate(raw, key, 90)
        finally:
            raw.close()
        with TestClient(create_app(timeline=timeline)) as broken:
            health = broken.get("/v1/health")
            rate = broken.get("/v1/rate", params={"origin": "BR", "hts": "0901.11.00",
                                                  "entered": "2025-06-01"})
        assert health.status_code == 503 and health.json()["chain"]["intact"] is False
        assert rate.status_code == 500 and rate.json()["type"].endswith("tamper-detected")


class TestRequestLogsAndCors:
    def test_each_request_is_one_json_line_without_the_token(
            self, writable: TestClient, caplog: pytest.LogCaptureFixture) -> None:
        with caplog.at_level(logging.INFO, logger="tariff_timeline.api.access"):
            writable.post("/v1/import", json={"events": []}, headers=bearer())
        (record,) = [r for r in caplog.records if r.name == "tariff_timeline.api.access"]
        logged = json.loads(record.getMessage())
        assert logged.keys() == {"method", "path", "status", "duration_ms"}
        assert (logged["method"], logged["path"], logged["status"]) == ("POST", "/v1/import",
                                                                        200)
        assert TOKEN not in record.getMessage()

    def test_cors_is_off_by_default(self, client: TestClient) -> None:
        response = client.get("/v1/health", headers={"Origin": "https://example.org"})
        assert "access-control-allow-origin" not in response.headers

    def test_cors_allows_only_the_listed_origins(self, loaded_once: TariffTimeline) -> None:
        settings = ApiSettings(cors_origins=("https://allowed.example",))
        with TestClient(create_app(settings, timeline=loaded_once)) as app:
            allowed = app.get("/v1/health", headers={"Origin": "https://allowed.example"})
            other = app.get("/v1/health", headers={"Origin": "https://other.example"})
        assert allowed.headers["access-control-allow-origin"] == "https://allowed.example"
        assert "access-control-allow-origin" not in other.headers
