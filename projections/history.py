"""Every event that touched a measure (or an origin × HTS cell), in order, with what followed.

Each recorded version of an event is a row: the content first recorded (marked superseded once a
correction replaced it), each correction with its replacement content, and retractions. The
state after a row is the fold of the events it describes (those of the subjects it tells of,
each from its own events) as they stood with that version in force (later corrections of the
same event left out), up to and including the event in known-time order.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal, get_args

from tariff_timeline.domain.clocks import Coordinate
from tariff_timeline.domain.errors import InvalidInput, LifecycleError
from tariff_timeline.domain.rules import describe_rate, scope_matches
from tariff_timeline.domain.timeline import Paint, Timeline, fold, paint_at
from tariff_timeline.events import (
    EventCorrected,
    EventRetracted,
    NomenclatureRevised,
    PolicyEvent,
    Scope,
    Selector,
    Source,
    SubjectKind,
    format_hts,
    known_instant,
    subject_key,
    subject_of,
)
from tariff_timeline.events.instants import describe_instant
from tariff_timeline.projections.answers import Answer
from tariff_timeline.projections.rates import asked_alike, changes_between, rate_on
from tariff_timeline.projections.replay import Corrected, Recorded, corrected_log, known_order
from tariff_timeline.projections.series import change_candidates

VersionKind = Literal["current", "superseded", "correction", "retraction"]


class HistoryRow(Answer):
    """One recorded version of an event, with its three clocks, sources and the result."""

    seq: int
    id: str
    type: str
    version: VersionKind
    corrects: str | None = None
    superseded_by: tuple[str, ...] = ()
    known: str
    effective_from: datetime | None
    effective_until: datetime | None
    recorded: datetime
    confidence: str
    instrument: str | None
    summary: str
    sources: tuple[Source, ...]
    after: str


class History(Answer):
    """The history of one measure or one origin × HTS cell."""

    subject: str
    rows: tuple[HistoryRow, ...]


@dataclass(frozen=True)
class _Version:
    index: int
    record: Recorded
    content: PolicyEvent
    kind: VersionKind
    corrects: str | None
    superseded_by: tuple[str, ...]
    cut: int


def mentions(event: PolicyEvent) -> set[str]:
    """Measures an event names besides its subject (selectors, rulings)."""
    names: set[str] = set()
    for attr in ("applies_to", "when", "excludes"):
        selector = getattr(event, attr, None)
        if selector is not None:
            names.update(selector.measures)
    names.update(getattr(event, "measures", ()) or ())
    return names


def summary(event: PolicyEvent) -> str:
    """A line that says what an event did."""
    if isinstance(event, NomenclatureRevised):
        return hts_summary(event)
    for attr in ("title", "description", "holding", "step", "reason"):
        value = getattr(event, attr, None)
        if isinstance(value, str):
            return value
    rate = getattr(event, "rate", None)
    if rate is not None:
        return f"rate {describe_rate(rate)}"
    until = getattr(event, "effective_until", None)
    if until is not None:
        return f"until {describe_instant(until)}"
    return type(event).__name__


def _versions(log: Sequence[Recorded]) -> list[_Version]:
    fixes: dict[str, list[tuple[int, str]]] = {}
    for index, record in enumerate(log):
        fixed = _target(record.event)
        if fixed is not None:
            fixes.setdefault(fixed, []).append((index, record.event.id))
    versions: list[_Version] = []
    for index, record in enumerate(log):
        event = record.event
        target = _target(event) or event.id
        later = [(i, eid) for i, eid in fixes.get(target, []) if i > index]
        cut = later[0][0] if later else len(log)
        superseded = tuple(eid for _, eid in later)
        if isinstance(event, EventCorrected):
            versions.append(_Version(index, record, event.replacement, "correction",
                                     event.corrects, superseded, cut))
        elif isinstance(event, EventRetracted):
            versions.append(_Version(index, record, event, "retraction", event.retracts, (),
                                     len(log)))
        else:
            versions.append(_Version(index, record, event,
                                     "superseded" if superseded else "current", None,
                                     superseded, cut))
    return versions


def _history(log: Sequence[Recorded], subject: str,
             touches: Callable[[PolicyEvent], bool],
             describe: Callable[[Timeline, list[Corrected]], str],
             keep: Callable[[PolicyEvent], bool], strict: bool = True) -> History:
    versions = _versions(log)
    originals = {v.content.id: v.content for v in versions if v.kind != "retraction"}
    chosen = [v for v in versions if touches(
        originals.get(v.corrects or "", v.content) if v.kind == "retraction" else v.content)]
    chosen.sort(key=lambda v: (known_instant(v.content.known), v.record.seq))
    cuts: dict[int, tuple[list[Corrected], dict[str, int]]] = {}
    # Per cut, how many of its entries the last fold took, and what it gave: rows come in
    # known order, so each row's fold continues the one before it (a fold of the whole
    # prefix per row made a long history quadratic).
    folds: dict[int, tuple[int, Timeline]] = {}
    rows: list[HistoryRow] = []
    for version in chosen:
        if version.cut not in cuts:
            ordered = known_order(corrected_log(log[:version.cut]))
            first: dict[str, int] = {}
            for index, entry in enumerate(ordered):
                first.setdefault(entry.event.id, index)
            cuts[version.cut] = ordered, first
        ordered, position = cuts[version.cut]
        end = (len(ordered) if version.kind == "retraction"
               else position[version.content.id] + 1)
        done, timeline = folds.get(version.cut, (0, Timeline()))
        if end < done:
            done, timeline = 0, Timeline()
        try:
            timeline = fold((e.event for e in ordered[done:end] if keep(e.event)), timeline,
                            strict=strict)
        except LifecycleError as problem:
            # A version corrected in the import that recorded it, when another event of that
            # import relies on the correction: with it in force, the log folds to nothing.
            after = f"cannot be folded with this version in force: {problem}"
        else:
            folds[version.cut] = end, timeline
            after = describe(timeline, ordered[:end])
        event = version.content
        rows.append(HistoryRow(
            seq=version.record.seq, id=event.id, type=type(event).__name__,
            version=version.kind, corrects=version.corrects,
            superseded_by=version.superseded_by, known=event.known.isoformat(),
            effective_from=getattr(event, "effective_from", None),
            effective_until=getattr(event, "effective_until", None),
            recorded=version.record.recorded_at, confidence=event.confidence,
            instrument=getattr(event, "instrument", None), summary=summary(event),
            sources=event.sources, after=after))
    return History(subject=subject, rows=tuple(rows))


def describe_measure(timeline: Timeline, measure_id: str) -> str:
    """A measure's status and rate over effective time, as steps ('from D: in force 24%')."""
    measure = timeline.measures.get(measure_id)
    if measure is None:
        return "not known"
    if not measure.imposed:
        last = measure.announcements[-1] if measure.announcements else None
        planned = f", {describe_rate(last.rate)}" if last and last.rate else ""
        return f"announced ({last.stage if last else '?'}){planned}"
    points = sorted({at for paints in (measure.statuses, measure.rates)
                     for p in paints for at in (p.start, p.end) if at is not None})
    steps: list[tuple[datetime, str]] = []
    for at in points:
        status = measure.status_at(at)
        rate = measure.rate_at(at)
        text = "not in force" if status is None else status.value.replace("_", " ")
        if status is not None and status.value in ("in_force", "paused") and rate is not None:
            text += f" {describe_rate(rate.value)}"
        if not steps or steps[-1][1] != text:
            steps.append((at, text))
    return "; ".join(f"{describe_instant(at)}: {text}" for at, text in steps)


