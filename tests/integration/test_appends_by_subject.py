"""An append is checked against the history of the subjects it names, read from the read model,
never by reading or folding the whole log; it must find exactly what the whole-log check finds.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tariff_timeline import TariffTimeline
from tariff_timeline.domain.errors import ImportRejected
from tariff_timeline.events import (
    EventCorrected,
    EventRetracted,
    MeasureInvalidated,
    PolicyEvent,
)
from tariff_timeline.events.instants import fold_key
from tariff_timeline.importing import Located
from tariff_timeline.importing.subjects import RecordedLog, check_by_subjects
from tariff_timeline.projections.replay import Recorded
from tariff_timeline.readmodel.tables import row_counts
from tariff_timeline.store import EventStore
from tests.builders import (
    SOURCE,
    corrected,
    court_ruled,
    exemption,
    exemption_revoked,
    imposed,
    quota,
    rate_changed,
)
from tests.conftest import FakeClock, _postgres_url
from tests.integration.test_read_model_equals_fold import SOURCE as SOURCE_OF_PROPERTY
from tests.integration.test_read_model_equals_fold import day, history, valid_events
from tests.integration.test_streamed_import import _reference, recorded_or_refused


@contextmanager
def whole_log_forbidden() -> Iterator[None]:
    """Reading or indexing the whole log fails while this is in force."""
    def refuse(self: EventStore) -> Any:
        raise AssertionError("the append read the whole log")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(EventStore, "read", refuse)
        patch.setattr(EventStore, "index", refuse)
        yield


class CountingLog:
    """A recorded log that remembers which subjects' histories were asked for."""

    def __init__(self, log: RecordedLog) -> None:
        self.log = log
        self.count = log.count
        self.last_notification = log.last_notification
        self.subjects: set[str] = set()
        self.named: set[str] = set()
        self.states_before: list[tuple[str, int]] = []

    def recorded(self, event_ids: Iterable[str]) -> dict[str, tuple[int, PolicyEvent]]:
        return self.log.recorded(event_ids)

    def position(self, notification_id: int) -> int:
        return self.log.position(notification_id)

    def naming(self, subjects: Iterable[str]) -> set[str]:
        wanted = set(subjects)
        self.named |= wanted
        return self.log.naming(wanted)

    def subject_logs(self, subjects: Iterable[str]) -> list[Recorded]:
        wanted = set(subjects)
        self.subjects |= wanted
        return self.log.subject_logs(wanted)

    def last_states(self, subjects: Iterable[str]) -> dict[str, tuple[int, object]]:
        return self.log.last_states(subjects)

    def changes_of(self, event_id: str) -> list[PolicyEvent]:
        return self.log.changes_of(event_id)

    def state_before(self, subject: str, instant: int) -> object | None:
        self.states_before.append((subject, instant))
        return self.log.state_before(subject, instant)


def _counting(timeline: TariffTimeline, events: list[PolicyEvent]) -> tuple[list[str] | None,
                                                                         set[str]]:
    found, counting = _counted(timeline, events)
    return found, counting.subjects


def _counted(timeline: TariffTimeline, events: list[PolicyEvent]
             ) -> tuple[list[str] | None, CountingLog]:
    assert timeline.read_model is not None
    with timeline.read_model.recorded_log(timeline.store) as log:
        counting = CountingLog(log)
        located = [Located(e, "<python>", i) for i, e in enumerate(events, start=1)]
        return check_by_subjects(counting, located), counting


def _opened(url: str, clock: FakeClock) -> AbstractContextManager[TariffTimeline]:
    @contextmanager
    def opened() -> Iterator[TariffTimeline]:
        timeline = TariffTimeline.open(url, clock=clock, load_bundled_if_new=False)
        try:
            yield timeline
        finally:
            timeline.close()
    return opened()


PROPERTY = settings(max_examples=100, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow, HealthCheck.data_too_large])
"""Settings of the properties below; on PostgreSQL, where each example is a schema of a
server, fewer examples."""
ON_POSTGRES = settings(PROPERTY, max_examples=25)


def _postgres_store() -> str:
    url = _postgres_url()
    if url is None:
        pytest.skip("no PostgreSQL server: run `make test`, which starts one")
    return f"{url}?schema=a_{uuid.uuid4().hex[:12]}"


