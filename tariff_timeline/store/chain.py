"""Tamper evidence: every stored event is chained to the one before it by SHA-256.

link(n) = SHA-256(link(n-1) | topic | position | recorded time | canonical event bytes), with
link(0) = 64 zeros. Each append also writes a *chain head* (count and last link) to a second
stream in the same transaction, so that deleting the newest events, which a chain alone cannot
notice, leaves a head that no longer matches. Verification works on the raw stored rows (what
the database holds), never on what the application would have written.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

GENESIS = "0" * 64
"""The link before the first event."""

HEAD_TOPIC = "tariffs.ChainHead.v1"
"""Topic of the chain-head records (store metadata, not policy events)."""


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                              check_circular=False)
"""Built once (json.dumps with options builds an encoder per call). What is encoded is JSON
data (a model's dump, a decoded row), which cannot be circular, so that check is skipped."""


def dumps(data: Any) -> bytes:
    """Canonical JSON: sorted keys, no spaces, UTF-8."""
    return _CANONICAL.encode(data).encode()


def link(previous: str, topic: str, position: int, recorded_at: str, event_bytes: bytes) -> str:
    """The link of one stored event, given the link before it."""
    digest = hashlib.sha256()
    for part in (previous.encode(), topic.encode(), str(position).encode(),
                 recorded_at.encode()):
        digest.update(part)
        digest.update(b"\x1f")  # a separator no part contains, so parts cannot slide
    digest.update(event_bytes)
    return digest.hexdigest()


@dataclass(frozen=True)
class RawRow:
    """One row as the database holds it."""

    notification_id: int
    originator_id: UUID | str
    originator_version: int
    topic: str
    state: bytes


@dataclass(frozen=True)
class Break:
    """The first place where the stored rows stop matching their chain."""

    notification_id: int | None
    position: int | None
    problem: str


@dataclass(frozen=True)
class Verification:
    """The result of walking the chain."""

    events: int
    heads: int
    head: str
    first_break: Break | None

    @property
    def intact(self) -> bool:
        """Whether no break was found."""
        return self.first_break is None


def _state(row: RawRow) -> dict[str, Any] | str:
    """The parsed state, or why it cannot be trusted."""
    try:
        data = json.loads(bytes(row.state).decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        return f"state is not valid JSON ({exc.__class__.__name__})"
    if not isinstance(data, dict):
        return "state is not a JSON object"
    # Bytes that parse to the same data but differ (spaces, key order) were still edited.
    if dumps(data) != bytes(row.state):
        return "state bytes are not in the canonical form the store writes"
    return data


def verify(rows: Iterable[RawRow], timeline_id: UUID, head_id: UUID) -> Verification:
    """Walk the rows in notification order and report the first break."""
    previous = GENESIS
    position = 0
    heads = 0
    last_head: tuple[int, str] | None = None
    last_id = 0

    def result(problem: str | None, row: RawRow | None = None) -> Verification:
        found = None if problem is None else Break(
            row.notification_id if row else None,
            row.originator_version if row else None, problem)
        return Verification(position, heads, previous, found)

    for row in rows:
        if row.notification_id <= last_id:
            return result("notification ids are not increasing", row)
        last_id = row.notification_id
        owner = str(row.originator_id)
        state = _state(row)
        if isinstance(state, str):
            return result(state, row)
        if owner == str(head_id):
            if row.topic != HEAD_TOPIC:
                return result(f"chain head has topic {row.topic!r}", row)
            if row.originator_version != heads + 1:
                return result(f"chain head {row.originator_version} follows head {heads} "
                              "(a head was deleted, inserted or moved)", row)
            if state.get("number") != row.originator_version:
                return result(f"chain head {row.originator_version} carries number "
                              f"{state.get('number')} (copied or edited)", row)
            # A head follows at least one new event: appends never write empty heads.
            if last_head is not None and last_head[0] >= position:
                return result(f"chain head {row.originator_version} vouches for no new event "
                              "(a head was copied or inserted)", row)
            if state.get("count") != position or state.get("link") != previous:
                return result(f"chain head {row.originator_version} says {state.get('count')} "
                              f"events, the chain has {position} here with another link", row)
            heads += 1
            last_head = (position, previous)
            continue
        if owner != str(timeline_id):
            return result(f"row of unknown stream {owner}", row)
        if row.originator_version != position + 1:
            return result(f"event at position {row.originator_version} follows position "
                          f"{position} (an event was deleted, inserted or moved)", row)
        recorded_at = state.get("recorded_at")
        event = state.get("event")
        stored_link = state.get("chain")
        if not isinstance(recorded_at, str) or not isinstance(event, dict):
            return result("state lacks its recorded time or event", row)
        if not isinstance(stored_link, str):
            return result("event carries no chain link (stored before chaining, or removed)",
                          row)
        expected = link(previous, row.topic, row.originator_version, recorded_at, dumps(event))
        if expected != stored_link:
            return result("chain link does not match the event's content, topic, position or "
                          "predecessor", row)
        previous = expected
        position += 1
    if position and (last_head is None or last_head != (position, previous)):
        said = "no chain head" if last_head is None else f"the last head says {last_head[0]}"
        return result(f"the chain has {position} events but {said} (events were appended or "
                      "deleted at the end)")
    return result(None)
