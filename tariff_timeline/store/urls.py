"""Store URLs: parsed and shown with SQLAlchemy's URL type (a password is never shown), checked
before anything connects (a SQLite file's directory; a PostgreSQL host, port and schema), and
turned into eventsourcing's settings and SQLAlchemy's connect arguments for the same database."""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from tariff_timeline.domain.errors import InvalidInput
from tariff_timeline.store.patience import DEFAULT_WRITE_DEADLINE

SCHEMA_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
"""A PostgreSQL schema a store may name: a plain identifier (quoted wherever it is used, so
that its case is kept)."""
CONNECT_TIMEOUT = 5
"""Seconds to wait for a PostgreSQL server to answer a connection, unless the URL says
`?connect_timeout=N`."""
USAGE = "sqlite:///path/to/file or postgresql://user:password@host:port/name?schema=NAME"

_SQLITE = ("sqlite", "sqlite+pysqlite")
_POSTGRES = ("postgresql", "postgres", "postgresql+psycopg")
_OPTIONS = {"sqlite": (), "postgresql": ("schema", "connect_timeout")}
_USERINFO = re.compile(r"([^/?#@:\s]+):[^/?#@\s]*@")


def _bad(message: str) -> InvalidInput:
    return InvalidInput(message, field="db")


def hide_password(text: str) -> str:
    """A URL-like text with any password replaced by ***, for URLs too malformed to parse."""
    return _USERINFO.sub(r"\1:***@", text)


@dataclass(frozen=True)
class StoreUrl:
    """A store URL, parsed and checked: which database, where, and how to show it."""

    given: str
    url: URL
    backend: str
    """"sqlite" or "postgresql"."""
    path: str | None = None
    """SQLite: the database file (absolute) or ':memory:'."""
    schema: str | None = None
    """PostgreSQL: the schema named by `?schema=`, if any."""
    connect_timeout: int = CONNECT_TIMEOUT

    @property
    def shown(self) -> str:
        """The URL as messages show it: without its password."""
        if self.url.password is None:
            return self.given  # nothing to hide; as typed (SQLAlchemy escapes ':memory:')
        return self.url.render_as_string(hide_password=True)

    @property
    def in_memory(self) -> bool:
        """Whether the store lives only in the process that opens it."""
        return self.path == ":memory:"

    @property
    def user(self) -> str:
        """The PostgreSQL user (the URL's, else the login name, as libpq does)."""
        return self.url.username or os.environ.get("USER", "postgres")

    @property
    def server(self) -> str:
        """host:port of a PostgreSQL server."""
        host = self.url.host or ""
        return f"[{host}]:{self.port}" if ":" in host else f"{host}:{self.port}"

    @property
    def port(self) -> int:
        """The PostgreSQL port (5432 unless the URL names one)."""
        return self.url.port or 5432

    def hide(self, text: str) -> str:
        """A driver's message with the URL's password taken out, should it quote it."""
        password = self.url.password
        text = hide_password(text)
        if password and len(password) >= 4:  # shorter ones would garble ordinary words
            text = text.replace(password, "***")
        return text

    def persistence_env(self, lock_seconds: float = DEFAULT_WRITE_DEADLINE) -> dict[str, str]:
        """eventsourcing's settings for this database; a single wait for a lock may take up to
        `lock_seconds`."""
        waits = str(max(1, math.ceil(lock_seconds)))
        if self.backend == "sqlite":
            if self.path is None:  # parse_store_url always names a SQLite store's path
                raise InvalidInput("names no SQLite file", field="db")
            return {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": self.path,
                    "SQLITE_LOCK_TIMEOUT": waits}
        env = {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": str(self.url.database),
            "POSTGRES_HOST": str(self.url.host),
            "POSTGRES_PORT": str(self.port),
            "POSTGRES_USER": self.user,
            "POSTGRES_PASSWORD": self.url.password or "",
            "POSTGRES_CONNECT_TIMEOUT": str(self.connect_timeout),
            "POSTGRES_LOCK_TIMEOUT": waits,
        }
        if self.schema:
            # eventsourcing quotes it (psycopg's sql.Identifier) in every statement.
            env["POSTGRES_SCHEMA"] = self.schema
        return env

    def engine_args(self, lock_seconds: float = DEFAULT_WRITE_DEADLINE
                    ) -> tuple[URL, dict[str, Any]]:
        """SQLAlchemy's URL and connect arguments for the same database and schema."""
        if self.backend == "sqlite":
            return URL.create("sqlite", database=self.path), {"timeout": lock_seconds}
        url = URL.create("postgresql+psycopg", username=self.user, password=self.url.password,
                         host=self.url.host, port=self.port, database=self.url.database)
        args: dict[str, Any] = {"connect_timeout": self.connect_timeout}
        if self.schema:
            # Quoted, so MixedCase stays MixedCase; SCHEMA_NAME admits no quote or space.
            args["options"] = f'-csearch_path="{self.schema}"'
        return url, args

    def connect_args(self) -> dict[str, Any]:
        """psycopg's connection arguments for this PostgreSQL database."""
        return {"dbname": self.url.database, "host": self.url.host, "port": self.port,
                "user": self.user, "password": self.url.password or "",
                "connect_timeout": self.connect_timeout}


