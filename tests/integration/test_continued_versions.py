"""Appends that only continue a subject's history (a stacking rule changed again, an exemption
revoked, a quota's next period) continue its versions from the last one instead of folding
its whole history again; the read model then holds what the fold of the whole history gives,
and answers as the fold does (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

import tariff_timeline.projections.versions as versions
from tariff_timeline import QueryPath, TariffTimeline
from tariff_timeline.domain.errors import ImportRejected
from tariff_timeline.events import (
    EventRetracted,
    PolicyEvent,
    QuotaChanged,
    StackingRuleChanged,
    subject_key,
)
from tariff_timeline.events.instants import fold_key
from tariff_timeline.projections import Corrected, corrected_log
from tariff_timeline.projections.pieces import FOREVER
from tariff_timeline.readmodel.tables import VersionRow
from tariff_timeline.readmodel.writer import ReadModelWriter
from tests.builders import (
    SOURCE,
    corrected,
    exemption,
    exemption_revoked,
    imposed,
    quota,
    stacking,
)
from tests.builders import day as _day
from tests.conftest import FakeClock

START = date(2025, 1, 1)
SUBJECTS = ("rule:no-recip-on-232", "exemption:x", "quota:q")


def _appends() -> list[list[PolicyEvent]]:
    """A baseline, then one event an append, each known after the one before."""
    first: list[PolicyEvent] = [
        imposed("base", "baseline", known=_day(0), start=_day(5), percent=10, program="recip"),
        imposed("au", "autos", known=_day(0), start=_day(5), percent=25,
                authority="Section 232", products=("8703",)),
        stacking("set", "no-recip-on-232", known=_day(1), start=_day(5),
                 when={"authorities": ["Section 232"]}, excludes={"programs": ["recip"]}),
        exemption("ex", "x", known=_day(1), start=_day(5), measures=("baseline",),
                  products=("9503",)),
        quota("q0", "q", "autos", known=_day(1), start=_day(5), in_quota=0, origins=("MX",))]
    later: list[list[PolicyEvent]] = []
    for n in range(1, 9):
        later.append([StackingRuleChanged.model_validate({
            "id": f"c{n}", "rule": "no-recip-on-232", "known": _day(10 * n),
            "effective_from": _day(20 * n), "effective_until": _day(20 * n + 15 + n),
            "in_effect": n % 2 == 0, "sources": SOURCE})])
        later.append([QuotaChanged.model_validate({
            "id": f"q{n}", "quota": "q", "known": _day(10 * n + 1),
            "effective_from": _day(10 * n + 1), "volume": f"{n * 1000} tonnes",
            "sources": SOURCE})])
    later.append([exemption_revoked("exr", "x", known=_day(100), start=_day(120))])
    # Last, a change to the rule known before its latest ones (learnt late): not a
    # continuation, so the rule is folded again from its version before day 15.
    later.append([StackingRuleChanged.model_validate({
        "id": "c-late", "rule": "no-recip-on-232", "known": _day(15),
        "effective_from": _day(40), "effective_until": _day(50), "in_effect": False,
        "sources": SOURCE})])
    return [first, *later]


@pytest.fixture
def refolded(monkeypatch: pytest.MonkeyPatch) -> Iterator[Counter[str]]:
    """How often each subject's versions were folded from its whole history."""
    whole = versions.versions_of
    counted: Counter[str] = Counter()

    def counting(entries: Sequence[Corrected], subject: str) -> Any:
        counted[subject] += 1
        return whole(entries, subject)

    monkeypatch.setattr(versions, "versions_of", counting)
    yield counted


@pytest.fixture
def read_later_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[Counter[str]]:
    """How often each subject was continued from its new events alone, its history unread."""
    only_later = ReadModelWriter._only_later
    counted: Counter[str] = Counter()

    def counting(writer: ReadModelWriter, *args: Any) -> dict[str, Any]:
        found = only_later(writer, *args)
        counted.update(list(found))
        return found

    monkeypatch.setattr(ReadModelWriter, "_only_later", counting)
    yield counted


