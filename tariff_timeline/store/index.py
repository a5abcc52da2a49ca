"""What an import needs to know of the stored log, without holding its events: recorded ids,
content digests and each position's place in the fold's order."""

from __future__ import annotations

import hashlib
from array import array
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from pydantic import TypeAdapter

from tariff_timeline.events import TOPICS, EventCorrected, EventRetracted
from tariff_timeline.events.instants import fold_key
from tariff_timeline.events.values import KnownTime
from tariff_timeline.store.chain import dumps


def content_digest(event_bytes: bytes) -> bytes:
    """A short digest of an event's canonical bytes (to tell recorded content apart)."""
    return hashlib.blake2b(event_bytes, digest_size=16).digest()



GONE = -(2**63)
"""The fold key of a position that the fold does not take (a correction, a retraction or a
retracted event)."""
_KNOWN: TypeAdapter[datetime | date] = TypeAdapter(KnownTime)


@dataclass
class RecordedIndex:
    """The stored log as an import needs it, without holding its events.

    `recorded(id)` gives the digest of a recorded event's stored canonical bytes and its log
    position; `retired` holds the ids that a correction cannot name (corrections,
    retractions and retracted events), so every other recorded id is in force. `keys` holds
    the fold key of each position's content after the log's corrections (GONE where the fold
    takes nothing), and `corrected_at` the position of the last correction of each corrected
    event: with them an import can tell whether the log is in fold order and fold it as it
    reads it. `contiguous` is False if positions do not run 1, 2, 3... (an edited log).
    """

    retired: set[str] = field(default_factory=set)
    keys: array[int] = field(default_factory=lambda: array("q"))
    corrected_at: dict[str, int] = field(default_factory=dict)
    count: int = 0
    contiguous: bool = True
    # Digest and position packed in one bytes object: a third of the memory of a tuple of a
    # bytes and an int, which counts for a log of a million events.
    _packed: dict[str, bytes] = field(default_factory=dict)
    # A few thousand distinct known times recur across a large log.
    _known_keys: dict[str, int] = field(default_factory=dict)

    def __contains__(self, event_id: object) -> bool:
        return event_id in self._packed

    def recorded(self, event_id: str) -> tuple[bytes, int] | None:
        """The digest of a recorded event's canonical bytes and its position, if recorded."""
        packed = self._packed.get(event_id)
        return None if packed is None else (packed[:16], int.from_bytes(packed[16:]))

    def in_force(self, event_id: str) -> bool:
        """Whether a recorded world event has this id and has not been retracted."""
        return event_id in self._packed and event_id not in self.retired

    def add(self, position: int, topic: str, state: bytes, data: dict[str, Any]) -> None:
        """Take in one stored event, in log order: its position, topic, stored state and
        that state as JSON data (checked against the chain by the caller)."""
        event = data["event"]
        ident = event["id"]
        self._packed[ident] = (content_digest(_event_bytes(state, event))
                               + position.to_bytes(8))
        self.contiguous = self.contiguous and position == self.count + 1
        self.count = position
        kind = TOPICS.get(topic)
        key = GONE
        if kind is EventCorrected:
            self.retired.add(ident)
            target = self.recorded(event["corrects"])
            if target is not None and self.contiguous:
                self.keys[target[1] - 1] = self._key(event["replacement"]["known"])
                self.corrected_at[event["corrects"]] = position
        elif kind is EventRetracted:
            self.retired.update((ident, event["retracts"]))
            target = self.recorded(event["retracts"])
            if target is not None and self.contiguous:
                self.keys[target[1] - 1] = GONE
                self.corrected_at.pop(event["retracts"], None)
        else:
            key = self._key(event["known"])
        self.keys.append(key)

    def _key(self, known: str) -> int:
        key = self._known_keys.get(known)
        if key is None:
            key = self._known_keys[known] = fold_key(_KNOWN.validate_python(known))
        return key


def _event_bytes(state: bytes, event: dict[str, Any]) -> bytes:
    """An event's canonical bytes as stored: cut out of the row's state, which nests them
    unchanged (see entry_state), or encoded again if the state is not laid out so.

    Only a digest is taken of them, to find recorded events an import repeats: a row whose
    bytes were edited just matches nothing, and comparing the events themselves decides.
    """
    start = state.find(b'"event":')
    end = state.rfind(b',"recorded_at":')
    return state[start + 8:end] if 0 <= start < end else dumps(event)
