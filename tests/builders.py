"""Given-events for tests: small constructors with sensible defaults."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from tariff_timeline.events import PolicyEvent
from tariff_timeline.events.policy import (
    CourtRuled,
    EventCorrected,
    ExemptionGranted,
    ExemptionRevoked,
    MeasureAnnounced,
    MeasureImposed,
    MeasurePaused,
    MeasureRevoked,
    NomenclatureRevised,
    PauseExtended,
    QuotaChanged,
    QuotaOpened,
    RateChanged,
    ScopeAmended,
    StackingRuleChanged,
    StackingRuleSet,
)

DAY_ZERO = date(2025, 1, 1)
"""The day the tests' generated histories count their days from."""


def day(n: int) -> str:
    """The ISO date `n` days after `DAY_ZERO`, as an event's dates are written."""
    return (DAY_ZERO + timedelta(days=n)).isoformat()


SOURCE = ({"title": "Test instrument", "url": "https://example.org/instrument"},)


def _make(cls: type[PolicyEvent], **fields: Any) -> PolicyEvent:
    fields.setdefault("sources", SOURCE)
    return cls.model_validate(fields)


def imposed(eid: str, measure: str, *, known: str, start: str, percent: float,
            origins: tuple[str, ...] = ("ALL",), products: tuple[str, ...] = ("ALL",),
            program: str = "prog", authority: str = "IEEPA", kind: str = "additive",
            replaces: tuple[str, ...] = (), until: str | None = None,
            origins_except: tuple[str, ...] = ()) -> PolicyEvent:
    rate: dict[str, Any] = {"percent": percent, "kind": kind}
    if replaces:
        rate["replaces"] = replaces
    return _make(MeasureImposed, id=eid, measure=measure, known=known, effective_from=start,
                 effective_until=until, title=f"measure {measure}", authority=authority,
                 program=program, rate=rate,
                 scope={"origins": origins, "products": products,
                        "origins_except": origins_except})


def rate_changed(eid: str, measure: str, *, known: str, start: str, percent: float,
                 kind: str = "additive", replaces: tuple[str, ...] = ()) -> PolicyEvent:
    rate: dict[str, Any] = {"percent": percent, "kind": kind}
    if replaces:
        rate["replaces"] = replaces
    return _make(RateChanged, id=eid, measure=measure, known=known, effective_from=start,
                 rate=rate)


def paused(eid: str, measure: str, *, known: str, start: str,
           until: str | None = None) -> PolicyEvent:
    return _make(MeasurePaused, id=eid, measure=measure, known=known, effective_from=start,
                 effective_until=until)


def pause_extended(eid: str, measure: str, *, known: str, until: str) -> PolicyEvent:
    return _make(PauseExtended, id=eid, measure=measure, known=known, effective_until=until)


def revoked(eid: str, measure: str, *, known: str, start: str) -> PolicyEvent:
    return _make(MeasureRevoked, id=eid, measure=measure, known=known, effective_from=start)


def announced(eid: str, measure: str, *, known: str, origins: tuple[str, ...] = ("ALL",),
              products: tuple[str, ...] = ("ALL",), percent: float = 10) -> PolicyEvent:
    return _make(MeasureAnnounced, id=eid, measure=measure, known=known,
                 title=f"measure {measure}", authority="IEEPA", program="prog",
                 scope={"origins": origins, "products": products},
                 rate={"percent": percent})


def scope_amended(eid: str, measure: str, *, known: str, start: str,
                  origins: tuple[str, ...] = ("ALL",), products: tuple[str, ...] = ("ALL",),
                  until: str | None = None) -> PolicyEvent:
    return _make(ScopeAmended, id=eid, measure=measure, known=known, effective_from=start,
                 effective_until=until, scope={"origins": origins, "products": products})


