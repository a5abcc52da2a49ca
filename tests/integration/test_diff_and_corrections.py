"""Diffs of the reciprocal tariffs, corrections and the rate series, on both databases."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tariff_timeline import TariffTimeline
from tariff_timeline.cli.chart import plot_series
from tariff_timeline.domain.errors import InvalidInput
from tests.builders import imposed
from tests.conftest import FakeClock

EO14326 = {"jp": 15, "kr": 15, "tw": 20, "vn": 20, "in": 25, "kh": 19}
ANNEX_I = {"jp": 24, "kr": 25, "tw": 32, "vn": 46, "in": 26, "kh": 49}
# Their Chapter 99 headings (data/zzz-corrections-headings.json).
EO14326_HEADING = {"jp": "9903.02.30", "kr": "9903.02.56", "tw": "9903.02.60",
                   "vn": "9903.02.69", "in": "9903.02.26", "kh": "9903.02.11"}
ANNEX_I_HEADING = {"jp": "9903.01.53", "kr": "9903.01.54", "tw": "9903.01.61",
                   "vn": "9903.01.72", "in": "9903.01.55", "kh": "9903.01.75"}


@pytest.fixture
def with_eo14326(loaded: TariffTimeline) -> TariffTimeline:
    """The bundled data, which holds the 31 July 2025 order (EO 14326)."""
    return loaded


def answer_bytes(timeline: TariffTimeline, **when: str) -> str:
    # 9 April 2025: the one day the Annex I rate of Japan (24%) was in force.
    answer = timeline.rate_on(origin="JP", hts="9503.00.00", entered="2025-04-09", **when)
    return json.dumps(answer.to_json_dict(), indent=2, ensure_ascii=False)


JP_26 = imposed("recip-country-rates-jp", "ieepa-recip-jp", known="2025-04-02",
                start="2025-04-09T00:01:00-04:00", percent=26, origins=("JP",),
                program="ieepa-reciprocal", kind="replacement",
                replaces=("ieepa-recip-baseline",))


class TestDiffOfTheReciprocalTariffs:
    def test_known_dates_around_31_july_show_the_new_country_rates_citing_the_order(
            self, with_eo14326: TariffTimeline) -> None:
        # when 10 August 2025 is seen as known on 8 July and on 1 August
        result = with_eo14326.diff(entered=("2025-08-10", "2025-08-10"),
                                   known=("2025-07-08", "2025-08-01"))
        # then each country rate of EO 14326 is a change, caused by the order: its rate,
        # and the day it is in force from, since the same order extended the pause to 7
        # August (known on 8 July, the pause ended on 1 August)
        changed = {c.id: c for c in result.changes}
        assert {f"ieepa-recip-{cc}" for cc in EO14326} <= set(changed)
        for cc, rate in EO14326.items():
            change = changed[f"ieepa-recip-{cc}"]
            assert change.change == "changed"
            assert [(f.field, f.before, f.after) for f in change.fields] == [
                ("rate", f"{ANNEX_I[cc]}% in place of ieepa-recip-baseline "
                 f"(heading {ANNEX_I_HEADING[cc]})",
                 f"{rate}% in place of ieepa-recip-baseline (heading {EO14326_HEADING[cc]})"),
                ("interval", "2025-08-01 → open", "2025-08-07 → open")]
            # the order's rate, and its extension of the pause, which bounds the interval
            assert [e.id for e in change.events] == [f"recip-eo14326-{cc}",
                                                     f"recip-pause-ext-aug7-{cc}"]
            assert {e.sources[0].instrument for e in change.events} == {
                "Executive Order 14326"}

    def test_the_cells_of_the_changed_origins_show_the_new_additional_duty(
            self, with_eo14326: TariffTimeline) -> None:
        result = with_eo14326.diff(entered=("2025-08-10", "2025-08-10"),
                                   known=("2025-07-08", "2025-08-01"),
                                   origins=["JP", "VN", "DE"], hts=["9503.00.00"])
        cells = {c.origin: (c.before, c.after, [e.id for e in c.events])
                 for c in result.cells}
        assert cells["JP"][:2] == (24, 15) and "recip-eo14326-jp" in cells["JP"][2]
        assert cells["VN"][:2] == (46, 20) and "recip-eo14326-vn" in cells["VN"][2]
        # the EU's all-in 15% depends on the MFN rate, which a store without the HTS lacks
        assert cells["DE"][:2] == (20, None) and "recip-eo14326-eu" in cells["DE"][2]

    def test_with_the_hts_the_eu_cell_takes_its_mfn_from_the_general_column(
            self, loaded_once: TariffTimeline) -> None:
        # given the whole bundled timeline, HTS nomenclature included
        result = loaded_once.diff(entered=("2025-08-10", "2025-08-10"),
                                  known=("2025-07-08", "2025-08-01"),
                                  origins=["DE"], hts=["9503.00.00"])
        # then the general column of 9503.00.00 is Free, so the EU's all-in layer is all 15%
        (cell,) = result.cells
        assert (cell.before, cell.after) == (20, 15)
        assert "recip-eo14326-eu" in [e.id for e in cell.events]

    def test_effective_dates_8_and_10_april_show_the_pause(
            self, loaded: TariffTimeline) -> None:
        result = loaded.diff(entered=("2025-04-08", "2025-04-10"))
        paused = {c.id: c for c in result.changes
                  if any(f.field == "status" and f.after == "paused" for f in c.fields)}
        assert set(paused) == {f"ieepa-recip-{cc}" for cc in
                               ("jp", "kr", "eu", "vn", "tw", "in", "kh")}
        jp = paused["ieepa-recip-jp"]
        assert jp.events[0].id == "recip-pause-jp"
        assert jp.events[0].sources[0].instrument == "Executive Order 14266"
        china = next(c for c in result.changes if c.id == "ieepa-recip-cn")
        assert ("rate", "125% in place of ieepa-recip-baseline (heading 9903.01.63)") in {
            (f.field, f.after) for f in china.fields}


class TestCorrections:
    def test_a_correction_changes_answers_but_not_those_at_an_earlier_recorded_time(
            self, loaded: TariffTimeline, clock: FakeClock) -> None:
        # given an answer saved as JSON
        asked_at = clock.now.isoformat()
        saved = answer_bytes(loaded)
        # when the store later corrects the event behind it
        clock.advance(days=2)
        loaded.correct("recip-country-rates-jp", JP_26, reason="Annex I misread as 24%")
        # then answers use the corrected content
        assert json.loads(answer_bytes(loaded))["additional"] == 26
        # and asking at the old known and recorded time gives the saved bytes exactly
        assert answer_bytes(loaded, known=asked_at, recorded=asked_at) == saved

    def test_a_diff_between_two_recorded_times_shows_the_correction(
            self, loaded: TariffTimeline, clock: FakeClock) -> None:
        before = clock.now.isoformat()
        clock.advance(days=2)
        loaded.correct("recip-country-rates-jp", JP_26, reason="Annex I misread as 24%")
        result = loaded.diff(entered=("2025-04-09", "2025-04-09"),
                             recorded=(before, clock.now.isoformat()),
                             origins=["JP"], hts=["9503.00.00"])
        (change,) = result.changes
        # after the bundled correction that gave the rate its heading
        assert change.events[0].corrected_by == ("heading-recip-country-rates-jp",
                                                 "recip-country-rates-jp.corrected-1")
        assert [(c.before, c.after) for c in result.cells] == [(24, 26)]

    def test_an_answer_cites_the_correction_another_process_recorded_after_the_first_answer(
            self, loaded: TariffTimeline, clock: FakeClock) -> None:
        # given an answer that cited the Japan order (its events are then kept in memory)
        assert _cited(loaded) == ("heading-recip-country-rates-jp",)
        # when another process corrects it and brings the shared read model up to date
        clock.advance(days=2)
        other = TariffTimeline.open(loaded.store.url, clock=clock)
        try:
            other.correct("recip-country-rates-jp", JP_26, reason="Annex I misread as 24%")
            other.catch_up()
        finally:
            other.close()
        # then this process's next answer cites the correction too, with its content
        assert _cited(loaded) == ("heading-recip-country-rates-jp",
                                  "recip-country-rates-jp.corrected-1")
        assert loaded.rate_on(origin="JP", hts="9503.00.00",
                              entered="2025-04-09").additional == 26

    def test_an_event_cited_as_recorded_before_its_correction_is_cited_without_it(
            self, loaded: TariffTimeline, clock: FakeClock) -> None:
        before = clock.now.isoformat()
        clock.advance(days=2)
        loaded.correct("recip-country-rates-jp", JP_26, reason="Annex I misread as 24%")
        # given the corrected event cited once, as recorded now
        assert _cited(loaded)[-1] == "recip-country-rates-jp.corrected-1"
        # when the same answer is asked as recorded before the correction
        # then the event is cited as it was recorded then, in both orders of asking
        assert _cited(loaded, recorded=before) == ("heading-recip-country-rates-jp",)
        assert _cited(loaded)[-1] == "recip-country-rates-jp.corrected-1"

    def test_correcting_again_to_the_same_content_records_nothing_and_to_other_content_once(
            self, loaded: TariffTimeline, clock: FakeClock) -> None:
        first = loaded.correct("recip-country-rates-jp", JP_26, reason="Annex I misread")
        count = loaded.store.count()
        clock.advance(days=1)
        again = loaded.correct("recip-country-rates-jp", JP_26, reason="asked twice")
        assert again == first and loaded.store.count() == count
        other = imposed("recip-country-rates-jp", "ieepa-recip-jp", known="2025-04-02",
                        start="2025-04-09T00:01:00-04:00", percent=27, origins=("JP",),
                        program="ieepa-reciprocal", kind="replacement",
                        replaces=("ieepa-recip-baseline",))
        second = loaded.correct("recip-country-rates-jp", other, reason="read once more")
        assert second.id == "recip-country-rates-jp.corrected-2"
        assert loaded.store.count() == count + 1

    def test_the_history_shows_the_first_version_and_the_correction_with_their_results(
            self, loaded: TariffTimeline, clock: FakeClock) -> None:
        first_recorded = clock.now
        clock.advance(days=2)
        loaded.correct("recip-country-rates-jp", JP_26, reason="Annex I misread as 24%")
        rows = loaded.history("ieepa-recip-jp").rows
        versions = [r for r in rows if r.id == "recip-country-rates-jp"]
        # the bundled data already corrects it once (its heading, same rate), then this one
        assert [(v.version, v.recorded) for v in versions] == [
            ("superseded", first_recorded), ("correction", first_recorded),
            ("correction", clock.now)]
        assert versions[0].superseded_by == ("heading-recip-country-rates-jp",
                                             "recip-country-rates-jp.corrected-1")
        assert versions[0].after.startswith("2025-04-09: in force 24%")
        assert versions[1].after.startswith("2025-04-09: in force 24%")
        assert versions[2].after.startswith("2025-04-09: in force 26%")
        # as recorded before the correction, the history has the bundled versions only
        earlier = loaded.history("ieepa-recip-jp", recorded=first_recorded.isoformat()).rows
        assert [r.version for r in earlier if r.id == "recip-country-rates-jp"] == [
            "superseded", "correction"]

    def test_a_correction_is_read_from_a_file_holding_the_replacement_event(
            self, loaded: TariffTimeline, tmp_path: Path) -> None:
        fixed = loaded.correct_from_file("recip-country-rates-jp", _write(tmp_path), "typo")
        assert fixed.replacement.id == "recip-country-rates-jp"
        assert loaded.rate_on(origin="JP", hts="9503", entered="2025-04-09").additional == 26
        assert loaded.verify().intact

    def test_a_replacement_for_another_event_is_refused_and_nothing_is_written(
            self, loaded: TariffTimeline, tmp_path: Path) -> None:
        count = loaded.store.count()
        with pytest.raises(InvalidInput, match="must be 'recip-country-rates-kr'"):
            loaded.correct_from_file("recip-country-rates-kr", _write(tmp_path), "typo")
        assert loaded.store.count() == count


def _write(folder: Path) -> Path:
    path = folder / "replacement.yaml"
    path.write_text(json.dumps([JP_26.model_dump(mode="json")]), encoding="utf-8")
    return path


class TestHistoryOfACell:
    def test_japanese_toys_history_names_each_order_and_the_rate_after_it(
            self, with_eo14326: TariffTimeline) -> None:
        rows = with_eo14326.history(origin="JP", hts="9503.00.00").rows
        ids = [r.id for r in rows]
        assert ids.index("recip-country-rates-jp") < ids.index("recip-pause-jp") < ids.index(
            "recip-eo14326-jp")
        last = next(r for r in rows if r.id == "recip-eo14326-jp")
        assert last.instrument == "Executive Order 14326"
        assert last.after.endswith("2025-04-10: 10%; 2025-08-07: 15%")
        assert "ieepa-recip-cn" not in {r.id for r in rows}


class TestRateSeries:
    def test_japan_2025_as_known_on_1_august_steps_through_the_pause_and_the_new_rate(
            self, with_eo14326: TariffTimeline, tmp_path: Path) -> None:
        series = with_eo14326.rate_series(origin="JP", hts="9503.00.00", start="2025-03-01",
                                          end="2025-09-30", known="2025-08-01")
        steps = [(s.start.date().isoformat(), s.additional) for s in series.steps]
        assert steps == [("2025-03-01", 0), ("2025-04-05", 10), ("2025-04-09", 24),
                         ("2025-04-10", 10), ("2025-08-07", 15)]
        assert series.steps[-1].instruments == ["Executive Order 14326"]
        assert "Executive Order 14266" in series.steps[3].instruments
        earlier = with_eo14326.rate_series(origin="JP", hts="9503.00.00", start="2025-03-01",
                                           end="2025-09-30", known="2025-07-08")
        assert [(s.start.date().isoformat(), s.additional) for s in earlier.steps][-1] == (
            "2025-08-01", 24)
        chart = plot_series([("known 2025-07-08", earlier), ("known 2025-08-01", series)],
                            tmp_path / "jp.png")
        assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and chart.stat().st_size > 20_000

    def test_the_svg_chart_names_the_orders_its_axes_and_both_versions(
            self, with_eo14326: TariffTimeline, tmp_path: Path) -> None:
        versions = [(f"known {known}", with_eo14326.rate_series(
            origin="JP", hts="9503.00.00", start="2025-03-01", end="2025-09-30", known=known))
            for known in ("2025-07-08", "2025-08-01")]
        text = plot_series(versions, tmp_path / "jp.svg").read_text(encoding="utf-8")
        for expected in ("Additional US duty on HTS 9503.00.00 from JP",
                         "Effective date (goods entered for consumption, US Eastern)",
                         "Additional duty (% ad valorem, on top of MFN)",
                         "known 2025-07-08", "known 2025-08-01",
                         "7 Aug: EO 14326 → 15%", "1 Aug: EO 14316 → 24%",
                         "10 Apr: EO 14266 → 10%"):
            assert expected in text, expected


def _cited(timeline: TariffTimeline, **when: str) -> tuple[str, ...]:
    """What corrected the Japan order, as the answer on 9 April 2025 cites it."""
    answer = timeline.rate_on(origin="JP", hts="9503.00.00", entered="2025-04-09", **when)
    (cited,) = {event.corrected_by for layer in answer.layers for event in layer.events
                if event.id == "recip-country-rates-jp"}
    return cited
