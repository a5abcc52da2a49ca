"""What an append stores is each event's canonical bytes, exactly, on both backends: on
PostgreSQL the rows go in psycopg's binary format, where text escaping once cost most of an
import's insert, so characters that text format escapes must come back as they went in."""

from __future__ import annotations

import json
from typing import cast

from tariff_timeline import TariffTimeline
from tariff_timeline.events import PolicyEvent
from tariff_timeline.store.mapper import canonical_bytes
from tests.builders import imposed
from tests.conftest import FakeClock

# What the composite and array text formats quote or escape, and text beyond ASCII.
AWKWARD = 'back\\slash "quoted" {braces}, (parens) ;NULL\n\ttab é 中 ✓'


def _titled(event: PolicyEvent, title: str) -> PolicyEvent:
    return type(event).model_validate({**event.model_dump(), "title": title})


def _stored_event(state: bytes) -> bytes:
    """The bytes of the event inside a stored entry, as they sit between its chain link and
    its recorded time (the keys in canonical order), taken from the bytes alone."""
    start = state.index(b',"event":') + len(b',"event":')
    return state[start:state.rindex(b',"recorded_at":')]


def test_an_append_stores_every_event_s_canonical_bytes_exactly(db_url: str,
                                                                  clock: FakeClock) -> None:
    # Given events whose titles hold every character a text format escapes
    events = [_titled(imposed(f"awkward-{n}", f"awkward-{n}", known="2025-04-02",
                              start="2025-04-05", percent=n), f"{AWKWARD} {n}")
              for n in range(1, 4)]
    timeline = TariffTimeline.open(db_url, clock=clock, load_bundled_if_new=False)
    try:
        # When they are appended in one import
        timeline.record_events(events)
        # Then each stored row holds the event's canonical bytes, byte for byte, the chain
        # over them is intact, and they read back as the events appended
        states = [bytes(cast(bytes, row.state)) for row in timeline.store.raw_rows()]
        stored = [_stored_event(state) for state in states if b'"event":' in state]
        assert stored == [canonical_bytes(event) for event in events]
        assert json.dumps(AWKWARD, ensure_ascii=False)[1:-1].encode() in stored[0]
        assert timeline.store.verify().intact
        assert [r.event for r in timeline.store.read()] == events
    finally:
        timeline.close()