def _steps(points: set[datetime], text_at: Callable[[datetime], str]) -> str:
    steps: list[tuple[datetime, str]] = []
    for at in sorted(points):
        text = text_at(at)
        if not steps or steps[-1][1] != text:
            steps.append((at, text))
    return "; ".join(f"{describe_instant(at)}: {text}" for at, text in steps)


def _ends(paints: Sequence[Paint[Any]]) -> set[datetime]:
    return {at for p in paints for at in (p.start, p.end) if at is not None}


def describe_subject(timeline: Timeline, subject: str) -> str:
    """The state of a measure, exemption, quota, stacking rule, deal or HTS chapter (its
    revisions) over effective time."""
    if subject in timeline.measures:
        return describe_measure(timeline, subject)
    if subject in timeline.exemptions:
        exemption = timeline.exemptions[subject]
        return _steps(_ends(exemption.active), lambda at: "in effect"
                      if exemption.active_at(at) is not None else "not in effect")
    if subject in timeline.quotas:
        quota = timeline.quotas[subject]

        def quota_at(at: datetime) -> str:
            active = paint_at(quota.active, at)
            percent = paint_at(quota.in_quota_percent, at)
            volume = paint_at(quota.volume, at)
            if active is None or not active.value:
                return "closed"
            return (f"open, in quota {percent.value if percent else '?'}%, volume "
                    f"{volume.value if volume else '?'}")

        return _steps(_ends(quota.active) | _ends(quota.in_quota_percent)
                      | _ends(quota.volume), quota_at)
    if subject in timeline.rules:
        rule = timeline.rules[subject]

        def rule_at(at: datetime) -> str:
            version = paint_at(rule.versions, at)
            in_effect = version is not None and version.value.in_effect
            return "in effect" if in_effect else "not in effect"

        return _steps(_ends(rule.versions), rule_at)
    if subject in timeline.deals:
        deal = timeline.deals[subject]
        steps = "; ".join(f"{describe_instant(p.start)}: {p.value}" for p in deal.steps)
        return steps or "announced"
    if subject in timeline.nomenclature.chapters:
        chapter = timeline.nomenclature.chapters[subject]
        return "; ".join(f"{describe_instant(p.start)}: HTS {p.value}" for p in chapter.revisions)
    return "not known"


