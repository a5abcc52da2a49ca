"""A state keeps only the paints some date can still show: dropping the rest changes no
answer at any instant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from tariff_timeline.domain.paint import Paint, paint_at, visible, visible_with
from tariff_timeline.events import StackingRuleChanged
from tariff_timeline.projections import Recorded, corrected_log, fold_at
from tests.builders import SOURCE, imposed, stacking
from tests.unit.pure import RECORDED, ask, reason

DAY0 = datetime(2025, 1, 1, tzinfo=UTC)


def _day(n: int) -> datetime:
    return DAY0 + timedelta(days=n)


_PAINTS = st.lists(st.tuples(st.integers(0, 60), st.one_of(st.none(), st.integers(1, 30)),
                             st.integers(0, 3)), max_size=25)


@given(_PAINTS)
def test_visible_paints_answer_every_instant_as_all_of_them(drawn: list[tuple[
        int, int | None, int]]) -> None:
    # Given paints in the order their events became known
    paints = tuple(Paint(_day(start), None if length is None else _day(start + length), value,
                         f"e{i}") for i, (start, length, value) in enumerate(drawn))
    # When only the visible ones are kept
    kept = visible(paints)
    # Then every instant (each day, and each boundary) shows the same paint
    assert set(kept) <= set(paints)
    assert [paints.index(p) for p in kept] == sorted(paints.index(p) for p in kept)
    for day in range(-1, 95):
        assert paint_at(kept, _day(day)) is paint_at(paints, _day(day))
    # and none kept is wholly hidden: each is the topmost paint at its start, or later
    for paint in kept:
        end = 95 if paint.end is None else (paint.end - DAY0).days
        assert any(paint_at(paints, _day(d)) is paint for d in range((paint.start - DAY0).days,
                                                                     end))


@given(st.lists(st.tuples(st.integers(0, 60), st.one_of(st.none(), st.integers(0, 30)),
                          st.integers(0, 3)), min_size=1, max_size=30))
def test_painting_one_more_over_visible_paints_keeps_what_visible_keeps(drawn: list[tuple[
        int, int | None, int]]) -> None:
    # Given paints in the order their events became known (empty intervals too)
    paints = [Paint(_day(start), None if length is None else _day(start + length), value,
                    f"e{i}") for i, (start, length, value) in enumerate(drawn)]
    # When each is painted over the visible ones before it, as the fold of a rule does
    kept: tuple[Paint[int], ...] = (paints[0],)
    for n, paint in enumerate(paints[1:], start=2):
        kept = visible_with(kept, paint)
        # Then after every change the same paints are kept as by `visible` over all of them
        assert kept == visible(tuple(paints[:n]))


def test_one_more_paint_hides_only_what_the_paints_after_it_cover_whole() -> None:
    setting = Paint(_day(0), None, "set", "e1")
    june = Paint(_day(150), _day(180), "off", "e2")
    late_june = Paint(_day(165), _day(180), "on", "e3")
    # a later change over the same month hides the earlier one, not the open-ended setting
    assert visible_with((setting, june), Paint(_day(150), _day(180), "on", "e4")) == (
        setting, Paint(_day(150), _day(180), "on", "e4"))
    # two later ones that together cover it hide it; one that only touches it does not
    assert visible_with((setting, june, late_june), Paint(_day(150), _day(165), "x", "e5")) == (
        setting, late_june, Paint(_day(150), _day(165), "x", "e5"))
    assert visible_with((setting, june), Paint(_day(180), _day(200), "y", "e6")) == (
        setting, june, Paint(_day(180), _day(200), "y", "e6"))
    # an open-ended one from before the setting hides the setting too
    assert visible_with((setting, june), Paint(_day(-1), None, "z", "e7")) == (
        Paint(_day(-1), None, "z", "e7"),)


def test_a_change_wholly_covered_by_later_ones_is_dropped_and_the_last_is_kept() -> None:
    first = Paint(_day(10), _day(20), "a", "e1")
    wider = Paint(_day(5), _day(25), "b", "e2")
    open_ended = Paint(_day(0), None, "c", "e3")
    assert visible((first, wider)) == (wider,)
    assert visible((open_ended, first)) == (open_ended, first)
    assert visible((first, wider, open_ended)) == (open_ended,)
    touching = (first, Paint(_day(10), _day(15), "d", "e4"), Paint(_day(15), _day(20), "e", "e5"))
    assert visible(touching) == touching[1:]


def test_a_rule_changed_over_the_same_dates_answers_as_before_without_growing() -> None:
    # Given a stacking rule suspended and restored over the same month many times
    base = imposed("base", "baseline", known="2025-04-02", start="2025-04-05", percent=10,
                   program="recip")
    autos = imposed("au", "autos", known="2025-03-26", start="2025-04-03", percent=25,
                    authority="Section 232", products=("8703",))
    rule = stacking("r", "no-recip-on-232", known="2025-04-02", start="2025-04-05",
                    when={"authorities": ["Section 232"]}, excludes={"programs": ["recip"]})
    changes = [StackingRuleChanged.model_validate({
        "id": f"c{i}", "rule": "no-recip-on-232", "known": f"2025-05-{i + 1:02d}",
        "effective_from": "2025-06-01", "effective_until": "2025-07-01",
        "in_effect": i % 2 == 1, "sources": SOURCE}) for i in range(20)]
    given_events = [base, autos, rule, *changes]
    # When the goods are entered inside and outside the changed month
    inside = ask(given_events, origin="JP", hts="8703.23.01", entered="2025-06-15")
    outside = ask(given_events, origin="JP", hts="8703.23.01", entered="2025-05-15")
    # Then the last change decides inside it, the rule's setting outside it
    assert "not stacked" in reason(inside, "baseline")
    assert [e.id for layer in inside.layers if layer.measure == "baseline"
            for e in layer.events] == ["base", "r", "c19"]
    assert "not stacked" in reason(outside, "baseline")
    # and the rule's state holds its setting and the last change only, though it names every
    # event behind it
    entries = corrected_log([Recorded(i, RECORDED, e) for i, e in enumerate(given_events, 1)])
    state = fold_at(entries, datetime(2030, 1, 1, tzinfo=UTC)).rules["no-recip-on-232"]
    assert [p.event_id for p in state.versions] == ["r", "c19"]
    assert len(state.event_ids) == 21
