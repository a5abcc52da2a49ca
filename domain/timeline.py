"""The tariff timeline as a pure fold: ``evolve(state, event) -> state``.

Each event paints an attribute of a measure (status, rate, scope) over a half-open effective
interval. Events are folded in the order they became known, so a later announcement paints over
an earlier one on the interval it covers; retroactive actions simply paint the past. The fold
checks lifecycle invariants and raises :class:`LifecycleError` when an event breaks one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from functools import singledispatch
from typing import TypeVar

from tariff_timeline.domain.errors import LifecycleError, UnknownReference
from tariff_timeline.domain.nomenclature import ChapterState, Nomenclature, revise
from tariff_timeline.domain.paint import visible_with
from tariff_timeline.domain.state import (
    ENDED,
    Announcement,
    DealState,
    ExemptionState,
    MeasureState,
    Paint,
    QuotaState,
    RuleState,
    RuleVersion,
    Status,
    Timeline,
    paint_at,
)
from tariff_timeline.events import (
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
    NomenclatureRevised,
    PauseExtended,
    PolicyEvent,
    QuotaChanged,
    QuotaOpened,
    RateChanged,
    ScopeAmended,
    Selector,
    StackingRuleChanged,
    StackingRuleSet,
)

__all__ = [
    "ENDED",
    "Announcement",
    "DealState",
    "ExemptionState",
    "MeasureState",
    "Nomenclature",
    "Paint",
    "QuotaState",
    "RuleState",
    "RuleVersion",
    "Status",
    "Timeline",
    "evolve",
    "fold",
    "handles",
    "paint_at",
]


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
    chapters: dict[str, ChapterState]

    @classmethod
    def of(cls, state: Timeline) -> _Draft:
        return cls(dict(state.measures), dict(state.exemptions), dict(state.quotas),
                   dict(state.rules), dict(state.deals), dict(state.rulings),
                   dict(state.nomenclature.chapters))

    def freeze(self, folded: int) -> Timeline:
        return Timeline(self.measures, self.exemptions, self.quotas, self.rules, self.deals,
                        self.rulings, folded, Nomenclature(self.chapters))


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
    _fold_one.dispatch(type(event))(state, event, strict)


# ---------------------------------------------------------------- one handler per event type

_E = TypeVar("_E", bound=PolicyEvent)
_Handler = Callable[[_Draft, _E, bool], None]


def _refuse(state: _Draft, event: PolicyEvent, strict: bool) -> None:
    """An event of a type the fold has no handler for."""
    # Skipping it would quietly leave a policy action out of every answer.
    raise LifecycleError(event.id, "type",
                         f"no rule to fold events of type {type(event).__name__}")


# singledispatch looks handlers up along the event class's MRO, so a subclass of an event type
# folds like its parent, as the isinstance checks this replaced did.
_fold_one = singledispatch(_refuse)


def _folds(event_type: type[_E]) -> Callable[[_Handler[_E]], _Handler[_E]]:
    """Register the decorated function as the fold's handler for events of one type."""
    def register(handler: _Handler[_E]) -> _Handler[_E]:
        _fold_one.register(event_type, handler)
        return handler
    return register


def handles(event_type: type[PolicyEvent]) -> bool:
    """Whether the fold has a handler for events of this type (it refuses any other)."""
    return _fold_one.dispatch(event_type) is not _refuse


@_folds(MeasureAnnounced)
def _measure_announced(state: _Draft, event: MeasureAnnounced, strict: bool) -> None:
    """A measure was announced or planned; it does not apply until it is imposed."""
    eid = event.id
    existing = state.measures.get(event.measure)
    announcement = Announcement(eid, event.stage, event.scope, event.rate, event.planned_from)
    if existing is None:
        existing = MeasureState(
            id=event.measure, title=event.title, authority=event.authority,
            program=event.program,
        )
    state.measures[event.measure] = existing.touched_by(
        eid, announcements=(*existing.announcements, announcement))


@_folds(MeasureImposed)
def _measure_imposed(state: _Draft, event: MeasureImposed, strict: bool) -> None:
    """A measure came into force at a rate over a scope, possibly until a set end."""
    eid = event.id
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
    state.measures[event.measure] = base.touched_by(
        eid, title=event.title, authority=event.authority, program=event.program,
        imposed=True, statuses=statuses, rates=(Paint(start, end, event.rate, eid),),
        scopes=(Paint(start, end, event.scope, eid),))


def _changeable(state: _Draft, event: RateChanged | ScopeAmended) -> MeasureState:
    """The measure a rate change or scope amendment names, once it may be changed then."""
    measure = _measure(state, event, event.measure)
    start = event.effective_from
    status = measure.status_at(start)
    _check_not_ended(event, measure, start, "change")
    if status is None:
        raise LifecycleError(event.id, "effective_from",
                             f"measure {measure.id!r} is not in force at {start.isoformat()}")
    return measure


