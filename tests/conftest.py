"""Fixtures: an injected clock, and stores on SQLite and (when CI provides it) PostgreSQL."""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

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


START = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
"""Where each test's clock starts."""


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


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


class PolicyTemplates:
    """The bundled policy imported (at START) and projected once per backend and test session;
    each `loaded` store is a copy of it (what its own import at START would have written), so
    that tests of answers do not each spend seconds importing and projecting the same data.
    Tests of the import itself import for themselves."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.sqlite: Path | None = None
        self.postgres: str | None = None  # the template database's name

    def sqlite_copy(self, target: Path) -> str:
        """A new SQLite store at `target` holding the loaded policy."""
        if self.sqlite is None:
            path = self.root / "policy.sqlite"
            self._load(f"sqlite:///{path}")
            self.sqlite = path
        with sqlite3.connect(self.sqlite) as source, sqlite3.connect(target) as copy:
            source.backup(copy)
        source.close()
        copy.close()
        return f"sqlite:///{target}"

    def postgres_copy(self, server: str) -> str:
        """A new database on the server holding the loaded policy (PostgreSQL copies a
        template database whole: its schema, tables, types and rows)."""
        if self.postgres is None:
            name = f"tpl_{uuid.uuid4().hex[:12]}"
            _create_database(server, name)
            self._load(_on_database(server, name))
            self.postgres = name
        name = f"t_{uuid.uuid4().hex[:12]}"
        _create_database(server, name, template=self.postgres)
        return _on_database(server, name)

    @staticmethod
    def _load(url: str) -> None:
        opened = TariffTimeline.open(url, clock=FakeClock(START))
        try:
            opened.import_paths(POLICY_DATA)
            opened.catch_up()
        finally:
            opened.close()


def _on_database(server: str, name: str) -> str:
    return f"{make_url(server).set(database=name).render_as_string(hide_password=False)}" \
           f"?schema=policy"


def _server_sql(server: str, statement: str, *names: str) -> None:
    """Run one statement on the server outside a transaction (CREATE and DROP DATABASE),
    with `names` quoted as identifiers into its {} (psycopg only where PostgreSQL is)."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(sql.SQL(statement).format(*map(sql.Identifier, names)))


def _create_database(server: str, name: str, template: str | None = None) -> None:
    if template is None:
        _server_sql(server, "CREATE DATABASE {}", name)
    else:
        _server_sql(server, "CREATE DATABASE {} TEMPLATE {}", name, template)


@pytest.fixture(scope="session")
def policy_templates(tmp_path_factory: pytest.TempPathFactory) -> PolicyTemplates:
    return PolicyTemplates(tmp_path_factory.mktemp("policy"))


@pytest.fixture
def loaded(db_url: str, clock: FakeClock, policy_templates: PolicyTemplates,
           tmp_path: Path) -> Iterator[TariffTimeline]:
    """A store loaded with the bundled tariff policy (without the HTS nomenclature), its read
    model caught up, on a clock at START; a copy of its own, so tests may write to it."""
    server = None
    if db_url.startswith("sqlite"):
        url = policy_templates.sqlite_copy(tmp_path / "loaded.sqlite")
    else:
        server = _postgres_url()
        if server is None:
            pytest.fail("no PostgreSQL server")  # db_url has skipped or failed already
        url = policy_templates.postgres_copy(server)
    opened = TariffTimeline.open(url, clock=clock)
    yield opened
    opened.close()
    if server is not None:  # a database a test, not a schema: drop it rather than keep dozens
        _server_sql(server, "DROP DATABASE {} WITH (FORCE)", make_url(url).database or "")


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