def appends_checked_as_the_whole_log(url: str, batches: list[list[dict[str, Any]]]) -> None:
    """Append each batch to a store at `url`: the check by subjects finds, for the batch and,
    when it is refused, for each of its events alone, what folding the whole log finds, and
    the append, made without reading the whole log, follows it."""
    clock = FakeClock(datetime(2026, 1, 5, tzinfo=UTC))
    with _opened(url, clock) as timeline:
        for batch in batches:
            # Given a log, when events are appended (corrections and retractions too)
            world = valid_events(batch)
            expected = _reference(timeline, world)
            clock.advance(minutes=1)
            if not timeline.store.count() or not world:
                # a new store is checked as it is read
                with contextlib.suppress(ImportRejected):
                    timeline.record_events(world)
                continue
            # then the check by subjects finds what folding the whole log finds
            attempts = [world] if not expected else [world, *([e] for e in world)]
            for attempt in attempts:
                appended_as_the_whole_log_check_says(timeline, attempt)
        assert timeline.verify().intact


@PROPERTY
@given(batches=history())
def test_an_append_finds_exactly_what_the_whole_log_check_finds_without_reading_the_log(
        tmp_path_factory: pytest.TempPathFactory, batches: list[list[dict[str, Any]]]) -> None:
    folder = tmp_path_factory.mktemp("appends")
    appends_checked_as_the_whole_log(f"sqlite:///{folder / 'store.sqlite'}", batches)


@ON_POSTGRES
@given(batches=history())
def test_an_append_finds_exactly_what_the_whole_log_check_finds_on_postgres(
        batches: list[list[dict[str, Any]]]) -> None:
    appends_checked_as_the_whole_log(_postgres_store(), batches)


NAMED = ("m0", "m1", "m2", "m3")
"""The measures of `naming_history`: few, so that other subjects' events name each often. The
last is only announced, so that a correction can move an imposition to it."""
RULINGS = ("c0", "c1")
"""The court rulings that rulings are about and invalidations cite."""


def _named_day(draw: st.DrawFn, low: int, high: int) -> str:
    return day(draw(st.integers(low, high)))


def _imposition(n: int, measure: str, known: str, start: str) -> dict[str, Any]:
    return {"id": f"e{n}", "known": known, "sources": SOURCE_OF_PROPERTY,
            "type": "MeasureImposed", "measure": measure, "title": "a measure",
            "authority": "IEEPA", "program": "p0", "effective_from": start,
            "scope": {"origins": ["ALL"], "products": ["ALL"]}, "rate": {"percent": 10}}


@st.composite
def _naming(draw: st.DrawFn, n: int) -> dict[str, Any]:
    """An event of another subject that names measures (or a court ruling)."""
    kind = draw(st.sampled_from(["exemption", "quota", "rule", "ruling", "invalidated"]))
    measure = draw(st.sampled_from(NAMED))
    # Rulings mostly known before the invalidations that cite them.
    known = (_named_day(draw, 0, 100) if kind == "ruling" else
             _named_day(draw, 80, 200) if kind == "invalidated" else _named_day(draw, 0, 200))
    base: dict[str, Any] = {"id": f"e{n}", "known": known, "sources": SOURCE_OF_PROPERTY}
    start = _named_day(draw, 30, 300)
    if kind == "exemption":
        return base | {"type": "ExemptionGranted", "exemption": f"x{n}", "title": "exemption",
                       "applies_to": {"measures": [measure]}, "effective_from": start}
    if kind == "quota":
        return base | {"type": "QuotaOpened", "quota": f"q{n}", "title": "quota",
                       "measure": measure, "effective_from": start, "in_quota_percent": 0,
                       "volume": "1000 t"}
    if kind == "rule":
        return base | {"type": "StackingRuleSet", "rule": f"r{n}", "description": "rule",
                       "effective_from": start, "when": {"measures": [measure]},
                       "excludes": {"measures": [draw(st.sampled_from(NAMED))]}}
    if kind == "ruling":
        return base | {"type": "CourtRuled", "ruling": draw(st.sampled_from(RULINGS)),
                       "court": "CIT",
                       "case": "a case", "holding": "a holding", "outcome": "invalidated",
                       "measures": [measure]}
    return base | {"type": "MeasureInvalidated", "measure": measure, "effective_from": start,
                   "ruling": draw(st.sampled_from(RULINGS))}


