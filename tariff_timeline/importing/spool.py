"""The spool: an import's new events as canonical bytes on disk, until they are appended."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from types import TracebackType
from typing import IO


class Spool:
    """The new events of an import as (topic, canonical bytes), in log order, on disk.

    An anonymous temporary file (gone when closed, or when the process dies): a million
    events are about 700 MB of canonical JSON, which the append then reads back in order.
    Canonical JSON never holds a raw newline byte, so one event is one line.
    """

    def __init__(self) -> None:
        # Closed by __exit__: the spool is itself the context manager.
        self._file: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115
        self._topics: dict[str, bytes] = {}

    def __enter__(self) -> Spool:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self._file.close()

    def write(self, topic: str, event_bytes: bytes) -> None:
        """Add one event at the end."""
        prefix = self._topics.get(topic)
        if prefix is None:
            prefix = self._topics[topic] = topic.encode() + b" "
        self._file.write(prefix + event_bytes + b"\n")

    def rows(self) -> Iterator[tuple[str, bytes]]:
        """Every event written, in order, as (topic, canonical bytes)."""
        self._file.seek(0)
        topics = {prefix[:-1]: topic for topic, prefix in self._topics.items()}
        for line in self._file:
            topic, _, event_bytes = line[:-1].partition(b" ")
            yield topics[topic], event_bytes
