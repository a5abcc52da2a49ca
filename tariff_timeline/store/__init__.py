"""Where events live: the eventsourcing application and its mapper (``mapper``), the store that
appends and reads (``eventstore``), the hash chain (``chain``), what an import needs to know of
the log (``index``), store URLs (``urls``), opening a store when others do too (``opening``) and
how long a writer waits its turn (``patience``)."""

from __future__ import annotations

from tariff_timeline.store.chain import Verification
from tariff_timeline.store.eventstore import CHUNK, PAGE, Checkpoint, EventStore
from tariff_timeline.store.index import GONE, RecordedIndex, content_digest
from tariff_timeline.store.mapper import (
    HEAD_ID,
    TIMELINE_ID,
    ChainHead,
    PolicyMapper,
    TimelineApplication,
    TimelineEntry,
    canonical_bytes,
    entry_state,
)
from tariff_timeline.store.patience import (
    DEFAULT_WRITE_DEADLINE,
    ENV_WRITE_DEADLINE,
    Patience,
    busy_reason,
    write_deadline_seconds,
)
from tariff_timeline.store.urls import (
    StoreUrl,
    parse_store_url,
    persistence_env,
    redact,
    sqlalchemy_url,
)

__all__ = [
    "CHUNK", "DEFAULT_WRITE_DEADLINE", "ENV_WRITE_DEADLINE", "GONE", "HEAD_ID", "PAGE",
    "TIMELINE_ID", "ChainHead", "Checkpoint", "EventStore", "Patience", "PolicyMapper",
    "RecordedIndex", "StoreUrl", "TimelineApplication", "TimelineEntry", "Verification",
    "busy_reason", "canonical_bytes", "content_digest", "entry_state", "parse_store_url",
    "persistence_env", "redact", "sqlalchemy_url", "write_deadline_seconds",
]
