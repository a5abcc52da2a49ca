"""Store URLs against real databases: a schema keeps its case everywhere, a bad URL touches
nothing, a failed connection is said plainly, and only the default store makes its folder."""

from __future__ import annotations

import socket
import uuid
from pathlib import Path

import psycopg
import pytest

from tariff_timeline import TariffTimeline
from tariff_timeline.domain.errors import InvalidInput, StoreError
from tests.builders import imposed
from tests.conftest import FakeClock


def schemas(server: str) -> set[str]:
    with psycopg.connect(server) as conn:
        return {row[0] for row in conn.execute("SELECT nspname FROM pg_namespace")}


def tables_in(server: str, schema: str) -> set[str]:
    with psycopg.connect(server) as conn:
        return {row[0] for row in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
            (schema,))}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class TestPostgresSchemas:
    def test_a_mixed_case_schema_holds_the_events_and_the_read_model_in_that_case(
            self, pg_server: str, clock: FakeClock) -> None:
        schema = f"MixedCase2_{uuid.uuid4().hex[:8]}"
        timeline = TariffTimeline.open(f"{pg_server}?schema={schema}", clock=clock)
        try:
            timeline.record_events([imposed("m-on", "m", known="2025-04-02",
                                            start="2025-04-05", percent=10)])
            answer = timeline.rate_on(origin="JP", hts="9503", entered="2025-05-01")
            assert answer.additional == 10
            assert timeline.verify().intact
        finally:
            timeline.close()
        # and opened again, with its tables made, it appends and answers as well
        reopened = TariffTimeline.open(f"{pg_server}?schema={schema}", clock=clock)
        try:
            clock.advance(minutes=1)
            reopened.record_events([imposed("n-on", "n", known="2025-04-02",
                                            start="2025-04-05", percent=5)])
            answer = reopened.rate_on(origin="JP", hts="9503", entered="2025-05-01")
            assert answer.additional == 15 and reopened.verify().intact
        finally:
            reopened.close()
        made = tables_in(pg_server, schema)
        assert "tarifftimeline_events" in made and "rm_pieces" in made
        assert not tables_in(pg_server, schema.lower())

    def test_a_schema_list_is_refused_before_anything_is_created(
            self, pg_server: str, clock: FakeClock) -> None:
        before = schemas(pg_server)
        with pytest.raises(InvalidInput, match="'sa,public' is not a plain identifier"):
            TariffTimeline.open(f"{pg_server}?schema=sa,public", clock=clock)
        assert schemas(pg_server) == before


class TestConnections:
    def test_a_refused_connection_says_so_at_once_without_the_password(
            self, clock: FakeClock) -> None:
        port = free_port()
        with pytest.raises(StoreError) as caught:
            TariffTimeline.open(f"postgresql://tariffs:TopSecret2@127.0.0.1:{port}/tt",
                                clock=clock)
        assert str(caught.value) == (f"cannot connect to 127.0.0.1:{port}: connection refused "
                                     "(is the PostgreSQL server running there?)")

    def test_a_missing_database_is_named(self, pg_server: str, clock: FakeClock) -> None:
        missing = pg_server.rsplit("/", 1)[0] + "/no_such_db"
        with pytest.raises(StoreError, match='database "no_such_db" does not exist'):
            TariffTimeline.open(missing, clock=clock)


class TestSqliteFiles:
    def test_a_store_in_a_missing_directory_is_refused_and_nothing_is_made(
            self, tmp_path: Path, clock: FakeClock) -> None:
        with pytest.raises(InvalidInput, match=f"directory {tmp_path / 'no' / 'dir'} does "
                                               "not exist"):
            TariffTimeline.open(f"sqlite:///{tmp_path / 'no' / 'dir' / 'x.sqlite'}",
                                clock=clock)
        assert list(tmp_path.iterdir()) == []

    def test_the_default_store_still_makes_its_own_folder(
            self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock: FakeClock) -> None:
        monkeypatch.delenv("TARIFFS_DB", raising=False)
        monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
        timeline = TariffTimeline.open(clock=clock, load_bundled_if_new=False)
        timeline.close()
        assert (tmp_path / "data" / "tariff-timeline" / "timeline.sqlite").is_file()
