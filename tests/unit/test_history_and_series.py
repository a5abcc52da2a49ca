"""Histories and rate series over given events (pure, no database)."""

from __future__ import annotations

from datetime import UTC, datetime

from tariff_timeline.domain.clocks import cutoff_instant, effective_instant
from tariff_timeline.events import EventCorrected, PolicyEvent
from tariff_timeline.projections.history import History, cell_history, measure_history
from tariff_timeline.projections.replay import Recorded, corrected_log, fold_at
from tariff_timeline.projections.series import Series, rate_series
from tests.builders import (
    SOURCE,
    exemption,
    exemption_revoked,
    imposed,
    pause_extended,
    paused,
    rate_changed,
)

FIRST = datetime(2026, 1, 1, tzinfo=UTC)
LATER = datetime(2026, 2, 1, tzinfo=UTC)

GIVEN = [
    imposed("base", "baseline", known="2025-04-02", start="2025-04-05", percent=10,
            program="recip"),
    imposed("jp-24", "jp", known="2025-04-02", start="2025-04-09", percent=24,
            origins=("JP",), program="recip", kind="replacement", replaces=("baseline",)),
    paused("jp-pause", "jp", known="2025-04-09", start="2025-04-10", until="2025-07-09"),
    pause_extended("jp-ext", "jp", known="2025-07-07", until="2025-08-01"),
    imposed("other", "other", known="2025-04-02", start="2025-04-05", percent=5,
            origins=("DE",)),
]

FIX = EventCorrected.model_validate({
    "id": "jp-24.fix", "known": "2026-01-20", "corrects": "jp-24", "reason": "misread",
    "sources": SOURCE,
    "replacement": imposed("jp-24", "jp", known="2025-04-02", start="2025-04-09",
                           percent=25, origins=("JP",), program="recip",
                           kind="replacement", replaces=("baseline",)).model_dump(mode="json")})


def log_of(*, corrected: bool = False) -> list[Recorded]:
    log = [Recorded(i, FIRST, e) for i, e in enumerate(GIVEN, start=1)]
    if corrected:
        log.append(Recorded(len(log) + 1, LATER, FIX))
    return log


def series_of(log: list[Recorded], known: str = "2030-01-01") -> Series:
    entries = corrected_log(log)
    at = cutoff_instant(known, "known")
    return rate_series(fold_at(entries, at), {e.event.id: e for e in entries},
                       origin="JP", hts="9503", start=effective_instant("2025-03-01"),
                       end=effective_instant("2025-09-30"), known=at, recorded=LATER)


def test_a_measure_history_lists_its_events_in_known_order_with_the_state_after_each() -> None:
    history = measure_history(log_of(), "jp")
    assert [(r.id, r.version) for r in history.rows] == [
        ("jp-24", "current"), ("jp-pause", "current"), ("jp-ext", "current")]
    assert history.rows[0].after == "2025-04-09: in force 24% in place of baseline"
    assert history.rows[-1].after.endswith("2025-04-10: paused 24% in place of baseline; "
                                           "2025-08-01: in force 24% in place of baseline")
    assert history.rows[0].recorded == FIRST and history.rows[0].sources == GIVEN[1].sources


def test_after_a_correction_the_history_shows_the_first_version_and_the_corrected_one() -> None:
    history = measure_history(log_of(corrected=True), "jp")
    versions = [(r.id, r.version, r.superseded_by, r.corrects) for r in history.rows][:2]
    assert versions == [("jp-24", "superseded", ("jp-24.fix",), None),
                        ("jp-24", "correction", (), "jp-24")]
    assert "24%" in history.rows[0].after and "25%" in history.rows[1].after
    assert history.rows[1].recorded == LATER


def test_a_cell_history_keeps_only_events_that_bear_on_it_with_the_rate_after_each() -> None:
    history = cell_history(log_of(), "JP", "9503")
    assert [r.id for r in history.rows] == ["base", "jp-24", "jp-pause", "jp-ext"]
    assert history.rows[-1].after == (
        "2025-04-05: 10%; 2025-04-09: 24%; 2025-04-10: 10%; 2025-08-01: 24%")


def test_a_cell_history_keeps_a_measure_a_correction_moved_off_the_cell_with_its_layer() -> None:
    # Given a measure recorded as covering Japan, corrected later: it covered Korea only
    wrong = imposed("kr-5", "kr", known="2025-04-02", start="2025-04-20", percent=5,
                    origins=("JP",))
    fix = EventCorrected.model_validate({
        "id": "kr-5.fix", "known": "2026-01-20", "corrects": "kr-5", "reason": "misread",
        "sources": SOURCE,
        "replacement": imposed("kr-5", "kr", known="2025-04-02", start="2025-04-20",
                               percent=5, origins=("KR",)).model_dump(mode="json")})
    log = [Recorded(1, FIRST, GIVEN[0]), Recorded(2, FIRST, wrong), Recorded(3, LATER, fix)]
    # When the history of a Japanese toy is told
    history = cell_history(log, "JP", "9503")
    # Then the version first recorded shows its layer, and the correction takes it away
    assert [(r.id, r.version) for r in history.rows] == [
        ("base", "current"), ("kr-5", "superseded"), ("kr-5", "correction")]
    assert [r.after for r in history.rows] == [
        "2025-04-05: 10%", "2025-04-05: 10%; 2025-04-20: 15%", "2025-04-05: 10%"]