@_folds(RateChanged)
def _rate_changed(state: _Draft, event: RateChanged, strict: bool) -> None:
    """A measure's rate changed from a date on, possibly only for a while."""
    measure = _changeable(state, event)
    rate = Paint(event.effective_from, event.effective_until, event.rate, event.id)
    state.measures[measure.id] = measure.touched_by(event.id, rates=(*measure.rates, rate))


@_folds(ScopeAmended)
def _scope_amended(state: _Draft, event: ScopeAmended, strict: bool) -> None:
    """A measure's origins or products changed from a date on, possibly only for a while."""
    measure = _changeable(state, event)
    scope = Paint(event.effective_from, event.effective_until, event.scope, event.id)
    state.measures[measure.id] = measure.touched_by(event.id, scopes=(*measure.scopes, scope))


@_folds(MeasurePaused)
def _measure_paused(state: _Draft, event: MeasurePaused, strict: bool) -> None:
    """A measure in force stopped being collected for a while (or until resumed)."""
    eid = event.id
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
    state.measures[measure.id] = measure.touched_by(
        eid, statuses=(*measure.statuses, Paint(start, event.effective_until, "paused", eid)),
        pauses=(*measure.pauses, pause))


@_folds(PauseExtended)
def _pause_extended(state: _Draft, event: PauseExtended, strict: bool) -> None:
    """A measure's latest pause was made to last longer."""
    eid = event.id
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
    state.measures[measure.id] = measure.touched_by(
        eid, statuses=(*measure.statuses, Paint(last.end, event.effective_until, "paused", eid)),
        pauses=(*measure.pauses[:-1], extended))


@_folds(MeasureResumed)
def _measure_resumed(state: _Draft, event: MeasureResumed, strict: bool) -> None:
    """A paused measure is collected again before its pause was due to end."""
    eid = event.id
    measure = _measure(state, event, event.measure)
    at = event.effective_from
    covering = paint_at(measure.pauses, at)
    status = measure.status_at(at)
    if covering is None or status is None or status.value != "paused":
        raise LifecycleError(eid, "effective_from",
                             f"measure {measure.id!r} is not paused at {at.isoformat()}")
    state.measures[measure.id] = measure.touched_by(
        eid, statuses=(*measure.statuses, Paint(at, covering.end, "in_force", eid)),
        pauses=(*measure.pauses, Paint(covering.start, at, covering.value, eid)))


def _end_measure(state: _Draft, measure: MeasureState, event: PolicyEvent, at: datetime,
                 value: Status) -> None:
    """Paint a measure's status as ended (`value`) from an instant on, for good."""
    state.measures[measure.id] = measure.touched_by(
        event.id, statuses=(*measure.statuses, Paint(at, None, value, event.id)))


@_folds(MeasureRevoked)
def _measure_revoked(state: _Draft, event: MeasureRevoked, strict: bool) -> None:
    """A measure was revoked, expired or superseded from a date on."""
    measure = _measure(state, event, event.measure)
    _check_not_ended(event, measure, event.effective_from, "revoke")
    _end_measure(state, measure, event, event.effective_from, event.reason)


@_folds(MeasureInvalidated)
def _measure_invalidated(state: _Draft, event: MeasureInvalidated, strict: bool) -> None:
    """A court held a measure unlawful and its collection ended from a date on."""
    measure = _measure(state, event, event.measure)
    _check_not_ended(event, measure, event.effective_from, "invalidate")
    if strict and event.ruling not in state.rulings:
        raise UnknownReference(event.id, "ruling", f"no court ruling {event.ruling!r} is known")
    _end_measure(state, measure, event, event.effective_from, "invalidated")


@_folds(ExemptionGranted)
def _exemption_granted(state: _Draft, event: ExemptionGranted, strict: bool) -> None:
    """Goods were carved out of some measures, possibly on conditions or at a reduced rate."""
    eid = event.id
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


@_folds(ExemptionRevoked)
def _exemption_revoked(state: _Draft, event: ExemptionRevoked, strict: bool) -> None:
    """An exemption in effect stopped applying from a date on."""
    eid = event.id
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


@_folds(QuotaOpened)
def _quota_opened(state: _Draft, event: QuotaOpened, strict: bool) -> None:
    """A quota opened on goods under a measure: a lower in-quota rate up to a volume."""
    eid = event.id
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


@_folds(QuotaChanged)
def _quota_changed(state: _Draft, event: QuotaChanged, strict: bool) -> None:
    """An open quota's in-quota rate or volume changed, or it closed, from a date on."""
    eid = event.id
    found = state.quotas.get(event.quota)
    if found is None:
        raise UnknownReference(eid, "quota", f"no quota {event.quota!r} is known")
    at = event.effective_from
    current = paint_at(found.active, at)
    if current is None or not current.value:
        raise LifecycleError(eid, "effective_from",
                             f"quota {found.id!r} is not open at {at.isoformat()}")
    end = current.end
    if event.closed:
        found = replace(found, active=(*found.active, Paint(at, None, False, eid)))
    if event.in_quota_percent is not None:
        found = replace(found, in_quota_percent=(
            *found.in_quota_percent, Paint(at, end, event.in_quota_percent, eid)))
    if event.volume is not None:
        found = replace(found, volume=(*found.volume, Paint(at, end, event.volume, eid)))
    found = replace(found, event_ids=(*found.event_ids, eid))
    state.quotas[found.id] = found


