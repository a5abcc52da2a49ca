"""An append that only continues the histories of the subjects it is about (a stacking rule
changed, an exemption revoked, a quota changed, a deal's next step), each known after
everything recorded about its subject, is checked on those subjects' last states alone,
without reading their histories; it must find exactly what the whole-log check finds, and
anything else is checked in full (the cases on SQLite and PostgreSQL, the property on SQLite)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tariff_timeline import TariffTimeline
from tariff_timeline.domain.errors import ImportRejected
from tariff_timeline.events import (
    DealAnnounced,
    DealImplemented,
    PolicyEvent,
    QuotaChanged,
    StackingRuleChanged,
)
from tariff_timeline.events.instants import fold_key
from tariff_timeline.importing.subjects import continues_only
from tests.builders import (
    SOURCE,
    corrected,
    day,
    exemption,
    exemption_revoked,
    imposed,
    quota,
    stacking,
)
from tests.conftest import FakeClock
from tests.integration.test_appends_by_subject import (
    _counted,
    _counting,
    _opened,
    appended_as_the_whole_log_check_says,
    whole_log_forbidden,
)
from tests.integration.test_streamed_import import _reference

DAY0 = date(2025, 1, 1)


def base() -> list[PolicyEvent]:
    """A measure, and a stacking rule, an exemption, a quota and a deal about it."""
    return [
        imposed("m1-on", "m1", known=day(0), start=day(1), percent=25,
                authority="Section 232", products=("8703",)),
        stacking("r-set", "r", known=day(1), start=day(1),
                 when={"authorities": ["Section 232"]}, excludes={"programs": ["recip"]}),
        exemption("x-on", "x", known=day(1), start=day(1), measures=("m1",)),
        quota("q-on", "q", "m1", known=day(1), start=day(1), in_quota=0, origins=("MX",)),
        DealAnnounced.model_validate({
            "id": "d-on", "deal": "d", "known": day(1), "title": "deal d",
            "partners": {"origins": ["JP"], "products": ["ALL"]}, "terms": "terms",
            "sources": SOURCE}),
    ]


def rule_changed(eid: str, rule: str, known: int, start: int, length: int, in_effect: bool,
                 names: str | None = None) -> PolicyEvent:
    fields: dict[str, Any] = {
        "id": eid, "rule": rule, "known": day(known), "effective_from": day(start),
        "effective_until": day(start + length), "in_effect": in_effect, "sources": SOURCE}
    if names is not None:
        fields["when"] = {"measures": [names]}
    return StackingRuleChanged.model_validate(fields)


def quota_changed(eid: str, name: str, known: int, start: int) -> PolicyEvent:
    return QuotaChanged.model_validate({
        "id": eid, "quota": name, "known": day(known), "effective_from": day(start),
        "volume": f"{known} tonnes", "sources": SOURCE})


def deal_step(eid: str, name: str, known: int, start: int) -> PolicyEvent:
    return DealImplemented.model_validate({
        "id": eid, "deal": name, "known": day(known), "effective_from": day(start),
        "step": f"step {eid}", "sources": SOURCE})


@st.composite
def continuation(draw: st.DrawFn, n: int) -> PolicyEvent:
    """One event about the base's subjects (or an unknown one), known on a day that may come
    before or after what is recorded about it."""
    # Few days, so that an event is often known before what was recorded about its subject.
    known = draw(st.integers(2, 12))
    start = draw(st.integers(1, 40))
    kind = draw(st.sampled_from(["rule", "rule", "rule-naming", "exemption", "exemption",
                                 "quota", "quota", "deal", "unknown", "imposed",
                                 "correction", "correction", "set-again"]))
    eid = f"e{n}"
    if kind == "rule":
        return rule_changed(eid, "r", known, start, draw(st.integers(1, 30)),
                            draw(st.booleans()))
    if kind == "rule-naming":
        # Selectors naming a measure: the quick check holds no measure, so it refuses.
        return rule_changed(eid, "r", known, start, 10, True,
                            names=draw(st.sampled_from(["m1", "m2", "m9"])))
    if kind == "exemption":
        return exemption_revoked(eid, "x", known=day(known), start=day(start))
    if kind == "quota":
        return quota_changed(eid, "q", known, start)
    if kind == "deal":
        return deal_step(eid, "d", known, start)
    if kind == "unknown":
        return draw(st.sampled_from([
            rule_changed(eid, "r9", known, start, 5, True),
            exemption_revoked(eid, "x9", known=day(known), start=day(start)),
            quota_changed(eid, "q9", known, start), deal_step(eid, "d9", known, start)]))
    if kind == "set-again":
        # The rule set a second time: refused wherever it falls in known time.
        return stacking(eid, "r", known=day(known), start=day(start),
                        when={"authorities": ["Section 232"]}, excludes={"programs": ["recip"]})
    if kind == "imposed":
        # A measure a later rule change may name (known on a day it may come before).
        return imposed(eid, "m2", known=day(known), start=day(start), percent=10)
    # A correction of the rule's first change, moving it in known time: the rule's later
    # appends are then checked on its corrected last state, or in full when known before
    # the replacement.
    return corrected(eid, rule_changed("r-c1", "r", known, start, 5, False), known=day(known))


@st.composite
def appends(draw: st.DrawFn) -> list[list[PolicyEvent]]:
    """Up to eight appends of one to three events each."""
    out: list[list[PolicyEvent]] = []
    n = 0
    for _ in range(draw(st.integers(1, 8))):
        batch = []
        for _ in range(draw(st.integers(1, 3))):
            n += 1
            batch.append(draw(continuation(n)))
        out.append(batch)
    return out


@settings(max_examples=200, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(batches=appends())
def test_a_continuing_append_finds_exactly_what_the_whole_log_check_finds(
        tmp_path_factory: pytest.TempPathFactory, batches: list[list[PolicyEvent]]) -> None:
    clock = FakeClock(datetime(2026, 1, 5, tzinfo=UTC))
    folder = tmp_path_factory.mktemp("continuing")
    with _opened(f"sqlite:///{folder / 'store.sqlite'}", clock) as timeline:
        # given the base, and the rule's first change
        timeline.record_events([*base(), rule_changed("r-c1", "r", 2, 5, 10, False)])
        for batch in batches:
            clock.advance(minutes=1)
            # when events are appended, then the check finds what folding the whole log
            # finds, and the append does
            appended_as_the_whole_log_check_says(timeline, batch)
        assert timeline.verify().intact


@pytest.fixture
def based(db_url: str, clock: FakeClock) -> Iterator[TariffTimeline]:
    """The base and the rule's first change, on each backend."""
    with _opened(db_url, clock) as timeline:
        timeline.record_events([*base(), rule_changed("r-c1", "r", 2, 5, 10, False)])
        clock.advance(minutes=1)
        yield timeline