@pytest.fixture
def resumed(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, int]]]:
    """Each subject folded again from a version before the first instant a group changed,
    with that instant."""
    resuming = ReadModelWriter._resumed
    found: list[tuple[str, int]] = []

    def recording(writer: ReadModelWriter, *args: Any) -> dict[str, Any]:
        out = resuming(writer, *args)
        found.extend((subject, changed) for subject, (changed, _) in out.items())
        return out

    monkeypatch.setattr(ReadModelWriter, "_resumed", recording)
    yield found


def _open_versions(timeline: TariffTimeline, subject: str) -> list[tuple[int, int, str]]:
    assert timeline.read_model is not None
    with Session(timeline.read_model.engine) as session:
        return [tuple(row) for row in session.execute(  # type: ignore[misc]
            select(VersionRow.known_from, VersionRow.known_until, VersionRow.state).where(
                VersionRow.subject == subject, VersionRow.rec_until == FOREVER)
            .order_by(VersionRow.known_from))]


def test_appends_that_continue_a_history_fold_it_no_more_and_keep_its_whole_versions(
        timeline: TariffTimeline, clock: FakeClock, refolded: Counter[str],
        read_later_only: Counter[str]) -> None:
    # Given a rule, an exemption and a quota, then appends that each only continue one
    for events in _appends():
        clock.advance(hours=1)
        timeline.record_events(events)
        timeline.catch_up()
    # Then each was folded whole once, when it began (the import's own check folds events,
    # not versions); the change learnt late was folded from the version before it
    assert {subject: refolded[subject] for subject in SUBJECTS} == {
        "rule:no-recip-on-232": 1, "exemption:x": 1, "quota:q": 1}
    # and, no correction having touched them, each later append read only its own events
    assert dict(read_later_only) == {"rule:no-recip-on-232": 8, "quota:q": 8, "exemption:x": 1}
    # and the read model holds the versions the fold of the whole history gives
    entries = corrected_log(timeline.store.read())
    for subject in SUBJECTS:
        assert _open_versions(timeline, subject) == [
            (v.known_from, v.known_until, v.text) for v in versions.versions_of(
                [e for e in entries if subject_key(e.event) == subject], subject)]


def _change(eid: str, rule: str, known: int, start: int) -> PolicyEvent:
    return StackingRuleChanged.model_validate({
        "id": eid, "rule": rule, "known": _day(known), "effective_from": _day(start),
        "effective_until": _day(start + 10), "in_effect": False, "sources": SOURCE})


def _holds_the_folds_versions(timeline: TariffTimeline, subjects: Sequence[str]) -> None:
    entries = corrected_log(timeline.store.read())
    for subject in subjects:
        assert _open_versions(timeline, subject) == [
            (v.known_from, v.known_until, v.text) for v in versions.versions_of(
                [e for e in entries if subject_key(e.event) == subject], subject)]


def test_appends_after_a_correction_continue_the_corrected_versions(
        timeline: TariffTimeline, clock: FakeClock, read_later_only: Counter[str]) -> None:
    # Given the rule changed twice, its first change then corrected to have taken effect
    # later and been known later (after the second change), the quota's first change
    # retracted
    given = _appends()[:5]
    given.append([corrected("fix-c1", _change("c1", "no-recip-on-232", 35, 50), known=_day(25))])
    given.append([EventRetracted.model_validate({
        "id": "drop-q1", "known": _day(25), "sources": SOURCE, "retracts": "q1",
        "reason": "never published"})])
    for events in given:
        clock.advance(hours=1)
        timeline.record_events(events)
        timeline.catch_up()
    read_later_only.clear()
    # When the rule is changed again, known before the replacement, then the quota, and
    # the rule once more, each known after everything about its subject as corrected
    for events in ([_change("c3", "no-recip-on-232", 30, 60)], [QuotaChanged.model_validate({
            "id": "q3", "quota": "q", "known": _day(31), "effective_from": _day(31),
            "volume": "3000 tonnes", "sources": SOURCE})],
            [_change("c4", "no-recip-on-232", 40, 70)]):
        clock.advance(hours=1)
        timeline.record_events(events)
        timeline.catch_up()
    # then each append but the first read only its own events, and the read model holds
    # the versions the fold of the whole corrected history gives
    assert dict(read_later_only) == {"rule:no-recip-on-232": 1, "quota:q": 1}
    _holds_the_folds_versions(timeline, SUBJECTS)


