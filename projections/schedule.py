"""The schedule at a coordinate: what is in force, paused, scheduled or only announced."""

from __future__ import annotations

from datetime import datetime

from tariff_timeline.domain.clocks import Coordinate
from tariff_timeline.domain.paint import Stretch, painted_by
from tariff_timeline.domain.rules import (
    describe_rate,
    listed_after_end,
    listed_before_start,
    origin_matches,
    product_matches,
)
from tariff_timeline.domain.timeline import ENDED, MeasureState, Paint, Timeline, paint_at
from tariff_timeline.events import Scope, format_hts
from tariff_timeline.projections.answers import Schedule, ScheduleRow


def _covers(scope: Scope, origin: str | None, hts: str | None) -> bool:
    if origin is not None and not origin_matches(scope, origin):
        return False
    return hts is None or product_matches(scope, hts) != "no"


def _origins(scope: Scope) -> str:
    text = ", ".join(scope.origins)
    return text + (f" except {', '.join(scope.origins_except)}" if scope.origins_except else "")


def _products(scope: Scope) -> str:
    # Every code, never a summary: exports carry the whole list (tables shorten it).
    text = ", ".join(format_hts(p) for p in scope.products)
    if scope.products_except:
        text += " except " + ", ".join(format_hts(p) for p in scope.products_except)
    return text


def scheduled_from(measure: MeasureState, at: datetime) -> Paint[Scope] | None:
    """The first scope of a measure imposed but not in force at an effective instant that
    starts after it: what its scheduled row shows (None: no row says it is scheduled)."""
    if not measure.imposed:
        return None
    upcoming = [p for p in measure.scopes if p.start > at]
    return upcoming[0] if upcoming else None


def row_stretch(measure: MeasureState, at: datetime) -> Stretch | None:
    """The stretch a measure's row at an effective instant says it holds over (its since and
    until): its row's there, or, not yet in force there, the one its row will hold from its
    first scope's start (`scheduled_from`)."""
    if measure.status_at(at) is not None:
        return measure.stretch_at(at)
    first = scheduled_from(measure, at)
    return None if first is None else measure.stretch_at(first.start)


def with_bounds(cited: tuple[str, ...], held: Stretch | None) -> tuple[str, ...]:
    """What a row cites: the events behind what it says at its instant, then those that
    bound the stretch it says it holds over (its since and until)."""
    return cited if held is None else painted_by(first=(*cited, *held.bounded_by))


def schedule_as_of(
    timeline: Timeline, coordinate: Coordinate, origin: str | None = None,
    hts: str | None = None,
) -> Schedule:
    """Measures in force, paused, scheduled and announced at a coordinate, with exemptions,
    quotas and stacking rules in effect; optionally only those covering an origin or HTS code.

    Measures starting more than a year later or ended more than a year before are left out."""
    at: datetime = coordinate.effective
    rows: list[ScheduleRow] = []
    for m in timeline.measures.values():
        status = m.status_at(at)
        scope_paint = m.scope_at(at) or (m.scopes[-1] if m.scopes else None)
        rate = m.rate_at(at) or (m.rates[-1] if m.rates else None)
        if not m.imposed or status is None:
            first = scheduled_from(m, at)
            if first is not None:
                if listed_before_start(first.start, at) and _covers(first.value, origin, hts):
                    first_rate = paint_at(m.rates, first.start)
                    # Until: the end of the stretch its row will hold from its start (a
                    # pause known already bounds it), else its first scope's own end.
                    held = row_stretch(m, at)
                    rows.append(ScheduleRow(
                        kind="measure", id=m.id, title=m.title, authority=m.authority,
                        program=m.program, status="scheduled",
                        rate=describe_rate(first_rate.value) if first_rate else None,
                        origins=_origins(first.value), products=_products(first.value),
                        products_complete=first.value.products_complete, since=first.start,
                        until=held.end if held else first.end,
                        events=with_bounds(painted_by(first, first_rate), held)))
                continue
            if not m.imposed and m.announcements:
                last = m.announcements[-1]
                if _covers(last.scope, origin, hts):
                    rows.append(ScheduleRow(
                        kind="measure", id=m.id, title=m.title, authority=m.authority,
                        program=m.program, status=f"announced ({last.stage})",
                        rate=describe_rate(last.rate) if last.rate else None,
                        origins=_origins(last.scope), products=_products(last.scope),
                        products_complete=last.scope.products_complete,
                        since=last.planned_from, until=None, events=(last.event_id,)))
            continue
        if scope_paint is None or not _covers(scope_paint.value, origin, hts) or (
                status.value in ENDED and not listed_after_end(status.start, at)):
            continue
        # Since and until: the stretch its status, rate and scope hold over, which later
        # paints may bound (a revocation known now from some later date), not the topmost
        # paint's own bounds, nor its status's alone (a rate shown "since" it was in force).
        held = row_stretch(m, at)
        rows.append(ScheduleRow(
            kind="measure", id=m.id, title=m.title, authority=m.authority, program=m.program,
            status=status.value, rate=describe_rate(rate.value) if rate else None,
            origins=_origins(scope_paint.value), products=_products(scope_paint.value),
            products_complete=scope_paint.value.products_complete,
            since=held.start if held else status.start, until=held.end if held else status.end,
            events=with_bounds(painted_by(status, scope_paint, rate), held)))
    for ex in timeline.exemptions.values():
        active = ex.active_at(at)
        if active is None or not _covers(ex.scope, origin, hts):
            continue
        conditions = " and ".join(c.describe() for c in ex.conditions)
        held = ex.stretch_at(at)
        rows.append(ScheduleRow(
            kind="exemption", id=ex.id, title=ex.title, authority=None, program=None,
            status="in_effect" + (f" if {conditions}" if conditions else ""),
            rate=describe_rate(ex.rate) if ex.rate else "exempt (0%)",
            origins=_origins(ex.scope), products=_products(ex.scope),
            products_complete=ex.scope.products_complete,
            since=held.start if held else active.start, until=held.end if held else active.end,
            events=with_bounds(ex.cited_at(at), held)))
    for quota in timeline.quotas.values():
        active_quota = paint_at(quota.active, at)
        if active_quota is None or not active_quota.value or not _covers(quota.scope, origin,
                                                                          hts):
            continue
        percent = paint_at(quota.in_quota_percent, at)
        volume = paint_at(quota.volume, at)
        held = quota.stretch_at(at)
        rows.append(ScheduleRow(
            kind="quota", id=quota.id, title=quota.title, authority=None, program=None,
            status="open", rate=f"in quota {percent.value if percent else '?'}%",
            origins=_origins(quota.scope), products=_products(quota.scope),
            products_complete=quota.scope.products_complete,
            since=held.start if held else active_quota.start,
            until=held.end if held else active_quota.end,
            events=with_bounds(quota.cited_at(at), held),
            volume=volume.value if volume else "?"))
    for rule in timeline.rules.values():
        version = paint_at(rule.versions, at)
        if version is None or not version.value.in_effect:
            continue
        held = rule.stretch_at(at)
        rows.append(ScheduleRow(
            kind="stacking_rule", id=rule.id, title=rule.description, authority=None,
            program=None, status="in_effect",
            rate=f"when {version.value.when.describe()}: not {version.value.excludes.describe()}",
            origins="", products="", products_complete=True,
            since=held.start if held else version.start,
            until=held.end if held else version.end,
            events=with_bounds(rule.cited_at(at), held)))
    return Schedule(entered=at, known=coordinate.known, recorded=coordinate.recorded,
                    origin=origin, hts=format_hts(hts) if hts else None, rows=tuple(rows))
