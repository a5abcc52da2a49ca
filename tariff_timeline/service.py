"""The one facade for commands and queries (also the Python API).

    >>> from tariff_timeline import TariffTimeline
    >>> tt = TariffTimeline.open("sqlite:///timeline.sqlite")
    >>> tt.rate_on(origin="JP", hts="8703.23.01", entered="2025-05-01", mfn=2.5).additional

Questions are answered from the read model (brought up to date first) or, as the reference,
by folding the log: `query_path` says which.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from enum import Enum
from pathlib import Path
from threading import Event
from typing import TYPE_CHECKING, Any

from tariff_timeline.bootstrap import sync_bundled, wire
from tariff_timeline.domain.clocks import (
    Clock,
    Coordinate,
    When,
    cutoff_instant,
    effective_instant,
    system_clock,
)
from tariff_timeline.domain.errors import EmptyStore, InvalidInput
from tariff_timeline.domain.nomenclature import (
    Nomenclature,
    RevisionInForce,
    line_at,
    require_line,
    revision_at,
    search,
    search_terms,
)
from tariff_timeline.domain.questions import (
    Percent,
    RateQuestion,
    coerce_facts,
    entry,
    hts_digits,
    mfn_percent,
    origin_code,
)
from tariff_timeline.domain.rules import FactValue
from tariff_timeline.domain.timeline import Timeline, paint_at
from tariff_timeline.events import (
    EASTERN,
    EventCorrected,
    EventRetracted,
    PolicyEvent,
    Source,
    format_hts,
    subject_of,
)
from tariff_timeline.events.instants import describe_instant
from tariff_timeline.importing import Importer, ImportReport, Progress, read_paths
from tariff_timeline.projections.answers import (
    CoverageRow,
    LogEntry,
    RateAnswer,
    Schedule,
    SourceRow,
)
from tariff_timeline.projections.citations import coverage_of, sources_of
from tariff_timeline.projections.diff import (
    Diff,
    Snapshot,
    cited_events,
    diff,
    named_by_second,
    row_changes,
    schedule_rows,
)
from tariff_timeline.projections.history import (
    History,
    cell_history,
    measure_history,
    mentions,
    summary,
)
from tariff_timeline.projections.hts import (
    HtsDiff,
    HtsHit,
    HtsLineAnswer,
    HtsSearch,
    compare,
    diff_answer,
    line_answer,
    revision_answer,
    steps,
)
from tariff_timeline.projections.rates import rate_on
from tariff_timeline.projections.replay import Corrected, Recorded, corrected_log, fold_at
from tariff_timeline.projections.schedule import schedule_as_of
from tariff_timeline.projections.series import Series, rate_series
from tariff_timeline.readmodel import (
    APPLICATION_NAME,
    CatchUpProgress,
    EventLookup,
    Held,
    ReadModel,
)
from tariff_timeline.store import Checkpoint, EventStore, Verification, redact
from tariff_timeline.store.bulk import freeze_start_up, paused_collector
from tariff_timeline.store.chain import tamper_detected
from tariff_timeline.store.keys import load_verifier

if TYPE_CHECKING:
    import pandas as pd


class QueryPath(Enum):
    """Where rate and schedule answers come from."""

    READ_MODEL = "read model"
    """The materialised read model, brought up to date with the log before each answer."""
    FOLD = "fold"
    """A fold of the whole log: the reference answer (and the only one without a read model)."""


@dataclass(frozen=True)
class Head:
    """The recorded head of the log: how many events it holds, the chain link of the last one,
    and the last notification id (events and chain heads count there)."""

    events: int
    link: str
    notification_id: int


@dataclass(frozen=True)
class Lag:
    """How far the read model trails the log, in notifications (0: it has applied all)."""

    log_notification_id: int
    applied_notification_id: int

    @property
    def notifications(self) -> int:
        """Notifications the log holds that the read model has not applied yet."""
        return max(0, self.log_notification_id - self.applied_notification_id)


@dataclass(frozen=True)
class _Checked:
    """A rate question checked and typed: the entry, its coordinate, MFN and facts."""

    origin: str
    hts: str
    coordinate: Coordinate
    mfn: Decimal | None
    facts: dict[str, FactValue]

    @property
    def key(self) -> tuple[object, ...]:
        """What makes two questions the same question."""
        return (self.origin, self.hts, self.coordinate, self.mfn,
                tuple(sorted(self.facts.items())))

    def answer(self, timeline: Timeline, entries: Mapping[str, Corrected]) -> RateAnswer:
        """The answer from what bears on the question and the events it may cite."""
        return rate_on(timeline, entries, origin=self.origin, hts=self.hts,
                       coordinate=self.coordinate, mfn=self.mfn, facts=self.facts)


def _checked(question: RateQuestion, clock: Clock) -> _Checked:
    """Check what a caller gave (InvalidInput names the field at fault)."""
    origin, digits = entry(question.origin, question.hts)
    mfn = mfn_percent(question.mfn)
    coordinate = Coordinate.parse(question.entered, question.known, question.recorded, clock)
    return _Checked(origin, digits, coordinate, mfn, coerce_facts(question.facts))


FOLDS_KEPT = 8
"""Folds a batch keeps at once, one per (known, recorded) pair: bounded, so memory stays flat
however many distinct pairs a long batch names."""
ANSWERS_KEPT = 4096
"""Answers a batch keeps to reuse for a repeated question (the same entry asked again)."""


class TariffTimeline:
    """The tariff timeline: import events and ask what duty applied, when, as known when."""

    def __init__(self, store: EventStore, read_model: ReadModel | None = None,
                 query_path: QueryPath | None = None) -> None:
        if query_path is QueryPath.READ_MODEL and read_model is None:
            raise InvalidInput("answering from the read model needs one; this store has none",
                               field="query_path")
        self.store = store
        self.read_model = read_model
        self.query_path = query_path or (
            QueryPath.READ_MODEL if read_model is not None else QueryPath.FOLD)
        self.importer = Importer(store, histories=None if read_model is None else
                                 read_model.recorded_log)
        self.warnings: list[str] = []
        self.on_catch_up: CatchUpProgress | None = None
        """Hears the progress of the catch-ups a question starts (a long one after a large
        import); the command line shows it as a progress bar."""

    @classmethod
    def open(cls, url: str | None = None, clock: Clock = system_clock,
             load_bundled_if_new: bool | None = None,
             write_deadline: float | None = None, *, signing_key: Path | None = None,
             public_key: Path | None = None) -> TariffTimeline:
        """Open the store at a URL, or TARIFFS_DB, or the embedded default (which loads the
        bundled timeline on first use, and again whenever the bundled timeline changes).

        A writer that finds the store busy with other writers waits its turn and tries again
        for up to `write_deadline` seconds (default TARIFFS_WRITE_DEADLINE, else 60), then
        raises StoreBusy. A signing key (or TARIFFS_SIGNING_KEY) signs the chain heads this
        process appends; a public key (or TARIFFS_PUBLIC_KEY) makes every read require signed
        heads."""
        wiring = wire(url, clock, write_deadline, signing_key=signing_key,
                      public_key=public_key)
        timeline = cls(wiring.store, wiring.read_model)
        load = wiring.is_default if load_bundled_if_new is None else load_bundled_if_new
        if load:
            timeline.warnings += sync_bundled(timeline.store, timeline.importer)
        freeze_start_up()
        return timeline

    def close(self) -> None:
        """Release the store and the read model."""
        if self.read_model is not None:
            self.read_model.close()
        self.store.close()

    def _needs_read_model(self) -> ReadModel:
        if self.read_model is None:
            raise InvalidInput("an in-memory store has no read model")
        return self.read_model

    def catch_up(self, batch: int = 5000, progress: CatchUpProgress | None = None) -> int:
        """Bring the read model up to the end of the log; return how many events it applied."""
        if self.read_model is None:
            return 0
        return self.read_model.catch_up(self.store, batch, progress or self.on_catch_up)

    def follow(self, stop: Event, report: CatchUpProgress | None = None) -> None:
        """Keep the read model up to date until `stop` is set; `report` hears what each
        round applied."""
        self._needs_read_model().follow(self.store, stop, report)

    def rebuild_read_model(self, progress: CatchUpProgress | None = None) -> int:
        """Drop the read model and project the whole log again; return how many events."""
        return self._needs_read_model().rebuild(self.store, progress or self.on_catch_up)

    # ------------------------------------------------------------ commands

    def import_paths(self, paths: Sequence[Path | str],
                     progress: Progress | None = None) -> ImportReport:
        """Import event files or folders: validate everything, then append in one transaction."""
        return self.importer.import_paths(paths, progress)

    def record_events(self, events: Sequence[PolicyEvent]) -> ImportReport:
        """Record events given in Python (validated and appended like an import)."""
        return self.importer.record_events(events)

    def correct(self, event_id: str, replacement: PolicyEvent, reason: str,
                sources: Sequence[Source] = ()) -> EventCorrected:
        """Record that the store got an event wrong: `replacement` is what it should have said.

        Recorded through the normal import path (validated as any import is)."""
        if isinstance(replacement, EventCorrected | EventRetracted):
            raise InvalidInput("a replacement is a world event, not a correction or retraction",
                               field="replacement")
        if replacement.id != event_id:
            raise InvalidInput(f"the replacement's id {replacement.id!r} must be {event_id!r}",
                               field="replacement")
        earlier, taken = self._corrections_of(event_id)
        wanted = replacement.model_dump(mode="json")
        if earlier and earlier[-1].replacement.model_dump(mode="json") == wanted:
            # Already corrected to this very content (a re-run after a crash, say): recording
            # it again would only add a second, identical correction.
            return earlier[-1]
        number = 1
        while f"{event_id}.corrected-{number}" in taken:
            number += 1
        now = self.store.clock().astimezone(EASTERN)
        try:
            correction = EventCorrected(
                id=f"{event_id}.corrected-{number}"[:120], known=now.date(),
                sources=tuple(sources) or replacement.sources, corrects=event_id,
                reason=reason, replacement=wanted)
        except ValueError as exc:
            raise InvalidInput(f"cannot build the correction: {exc}") from exc
        self.record_events([correction])
        return correction

    def _corrections_of(self, event_id: str) -> tuple[list[EventCorrected], set[str]]:
        """The corrections recorded of an event, in log order, and which of the ids a next
        correction would take are taken; InvalidInput if no event has that id. Read from the
        read model by index when the store has one, so a correction costs what it adds."""
        names = [f"{event_id}.corrected-{n}"[:120] for n in range(1, 1001)]
        if self.read_model is None:
            log = list(self.store.read())
            found = next((r.event for r in log if r.event.id == event_id), None)
            about = [r.event for r in log]
            ids = {r.event.id for r in log}
            taken = {name for name in names if name in ids}
        else:
            with self.read_model.recorded_log(self.store) as recorded:
                hit = recorded.recorded((event_id,)).get(event_id)
                found = None if hit is None else hit[1]
                about = [] if found is None else recorded.changes_of(event_id)
                taken = set(recorded.recorded(names))
        if found is None:
            raise InvalidInput(f"no recorded event {event_id!r} to correct", field="event_id")
        return [event for event in about if isinstance(event, EventCorrected)
                and event.corrects == event_id], taken

    def correct_from_file(self, event_id: str, path: Path | str, reason: str) -> EventCorrected:
        """A correction whose replacement event is read from an import file (one event)."""
        located = read_paths([Path(path)])
        if len(located) != 1:
            raise InvalidInput(f"{path}: a replacement file holds exactly one event, "
                               f"found {len(located)}", field="file")
        return self.correct(event_id, located[0].event, reason)

    # ------------------------------------------------------------ tamper evidence

    def verify(self, *, raise_on_break: bool = True, public_key: Path | str | None = None,
               since: Checkpoint | str | None = None) -> Verification:
        """Walk the hash chain over the stored rows; raise TamperDetected at the first break.

        With a public key, every chain head from the first signed one on (and at least the
        last) must carry a valid signature by its private key; with a checkpoint (as
        `checkpoint` gave it), the log must still extend it."""
        check = load_verifier(Path(public_key)) if public_key is not None else None
        mark = Checkpoint.parse(since) if isinstance(since, str) else since
        result = self.store.verify(check, mark)
        if raise_on_break:
            check_intact(result)
        return result

    def head(self) -> Head:
        """The log's recorded head (event count, last link, last notification id), read
        cheaply: the last entry only, without walking the chain."""
        last = self.store.last_entry()
        recorder = self.store.app.recorder
        return Head(events=0 if last is None else last.originator_version,
                    link=(last.chain or "") if last is not None else "",
                    notification_id=int(recorder.max_notification_id() or 0))

    def lag(self) -> Lag:
        """How far the read model trails the log (0 when there is no read model: answers
        then come from a fold of the whole log, which never lags)."""
        log_id = int(self.store.app.recorder.max_notification_id() or 0)
        if self.read_model is None:
            return Lag(log_id, log_id)
        applied = self.read_model.writer.max_tracking_id(APPLICATION_NAME) or 0
        return Lag(log_id, applied)

    def check_unapplied(self) -> int:
        """Check the chain over what the read model has not applied yet (and that the row it
        verified last is still as it was), without applying it; return how many events were
        checked. Without a read model, walk the whole chain. Raises TamperDetected."""
        if self.read_model is None:
            return self.verify().events
        return self.store.count_unapplied(self.read_model.writer.chain_state())

    def checkpoint(self) -> Checkpoint:
        """A digest of the log's head to keep elsewhere: `verify(since=...)` later proves the
        log still extends it, so deleting the newest events is caught."""
        result = self.verify()
        return Checkpoint(result.events, result.head)

    # ------------------------------------------------------------ queries

    def _require_events(self) -> None:
        """Refuse to answer from a store that holds no events: it would say 0% for every
        question, a wrong answer that looks right."""
        if self.store.count() == 0:
            raise self._empty()

    def _empty(self) -> EmptyStore:
        return EmptyStore(
            f"the store at {redact(self.store.url)} holds no events, so it cannot answer "
            "(an empty timeline would say 0% for everything); load the bundled timeline "
            "with `tariffs import` (no path), or import event files")

    def _entries(self, recorded: datetime) -> list[Corrected]:
        return corrected_log(self.store.read(), recorded)

    def coordinate(self, entered: When, known: When | None = None,
                   recorded: When | None = None) -> Coordinate:
        """The coordinate a question names; known and recorded default to now."""
        return Coordinate.parse(entered, known, recorded, self.store.clock)

    @contextmanager
    def _answering(self, require_events: bool = True) -> Iterator[ReadModel | None]:
        """The read model, brought up to date with the log, for the question asked inside
        this block, when questions are answered from it; None when they are answered by
        folding the log. With `require_events`, EmptyStore when the log holds no events
        (`_require_events`; the read model's chain state tells, without counting the log).

        A question reads the read model in several statements: if its tables were made
        again meanwhile (another process rebuilt them), it leaves with RowsMoved instead of
        an answer read partly from tables being filled."""
        if self.query_path is QueryPath.FOLD or self.read_model is None:
            if require_events:
                self._require_events()
            yield None
            return
        caught_up = self.read_model.caught_up(self.store, progress=self.on_catch_up)
        if require_events and caught_up.chain.events == 0:
            raise self._empty()
        with self.read_model.writer.same_tables(caught_up.tables):
            yield self.read_model

    def _timeline(self, model: ReadModel | None, coordinate: Coordinate, origin: str | None,
                  hts: str | None, lines_of_code: bool = False, stretches: bool = True
                  ) -> tuple[Timeline, Mapping[str, Corrected]]:
        """What bears on a question at a coordinate, by the query path (`model`, from
        `_answering`), and its events (from the read model, with `lines_of_code` only the
        HTS lines a rate question reads, and without `stretches` no since and until, which
        a rate answer does not show)."""
        if model is None:
            entries = self._entries(coordinate.recorded)
            return fold_at(entries, coordinate.known), {e.event.id: e for e in entries}
        reader = model.reader
        return (reader.slice_at(coordinate.effective, coordinate.known, coordinate.recorded,
                                origin, hts, lines_of_code, stretches=stretches),
                reader.entries(coordinate.recorded))

    def rate_on(self, *, origin: str, hts: str, entered: When, known: When | None = None,
                recorded: When | None = None, mfn: Percent | None = None,
                facts: Mapping[str, object] | None = None) -> RateAnswer:
        """The additional duty on goods of `origin` and `hts` entered at `entered`, as known at
        `known` and recorded at `recorded`, with every layer considered and why."""
        question = _checked(RateQuestion(origin, hts, entered, known, recorded, mfn,
                                         facts or {}), self.store.clock)
        with self._answering() as model:
            return question.answer(*self._timeline(model, question.coordinate,
                                                   question.origin, question.hts,
                                                   lines_of_code=True, stretches=False))

    def rate_many(self, questions: Iterable[RateQuestion]
                  ) -> Iterator[RateAnswer | InvalidInput]:
        """Answer many rate questions with one store, in order: each answer, or the
        InvalidInput that names what is wrong with its question (the others still answered).

        Defaults of known and recorded are one 'now' for the whole batch, so its answers agree
        with each other. Answers come from folds of the checked log (the reference path), one
        per (known, recorded) pair, kept in a small LRU, and a repeated question reuses its
        answer: memory stays flat in the number of questions. A broken chain raises
        TamperDetected: nothing is answered from it."""
        now = self.store.clock()
        folds: OrderedDict[tuple[datetime, datetime],
                           tuple[Timeline, Mapping[str, Corrected]]] = OrderedDict()
        answers: OrderedDict[tuple[object, ...], RateAnswer] = OrderedDict()
        for question in questions:
            try:
                checked = _checked(question, lambda: now)
            except InvalidInput as problem:
                yield problem
                continue
            key = checked.key
            coordinate = checked.coordinate
            if key in answers:
                answers.move_to_end(key)
                yield answers[key]
                continue
            pair = (coordinate.known, coordinate.recorded)
            if pair in folds:
                folds.move_to_end(pair)
            else:
                entries = self._entries(coordinate.recorded)
                folds[pair] = (fold_at(entries, coordinate.known),
                               {e.event.id: e for e in entries})
                if len(folds) > FOLDS_KEPT:
                    folds.popitem(last=False)
            try:
                answer = checked.answer(*folds[pair])
            except InvalidInput as problem:
                # A code that is not a line of the HTS revision in force at its entry date.
                yield problem
                continue
            answers[key] = answer
            if len(answers) > ANSWERS_KEPT:
                answers.popitem(last=False)
            yield answer

    def rate_frame(self, questions: pd.DataFrame) -> pd.DataFrame:
        """Answer a pandas DataFrame of rate questions (columns origin, hts, entered, and
        optionally known, recorded, mfn and one column per fact): a DataFrame with one flat
        row per question, `additional` and `total` as float columns (needs the `frames`
        extra)."""
        from tariff_timeline.batch import answer_frame  # pandas is optional: import late

        return answer_frame(self, questions)

    def rate_on_by_fold(self, *, origin: str, hts: str, entered: When,
                        known: When | None = None, recorded: When | None = None,
                        mfn: Percent | None = None,
                        facts: Mapping[str, object] | None = None) -> RateAnswer:
        """The same question answered by folding the whole log: the reference answer."""
        question = _checked(RateQuestion(origin, hts, entered, known, recorded, mfn,
                                         facts or {}), self.store.clock)
        self._require_events()
        entries = self._entries(question.coordinate.recorded)
        return question.answer(fold_at(entries, question.coordinate.known),
                               {e.event.id: e for e in entries})

    @paused_collector()  # a whole schedule is hundreds of thousands of objects
    def schedule_as_of(self, *, entered: When, known: When | None = None,
                       recorded: When | None = None, origin: str | None = None,
                       hts: str | None = None) -> Schedule:
        """The schedule at a coordinate, optionally only what covers an origin or HTS code."""
        origin_iso = origin_code(origin) if origin else None
        digits = hts_digits(hts, allow_all=True) if hts else None
        coordinate = self.coordinate(entered, known, recorded)
        with self._answering() as model:
            timeline, _ = self._timeline(model, coordinate, origin_iso, digits)
            return schedule_as_of(timeline, coordinate, origin_iso, digits)

    def snapshot(self, entered: When, known: When | None = None,
                 recorded: When | None = None) -> Snapshot:
        """The timeline and its entries at a coordinate (one side of a diff). From the read
        model each measure and stacking rule is as it stands at the effective time (what
        every answer at that coordinate reads), not its whole effective history."""
        coordinate = self.coordinate(entered, known, recorded)
        with self._answering() as model:
            return self._snapshot(coordinate, model)

    def _snapshot(self, coordinate: Coordinate, model: ReadModel | None,
                  entries: EventLookup | None = None, origin: str | None = None,
                  hts: str | None = None, held: Held | None = None,
                  sliced: Timeline | None = None) -> Snapshot:
        """One side of a diff; from the read model, only what bears on the origin and HTS
        code when given (or the slice `sliced`, read already), with the nomenclature the
        diff compares too: the whole, or under the HTS code when one is given (what its rate
        question reads as well)."""
        if model is None:
            listed = self._entries(coordinate.recorded)
            return Snapshot(coordinate, fold_at(listed, coordinate.known),
                            {e.event.id: e for e in listed})
        reader = model.reader
        c = coordinate
        timeline = sliced if sliced is not None else reader.slice_at(
            c.effective, c.known, c.recorded, origin, hts, lines_of_code=True, held=held)
        if hts is not None:
            timeline = replace(timeline, nomenclature=reader.nomenclature_under(
                hts, c.effective, c.known, c.recorded))
        elif origin is not None:
            timeline = replace(timeline, nomenclature=reader.nomenclature(c.known, c.recorded))
        return Snapshot(c, timeline, entries if entries is not None else reader.entries(
            c.recorded))

    @staticmethod
    def _whole_states(model: ReadModel, snapshot: Snapshot,
                      items: Sequence[tuple[str, str]]) -> Snapshot:
        """The snapshot with the whole states of the changed items it cannot name the events
        of, folded again from their own events: a measure not listed at the effective
        instant or with no status, rate or scope painted then (the read model cuts measures
        at it; the diff then names the paint that will start it), and an item the slice left
        out (it bears on other origins or codes on this side)."""
        c = snapshot.coordinate
        cut = snapshot.timeline
        holders: dict[str, Mapping[str, object]] = {
            "measure": cut.measures, "exemption": cut.exemptions, "quota": cut.quotas,
            "stacking_rule": cut.rules}
        needed: list[tuple[str, str]] = []
        for kind, item in items:
            measure = cut.measures.get(item) if kind == "measure" else None
            if kind in holders and (item not in holders[kind] or (measure is not None and (
                    measure.imposed and (paint_at(measure.statuses, c.effective) is None
                                         or paint_at(measure.rates, c.effective) is None
                                         or paint_at(measure.scopes, c.effective) is None)))):
                needed.append((kind, item))
        if not needed:
            return snapshot
        whole = model.reader.fold_subjects(
            [f"{_SUBJECT_KINDS.get(kind, kind)}:{item}" for kind, item in needed], c.known,
            c.recorded)
        found: dict[str, Mapping[str, object]] = {
            "measure": whole.measures, "exemption": whole.exemptions, "quota": whole.quotas,
            "stacking_rule": whole.rules}
        kept: dict[str, dict[str, Any]] = {kind: dict(h) for kind, h in holders.items()}
        for kind, item in needed:
            if item in found[kind]:
                kept[kind][item] = found[kind][item]
            else:
                kept[kind].pop(item, None)
        return replace(snapshot, timeline=replace(
            cut, measures=kept["measure"], exemptions=kept["exemption"],
            quotas=kept["quota"], rules=kept["stacking_rule"]))

    @paused_collector()  # a whole schedule is hundreds of thousands of objects
    def diff(self, *, entered: tuple[When, When], known: tuple[When | None, When | None] = (
                 None, None), recorded: tuple[When | None, When | None] = (None, None),
             origins: Sequence[str] = (), hts: Sequence[str] = ()) -> Diff:
        """The schedule at the second coordinate compared with the first, optionally only for
        some origins and HTS prefixes (both given: also every origin×HTS cell that changed)."""
        origin_codes = [origin_code(o, field="origins") for o in origins]
        prefixes = [hts_digits(h, field="hts") for h in hts]
        now = self.store.clock()  # one 'now' for both sides, so defaults compare equal
        first = self.coordinate(entered[0], _or(known[0], now), _or(recorded[0], now))
        second = self.coordinate(entered[1], _or(known[1], now), _or(recorded[1], now))
        if first == second:
            raise InvalidInput("the two coordinates are the same: give two different values "
                               "of entered, known or recorded")
        with self._answering() as model:
            if model is None:
                return diff(self._snapshot(first, model), self._snapshot(second, model),
                            origins=origin_codes, hts=prefixes)
            lookup = model.reader.entries(first.recorded)
            # One origin or HTS prefix (or one of each): each side reads only what bears on it.
            origin = origin_codes[0] if len(origin_codes) == 1 and len(prefixes) <= 1 else None
            code = prefixes[0] if len(prefixes) == 1 and len(origin_codes) <= 1 else None
            held = Held()  # most rows are the same rows on both sides: each decoded once
            sliced: tuple[Timeline, Timeline] | tuple[None, None] = (None, None)
            if not (origin_codes and prefixes):
                # No cell's rate to compare: each side reads only the subjects whose rows may
                # differ from the other side's, so the diff costs what changed, not the schedule.
                sliced = model.reader.slices_between(
                    (first.effective, first.known, first.recorded),
                    (second.effective, second.known, second.recorded), origin, code, held)
            before = self._snapshot(first, model, lookup, origin, code, held, sliced[0])
            after = self._snapshot(second, model, lookup if second.recorded == first.recorded
                                   else None, origin, code, held, sliced[1])
            # The read model's measures are cut at the effective instant, which gives the same
            # rows and cells; a changed item whose cut cannot name the events behind the change
            # is folded again, whole, from its own events.
            rows = schedule_rows(before, after, origins=origin_codes, hts=prefixes)
            changes = row_changes(rows)
            after = self._whole_states(model, after, [(c.kind, c.item) for c in changes])
            # A measure added or changed is named by its new paints: its old state is not
            # folded again for that.
            before = self._whole_states(model, before, [
                (c.kind, c.item) for c in changes if not named_by_second(c, after)])
            cited = cited_events(before, after, changes)
            for side in (before, after):
                if isinstance(side.entries, EventLookup):
                    side.entries.prefetch(cited)  # one query for every event the diff may cite
            return diff(before, after, origins=origin_codes, hts=prefixes, changes=changes)

    def rate_series(self, *, origin: str, hts: str, start: When, end: When,
                    known: When | None = None, recorded: When | None = None,
                    mfn: Percent | None = None) -> Series:
        """The additional duty on `origin` × `hts` as a step series over [start, end]."""
        origin_iso, digits = entry(origin, hts)
        first = self.coordinate(start, known, recorded)
        last = effective_instant(end, "end")
        if last <= first.effective:
            raise InvalidInput("must be after start", field="end")
        with self._answering() as model:
            timeline: Timeline
            entries: Mapping[str, Corrected]
            if model is None:
                listed = self._entries(first.recorded)
                timeline, entries = fold_at(listed, first.known), {e.event.id: e for e in listed}
            else:
                # Only what bears on the cell over [start, end] (see `cell_timeline`): its rate
                # can change only where a paint of that starts or ends, all of them among the
                # instants the whole fold is evaluated at (see `rate_series`).
                timeline = model.reader.cell_timeline(origin_iso, digits, first.effective, last,
                                                      first.known, first.recorded)
                entries = model.reader.entries(first.recorded)
            return rate_series(timeline, entries, origin=origin_iso, hts=digits,
                               start=first.effective, end=last, known=first.known,
                               recorded=first.recorded, mfn=mfn_percent(mfn))

    def history(self, measure: str | None = None, *, origin: str | None = None,
                hts: str | None = None, recorded: When | None = None,
                mfn: Percent | None = None) -> History:
        """Every event that touched a measure, or an origin × HTS code, in order, with every
        recorded version and the state or rate after each."""
        if (measure is None) == (origin is None or hts is None):
            raise InvalidInput("give a measure, or an origin and an HTS code (not both)")
        cutoff = (cutoff_instant(recorded, "recorded")
                  if recorded is not None else self.store.clock())
        with self._answering() as model:
            if measure is not None:
                # From the read model, only the events about the measure and those of the
                # subjects naming it: its history reads nothing else.
                log = (self._log(cutoff) if model is None
                       else model.reader.history_log(measure, cutoff))
                if not any(measure == subject_of(r.event) for r in log):
                    raise InvalidInput(f"no recorded event is about {measure!r}", field="measure")
                return measure_history(log, measure)
            if origin is None or hts is None:
                raise InvalidInput("give an origin and an HTS code together")
            origin_iso, digits = entry(origin, hts)
            # From the read model, only the events of the subjects that may bear on the cell
            # and of its chapter: its history reads nothing else.
            log = (self._log(cutoff) if model is None
                   else model.reader.cell_history_log(origin_iso, digits, cutoff))
            return cell_history(log, origin_iso, digits, mfn_percent(mfn))

    def _log(self, cutoff: datetime) -> list[Recorded]:
        return [r for r in self.store.read() if r.recorded_at <= cutoff]

    def sources(self) -> list[SourceRow]:
        """Every citation in the store (corrections applied), with the events citing it: a
        correction or retraction cites its own sources under its own id."""
        now = self.store.clock()
        with self._answering(require_events=False) as model:
            if model is not None:
                return model.reader.sources(now)
            log = self._log(now)
            revisions = [Corrected(r.seq, r.recorded_at, r.event) for r in log
                         if isinstance(r.event, EventCorrected | EventRetracted)]
            return sources_of([*corrected_log(log, now), *revisions])

    @paused_collector()  # a whole schedule is hundreds of thousands of objects
    def coverage(self, at: When | None = None) -> list[CoverageRow]:
        """Per measure and exemption: complete or partial product list, count of codes, note;
        statuses at `at` (default now), as known and recorded now."""
        coordinate = self.coordinate(at if at is not None else self.store.clock())
        with self._answering(require_events=False) as model:
            if model is not None:
                # From the measures' heads and topmost statuses (kept over all effective time,
                # where their pieces are kept only while they are listed) and the exemptions.
                return model.reader.coverage(coordinate.effective, coordinate.known,
                                             coordinate.recorded)
            timeline = fold_at(self._entries(coordinate.recorded), coordinate.known)
            return coverage_of(timeline, coordinate.effective)

    def events(self, measure: str | None = None) -> list[LogEntry]:
        """The log as recorded, with all three clocks; optionally only one subject's events."""
        rows = []
        for recorded in self.store.read():
            event = recorded.event
            subject = subject_of(event)
            if measure is not None and subject != measure and measure not in mentions(event):
                continue
            rows.append(LogEntry(
                seq=recorded.seq, id=event.id, type=type(event).__name__, subject=subject,
                known=event.known.isoformat(),
                effective_from=getattr(event, "effective_from", None),
                effective_until=getattr(event, "effective_until", None),
                recorded=recorded.recorded_at, confidence=event.confidence,
                summary=summary(event), sources=event.sources,
            ))
        return rows


    # ------------------------------------------------------------ the HTS itself (issue 10)

    def _nomenclature(self, model: ReadModel | None, coordinate: Coordinate,
                      hts: str | None = None) -> Nomenclature:
        """The nomenclature as known and recorded at a coordinate, by the query path: folded
        from the log, or from the read model `model` (caught up by the caller, `_answering`),
        only the chapter of `hts` when given."""
        if model is None:
            return fold_at(self._entries(coordinate.recorded), coordinate.known).nomenclature
        return model.reader.slice_at(coordinate.effective, coordinate.known,
                                     coordinate.recorded, hts=hts).nomenclature

    def _hts_coordinate(self, effective: When, known: When | None, recorded: When | None,
                        field: str = "at", now: datetime | None = None) -> Coordinate:
        """A coordinate whose effective time a question of the HTS names `field` (--at,
        --from, --to), not `entered`."""
        try:
            return Coordinate.parse(effective, known, recorded,
                                    self.store.clock if now is None else lambda: now)
        except InvalidInput as problem:
            if problem.field != "entered":
                raise
            raise InvalidInput(problem.message, field=field) from None

    @staticmethod
    def _revision(model: ReadModel, coordinate: Coordinate) -> RevisionInForce:
        """The revision in force over the whole schedule at a coordinate (read model path)."""
        found = model.reader.hts_revision(
            coordinate.effective, coordinate.known, coordinate.recorded)
        if found is None:
            raise no_revision(coordinate)
        return found

    def hts_line(self, code: str, effective: When, known: When | None = None,
                 recorded: When | None = None) -> HtsLineAnswer:
        """One HTS line in force at `effective`, as known at `known` and recorded at
        `recorded`: its description path from the heading down, units, the three rate columns
        (the general one read as a value), its children, and the revision and since when.
        InvalidInput (field 'hts') naming the nearest lines for a code not in that revision."""
        digits = hts_digits(code, field="code")
        coordinate = self._hts_coordinate(effective, known, recorded)
        with self._answering() as model:
            try:
                if model is None:
                    whole = self._nomenclature(model, coordinate)
                    if revision_at(whole, coordinate.effective) is None:
                        raise no_revision(coordinate)
                    return line_answer(require_line(whole, digits, coordinate.effective),
                                       coordinate)
                chapter = self._nomenclature(model, coordinate, digits[:2])
                revision = self._revision(model, coordinate)
                # A chapter the HTS lacks comes back empty (no revision): nothing to find in it.
                found = (line_at(chapter, digits, coordinate.effective)
                         if any(c.revisions for c in chapter.chapters.values()) else None)
                if found is None:
                    # The nearest lines may lie in other chapters: ask the whole schedule.
                    require_line(self._nomenclature(model, coordinate), digits,
                                 coordinate.effective)
                    raise InvalidInput(f"{format_hts(digits)} is not an HTS line", field="code")
                return line_answer(found, coordinate, revision)
            except InvalidInput as problem:
                # The code is this question's own argument (CODE, /v1/hts/{code}), not --hts.
                if problem.field != "hts":
                    raise
                raise InvalidInput(problem.message, field="code") from None

    def hts_search(self, words: str, effective: When, known: When | None = None,
                   recorded: When | None = None, limit: int = 20,
                   offset: int = 0) -> HtsSearch:
        """The HTS lines in force at `effective` (as known and recorded then) whose
        description or the text above it (its headings, superior text) holds every word, as
        a word or the start of one, best first (`domain.nomenclature.search_rank`): on the
        read model its full-text index finds the lines (FTS5 on SQLite, tsvector on
        PostgreSQL), on the fold `domain.nomenclature.search`; both rank them alike."""
        terms = search_terms(words)
        if not 1 <= limit <= 1000:
            raise InvalidInput(f"must be from 1 to 1000, not {limit}", field="limit")
        if offset < 0:
            raise InvalidInput(f"must be 0 or more, not {offset}", field="offset")
        coordinate = self._hts_coordinate(effective, known, recorded)
        with self._answering() as model:
            if model is None:
                nomenclature = self._nomenclature(model, coordinate)
                revision = revision_at(nomenclature, coordinate.effective)
                if revision is None:
                    raise no_revision(coordinate)
                everything = search(nomenclature, words, coordinate.effective, limit=10**9)
                total = len(everything)
                hits = [HtsHit(code=format_hts(h.code), description=h.description,
                               path=steps(h.path), score=float(h.score))
                        for h in everything[offset:offset + limit]]
            else:
                revision = self._revision(model, coordinate)
                total, found = model.reader.hts_search(
                    words, revision.at, coordinate.known, coordinate.recorded, limit, offset)
                hits = [HtsHit(code=format_hts(h.code), description=h.description,
                               path=steps(h.path), score=h.score) for h in found]
            return HtsSearch(words=" ".join(terms), entered=coordinate.effective,
                             known=coordinate.known, recorded=coordinate.recorded,
                             revision=revision_answer(revision), total=total, limit=limit,
                             offset=offset, hits=tuple(hits),
                             notes=() if revision.note is None else (revision.note,))

    def hts_diff(self, before: When, after: When, known: When | None = None,
                 recorded: When | None = None, under: Sequence[str] = ()) -> HtsDiff:
        """The nomenclature in force at `after` compared with that at `before` (both as
        known at `known` and recorded at `recorded`): lines added, removed, re-rated,
        re-described and restructured, every code listed; only under the given prefixes if
        any."""
        prefixes = [hts_digits(u, field="under") for u in under]
        now = self.store.clock()  # one 'now' for both sides
        old = self._hts_coordinate(before, known, recorded, "start", now)
        new = self._hts_coordinate(after, known, recorded, "end", now)
        with self._answering() as model:
            nomenclature = self._nomenclature(model, old)
        found = compare(nomenclature, nomenclature, old.effective, new.effective, prefixes)
        if found is None:
            raise no_revision(old)
        return diff_answer(found[0], old, new, prefixes, found[1])


def no_revision(coordinate: Coordinate) -> InvalidInput:
    """The error for a question of the HTS where no revision is known: none imported, or
    none announced and recorded by the coordinate's known and recorded times."""
    return InvalidInput(
        f"no HTS revision is known at {describe_instant(coordinate.known)} as recorded at "
        f"{describe_instant(coordinate.recorded)} (none was imported, or none was announced "
        "by then)", field="known")


_SUBJECT_KINDS = {"stacking_rule": "rule"}
"""A diff's kinds of item that name their subjects otherwise."""


def _or(value: When | None, default: datetime) -> When:
    return default if value is None else value


def check_intact(result: Verification) -> None:
    """Raise TamperDetected if a verification found a break."""
    if result.first_break is not None:
        raise tamper_detected(result.first_break, result.events)
