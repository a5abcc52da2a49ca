"""Every kind of tariff-policy action, as an immutable, validated event.

Each class has a stable, versioned ``TOPIC``: stored events name their topic, never the Python
class path, so renaming a class cannot orphan what is stored.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Annotated, Any, ClassVar, Literal, NamedTuple, get_args

from pydantic import Field, StrictBool, model_validator

from tariff_timeline.events.base import PolicyEvent as PolicyEvent
from tariff_timeline.events.nomenclature import HtsLine as HtsLine
from tariff_timeline.events.nomenclature import NomenclatureRevised as NomenclatureRevised
from tariff_timeline.events.values import (
    EVERYWHERE,
    Condition,
    EffectiveInstant,
    EventId,
    Frozen,
    Percent,
    Rate,
    Ref,
    Scope,
    Selector,
    Text,
)


class Effective(Frozen):
    """A half-open effective interval [effective_from, effective_until)."""

    effective_from: EffectiveInstant
    effective_until: EffectiveInstant | None = None

    @model_validator(mode="after")
    def _ends_after_start(self) -> Effective:
        if self.effective_until is not None and self.effective_until <= self.effective_from:
            raise ValueError(
                f"effective_until {self.effective_until.isoformat()} is not after "
                f"effective_from {self.effective_from.isoformat()}"
            )
        return self


# ---------------------------------------------------------------- measures


class MeasureAnnounced(PolicyEvent):
    """A measure was announced or threatened; it changes no rate until it is imposed."""

    TOPIC: ClassVar[str] = "tariffs.MeasureAnnounced.v1"
    type: Literal["MeasureAnnounced"] = "MeasureAnnounced"
    measure: Ref
    title: Text
    authority: Text
    program: Ref
    stage: Literal["threat", "announcement", "authority"] = "announcement"
    scope: Scope = EVERYWHERE
    rate: Rate | None = None
    planned_from: EffectiveInstant | None = None
    instrument: Text | None = None


class MeasureImposed(Effective, PolicyEvent):
    """A measure was put in force (or scheduled) from a date, with its scope and rate."""

    TOPIC: ClassVar[str] = "tariffs.MeasureImposed.v1"
    type: Literal["MeasureImposed"] = "MeasureImposed"
    measure: Ref
    title: Text
    authority: Text
    program: Ref
    scope: Scope
    rate: Rate
    instrument: Text | None = None


class RateChanged(Effective, PolicyEvent):
    """The rate of a measure changed over an effective interval."""

    TOPIC: ClassVar[str] = "tariffs.RateChanged.v1"
    type: Literal["RateChanged"] = "RateChanged"
    measure: Ref
    rate: Rate
    instrument: Text | None = None


class ScopeAmended(Effective, PolicyEvent):
    """The origins or products a measure covers changed over an effective interval."""

    TOPIC: ClassVar[str] = "tariffs.ScopeAmended.v1"
    type: Literal["ScopeAmended"] = "ScopeAmended"
    measure: Ref
    scope: Scope
    instrument: Text | None = None


class MeasurePaused(Effective, PolicyEvent):
    """A measure was paused or suspended; until the pause ends it is not collected."""

    TOPIC: ClassVar[str] = "tariffs.MeasurePaused.v1"
    type: Literal["MeasurePaused"] = "MeasurePaused"
    measure: Ref
    instrument: Text | None = None


class PauseExtended(PolicyEvent):
    """The latest pause of a measure was extended to a later end."""

    TOPIC: ClassVar[str] = "tariffs.PauseExtended.v1"
    type: Literal["PauseExtended"] = "PauseExtended"
    measure: Ref
    effective_until: EffectiveInstant
    instrument: Text | None = None


class MeasureResumed(PolicyEvent):
    """A paused measure was resumed before its pause was due to end."""

    TOPIC: ClassVar[str] = "tariffs.MeasureResumed.v1"
    type: Literal["MeasureResumed"] = "MeasureResumed"
    measure: Ref
    effective_from: EffectiveInstant
    instrument: Text | None = None


class MeasureRevoked(PolicyEvent):
    """A measure was revoked, expired or was superseded from a date on."""

    TOPIC: ClassVar[str] = "tariffs.MeasureRevoked.v1"
    type: Literal["MeasureRevoked"] = "MeasureRevoked"
    measure: Ref
    effective_from: EffectiveInstant
    reason: Literal["revoked", "expired", "superseded", "collection_ended"] = "revoked"
    instrument: Text | None = None


class MeasureInvalidated(PolicyEvent):
    """A court held a measure unlawful and its collection ended from a date on."""

    TOPIC: ClassVar[str] = "tariffs.MeasureInvalidated.v1"
    type: Literal["MeasureInvalidated"] = "MeasureInvalidated"
    measure: Ref
    effective_from: EffectiveInstant
    ruling: Ref


# ---------------------------------------------------------------- exemptions and quotas


class ExemptionGranted(Effective, PolicyEvent):
    """Goods were carved out of measures, fully or to a reduced rate, maybe on a condition."""

    TOPIC: ClassVar[str] = "tariffs.ExemptionGranted.v1"
    type: Literal["ExemptionGranted"] = "ExemptionGranted"
    exemption: Ref
    title: Text
    applies_to: Selector
    scope: Scope = EVERYWHERE
    conditions: tuple[Condition, ...] = ()
    rate: Rate | None = Field(
        default=None, description="None: exempt. A rate: the layer is charged at this instead."
    )
    instrument: Text | None = None


class ExemptionRevoked(PolicyEvent):
    """An exemption ended from a date on."""

    TOPIC: ClassVar[str] = "tariffs.ExemptionRevoked.v1"
    type: Literal["ExemptionRevoked"] = "ExemptionRevoked"
    exemption: Ref
    effective_from: EffectiveInstant
    instrument: Text | None = None


class QuotaOpened(Effective, PolicyEvent):
    """A tariff-rate (or absolute) quota applies to goods under a measure."""

    TOPIC: ClassVar[str] = "tariffs.QuotaOpened.v1"
    type: Literal["QuotaOpened"] = "QuotaOpened"
    quota: Ref
    title: Text
    measure: Ref
    scope: Scope = EVERYWHERE
    in_quota_percent: Percent
    over_quota: Literal["measure_rate", "prohibited"] = "measure_rate"
    volume: Text
    period: Text = "year"
    instrument: Text | None = None


class QuotaChanged(PolicyEvent):
    """A quota's in-quota rate or volume changed, or the quota closed, from a date on."""

    TOPIC: ClassVar[str] = "tariffs.QuotaChanged.v1"
    type: Literal["QuotaChanged"] = "QuotaChanged"
    quota: Ref
    effective_from: EffectiveInstant
    in_quota_percent: Percent | None = None
    volume: Text | None = None
    closed: StrictBool = False
    instrument: Text | None = None

    @model_validator(mode="after")
    def _changes_something(self) -> QuotaChanged:
        if not self.closed and self.in_quota_percent is None and self.volume is None:
            raise ValueError("a quota change sets in_quota_percent, volume or closed")
        return self


