"""The hash chain's link of a stored entry is taken over its event's canonical bytes, however
the walk finds them in the stored state."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from uuid import uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tariff_timeline.store.chain import GENESIS, ChainBroken, ChainWalker, RawRow, dumps, link
from tariff_timeline.store.mapper import entry_state

TOPIC = "tariffs.MeasureAnnounced.v1"

# JSON data as an event's dump may hold it: text with quotes, escapes and non-ASCII
# characters (the store writes them unescaped), numbers, nesting.
_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12)
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | _TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3),
    max_leaves=12)
_EVENTS = st.dictionaries(_TEXT, _JSON, max_size=5)
# As the store writes a recorded time (an ISO instant, which needs no escaping).
_RECORDED = st.datetimes(timezones=st.just(UTC)).map(datetime.isoformat)


def _walk(state: bytes) -> tuple[ChainWalker, RawRow]:
    timeline = uuid4()
    return ChainWalker(timeline, uuid4()), RawRow(1, timeline, 1, TOPIC, state)


@given(event=_EVENTS, recorded_at=_RECORDED)
def test_a_stored_entry_links_over_its_events_canonical_bytes(
        event: dict[str, object], recorded_at: str) -> None:
    # given an entry stored as the mapper writes it, linked after the genesis
    expected = link(GENESIS, TOPIC, 1, recorded_at, dumps(event))
    walker, row = _walk(entry_state(dumps(event), recorded_at, expected))
    # when the walk checks it
    state = walker.step(row)
    # then the link it recomputes is the one over the event's canonical bytes
    assert state is not None and state["event"] == event
    assert walker.state.link == expected


@given(event=_EVENTS, recorded_at=_RECORDED)
def test_the_walk_hands_on_the_bytes_its_link_covered(
        event: dict[str, object], recorded_at: str) -> None:
    # given an entry stored as the mapper writes it
    expected = link(GENESIS, TOPIC, 1, recorded_at, dumps(event))
    walker, row = _walk(entry_state(dumps(event), recorded_at, expected))
    # when the walk checks it
    walker.step(row)
    # then the bytes it keeps for a reader are the event's canonical bytes, which the link
    # covered, and parse to the event
    assert walker.event_bytes == dumps(event)
    assert json.loads(walker.event_bytes) == event


@given(event=_EVENTS, recorded_at=_RECORDED, extra=_JSON)
def test_a_state_with_another_key_is_a_break_that_names_it(
        event: dict[str, object], recorded_at: str, extra: object) -> None:
    # given a canonical state that carries a key the store never writes, between the event
    # and the recorded time, and a link over the event alone (which that key leaves as it was)
    expected = link(GENESIS, TOPIC, 1, recorded_at, dumps(event))
    state = {"chain": expected, "event": event, "other": extra, "recorded_at": recorded_at}
    walker, row = _walk(dumps(state))
    # when the walk checks it, then it stops there, naming the key
    with pytest.raises(ChainBroken, match=r"never writes there \(other\)"):
        walker.step(row)
    assert walker.state.events == 0


def _spaced(data: object) -> bytes:
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(", ", ": ")).encode()


@given(event=_EVENTS.filter(bool), recorded_at=_RECORDED,
       where=st.sampled_from(["whole", "event", "around"]))
def test_an_entry_out_of_its_canonical_form_is_a_break_that_says_so(
        event: dict[str, object], recorded_at: str, where: str) -> None:
    # given an entry linked over its event's canonical bytes, then re-spaced in its stored
    # bytes (the same data), whole, only inside the event or only around it
    expected = link(GENESIS, TOPIC, 1, recorded_at, dumps(event))
    stored = {"whole": _spaced({"chain": expected, "event": event, "recorded_at": recorded_at}),
              "event": entry_state(_spaced(event), recorded_at, expected),
              "around": b'{"chain": ' + dumps(expected) + b', "event": ' + dumps(event)
              + b', "recorded_at": ' + dumps(recorded_at) + b"}"}[where]
    walker, row = _walk(stored)
    # when the walk checks it, then it stops there, telling an edit of the form
    with pytest.raises(ChainBroken, match="not in the canonical form"):
        walker.step(row)
    assert walker.state.events == 0 and walker.state.link == GENESIS


def test_an_entry_state_is_the_canonical_dump_of_its_three_keys() -> None:
    # given an event with text the store writes unescaped
    event = {"title": 'Zölle "reciprocal" \\ tarif', "rate": "10"}
    # when the mapper builds its stored state around its canonical bytes
    built = entry_state(dumps(event), "2025-04-05T04:01:00+00:00", "ab" * 32)
    # then it is what canonical JSON writes for the three keys
    assert built == dumps({"chain": "ab" * 32, "event": event,
                           "recorded_at": "2025-04-05T04:01:00+00:00"})
    assert json.loads(built)["event"] == event
