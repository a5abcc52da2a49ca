"""The HTS itself over HTTP (SQLite and PostgreSQL): the same models as `tariffs hts --json`,
pages with a link to the next, problem details naming the parameter at fault."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient


def ok(response: Any) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


class TestOneLine:
    def test_a_line_names_its_clocks_revision_path_and_rates(self, client: TestClient
                                                             ) -> None:
        answer = ok(client.get("/v1/hts/0901.11.00", params={"at": "2025-12-10"}))
        assert answer["code"] == "0901.11.00"
        assert answer["revision"]["revision"] == "2025-rev-32"
        assert answer["path"][0]["code"] == "0901" and answer["rates"]["general"] == "Free"
        assert {"entered", "known", "recorded"} <= set(answer)

    def test_an_unknown_code_is_a_problem_naming_the_nearest_lines(
            self, client: TestClient) -> None:
        response = client.get("/v1/hts/9999.99.99", params={"at": "2025-12-10"})
        assert response.status_code == 400
        problem = response.json()
        assert problem["invalid-params"][0]["name"] == "code"
        assert "nearest" in problem["detail"]

    def test_the_same_question_of_the_same_log_is_not_modified(self, client: TestClient
                                                               ) -> None:
        first = client.get("/v1/hts/8703.23.01", params={"at": "2025-05-01"})
        again = client.get("/v1/hts/8703.23.01", params={"at": "2025-05-01"},
                           headers={"If-None-Match": first.headers["ETag"]})
        assert again.status_code == 304


class TestSearch:
    def test_hits_come_ranked_in_pages(self, client: TestClient) -> None:
        page = ok(client.get("/v1/hts/search", params={"q": "roasted coffee",
                                                       "at": "2025-12-10", "limit": 5}))
        assert page["total"] > 5 and len(page["items"]) == 5 and "offset=5" in page["next"]
        # the heading holds both words itself, and ranks first on every backend (before
        # 2101, also 8 points, by the shorter description)
        assert [i["code"] for i in page["items"][:2]] == ["0901", "2101"]
        assert page["items"][0]["score"] == 8
        scores = [i["score"] for i in page["items"]]
        assert scores == sorted(scores, reverse=True)
        assert page["words"] == "roasted coffee" and page["revision"]["revision"]
        following = ok(client.get(page["next"]))
        assert following["offset"] == 5
        assert not {i["code"] for i in page["items"]} & {i["code"] for i in following["items"]}

    def test_no_words_is_a_problem_naming_q(self, client: TestClient) -> None:
        response = client.get("/v1/hts/search", params={"q": "?!"})
        assert response.status_code == 400
        assert response.json()["invalid-params"][0]["name"] == "q"


class TestDiff:
    def test_changes_come_in_pages_with_counts_of_the_whole(self, client: TestClient) -> None:
        page = ok(client.get("/v1/hts/diff", params={"from": "2025-06-01", "to": "2026-03-01",
                                                     "limit": 50}))
        counts = page["counts"]
        assert page["total"] >= counts["added"] + counts["removed"] > 900
        assert len(page["items"]) == 50 and page["next"]
        assert page["before"]["revision"]["revision"] == "2025-rev-13"

    def test_a_prefix_keeps_the_comparison_to_its_lines(self, client: TestClient) -> None:
        page = ok(client.get("/v1/hts/diff", params={"from": "2025-06-01", "to": "2026-03-01",
                                                     "under": "0901", "limit": 1000}))
        assert page["items"] and all(i["code"].startswith("0901") for i in page["items"])
        assert page["next"] is None

    def test_the_schedule_diff_includes_the_nomenclature(self, client: TestClient) -> None:
        answer = ok(client.get("/v1/diff", params={"entered": ["2025-06-01", "2026-03-01"],
                                                   "hts": "0901"}))
        assert answer["nomenclature"]["counts"]["added"] > 0
