"""Checking an append against the history of the subjects it touches, not the whole log.

Folding an event reads and writes only the state of the subjects it names (`subjects_named`:
what it is about and what it refers to). Take every subject the new events name, then every
subject named by the recorded events about those, until nothing new is named: folding that
closed set's recorded events with the new ones, in the fold's order, gives each of them
exactly the state the whole log's fold gives it, so it finds the same first broken rule.

Recorded events outside the set are untouched by new world events: these only add subjects
or paint their own, and a reference from outside (an exemption naming a measure) checks only
that the subject exists (or was imposed), which an added event cannot undo. A correction or
retraction can undo it (a measure's imposition retracted, or known later): so the subjects of
what it corrects, and every subject whose recorded events name them, join the set.

An append that only continues the histories of the subjects it is about (`CONTINUING`: a
stacking rule changed, an exemption revoked, a quota changed, a deal's next step), each
known after everything recorded about its subject, is first folded on those subjects' last
states alone, as the read model keeps them (`RecordedLog.last_states`): a stacking rule
changed thousands of times had its whole history read and folded again at every change. That
fold can only accept: its events read nothing but their own subject's state, which is the
state the whole fold gives them there, and any reference to another subject (a measure a
rule's selector names) finds nothing and refuses. Anything it refuses is checked again in
full, so a problem is always found, and named, by the check above.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Protocol, cast

from tariff_timeline.domain.errors import LifecycleError
from tariff_timeline.domain.timeline import fold
from tariff_timeline.events import (
    DealImplemented,
    EventCorrected,
    EventRetracted,
    ExemptionRevoked,
    PolicyEvent,
    QuotaChanged,
    StackingRuleChanged,
    known_instant,
    subject_key,
    subjects_named,
)
from tariff_timeline.events.instants import fold_key
from tariff_timeline.events.policy import named_by_others
from tariff_timeline.importing.files import Located
from tariff_timeline.projections.replay import (
    Corrected,
    Recorded,
    corrected_log,
    corrected_on,
    first_change,
    known_order,
)
from tariff_timeline.projections.versions import RESUMED, holding
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

    def naming(self, subjects: Iterable[str]) -> set[str]:
        """The subjects of every recorded event that names one of these measures or rulings
        ('kind:id'; `subjects_named`): at least every other subject's and every correction's
        (a measure's own events are read with its history)."""

    def changes_of(self, event_id: str) -> list[PolicyEvent]:
        """Every correction and retraction recorded of one event, in log order."""

    def state_before(self, subject: str, instant: int) -> object | None:
        """The state of a subject (of a kind in `versions.RESUMED`) that the fold of its own
        events known before an instant (a `fold_key`) gives, as the read model keeps it;
        None where it keeps none."""

    def subject_logs(self, subjects: Iterable[str]) -> list[Recorded]:
        """Every recorded event that is or ever was about these subjects, with every
        correction and retraction of them, in log order."""

    def last_states(self, subjects: Iterable[str]) -> dict[str, tuple[int, object]]:
        """Of these subjects, each whose state the log keeps whole, with an instant no
        earlier than the latest one of its events (as corrected) became known (a `fold_key`)
        and its state after all of them."""


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
        # By the target's index: its subject's whole history is 4,100 events for the
        # busiest stacking rule at 1M (0.14 s to read).
        return not any(isinstance(change, EventRetracted)
                       for change in self.log.changes_of(event_id))


CONTINUING = (StackingRuleChanged, ExemptionRevoked, QuotaChanged, DealImplemented)
"""Events that continue the history of the one subject they are about, and whose folding reads
that subject's state alone (a rule's selectors may also name measures)."""


def continues_only(log: RecordedLog, events: Sequence[PolicyEvent]) -> bool:
    """Whether these events, all `CONTINUING` ones each known after every recorded event about
    its subject, fold without a problem on their subjects' last states alone (see the
    module's docstring). False says nothing: the whole check must decide."""
    if not events or not all(type(event) in CONTINUING for event in events):
        return False
    subjects = {subject_key(event) for event in events}
    if None in subjects:
        return False
    last = log.last_states(cast(set[str], subjects))
    if last.keys() != subjects:
        return False
    if any(fold_key(event.known) <= last[cast(str, subject_key(event))][0]
           for event in events):
        return False
    try:
        # In the whole check's order: known instant, then place in the append.
        fold(sorted(events, key=lambda event: known_instant(event.known)),
             holding({subject: found for subject, (_, found) in last.items()}))
    except LifecycleError:
        return False
    return True


class _History:
    """The recorded events an append's check has read, and their corrected log, made again
    only when more were read (a stacking rule's 4,000 events were corrected five times over
    in one check)."""

    def __init__(self) -> None:
        self._recorded: dict[int, Recorded] = {}
        self._corrected: list[Corrected] | None = None

    def add(self, rows: Iterable[Recorded]) -> None:
        """Take more of the log (rows read before are the same rows)."""
        size = len(self._recorded)
        self._recorded.update((row.seq, row) for row in rows)
        if len(self._recorded) != size:
            self._corrected = None

    def corrected(self) -> list[Corrected]:
        """`corrected_log` of what was read, in log order."""
        if self._corrected is None:
            self._corrected = corrected_log(
                self._recorded[seq] for seq in sorted(self._recorded))
        return self._corrected


def _folded_from_where_it_changed(log: RecordedLog, read: set[str], history: list[Corrected],
                                  entries: list[Corrected]) -> bool:
    """Whether the candidate log's entries (`entries`, in fold order) about one subject of a
    kind in `RESUMED`, the only one whose history was read (`history`, as corrected), were
    folded from the state the read model keeps just before the first instant they differ
    from the recorded ones (raising the fold's LifecycleError, as the whole fold would). The
    entries before that instant are the recorded ones, which the recorded log's fold takes
    without a problem, and they name no other subject: the whole fold reaches that state,
    then folds the same rest. False when that does not hold, or the read model keeps no such
    state.

    A correction of a stacking rule's last change folded all its 4,100 events at 1M."""
    if len(read) != 1:
        return False
    subject = next(iter(read))
    if subject.split(":", 1)[0] not in RESUMED:
        return False
    changed = first_change(known_order(history), entries)
    if changed is None:
        return False
    state = log.state_before(subject, changed)
    if state is None:
        return False
    fold((entry.event for entry in entries if fold_key(entry.event.known) >= changed),
         holding({subject: state}))
    return True


def check_by_subjects(log: RecordedLog, new: Iterable[Located]) -> list[str]:
    """Check the new events against the recorded history of the subjects they reach (see the
    module's docstring), as the whole-log check does: corrections and retractions applied in
    log order, then the fold in known order; the first problem, named at its file and line."""
    located = list(new)
    if continues_only(log, [item.event for item in located]):
        return []
    where = {item.event.id: item.where for item in located}
    wanted: set[str] = set()
    replaced: dict[str, set[str]] = {}  # recorded or not: what each target becomes
    for item in located:
        event = item.event
        wanted |= subjects_named(event)
        if isinstance(event, EventCorrected):
            replaced.setdefault(event.corrects, set()).update(subjects_named(event))
        elif isinstance(event, EventRetracted):
            replaced.setdefault(event.retracts, set())
    targets = log.recorded(replaced) if replaced else {}
    read: set[str] = set()
    turned: set[str] = set()
    history = _History()
    while True:
        while wanted - read:
            more = wanted - read
            read |= more
            history.add(log.subject_logs(more))
            for entry in history.corrected():
                wanted |= subjects_named(entry.event)
        # A recorded event corrected or retracted leaves the subjects it was about (as first
        # recorded and as corrected since) with another history: every subject whose events
        # name one of them joins, since a reference to it may break.
        current = {entry.event.id: entry.event for entry in history.corrected()
                   if entry.event.id in targets}
        changed: set[str] = set()
        for target, (_, first) in targets.items():
            changed |= subjects_named(first) | replaced[target]
            if target in current:
                changed |= subjects_named(current[target])
        if not changed - turned:
            break
        more = changed - turned
        turned |= more
        # Only a measure or a ruling is named by events about other subjects.
        named = named_by_others()
        wanted |= more | log.naming(key for key in more if key.split(":", 1)[0] in named)
    now = datetime.max.replace(tzinfo=UTC)
    added = [Recorded(log.last_notification + n, now, item.event)
             for n, item in enumerate(located, start=1)]
    try:
        entries = known_order(corrected_on(history.corrected(), added))
        if not _folded_from_where_it_changed(log, read, history.corrected(), entries):
            fold(entry.event for entry in entries)
    except LifecycleError as exc:
        place = where.get(exc.event_id, f"recorded event {exc.event_id!r}")
        return [f"{place}: event {exc.event_id!r}, field {exc.field!r}: {exc.message}"]
    return []
