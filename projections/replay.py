"""From the recorded log to the timeline as known and recorded at a coordinate.

1. Keep the events recorded at or before the recorded time.
2. Apply the corrections among them: a corrected event takes its replacement's content, a
   retracted one is dropped (nothing in the log itself is changed).
3. Keep the events known at or before the known time.
4. Fold them in the order they became known, ties in the order they were recorded.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

from tariff_timeline.domain.errors import UnknownReference
from tariff_timeline.domain.timeline import Timeline, fold
from tariff_timeline.events import EventCorrected, EventRetracted, PolicyEvent, known_instant
from tariff_timeline.events.instants import fold_key


@dataclass(frozen=True)
class Recorded:
    """An event as the store holds it: its position in the log and when it was recorded."""

    seq: int
    recorded_at: datetime
    event: PolicyEvent


@dataclass(frozen=True)
class Corrected:
    """An event in force after corrections: its content, and what recorded it and fixed it."""

    seq: int
    recorded_at: datetime
    event: PolicyEvent
    corrected_by: tuple[str, ...] = ()


@runtime_checkable
class Prefetching(Protocol):
    """Events by id that can be fetched many at a time (the read model's lookup), so that an
    answer citing many events asks for them once."""

    def prefetch(self, event_ids: Iterable[str]) -> None:
        """Load these events (and their corrections) in one go."""


def corrected_log(log: Iterable[Recorded], recorded: datetime | None = None) -> list[Corrected]:
    """World events recorded by `recorded`, with the corrections recorded by then applied."""
    return corrected_on((), log, recorded)


def corrected_on(corrected: Iterable[Corrected], log: Iterable[Recorded],
                 recorded: datetime | None = None) -> list[Corrected]:
    """`corrected_log` of a log's first part followed by `log`, given the first part's
    (`corrected`, what `corrected_log` gave for it): the same as `corrected_log` of the whole,
    without applying the first part's corrections again."""
    # `corrected_log` keys each entry by the id of the event it keeps, which a correction's
    # replacement shares with its target: the keys and their order are the entries'.
    kept: dict[str, Corrected] = {entry.event.id: entry for entry in corrected}
    for entry in log:
        if recorded is not None and entry.recorded_at > recorded:
            continue
        event = entry.event
        if isinstance(event, EventCorrected):
            target = kept.get(event.corrects)
            if target is None:
                raise UnknownReference(event.id, "corrects",
                                       f"no recorded event {event.corrects!r} to correct")
            kept[event.corrects] = Corrected(
                target.seq, target.recorded_at, event.replacement,
                (*target.corrected_by, event.id),
            )
        elif isinstance(event, EventRetracted):
            if kept.pop(event.retracts, None) is None:
                raise UnknownReference(event.id, "retracts",
                                       f"no recorded event {event.retracts!r} to retract")
        else:
            kept[event.id] = Corrected(entry.seq, entry.recorded_at, event)
    return list(kept.values())


def known_order(entries: Iterable[Corrected]) -> list[Corrected]:
    """Entries in the order the fold takes them: by known instant, then by recording."""
    return sorted(entries, key=lambda e: (known_instant(e.event.known), e.seq))


def first_change(was: Sequence[Corrected], now: Sequence[Corrected]) -> int | None:
    """The first known instant (a `fold_key`) at which two histories, each in fold order,
    differ: the earlier of their two entries at the first place where those are not the same.
    None when they differ at their first entry (nothing before it stays), or not at all."""
    first = next((index for index, (a, b) in enumerate(zip(now, was, strict=False))
                  if a.seq != b.seq or (a.event is not b.event and a.event != b.event)),
                 min(len(now), len(was)))
    if first == 0 or first == len(now) == len(was):
        return None
    return min(fold_key(entries[first].event.known) for entries in (now, was)
               if first < len(entries))


def known_by(entries: Sequence[Corrected], known: datetime) -> list[Corrected]:
    """The entries known at or before an instant, in fold order."""
    return [e for e in known_order(entries) if known_instant(e.event.known) <= known]


def fold_at(entries: Sequence[Corrected], known: datetime) -> Timeline:
    """The timeline folded from the entries known at or before an instant."""
    return fold(e.event for e in known_by(entries, known))
