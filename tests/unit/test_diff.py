"""Diffs of the schedule between two coordinates, over given events (pure, no database)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import UTC, datetime

from tariff_timeline.domain.clocks import Coordinate, cutoff_instant, effective_instant
from tariff_timeline.events import EventCorrected, PolicyEvent
from tariff_timeline.projections.diff import Snapshot, diff, diff_csv
from tariff_timeline.projections.replay import Recorded, corrected_log, fold_at
from tests.builders import announced, exemption, imposed, paused, rate_changed

FIRST = datetime(2026, 1, 1, tzinfo=UTC)
LATER = datetime(2026, 2, 1, tzinfo=UTC)

GIVEN = [
    imposed("base", "baseline", known="2025-04-02", start="2025-04-05", percent=10,
            program="recip"),
    imposed("jp-24", "jp", known="2025-04-02", start="2025-04-09", percent=24,
            origins=("JP",), program="recip", kind="replacement", replaces=("baseline",)),
    paused("jp-pause", "jp", known="2025-04-09", start="2025-04-10", until="2025-07-09"),
]


def version(log: Sequence[Recorded], *, entered: str, known: str = "2030-01-01",
            recorded: datetime = LATER) -> Snapshot:
    entries = corrected_log(log, recorded)
    coordinate = Coordinate(effective_instant(entered), cutoff_instant(known, "known"),
                            recorded)
    return Snapshot(coordinate, fold_at(entries, coordinate.known),
                   {e.event.id: e for e in entries})


def recorded(events: Sequence[PolicyEvent], at: datetime = FIRST,
             start: int = 1) -> list[Recorded]:
    return [Recorded(i, at, e) for i, e in enumerate(events, start=start)]


def test_two_effective_dates_show_a_measure_going_from_scheduled_to_paused() -> None:
    # given a country rate due on 9 April and paused from 10 April
    log = recorded(GIVEN)
    # when the schedule of 8 April is compared with that of 10 April
    result = diff(version(log, entered="2025-04-08"), version(log, entered="2025-04-10"))
    # then the country rate changed status because of the pause, the baseline did not change
    (change,) = result.changes
    assert (change.id, change.change) == ("jp", "changed")
    fields = {f.field: (f.before, f.after) for f in change.fields}
    assert fields["status"] == ("scheduled", "paused")
    assert change.events[0].id == "jp-pause"


def test_two_known_dates_show_a_new_rate_with_the_event_that_set_it() -> None:
    # given a rate change announced on 31 July for 7 August
    log = recorded([*GIVEN, rate_changed("jp-15", "jp", known="2025-07-31",
                                         start="2025-08-07", percent=15,
                                         kind="replacement", replaces=("baseline",))])
    # when 10 August is seen as known on 8 July and on 1 August
    result = diff(version(log, entered="2025-08-10", known="2025-07-08"),
                  version(log, entered="2025-08-10", known="2025-08-01"),
                  origins=["JP"], hts=["9503.00.00"])
    # then the rate changed, and with it the stretch the row holds over (from 7 August, no
    # longer from the end of the pause), and the cell's additional duty went from 24 to 15,
    # all because of it
    (change,) = result.changes
    assert [(f.field, f.before, f.after) for f in change.fields] == [
        ("rate", "24% in place of baseline", "15% in place of baseline"),
        ("interval", "2025-07-09 → open", "2025-08-07 → open")]
    assert [e.id for e in change.events] == ["jp-15"]
    (cell,) = result.cells
    assert (cell.origin, cell.hts, cell.before, cell.after) == ("JP", "9503.00.00", 24, 15)
    assert [e.id for e in cell.events] == ["jp-15"]


def test_exemptions_added_between_two_dates_are_listed_as_added() -> None:
    log = recorded([*GIVEN, exemption("ex", "books", known="2025-04-02", start="2025-05-01",
                                      measures=("baseline",), products=("4901",))])
    result = diff(version(log, entered="2025-04-20"), version(log, entered="2025-05-02"))
    added = [c for c in result.changes if c.change == "added"]
    assert [(c.kind, c.id, [e.id for e in c.events]) for c in added] == [
        ("exemption", "books", ["ex"])]


def test_a_correction_shows_between_two_recorded_times_with_the_corrected_event() -> None:
    # given the store first recorded 24% and later corrected it to 25%
    fix = EventCorrected.model_validate({
        "id": "jp-24.fix", "known": "2026-01-20", "corrects": "jp-24", "reason": "misread",
        "sources": [{"title": "Annex I"}],
        "replacement": imposed("jp-24", "jp", known="2025-04-02", start="2025-04-09",
                               percent=25, origins=("JP",), program="recip",
                               kind="replacement", replaces=("baseline",)
                               ).model_dump(mode="json")})
    log = [*recorded(GIVEN), *recorded([fix], at=LATER, start=len(GIVEN) + 1)]
    # when the same effective date is compared as recorded before and after the correction
    result = diff(version(log, entered="2025-08-01", recorded=FIRST),
                  version(log, entered="2025-08-01", recorded=LATER),
                  origins=["JP"], hts=["9503"])
    (change,) = result.changes
    assert [(f.before, f.after) for f in change.fields] == [
        ("24% in place of baseline", "25% in place of baseline")]
    assert change.events[0].corrected_by == ("jp-24.fix",)
    assert [(c.before, c.after) for c in result.cells] == [(24, 25)]


def test_the_csv_has_one_line_per_changed_field_and_cell() -> None:
    log = recorded(GIVEN)
    result = diff(version(log, entered="2025-04-08"), version(log, entered="2025-04-09"),
                  origins=["JP"], hts=["9503.00.00"])
    rows = list(csv.DictReader(io.StringIO(diff_csv(result))))
    # the interval did not change: scheduled on 8 April, the row already said from 9 April
    # until the pause of 10 April, as the row in force on 9 April does
    assert {(r["section"], r["id"], r["field"]) for r in rows} == {
        ("schedule", "jp", "status"), ("cell", "JP 9503.00.00", "additional duty")}
    status = next(r for r in rows if r["field"] == "status")
    assert (status["before"], status["after"], status["events"]) == ("scheduled", "in_force",
                                                                     "jp-24")
    cell = next(r for r in rows if r["section"] == "cell")
    assert (cell["before"], cell["after"], cell["events"]) == ("10", "24", "jp-24")


def test_an_announcement_imposed_later_shows_its_interval_from_no_date_to_its_start() -> None:
    # given a duty announced in March with no date, imposed in April from 5 May
    log = recorded([*GIVEN, announced("said", "steel", known="2025-03-01", percent=25),
                    imposed("done", "steel", known="2025-04-20", start="2025-05-05",
                            percent=25)])
    # when 10 May as known in April, before the imposition, is compared with 10 May as known
    # later
    result = diff(version(log, entered="2025-05-10", known="2025-04-15"),
                  version(log, entered="2025-05-10", known="2025-05-01"))
    # then the measure went from announced, with no date, to in force from 5 May
    (change,) = [c for c in result.changes if c.id == "steel"]
    fields = {f.field: (f.before, f.after) for f in change.fields}
    assert fields["status"] == ("announced (announcement)", "in_force")
    assert fields["interval"] == ("no date given", "2025-05-05 → open")
