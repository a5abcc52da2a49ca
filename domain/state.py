"""The state the fold builds: each measure's paints over effective time (status, rate, scope,
pause), exemptions, quotas, stacking rules, deals, rulings and the HTS nomenclature, as known
after some events."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal, NamedTuple

from tariff_timeline.domain.errors import StoreError
from tariff_timeline.domain.nomenclature import Nomenclature
from tariff_timeline.domain.paint import (
    NOT_READ,
    Stretch,
    joint_stretch,
    painted_by,
    stretch_around,
)
from tariff_timeline.domain.paint import Paint as Paint
from tariff_timeline.domain.paint import paint_at as paint_at
from tariff_timeline.events import Condition, CourtRuled, Rate, Scope, Selector

Status = Literal[
    "in_force", "paused", "revoked", "expired", "superseded", "collection_ended", "invalidated"
]
ENDED: frozenset[str] = frozenset(
    {"revoked", "expired", "superseded", "collection_ended", "invalidated"}
)


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
    stretch: Stretch | None = None
    """Only in a state cut at one instant (the read model's, see `stretch_at`): the stretch
    of its row there, or, not yet in force there, the one its row will hold from its
    start (`schedule.scheduled_from`), which the paints such a state keeps cannot tell
    (`NOT_READ` when the question cut for shows none)."""

    def status_at(self, at: datetime) -> Paint[Status] | None:
        """The lifecycle status at an effective instant (None before it starts)."""
        return paint_at(self.statuses, at)

    def rate_at(self, at: datetime) -> Paint[Rate] | None:
        """The rate at an effective instant."""
        return paint_at(self.rates, at)

    def scope_at(self, at: datetime) -> Paint[Scope] | None:
        """The scope at an effective instant."""
        return paint_at(self.scopes, at)

    def stretch_at(self, effective: datetime) -> Stretch | None:
        """Since when and until when what its row shows at an effective instant holds
        unbroken: its status, rate and scope (a pause, a rate change, a wider scope or a
        later revocation ends it), and the events that set those bounds; None before it
        starts."""
        return _given(self.stretch, self.id) or joint_stretch(
            effective, self.statuses, self.rates, self.scopes)

    def starts(self) -> datetime | None:
        """The earliest instant it is in force."""
        starts = [p.start for p in self.statuses if p.value == "in_force"]
        return min(starts) if starts else None

    def touched_by(self, event_id: str, **changes: Any) -> MeasureState:
        """The measure with `changes` made by one more event, which it remembers."""
        # One copy per event: the validation fold makes one for each event it takes.
        return replace(self, event_ids=(*self.event_ids, event_id), **changes)


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

    def cited_at(self, effective: datetime) -> tuple[str, ...]:
        """The events an answer about it at an effective instant cites: the grant (its title,
        scope, conditions and rate) and the event whose paint says whether it is in effect
        then (the grant, or a revocation), not every event it ever had."""
        return painted_by(paint_at(self.active, effective), first=self.event_ids[:1])

    def stretch_at(self, effective: datetime) -> Stretch | None:
        """Since when and until when whether it is in effect at an effective instant holds
        unbroken (a later revocation ends it), and the events that set those bounds."""
        return stretch_around(self.active, effective)


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

    def cited_at(self, effective: datetime) -> tuple[str, ...]:
        """The events an answer about it at an effective instant cites: the opening (its
        title, scope and period) and those whose paints decide whether it is open, its
        in-quota rate and its volume then, not every period's."""
        return painted_by(paint_at(self.active, effective),
                          paint_at(self.in_quota_percent, effective),
                          paint_at(self.volume, effective), first=self.event_ids[:1])

    def stretch_at(self, effective: datetime) -> Stretch | None:
        """Since when and until when what its row shows at an effective instant holds
        unbroken: whether it is open, its in-quota rate and its volume (a later closing, a
        new rate or a new volume ends it), and the events that set those bounds."""
        return joint_stretch(effective, self.active, self.in_quota_percent, self.volume)


class RuleVersion(NamedTuple):
    """What a stacking rule says over one interval: if `in_effect`, while measures matching
    `when` apply, measures matching `excludes` do not."""

    # A NamedTuple, not a dataclass: the read model stores rule states as JSON, where a version
    # has always been a list [in_effect, when, excludes], and existing rows must still decode.
    in_effect: bool
    when: Selector
    excludes: Selector


@dataclass(frozen=True)
class RuleState:
    """A stacking rule: while `when` applies, `excludes` does not."""

    id: str
    description: str
    versions: tuple[Paint[RuleVersion], ...]
    event_ids: tuple[str, ...]
    remainder: bool = False
    stretch: Stretch | None = None
    """Only in a state cut at one instant (`standing_at`): the stretch of its version
    there, which the one paint such a state keeps cannot tell (`NOT_READ` when the question
    cut for shows none)."""

    def cited_at(self, effective: datetime) -> tuple[str, ...]:
        """The events an answer about it at an effective instant cites: the one that set the
        rule (its description) and the one whose version is in force then, not every change it
        ever had (a rule changed weekly for years has thousands)."""
        return painted_by(paint_at(self.versions, effective), first=self.event_ids[:1])

    def stretch_at(self, effective: datetime) -> Stretch | None:
        """Since when and until when its version at an effective instant holds unbroken (a
        later change or revocation ends it), and the events that set those bounds."""
        return _given(self.stretch, self.id) or stretch_around(self.versions, effective)

    def standing_at(self, at: datetime, stretch: bool = True) -> RuleState:
        """The rule as it stands at an effective instant: with only the paint that says what
        it says then (none before it starts) and, unless not `stretch`, the stretch it holds
        over: all a question at that instant reads of it."""
        paint = paint_at(self.versions, at)
        return replace(self, versions=() if paint is None else (paint,),
                       stretch=self.stretch_at(at) if stretch else NOT_READ)


def _given(stretch: Stretch | None, item: str) -> Stretch | None:
    """The stretch a state cut at one instant was given (None: not cut, its paints say)."""
    if stretch is NOT_READ:
        # A question that shows no since or until cut it: answering with its one paint's
        # own bounds would look exact and leave out every later event that bounds them.
        raise StoreError(f"{item!r} was read for a question that shows no since or until, "
                         "and cannot say them")
    return stretch


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
    nomenclature: Nomenclature = field(default_factory=Nomenclature)