# ---------------------------------------------------------------- deals


class DealAnnounced(PolicyEvent):
    """An agreement with a partner was announced; its terms bind only once implemented."""

    TOPIC: ClassVar[str] = "tariffs.DealAnnounced.v1"
    type: Literal["DealAnnounced"] = "DealAnnounced"
    deal: Ref
    title: Text
    partners: Scope
    terms: Text


class DealImplemented(PolicyEvent):
    """A step of a deal was implemented; the rate events it caused cite it."""

    TOPIC: ClassVar[str] = "tariffs.DealImplemented.v1"
    type: Literal["DealImplemented"] = "DealImplemented"
    deal: Ref
    effective_from: EffectiveInstant
    step: Text
    instrument: Text | None = None


# ---------------------------------------------------------------- stacking


class StackingRuleSet(Effective, PolicyEvent):
    """While measures matching `when` apply, measures matching `excludes` do not."""

    TOPIC: ClassVar[str] = "tariffs.StackingRuleSet.v1"
    type: Literal["StackingRuleSet"] = "StackingRuleSet"
    rule: Ref
    description: Text
    when: Selector
    excludes: Selector
    remainder: StrictBool = Field(
        default=False,
        description=(
            "When true, the excluded layers are not dropped but apply to the share of value the "
            "triggering layers do not charge (1 minus their content shares): the reciprocal "
            "tariff on the non-metal content of a derivative."
        ),
    )
    instrument: Text | None = None


