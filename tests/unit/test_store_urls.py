"""Store URLs are parsed and shown with SQLAlchemy's URL type and checked before anything
connects: passwords never shown, ports and schemas checked, SQLite directories never made."""

from __future__ import annotations

from pathlib import Path

import pytest

from tariff_timeline.cli.options import message_of
from tariff_timeline.domain.errors import InvalidInput, StoreError
from tariff_timeline.store import parse_store_url, redact
from tariff_timeline.store.opening import connect_failure

SECRET = "TopSecret2"

BAD_URLS = [
    f"postgresql://tariffs:{SECRET}@/tt",
    f"postgresql://tariffs:{SECRET}@db.example:99999/tt",
    f"postgresql://tariffs:{SECRET}@db.example:0/tt",
    f"postgresql://tariffs:{SECRET}@db.example:port/tt",
    f"postgresql://tariffs:{SECRET}@db.example:5432",
    f"postgresql://tariffs:{SECRET}@db.example/tt?schema=sa,public",
    f"postgresql://tariffs:{SECRET}@db.example/tt?schema=MixedCase2&schema=Other",
    f"postgresql://tariffs:{SECRET}@db.example/tt?sslmode=require",
    f"postgresql://tariffs:{SECRET}@db.example/tt?connect_timeout=forever",
    f"mysql://tariffs:{SECRET}@db.example/tt",
    f"tariffs:{SECRET}@db.example/tt",
    f"postgresql://tariffs:{SECRET}@db.example:99999",
]


class TestPasswords:
    @pytest.mark.parametrize("url", BAD_URLS)
    def test_a_bad_url_is_refused_as_the_db_flag_without_showing_its_password(
            self, url: str) -> None:
        with pytest.raises(InvalidInput) as caught:
            parse_store_url(url)
        assert caught.value.field == "db"
        assert SECRET not in str(caught.value) and SECRET not in message_of(caught.value)
        assert message_of(caught.value).startswith("--db: ")

    def test_a_url_is_shown_with_its_password_hidden(self) -> None:
        target = parse_store_url(f"postgresql://tariffs:{SECRET}@db.example:5433/tt?schema=a")
        assert target.shown == "postgresql://tariffs:***@db.example:5433/tt?schema=a"
        assert redact(f"postgresql://tariffs:{SECRET}@db.example/tt") == (
            "postgresql://tariffs:***@db.example/tt")
        assert redact(f"postgresql://tariffs:{SECRET}@db.example:port/tt") == (
            "postgresql://tariffs:***@db.example:port/tt")

    def test_a_url_without_a_password_is_shown_as_typed(self) -> None:
        assert parse_store_url("sqlite:///:memory:").shown == "sqlite:///:memory:"
        assert redact("postgresql://tariffs@db.example/tt") == (
            "postgresql://tariffs@db.example/tt")


class TestPostgresUrls:
    def test_a_port_outside_1_to_65535_is_reported_as_such(self) -> None:
        with pytest.raises(InvalidInput, match="port 99999, outside 1-65535"):
            parse_store_url("postgresql://tariffs@db.example:99999/tt")

    def test_a_mixed_case_schema_keeps_its_case_and_is_quoted_for_the_read_model(
            self) -> None:
        target = parse_store_url("postgresql://tariffs@db.example/tt?schema=MixedCase2")
        assert target.persistence_env()["POSTGRES_SCHEMA"] == "MixedCase2"
        _, args = target.engine_args()
        assert args["options"] == '-csearch_path="MixedCase2"'

    @pytest.mark.parametrize("schema", ["sa,public", "a b", 'x"y', "1abc", "a-b", "x" * 64,
                                        "é"])
    def test_a_schema_that_is_not_a_plain_identifier_is_refused(self, schema: str) -> None:
        with pytest.raises(InvalidInput, match="not a plain identifier") as caught:
            parse_store_url(f"postgresql://tariffs@db.example/tt?schema={schema}")
        assert caught.value.field == "db"

    def test_the_connect_timeout_is_short_and_can_be_set_in_the_url(self) -> None:
        default = parse_store_url("postgresql://tariffs@db.example/tt")
        assert default.connect_timeout == 5
        assert default.persistence_env()["POSTGRES_CONNECT_TIMEOUT"] == "5"
        assert default.engine_args()[1]["connect_timeout"] == 5
        chosen = parse_store_url("postgresql://tariffs@db.example/tt?connect_timeout=12")
        assert chosen.connect_args()["connect_timeout"] == 12

    def test_a_lock_wait_never_outlasts_the_write_deadline(self) -> None:
        env = parse_store_url("postgresql://tariffs@db.example/tt").persistence_env(7.2)
        assert env["POSTGRES_LOCK_TIMEOUT"] == "8"
        # 0 would mean 'wait forever' to PostgreSQL
        assert parse_store_url("postgresql://t@h/d").persistence_env(0)[
            "POSTGRES_LOCK_TIMEOUT"] == "1"


