"""Checking an append against the history of the subjects it touches, not the whole log.

Folding an event reads and writes only the state of the subjects it names (`subjects_named`:
what it is about and what it refers to). Take every subject the new events name, then every
subject named by the recorded events about those, until nothing new is named: folding that
closed set's recorded events with the new ones, in the fold's order, gives each of them
exactly the state the whole log's fold gives it, so it finds the same first broken rule.

Recorded events outside the set are untouched by new world events: these only add subjects
or paint their own, and a reference from outside (an exemption naming a measure) checks only
that the subject exists (or was imposed), which an added event cannot undo. A correction or
retraction can undo it, so an import holding one is checked against the whole log instead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from typing import Protocol

from tariff_timeline.domain.errors import LifecycleError
from tariff_timeline.domain.timeline import fold
from tariff_timeline.events import (
    EventCorrected,
    EventRetracted,
    PolicyEvent,
    known_instant,
    subjects_named,
)
from tariff_timeline.importing.files import Located
from tariff_timeline.projections.replay import Recorded, corrected_log
from tariff_timeline.store import EventStore, canonical_bytes, content_digest


class RecordedLog(Protocol):
    """The recorded log's first `count` events, read by index (the read model keeps them).
    It places events by a number that orders them as their log positions do (the
    notification id), at most `last_notification`."""

    count: int
    last_notification: int

    def recorded(self, event_ids: Iterable[str]) -> dict[str, tuple[int, PolicyEvent]]:
        """The place and content of each of these ids that is recorded."""

    def position(self, notification_id: int) -> int:
        """The log position of the event at a place."""

    def subject_logs(self, subjects: Iterable[str]) -> list[Recorded]:
        """Every recorded event that is or ever was about these subjects, with every
        correction and retraction of them, in log order."""


SubjectHistories = Callable[[EventStore], AbstractContextManager[RecordedLog]]
"""Opens the recorded log, brought up to the end of the store, for one check."""


class LogLookup:
    """The index an import compares its events with, answered from a `RecordedLog` a batch
    of ids at a time (see `importing.check.ImportCheck`)."""

    def __init__(self, log: RecordedLog) -> None:
        self.log = log
        self.count = log.count
        self._known: dict[str, tuple[bytes, int] | None] = {}

    def prefetch(self, event_ids: Iterable[str]) -> None:
        """Look these ids up in one go (the check asks for them one by one)."""
        wanted = [i for i in event_ids if i not in self._known]
        found = self.log.recorded(wanted)
        for event_id in wanted:
            hit = found.get(event_id)
            self._known[event_id] = None if hit is None else (
                content_digest(canonical_bytes(hit[1])), hit[0])

    def recorded(self, event_id: str) -> tuple[bytes, int] | None:
        """The digest of a recorded event's canonical bytes and its place, if recorded."""
        if event_id not in self._known:
            self.prefetch((event_id,))
        return self._known[event_id]

    def __contains__(self, event_id: object) -> bool:
        return isinstance(event_id, str) and self.recorded(event_id) is not None

    def in_force(self, event_id: str) -> bool:
        """Whether a recorded world event has this id and has not been retracted."""
        found = self.log.recorded((event_id,)).get(event_id)
        if found is None or isinstance(found[1], EventCorrected | EventRetracted):
            return False
        return not any(isinstance(r.event, EventRetracted) and r.event.retracts == event_id
                       for r in self.log.subject_logs(subjects_named(found[1])))


def unrecorded(log: RecordedLog, changes: Sequence[PolicyEvent]) -> bool:
    """Whether some of these corrections or retractions are not recorded yet."""
    return bool(changes) and len(log.recorded(c.id for c in changes)) < len(
        {c.id for c in changes})


def check_by_subjects(log: RecordedLog, new: Iterable[Located]) -> list[str] | None:
    """Fold the new world events with the recorded history of the subjects they reach (see
    the module's docstring); the first broken rule, named at its file and line, if any.
    None if the new events hold a correction or retraction: the whole log must decide."""
    located = list(new)
    where = {item.event.id: item.where for item in located}
    wanted: set[str] = set()
    for item in located:
        if isinstance(item.event, EventCorrected | EventRetracted):
            return None
        wanted |= subjects_named(item.event)
    read: set[str] = set()
    recorded: dict[int, Recorded] = {}
    while wanted - read:
        more = wanted - read
        read |= more
        recorded.update((r.seq, r) for r in log.subject_logs(more))
        entries = corrected_log(recorded[seq] for seq in sorted(recorded))
        for entry in entries:
            wanted |= subjects_named(entry.event)
    entries = corrected_log(recorded[seq] for seq in sorted(recorded))
    order = [(known_instant(e.event.known), e.seq, e.event) for e in entries]
    order += [(known_instant(item.event.known), log.last_notification + n, item.event)
              for n, item in enumerate(located, start=1)]
    order.sort(key=lambda o: (o[0], o[1]))
    try:
        fold(event for _, _, event in order)
    except LifecycleError as exc:
        place = where.get(exc.event_id, f"recorded event {exc.event_id!r}")
        return [f"{place}: event {exc.event_id!r}, field {exc.field!r}: {exc.message}"]
    return []
