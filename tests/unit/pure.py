"""Answer questions over given events with the pure projections: no database."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal

from tariff_timeline.domain.clocks import Coordinate, cutoff_instant, effective_instant
from tariff_timeline.events import PolicyEvent
from tariff_timeline.projections import RateAnswer, Recorded, corrected_log, fold_at, rate_on

RECORDED = datetime(2026, 1, 1, tzinfo=UTC)


def ask(events: Sequence[PolicyEvent], *, origin: str, hts: str, entered: str,
        known: str = "2030-01-01", mfn: str | None = None,
        facts: dict[str, bool | str | Decimal] | None = None) -> RateAnswer:
    log = [Recorded(i, RECORDED, e) for i, e in enumerate(events, start=1)]
    entries = corrected_log(log)
    coordinate = Coordinate(effective_instant(entered), cutoff_instant(known, "known"),
                            RECORDED)
    tl = fold_at(entries, coordinate.known)
    return rate_on(tl, {e.event.id: e for e in entries}, origin=origin, hts=hts,
                   coordinate=coordinate, mfn=None if mfn is None else Decimal(mfn),
                   facts=facts or {})


def applied(answer: RateAnswer) -> dict[str, object]:
    """measure -> rate of the layers that apply."""
    return {layer.measure: layer.rate for layer in answer.layers if layer.applied}


def reason(answer: RateAnswer, measure: str) -> str:
    return next(layer.reason for layer in answer.layers if layer.measure == measure)
