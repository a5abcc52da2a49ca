"""Fixtures for the HTTP API: a client over the bundled dataset (loaded once per module and
backend), and clients over fresh stores with writes on or off."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tariff_timeline import TariffTimeline
from tariff_timeline.api import ApiSettings, create_app

TOKEN = "s3cret-token-for-tests-only"


@pytest.fixture(scope="module")
def client(loaded_once: TariffTimeline) -> Iterator[TestClient]:
    """A client of an app over the bundled dataset (read-only questions)."""
    with TestClient(create_app(timeline=loaded_once)) as opened:
        yield opened


@pytest.fixture
def writable(loaded: TariffTimeline) -> Iterator[TestClient]:
    """A client of an app that takes writes with TOKEN, over a fresh loaded store."""
    with TestClient(create_app(ApiSettings(token=TOKEN), timeline=loaded)) as opened:
        yield opened


def bearer(token: str = TOKEN) -> dict[str, str]:
    """The Authorization header for a token."""
    return {"Authorization": f"Bearer {token}"}
