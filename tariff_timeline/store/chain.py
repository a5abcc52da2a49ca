"""Tamper evidence: every stored event is chained to the one before it by SHA-256.

link(n) = SHA-256(link(n-1) | topic | position | recorded time | canonical event bytes), with
link(0) = 64 zeros. Each append also writes a *chain head* (count and last link) to a second
stream in the same transaction, so that deleting the newest events, which a chain alone cannot
notice, leaves a head that no longer matches. A head can be signed with an Ed25519 key kept
outside the database (see ``keys``): then recomputing the links after an edit, or appending a
forged event with a valid link, leaves heads whose signatures fail.

Verification works on the raw stored rows (what the database holds), never on what the
application would have written, and can resume from a `ChainState` kept by an earlier check,
so that a check costs what was appended since.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any, cast
from uuid import UUID

from tariff_timeline.domain.errors import TamperDetected

GENESIS = "0" * 64
"""The link before the first event."""

HEAD_TOPIC = "tariffs.ChainHead.v1"
"""Topic of the chain-head records (store metadata, not policy events)."""

_ENTRY_FIELDS = frozenset({"chain", "event", "recorded_at"})
"""What the store writes in an event's state (`mapper.entry_state`)."""
_HEAD_FIELDS = frozenset({"count", "link", "number", "signature"})
"""What the store writes in a chain head's state (the signature only when signing)."""

SignatureCheck = Callable[[bytes, bytes], bool]
"""Whether a signature (second) is valid for a message (first) under the expected key."""


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


def head_message(number: int, count: int, last_link: str) -> bytes:
    """What a chain head's signature signs: its number, the event count and the last link."""
    return f"tariff-timeline chain head\x1f{number}\x1f{count}\x1f{last_link}".encode()


@dataclass(frozen=True)
class RawRow:
    """One row as the database holds it (any field may have been edited to any type)."""

    notification_id: int
    originator_id: object
    originator_version: object
    topic: object
    state: object


@dataclass(frozen=True)
class Break:
    """The first place where the stored rows stop matching their chain."""

    notification_id: int | None
    position: int | None
    problem: str


@dataclass(frozen=True)
class ChainState:
    """How far a walk along the chain has come: the last row read, the events and heads
    passed, the last link, and the last head (its event count and link)."""

    notification_id: int = 0
    events: int = 0
    link: str = GENESIS
    heads: int = 0
    head_events: int = 0
    head_link: str = GENESIS
    signed_from: int = 0
    """The number of the first head that carried a signature (0: none yet)."""

    @property
    def vouched(self) -> bool:
        """Whether the last head vouches for every event passed (an append is complete)."""
        return self.events == 0 or (self.head_events, self.head_link) == (self.events,
                                                                          self.link)


@dataclass(frozen=True)
class Verification:
    """The result of walking the chain."""

    events: int
    heads: int
    head: str
    first_break: Break | None
    signed_heads: int = 0

    @property
    def intact(self) -> bool:
        """Whether no break was found."""
        return self.first_break is None


class ChainBroken(Exception):
    """Raised inside a walk at the first break (turned into a `Break` or `TamperDetected`)."""

    def __init__(self, found: Break) -> None:
        super().__init__(found.problem)
        self.found = found


def row_state(row: RawRow) -> dict[str, Any] | str:
    """A row's state as JSON data, or why it cannot be trusted (not bytes, not JSON, not in
    the canonical form the store writes)."""
    parsed = _parsed(row)
    if isinstance(parsed, str):
        return parsed
    raw, data = parsed
    return _uncanonical(raw, data) or data


def _parsed(row: RawRow) -> tuple[bytes, dict[str, Any]] | str:
    """A row's stored bytes and the JSON object they parse to, or why they cannot be read
    (`row_state` without the check of their canonical form)."""
    raw = row.state
    if isinstance(raw, memoryview | bytearray):
        raw = bytes(raw)
    if not isinstance(raw, bytes):
        return f"state is stored as {type(raw).__name__}, not as the bytes the store writes"
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        return f"state is not valid JSON ({exc.__class__.__name__})"
    if not isinstance(data, dict):
        return "state is not a JSON object"
    return raw, data


def _uncanonical(raw: bytes, data: dict[str, Any]) -> str | None:
    """Why bytes that parse to `data` are not its canonical form (None when they are): bytes
    that parse to the same data but differ (spaces, key order) were still edited."""
    try:
        canonical = dumps(data)
    except (ValueError, UnicodeEncodeError) as exc:
        return f"state cannot be written canonically ({exc.__class__.__name__})"
    if canonical != raw:
        return "state bytes are not in the canonical form the store writes"
    return None