def measure_history(log: Sequence[Recorded], measure: str) -> History:
    """Every recorded version of every event about a measure (or exemption, quota, rule,
    deal, chapter), with its state after each, folded from the events of `history_subjects`
    alone. `log` may hold only those (the read model's `history_log`): the answer is the
    same. A version after which they cannot be folded names the first problem among them,
    not one of an unrelated subject's."""
    def touches(event: PolicyEvent) -> bool:
        return subject_of(event) == measure or measure in mentions(event)

    subjects = history_subjects(log, measure)

    def keep(event: PolicyEvent) -> bool:
        # A correction may have moved one of these events to another subject, whose other
        # events are not folded: it is left out, as it bears on nothing described here.
        return subject_key(event) in subjects

    # Not strict: these subjects' events may name subjects left out, which the import checked.
    return _history(family_log(log, subjects), measure, touches,
                    lambda timeline, _: describe_subject(timeline, measure), keep,
                    strict=False)


def history_subjects(log: Iterable[Recorded], subject: str) -> set[str]:
    """'kind:id' of the subjects a history of one subject (by id, of any kind) folds: the
    subject itself, and every exemption, quota, rule, deal or ruling with an event (or
    replacement) that names it. The read model's `history_log` reads the same."""
    chosen = {f"{kind}:{subject}" for kind in get_args(SubjectKind)}
    for record in log:
        event = record.event
        key = subject_key(event)
        content = event.replacement if isinstance(event, EventCorrected) else event
        if (key is not None and key.split(":", 1)[0] not in ("measure", "chapter")
                and subject in mentions(content)):
            chosen.add(key)
    return chosen


def cell_subjects(log: Iterable[Recorded], origin: str, hts: str) -> set[str]:
    """'kind:id' of every measure, exemption, quota and stacking rule that may bear on one
    origin × HTS code under some recorded version of its events: a measure whose events
    (announcements included) gave it a scope that may cover the cell; an exemption or quota
    whose scope may cover it, granted from or opened under such a measure; a rule whose
    selectors pick one. Each selector is tested against every id, program and authority the
    measure's events gave it.

    What bears on the cell in the fold of any part of the log is among these: a measure's
    scopes, program and authority, an exemption's scope and selector, a quota's scope and
    measure and a rule's selectors are each some event's (or replacement's) own value, and
    the rate engine reads nothing else of a subject that does not cover the cell."""
    contents: list[tuple[str, PolicyEvent]] = []
    for record in log:
        event = record.event
        content = event.replacement if isinstance(event, EventCorrected) else event
        key = subject_key(content)
        if key is not None and not isinstance(content, EventRetracted):
            contents.append((key, content))

    def covers(content: PolicyEvent) -> bool:
        scope = getattr(content, "scope", None)
        return isinstance(scope, Scope) and scope_matches(scope, origin, hts) != "no"

    measures = {key for key, content in contents
                if key.startswith("measure:") and covers(content)}
    programs = {getattr(c, "program", None) for k, c in contents if k in measures} - {None}
    authorities = {getattr(c, "authority", None) for k, c in contents if k in measures} - {None}
    ids = {key.split(":", 1)[1] for key in measures}

    def picks(content: PolicyEvent) -> bool:
        return any(isinstance(selector, Selector) and (
            not ids.isdisjoint(selector.measures) or not programs.isdisjoint(selector.programs)
            or not authorities.isdisjoint(selector.authorities))
            for selector in (getattr(content, name, None)
                             for name in ("applies_to", "when", "excludes")))

    def kind(key: str) -> str:
        return key.split(":", 1)[0]

    scoped = {key for key, content in contents
              if kind(key) in ("exemption", "quota") and covers(content)}
    chosen = set(measures)
    chosen.update(key for key, content in contents if key in scoped and kind(key) == "exemption"
                  and picks(content))
    chosen.update(key for key, content in contents if key in scoped and kind(key) == "quota"
                  and f"measure:{getattr(content, 'measure', '')}" in measures)
    chosen.update(key for key, content in contents if kind(key) == "rule" and picks(content))
    return chosen