def quick(timeline: TariffTimeline, events: list[PolicyEvent]) -> bool:
    assert timeline.read_model is not None
    with timeline.read_model.recorded_log(timeline.store) as log:
        return continues_only(log, events)


class TestWhichAppendsAreCheckedOnLastStates:
    @pytest.mark.parametrize("events", [
        [rule_changed("c", "r", 3, 20, 5, True)],
        [exemption_revoked("c", "x", known=day(3), start=day(20))],
        [quota_changed("c", "q", 3, 20)],
        [deal_step("c", "d", 3, 20)],
        [rule_changed("c", "r", 3, 20, 5, True), quota_changed("c2", "q", 4, 20),
         rule_changed("c3", "r", 3, 40, 5, False)],
    ], ids=["rule", "exemption", "quota", "deal", "several"])
    def test_a_continuation_known_after_its_subjects_history_reads_no_history(
            self, based: TariffTimeline, events: list[PolicyEvent]) -> None:
        # given the base; when a continuation known after it all is checked
        found, subjects = _counting(based, events)
        # then it is accepted on the last states alone, as the whole check accepts it
        assert quick(based, events)
        assert found == _reference(based, events) == [] and subjects == set()

    @pytest.mark.parametrize("events", [
        # known the day the rule's latest change was: the fold's order puts it after, but
        # only the whole check decides such ties
        [rule_changed("c", "r", 2, 20, 5, True)],
        [rule_changed("c", "r", 1, 20, 5, True)],  # known before the rule's latest change
        [rule_changed("c", "r", 3, 20, 5, True, names="m1")],  # selectors name a measure
        [rule_changed("c", "r9", 3, 20, 5, True)],  # no such rule
        [exemption_revoked("c", "x", known=day(3), start=day(0))],  # not yet in effect
        [quota_changed("c", "q", 3, 0)],  # not yet open
        [rule_changed("c", "r", 3, 20, 5, True), imposed("m2-on", "m2", known=day(3),
                                                         start=day(1), percent=10)],
    ], ids=["same-day", "known-before", "names-measure", "unknown", "not-in-effect",
            "not-open", "with-a-measure"])
    def test_anything_else_is_checked_in_full(self, based: TariffTimeline,
                                              events: list[PolicyEvent]) -> None:
        found, subjects = _counting(based, events)
        assert not quick(based, events)
        assert found == _reference(based, events) and subjects

    def test_a_corrected_subject_is_checked_on_its_corrected_last_state(
            self, based: TariffTimeline) -> None:
        # given the rule's first change corrected to take effect a day later
        based.record_events([corrected("fix", rule_changed("r-c1", "r", 2, 6, 10, False),
                                       known=day(2))])
        # when the rule is changed again, known after the correction's replacement
        events = [rule_changed("c", "r", 3, 20, 5, True)]
        found, subjects = _counting(based, events)
        # then it is accepted on the last state alone, as the whole check accepts it
        assert quick(based, events)
        assert found == _reference(based, events) == [] and subjects == set()

    def test_a_change_known_before_a_replacement_is_checked_in_full(
            self, based: TariffTimeline) -> None:
        # given the rule's first change corrected to have been known on day 5, not day 2
        based.record_events([corrected("fix", rule_changed("r-c1", "r", 5, 5, 10, False),
                                       known=day(2))])
        # when a change known on day 4 is appended, after the first change as recorded
        # but before it as corrected
        events = [rule_changed("c", "r", 4, 20, 5, True)]
        found, subjects = _counting(based, events)
        # then the rule's history is read, as the fold's order needs
        assert not quick(based, events)
        assert found == _reference(based, events) == [] and "rule:r" in subjects

    def test_a_revocation_is_checked_against_the_corrected_state(
            self, based: TariffTimeline) -> None:
        # given the exemption revoked from day 30, corrected to be revoked from day 20
        based.record_events([exemption_revoked("x-r1", "x", known=day(5), start=day(30))])
        based.record_events([corrected("fix", exemption_revoked("x-r1", "x", known=day(5),
                                                                 start=day(20)), known=day(2))])
        # when a revocation from day 15 is appended, then it is accepted on the last state
        earlier = [exemption_revoked("c1", "x", known=day(6), start=day(15))]
        assert quick(based, earlier)
        assert _counting(based, earlier) == ([], set()) and _reference(based, earlier) == []
        # and one from day 25, when the corrected revocation has ended the exemption, is
        # refused as the whole check refuses it, where the state as first recorded would
        # have taken it
        later = [exemption_revoked("c2", "x", known=day(6), start=day(25))]
        assert not quick(based, later)
        assert _counting(based, later)[0] == _reference(based, later) == [
            "<python>:1: event 'c2', field 'effective_from': exemption 'x' is not in effect "
            "at 2025-01-26T00:01:00-05:00"]

    def test_a_revocation_learnt_late_that_breaks_a_recorded_one_is_refused(
            self, based: TariffTimeline) -> None:
        # given the exemption revoked from day 20, known on day 5
        based.record_events([exemption_revoked("x-r1", "x", known=day(5), start=day(20))])
        # when a revocation from day 10 is learnt to have been known on day 3
        events = [exemption_revoked("x-r0", "x", known=day(3), start=day(10))]
        # then the recorded revocation no longer finds the exemption in effect, as on its
        # last state alone it would
        assert not quick(based, events)
        expected = _reference(based, events)
        assert _counting(based, events)[0] == expected == [
            "recorded event 'x-r1': event 'x-r1', field 'effective_from': exemption 'x' is "
            "not in effect at 2025-01-21T00:01:00-05:00"]

    def test_a_refused_continuation_is_named_at_its_line(
            self, based: TariffTimeline) -> None:
        with whole_log_forbidden(), pytest.raises(ImportRejected) as caught:
            based.record_events([quota_changed("c", "q", 3, 20),
                                 exemption_revoked("c2", "x", known=day(3), start=day(0))])
        assert caught.value.problems == [
            "<python>:2: event 'c2', field 'effective_from': exemption 'x' is not in effect "
            "at 2025-01-01T00:01:00-05:00"]


