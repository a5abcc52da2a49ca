"""How a policy event is stored: its stable topic, canonical JSON, recorded time and chain link.

The whole timeline is one event stream in an eventsourcing application, because its invariants
cross measures; chain heads live in a stream of their own, beside it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast
from uuid import UUID, uuid5

from eventsourcing.application import Application
from eventsourcing.persistence import Mapper, StoredEvent, Transcoder
from pydantic import ValidationError

from tariff_timeline.domain.errors import StoreError
from tariff_timeline.events import TOPICS, PolicyEvent
from tariff_timeline.store.chain import HEAD_TOPIC, dumps

TIMELINE_NAMESPACE = UUID("6f1d7c3e-2b55-4f6e-9a43-5c0f3f0b7a11")
TIMELINE_ID = uuid5(TIMELINE_NAMESPACE, "us-tariff-timeline")
"""The one stream that holds the US tariff timeline."""
HEAD_ID = uuid5(TIMELINE_NAMESPACE, "us-tariff-timeline-chain-head")
"""The stream of chain heads: after each append, how many events and the last link."""



@dataclass(frozen=True)
class TimelineEntry:
    """A policy event as appended to the stream (eventsourcing's domain-event protocol)."""

    originator_id: UUID
    originator_version: int
    recorded_at: datetime
    event: PolicyEvent
    chain: str | None = None
    canonical: bytes | None = field(default=None, compare=False, repr=False)
    """The event's canonical bytes as the log holds them, when it was read from there (so a
    reader that keeps its text need not encode it again)."""


@dataclass(frozen=True)
class ChainHead:
    """Store metadata written with each append: the event count and the last link."""

    originator_id: UUID
    originator_version: int
    count: int
    link: str
    signature: str | None = None
    """Hex Ed25519 signature of the head's message, when the store has a signing key."""


def canonical_bytes(event: PolicyEvent) -> bytes:
    """The event's content as canonical JSON (sorted keys, no spaces)."""
    # model_dump(mode="json") exactly, without its per-call argument handling (a fifth of
    # the cost of serialising an event, which an import does for every one).
    return dumps(event.__pydantic_serializer__.to_python(event, mode="json"))



def entry_state(event_bytes: bytes, recorded_at: str, chain: str) -> bytes:
    """The stored state of a chained entry, built around its canonical event bytes.

    Byte for byte what `PolicyMapper` writes, `dumps({"chain", "event", "recorded_at"})`:
    canonical JSON sorts those three keys in this order and nests the event's own canonical
    form unchanged, so an append need not decode and encode every event again.
    """
    return b"".join((b'{"chain":"', chain.encode(), b'","event":', event_bytes,
                     b',"recorded_at":"', recorded_at.encode(), b'"}'))


class PolicyMapper(Mapper[UUID]):
    """Maps timeline entries to stored events by their stable topics, never class paths."""

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        """The stored form: the event's topic and its canonical JSON with the recorded time
        and chain link (chain heads: their count and link)."""
        if isinstance(domain_event, ChainHead):
            return StoredEvent(
                originator_id=domain_event.originator_id,
                originator_version=domain_event.originator_version,
                topic=HEAD_TOPIC,
                state=dumps({"count": domain_event.count, "link": domain_event.link,
                             "number": domain_event.originator_version,
                             **({"signature": domain_event.signature}
                                if domain_event.signature is not None else {})}),
            )
        entry = cast(TimelineEntry, domain_event)
        data: dict[str, Any] = {"recorded_at": entry.recorded_at.isoformat(),
                                "event": entry.event.model_dump(mode="json")}
        if entry.chain is not None:
            data["chain"] = entry.chain
        state = dumps(data)
        return StoredEvent(
            originator_id=entry.originator_id,
            originator_version=entry.originator_version,
            topic=entry.event.TOPIC,
            state=state,
        )

    def to_domain_event(self, stored_event: StoredEvent,
                        state: dict[str, Any] | None = None,
                        event_bytes: bytes | None = None) -> Any:
        """The entry back from its stored form, validated again (`state`: the row's JSON
        already parsed, by the hash chain's walk, so it is not parsed twice; `event_bytes`:
        the event's canonical bytes, which the walk found its link covers, kept with it)."""
        try:
            return self._to_domain_event(stored_event, state, event_bytes)
        except (ValueError, KeyError, TypeError) as exc:
            # Only an edit made outside the application leaves such a row behind.
            raise StoreError(
                f"stored row {stored_event.originator_version} cannot be read ({exc}); "
                "run `tariffs verify`"
            ) from exc

    def _to_domain_event(self, stored_event: StoredEvent,
                         parsed: dict[str, Any] | None = None,
                         event_bytes: bytes | None = None) -> Any:
        if stored_event.topic == HEAD_TOPIC:
            head = json.loads(stored_event.state)
            return ChainHead(cast(UUID, stored_event.originator_id),
                             stored_event.originator_version, head["count"], head["link"],
                             head.get("signature"))
        cls = TOPICS.get(stored_event.topic)
        if cls is None:
            raise StoreError(f"stored event with unknown topic {stored_event.topic!r}; run "
                             "`tariffs verify`")
        state = json.loads(stored_event.state) if parsed is None else parsed
        try:
            # From the data the walk parsed: validating the bytes again took no less time.
            event = cls.model_validate(state["event"])
        except ValidationError as exc:
            raise StoreError(
                f"stored event {stored_event.originator_version} no longer validates: {exc}"
            ) from exc
        return TimelineEntry(
            originator_id=cast(UUID, stored_event.originator_id),
            originator_version=stored_event.originator_version,
            recorded_at=datetime.fromisoformat(state["recorded_at"]),
            event=event,
            chain=state.get("chain"),
            canonical=event_bytes,
        )


class TimelineApplication(Application[UUID]):
    """The eventsourcing application that stores the timeline."""

    name = "TariffTimeline"

    def construct_mapper(self) -> Mapper[UUID]:
        """Our mapper, which knows the events' stable topics."""
        transcoder: Transcoder = self.construct_transcoder()
        return PolicyMapper(transcoder=transcoder)
