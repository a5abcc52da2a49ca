"""The materialised, bitemporal read model: fast answers at any (effective, known, recorded).

For every subject (a measure, exemption, quota, stacking rule, deal or ruling) the read model
holds *versions*: the subject's folded state over a known-time interval and a recorded-time
interval. A measure's version holds only its *head*; its paints live in *pieces*, rows over an
effective interval x a known interval x a recorded interval (see ``projections.pieces``), so a
measure with a long history costs a question no more than a short one. A question at
(effective E, known K, recorded R) picks, by index, the pieces containing (E, K, R) whose origin
and product keys match the entry, the heads of their measures and the versions of the other
subjects, and evaluates them with the same rate engine as the pure fold.

Rooms: ``tables`` (the schema), ``writer`` (projecting, with its tracking position),
``reader`` (questions), ``follower`` (keeping current in the background), ``codec`` (rows
decoded once).
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from threading import Event

from sqlalchemy.engine import Engine

from tariff_timeline.readmodel.codec import Held, RowCache
from tariff_timeline.readmodel.follower import follow
from tariff_timeline.readmodel.lookup import RecordedView, recorded_view
from tariff_timeline.readmodel.reader import EventLookup, ReadModelReader
from tariff_timeline.readmodel.tables import open_engine, read_only
from tariff_timeline.readmodel.writer import (
    APPLICATION_NAME,
    CatchUpProgress,
    CaughtUp,
    ReadModelWriter,
)
from tariff_timeline.store import DEFAULT_WRITE_DEADLINE, EventStore


@dataclass(frozen=True)
class ReadModel:
    """One store's read model: its writer and its reader, over one engine and one row cache."""

    engine: Engine
    writer: ReadModelWriter
    reader: ReadModelReader

    @classmethod
    def open(cls, url: str, lock_seconds: float = DEFAULT_WRITE_DEADLINE) -> ReadModel:
        """The read model in the database (and schema) of a store URL; a wait for a lock may
        take up to `lock_seconds`."""
        engine = open_engine(url, lock_seconds)
        cache = RowCache()
        reading = read_only(engine)
        return cls(engine, ReadModelWriter(engine, cache, reading),
                   ReadModelReader(reading, cache))

    def catch_up(self, store: EventStore, batch: int = 5000,
                 progress: CatchUpProgress | None = None) -> int:
        """Apply what the log holds beyond the tracking position; return how many events."""
        return self.writer.catch_up(store, batch, progress)

    def caught_up(self, store: EventStore, progress: CatchUpProgress | None = None
                  ) -> CaughtUp:
        """Catch up, and tell how many events that applied and the chain state it reached."""
        return self.writer.caught_up(store, progress=progress)

    def rebuild(self, store: EventStore, progress: CatchUpProgress | None = None) -> int:
        """Drop every row and project the whole log again; return how many events."""
        return self.writer.rebuild(store, progress)

    def recorded_log(self, store: EventStore) -> AbstractContextManager[RecordedView]:
        """The log as far as the store holds it, read by index from this read model (caught
        up first): what an append is checked against."""
        return recorded_view(self.writer, store)

    def follow(self, store: EventStore, stop: Event,
               report: CatchUpProgress | None = None) -> None:
        """Keep the read model current until `stop` is set, reporting what it applies."""
        follow(store, self.writer, stop, report=report)

    def close(self) -> None:
        """Release its connections."""
        self.writer.close()
        self.engine.dispose()


__all__ = ["APPLICATION_NAME", "CatchUpProgress", "CaughtUp", "EventLookup", "Held", "ReadModel",
           "ReadModelReader", "ReadModelWriter"]
