"""Rate evaluation: which layers of duty apply to an entry at an effective instant, and why.

The order of reasoning, for each measure whose scope covers the entry:
1. lifecycle at the instant (in force, paused, scheduled, ended, only announced); a measure
   that starts more than a year later, or ended more than a year before, is not listed;
2. exemptions and quotas, tested against the facts about the goods;
3. replacements (a country rate takes the place of the baseline of the same program);
4. stacking rules in effect at the instant (232 goods do not pay the reciprocal layer, ...);
5. the amount of each applied layer (all-in ceilings need the MFN rate).
Where a test needs a fact the caller did not give, the answer is worked out under each
assumption and reported as alternatives; it never picks one silently.

When the store holds the HTS nomenclature, the code must be a line of the revision in force at
the entry date (`lines.classify`), MFN comes from its general column unless given, and an
8-digit code that a product list covers only in part is decided for each of its statistical
lines, the lines that answer alike grouped into one alternative.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TypeVar

from tariff_timeline.domain.clocks import Coordinate
from tariff_timeline.domain.rules import (
    FactValue,
    Match,
    capped_percent,
    condition_holds,
    describe_rate,
    layer_percent,
    listed_after_end,
    listed_before_start,
    origin_matches,
    product_matches,
    scope_matches,
)
from tariff_timeline.domain.timeline import (
    ENDED,
    ExemptionState,
    MeasureState,
    Paint,
    QuotaState,
    RuleState,
    Timeline,
    paint_at,
)
from tariff_timeline.events import ALL, PolicyEvent, Rate, Scope, Selector, format_hts
from tariff_timeline.events.instants import describe_cutoff, describe_instant
from tariff_timeline.projections.answers import Alternative, EventRef, Layer, RateAnswer
from tariff_timeline.projections.lines import (
    NOT_CHECKED,
    ClassifiedCode,
    MfnSource,
    classify,
    group_name,
    hts_mfn,
)
from tariff_timeline.projections.replay import Corrected, Prefetching

MAX_ASSUMPTIONS = 4
"""Unstated conditions worked out as alternatives; more than this are only noted."""


@dataclass(eq=False, slots=True)  # identity: the same measure is considered in several runs
class _Work:
    measure: MeasureState
    status: str
    applied: bool
    reason: str
    rate: Rate | None
    event_ids: list[str] = field(default_factory=list)
    percent: Decimal | None = None
    remainder_of: list[str] = field(default_factory=list)
    """Content-share facts of other layers: this one applies to 1 minus their sum."""
    partly: bool = False
    """Its scope covers only some HTS codes under the code asked."""


@dataclass
class _Run:
    layers: list[_Work]
    missing: list[str]
    notes: list[str]
    additional: Decimal | None


def _when(at: datetime | None) -> str:
    return "open-ended" if at is None else describe_instant(at)


def _last_scope(measure: MeasureState) -> Paint[Scope] | None:
    return measure.scopes[-1] if measure.scopes else None


@dataclass(frozen=True)
class StateChanges:
    """The states that differ between two timelines, as (before, after) pairs, where each
    bears on a rate question only through what it is at the instant asked
    (`changes_between`)."""

    measures: tuple[tuple[MeasureState, MeasureState], ...]
    rules: tuple[tuple[RuleState, RuleState], ...]
    exemptions: tuple[tuple[ExemptionState, ExemptionState], ...]
    quotas: tuple[tuple[QuotaState, QuotaState], ...]


def changes_between(before: Timeline, after: Timeline) -> StateChanges | None:
    """The measures, stacking rules, exemptions and quotas whose states differ between two
    timelines (by identity: a fold makes every map anew, with the states it did not touch in
    it), when nothing else a rate question reads differs; else None. Then a question at an
    instant where each changed state reads as before (`asked_alike`) answers alike on both.

    Beyond what each reads at the question's instant (`_considered`, `_rule_read`,
    `_exemption_read`, `_quota_read`), a question reads of a measure its identity (id,
    program, authority: exemptions, quotas, stacking rules and replacements name it so; its
    title, in the reasons that tell statistical lines apart) and,
    through the timeline's index, its scopes and announcements (whether it may cover the
    goods, and which statistical lines answer alike); of an exemption or a quota what it is
    over all time (its selector or measure, scope, conditions, rate, title); of the rest the
    nomenclature's chapters, and the order of every map. Deals and rulings are compared too,
    though no question reads them, so that this stays safe if one does."""
    if (not _same_states(before.nomenclature.chapters, after.nomenclature.chapters)
            or not _same_states(before.deals, after.deals)
            or not _same_states(before.rulings, after.rulings)):
        return None
    measures = _changed(before.measures, after.measures)
    rules = _changed(before.rules, after.rules)
    exemptions = _changed(before.exemptions, after.exemptions)
    quotas = _changed(before.quotas, after.quotas)
    if measures is None or rules is None or exemptions is None or quotas is None:
        return None
    if any(old.scopes is not new.scopes or old.announcements is not new.announcements
           or (old.id, old.title, old.program, old.authority, old.imposed)
           != (new.id, new.title, new.program, new.authority, new.imposed)
           for old, new in measures):
        return None
    if any((old.id, old.title, old.applies_to, old.scope, old.conditions, old.rate)
           != (new.id, new.title, new.applies_to, new.scope, new.conditions, new.rate)
           for old, new in exemptions):
        return None
    if any((old.id, old.title, old.measure, old.scope, old.over_quota, old.period)
           != (new.id, new.title, new.measure, new.scope, new.over_quota, new.period)
           for old, new in quotas):
        return None
    return StateChanges(measures, rules, exemptions, quotas)


S = TypeVar("S")


def _changed(before: Mapping[str, S], after: Mapping[str, S]) -> tuple[tuple[S, S], ...] | None:
    # The pairs whose states differ, or None when the keys or their order differ.
    if before is after:
        return ()
    if list(before) != list(after):
        return None
    return tuple((before[key], state) for key, state in after.items()
                 if before[key] is not state)


def _same_states(before: Mapping[str, object], after: Mapping[str, object]) -> bool:
    return _changed(before, after) == ()


def asked_alike(changes: StateChanges, origin: str, hts: str, at: datetime) -> bool:
    """Whether each changed state (`changes_between`) reads as before to a question at an
    instant: each measure considered alike (the same lifecycle, rate, reason and cited
    events there), each stacking rule, exemption and quota with the same paints in force.
    Then the two timelines answer that question alike."""
    return (all(_considered(_consider(old, origin, hts, at))
                == _considered(_consider(new, origin, hts, at))
                for old, new in changes.measures)
            and all(_rule_read(old, at) == _rule_read(new, at) for old, new in changes.rules)
            and all(_exemption_read(old, at) == _exemption_read(new, at)
                    for old, new in changes.exemptions)
            and all(_quota_read(old, at) == _quota_read(new, at)
                    for old, new in changes.quotas))


def _considered(work: _Work | None) -> tuple[object, ...] | None:
    # Everything step 1 gives but the state itself (compared apart, in `changes_between`).
    return None if work is None else (work.status, work.applied, work.reason, work.rate,
                                      tuple(work.event_ids), work.partly)


def _rule_read(rule: RuleState, at: datetime) -> tuple[object, ...]:
    # What `_Question` and the stacking step read of a rule at an instant.
    return (rule.id, rule.description, rule.remainder, rule.event_ids[:1],
            paint_at(rule.versions, at))


def _exemption_read(exemption: ExemptionState, at: datetime) -> tuple[object, ...]:
    # What `exemptions_for` and step 2 read of an exemption at an instant.
    return exemption.event_ids[:1], exemption.active_at(at)


def _quota_read(quota: QuotaState, at: datetime) -> tuple[object, ...]:
    # What step 2 reads of a quota at an instant.
    return (quota.event_ids[:1], paint_at(quota.active, at),
            paint_at(quota.in_quota_percent, at), paint_at(quota.volume, at))


class _Facts:
    """Facts about the goods, plus assumptions for those not given; records what was missing."""

    def __init__(self, facts: Mapping[str, FactValue], assume: Mapping[str, bool]) -> None:
        self.facts = dict(facts)
        self.assume = assume
        self.missing: list[str] = []

    def test(self, key: str, given: bool | None) -> bool:
        if given is not None:
            return given
        if key not in self.missing:
            self.missing.append(key)
        return self.assume.get(key, False)


def _consider(measure: MeasureState, origin: str, hts: str, at: datetime) -> _Work | None:
    """Step 1: whether a measure's scope covers the entry, and its lifecycle there."""
    if not measure.imposed:
        for announcement in reversed(measure.announcements):
            if scope_matches(announcement.scope, origin, hts) != "no":
                planned = (f", planned from {describe_instant(announcement.planned_from)}"
                           if announcement.planned_from else "")
                return _Work(measure, announcement.stage, False,
                             f"{announcement.stage} only, never put in force{planned}",
                             announcement.rate, [announcement.event_id])
        return None
    status = measure.status_at(at)
    scope = measure.scope_at(at) or (_last_scope(measure) if status is not None else None)
    if status is None:
        first = measure.scopes[0] if measure.scopes else None
        if first is None or first.start <= at or not listed_before_start(first.start, at) or (
                scope_matches(first.value, origin, hts) == "no"):
            return None
        return _Work(measure, "scheduled", False,
                     f"not yet in force: takes effect {describe_instant(first.start)}",
                     measure.rates[0].value if measure.rates else None, [first.event_id])
    if scope is None or (status.value in ENDED and not listed_after_end(status.start, at)):
        return None
    match = scope_matches(scope.value, origin, hts)
    if match == "no":
        return None
    rate = measure.rate_at(at) or (measure.rates[-1] if measure.rates else None)
    ids = [status.event_id, scope.event_id] + ([rate.event_id] if rate else [])
    rate_value = rate.value if rate else None
    if match == "partly":
        return _Work(measure, status.value, False,
                     f"covers only some HTS codes under {format_hts(hts)}; ask with a more "
                     "specific code", rate_value, ids, partly=True)
    if status.value == "paused":
        pause = paint_at(measure.pauses, at)
        until = pause.end if pause else status.end
        return _Work(measure, "paused", False,
                     f"paused from {describe_instant(status.start)} until {_when(until)} "
                     f"(event {status.event_id})", rate_value, ids)
    if status.value in ENDED:
        return _Work(measure, status.value, False,
                     f"{status.value.replace('_', ' ')} from {describe_instant(status.start)} "
                     f"(event {status.event_id})", rate_value, ids)
    return _Work(measure, "in_force", True, "in force", rate_value, ids)