@_folds(DealAnnounced)
def _deal_announced(state: _Draft, event: DealAnnounced, strict: bool) -> None:
    """An agreement with trading partners was announced, its terms still to be implemented."""
    eid = event.id
    if event.deal in state.deals:
        raise LifecycleError(eid, "deal", f"deal {event.deal!r} already exists")
    deal = DealState(event.deal, event.title, event.partners, event.terms, (), (eid,))
    state.deals[deal.id] = deal


@_folds(DealImplemented)
def _deal_implemented(state: _Draft, event: DealImplemented, strict: bool) -> None:
    """One step of an announced deal took effect."""
    eid = event.id
    found = state.deals.get(event.deal)
    if found is None:
        raise UnknownReference(eid, "deal", f"no deal {event.deal!r} is known")
    found = replace(
        found,
        steps=(*found.steps, Paint(event.effective_from, None, event.step, eid)),
        event_ids=(*found.event_ids, eid),
    )
    state.deals[found.id] = found


@_folds(StackingRuleSet)
def _stacking_rule_set(state: _Draft, event: StackingRuleSet, strict: bool) -> None:
    """A stacking rule was made: while measures matching `when` apply, `excludes` do not."""
    eid = event.id
    if event.rule in state.rules:
        raise LifecycleError(eid, "rule", f"stacking rule {event.rule!r} already exists")
    _check_selector(event, state, event.when, "when", strict)
    _check_selector(event, state, event.excludes, "excludes", strict)
    rule = RuleState(
        event.rule, event.description,
        (Paint(event.effective_from, event.effective_until,
               RuleVersion(True, event.when, event.excludes), eid),),
        (eid,), event.remainder,
    )
    state.rules[rule.id] = rule


@_folds(StackingRuleChanged)
def _stacking_rule_changed(state: _Draft, event: StackingRuleChanged, strict: bool) -> None:
    """A stacking rule got new selectors, or was suspended, over an interval."""
    eid = event.id
    found = state.rules.get(event.rule)
    if found is None:
        raise UnknownReference(eid, "rule", f"no stacking rule {event.rule!r} is known")
    # A change names only the selectors it replaces; the others carry over from the latest
    # version (latest known, which need not be the latest in effective time).
    latest = found.versions[-1].value
    when = event.when or latest.when
    excludes = event.excludes or latest.excludes
    _check_selector(event, state, when, "when", strict)
    _check_selector(event, state, excludes, "excludes", strict)
    # Versions wholly covered by later ones are dropped: no date can show them again, and a
    # rule changed thousands of times would otherwise carry every change in its state. The
    # rule's versions are all visible already (each change keeps only those).
    found = replace(
        found,
        versions=visible_with(found.versions, Paint(event.effective_from, event.effective_until,
                                                    RuleVersion(event.in_effect, when, excludes),
                                                    eid)),
        event_ids=(*found.event_ids, eid),
    )
    state.rules[found.id] = found


@_folds(CourtRuled)
def _court_ruled(state: _Draft, event: CourtRuled, strict: bool) -> None:
    """A court ruled on measures; an invalidation cites the ruling it follows."""
    eid = event.id
    if event.ruling in state.rulings:
        raise LifecycleError(eid, "ruling", f"court ruling {event.ruling!r} already exists")
    for measure_id in event.measures if strict else ():
        if measure_id not in state.measures:
            raise UnknownReference(eid, "measures", f"no measure {measure_id!r} is known")
    state.rulings[event.ruling] = event


@_folds(NomenclatureRevised)
def _nomenclature_revised(state: _Draft, event: NomenclatureRevised, strict: bool) -> None:
    """A USITC revision added, changed or removed lines of one HTS chapter from a date on."""
    # Only this chapter's map is copied: the others are shared with the state folded before.
    state.chapters[event.chapter] = revise(state.chapters.get(event.chapter), event)


# Corrections and retractions rewrite the log before the fold (see projections.replay); by the
# time events are folded, the corrected content has taken the place of the original, so these
# leave the timeline as it is.


@_folds(EventCorrected)
def _event_corrected(state: _Draft, event: EventCorrected, strict: bool) -> None:
    """An earlier event of the log was replaced by corrected content."""


@_folds(EventRetracted)
def _event_retracted(state: _Draft, event: EventRetracted, strict: bool) -> None:
    """An earlier event of the log was withdrawn as never having happened."""
