"""The tariff timeline as a pure fold: ``evolve(state, event) -> state``.

Each event paints an attribute of a measure (status, rate, scope) over a half-open effective
interval. Events are folded in the order they became known, so a later announcement paints over
an earlier one on the interval it covers; retroactive actions simply paint the past. The fold
checks lifecycle invariants and raises :class:`LifecycleError` when an event breaks one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Generic, Literal, TypeVar

from domain.errors import LifecycleError, UnknownReference
from events import (
    Condition,
    CourtRuled,
    DealAnnounced,
    DealImplemented,
    EventCorrected,
    EventRetracted,
    ExemptionGranted,
    ExemptionRevoked,
    MeasureAnnounced,
    MeasureImposed,
    MeasureInvalidated,
    MeasurePaused,
    MeasureResumed,
    MeasureRevoked,
    PauseExtended,
    PolicyEvent,
    QuotaChanged,
    QuotaOpened,
    Rate,
    RateChanged,
    Scope,
    ScopeAmended,
    Selector,
    StackingRuleChanged,
    StackingRuleSet,
)

T = TypeVar("T")

Status = Literal[
    "in_force", "paused", "revoked", "expired", "superseded", "collection_ended", "invalidated"
]
ENDED: frozenset[str] = frozenset(
    {"revoked", "expired", "superseded", "collection_ended", "invalidated"}
)


@dataclass(frozen=True)
class Paint(Generic[T]):
    """A value that holds over [start, end) because of one event."""

    start: datetime
    end: datetime | None
    value: T
    event_id: str

    def covers(self, at: datetime) -> bool:
        """Whether the instant falls inside this interval."""
        return self.start <= at and (self.end is None or at < self.end)


def paint_at(paints: tuple[Paint[T], ...], at: datetime) -> Paint[T] | None:
    """The topmost paint covering an instant (the latest-known event wins)."""
    for paint in reversed(paints):
        if paint.covers(at):
            return paint
    return None


@dataclass(frozen=True)
class Announcement:
    """A measure or change that was announced but is not (yet) in force."""

    event_id: str
    stage: str
    scope: Scope
    rate: Rate | None
    planned_from: datetime | None


@dataclass(frozen=True)
class MeasureState:
    """One layer of duty under one authority, with its painted lifecycle."""

    id: str
    title: str
    authority: str
    program: str
    imposed: bool = False
    announcements: tuple[Announcement, ...] = ()
    statuses: tuple[Paint[Status], ...] = ()
    rates: tuple[Paint[Rate], ...] = ()
    scopes: tuple[Paint[Scope], ...] = ()
    pauses: tuple[Paint[str], ...] = ()
    event_ids: tuple[str, ...] = ()

    def status_at(self, at: datetime) -> Paint[Status] | None:
        """The lifecycle status at an effective instant (None before it starts)."""
        return paint_at(self.statuses, at)

    def rate_at(self, at: datetime) -> Paint[Rate] | None:
        """The rate at an effective instant."""
        return paint_at(self.rates, at)

    def scope_at(self, at: datetime) -> Paint[Scope] | None:
        """The scope at an effective instant."""
        return paint_at(self.scopes, at)

    def starts(self) -> datetime | None:
        """The earliest instant it is in force."""
        starts = [p.start for p in self.statuses if p.value == "in_force"]
        return min(starts) if starts else None

    def touched_by(self, event_id: str) -> MeasureState:
        """The same measure, remembering one more event that touched it."""
        return replace(self, event_ids=(*self.event_ids, event_id))


@dataclass(frozen=True)
class ExemptionState:
    """A carve-out from measures, possibly conditional or at a reduced rate."""

    id: str
    title: str
    applies_to: Selector
    scope: Scope
    conditions: tuple[Condition, ...]
    rate: Rate | None
    active: tuple[Paint[bool], ...]
    event_ids: tuple[str, ...]

    def active_at(self, at: datetime) -> Paint[bool] | None:
        """The paint that says whether it is in effect at an instant."""
        paint = paint_at(self.active, at)
        return paint if paint is not None and paint.value else None


@dataclass(frozen=True)
class QuotaState:
    """A tariff-rate or absolute quota on goods under one measure."""

    id: str
    title: str
    measure: str
    scope: Scope
    over_quota: str
    period: str
    active: tuple[Paint[bool], ...]
    in_quota_percent: tuple[Paint[Decimal], ...]
    volume: tuple[Paint[str], ...]
    event_ids: tuple[str, ...]


@dataclass(frozen=True)
class RuleState:
    """A stacking rule: while `when` applies, `excludes` does not."""

    id: str
    description: str
    versions: tuple[Paint[tuple[bool, Selector, Selector]], ...]
    event_ids: tuple[str, ...]
    remainder: bool = False


@dataclass(frozen=True)
class DealState:
    """An agreement with partners and the steps implemented so far."""

    id: str
    title: str
    partners: Scope
    terms: str
    steps: tuple[Paint[str], ...] = ()
    event_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class Timeline:
    """Everything known about US tariff policy after folding some events."""

    measures: Mapping[str, MeasureState] = field(default_factory=dict)
    exemptions: Mapping[str, ExemptionState] = field(default_factory=dict)
    quotas: Mapping[str, QuotaState] = field(default_factory=dict)
    rules: Mapping[str, RuleState] = field(default_factory=dict)
    deals: Mapping[str, DealState] = field(default_factory=dict)
    rulings: Mapping[str, CourtRuled] = field(default_factory=dict)
    folded: int = 0


# ---------------------------------------------------------------- the fold


@dataclass
class _Draft:
    """A private, mutable copy of a timeline's maps that a fold writes into.

    Copying every map on every event made a fold O(events x measures); a fold now copies the
    maps once, replaces entries in place, and freezes the result. The states it starts from are
    never changed, so evolve and fold are still pure from the outside.
    """

    measures: dict[str, MeasureState]
    exemptions: dict[str, ExemptionState]
    quotas: dict[str, QuotaState]
    rules: dict[str, RuleState]
    deals: dict[str, DealState]
    rulings: dict[str, CourtRuled]

    @classmethod
    def of(cls, state: Timeline) -> _Draft:
        return cls(dict(state.measures), dict(state.exemptions), dict(state.quotas),
                   dict(state.rules), dict(state.deals), dict(state.rulings))

    def freeze(self, folded: int) -> Timeline:
        return Timeline(self.measures, self.exemptions, self.quotas, self.rules, self.deals,
                        self.rulings, folded)


def _measure(state: _Draft, event: PolicyEvent, measure_id: str) -> MeasureState:
    measure = state.measures.get(measure_id)
    if measure is None:
        raise UnknownReference(event.id, "measure", f"no measure {measure_id!r} is known")
    if not measure.imposed:
        raise LifecycleError(
            event.id, "measure", f"measure {measure_id!r} was announced but never imposed"
        )
    return measure


def _check_not_ended(event: PolicyEvent, measure: MeasureState, at: datetime, verb: str) -> None:
    status = measure.status_at(at)
    if status is not None and status.value in ENDED:
        raise LifecycleError(
            event.id,
            "measure",
            f"cannot {verb} measure {measure.id!r}: it is {status.value} at {at.isoformat()} "
            f"(event {status.event_id!r})",
        )


def _check_selector(event: PolicyEvent, state: _Draft, selector: Selector, name: str,
                    strict: bool) -> None:
    if not strict:
        return
    for measure_id in selector.measures:
        if measure_id not in state.measures:
            raise UnknownReference(event.id, name, f"no measure {measure_id!r} is known")


def evolve(state: Timeline, event: PolicyEvent, strict: bool = True) -> Timeline:
    """The timeline after one more event (pure; raises LifecycleError on a broken invariant).

    With strict=False, references to other subjects (the measure an exemption names, the
    ruling an invalidation cites) are not checked: for folding one subject's events alone,
    after the whole history has been validated.
    """
    draft = _Draft.of(state)
    _evolve(draft, event, strict)
    return draft.freeze(state.folded + 1)


def fold(events: Iterable[PolicyEvent], state: Timeline | None = None,
         strict: bool = True) -> Timeline:
    """The timeline after events, folded in the order given (the same as evolving one by one).

    The given state is left untouched: the fold writes into a copy of its maps, made once.
    """
    start = state if state is not None else Timeline()
    draft = _Draft.of(start)
    folded = start.folded
    for event in events:
        _evolve(draft, event, strict)
        folded += 1
    return draft.freeze(folded)


def _evolve(state: _Draft, event: PolicyEvent, strict: bool) -> None:
    """Apply one event to the draft in place (raises LifecycleError on a broken invariant)."""
    eid = event.id
    if isinstance(event, MeasureAnnounced):
        existing = state.measures.get(event.measure)
        announcement = Announcement(eid, event.stage, event.scope, event.rate, event.planned_from)
        if existing is None:
            existing = MeasureState(
                id=event.measure, title=event.title, authority=event.authority,
                program=event.program,
            )
        measure = replace(existing, announcements=(*existing.announcements, announcement))
        state.measures[event.measure] = measure.touched_by(eid)
        return

    if isinstance(event, MeasureImposed):
        existing = state.measures.get(event.measure)
        if existing is not None and existing.imposed:
            raise LifecycleError(
                eid, "measure",
                f"measure {event.measure!r} is already imposed; change it with RateChanged, "
                "ScopeAmended, MeasurePaused or MeasureRevoked",
            )
        base = existing or MeasureState(
            id=event.measure, title=event.title, authority=event.authority, program=event.program
        )
        start, end = event.effective_from, event.effective_until
        statuses: tuple[Paint[Status], ...] = (Paint(start, end, "in_force", eid),)
        if end is not None:
            statuses += (Paint(end, None, "expired", eid),)
        measure = replace(
            base, title=event.title, authority=event.authority, program=event.program,
            imposed=True, statuses=statuses, rates=(Paint(start, end, event.rate, eid),),
            scopes=(Paint(start, end, event.scope, eid),),
        )
        state.measures[event.measure] = measure.touched_by(eid)
        return

    if isinstance(event, RateChanged | ScopeAmended):
        measure = _measure(state, event, event.measure)
        start = event.effective_from
        status = measure.status_at(start)
        _check_not_ended(event, measure, start, "change")
        if status is None:
            raise LifecycleError(eid, "effective_from",
                                 f"measure {measure.id!r} is not in force at {start.isoformat()}")
        if isinstance(event, RateChanged):
            measure = replace(measure, rates=(*measure.rates,
                              Paint(start, event.effective_until, event.rate, eid)))
        else:
            measure = replace(measure, scopes=(*measure.scopes,
                              Paint(start, event.effective_until, event.scope, eid)))
        state.measures[measure.id] = measure.touched_by(eid)
        return

    if isinstance(event, MeasurePaused):
        measure = _measure(state, event, event.measure)
        start = event.effective_from
        _check_not_ended(event, measure, start, "pause")
        status = measure.status_at(start)
        if status is None:
            raise LifecycleError(eid, "effective_from",
                                 f"measure {measure.id!r} is not in force at {start.isoformat()}")
        if status.value == "paused":
            raise LifecycleError(eid, "effective_from",
                                 f"measure {measure.id!r} is already paused at "
                                 f"{start.isoformat()} (event {status.event_id!r})")
        pause: Paint[str] = Paint(start, event.effective_until, eid, eid)
        measure = replace(
            measure,
            statuses=(*measure.statuses, Paint(start, event.effective_until, "paused", eid)),
            pauses=(*measure.pauses, pause),
        )
        state.measures[measure.id] = measure.touched_by(eid)
        return

    if isinstance(event, PauseExtended):
        measure = _measure(state, event, event.measure)
        if not measure.pauses:
            raise LifecycleError(eid, "measure",
                                 f"measure {measure.id!r} has no pause to extend")
        last = measure.pauses[-1]
        if last.end is None:
            raise LifecycleError(eid, "effective_until",
                                 f"the pause {last.event_id!r} has no end to extend")
        if event.effective_until <= last.end:
            raise LifecycleError(
                eid, "effective_until",
                f"{event.effective_until.isoformat()} is not after the current end of the pause "
                f"({last.end.isoformat()})",
            )
        _check_not_ended(event, measure, last.end, "extend the pause of")
        extended: Paint[str] = Paint(last.start, event.effective_until, last.value, eid)
        measure = replace(
            measure,
            statuses=(*measure.statuses, Paint(last.end, event.effective_until, "paused", eid)),
            pauses=(*measure.pauses[:-1], extended),
        )
        state.measures[measure.id] = measure.touched_by(eid)
        return

    if isinstance(event, MeasureResumed):
        measure = _measure(state, event, event.measure)
        at = event.effective_from
        covering = paint_at(measure.pauses, at)
        status = measure.status_at(at)
        if covering is None or status is None or status.value != "paused":
            raise LifecycleError(eid, "effective_from",
                                 f"measure {measure.id!r} is not paused at {at.isoformat()}")
        measure = replace(
            measure,
            statuses=(*measure.statuses, Paint(at, covering.end, "in_force", eid)),
            pauses=(*measure.pauses, Paint(covering.start, at, covering.value, eid)),
        )
        state.measures[measure.id] = measure.touched_by(eid)
        return

    if isinstance(event, MeasureRevoked | MeasureInvalidated):
        measure = _measure(state, event, event.measure)
        at = event.effective_from
        verb = "revoke" if isinstance(event, MeasureRevoked) else "invalidate"
        _check_not_ended(event, measure, at, verb)
        value: Status
        if isinstance(event, MeasureInvalidated):
            if strict and event.ruling not in state.rulings:
                raise UnknownReference(eid, "ruling", f"no court ruling {event.ruling!r} is known")
            value = "invalidated"
        else:
            value = event.reason
        measure = replace(measure, statuses=(*measure.statuses, Paint(at, None, value, eid)))
        state.measures[measure.id] = measure.touched_by(eid)
        return

    if isinstance(event, ExemptionGranted):
        if event.exemption in state.exemptions:
            raise LifecycleError(eid, "exemption",
                                 f"exemption {event.exemption!r} already exists")
        _check_selector(event, state, event.applies_to, "applies_to", strict)
        exemption = ExemptionState(
            id=event.exemption, title=event.title, applies_to=event.applies_to,
            scope=event.scope, conditions=event.conditions, rate=event.rate,
            active=(Paint(event.effective_from, event.effective_until, True, eid),),
            event_ids=(eid,),
        )
        state.exemptions[exemption.id] = exemption
        return

    if isinstance(event, ExemptionRevoked):
        found = state.exemptions.get(event.exemption)
        if found is None:
            raise UnknownReference(eid, "exemption", f"no exemption {event.exemption!r} is known")
        if found.active_at(event.effective_from) is None:
            raise LifecycleError(eid, "effective_from",
                                 f"exemption {found.id!r} is not in effect at "
                                 f"{event.effective_from.isoformat()}")
        ended = Paint(event.effective_from, None, False, eid)
        found = replace(found, active=(*found.active, ended), event_ids=(*found.event_ids, eid))
        state.exemptions[found.id] = found
        return

    if isinstance(event, QuotaOpened):
        if event.quota in state.quotas:
            raise LifecycleError(eid, "quota", f"quota {event.quota!r} already exists")
        if strict:
            _measure(state, event, event.measure)
        start, end = event.effective_from, event.effective_until
        quota = QuotaState(
            id=event.quota, title=event.title, measure=event.measure, scope=event.scope,
            over_quota=event.over_quota, period=event.period,
            active=(Paint(start, end, True, eid),),
            in_quota_percent=(Paint(start, end, event.in_quota_percent, eid),),
            volume=(Paint(start, end, event.volume, eid),), event_ids=(eid,),
        )
        state.quotas[quota.id] = quota
        return

    if isinstance(event, QuotaChanged):
        found_quota = state.quotas.get(event.quota)
        if found_quota is None:
            raise UnknownReference(eid, "quota", f"no quota {event.quota!r} is known")
        at = event.effective_from
        current = paint_at(found_quota.active, at)
        if current is None or not current.value:
            raise LifecycleError(eid, "effective_from",
                                 f"quota {found_quota.id!r} is not open at {at.isoformat()}")
        end = current.end
        if event.closed:
            found_quota = replace(found_quota,
                                  active=(*found_quota.active, Paint(at, None, False, eid)))
        if event.in_quota_percent is not None:
            found_quota = replace(found_quota, in_quota_percent=(
                *found_quota.in_quota_percent, Paint(at, end, event.in_quota_percent, eid)))
        if event.volume is not None:
            found_quota = replace(found_quota,
                                  volume=(*found_quota.volume, Paint(at, end, event.volume, eid)))
        found_quota = replace(found_quota, event_ids=(*found_quota.event_ids, eid))
        state.quotas[found_quota.id] = found_quota
        return

    if isinstance(event, DealAnnounced):
        if event.deal in state.deals:
            raise LifecycleError(eid, "deal", f"deal {event.deal!r} already exists")
        deal = DealState(event.deal, event.title, event.partners, event.terms, (), (eid,))
        state.deals[deal.id] = deal
        return

    if isinstance(event, DealImplemented):
        found_deal = state.deals.get(event.deal)
        if found_deal is None:
            raise UnknownReference(eid, "deal", f"no deal {event.deal!r} is known")
        found_deal = replace(
            found_deal,
            steps=(*found_deal.steps, Paint(event.effective_from, None, event.step, eid)),
            event_ids=(*found_deal.event_ids, eid),
        )
        state.deals[found_deal.id] = found_deal
        return

    if isinstance(event, StackingRuleSet):
        if event.rule in state.rules:
            raise LifecycleError(eid, "rule", f"stacking rule {event.rule!r} already exists")
        _check_selector(event, state, event.when, "when", strict)
        _check_selector(event, state, event.excludes, "excludes", strict)
        rule = RuleState(
            event.rule, event.description,
            (Paint(event.effective_from, event.effective_until,
                   (True, event.when, event.excludes), eid),),
            (eid,), event.remainder,
        )
        state.rules[rule.id] = rule
        return

    if isinstance(event, StackingRuleChanged):
        found_rule = state.rules.get(event.rule)
        if found_rule is None:
            raise UnknownReference(eid, "rule", f"no stacking rule {event.rule!r} is known")
        latest = found_rule.versions[-1].value
        when = event.when or latest[1]
        excludes = event.excludes or latest[2]
        _check_selector(event, state, when, "when", strict)
        _check_selector(event, state, excludes, "excludes", strict)
        found_rule = replace(
            found_rule,
            versions=(*found_rule.versions, Paint(event.effective_from, event.effective_until,
                                                  (event.in_effect, when, excludes), eid)),
            event_ids=(*found_rule.event_ids, eid),
        )
        state.rules[found_rule.id] = found_rule
        return

    if isinstance(event, CourtRuled):
        if event.ruling in state.rulings:
            raise LifecycleError(eid, "ruling", f"court ruling {event.ruling!r} already exists")
        for measure_id in event.measures if strict else ():
            if measure_id not in state.measures:
                raise UnknownReference(eid, "measures", f"no measure {measure_id!r} is known")
        state.rulings[event.ruling] = event
        return

    if isinstance(event, EventCorrected | EventRetracted):
        # Corrections rewrite the log before the fold (see projections.replay); by the time
        # events are folded, the corrected content has taken the place of the original.
        return

    raise LifecycleError(eid, "type", f"no rule to fold events of type {type(event).__name__}")
