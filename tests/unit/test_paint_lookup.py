"""Many paints are looked up by bisection over their cover, and answer every instant as
trying each paint from the last does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from tariff_timeline.domain import paint as paint_module
from tariff_timeline.domain.paint import COVERED_FROM, Cover, Paint, paint_at

DAY0 = datetime(2025, 1, 1, tzinfo=UTC)
FIVE_HOURS_BEHIND = timezone(timedelta(hours=-5))


def _day(n: int) -> datetime:
    return DAY0 + timedelta(days=n)


def _topmost(paints: tuple[Paint[int], ...], at: datetime) -> Paint[int] | None:
    """The definition: the last paint whose interval holds the instant."""
    return next((p for p in reversed(paints) if p.covers(at)), None)


# Empty and reversed intervals too (a length of 0 or below), and open ends.
_PAINTS = st.lists(st.tuples(st.integers(0, 60), st.one_of(st.none(), st.integers(-3, 30)),
                             st.integers(0, 3)), max_size=60)


def _painted(drawn: list[tuple[int, int | None, int]]) -> tuple[Paint[int], ...]:
    return tuple(Paint(_day(start), None if length is None else _day(start + length), value,
                       f"e{i}") for i, (start, length, value) in enumerate(drawn))


@given(_PAINTS)
def test_a_cover_answers_every_instant_as_the_paints_tried_from_the_last(
        drawn: list[tuple[int, int | None, int]]) -> None:
    # given paints in the order their events became known
    paints = _painted(drawn)
    # when they are looked up through their cover
    cover = Cover(paints)
    # then every day, and every bound (where a paint starts or ends), finds the same paint
    for day in range(-2, 95):
        assert cover.at(_day(day)) is _topmost(paints, _day(day))
        assert cover.at(_day(day) - timedelta(microseconds=1)) is _topmost(
            paints, _day(day) - timedelta(microseconds=1))


@given(st.lists(st.tuples(st.integers(0, 60), st.one_of(st.none(), st.integers(1, 30)),
                          st.integers(0, 3)), min_size=COVERED_FROM, max_size=60))
def test_paint_at_answers_alike_however_many_paints_and_however_often_asked(
        drawn: list[tuple[int, int | None, int]]) -> None:
    # given enough paints to be looked up by their cover
    paints = _painted(drawn)
    # when the same state is asked at many instants, in another time zone too
    for day in range(-1, 95):
        at = _day(day)
        local = at.astimezone(FIVE_HOURS_BEHIND)
        # then each answer is the topmost paint there, as without the cover
        assert paint_at(paints, at) is _topmost(paints, at)
        assert paint_at(paints, local) is _topmost(paints, at)


def test_a_tuple_equal_to_one_looked_up_before_is_looked_up_as_itself() -> None:
    # given two states with equal paints that are different tuples (the cover is kept by
    # identity), one asked first
    drawn = [(day, 1, day % 3) for day in range(COVERED_FROM + 4)]
    first, second = _painted(drawn), _painted(drawn)
    assert first == second and first is not second
    assert paint_at(first, _day(3)) is first[3]
    # when the other is asked, then its own paint answers, not the first's
    found = paint_at(second, _day(3))
    assert found is second[3] and found is not first[3]


def test_a_cover_left_under_the_id_of_a_tuple_gone_is_not_taken_for_a_new_one() -> None:
    # given a cover kept under an id that a new tuple now has (Python reuses the ids of
    # objects gone), as if the tuple it was made for had been freed
    drawn = [(day, 1, day % 3) for day in range(COVERED_FROM + 4)]
    gone, new = _painted(drawn), _painted(drawn)
    paint_module._COVERS[id(new)] = (gone, Cover(gone))
    # when the new tuple is asked, then its own paint answers
    assert paint_at(new, _day(3)) is new[3]
