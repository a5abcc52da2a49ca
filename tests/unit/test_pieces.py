"""A measure cut into effective-time pieces answers at every instant as its full state does."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from tariff_timeline.domain.clocks import cutoff_instant, effective_instant
from tariff_timeline.domain.paint import Stretch
from tariff_timeline.domain.timeline import MeasureState, paint_at
from tariff_timeline.events import PolicyEvent, known_instant
from tariff_timeline.events.instants import from_micros, micros
from tariff_timeline.projections import Corrected, Recorded, corrected_log, fold_at
from tariff_timeline.projections.pieces import (
    FOREVER,
    FoundBy,
    HeadVersion,
    MeasurePiece,
    PieceSpan,
    assemble,
    measure_rows,
    measure_tables,
)
from tests.builders import imposed, pause_extended, paused, rate_changed, revoked

RECORDED = datetime(2026, 1, 1, tzinfo=UTC)
HISTORY: list[PolicyEvent] = [
    imposed("imp", "m", known="2025-01-01", start="2025-01-10", percent=10),
    rate_changed("r1", "m", known="2025-02-20", start="2025-03-01", percent=20),
    paused("p", "m", known="2025-03-25", start="2025-04-01", until="2025-06-01"),
    pause_extended("x", "m", known="2025-05-20", until="2025-07-01"),
    # Learned late, painted over the past: the rate from February was 15.
    rate_changed("r2", "m", known="2025-08-01", start="2025-02-01", percent=15),
    revoked("rev", "m", known="2025-09-01", start="2025-09-15"),
]


BEFORE_START = MeasurePiece(found_by=FoundBy(("ALL",), ("ALL",)))
"""No paint before the measure starts: it is found by its first scope (every origin and
product)."""


def _entries() -> list[Corrected]:
    return corrected_log([Recorded(i, RECORDED, e) for i, e in enumerate(HISTORY, 1)])


def _rows() -> tuple[list[HeadVersion], list[PieceSpan]]:
    return measure_rows(_entries(), "m")


def _full(known: str) -> MeasureState:
    return fold_at(_entries(), cutoff_instant(known, "known")).measures["m"]


def _at(rows: list[Any], instant: int, *, effective: int | None = None) -> Any:
    found = [r for r in rows if r.known_from <= instant < r.known_until and (
        effective is None or r.eff_from <= effective < r.eff_until)]
    assert len(found) <= 1, found
    return found[0] if found else None


def _answers(measure: MeasureState, at: datetime) -> tuple[object, ...]:
    return (measure.status_at(at), measure.rate_at(at), measure.scope_at(at),
            paint_at(measure.pauses, at), measure.rates[0], measure.rates[-1],
            measure.scopes[0], measure.scopes[-1], measure.imposed)


def test_every_instant_reads_the_same_paints_from_its_piece_as_from_the_full_state() -> None:
    heads, pieces = _rows()
    for known in ("2025-01-01", "2025-03-01", "2025-04-15", "2025-06-01", "2025-08-02",
                  "2025-12-31"):
        k = micros(cutoff_instant(known, "known"))
        full = _full(known)
        head = _at(heads, k)
        for offset in range(0, 400, 3):
            at = effective_instant("2025-01-01") + timedelta(days=offset)
            piece = _at(pieces, k, effective=micros(at))
            listed = not (full.status_at(at) is not None
                          and full.status_at(at).value == "revoked"  # type: ignore[union-attr]
                          and at >= effective_instant("2026-09-15"))
            assert (piece is not None) == listed, (known, at)
            assert _answers(assemble(head.head, piece.piece), at) == _answers(full, at)


def test_every_instant_reads_the_same_row_stretch_from_its_rows_as_from_the_full_state(
        ) -> None:
    # given the history above (a rate change, a pause, its extension, a late rate, a
    # revocation)
    _, _, statuses = measure_tables(_entries(), "m")
    for known in ("2025-01-01", "2025-03-01", "2025-04-15", "2025-06-01", "2025-08-02",
                  "2025-12-31"):
        k = micros(cutoff_instant(known, "known"))
        full = _full(known)
        for offset in range(0, 400, 3):
            at = effective_instant("2025-01-01") + timedelta(days=offset)
            # when the stretch of what its row shows is read from the status rows
            found = _at(statuses, k, effective=micros(at))
            # then it is the full state's, bounds and the events bounding it alike
            stretch = None if found is None else Stretch(
                from_micros(found.eff_from),
                None if found.eff_until >= FOREVER else from_micros(found.eff_until),
                found.bounded_by)
            assert stretch == full.stretch_at(at), (known, at)
    # and a rate change bounds a stretch as a pause does: 10% from 10 January ends at the
    # 20% of 1 March, and once the 15% from February is learned, at that
    assert {s.bounded_by for s in statuses} >= {
        ("imp", "r1"), ("r1", "p"), ("p", "x"), ("x", "rev"), ("imp", "r2"), ("r2", "p")}


def test_a_late_retroactive_rate_changes_only_the_pieces_it_overlaps() -> None:
    _, pieces = _rows()
    k = micros(known_instant(date(2025, 8, 1)))
    opened = [p for p in pieces if p.known_from == k]
    # r2 paints February onwards: the piece it splits (from the start in January) and those
    # after it are new; the piece before the start is left as it was.
    assert opened and min(p.eff_from for p in opened) == micros(
        effective_instant("2025-01-10"))
    assert {p.piece.rate[1].event_id for p in opened if p.piece.rate} == {"imp", "r2"}
    before_start = [p for p in pieces if p.piece == BEFORE_START]
    assert len(before_start) == 1 and before_start[0].known_until > k


def test_a_measure_long_ended_has_no_piece_and_one_starting_soon_has_one() -> None:
    heads, pieces = _rows()
    k = micros(cutoff_instant("2025-12-31", "known"))
    assert _at(pieces, k, effective=micros(effective_instant("2026-09-16"))) is None
    assert _at(pieces, k, effective=micros(effective_instant("2024-01-09"))) is None
    soon = _at(pieces, k, effective=micros(effective_instant("2024-01-11")))
    assert soon is not None and soon.piece == BEFORE_START
    assert _at(heads, k).head.imposed
