"""The hand-written, indexed SQL that the read model's rate query is measured against.

It fetches, with one statement through the bare ``sqlite3`` module, exactly the rows the read
model's query fetches for a question: the one version of each subject whose known and recorded
intervals contain the coordinate and whose origin and product keys can cover the entry. It does
not evaluate them (that is the rate engine's work, in Python, in both paths), so the ratio
read-model / hand-written is the cost of everything the application adds to the bare lookup:
SQLAlchemy, catching up with the log, decoding states, evaluating layers, citing events.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from domain.clocks import cutoff_instant, system_clock
from events import ORIGIN_GROUPS, normalise_hts

QUERY = """
SELECT v.id, v.kind, v.subject, v.state FROM rm_versions v
WHERE v.rec_until > :r AND v.known_until > :k AND v.rec_from <= :r AND v.known_from <= :k
  AND v.id IN (SELECT version_id FROM rm_origin_keys WHERE origin IN ({origins}))
  AND v.id IN (SELECT version_id FROM rm_product_keys
               WHERE product IN ({prefixes}) OR (product > :hts AND product < :hts_end))
ORDER BY v.first_known, v.first_seq
"""


class NotAvailable(Exception):
    """A measurement needs an API this build does not have."""


_CONNECTIONS: dict[str, sqlite3.Connection] = {}


def hand_written_query(timeline: Any, origin: str, hts: str, entered: str,
                       known: str | None) -> object:
    """The version rows for one question, by one indexed SQL statement over the read model."""
    from tariffs.readmodel import micros

    path = timeline.store.app.env.get("SQLITE_DBNAME")
    if not path:
        raise NotAvailable("the hand-written query is written for the SQLite store")
    connection = _CONNECTIONS.get(path)
    if connection is None:
        connection = _CONNECTIONS[path] = sqlite3.connect(path)
    digits = normalise_hts(hts)
    origins = [origin, "ALL", *(g for g, members in ORIGIN_GROUPS.items() if origin in members)]
    prefixes = [digits[:n] for n in range(2, len(digits) + 1, 2)] + ["ALL"]
    now = system_clock()
    k = micros(cutoff_instant(known, "--known") if known else now)
    sql = QUERY.format(origins=",".join("?" * len(origins)),
                       prefixes=",".join("?" * len(prefixes)))
    # sqlite3 takes either named or positional parameters: number them all positionally.
    sql = sql.replace(":r", "?").replace(":k", "?").replace(":hts_end", "?").replace(
        ":hts", "?")
    r = micros(now)
    params = [r, k, r, k, *origins, *prefixes, digits, digits + ";"]
    return connection.execute(sql, params).fetchall()