@st.composite
def _changing(draw: st.DrawFn, n: int, made: list[dict[str, Any]]) -> dict[str, Any]:
    """A correction or retraction of an earlier event (of what others name, a measure's
    imposition or a court ruling, as often as of all the others), or another event naming
    measures."""
    originals = [raw for raw in made if raw["type"] not in ("EventCorrected", "EventRetracted")]
    named = [raw for raw in originals if raw["type"] in ("MeasureImposed", "CourtRuled")]
    kind = draw(st.sampled_from(["correct", "correct", "retract", "name"]))
    if kind == "name":
        return draw(_naming(n))
    among_named = bool(named) and draw(st.booleans())
    target = draw(st.sampled_from(named if among_named else originals))
    base: dict[str, Any] = {"id": f"e{n}", "known": _named_day(draw, 0, 250),
                            "sources": SOURCE_OF_PROPERTY}
    if kind == "retract":
        return base | {"type": "EventRetracted", "retracts": target["id"], "reason": "wrong"}
    return base | {"type": "EventCorrected", "corrects": target["id"], "reason": "typo",
                   "replacement": draw(_replacement(target))}


@st.composite
def _replacement(draw: st.DrawFn, target: dict[str, Any]) -> dict[str, Any]:
    """What a correction of `target` says instead: the same event with what it names, when
    it became known or when it takes effect changed."""
    replacement = dict(target)
    change = draw(st.sampled_from(["names", "known", "effective"]))
    other = draw(st.sampled_from(NAMED))
    if change == "known":
        replacement["known"] = _named_day(draw, 0, 250)
    elif change == "effective" and "effective_from" in target:
        replacement["effective_from"] = _named_day(draw, 0, 300)
    elif "applies_to" in target:
        replacement["applies_to"] = {"measures": [other]}
    elif "when" in target:
        replacement["when"] = {"measures": [other]}
    elif "measures" in target:
        replacement["measures"] = [other]
    elif "measure" in target:
        replacement["measure"] = other
    return replacement


@st.composite
def naming_history(draw: st.DrawFn) -> list[list[dict[str, Any]]]:
    """Batches about four measures: first three impositions and an announcement, then events
    of other subjects naming them (exemptions, quotas, stacking rules, court rulings), then
    corrections that move events between the measures they name or make them known or take
    effect at other dates, retractions, and more naming events: what an append's check finds
    only through the names of other subjects' events."""
    made = [_imposition(i, measure, _named_day(draw, 0, 40), _named_day(draw, 0, 60))
            for i, measure in enumerate(NAMED[:-1])]
    made.append({"id": f"e{len(made)}", "known": _named_day(draw, 0, 40),
                 "sources": SOURCE_OF_PROPERTY, "type": "MeasureAnnounced",
                 "measure": NAMED[-1], "title": "a measure", "authority": "IEEPA",
                 "program": "p0", "scope": {"origins": ["ALL"], "products": ["ALL"]}})
    batches = [list(made), []]
    for _ in range(draw(st.integers(1, 4))):
        batches[1].append(draw(_naming(len(made))))
        made.append(batches[1][-1])
    for _ in range(draw(st.integers(1, 4))):
        batch = []
        for _ in range(draw(st.integers(1, 3))):
            batch.append(draw(_changing(len(made), made)))
            made.append(batch[-1])
        batches.append(batch)
    return batches


@settings(PROPERTY, max_examples=80)
@given(batches=naming_history())
def test_an_append_finds_through_names_exactly_what_the_whole_log_check_finds(
        tmp_path_factory: pytest.TempPathFactory, batches: list[list[dict[str, Any]]]) -> None:
    # Given a log in which other subjects name the measures, when events are appended that
    # change, move or remove what they name, then the check finds what the whole log's does
    folder = tmp_path_factory.mktemp("naming")
    appends_checked_as_the_whole_log(f"sqlite:///{folder / 'store.sqlite'}", batches)


@ON_POSTGRES
@given(batches=naming_history())
def test_an_append_finds_through_names_exactly_what_the_whole_log_check_finds_on_postgres(
        batches: list[list[dict[str, Any]]]) -> None:
    appends_checked_as_the_whole_log(_postgres_store(), batches)


def appended_as_the_whole_log_check_says(timeline: TariffTimeline,
                                         events: list[PolicyEvent]) -> None:
    """The check by subjects finds what folding the whole log finds, and the append, made
    without reading the whole log, is refused with those problems or recorded."""
    expected = _reference(timeline, events)
    found, _ = _counting(timeline, events)
    assert found == expected
    with whole_log_forbidden():
        recorded_or_refused(timeline, events, expected)


