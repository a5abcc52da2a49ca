"""Where events live: the eventsourcing application and its mapper (``mapper``), the store that
appends and reads (``eventstore``), the hash chain (``chain``), what an import needs to know of
the log (``index``) and store URLs (``urls``)."""

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
from tariff_timeline.store.urls import persistence_env, redact, sqlalchemy_url

__all__ = [
    "CHUNK",
    "GONE",
    "HEAD_ID",
    "PAGE",
    "TIMELINE_ID",
    "ChainHead",
    "Checkpoint",
    "EventStore",
    "PolicyMapper",
    "RecordedIndex",
    "TimelineApplication",
    "TimelineEntry",
    "Verification",
    "canonical_bytes",
    "content_digest",
    "entry_state",
    "persistence_env",
    "redact",
    "sqlalchemy_url",
]
