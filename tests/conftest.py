"""Fixtures: an injected clock, and stores on SQLite and (when CI provides it) PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tariff_timeline import TariffTimeline

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "data"
"""The bundled timeline, as a new default store loads it: policy events and the HTS."""
POLICY_DATA = sorted(path for path in DATA.iterdir() if path.suffix in (".yaml", ".json"))
"""The bundled tariff policy without the HTS nomenclature (data/nomenclature/, 6 MB of line
events): for tests of behaviour the nomenclature does not touch, which would otherwise spend
most of their time importing and projecting it. Folder order, as an import of DATA reads it."""


class FakeClock:
    """A clock the test moves by hand, so recorded times are distinct without sleeping."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 1, 5, 12, 0, tzinfo=UTC))


def _postgres_url() -> str | None:
    url = os.environ.get("TARIFFS_TEST_POSTGRES_URL")
    if url is None and os.environ.get("TARIFFS_REQUIRE_POSTGRES") == "1":
        pytest.fail("TARIFFS_REQUIRE_POSTGRES=1 but TARIFFS_TEST_POSTGRES_URL is not set")
    return url


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty store URL on each backend (PostgreSQL: a schema of its own)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'timeline.sqlite'}"
    url = _postgres_url()
    if url is None:
        pytest.skip("no PostgreSQL server: run `make test`, which starts one")
    return f"{url}?schema=t_{uuid.uuid4().hex[:12]}"


@pytest.fixture
def pg_server() -> str:
    """The test PostgreSQL server's URL, without a schema."""
    url = _postgres_url()
    if url is None:
        pytest.skip("no PostgreSQL server: run `make test`, which starts one")
    return url


@pytest.fixture
def pg_url() -> str:
    """A fresh schema on the PostgreSQL server (for behaviour that only PostgreSQL has)."""
    url = _postgres_url()
    if url is None:
        pytest.skip("no PostgreSQL server: run `make test`, which starts one")
    return f"{url}?schema=t_{uuid.uuid4().hex[:12]}"


@pytest.fixture
def timeline(db_url: str, clock: FakeClock) -> Iterator[TariffTimeline]:
    """An empty timeline store with the fake clock."""
    opened = TariffTimeline.open(db_url, clock=clock)
    yield opened
    opened.close()


@pytest.fixture
def loaded(timeline: TariffTimeline) -> TariffTimeline:
    """A store loaded with the bundled tariff policy (without the HTS nomenclature)."""
    timeline.import_paths(POLICY_DATA)
    return timeline


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def loaded_once(request: pytest.FixtureRequest,
                tmp_path_factory: pytest.TempPathFactory) -> Iterator[TariffTimeline]:
    """The whole bundled timeline (HTS included) loaded once per test session and backend,
    for read-only questions: no test writes to it (writes go to `loaded`).

    Its clock stands after the last event of the dataset, so the default `known` sees them all.
    """
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('once') / 'timeline.sqlite'}"
    else:
        base = _postgres_url()
        if base is None:
            pytest.skip("no PostgreSQL server: run `make test`, which starts one")
        url = f"{base}?schema=t_{uuid.uuid4().hex[:12]}"
    opened = TariffTimeline.open(url, clock=FakeClock(datetime(2026, 8, 1, 12, 0, tzinfo=UTC)))
    opened.import_paths([DATA])
    yield opened
    opened.close()