@pytest.fixture
def two_measures(timeline: TariffTimeline, clock: FakeClock) -> TariffTimeline:
    """Given two measures, an exemption from the second and a quota under it."""
    timeline.record_events([
        imposed("m1-on", "m1", known="2025-01-02", start="2025-01-05", percent=10),
        imposed("m2-on", "m2", known="2025-01-02", start="2025-01-05", percent=25),
        exemption("x2-on", "x2", known="2025-02-01", start="2025-02-01", measures=("m2",)),
        quota("q2-on", "q2", "m2", known="2025-02-01", start="2025-02-01", in_quota=0,
              origins=("JP",)),
    ])
    clock.advance(minutes=1)
    return timeline


class TestWhatAnAppendReads:
    def test_an_append_reads_only_the_history_of_the_subject_it_changes(
            self, two_measures: TariffTimeline) -> None:
        found, subjects = _counting(two_measures, [
            rate_changed("m1-up", "m1", known="2025-03-01", start="2025-03-05", percent=20)])
        assert found == [] and subjects == {"measure:m1"}

    def test_an_exemption_reads_the_history_of_the_measures_it_names(
            self, two_measures: TariffTimeline) -> None:
        found, subjects = _counting(two_measures, [
            exemption("x1-on", "x1", known="2025-03-01", start="2025-03-01",
                      measures=("m1",))])
        assert found == [] and subjects == {"exemption:x1", "measure:m1"}

    def test_a_measure_named_by_an_exemption_is_not_read_for_a_change_to_another(
            self, two_measures: TariffTimeline) -> None:
        _, subjects = _counting(two_measures, [
            rate_changed("m2-up", "m2", known="2025-03-01", start="2025-03-05", percent=50)])
        assert subjects == {"measure:m2"}

    def test_a_correction_looks_up_by_name_only_the_measures_others_may_name(
            self, two_measures: TariffTimeline) -> None:
        # given the exemption from m2, corrected to start a month later
        later = exemption("x2-on", "x2", known="2025-02-01", start="2025-03-01",
                          measures=("m2",))
        correction = EventCorrected(
            id="x2-on.corrected-1", known="2025-02-10", corrects="x2-on", reason="dates",
            sources=later.sources, replacement=later.model_dump(mode="json"))
        # when its append is checked
        found, counting = _counted(two_measures, [correction])
        # then the subjects whose events may name what it changes are looked up for the
        # measure alone: an exemption is named only by its own events
        assert found == [] and counting.named == {"measure:m2"}
        assert counting.subjects >= {"exemption:x2", "measure:m2"}

    def test_a_correction_of_a_measure_reads_every_subject_whose_events_name_it(
            self, two_measures: TariffTimeline) -> None:
        # given m2, which the exemption x2 and the quota q2 name
        # when its imposition is corrected to another rate
        found, counting = _counted(two_measures, [corrected(
            "m2-on.corrected-1", imposed("m2-on", "m2", known="2025-01-02",
                                         start="2025-01-05", percent=30),
            known="2025-03-01", reason="rate")])
        # then the exemption's and the quota's histories are read with the measure's
        assert found == [] and counting.named == {"measure:m2"}
        assert counting.subjects == {"measure:m2", "exemption:x2", "quota:q2"}

    def test_a_measure_named_only_by_a_correction_finds_the_subject_it_moved(
            self, two_measures: TariffTimeline, clock: FakeClock) -> None:
        # given the exemption x2 corrected to be from m1 instead of m2
        two_measures.record_events([corrected(
            "x2-on.corrected-1", exemption("x2-on", "x2", known="2025-02-01",
                                           start="2025-02-01", measures=("m1",)),
            known="2025-02-10", reason="measure")])
        clock.advance(minutes=1)
        # when m1's imposition is corrected
        found, counting = _counted(two_measures, [corrected(
            "m1-on.corrected-1", imposed("m1-on", "m1", known="2025-01-02",
                                         start="2025-01-05", percent=15),
            known="2025-03-01", reason="rate")])
        # then the exemption is read with m1: only the correction's replacement names m1
        assert found == [] and counting.named == {"measure:m1"}
        assert counting.subjects >= {"measure:m1", "exemption:x2"}

    def test_the_names_kept_are_what_other_subjects_and_corrections_name(
            self, two_measures: TariffTimeline) -> None:
        # given the two measures' impositions, the exemption from m2 and the quota under it
        assert two_measures.read_model is not None
        engine = two_measures.read_model.engine
        two_measures.catch_up()
        # then the names kept are the exemption's and the quota's m2, not the measures' own
        assert row_counts(engine)["rm_event_names"] == 2
        # when m1's imposition is corrected
        two_measures.correct("m1-on", imposed("m1-on", "m1", known="2025-01-02",
                                              start="2025-01-05", percent=12), "typo")
        two_measures.catch_up()
        # then the correction's name is kept, though it names its own subject
        assert row_counts(engine)["rm_event_names"] == 3

    def test_an_append_and_its_check_never_read_the_whole_log(
            self, two_measures: TariffTimeline) -> None:
        with whole_log_forbidden():
            report = two_measures.record_events([
                rate_changed("m1-up", "m1", known="2025-03-01", start="2025-03-05",
                             percent=20)])
        assert (report.appended, report.total_events) == (1, 5)
        assert two_measures.verify().intact