def _between(raw: bytes, state: dict[str, Any]) -> bytes | None:
    """The bytes of an entry's event as they sit in its stored bytes `raw`, between the
    canonical forms of its chain link and recorded time, or None when they do not sit so.

    Canonical JSON nests the event's canonical form unchanged (`mapper.entry_state`), so
    with exactly the three keys it sits between the other two: taking it from there spares
    encoding every event a second time on each read of the log."""
    if len(state) == 3:
        prefix = b'{"chain":' + dumps(state["chain"]) + b',"event":'
        suffix = b',"recorded_at":' + dumps(state["recorded_at"]) + b"}"
        if raw.startswith(prefix) and raw.endswith(suffix):
            return raw[len(prefix):len(raw) - len(suffix)]
    return None


class ChainWalker:
    """Walks stored rows in notification order from a `ChainState`, one row at a time,
    raising `ChainBroken` at the first row that does not fit the chain."""

    def __init__(self, timeline_id: UUID, head_id: UUID, start: ChainState | None = None,
                 signature_check: SignatureCheck | None = None) -> None:
        self.timeline_id = str(timeline_id)
        self.head_id = str(head_id)
        self.state = start or ChainState()
        self.signature_check = signature_check
        self.signed = 0
        self.event_bytes: bytes | None = None
        """The canonical bytes of the policy event in the row last stepped over (None after
        a chain head): what its link covers, so a reader need not encode the event again."""

    def _broken(self, problem: str, row: RawRow | None = None) -> ChainBroken:
        position = row.originator_version if row is not None else None
        return ChainBroken(Break(row.notification_id if row is not None else None,
                                 position if isinstance(position, int) else None, problem))

    def step(self, row: RawRow) -> dict[str, Any] | None:
        """Check one row; return the state of a policy event (None for a chain head)."""
        now = self.state
        if not isinstance(row.notification_id, int) or row.notification_id <= now.notification_id:
            raise self._broken("notification ids are not increasing", row)
        if not isinstance(row.topic, str) or not isinstance(row.originator_version, int):
            raise self._broken("the row's topic or version has a type the store never writes",
                               row)
        parsed = _parsed(row)
        if isinstance(parsed, str):
            raise self._broken(parsed, row)
        raw, state = parsed
        owner = str(row.originator_id)
        if owner == self.head_id:
            problem = _uncanonical(raw, state)
            if problem is not None:
                raise self._broken(problem, row)
            self._head(row, state)
            self.event_bytes = None
            return None
        try:
            event_bytes, linked = self._linked(row, owner, raw, state)
        except ChainBroken:
            # An edit that left the bytes out of their canonical form is told as such, as
            # it was when every row's form was checked before anything else.
            problem = _uncanonical(raw, state)
            if problem is not None:
                raise self._broken(problem, row) from None
            raise
        self.event_bytes = event_bytes
        # Built whole: `dataclasses.replace` took a tenth of a walk.
        self.state = ChainState(row.notification_id, now.events + 1, linked, now.heads,
                                now.head_events, now.head_link, now.signed_from)
        return state

    def _linked(self, row: RawRow, owner: str, raw: bytes, state: dict[str, Any]
                ) -> tuple[bytes, str]:
        """Check a policy event's row against the chain (`owner`: its stream's id as text;
        `raw`: its stored bytes, parsed to `state`); return the bytes of the event its link
        covers, and the link.

        When the event's bytes sit between the canonical forms of its link and recorded
        time, the row's form is not checked apart (encoding every row again took a third of
        a walk): the link covers those very bytes, so a link that matches says they are the
        canonical bytes the store wrote, and the row is canonical whole. Only links
        recomputed over other bytes could say otherwise, and those pass for any edit of the
        content as well (signed heads refuse both)."""
        now = self.state
        if owner != self.timeline_id:
            raise self._broken(f"row of unknown stream {owner}", row)
        if row.originator_version != now.events + 1:
            raise self._broken(f"event at position {row.originator_version} follows position "
                               f"{now.events} (an event was deleted, inserted or moved)", row)
        recorded_at = state.get("recorded_at")
        event = state.get("event")
        stored_link = state.get("chain")
        if not isinstance(recorded_at, str) or not isinstance(event, dict):
            raise self._broken("state lacks its recorded time or event", row)
        if not isinstance(stored_link, str):
            raise self._broken("event carries no chain link (stored before chaining, or "
                               "removed)", row)
        if len(state) != len(_ENTRY_FIELDS):
            # The link covers the event, its recorded time and place: a field added beside
            # them would change nothing it covers, yet the row was still edited.
            raise self._broken(_unwritten(state, _ENTRY_FIELDS), row)
        event_bytes = _between(raw, state)
        if event_bytes is None:
            problem = _uncanonical(raw, state)
            if problem is not None:
                raise self._broken(problem, row)
            event_bytes = dumps(event)
        expected = link(now.link, cast(str, row.topic), row.originator_version,
                        recorded_at, event_bytes)
        if expected != stored_link:
            raise self._broken("chain link does not match the event's content, topic, "
                               "position or predecessor", row)
        return event_bytes, expected

    def _head(self, row: RawRow, state: dict[str, Any]) -> None:
        now = self.state
        number = row.originator_version
        if row.topic != HEAD_TOPIC:
            raise self._broken(f"chain head has topic {row.topic!r}", row)
        if not state.keys() <= _HEAD_FIELDS:
            raise self._broken(_unwritten(state, _HEAD_FIELDS), row)
        if number != now.heads + 1:
            raise self._broken(f"chain head {number} follows head {now.heads} (a head was "
                               "deleted, inserted or moved)", row)
        if state.get("number") != number:
            raise self._broken(f"chain head {number} carries number {state.get('number')} "
                               "(copied or edited)", row)
        # A head follows at least one new event: appends never write empty heads.
        if now.heads and now.head_events >= now.events:
            raise self._broken(f"chain head {number} vouches for no new event (a head was "
                               "copied or inserted)", row)
        if state.get("count") != now.events or state.get("link") != now.link:
            raise self._broken(f"chain head {number} says {state.get('count')} events, the "
                               f"chain has {now.events} here with another link", row)
        signed_from = now.signed_from
        signature = state.get("signature")
        if signature is not None:
            if not isinstance(signature, str):
                raise self._broken(f"chain head {number} carries a malformed signature", row)
            signed_from = signed_from or number
        if self.signature_check is not None and signed_from:
            # From the first signed head on, every head must be signed by the expected key.
            if signature is None:
                raise self._broken(f"chain head {number} is not signed, although head "
                                   f"{signed_from} was", row)
            try:
                valid = self.signature_check(head_message(number, now.events, now.link),
                                             bytes.fromhex(signature))
            except ValueError:
                valid = False
            if not valid:
                raise self._broken(f"chain head {number}'s signature does not verify with the "
                                   "public key (links were recomputed or the head forged)", row)
            self.signed += 1
        self.state = replace(now, notification_id=row.notification_id, heads=number,
                             head_events=now.events, head_link=now.link,
                             signed_from=signed_from)

    def finish(self) -> None:
        """Check the end of the log: the last head must vouch for every event."""
        now = self.state
        if not now.vouched:
            said = ("no chain head" if now.heads == 0
                    else f"the last head says {now.head_events}")
            raise self._broken(f"the chain has {now.events} events but {said} (events were "
                               "appended or deleted at the end)")
        if self.signature_check is not None and now.events and not now.signed_from:
            raise self._broken(f"the last chain head ({now.heads}) is not signed, and a public "
                               "key was given")

    def result(self, found: Break | None = None) -> Verification:
        """The walk so far as a verification."""
        return Verification(self.state.events, self.state.heads, self.state.link, found,
                            self.signed)


