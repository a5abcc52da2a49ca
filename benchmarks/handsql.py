"""The hand-written, indexed SQL that the read model's rate query is measured against.

It fetches, with one statement through the bare driver (``sqlite3`` for a SQLite store,
``psycopg`` for a PostgreSQL one, the same SQL on both), exactly the rows the read model's
queries fetch for a question: the measure pieces whose effective, known and recorded intervals
contain the coordinate and whose origin and product keys can cover the entry, the heads of those
measures, and the one version of every other subject at the known and recorded times whose keys
can cover the entry (the product keys by index range, those of every product by the origin's
keys, the origin by one primary-key lookup per candidate, as the read model asks). It does not
evaluate them (that is the rate engine's work, in Python, in both paths), so the ratio
read-model / hand-written is the cost of everything the application adds to the bare lookup:
SQLAlchemy, catching up with the log, decoding states, evaluating layers, citing events.
"""

from __future__ import annotations

import re
import sqlite3
from typing import Any

from tariff_timeline.domain.clocks import cutoff_instant, effective_instant, system_clock
from tariff_timeline.events import ORIGIN_GROUPS, normalise_hts
from tariff_timeline.projections.versions import every_product

QUERY = """
WITH p AS (
  SELECT id, subject, state FROM rm_pieces
  WHERE rec_until > :r AND known_until > :k AND eff_until > :e
    AND rec_from <= :r AND known_from <= :k AND eff_from <= :e
    AND id IN (SELECT piece_id FROM rm_piece_products
               WHERE (product IN ({prefixes}) OR (product > :hts AND product < :hts_end))
                 AND known_until > :k AND eff_until > :e AND rec_until > :r
                 AND eff_from <= :e AND known_from <= :k)
    AND EXISTS (SELECT 1 FROM rm_piece_origins o
                WHERE o.piece_id = rm_pieces.id AND o.origin IN ({origins}))
)
SELECT 'piece', p.subject, p.state, 0, 0 FROM p
UNION ALL
SELECT v.kind, v.subject, v.state, v.first_known, v.first_seq
FROM rm_versions v JOIN p ON v.subject = p.subject
WHERE v.rec_until > :r AND v.known_until > :k AND v.rec_from <= :r AND v.known_from <= :k
UNION ALL
SELECT v.kind, v.subject, v.state, v.first_known, v.first_seq FROM rm_versions v
WHERE v.kind != 'measure'
  AND v.rec_until > :r AND v.known_until > :k AND v.rec_from <= :r AND v.known_from <= :k
  AND v.id IN (SELECT version_id FROM rm_product_keys
               WHERE (product IN ({prefixes}) OR (product > :hts AND product < :hts_end))
                 AND known_until > :k AND rec_until > :r AND known_from <= :k)
  AND EXISTS (SELECT 1 FROM rm_origin_keys o
              WHERE o.version_id = v.id AND o.origin IN ({origins}))
ORDER BY 4, 5
"""


class NotAvailable(Exception):
    """A measurement needs an API this build does not have."""


PSYCOPG_QUERY = re.sub(r":(\w+)", r"%(\1)s", QUERY)
"""The same statement with psycopg's named placeholders (the SQL has no `::` casts)."""

_CONNECTIONS: dict[str, Any] = {}


def _connection(timeline: Any) -> tuple[Any, bool]:
    """The bare connection for a store (made once, then reused, as an application would keep
    it open) and whether it is PostgreSQL's."""
    target = timeline.store.target
    if target.backend == "postgresql":
        connection = _CONNECTIONS.get(target.given)
        if connection is None:
            import psycopg

            args = target.connect_args()
            if target.schema:  # where the read model's tables are, as the store's engine has
                args["options"] = f'-csearch_path="{target.schema}"'
            # Autocommit: each question is one statement, as sqlite3 runs it outside a
            # transaction; psycopg prepares a statement it has run five times.
            connection = _CONNECTIONS[target.given] = psycopg.connect(autocommit=True, **args)
        return connection, True
    path = timeline.store.app.env.get("SQLITE_DBNAME")
    if not path or path == ":memory:":
        raise NotAvailable("the hand-written query needs a store in a SQLite file or on "
                           "PostgreSQL")
    connection = _CONNECTIONS.get(path)
    if connection is None:
        connection = _CONNECTIONS[path] = sqlite3.connect(path)
    return connection, False


def hand_written_query(timeline: Any, origin: str, hts: str, entered: str,
                       known: str | None) -> object:
    """The version rows for one question, by one indexed SQL statement over the read model."""
    from tariff_timeline.events.instants import micros

    connection, postgres = _connection(timeline)
    digits = normalise_hts(hts)
    origins = [origin, "ALL", *(g for g, members in ORIGIN_GROUPS.items() if origin in members)]
    # A piece or version that covers every product is keyed by origin (`every_product`).
    prefixes = [digits[:n] for n in range(2, len(digits) + 1, 2)] + [
        every_product(o) for o in origins]
    now = system_clock()
    params: dict[str, object] = {
        "e": micros(effective_instant(entered)),
        "k": micros(cutoff_instant(known, "known") if known else now), "r": micros(now),
        "hts": digits, "hts_end": digits + ";",
        **{f"o{i}": value for i, value in enumerate(origins)},
        **{f"p{i}": value for i, value in enumerate(prefixes)},
    }
    if postgres:
        sql = PSYCOPG_QUERY.format(
            origins=",".join(f"%(o{i})s" for i in range(len(origins))),
            prefixes=",".join(f"%(p{i})s" for i in range(len(prefixes))))
    else:
        sql = QUERY.format(origins=",".join(f":o{i}" for i in range(len(origins))),
                           prefixes=",".join(f":p{i}" for i in range(len(prefixes))))
    return connection.execute(sql, params).fetchall()


def close_connections() -> None:
    """Close the bare connections the hand-written query opened."""
    while _CONNECTIONS:
        _CONNECTIONS.popitem()[1].close()