def test_an_event_moved_away_and_corrected_again_folds_the_subject_it_left_whole(
        timeline: TariffTimeline, clock: FakeClock, read_later_only: Counter[str]) -> None:
    # Given a second rule, and the first rule's change c1 corrected to be the second's
    given = _appends()[:2]
    given.append([stacking("set2", "r2", known=_day(2), start=_day(5),
                           when={"authorities": ["Section 232"]},
                           excludes={"programs": ["recip"]})])
    given.append([corrected("to-r2", _change("c1", "r2", 10, 20), known=_day(11))])
    for events in given:
        clock.advance(hours=1)
        timeline.record_events(events)
        timeline.catch_up()
    read_later_only.clear()
    # When one append corrects c1 again, back to the first rule (naming neither the second
    # rule nor its correction), and changes the second rule, known after it all
    clock.advance(hours=1)
    timeline.record_events([corrected("back", _change("c1", "no-recip-on-232", 10, 20),
                                      known=_day(12)),
                            _change("c2", "r2", 40, 60)])
    timeline.catch_up()
    # then the second rule is not continued from its last version, which still holds c1,
    # and the read model holds the versions the fold of the whole corrected history gives
    assert "rule:r2" not in read_later_only
    _holds_the_folds_versions(timeline, ["rule:no-recip-on-232", "rule:r2"])


def test_answers_after_continued_appends_are_the_folds(
        timeline: TariffTimeline, clock: FakeClock) -> None:
    for events in _appends():
        clock.advance(hours=1)
        timeline.record_events(events)
    for entered in (_day(30), _day(45), _day(62), _day(150)):
        for origin, hts in (("JP", "8703.23.01"), ("MX", "8703.23.01"), ("CN", "9503.00.00")):
            question = {"origin": origin, "hts": hts, "entered": entered}
            read_model = timeline.rate_on(**question).model_dump(mode="json")
            path, timeline.query_path = timeline.query_path, QueryPath.FOLD
            try:
                folded = timeline.rate_on(**question).model_dump(mode="json")
            finally:
                timeline.query_path = path
            assert read_model == folded


RULE = "rule:no-recip-on-232"


def _at(n: int) -> int:
    """The fold's key for the start of day n."""
    return fold_key(START + timedelta(days=n))


def _recorded(timeline: TariffTimeline, clock: FakeClock,
              appends: Sequence[Sequence[PolicyEvent]]) -> None:
    for events in appends:
        clock.advance(hours=1)
        timeline.record_events(list(events))
        timeline.catch_up()


class TestAChangedHistoryIsFoldedFromWhereItChanged:
    def test_a_correction_of_the_last_change_folds_the_rule_again_from_it_alone(
            self, timeline: TariffTimeline, clock: FakeClock, refolded: Counter[str],
            resumed: list[tuple[str, int]]) -> None:
        # given the rule changed eight times, the last known on day 80
        _recorded(timeline, clock, _appends()[:-2])
        refolded.clear()
        # when its last change is corrected to have taken effect later
        _recorded(timeline, clock, [[corrected("fix-c8", _change("c8", RULE[5:], 80, 175),
                                               known=_day(90))]])
        # then the rule is folded again from its version before day 80, not whole
        assert resumed == [(RULE, _at(80))] and refolded[RULE] == 0
        # and the read model holds the versions the fold of the whole history gives
        _holds_the_folds_versions(timeline, SUBJECTS)

    @pytest.mark.parametrize("known", [5, 95], ids=["earlier", "later"])
    def test_a_change_moved_in_known_time_folds_again_from_the_earlier_instant(
            self, timeline: TariffTimeline, clock: FakeClock, resumed: list[tuple[str, int]],
            known: int) -> None:
        # given the rule changed eight times, the fourth known on day 40
        _recorded(timeline, clock, _appends()[:-2])
        # when the fourth is corrected to have been known on another day
        _recorded(timeline, clock, [[corrected("fix-c4", _change("c4", RULE[5:], known, 90),
                                               known=_day(100))]])
        # then the rule is folded again from the earlier of the two days
        assert resumed == [(RULE, _at(min(known, 40)))]
        _holds_the_folds_versions(timeline, SUBJECTS)

    def test_a_retraction_of_the_last_change_extends_the_version_before_it(
            self, timeline: TariffTimeline, clock: FakeClock,
            resumed: list[tuple[str, int]]) -> None:
        _recorded(timeline, clock, _appends()[:-2])
        _recorded(timeline, clock, [[EventRetracted.model_validate({
            "id": "drop-c8", "known": _day(90), "sources": SOURCE, "retracts": "c8",
            "reason": "never published"})]])
        assert resumed == [(RULE, _at(80))]
        assert _open_versions(timeline, RULE)[-1][1] == FOREVER
        _holds_the_folds_versions(timeline, SUBJECTS)

    def test_a_correction_of_the_first_event_folds_the_whole_history(
            self, timeline: TariffTimeline, clock: FakeClock, refolded: Counter[str],
            resumed: list[tuple[str, int]]) -> None:
        _recorded(timeline, clock, _appends()[:-2])
        refolded.clear()
        _recorded(timeline, clock, [[corrected("fix-set", stacking(
            "set", RULE[5:], known=_day(1), start=_day(6), when={"authorities": ["Section 232"]},
            excludes={"programs": ["recip"]}), known=_day(90))]])
        assert resumed == [] and refolded[RULE] == 1
        _holds_the_folds_versions(timeline, SUBJECTS)