class TestWhatAnAppendRefuses:
    def test_an_exemption_from_an_unknown_measure_is_refused_at_its_line(
            self, two_measures: TariffTimeline) -> None:
        with whole_log_forbidden(), pytest.raises(ImportRejected) as caught:
            two_measures.record_events([
                exemption("x9-on", "x9", known="2025-03-01", start="2025-03-01",
                          measures=("m9",))])
        assert caught.value.problems == [
            "<python>:1: event 'x9-on', field 'applies_to': no measure 'm9' is known"]

    def test_an_event_known_before_its_measure_was_imposed_is_refused(
            self, two_measures: TariffTimeline) -> None:
        with whole_log_forbidden(), pytest.raises(ImportRejected) as caught:
            two_measures.record_events([
                rate_changed("m1-early", "m1", known="2025-01-01", start="2025-03-05",
                             percent=20)])
        assert caught.value.problems == [
            "<python>:1: event 'm1-early', field 'measure': no measure 'm1' is known"]

    def test_a_second_imposition_known_earlier_breaks_the_recorded_one(
            self, two_measures: TariffTimeline) -> None:
        with whole_log_forbidden(), pytest.raises(ImportRejected) as caught:
            two_measures.record_events([
                imposed("m1-again", "m1", known="2025-01-01", start="2025-01-05",
                        percent=10)])
        assert caught.value.problems[0].startswith(
            "recorded event 'm1-on': event 'm1-on', field 'measure': measure 'm1' is already")

    def test_a_recorded_id_with_other_content_is_refused_with_its_log_position(
            self, two_measures: TariffTimeline) -> None:
        with whole_log_forbidden(), pytest.raises(ImportRejected) as caught:
            two_measures.record_events([
                imposed("m2-on", "m2", known="2025-01-02", start="2025-01-05", percent=30)])
        assert caught.value.problems == [
            "<python>:1: event 'm2-on' is already recorded (log position 2) with different "
            "content; to fix a recorded event, import an EventCorrected that names it"]

    def test_events_recorded_already_are_recognised_without_reading_the_log(
            self, two_measures: TariffTimeline) -> None:
        with whole_log_forbidden():
            report = two_measures.record_events([
                imposed("m2-on", "m2", known="2025-01-02", start="2025-01-05", percent=25)])
        assert (report.appended, report.already_recorded) == (0, 1)


