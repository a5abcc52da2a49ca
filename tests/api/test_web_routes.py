"""The web timeline page is served by the API's own app: the page, its assets and the charting
library from the package, and nothing of it in the OpenAPI document."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tariff_timeline import TariffTimeline
from tariff_timeline.api import create_app
from tariff_timeline.api.web import STATIC


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """A client of an app over an empty store: the page does not depend on what it holds."""
    folder = tmp_path_factory.mktemp("web")
    timeline = TariffTimeline.open(f"sqlite:///{folder / 'empty.sqlite'}")
    with TestClient(create_app(timeline=timeline)) as opened:
        yield opened
    timeline.close()


def test_the_root_leads_to_the_timeline_page(client: TestClient) -> None:
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 307
    assert client.get("/").url.path == "/timeline"


def test_the_page_is_html_whose_assets_are_all_served_from_the_package(
        client: TestClient) -> None:
    page = client.get("/timeline")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assets = re.findall(r'(?:src|href)="(static/[^"]+)"', page.text)
    assert "static/vendor/uplot/uPlot.iife.min.js" in assets
    for asset in assets:
        served = client.get(f"/{asset}")
        assert served.status_code == 200, asset
        assert served.content == (STATIC / asset.removeprefix("static/")).read_bytes()


def test_the_page_names_no_other_host(client: TestClient) -> None:
    for name in ("timeline.html", "timeline.js", "timeline.css"):
        text = (STATIC / name).read_text(encoding="utf-8")
        assert re.findall(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", text) == [], name


def test_the_origins_offered_are_countries_by_name_with_their_codes(
        client: TestClient) -> None:
    origins = client.get("/timeline/origins.json").json()
    assert {"code": "BR", "name": "Brazil"} in origins
    assert [o["name"] for o in origins] == sorted(o["name"] for o in origins)


def test_the_page_is_not_part_of_the_api_contract(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert all(path.startswith("/v1/") for path in paths)


def test_the_vendored_library_records_its_version_and_integrity() -> None:
    recorded = (STATIC / "vendor/uplot/VERSION").read_text(encoding="utf-8")
    assert recorded.startswith("uplot 1.6.32 ")
    assert re.search(r"^integrity sha512-[A-Za-z0-9+/=]{88}$", recorded, re.MULTILINE)
    assert "MIT" in (STATIC / "vendor/uplot/LICENSE").read_text(encoding="utf-8")