class TestAHistoryChangedInThePastIsCheckedFromWhereItChanged:
    """An append that changes a subject's history before its end (a correction, a change
    learnt late), when that subject's history names no other, is folded from the state the
    read model keeps just before the first instant it changes."""

    def test_a_correction_of_the_rules_last_change_is_folded_from_the_state_before_it(
            self, based: TariffTimeline) -> None:
        # given the rule changed on days 5 and 6
        based.record_events([rule_changed("r-c5", "r", 5, 20, 5, True),
                             rule_changed("r-c6", "r", 6, 30, 5, False)])
        # when the day-6 change is corrected to last longer
        events = [corrected("fix", rule_changed("r-c6", "r", 6, 30, 9, False), known=day(2))]
        found, counting = _counted(based, events)
        # then it is accepted as the whole check accepts it, folded from day 6 on
        assert found == _reference(based, events) == []
        assert counting.states_before == [("rule:r", fold_key(DAY0 + timedelta(days=6)))]

    def test_a_second_setting_of_a_rule_learnt_late_is_refused_at_its_line(
            self, based: TariffTimeline) -> None:
        # given the rule changed on day 5
        based.record_events([rule_changed("r-c5", "r", 5, 20, 5, True)])
        # when the rule is set again, known on day 3 (before the day-5 change)
        events = [stacking("r-set-again", "r", known=day(3), start=day(1),
                           when={"authorities": ["Section 232"]},
                           excludes={"programs": ["recip"]})]
        found, counting = _counted(based, events)
        # then it is refused as the whole check refuses it, folded from day 3 on
        assert found == _reference(based, events) == [
            "<python>:1: event 'r-set-again', field 'rule': stacking rule 'r' already exists"]
        assert counting.states_before == [("rule:r", fold_key(DAY0 + timedelta(days=3)))]

    def test_a_subject_whose_history_names_another_is_folded_whole(
            self, based: TariffTimeline) -> None:
        # given a change whose selectors name the measure
        based.record_events([rule_changed("r-c5", "r", 5, 20, 5, True, names="m1")])
        events = [corrected("fix", rule_changed("r-c5", "r", 5, 20, 9, True, names="m1"),
                            known=day(2))]
        found, counting = _counted(based, events)
        assert found == _reference(based, events) == []
        assert counting.states_before == [] and "measure:m1" in counting.subjects