@st.composite
def _changes(draw: st.DrawFn) -> list[list[PolicyEvent]]:
    """Appends of changes to the rule and the quota, corrections and retractions of them,
    each known on any of a few days (so often before what is recorded)."""
    appends: list[list[PolicyEvent]] = []
    made: list[str] = []
    n = 0
    for _ in range(draw(st.integers(1, 6))):
        batch: list[PolicyEvent] = []
        for _ in range(draw(st.integers(1, 3))):
            n += 1
            known, start = draw(st.integers(2, 30)), draw(st.integers(5, 60))
            kind = draw(st.sampled_from(["rule", "rule", "quota", "correct", "correct",
                                         "retract"]))
            if kind in ("correct", "retract") and made:
                target = draw(st.sampled_from(made))
                if kind == "retract":
                    batch.append(EventRetracted.model_validate({
                        "id": f"x{n}", "known": _day(known), "sources": SOURCE,
                        "retracts": target, "reason": "wrong"}))
                    made.remove(target)
                elif target.startswith("c"):
                    batch.append(corrected(f"x{n}", _change(target, RULE[5:], known, start),
                                           known=_day(known)))
                else:
                    batch.append(corrected(f"x{n}", _quota_change(target, known),
                                           known=_day(known)))
            elif kind == "quota":
                batch.append(_quota_change(f"q{n}", known))
                made.append(f"q{n}")
            else:
                batch.append(_change(f"c{n}", RULE[5:], known, start))
                made.append(f"c{n}")
        appends.append(batch)
    return appends


def _quota_change(eid: str, known: int) -> PolicyEvent:
    return QuotaChanged.model_validate({
        "id": eid, "quota": "q", "known": _day(known), "effective_from": _day(known + 5),
        "volume": f"{known} tonnes", "sources": SOURCE})


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(appends=_changes())
def test_versions_folded_from_where_a_history_changed_are_the_whole_folds(
        tmp_path_factory: pytest.TempPathFactory, appends: list[list[PolicyEvent]]) -> None:
    clock = FakeClock(datetime(2026, 1, 5, tzinfo=UTC))
    path = tmp_path_factory.mktemp("resumed") / "store.sqlite"
    timeline = TariffTimeline.open(f"sqlite:///{path}", clock=clock, load_bundled_if_new=False)
    try:
        # given a rule and a quota
        _recorded(timeline, clock, [_appends()[0]])
        for events in appends:
            clock.advance(hours=1)
            # when changes, corrections and retractions are appended (the store refusing
            # those the fold refuses)
            try:
                timeline.record_events(events)
            except ImportRejected:
                continue
            timeline.catch_up()
            # then after each, the read model holds the versions the whole fold gives
            _holds_the_folds_versions(timeline, (RULE, "quota:q"))
    finally:
        timeline.close()
