"""What the dataset cites and how completely it lists products (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from tariff_timeline.domain.timeline import MeasureState, Timeline
from tariff_timeline.events import ALL, Scope
from tariff_timeline.projections.answers import CoverageRow, SourceRow
from tariff_timeline.projections.replay import Corrected


def sources_of(entries: Sequence[Corrected]) -> list[SourceRow]:
    """Every distinct citation of the events, with the ids of the events citing it."""
    cited: dict[tuple[str, str | None, str | None, str | None, str | None], list[str]] = {}
    for entry in entries:
        for source in entry.event.sources:
            key = (source.title, source.url, source.instrument, source.federal_register,
                   source.via)
            ids = cited.setdefault(key, [])
            if entry.event.id not in ids:
                ids.append(entry.event.id)
    rows = [SourceRow(title=k[0], url=k[1], instrument=k[2], federal_register=k[3], via=k[4],
                      events=tuple(ids)) for k, ids in cited.items()]
    return sorted(rows, key=lambda r: ((r.instrument or r.title).lower(), r.url or ""))


def _codes(scope: Scope) -> int | None:
    return None if ALL in scope.products else len(scope.products)


def _measure_row(measure: MeasureState, at: datetime) -> CoverageRow:
    state: str
    if measure.imposed and measure.scopes:
        scope = measure.scopes[-1].value
        status = measure.status_at(at)
        first = measure.starts()
        state = status.value if status else ("scheduled" if first and first > at else "ended")
    else:
        last = measure.announcements[-1]
        scope, state = last.scope, last.stage
    return CoverageRow(kind="measure", id=measure.id, title=measure.title,
                       authority=measure.authority, program=measure.program, status=state,
                       products_complete=scope.products_complete, codes=_codes(scope),
                       products_note=scope.products_note)


def coverage_of(timeline: Timeline, at: datetime) -> list[CoverageRow]:
    """Per measure and exemption: whether its product list is complete, and how many codes."""
    rows = [_measure_row(m, at) for m in timeline.measures.values()]
    for exemption in timeline.exemptions.values():
        active = exemption.active_at(at)
        rows.append(CoverageRow(
            kind="exemption", id=exemption.id, title=exemption.title, authority=None,
            program=None, status="in_effect" if active else "not_in_effect",
            products_complete=exemption.scope.products_complete,
            codes=_codes(exemption.scope), products_note=exemption.scope.products_note))
    return sorted(rows, key=lambda r: (r.kind != "measure", r.id))