class _Index:
    """What of a timeline every question asks again, worked out once per timeline: exemptions
    by the measure ids, programs and authorities their selectors name, quotas by measure, and
    for each origin the measures that could reach it (any scope ever painted or announced
    includes the origin), each in the timeline's order, the order the fold met them."""

    def __init__(self, timeline: Timeline) -> None:
        self.timeline = timeline
        self.exemptions: dict[tuple[str, str], list[ExemptionState]] = {}
        self.order: dict[str, int] = {}
        for index, exemption in enumerate(timeline.exemptions.values()):
            self.order[exemption.id] = index
            selector = exemption.applies_to
            for key in [*(("m", m) for m in selector.measures),
                        *(("p", p) for p in selector.programs),
                        *(("a", a) for a in selector.authorities)]:
                self.exemptions.setdefault(key, []).append(exemption)
        self.quotas: dict[str, list[QuotaState]] = {}
        for quota in timeline.quotas.values():
            self.quotas.setdefault(quota.measure, []).append(quota)
        self._by_origin: dict[str, list[MeasureState]] = {}
        self._by_chapter: dict[tuple[str, str], list[MeasureState]] = {}
        self._by_code: OrderedDict[tuple[str, str], list[MeasureState]] = OrderedDict()
        self._chapters = {m.id: _chapters([a.scope for a in m.announcements]
                                          + [p.value for p in m.scopes])
                          for m in timeline.measures.values()}
        self._alike: OrderedDict[tuple[str, str, tuple[str, ...]],
                                 tuple[tuple[str, ...], ...]] = OrderedDict()

    def alike(self, origin: str, hts: str, lines: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
        """A code's statistical lines grouped by how the scopes that cover only some codes
        under it (of the measures that may cover the goods, of exemptions and quotas) treat
        them: only those scopes can tell its lines apart, so a group answers alike."""
        key = (origin, hts, lines)
        found = self._alike.get(key)
        if found is not None:
            return found
        scopes = [scope for scope in [
            *(a.scope for m in self.measures_for(origin, hts) for a in m.announcements),
            *(p.value for m in self.measures_for(origin, hts) for p in m.scopes),
            *(e.scope for e in self.timeline.exemptions.values()),
            *(q.scope for q in self.timeline.quotas.values())]
            if product_matches(scope, hts) == "partly"]
        groups: dict[tuple[Match, ...], list[str]] = {}
        for line in lines:
            groups.setdefault(tuple(product_matches(s, line) for s in scopes), []).append(line)
        found = self._alike[key] = tuple(tuple(group) for group in groups.values())
        if len(self._alike) > _CODES_KEPT:
            self._alike.popitem(last=False)
        return found

    def measures_for(self, origin: str, hts: str) -> list[MeasureState]:
        """The measures whose scope, at some time or in some announcement, may cover the
        goods: no other measure can be considered for them."""
        found = self._by_code.get((origin, hts))
        if found is not None:
            self._by_code.move_to_end((origin, hts))
            return found
        found = self._by_code[(origin, hts)] = [
            m for m in self._of_chapter(origin, hts)
            if any(scope_matches(a.scope, origin, hts) != "no" for a in m.announcements)
            or any(scope_matches(s.value, origin, hts) != "no" for s in m.scopes)]
        if len(self._by_code) > _CODES_KEPT:
            self._by_code.popitem(last=False)
        return found

    def _of_chapter(self, origin: str, hts: str) -> list[MeasureState]:
        # The measures whose scopes ever reach the origin and the HTS chapter.
        chapter = hts[:2]
        found = self._by_chapter.get((origin, chapter))
        if found is not None:
            return found
        of_origin = self._by_origin.get(origin)
        if of_origin is None:
            of_origin = self._by_origin[origin] = [
                m for m in self.timeline.measures.values()
                if any(origin_matches(a.scope, origin) for a in m.announcements)
                or any(origin_matches(s.value, origin) for s in m.scopes)]
        if len(chapter) < 2:
            return of_origin
        found = self._by_chapter[(origin, chapter)] = [
            m for m in of_origin
            if (chapters := self._chapters[m.id]) is None or chapter in chapters]
        return found


def _chapters(scopes: list[Scope]) -> frozenset[str] | None:
    """The HTS chapters (two digits) some scope's products reach, or None for any chapter."""
    found: set[str] = set()
    for scope in scopes:
        for prefix in scope.products:
            if prefix == ALL or len(prefix) < 2:
                return None
            found.add(prefix[:2])
    return frozenset(found)


_CODES_KEPT = 4096
"""(origin, HTS code) pairs whose candidate measures each timeline index keeps."""
_INDEXES: OrderedDict[int, _Index] = OrderedDict()
_INDEXES_KEPT = 16


def _index_of(timeline: Timeline) -> _Index:
    # Keyed by the timeline's identity (a timeline is immutable; the index holds it, so its id
    # cannot be reused while the entry lives): a batch asks many questions of one fold.
    found = _INDEXES.get(id(timeline))
    if found is not None and found.timeline is timeline:
        _INDEXES.move_to_end(id(timeline))
        return found
    index = _INDEXES[id(timeline)] = _Index(timeline)
    if len(_INDEXES) > _INDEXES_KEPT:
        _INDEXES.popitem(last=False)
    return index


class _Question:
    """What of one question does not depend on the facts, worked out once for all its runs:
    the measures considered, the stacking rules in effect, and the timeline's index of
    exemptions and quotas."""

    def __init__(self, timeline: Timeline, origin: str, hts: str, at: datetime) -> None:
        self.origin, self.hts, self.at = origin, hts, at
        self._matches: dict[str, Match] = {}
        self._for: dict[str, list[tuple[ExemptionState, Match]]] = {}
        index = _index_of(timeline)
        self.considered = [w for m in index.measures_for(origin, hts)
                           if (w := _consider(m, origin, hts, at)) is not None]
        self.partly = any(w.partly for w in self.considered)
        """Whether a scope that bears on the answer covers only some codes under the one
        asked (set again by the runs, for exemptions and quotas)."""
        # Layers by what a selector can name, as positions (every run has the same layers).
        named: dict[tuple[str, str], list[int]] = {}
        for i, w in enumerate(self.considered):
            for key in (("m", w.measure.id), ("p", w.measure.program),
                        ("a", w.measure.authority)):
                named.setdefault(key, []).append(i)

        def positions(selector: Selector) -> tuple[int, ...]:
            # The layers a selector names, in layer order.
            return tuple(sorted({i for key in [*(("m", m) for m in selector.measures),
                                               *(("p", p) for p in selector.programs),
                                               *(("a", a) for a in selector.authorities)]
                                 for i in named.get(key, ())}))

        # Stacking rules in effect, each with the layers its two selectors name; a rule that
        # names no layer here cannot trigger.
        # Each with the events it cites (`RuleState.cited_at`).
        self.rules: list[tuple[RuleState, tuple[int, ...], tuple[int, ...], tuple[str, ...]]] = [
            (rule, when, positions(version.value.excludes), rule.cited_at(at))
            for rule in timeline.rules.values()
            if (version := paint_at(rule.versions, at)) is not None
            and version.value.in_effect and (when := positions(version.value.when))]
        self.exemptions = index.exemptions
        self.order = index.order
        self.quotas = index.quotas

    def exemptions_for(self, measure: MeasureState) -> list[tuple[ExemptionState, Match]]:
        """The exemptions in effect whose selector picks the measure and whose scope may cover
        the entry, with how it covers it, in timeline order."""
        known = self._for.get(measure.id)
        if known is not None:
            return known
        found = {e.id: e for key in (("m", measure.id), ("p", measure.program),
                                     ("a", measure.authority))
                 for e in self.exemptions.get(key, ())}
        out: list[tuple[ExemptionState, Match]] = []
        for exemption in sorted(found.values(), key=lambda e: self.order[e.id]):
            match = self._matches.get(exemption.id)
            if match is None:
                match = self._matches[exemption.id] = (
                    "no" if exemption.active_at(self.at) is None
                    else scope_matches(exemption.scope, self.origin, self.hts))
            if match != "no":
                out.append((exemption, match))
                self.partly = self.partly or match == "partly"
        self._for[measure.id] = out
        return out

    def fresh_layers(self) -> list[_Work]:
        """The measures considered, as new work for one run (runs change their work)."""
        return [_Work(w.measure, w.status, w.applied, w.reason, w.rate, list(w.event_ids))
                for w in self.considered]


def _apply_exemptions(
    work: _Work, question: _Question, origin: str, hts: str, at: datetime, facts: _Facts
) -> None:
    """Step 2: exemptions and quotas that change an in-force layer."""
    measure = work.measure
    for exemption, match in question.exemptions_for(measure):
        tests = [] if match == "yes" else [facts.test(
            f"{format_hts(hts)} is among the products of exemption {exemption.id}", None)]
        for condition in exemption.conditions:
            held = condition_holds(condition, facts.facts)
            # Words only for a condition not given: they name the assumption it needs.
            tests.append(held if held is not None else facts.test(condition.describe(), None))
        if not all(tests):
            continue
        work.event_ids.extend(exemption.cited_at(at))
        conditions = " and ".join(c.describe() for c in exemption.conditions)
        because = f"{exemption.title} (exemption {exemption.id}" + (
            f", as {conditions})" if conditions else ")")
        if exemption.rate is None:
            work.applied = False
            work.reason = f"exempt: {because}"
            return
        work.rate = exemption.rate
        work.reason = f"reduced rate: {because}"
    for quota in question.quotas.get(measure.id, ()):
        active = paint_at(quota.active, at)
        if active is None or not active.value:
            continue
        match = scope_matches(quota.scope, origin, hts)
        if match == "no":
            continue
        question.partly = question.partly or match == "partly"
        given = facts.facts.get("in_quota")
        in_quota = facts.test("in_quota = true", given if isinstance(given, bool) else None)
        percent = paint_at(quota.in_quota_percent, at)
        volume = paint_at(quota.volume, at)
        work.event_ids.extend(quota.cited_at(at))
        described = f"{quota.title} (quota {quota.id}, {volume.value if volume else '?'} a " \
                    f"{quota.period})"
        if in_quota and percent is not None and isinstance(percent.value, Decimal):
            work.rate = Rate(percent=percent.value)
            work.reason = f"in quota: {described}"
        elif quota.over_quota == "prohibited":
            work.reason = (f"over quota: entry not permitted above {described}; the rate "
                           "shown is the measure's, owed only if such goods were entered")
        else:
            work.reason = f"over quota: full rate beyond {described}"


def _apply_replacements_and_stacking(layers: list[_Work], question: _Question) -> None:
    """Steps 3 and 4: replacements within a program, then the stacking rules in effect."""
    for layer in layers:
        if layer.applied and layer.rate is not None and layer.rate.replaces:
            for other in layers:
                if other.applied and other.measure.id in layer.rate.replaces:
                    other.applied = False
                    other.reason = (f"replaced by {layer.measure.id} "
                                    f"({layer.measure.title})")
    for rule, when, excludes, cited in question.rules:
        triggers = [layers[i] for i in when if layers[i].applied]
        if not triggers:
            continue
        shares = [t.rate.content_fact for t in triggers
                  if t.rate is not None and t.rate.content_fact is not None]
        for other in (layers[i] for i in excludes):
            if other.applied and other not in triggers:
                other.event_ids.extend(cited)
                if rule.remainder and shares:
                    other.remainder_of = shares
                    other.reason = (f"on the remaining share only: {rule.description} (rule "
                                    f"{rule.id}; 1 - {' - '.join(shares)})")
                    continue
                other.applied = False
                other.reason = (f"not stacked: {rule.description} (rule {rule.id}, because "
                                f"{triggers[0].measure.id} applies)")


def _on_remainder(percent: Decimal, shares: list[str],
                  facts: Mapping[str, FactValue]) -> Decimal | None:
    """A layer charged on the value the content-based layers leave (None: a share not given)."""
    taken = Decimal(0)
    for name in shares:
        share = facts.get(name)
        if not isinstance(share, Decimal):
            return None
        taken += share
    return percent * max(Decimal(0), Decimal(1) - taken)


def _run(
    question: _Question, origin: str, hts: str, at: datetime, mfn: Decimal | None,
    facts: Mapping[str, FactValue], assume: Mapping[str, bool],
) -> _Run:
    known = _Facts(facts, assume)
    layers = question.fresh_layers()
    for work in layers:
        if work.applied:
            _apply_exemptions(work, question, origin, hts, at, known)
    _apply_replacements_and_stacking(layers, question)
    notes: list[str] = []
    total: Decimal | None = Decimal(0)
    for work, own in zip(layers, question.considered, strict=True):
        if work.rate is None:
            continue
        # An all-in ceiling put in place of the layer's own rate (an exemption) caps that rate;
        # it never raises it.
        work.percent = (capped_percent(work.rate, own.rate, mfn, known.facts)
                        if work.rate.kind == "ceiling" and work.rate is not own.rate
                        else layer_percent(work.rate, mfn, known.facts))
        if work.remainder_of and work.percent is not None:
            work.percent = _on_remainder(work.percent, work.remainder_of, known.facts)
        if not work.applied:
            continue
        if work.percent is None:
            total = None
            if work.rate.kind == "ceiling" and mfn is None:
                notes.append(f"{work.measure.id} is an all-in rate ({describe_rate(work.rate)}): "
                             "state the MFN rate (mfn) to compute it")
            else:
                share = work.rate.content_fact or " and ".join(work.remainder_of)
                notes.append(f"{work.measure.id} applies to a share of value that depends on "
                             f"{share}: state it as a fact")
        elif total is not None:
            total += work.percent
    return _Run(layers, known.missing, notes, total)


_REFS: OrderedDict[tuple[int, datetime, tuple[str, ...]],
                   tuple[PolicyEvent, EventRef]] = OrderedDict()
_REFS_KEPT = 8192


def event_ref(entry: Corrected) -> EventRef:
    """An event behind an answer, with its three clocks, corrections and sources."""
    # Keyed by the event's identity with what the entry adds to it (an event is immutable and
    # kept with its reference, so its id cannot be reused while cached): a batch cites the
    # same few events in every answer, and the read model hands each question the same
    # decoded events in entries of its own.
    key = (id(entry.event), entry.recorded_at, entry.corrected_by)
    found = _REFS.get(key)
    if found is not None and found[0] is entry.event:
        return found[1]
    ref = _REFS[key] = (entry.event, _event_ref(entry))
    if len(_REFS) > _REFS_KEPT:
        _REFS.popitem(last=False)
    return ref[1]


def _event_ref(entry: Corrected) -> EventRef:
    event = entry.event
    return EventRef(
        id=event.id,
        type=type(event).__name__,
        known=event.known.isoformat(),
        effective_from=getattr(event, "effective_from", None),
        effective_until=getattr(event, "effective_until", None),
        recorded=entry.recorded_at,
        corrected_by=entry.corrected_by,
        confidence=event.confidence,
        caveats=event.caveats,
        sources=event.sources,
    )


@dataclass
class _Outcome:
    """An answer's parts that depend on the code asked: the layers, the additional duty,
    notes and alternatives."""

    additional: Decimal | None
    layers: list[Layer]
    notes: list[str]
    alternatives: list[Alternative]

    def same_as(self) -> tuple[object, ...]:
        """What two statistical lines must share to answer alike."""
        return (self.additional, tuple(self.notes),
                tuple((a.additional, tuple(a.assumptions.items())) for a in self.alternatives),
                tuple((x.measure, x.status, x.rate, x.applied, x.reason,
                       tuple(e.id for e in x.events)) for x in self.layers))


def _started(
    timeline: Timeline, origin: str, hts: str, at: datetime, mfn: Decimal | None,
    facts: dict[str, FactValue],
) -> tuple[_Question, _Run]:
    """A question and its run with the facts as given (whether a scope that covers only part
    of the code bears on it is known from here: `question.partly`)."""
    question = _Question(timeline, origin, hts, at)
    return question, _run(question, origin, hts, at, mfn, facts, {})


def _outcome(
    question: _Question, base: _Run, entries: Mapping[str, Corrected], mfn: Decimal | None,
    facts: dict[str, FactValue],
) -> _Outcome:
    """The answer's parts for one started question: alternatives, layers and notes."""
    origin, hts, at = question.origin, question.hts, question.at
    notes = list(base.notes)
    alternatives: list[Alternative] = []
    if base.missing:
        keys = base.missing[:MAX_ASSUMPTIONS]
        totals: set[Decimal | None] = set()
        shapes: set[tuple[object, ...]] = set()
        for combo in itertools.product((True, False), repeat=len(keys)):
            assume = dict(zip(keys, combo, strict=True))
            # Assuming every missing fact false is what the base run did: reuse it.
            run = _run(question, origin, hts, at, mfn, facts, assume) if any(combo) else base
            totals.add(run.additional)
            shapes.add(tuple((w.measure.id, w.applied, w.percent) for w in run.layers))
            alternatives.append(Alternative(assumptions=assume, additional=run.additional))
        # The answer depends on the facts when the totals differ, or when a total is unknown (a
        # share not given) and the layers applied differ: equal unknowns must not hide that.
        depends = len(totals) > 1 or (None in totals and len(shapes) > 1)
        if depends:
            notes.append("the answer depends on facts not given: "
                         + "; ".join(base.missing)
                         + ". See alternatives; layers below assume each of them false")
        else:
            alternatives = []
        if len(base.missing) > MAX_ASSUMPTIONS:
            notes.append("further facts not given and not worked out: "
                         + "; ".join(base.missing[MAX_ASSUMPTIONS:]))
    additional = base.additional if not alternatives else None
    # A store-backed lookup fetches citations at once (a plain dict is tested first: a
    # protocol check is slow, and a batch asks it for every answer).
    if not isinstance(entries, dict) and isinstance(entries, Prefetching):
        entries.prefetch([eid for work in base.layers for eid in work.event_ids])
    layers = []
    for work in base.layers:
        refs = tuple(event_ref(entries[eid]) for eid in dict.fromkeys(work.event_ids)
                     if eid in entries)
        layers.append(Layer(
            measure=work.measure.id, title=work.measure.title,
            authority=work.measure.authority, program=work.measure.program,
            status=work.status, rate=work.percent if work.rate is not None else None,
            rate_rule=describe_rate(work.rate) if work.rate is not None else None,
            heading=work.rate.heading if work.rate is not None else None,
            applied=work.applied, reason=work.reason, events=refs,
        ))
    layers.sort(key=lambda layer: (not layer.applied, layer.authority, layer.measure))
    # A caveat speaks to the answer only through a layer that bears on it: one in force
    # (applied, exempted, replaced...) or paused; not an announcement never put in force.
    for layer in layers:
        if layer.status not in ("in_force", "paused") and not layer.applied:
            continue
        for event in layer.events:
            for caveat in event.caveats:
                note = f"{event.id} ({event.confidence}): {caveat}"
                if note not in notes:
                    notes.append(note)
    return _Outcome(additional, layers, notes, alternatives)


def _answered(
    timeline: Timeline, entries: Mapping[str, Corrected], origin: str, hts: str,
    at: datetime, mfn: Decimal | None, facts: dict[str, FactValue],
) -> _Outcome:
    return _outcome(*_started(timeline, origin, hts, at, mfn, facts), entries, mfn, facts)


def _by_line(
    timeline: Timeline, entries: Mapping[str, Corrected], origin: str, asked: str,
    lines: tuple[str, ...], at: datetime, mfn: Decimal | None, facts: dict[str, FactValue],
) -> _Outcome:
    """An 8-digit code's answer decided for each of its statistical lines: one answer when
    they all answer alike, else an alternative for each group of lines that does."""
    # One line of each group is asked for all (an 8-digit line may have dozens of suffixes).
    groups: dict[tuple[object, ...], tuple[list[str], _Outcome]] = {}
    for same in _index_of(timeline).alike(origin, asked, lines):
        outcome = _answered(timeline, entries, origin, same[0], at, mfn, facts)
        groups.setdefault(outcome.same_as(), ([], outcome))[0].extend(same)
    for codes, _ in groups.values():
        codes.sort()
    named = [(group_name(tuple(codes)), outcome) for codes, outcome in groups.values()]
    if len(named) == 1:
        name, outcome = named[0]
        said = (f"decided as its only statistical line, {name}" if len(lines) == 1 else
                f"decided line by line: all {len(lines)} ({name}) answer alike")
        return _Outcome(outcome.additional, outcome.layers, [
            f"a product list names statistical lines under {format_hts(asked)}: {said}",
            *outcome.notes], outcome.alternatives)
    alternatives: list[Alternative] = []
    for name, outcome in named:
        under = f"entered under {name}"
        for alternative in outcome.alternatives or [
                Alternative(assumptions={}, additional=outcome.additional)]:
            alternatives.append(Alternative(
                assumptions={under: True, **alternative.assumptions},
                additional=alternative.additional))
    first, chosen = named[0]
    notes = [f"the answer depends on the statistical line under {format_hts(asked)}, which "
             "product lists cover differently: " + "; ".join(name for name, _ in named)
             + f". See alternatives; layers below are those of {first}", *chosen.notes]
    for _, outcome in named[1:]:
        notes += [note for note in outcome.notes if note not in notes]
    return _Outcome(None, chosen.layers, notes, alternatives)


def rate_on(
    timeline: Timeline,
    entries: Mapping[str, Corrected],
    *,
    origin: str,
    hts: str,
    coordinate: Coordinate,
    mfn: Decimal | None = None,
    facts: Mapping[str, FactValue] | None = None,
) -> RateAnswer:
    """The additional duty on goods of an origin and HTS code entered at the coordinate, and
    with the nomenclature the HTS line, its MFN rate and the total."""
    facts = dict(facts or {})
    at = coordinate.effective
    found = classify(timeline.nomenclature, hts, at)
    if found is None:
        outcome = _answered(timeline, entries, origin, hts, at, mfn, facts)
        outcome.notes.append(NOT_CHECKED.format(code=format_hts(hts),
                                                known=describe_cutoff(coordinate.known)))
        return _answer(outcome, origin, hts, coordinate, mfn, facts)
    used, source, mfn_notes = hts_mfn(found, mfn)
    lines = found.split
    question, base = _started(timeline, origin, hts, at, used, facts)
    # The code's own outcome is worked out only when no scope covering part of it bears on
    # it; one may first bear on it in a run under an assumption, hence the second test.
    if lines and question.partly:
        outcome = _by_line(timeline, entries, origin, hts, lines, at, used, facts)
    else:
        outcome = _outcome(question, base, entries, used, facts)
        if lines and question.partly:
            outcome = _by_line(timeline, entries, origin, hts, lines, at, used, facts)
    outcome.notes += [*found.notes(), *mfn_notes]
    return _answer(outcome, origin, hts, coordinate, used, facts, found, source)


def _answer(outcome: _Outcome, origin: str, hts: str, coordinate: Coordinate,
            mfn: Decimal | None, facts: dict[str, FactValue],
            found: ClassifiedCode | None = None,
            mfn_source: MfnSource | None = None) -> RateAnswer:
    additional = outcome.additional
    total = additional + mfn if additional is not None and mfn is not None else None
    line = found.line if found is not None else None
    rated = found.rated if found is not None else None
    return RateAnswer(
        origin=origin, hts=format_hts(hts), entered=coordinate.effective,
        known=coordinate.known, recorded=coordinate.recorded, mfn=mfn, facts=facts,
        additional=additional, total=total, layers=tuple(outcome.layers),
        notes=tuple(outcome.notes), alternatives=tuple(outcome.alternatives),
        line=format_hts(line.code) if line is not None else None,
        description=line.description if line is not None else None,
        path=found.path if found is not None else (),
        revision=found.revision.revision if found is not None else None,
        revision_from=found.revision.effective_from if found is not None else None,
        mfn_source=mfn_source,
        mfn_general=rated.general if rated is not None else None,
    )