def family_log(log: Sequence[Recorded], subjects: Collection[str]) -> list[Recorded]:
    """The events of a log that are or ever were about one of the subjects ('kind:id'), with
    every correction and retraction of those events, in log order: what a subject's state
    folds from (the read model's `subject_log` over the same subjects gives the same)."""
    first: dict[str, str | None] = {}
    for record in log:
        first.setdefault(record.event.id, subject_key(record.event))
    ids: set[str] = set()
    for record in log:
        event = record.event
        key = subject_key(event)
        target = _target(event)
        if key in subjects:
            ids.add(event.id)
        if target is not None and (key in subjects or first.get(target) in subjects):
            ids.add(target)
    return [r for r in log if r.event.id in ids or _target(r.event) in ids]


def _target(event: PolicyEvent) -> str | None:
    """The id of the event a correction or retraction revises (None for any other)."""
    if isinstance(event, EventCorrected):
        return event.corrects
    return event.retracts if isinstance(event, EventRetracted) else None


def hts_summary(event: NomenclatureRevised) -> str:
    """What a revision of the HTS did to one chapter, in a line."""
    if event.baseline:
        return (f"HTS {event.revision}, chapter {event.chapter}: {len(event.added)} line(s) "
                "recorded")
    parts = [f"{len(items)} {name}" for name, items in (
        ("added", event.added), ("changed", event.changed), ("removed", event.removed))
        if items]
    return f"HTS {event.revision}, chapter {event.chapter}: {', '.join(parts)}"


def touches_line(event: PolicyEvent, hts: str) -> bool:
    """Whether a revision of the HTS recorded, changed or removed the line of a code, or a
    line under it."""
    if not isinstance(event, NomenclatureRevised) or event.chapter != hts[:2]:
        return False
    codes = [line.code for line in (*event.added, *event.changed)] + list(event.removed)
    return any(code.startswith(hts) for code in codes)


def cell_history(log: Sequence[Recorded], origin: str, hts: str,
                 mfn: Decimal | None = None, *, reuse: bool = True) -> History:
    """Every event of the subjects that bear on one origin × HTS code under some recorded
    version (`cell_subjects`), and the revisions of the code's line, with the rate series
    after each: over the changes of those subjects and of the code's chapter, folded from
    their own events (`family_log`). `log` may hold only those (the read model's
    `cell_history_log`): the answer is the same. `reuse=False` asks every instant after every
    row again (what the reuse of the row before's answers must equal)."""
    subjects = cell_subjects(log, origin, hts)
    chapter = hts[:2]
    kept = subjects | {f"chapter:{chapter}"}
    own = family_log(log, kept)

    def touches(event: PolicyEvent) -> bool:
        # The revisions of the schedule that changed this code's line are part of its story.
        return subject_key(event) in subjects or touches_line(event, hts)

    # The row described last: its timeline, and its text at each instant it was asked.
    last: tuple[Timeline, dict[datetime, str]] | None = None

    def describe(timeline: Timeline, upto: list[Corrected]) -> str:
        nonlocal last
        candidates = change_candidates(timeline)
        if not candidates:
            return "no duty"
        latest = max(known_instant(e.event.known) for e in upto)
        recorded = upto[-1].recorded_at
        # Most rows change one measure or rule over a few months: at an instant where each
        # changed state reads as before, the answer is the row before's (asking every
        # instant after every row was nearly all of a busy cell's history).
        changed = changes_between(last[0], timeline) if last is not None and reuse else None
        before = last[1] if last is not None and changed is not None else {}
        texts: dict[datetime, str] = {}

        def rate_at(at: datetime) -> str:
            text = before.get(at)
            if text is None or changed is None or not asked_alike(changed, origin, hts, at):
                text = asked(at)
            texts[at] = text
            return text

        def asked(at: datetime) -> str:
            # No events to cite: a step says only when and how much, and a layer's
            # citations (every event of a measure, at each instant) were most of the cost.
            try:
                answer = rate_on(timeline, {}, origin=origin, hts=hts,
                                 coordinate=Coordinate(at, latest, recorded), mfn=mfn)
            except InvalidInput as problem:
                if problem.field != "hts":
                    raise
                # A code the HTS added or removed has a history on both sides of that.
                return "not a line of the HTS"
            return "?" if answer.additional is None else f"{answer.additional}%"

        described = _steps(candidates, rate_at)
        last = (timeline, texts)
        return described

    def keep(event: PolicyEvent) -> bool:
        # A correction may have moved an event of these subjects to one that never bears on
        # the cell, whose other events are not here: it is left out of the folds.
        return subject_key(event) in kept

    # Not strict: the family of a subject may name subjects left out (a quota's measure
    # that does not cover the cell), which the import checked.
    return _history(own, f"{origin} × {format_hts(hts)}", touches, describe, keep,
                    strict=False)
