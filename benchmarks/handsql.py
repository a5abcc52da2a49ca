"""The hand-written, indexed SQL rate query that the read model is measured against.

It can only be written against the read model's tables, which this build does not have yet
(issue 4, ``tariffs/readmodel.py``). Until then, asking for it raises :class:`NotAvailable` and
the benchmark lists it as "not available on this build"; it is never faked.
"""

from __future__ import annotations

from importlib.util import find_spec
from typing import Any


class NotAvailable(Exception):
    """A measurement needs an API this build does not have."""


def hand_written_query(timeline: Any, origin: str, hts: str, entered: str,
                       known: str | None) -> object:
    """The additional duty for one question, by one indexed SQL query over the read model."""
    if find_spec("tariffs.readmodel") is None:
        raise NotAvailable("needs the read model (tariffs.readmodel)")
    raise NotAvailable("the read model exists: write its hand-written query here "
                       "(benchmarks/handsql.py) against its tables and indexes")