class TestCorrectionsReachWhatNamesTheirSubject:
    def test_retracting_a_measures_imposition_breaks_the_exemption_that_names_it(
            self, two_measures: TariffTimeline) -> None:
        retraction = EventRetracted(id="m2-gone", known="2025-03-01", sources=SOURCE,
                                    retracts="m2-on", reason="never imposed")
        found, subjects = _counting(two_measures, [retraction])
        assert {"measure:m2", "exemption:x2", "quota:q2"} <= subjects
        with whole_log_forbidden(), pytest.raises(ImportRejected) as caught:
            two_measures.record_events([retraction])
        assert caught.value.problems == found == [
            "recorded event 'x2-on': event 'x2-on', field 'applies_to': no measure 'm2' is "
            "known"]

    def test_retracting_a_court_ruling_breaks_the_invalidation_that_cites_it(
            self, two_measures: TariffTimeline, clock: FakeClock) -> None:
        # given a ruling that names no measure, and m1's invalidation, which cites it
        two_measures.record_events([
            court_ruled("c1-on", "c1", known="2025-04-01"),
            MeasureInvalidated(id="m1-void", known="2025-04-02", sources=SOURCE,
                               measure="m1", effective_from="2025-04-10", ruling="c1")])
        clock.advance(minutes=1)
        # when the ruling is retracted
        retraction = EventRetracted(id="c1-gone", known="2025-05-01", sources=SOURCE,
                                    retracts="c1-on", reason="no such ruling")
        found, counting = _counted(two_measures, [retraction])
        # then the measure whose invalidation names the ruling is found by that name, and
        # the append is refused with what folding the whole log finds
        assert "ruling:c1" in counting.named and "measure:m1" in counting.subjects
        with whole_log_forbidden(), pytest.raises(ImportRejected) as caught:
            two_measures.record_events([retraction])
        assert caught.value.problems == found == _reference(two_measures, [retraction])
        assert "no court ruling 'c1' is known" in found[0]

    def test_a_correction_making_a_measure_known_later_breaks_what_named_it_before(
            self, two_measures: TariffTimeline) -> None:
        later = imposed("m2-on", "m2", known="2025-06-01", start="2025-01-05", percent=25)
        correction = EventCorrected(id="m2-late", known="2025-06-01", sources=SOURCE,
                                    corrects="m2-on", replacement=later, reason="known later")
        with whole_log_forbidden(), pytest.raises(ImportRejected) as caught:
            two_measures.record_events([correction])
        assert caught.value.problems == _reference(two_measures, [correction])
        assert "no measure 'm2' is known" in caught.value.problems[0]

    def test_a_correction_of_a_rate_is_checked_and_recorded_without_reading_the_log(
            self, two_measures: TariffTimeline) -> None:
        better = imposed("m1-on", "m1", known="2025-01-02", start="2025-01-05", percent=12)
        correction = EventCorrected(id="m1-fix", known="2025-03-01", sources=SOURCE,
                                    corrects="m1-on", replacement=better, reason="typo")
        with whole_log_forbidden():
            report = two_measures.record_events([correction])
        assert report.appended == 1 and two_measures.verify().intact

    def test_a_correction_naming_no_recorded_event_is_refused_at_its_line(
            self, two_measures: TariffTimeline) -> None:
        replacement = imposed("m7-on", "m7", known="2025-01-02", start="2025-01-05",
                              percent=12)
        correction = EventCorrected(id="m7-fix", known="2025-03-01", sources=SOURCE,
                                    corrects="m7-on", replacement=replacement, reason="typo")
        with whole_log_forbidden(), pytest.raises(ImportRejected) as caught:
            two_measures.record_events([correction])
        assert caught.value.problems == [
            "<python>:1: event 'm7-fix', field 'corrects': no recorded event 'm7-on' to "
            "correct"]


    def test_correct_names_and_records_a_correction_without_reading_the_log(
            self, two_measures: TariffTimeline) -> None:
        better = imposed("m1-on", "m1", known="2025-01-02", start="2025-01-05", percent=12)
        best = imposed("m1-on", "m1", known="2025-01-02", start="2025-01-05", percent=13)
        with whole_log_forbidden():
            first = two_measures.correct("m1-on", better, "typo")
            again = two_measures.correct("m1-on", better, "typo")
            second = two_measures.correct("m1-on", best, "another typo")
        assert (first.id, again.id, second.id) == (
            "m1-on.corrected-1", "m1-on.corrected-1", "m1-on.corrected-2")
        assert two_measures.store.count() == 6


class TestTheCheckReadsOneSnapshot:
    def test_a_catch_up_committed_while_an_append_is_checked_is_not_seen_by_the_check(
            self, two_measures: TariffTimeline, db_url: str, clock: FakeClock) -> None:
        # given an append being checked against the read model (its view open), which reads
        # the exemption x2's last state and the state before a later instant
        assert two_measures.read_model is not None
        later = fold_key(datetime(2025, 4, 1, tzinfo=UTC))
        with two_measures.read_model.recorded_log(two_measures.store) as log:
            seen = log.last_states(["exemption:x2"])
            before = log.state_before("exemption:x2", later)
            assert "exemption:x2" in seen and before is not None
            # when another process appends x2's revocation and catches the read model up
            other = TariffTimeline.open(db_url, clock=clock, load_bundled_if_new=False)
            try:
                other.record_events([exemption_revoked("x2-off", "x2", known="2025-03-01",
                                                       start="2025-03-01")])
                other.catch_up()
                # (which the read model now holds)
                assert other.read_model is not None
                with other.read_model.recorded_log(other.store) as now:
                    assert now.last_states(["exemption:x2"]) != seen
            finally:
                other.close()
            # then the check still reads the states as of the log it was opened on
            assert log.last_states(["exemption:x2"]) == seen
            assert log.state_before("exemption:x2", later) == before
