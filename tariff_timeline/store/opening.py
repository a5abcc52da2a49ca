"""Opening a store, safely when several processes open the same one at once.

On PostgreSQL the first connection is our own: its failures are reported as what they are
(authentication, no answer in time, refused), and it holds an advisory lock for the schema
while the schema and eventsourcing's tables are created, because `CREATE SCHEMA IF NOT EXISTS`,
`CREATE TYPE` and `CREATE OR REPLACE FUNCTION` race with each other across sessions ("tuple
concurrently updated", duplicate keys in the catalogue). On SQLite, locks are waited for (the
busy timeout) and what is still busy is tried again until the write deadline.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tariff_timeline.domain.errors import StoreError, TariffError
from tariff_timeline.store.mapper import TimelineApplication
from tariff_timeline.store.patience import Patience
from tariff_timeline.store.urls import StoreUrl

LOCK_NAMESPACE = "tariff-timeline"
"""Advisory locks are keyed by hashtext of this, a purpose and the schema."""
EVENTS_TABLE = f"{TimelineApplication.name.lower()}_events"
"""The table eventsourcing stores the timeline in (named after the application)."""


def open_application(target: StoreUrl, patience: Patience) -> TimelineApplication:
    """The eventsourcing application on a checked store URL, its schema and tables created
    if need be; StoreError says why it cannot be opened, StoreBusy if it stayed busy."""
    env = target.persistence_env(patience.lock_seconds)
    if target.backend == "postgresql" and importlib.util.find_spec("psycopg") is None:
        raise StoreError("a PostgreSQL store needs the PostgreSQL driver: "
                         "pip install 'tariff-timeline[postgres]'")

    def attempt() -> TimelineApplication:
        if target.backend != "postgresql":
            return TimelineApplication(env=env)
        with schema_lock(target, patience.lock_seconds) as made:
            # Tables made earlier are left alone: eventsourcing's CREATE INDEX IF NOT EXISTS
            # would wait for the table lock of any append in progress, without a timeout.
            app = TimelineApplication(env={**env, "CREATE_TABLE": "no"} if made else env)
        try:
            register_quoted_types(app)
        except BaseException:
            app.close()
            raise
        return app

    try:
        return patience.run(attempt, f"open the event store at {target.shown}")
    except TariffError:
        raise
    except Exception as exc:
        raise StoreError(f"cannot open the event store at {target.shown}: "
                         f"{target.hide(_first_line(exc))}") from exc


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def connect(target: StoreUrl) -> Any:
    """A psycopg connection (autocommit) to a PostgreSQL store's database; a failure is said
    plainly, without the password."""
    import psycopg  # only PostgreSQL stores need it

    try:
        return psycopg.connect(autocommit=True, **target.connect_args())
    except psycopg.Error as exc:
        raise connect_failure(target, exc) from None


def connect_failure(target: StoreUrl, error: BaseException) -> StoreError:
    """What a failed PostgreSQL connection means, in words, without the password."""
    text = target.hide(str(error))
    lowered = text.lower()
    state = getattr(error, "sqlstate", None)
    where = f"{target.server} (database {target.url.database!r})"
    if state in ("28P01", "28000") or "authentication failed" in lowered:
        return StoreError(f"authentication failed for user {target.user!r} at {where}: check "
                          "the user and password in the database URL")
    if "timeout expired" in lowered or "timed out" in lowered:
        return StoreError(f"no answer from {target.server} within the connect timeout of "
                          f"{target.connect_timeout} s (?connect_timeout=N in the URL)")
    if "connection refused" in lowered:
        return StoreError(f"cannot connect to {target.server}: connection refused (is the "
                          "PostgreSQL server running there?)")
    detail = " ".join(line.strip() for line in text.splitlines() if line.strip())
    return StoreError(f"cannot connect to {where}: {detail}")


def lock_key(purpose: str, schema: str | None) -> str:
    """The text whose hash keys the advisory lock for one purpose in one schema."""
    return f"{LOCK_NAMESPACE} {purpose} {schema or 'public'}"


@contextmanager
def schema_lock(target: StoreUrl, lock_seconds: int) -> Iterator[bool]:
    """Hold the schema's advisory lock, the schema created, while the event tables are made;
    other processes opening the same schema wait here (up to `lock_seconds` at a time). Says
    whether the event table was already made (everything with it is made in its
    transaction)."""
    from psycopg import sql

    conn = connect(target)
    try:
        conn.execute(sql.SQL("SET lock_timeout = {}").format(
            sql.Literal(f"{lock_seconds}s")))
        # A session lock, released when the connection closes, even if this process dies.
        conn.execute("SELECT pg_advisory_lock(hashtext(%s))",
                     (lock_key("event store", target.schema),))
        if target.schema:
            conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(
                sql.Identifier(target.schema)))
        table = sql.Identifier(target.schema or "public", EVENTS_TABLE).as_string(conn)
        row = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (table,)).fetchone()
        yield bool(row and row[0])
    finally:
        conn.close()


def register_quoted_types(app: TimelineApplication) -> None:
    """Register the composite types eventsourcing could not find in a mixed-case schema.

    eventsourcing 9.5 looks its types up by the unquoted text 'schema.name', which PostgreSQL
    folds to lower case, so in schema MixedCase2 it finds none and every append fails; this
    looks them up by quoted identifier instead.
    """
    datastore: Any = getattr(app.recorder, "datastore", None)
    names = getattr(datastore, "db_type_names", None)
    if not names:
        return
    missing = [name for name in names if name not in datastore.psycopg_type_adapters]
    if not missing:
        return
    from psycopg import sql
    from psycopg.types.composite import CompositeInfo, register_composite

    with datastore.get_connection() as conn:
        for name in missing:
            info = CompositeInfo.fetch(conn, sql.Identifier(datastore.schema, name))
            if info is None:
                raise StoreError(f"type {name} was not created in schema {datastore.schema!r}")
            register_composite(info, conn)
            datastore.psycopg_type_adapters[name] = info
            datastore.psycopg_python_types[name] = info.python_type