class StackingRuleChanged(Effective, PolicyEvent):
    """A stacking rule was changed (new selectors) or suspended over an interval."""

    TOPIC: ClassVar[str] = "tariffs.StackingRuleChanged.v1"
    type: Literal["StackingRuleChanged"] = "StackingRuleChanged"
    rule: Ref
    in_effect: StrictBool = True
    when: Selector | None = None
    excludes: Selector | None = None
    instrument: Text | None = None


# ---------------------------------------------------------------- courts


class CourtRuled(PolicyEvent):
    """A court decided a case about measures; collection changes only through other events."""

    TOPIC: ClassVar[str] = "tariffs.CourtRuled.v1"
    type: Literal["CourtRuled"] = "CourtRuled"
    ruling: Ref
    court: Text
    case: Text
    holding: Text
    outcome: Literal["upheld", "invalidated", "stayed", "remanded", "ordered"]
    measures: tuple[Ref, ...] = ()


# ---------------------------------------------------------------- corrections of this store


class EventRetracted(PolicyEvent):
    """This store should never have recorded an event: it is ignored from now on."""

    TOPIC: ClassVar[str] = "tariffs.EventRetracted.v1"
    type: Literal["EventRetracted"] = "EventRetracted"
    retracts: EventId
    reason: Text


WorldEvent = Annotated[
    MeasureAnnounced
    | MeasureImposed
    | RateChanged
    | ScopeAmended
    | MeasurePaused
    | PauseExtended
    | MeasureResumed
    | MeasureRevoked
    | MeasureInvalidated
    | ExemptionGranted
    | ExemptionRevoked
    | QuotaOpened
    | QuotaChanged
    | DealAnnounced
    | DealImplemented
    | StackingRuleSet
    | StackingRuleChanged
    | CourtRuled
    | NomenclatureRevised,
    Field(discriminator="type"),
]


class EventCorrected(PolicyEvent):
    """This store recorded an event wrongly: `replacement` is what it should have said.

    A data correction, not a policy change: it changes answers at every effective and known
    time, but answers at a recorded time before it are unchanged.
    """

    TOPIC: ClassVar[str] = "tariffs.EventCorrected.v1"
    type: Literal["EventCorrected"] = "EventCorrected"
    corrects: EventId
    reason: Text
    replacement: WorldEvent

    @model_validator(mode="after")
    def _replacement_keeps_identity(self) -> EventCorrected:
        if self.replacement.id != self.corrects:
            raise ValueError(
                f"replacement.id {self.replacement.id!r} must equal corrects {self.corrects!r}"
            )
        if type(self.replacement).__name__ == "EventCorrected":
            raise ValueError("a correction cannot replace an event with a correction")
        return self


AnyEvent = Annotated[
    MeasureAnnounced
    | MeasureImposed
    | RateChanged
    | ScopeAmended
    | MeasurePaused
    | PauseExtended
    | MeasureResumed
    | MeasureRevoked
    | MeasureInvalidated
    | ExemptionGranted
    | ExemptionRevoked
    | QuotaOpened
    | QuotaChanged
    | DealAnnounced
    | DealImplemented
    | StackingRuleSet
    | StackingRuleChanged
    | CourtRuled
    | NomenclatureRevised
    | EventCorrected
    | EventRetracted,
    Field(discriminator="type"),
]
"""Any event of the import format, told apart by its `type`."""

EVENT_TYPES: tuple[type[PolicyEvent], ...] = (
    MeasureAnnounced,
    MeasureImposed,
    RateChanged,
    ScopeAmended,
    MeasurePaused,
    PauseExtended,
    MeasureResumed,
    MeasureRevoked,
    MeasureInvalidated,
    ExemptionGranted,
    ExemptionRevoked,
    QuotaOpened,
    QuotaChanged,
    DealAnnounced,
    DealImplemented,
    StackingRuleSet,
    StackingRuleChanged,
    CourtRuled,
    NomenclatureRevised,
    EventCorrected,
    EventRetracted,
)

TOPICS: dict[str, type[PolicyEvent]] = {cls.TOPIC: cls for cls in EVENT_TYPES}
"""Stable topic -> event class; the only way stored events find their class."""


class ImportFile(Frozen):
    """An import file: a list of events in the project's own format."""

    events: tuple[AnyEvent, ...]


def effective_start(event: PolicyEvent) -> datetime | None:
    """The effective instant an event starts to matter, if it has one."""
    value: Any = getattr(event, "effective_from", None)
    return value if isinstance(value, datetime) else None


