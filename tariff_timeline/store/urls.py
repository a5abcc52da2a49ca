"""Store URLs: which eventsourcing persistence module and settings a URL names, and how a URL is
shown in messages."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

from tariff_timeline.domain.errors import InvalidInput


def persistence_env(url: str) -> dict[str, str]:
    """eventsourcing settings for a database URL (sqlite:///path or postgresql://...)."""
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        path = unquote(parsed.path)
        if url.startswith("sqlite:////"):
            path = "/" + path.lstrip("/")
        elif url.startswith("sqlite:///"):
            path = path[1:] if path.startswith("/") else path
        if not path:
            raise InvalidInput(f"database URL {url!r} names no file (sqlite:///path/to/file)")
        if path != ":memory:":
            Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)
            path = str(Path(path).expanduser())
        return {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": path}
    if parsed.scheme in ("postgresql", "postgres"):
        if not parsed.hostname or not parsed.path.strip("/"):
            raise InvalidInput(
                f"database URL {url!r} needs a host and a name: postgresql://user@host:port/name"
            )
        query = parse_qs(parsed.query)
        env = {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": parsed.path.strip("/"),
            "POSTGRES_HOST": parsed.hostname,
            "POSTGRES_PORT": str(parsed.port or 5432),
            "POSTGRES_USER": unquote(parsed.username or os.environ.get("USER", "postgres")),
            "POSTGRES_PASSWORD": unquote(parsed.password or ""),
            "POSTGRES_CONNECT_TIMEOUT": "10",
        }
        if "schema" in query:
            env["POSTGRES_SCHEMA"] = query["schema"][0]
        return env
    raise InvalidInput(
        f"unsupported database URL {url!r}: use sqlite:///path or postgresql://user@host:port/name"
    )


def redact(url: str) -> str:
    """A database URL without its password, for messages."""
    parsed = urlparse(url)
    if parsed.password:
        return url.replace(f":{parsed.password}@", ":***@")
    return url


def sqlalchemy_url(url: str) -> tuple[str, dict[str, Any]]:
    """The SQLAlchemy URL and connect arguments for a store URL (same database, same schema)."""
    env = persistence_env(url)
    if env["PERSISTENCE_MODULE"] == "eventsourcing.sqlite":
        return f"sqlite:///{env['SQLITE_DBNAME']}", {"timeout": 30}
    from sqlalchemy.engine import URL

    built = URL.create(
        "postgresql+psycopg", username=env["POSTGRES_USER"],
        password=env["POSTGRES_PASSWORD"] or None, host=env["POSTGRES_HOST"],
        port=int(env["POSTGRES_PORT"]), database=env["POSTGRES_DBNAME"],
    )
    args: dict[str, Any] = {}
    if env.get("POSTGRES_SCHEMA"):
        args["options"] = f"-csearch_path={env['POSTGRES_SCHEMA']}"
    return built.render_as_string(hide_password=False), args
