"""What the dataset cites and how completely it lists products (pure)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from tariff_timeline.domain.timeline import ExemptionState, MeasureState, Timeline
from tariff_timeline.events import ALL, Scope, Source
from tariff_timeline.projections.answers import CoverageRow, SourceRow
from tariff_timeline.projections.pieces import MeasureHead
from tariff_timeline.projections.replay import Corrected

Citation = tuple[str, str | None, str | None, str | None, str | None]
"""A source as a key: title, url, instrument, Federal Register citation, via."""


def citation(source: Source) -> Citation:
    """The key that tells one citation from another."""
    return (source.title, source.url, source.instrument, source.federal_register, source.via)


def sources_of(entries: Sequence[Corrected]) -> list[SourceRow]:
    """Every distinct citation of the events, with the ids of the events citing it."""
    return cited_by((citation(source), entry.event.id)
                    for entry in entries for source in entry.event.sources)


def cited_by(citations: Iterable[tuple[Citation, str]]) -> list[SourceRow]:
    """The rows of the citations (each with the id of an event citing it), met in this order:
    each citation once, with the ids citing it in the order met, sorted by instrument (or
    title) and address; ties keep the order met."""
    # Ids as the keys of a dict: in the order met, once each, found without a scan.
    cited: dict[Citation, dict[str, None]] = {}
    for key, event_id in citations:
        cited.setdefault(key, {})[event_id] = None
    rows = [SourceRow(title=k[0], url=k[1], instrument=k[2], federal_register=k[3], via=k[4],
                      events=tuple(ids)) for k, ids in cited.items()]
    return sorted(rows, key=lambda r: ((r.instrument or r.title).lower(), r.url or ""))


def _codes(scope: Scope) -> int | None:
    return None if ALL in scope.products else len(scope.products)


def measure_coverage(measure: MeasureHead | MeasureState, status: str | None,
                     at: datetime) -> CoverageRow:
    """A measure's coverage row at `at`, from its head (or its whole state) and its topmost
    status at `at` (None: none): an imposed measure lists its last scope, with its status
    (before it is first in force, scheduled; with no status later, ended); one never
    imposed, its last announcement and its stage."""
    state: str
    if measure.imposed and measure.scopes:
        scope = (measure.scopes[-1][1] if isinstance(measure, MeasureHead)
                 else measure.scopes[-1]).value
        first = measure.starts if isinstance(measure, MeasureHead) else measure.starts()
        state = status if status else ("scheduled" if first and first > at else "ended")
    else:
        last = measure.announcements[-1]
        scope, state = last.scope, last.stage
    return CoverageRow(kind="measure", id=measure.id, title=measure.title,
                       authority=measure.authority, program=measure.program, status=state,
                       products_complete=scope.products_complete, codes=_codes(scope),
                       products_note=scope.products_note)


def exemption_coverage(exemption: ExemptionState, at: datetime) -> CoverageRow:
    """An exemption's coverage row at `at`: whether it is in effect then."""
    return CoverageRow(
        kind="exemption", id=exemption.id, title=exemption.title, authority=None,
        program=None, status="in_effect" if exemption.active_at(at) else "not_in_effect",
        products_complete=exemption.scope.products_complete,
        codes=_codes(exemption.scope), products_note=exemption.scope.products_note)


def coverage_rows(rows: Iterable[CoverageRow]) -> list[CoverageRow]:
    """Coverage rows in the answer's order: measures, then exemptions, each by id."""
    return sorted(rows, key=lambda r: (r.kind != "measure", r.id))


def coverage_of(timeline: Timeline, at: datetime) -> list[CoverageRow]:
    """Per measure and exemption: whether its product list is complete, and how many codes."""
    rows = [measure_coverage(m, _status_value(m, at), at) for m in timeline.measures.values()]
    rows += [exemption_coverage(e, at) for e in timeline.exemptions.values()]
    return coverage_rows(rows)


def _status_value(measure: MeasureState, at: datetime) -> str | None:
    status = measure.status_at(at)
    return None if status is None else status.value