def m1_history_with_m2_imposed_by_a_correction_of(first: PolicyEvent) -> History:
    """The history of m1 after one import: m1 imposed, a rate change of m2, `first` (an event
    of m1) and, in the same import, a correction of `first` into the imposition of m2 that
    the rate change relies on."""
    fix = EventCorrected.model_validate({
        "id": f"{first.id}.fix", "known": "2025-04-24", "corrects": first.id,
        "reason": "wrong event", "sources": SOURCE,
        "replacement": imposed(first.id, "m2", known="2025-04-24", start="2025-05-01",
                               percent=10).model_dump(mode="json")})
    events = [imposed("m1-on", "m1", known="2025-04-01", start="2025-04-05", percent=5),
              rate_changed("m2-up", "m2", known="2025-05-12", start="2025-06-01", percent=20),
              first, fix]
    return measure_history([Recorded(i, FIRST, e) for i, e in enumerate(events, start=1)],
                           "m1")


def test_a_version_its_own_import_corrected_names_the_problem_it_makes_for_its_subject(
) -> None:
    # Given one import whose correction turned a pause extension of m1 (never paused) into
    # the imposition of m2 that m2's rate change relies on
    # When the history of m1 is told
    history = m1_history_with_m2_imposed_by_a_correction_of(
        pause_extended("ext", "m1", known="2025-08-10", until="2025-09-01"))
    # Then the version first recorded is listed, and says why no state of m1 follows it: its
    # own problem, not m2's (whose rate change, earlier in known order, needs the fix too)
    assert [(r.id, r.version) for r in history.rows] == [
        ("m1-on", "current"), ("ext", "superseded")]
    assert history.rows[0].after == "2025-04-05: in force 5% on top of MFN"
    assert history.rows[1].after == (
        "cannot be folded with this version in force: event 'ext', field 'measure': "
        "measure 'm1' has no pause to extend")


def test_a_corrected_version_shows_its_subjects_state_though_another_subject_needs_the_fix(
) -> None:
    # Given one import whose correction turned a rate change of m1 into the imposition of m2
    # that m2's rate change relies on
    # When the history of m1 is told
    history = m1_history_with_m2_imposed_by_a_correction_of(
        rate_changed("m1-up", "m1", known="2025-05-20", start="2025-06-01", percent=7))
    # Then the version first recorded shows m1 as it would have stood: m1 folds from its own
    # events, and the whole log's problem (m2's) is not m1's
    assert [(r.id, r.version, r.after) for r in history.rows] == [
        ("m1-on", "current", "2025-04-05: in force 5% on top of MFN"),
        ("m1-up", "superseded",
         "2025-04-05: in force 5% on top of MFN; 2025-06-01: in force 7% on top of MFN")]


def test_a_series_steps_at_each_change_and_names_the_event_behind_it() -> None:
    series = series_of(log_of())
    assert [(s.start.date().isoformat(), s.additional) for s in series.steps] == [
        ("2025-03-01", 0), ("2025-04-05", 10), ("2025-04-09", 24), ("2025-04-10", 10),
        ("2025-08-01", 24)]
    assert [[e.id for e in s.events] for s in series.change_points] == [
        ["base"], ["jp-24"], ["jp-pause"], ["jp-ext"]]
    assert series.steps[2].end == series.steps[3].start and series.steps[-1].end is None


def test_a_series_as_known_before_an_announcement_does_not_show_it() -> None:
    later = [*log_of(), Recorded(9, FIRST, rate_changed(
        "jp-15", "jp", known="2025-07-31", start="2025-08-07", percent=15,
        kind="replacement", replaces=("baseline",)))]
    assert series_of(later, known="2025-07-08").steps[-1].additional == 24
    assert series_of(later, known="2025-08-01").steps[-1].additional == 15


def test_an_exemption_history_shows_when_it_was_in_effect_after_each_event() -> None:
    events = [*GIVEN,
              exemption("books-granted", "books", known="2025-04-02", start="2025-04-05",
                        measures=("baseline",), products=("4901",)),
              exemption_revoked("books-ended", "books", known="2025-06-01",
                                start="2025-06-02")]
    log = [Recorded(i, FIRST, e) for i, e in enumerate(events, start=1)]
    history = measure_history(log, "books")
    assert [(r.id, r.after) for r in history.rows] == [
        ("books-granted", "2025-04-05: in effect"),
        ("books-ended", "2025-04-05: in effect; 2025-06-02: not in effect")]