SubjectKind = Literal["measure", "exemption", "quota", "rule", "deal", "ruling", "chapter"]
"""The kinds of thing an event can be about (a chapter: one chapter of the HTS nomenclature)."""

# Most specific first: a quota names its measure, an invalidation names its ruling.
_SUBJECT_FIELDS: tuple[SubjectKind, ...] = ("quota", "exemption", "deal", "rule", "measure",
                                            "ruling", "chapter")


class Subject(NamedTuple):
    """The measure, exemption, quota, deal, stacking rule, ruling or HTS chapter an event is
    about."""

    kind: SubjectKind
    id: str

    @property
    def key(self) -> str:
        """'kind:id', unique across kinds (a measure and a quota may share an id)."""
        return f"{self.kind}:{self.id}"


def subject(event: PolicyEvent) -> Subject | None:
    """What an event is about (for a correction, what its replacement is about)."""
    if isinstance(event, EventCorrected):
        return subject(event.replacement)
    for kind in _subject_fields(type(event)):
        value = getattr(event, kind)
        if isinstance(value, str):
            return Subject(kind, value)
    return None


@cache
def _subject_fields(cls: type[PolicyEvent]) -> tuple[SubjectKind, ...]:
    """The subject fields a type of event has, in order: asking an event for a field it
    lacks goes through pydantic's slow path, and the read model asks this of every event."""
    return tuple(kind for kind in _SUBJECT_FIELDS if kind in cls.model_fields)


def subject_of(event: PolicyEvent) -> str | None:
    """The id of the measure, exemption, quota, deal, rule, ruling or HTS chapter an event is
    about."""
    found = subject(event)
    return None if found is None else found.id


def subject_key(event: PolicyEvent) -> str | None:
    """'kind:id' of the subject an event is about."""
    found = subject(event)
    return None if found is None else found.key


_NAMED_BY_FIELD: dict[str, SubjectKind] = {
    "measure": "measure", "measures": "measure", "exemption": "exemption", "quota": "quota",
    "deal": "deal", "rule": "rule", "ruling": "ruling", "chapter": "chapter"}
"""Event fields that name subjects, by the kind of subject they name."""


def subjects_named(event: PolicyEvent) -> frozenset[str]:
    """'kind:id' of every subject an event names: what it is about and what it refers to (the
    measures an exemption's selector or a stacking rule picks, the measure a quota is under,
    the ruling an invalidation cites). Folding an event reads and writes only these subjects'
    state, so an import can check new events against the history of these subjects alone."""
    if isinstance(event, EventCorrected):
        return subjects_named(event.replacement)
    named: set[str] = set()
    for name, kind in _naming_fields(type(event)):
        value = getattr(event, name)
        if kind is not None:
            for ident in (value,) if isinstance(value, str) else value or ():
                named.add(f"{kind}:{ident}")
        elif isinstance(value, Selector):
            named.update(f"measure:{ident}" for ident in value.measures)
    return frozenset(named)


@cache
def named_by_others() -> frozenset[SubjectKind]:
    """The kinds of subject that events about another subject can name: a measure (picked by
    an exemption's or a stacking rule's selector, under a quota, cited by a ruling) and a
    ruling (cited by an invalidation). A subject of any other kind is named only by its own
    events, and by the corrections and retractions of them."""
    found: set[SubjectKind] = set()
    for cls in get_args(get_args(WorldEvent)[0]):
        own = _subject_fields(cls)[:1]
        for _, kind in _naming_fields(cls):
            named: SubjectKind = "measure" if kind is None else kind
            if (named,) != own:
                found.add(named)
    return frozenset(found)


@cache
def _naming_fields(cls: type[PolicyEvent]) -> tuple[tuple[str, SubjectKind | None], ...]:
    """The fields of a type of event that may name subjects: by the kind they name, or None
    for a selector. Iterating over every field of every event was most of an append's check."""
    return tuple((name, _NAMED_BY_FIELD.get(name)) for name, info in cls.model_fields.items()
                 if name in _NAMED_BY_FIELD or _may_hold(info.annotation, Selector))


def _may_hold(annotation: Any, kind: type) -> bool:
    """Whether a field's type is, or is a union or container with, `kind`."""
    return annotation is kind or any(_may_hold(arg, kind) for arg in get_args(annotation))

