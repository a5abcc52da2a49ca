"""Imports are validated whole, appended in one transaction, and never duplicate (both DBs)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tariff_timeline import TariffTimeline
from tariff_timeline.domain.errors import ImportRejected
from tests.conftest import DATA, FakeClock

GOOD = """\
events:
  - id: m-imposed
    type: MeasureImposed
    known: 2025-04-02
    measure: m
    program: p
    authority: IEEPA
    title: A measure
    effective_from: 2025-04-05
    scope: {origins: [JP], products: [ALL]}
    rate: {percent: 10}
    sources: [{title: EO 1, url: "https://example.org/eo1"}]
"""


RAISED = """\
- id: m-raised
  type: RateChanged
  known: 2025-04-20
  measure: m
  effective_from: 2025-04-21
  rate: {percent: 30}
  sources: [{title: EO 3, url: "https://example.org/eo3"}]
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


class TestAllOrNothing:
    def test_importing_the_same_file_twice_appends_nothing_the_second_time(
            self, timeline: TariffTimeline, tmp_path: Path) -> None:
        path = write(tmp_path, "good.yaml", GOOD)
        first = timeline.import_paths([path])
        second = timeline.import_paths([path])
        assert (first.appended, second.appended, second.already_recorded) == (1, 0, 1)
        assert timeline.store.count() == 1

    def test_the_bundled_dataset_loads_twice_without_duplicates(
            self, timeline: TariffTimeline) -> None:
        first = timeline.import_paths([DATA])
        again = timeline.import_paths([DATA])
        assert first.appended > 40 and again.appended == 0
        assert timeline.store.count() == first.appended

    @pytest.mark.parametrize("mutation, line, expected", [
        (("products: [ALL]", "products: ['87.0']"), 10, "invalid HTS code"),
        (("origins: [JP]", "origins: [ZZ]"), 10, "unknown origin 'ZZ'"),
        (("effective_from: 2025-04-05", "effective_from: 2025-04-05\n    effective_until: "
          "2025-04-01"), 10, "is not after effective_from"),
        (("rate: {percent: 10}", "rate: {percent: 10}\n    colour: blue"), 12,
         "Extra inputs are not permitted"),
    ])
    def test_a_malformed_file_is_rejected_with_file_line_and_field_and_nothing_is_written(
            self, timeline: TariffTimeline, tmp_path: Path,
            mutation: tuple[str, str], line: int, expected: str) -> None:
        good = write(tmp_path, "a-good.yaml", GOOD.replace("m-imposed", "other").replace(
            "measure: m", "measure: other"))
        text = GOOD
        bad = write(tmp_path, "b-bad.yaml", text.replace(*mutation))
        with pytest.raises(ImportRejected) as caught:
            timeline.import_paths([good, bad])
        message = str(caught.value)
        assert f"{bad}:{line}:" in message, message
        assert expected in message and "'m-imposed'" in message
        assert timeline.store.count() == 0

    def test_pausing_an_unknown_measure_is_rejected_at_its_line(
            self, timeline: TariffTimeline, tmp_path: Path) -> None:
        bad = write(tmp_path, "pause.yaml", GOOD + """\
  - id: pause-ghost
    type: MeasurePaused
    known: 2025-04-09
    measure: ghost
    effective_from: 2025-04-10
    sources: [{title: EO 2, url: "https://example.org/eo2"}]
""")
        with pytest.raises(ImportRejected) as caught:
            timeline.import_paths([bad])
        assert f"{bad}:13: event 'pause-ghost', field 'measure': no measure 'ghost'" in str(
            caught.value)
        assert timeline.store.count() == 0

    def test_a_recorded_event_cannot_be_silently_rewritten(
            self, timeline: TariffTimeline, tmp_path: Path) -> None:
        timeline.import_paths([write(tmp_path, "v1.yaml", GOOD)])
        changed = write(tmp_path, "v2.yaml", GOOD.replace("percent: 10", "percent: 12"))
        with pytest.raises(ImportRejected, match=r"already recorded .* different content"):
            timeline.import_paths([changed])
        assert timeline.store.count() == 1

    def test_invalid_yaml_names_its_line(self, timeline: TariffTimeline,
                                         tmp_path: Path) -> None:
        bad = write(tmp_path, "broken.yaml", "events:\n  - id: x\n   type: [\n")
        with pytest.raises(ImportRejected, match=rf"{bad}:\d+: not valid YAML"):
            timeline.import_paths([bad])

    def test_json_files_are_read_with_their_lines(self, timeline: TariffTimeline,
                                                   tmp_path: Path) -> None:
        bad = write(tmp_path, "events.json", """\
{"events": [
  {"id": "j1", "type": "MeasureImposed", "known": "2025-04-02", "measure": "m",
   "program": "p", "authority": "IEEPA", "title": "A measure",
   "effective_from": "2025-04-05", "scope": {"origins": ["QQ"], "products": ["ALL"]},
   "rate": {"percent": 10}, "sources": [{"title": "EO 1"}]}
]}
""")
        with pytest.raises(ImportRejected, match=rf"{bad}:4: event 'j1'"):
            timeline.import_paths([bad])


