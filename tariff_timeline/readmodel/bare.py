"""The read model's hottest reads, run on the driver's own cursor: each statement is built with
SQLAlchemy and compiled by it once per dialect, and only its execution skips SQLAlchemy's
machinery (for a rate question on SQLite at 100k events that machinery cost as much again as
SQLite running the statement)."""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.selectable import SelectBase

from tariff_timeline.domain.errors import StoreError


@dataclass(frozen=True)
class _Compiled:
    """A statement as one dialect's driver takes it: its SQL, the order of its parameters
    (positional drivers), the values it binds itself, the parameters a caller must give, and
    the shape of its rows."""

    sql: str
    order: tuple[str, ...] | None
    fixed: Mapping[str, Any]
    required: frozenset[str]
    row: type[tuple[Any, ...]]


def bare_rows(conn: Connection, statement: SelectBase,
              values: Mapping[str, Any]) -> list[Any]:
    """The rows of a read-only statement, with its bound parameters' values, run on the
    connection's driver cursor; each row a named tuple of the statement's columns. A driver's
    error reaches the caller as SQLAlchemy would raise it (`DBAPIError`); a parameter the
    statement needs and `values` lacks is a StoreError, as SQLAlchemy refuses it."""
    compiled = _compiled(statement, conn.dialect)
    missing = compiled.required - values.keys()
    if missing:
        # SQLAlchemy refuses these; the driver would bind them as NULL and read nothing.
        raise StoreError(f"a read was given no value for {sorted(missing)}")
    merged = {**compiled.fixed, **values}
    params: Any = merged if compiled.order is None else [merged[n] for n in compiled.order]
    fairy = conn.connection
    cursor = fairy.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(compiled.sql, params)
        return [compiled.row._make(row) for row in cursor.fetchall()]  # type: ignore[attr-defined]
    except conn.dialect.loaded_dbapi.Error as error:
        if conn.dialect.is_disconnect(error, fairy, cursor):
            # As SQLAlchemy does: a connection the server dropped is not lent again.
            conn.invalidate(error)
        raise DBAPIError.instance(compiled.sql, params, error, conn.dialect.loaded_dbapi.Error,
                                  dialect=conn.dialect) from error
    finally:
        cursor.close()


@lru_cache(maxsize=256)
def _compiled(statement: SelectBase, dialect: Dialect) -> _Compiled:
    """A statement compiled for a dialect's driver, once per statement and dialect (both
    keyed by identity; only statements their builders cache are run here, a few dozen).
    StoreError when running it bare would change what it reads: a parameter expanded at
    execution or converted on its way in, or a column converted on its way out."""
    compiled = statement.compile(dialect=dialect)
    if compiled.literal_execute_params or compiled.post_compile_params:
        raise StoreError("a statement with parameters expanded at execution cannot be run on "
                         "the driver's cursor")
    if compiled._bind_processors:
        raise StoreError("a statement whose parameters its dialect converts cannot be run on "
                         "the driver's cursor")
    names = []
    for column in statement.selected_columns:
        if column.type.dialect_impl(dialect).result_processor(dialect, None) is not None:
            raise StoreError(f"the column {column.key!r} is converted by its dialect: its "
                             "statement cannot be run on the driver's cursor")
        names.append(str(column.key))
    order = tuple(compiled.positiontup or ()) if dialect.positional else None
    row = namedtuple("Row", names, rename=True)  # type: ignore[misc]
    required = frozenset(name for name, bind in compiled.binds.items() if bind.required)
    return _Compiled(str(compiled), order, dict(compiled.params), required, row)