def parse_store_url(text: str) -> StoreUrl:
    """A store URL checked as far as it can be without connecting; InvalidInput (field 'db')
    says what is wrong, never showing a password."""
    try:
        url = make_url(text)
    except ValueError:  # SQLAlchemy reads the port with int()
        raise _bad(f"database URL {hide_password(text)!r} has a port that is not a number "
                   "(1-65535)") from None
    except ArgumentError:
        raise _bad(f"database URL {hide_password(text)!r} is not a URL: use {USAGE}") from None
    shown = url.render_as_string(hide_password=True)
    if url.drivername in _SQLITE:
        backend = "sqlite"
    elif url.drivername in _POSTGRES:
        backend = "postgresql"
    else:
        raise _bad(f"unsupported database URL {shown!r}: use {USAGE}")
    unknown = sorted(set(url.query) - set(_OPTIONS[backend]))
    if unknown:
        allowed = ", ".join(_OPTIONS[backend]) or "none"
        raise _bad(f"database URL {shown!r} has unknown option(s) {', '.join(unknown)} "
                   f"(allowed: {allowed})")
    if backend == "sqlite":
        return StoreUrl(text, url, backend, path=_sqlite_path(url, shown))
    return _postgres(text, url, shown)


def _sqlite_path(url: URL, shown: str) -> str:
    database = url.database
    if not database:
        raise _bad(f"database URL {shown!r} names no file (sqlite:///path/to/file)")
    if database == ":memory:":
        return database
    path = Path(database).expanduser().absolute()
    if path.is_dir():
        raise _bad(f"{path} is a directory, not a database file")
    folder = path.parent
    if folder.is_dir():
        return str(path)
    # The store creates its file, never directories: a mistyped path would otherwise become
    # a new, empty store somewhere unexpected.
    existing = next((p for p in (folder, *folder.parents) if p.exists()), None)
    if existing is not None and not existing.is_dir():
        raise _bad(f"{existing} is a file, not a directory, so {path} cannot be created")
    raise _bad(f"directory {folder} does not exist (create it first: the store creates its "
               "database file, not directories)")


def _postgres(text: str, url: URL, shown: str) -> StoreUrl:
    if not url.host:
        raise _bad(f"database URL {shown!r} needs a host: postgresql://user@host:port/name")
    if not url.database:
        raise _bad(f"database URL {shown!r} needs a database name: "
                   "postgresql://user@host:port/name")
    if url.port is not None and not 1 <= url.port <= 65535:
        raise _bad(f"database URL {shown!r} has port {url.port}, outside 1-65535")
    schema = _one(url, "schema", shown)
    if schema is not None and not SCHEMA_NAME.fullmatch(schema):
        raise _bad(f"schema {schema!r} is not a plain identifier (a letter or _, then letters, "
                   "digits or _, at most 63)")
    timeout = _one(url, "connect_timeout", shown)
    seconds = CONNECT_TIMEOUT
    if timeout is not None:
        if not timeout.isdigit() or not 2 <= int(timeout) <= 600:
            raise _bad(f"connect_timeout {timeout!r} is not a whole number of seconds "
                       "from 2 to 600")
        seconds = int(timeout)
    return StoreUrl(text, url, "postgresql", schema=schema, connect_timeout=seconds)


def _one(url: URL, option: str, shown: str) -> str | None:
    value = url.query.get(option)
    if value is None or isinstance(value, str):
        return value
    raise _bad(f"database URL {shown!r} gives {option} more than once")


def persistence_env(url: str, lock_seconds: float = DEFAULT_WRITE_DEADLINE) -> dict[str, str]:
    """eventsourcing settings for a database URL (sqlite:///path or postgresql://...)."""
    return parse_store_url(url).persistence_env(lock_seconds)


def redact(url: str) -> str:
    """A database URL without its password, for messages."""
    try:
        parsed = make_url(url)
    except (ValueError, ArgumentError):
        return hide_password(url)
    return url if parsed.password is None else parsed.render_as_string(hide_password=True)


def sqlalchemy_url(url: str, lock_seconds: float = DEFAULT_WRITE_DEADLINE
                   ) -> tuple[URL, dict[str, Any]]:
    """The SQLAlchemy URL and connect arguments for a store URL (same database, same schema)."""
    return parse_store_url(url).engine_args(lock_seconds)