class TestRecordedTime:
    def test_a_recorded_time_before_an_import_reproduces_the_earlier_answer(
            self, timeline: TariffTimeline, clock: FakeClock, tmp_path: Path) -> None:
        timeline.import_paths([write(tmp_path, "v1.yaml", GOOD)])
        before_second = clock.now.isoformat()
        clock.advance(days=1)
        timeline.import_paths([write(tmp_path, "v2.yaml", RAISED)])
        old = timeline.rate_on(origin="JP", hts="9503", entered="2025-05-01",
                               recorded=before_second)
        new = timeline.rate_on(origin="JP", hts="9503", entered="2025-05-01")
        assert (old.additional, new.additional) == (10, 30)
        assert old.recorded.isoformat() == before_second


def test_reopening_a_store_sees_what_was_written(db_url: str, clock: FakeClock) -> None:
    first = TariffTimeline.open(db_url, clock=clock)
    first.import_paths([DATA])
    count = first.store.count()
    first.close()
    second = TariffTimeline.open(db_url, clock=clock)
    assert second.store.count() == count
    second.close()


JSON_TWO = """\
{"events": [
  {"id": "j1", "type": "MeasureImposed", "known": "2025-04-02", "measure": "m",
   "program": "p", "authority": "IEEPA", "title": "A measure",
   "effective_from": "2025-04-05", "scope": {"origins": ["JP"], "products": ["ALL"]},
   "rate": {"percent": 10}, "sources": [{"title": "EO 1"}]},

  {"id": "j2", "type": "MeasurePaused", "known": "2025-04-09", "measure": "ghost",
   "effective_from": "2025-04-10", "sources": [{"title": "EO 2"}]}
]}
"""


class TestJsonFastPath:
    def test_a_lifecycle_break_in_a_json_file_names_the_line_of_its_event(
            self, timeline: TariffTimeline, tmp_path: Path) -> None:
        bad = write(tmp_path, "events.json", JSON_TWO)
        with pytest.raises(ImportRejected) as caught:
            timeline.import_paths([bad])
        assert f"{bad}:7: event 'j2', field 'measure': no measure 'ghost'" in str(caught.value)
        assert timeline.store.count() == 0

    def test_json_that_is_not_strict_json_is_refused_at_its_line_not_read_again_as_yaml(
            self, timeline: TariffTimeline, tmp_path: Path) -> None:
        # A trailing comma is YAML but not JSON: a .json file is read as JSON, once.
        lenient = write(tmp_path, "events.json", JSON_TWO.replace(
            '"ghost"', '"m"').replace('{"title": "EO 2"}]}\n', '{"title": "EO 2"}]},\n'))
        with pytest.raises(ImportRejected, match=rf"{lenient}:9: not valid JSON"):
            timeline.import_paths([lenient])
        assert timeline.store.count() == 0

    def test_a_bare_json_list_imports_and_reimports_as_nothing(
            self, timeline: TariffTimeline, tmp_path: Path) -> None:
        text = JSON_TWO.replace('"ghost"', '"m"')
        bare = write(tmp_path, "bare.json", text[len('{"events": '):].rstrip()[:-1] + "\n")
        assert timeline.import_paths([bare]).appended == 2
        assert timeline.import_paths([bare]).already_recorded == 2


def test_an_import_leaves_the_garbage_collector_as_it_found_it(
        timeline: TariffTimeline, tmp_path: Path) -> None:
    import gc

    bad = write(tmp_path, "events.json", JSON_TWO)
    assert gc.isenabled()
    with pytest.raises(ImportRejected):
        timeline.import_paths([bad])
    assert gc.isenabled()
    gc.disable()
    try:
        timeline.import_paths([write(tmp_path, "good.yaml", GOOD)])
        assert not gc.isenabled()
    finally:
        gc.enable()