def court_ruled(eid: str, ruling: str, *, known: str,
                measures: tuple[str, ...] = ()) -> PolicyEvent:
    return _make(CourtRuled, id=eid, ruling=ruling, known=known, court="CIT",
                 case=f"case {ruling}", holding="upheld", outcome="upheld", measures=measures)


def exemption(eid: str, name: str, *, known: str, start: str, measures: tuple[str, ...] = (),
              programs: tuple[str, ...] = (), origins: tuple[str, ...] = ("ALL",),
              products: tuple[str, ...] = ("ALL",), conditions: tuple[dict[str, Any], ...] = (),
              percent: float | None = None) -> PolicyEvent:
    return _make(ExemptionGranted, id=eid, exemption=name, known=known, effective_from=start,
                 title=f"exemption {name}",
                 applies_to={"measures": measures, "programs": programs},
                 scope={"origins": origins, "products": products}, conditions=conditions,
                 rate=None if percent is None else {"percent": percent})


def exemption_revoked(eid: str, name: str, *, known: str, start: str) -> PolicyEvent:
    return _make(ExemptionRevoked, id=eid, exemption=name, known=known, effective_from=start)


def quota(eid: str, name: str, measure: str, *, known: str, start: str, in_quota: float,
          origins: tuple[str, ...]) -> PolicyEvent:
    return _make(QuotaOpened, id=eid, quota=name, measure=measure, known=known,
                 effective_from=start, title=f"quota {name}", in_quota_percent=in_quota,
                 volume="100,000 units", scope={"origins": origins, "products": ("ALL",)})


def stacking(eid: str, rule: str, *, known: str, start: str, when: dict[str, Any],
             excludes: dict[str, Any]) -> PolicyEvent:
    return _make(StackingRuleSet, id=eid, rule=rule, known=known, effective_from=start,
                 description=f"rule {rule}", when=when, excludes=excludes)


def quota_changed(eid: str, name: str, *, known: str, start: str,
                  in_quota: float | None = None, volume: str | None = None,
                  closed: bool = False) -> PolicyEvent:
    """An open quota's in-quota rate or volume changed, or it closed, from `start` on."""
    return _make(QuotaChanged, id=eid, quota=name, known=known, effective_from=start,
                 in_quota_percent=in_quota, volume=volume, closed=closed)


def rule_changed(eid: str, rule: str, *, known: str, start: str, until: str | None = None,
                 in_effect: bool = True) -> PolicyEvent:
    """A stacking rule in effect, or suspended, over [start, until), its selectors kept."""
    return _make(StackingRuleChanged, id=eid, rule=rule, known=known, effective_from=start,
                 effective_until=until, in_effect=in_effect)


def corrected(eid: str, replacement: PolicyEvent, *, known: str,
              reason: str = "dates") -> PolicyEvent:
    """A correction saying a recorded event (the replacement's id) should have read
    `replacement`."""
    return _make(EventCorrected, id=eid, known=known, corrects=replacement.id, reason=reason,
                 replacement=replacement.model_dump(mode="json"))


def hts_line(code: str, description: str, *, indent: int = 0, parent: str | None = None,
             superiors: tuple[str, ...] = (), units: tuple[str, ...] = (),
             general: str | None = None, other: str | None = None) -> dict[str, Any]:
    """One HTS line as an event file writes it."""
    return {"code": code, "indent": indent, "parent": parent, "superiors": superiors,
            "description": description, "units": units, "general": general, "other": other}


def revised(eid: str, revision: str, chapter: str, *, known: str, start: str,
            baseline: bool = False, added: tuple[dict[str, Any], ...] = (),
            changed: tuple[dict[str, Any], ...] = (),
            removed: tuple[str, ...] = ()) -> PolicyEvent:
    """A USITC revision of one HTS chapter."""
    return _make(NomenclatureRevised, id=eid, revision=revision, chapter=chapter, known=known,
                 effective_from=start, baseline=baseline, added=added, changed=changed,
                 removed=removed)
