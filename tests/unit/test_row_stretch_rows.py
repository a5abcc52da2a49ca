"""The read model's rows of a measure's row stretches (`pieces.measure_tables`, kept as each
known instant paints the measure) say at every instant and known time what the full state's
`stretch_at` says: bounds and the events bounding them (pure, random histories)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from tariff_timeline.domain.errors import LifecycleError
from tariff_timeline.domain.paint import Stretch
from tariff_timeline.domain.timeline import fold
from tariff_timeline.events import PolicyEvent
from tariff_timeline.events.instants import fold_key, from_micros, micros
from tariff_timeline.projections import Recorded, corrected_log
from tariff_timeline.projections.pieces import FOREVER, StatusSpan, measure_tables
from tariff_timeline.projections.replay import known_order
from tests.builders import day as _day
from tests.builders import (
    imposed,
    pause_extended,
    paused,
    rate_changed,
    revoked,
    scope_amended,
)

RECORDED = datetime(2027, 1, 1, tzinfo=UTC)


@st.composite
def histories(draw: st.DrawFn) -> list[PolicyEvent]:
    """A measure imposed, then rate changes (some to the rate it had), scope amendments,
    pauses, extensions and revocations, each known at some day and effective from another
    (before or after it is known)."""
    events: list[PolicyEvent] = [imposed("e0", "m", known=_day(0), start=_day(
        draw(st.integers(0, 30))), percent=draw(st.sampled_from([10, 25])))]
    pauses: list[tuple[int, int]] = []
    """Each pause's known and effective days: an extension is known after its pause."""
    for n in range(1, draw(st.integers(1, 9)) + 1):
        kind = draw(st.sampled_from(["rate", "rate", "scope", "pause", "extend", "revoke"]))
        known_day, start_day = draw(st.integers(1, 200)), draw(st.integers(10, 240))
        known, start = _day(known_day), _day(start_day)
        ident = f"e{n}"
        if kind == "rate":
            events.append(rate_changed(ident, "m", known=known, start=start,
                                       percent=draw(st.sampled_from([10, 25, 50]))))
        elif kind == "scope":
            events.append(scope_amended(ident, "m", known=known, start=start, products=draw(
                st.sampled_from([("72",), ("72", "73"), ("ALL",)]))))
        elif kind == "pause":
            until = draw(st.none() | st.integers(1, 60))
            events.append(paused(ident, "m", known=known, start=start,
                                 until=None if until is None else _day(start_day + until)))
            pauses.append((known_day, start_day))
        elif kind == "extend" and pauses:
            # Known after the latest pause known, to a day after it starts.
            known_day = max(k for k, _ in pauses) + draw(st.integers(0, 30))
            start_day = max(s for k, s in pauses if k == max(k for k, _ in pauses))
            events.append(pause_extended(ident, "m", known=_day(known_day), until=_day(
                start_day + draw(st.integers(61, 120)))))
        elif kind == "revoke":
            events.append(revoked(ident, "m", known=known, start=start))
    return _accepted(events)


def _accepted(events: list[PolicyEvent]) -> list[PolicyEvent]:
    """The events the store would accept, in the order they become known: each that
    breaks the measure's lifecycle as known before it (a second pause over a pause, a change
    after a revocation) is left out, as an import would refuse it."""
    kept: list[PolicyEvent] = []
    state = fold([])
    entries = corrected_log([Recorded(i, RECORDED, e) for i, e in enumerate(events, 1)],
                            RECORDED)
    for entry in known_order(entries):
        try:
            state = fold([entry.event], state)
        except LifecycleError:
            continue
        kept.append(entry.event)
    return kept


def _span_at(spans: list[StatusSpan], k: int, e: int) -> Stretch | None:
    found = [s for s in spans if s.known_from <= k < s.known_until
             and s.eff_from <= e < s.eff_until]
    assert len(found) <= 1, found
    if not found:
        return None
    (span,) = found
    return Stretch(from_micros(span.eff_from),
                   None if span.eff_until >= FOREVER else from_micros(span.eff_until),
                   span.bounded_by)


@settings(max_examples=150, deadline=None)
@given(histories())
def test_the_rows_of_a_measures_stretches_say_what_its_full_state_says(
        events: list[PolicyEvent]) -> None:
    # given a random history of one measure, recorded at once
    entries = corrected_log([Recorded(i, RECORDED, e) for i, e in enumerate(events, 1)],
                            RECORDED)
    # when its stretches' rows are made as the read model makes them
    _, _, spans = measure_tables(entries, "m")
    for k in sorted({fold_key(e.event.known) for e in entries}):
        known = [e.event for e in known_order(entries) if fold_key(e.event.known) <= k]
        full = fold(known, strict=False).measures["m"]
        for offset in range(-5, 320, 4):
            at = datetime(2025, 1, 1, 5, 1, tzinfo=UTC) + timedelta(days=offset)
            # then at every instant the row found says what the full state's stretch says
            assert _span_at(spans, k, micros(at)) == full.stretch_at(at), (from_micros(k), at)