class TestConnectFailures:
    """The test server trusts every local user, so a wrong password cannot be provoked there:
    these read the messages libpq gives."""

    def test_a_wrong_password_is_reported_as_failed_authentication_for_the_user(
            self) -> None:
        error = FakeDriverError(
            'connection failed: connection to server at "10.0.0.5", port 5433 failed: '
            'FATAL:  password authentication failed for user "tariffs"', "28P01")
        failure = connect_failure(parse_store_url(
            f"postgresql://tariffs:{SECRET}@db.example:5433/tt"), error)
        assert isinstance(failure, StoreError)
        assert str(failure).startswith(
            "authentication failed for user 'tariffs' at db.example:5433 (database 'tt')")
        assert SECRET not in str(failure)

    def test_no_answer_in_time_states_the_connect_timeout(self) -> None:
        error = FakeDriverError("connection timeout expired", None)
        failure = connect_failure(parse_store_url(
            f"postgresql://tariffs:{SECRET}@db.example/tt?connect_timeout=3"), error)
        assert "no answer from db.example:5432 within the connect timeout of 3 s" in str(
            failure)

    def test_a_driver_message_that_quotes_the_password_is_shown_without_it(self) -> None:
        error = FakeDriverError(f"invalid connection option in 'password={SECRET}'", None)
        failure = connect_failure(parse_store_url(
            f"postgresql://tariffs:{SECRET}@db.example/tt"), error)
        assert SECRET not in str(failure) and "***" in str(failure)


class FakeDriverError(Exception):
    """What psycopg raises when a connection fails: a message and, sometimes, a SQLSTATE."""

    def __init__(self, message: str, sqlstate: str | None) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


class TestSqlitePaths:
    def test_a_file_in_a_missing_directory_is_refused_and_the_directory_not_made(
            self, tmp_path: Path) -> None:
        missing = tmp_path / "nonexistent" / "dir"
        with pytest.raises(InvalidInput, match=f"directory {missing} does not exist") as caught:
            parse_store_url(f"sqlite:///{missing / 'x.sqlite'}")
        assert caught.value.field == "db"
        assert not (tmp_path / "nonexistent").exists()

    def test_a_path_under_a_file_names_the_file(self, tmp_path: Path) -> None:
        (tmp_path / "hostname").write_text("a file\n", encoding="utf-8")
        with pytest.raises(InvalidInput, match=f"{tmp_path / 'hostname'} is a file, not a "
                                               "directory"):
            parse_store_url(f"sqlite:///{tmp_path / 'hostname' / 'deeper' / 'x.sqlite'}")

    def test_a_directory_is_not_a_database_file(self, tmp_path: Path) -> None:
        with pytest.raises(InvalidInput, match="is a directory, not a database file"):
            parse_store_url(f"sqlite:///{tmp_path}")

    def test_a_relative_path_is_taken_from_the_working_directory(
            self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.chdir(tmp_path)
        assert parse_store_url("sqlite:///here.sqlite").path == str(tmp_path / "here.sqlite")

    def test_a_url_that_names_no_file_is_refused(self) -> None:
        with pytest.raises(InvalidInput, match="names no file"):
            parse_store_url("sqlite://")