def _unwritten(state: dict[str, Any], fields: frozenset[str]) -> str:
    """The problem of a state holding fields the store never writes there."""
    return (f"state holds fields the store never writes there "
            f"({', '.join(sorted(set(state) - fields))})")


def head_unchanged(row: RawRow, after: ChainState, timeline_id: UUID, head_id: UUID,
                   signature_check: SignatureCheck | None = None) -> str | None:
    """Why the chain head that a walk stopped at (`after`: the state it left) no longer
    reads as the walk read it, or None when it still does, field by field (its signature
    checked again when a check is given, and only then whether it is signed).

    The walk is taken up again just before the head: stepping it there must leave the same
    state. What a head vouches for (its count and link) is in `after`; what came before it
    is not, and stepping a head reads none of it but whether it was the first signed."""
    before = replace(after, notification_id=row.notification_id - 1, heads=after.heads - 1,
                     head_events=0, head_link=GENESIS,
                     signed_from=0 if after.signed_from == after.heads else after.signed_from)
    walker = ChainWalker(timeline_id, head_id, before, signature_check)
    try:
        walker.step(row)
    except ChainBroken as broken:
        return broken.found.problem
    now = walker.state
    if signature_check is None:
        # Without a key, signatures are not checked (as by `verify`): only whether they are text.
        now = replace(now, signed_from=after.signed_from)
    if now != after:
        return "the head says another number, count, link or signing than it did"
    return None


def verify(rows: Iterable[RawRow], timeline_id: UUID, head_id: UUID,
           signature_check: SignatureCheck | None = None,
           start: ChainState | None = None) -> Verification:
    """Walk the rows in notification order and report the first break."""
    walker = ChainWalker(timeline_id, head_id, start, signature_check)
    try:
        for row in rows:
            walker.step(row)
        walker.finish()
    except ChainBroken as broken:
        return walker.result(broken.found)
    return walker.result()


def tamper_detected(found: Break, events: int) -> TamperDetected:
    """The error for a broken chain, saying where it breaks."""
    where = (f"at notification {found.notification_id}, position {found.position}"
             if found.notification_id is not None else "at the end of the log")
    return TamperDetected(
        f"the stored log was changed outside the application: {where}: {found.problem} "
        f"({events} event(s) verified before it)", found.notification_id, found.position)
