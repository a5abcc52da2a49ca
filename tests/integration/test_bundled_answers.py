"""Known answers from the bundled dataset, with their citations, on SQLite and PostgreSQL."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tariff_timeline import TariffTimeline
from tariff_timeline.service import QueryPath

# (origin, hts, entered, known, mfn, facts, additional, citation)
CASES = [
    ("JP", "8703.23.01", "2025-05-01", None, "2.5", {}, 25,
     "Proclamation 10908 (autos 25%); EO 14257 s.3(b): 232 goods do not pay reciprocal"),
    ("JP", "9503.00.00", "2025-04-10", "2025-04-08", None, {}, 24,
     "EO 14257 Annex I: Japan 24% replaces the baseline; the pause was not yet known"),
    ("JP", "9503.00.00", "2025-04-10", "2025-04-10", None, {}, 10,
     "EO 14266: country rates paused from 10 Apr, the 10% baseline applies"),
    ("CN", "9503.00.00", "2025-04-11", None, None, {}, 145,
     "EO 14266: China 125%, plus EO 14228 fentanyl 20%"),
    ("CN", "9503.00.00", "2025-04-09", None, None, {}, 104,
     "EO 14259: China 84% from 9 Apr, plus fentanyl 20%"),
    ("CN", "9503.00.00", "2025-04-09", "2025-04-07", None, {}, 54,
     "EO 14257 Annex I: China 34% as known before EO 14259, plus fentanyl 20%"),
    ("CN", "9503.00.00", "2025-05-20", None, None, {}, 30,
     "EO 14298: Geneva truce, China 10% plus fentanyl 20%"),
    ("VN", "9503.00.00", "2025-04-07", None, None, {}, 10, "EO 14257: 10% baseline"),
    ("DE", "7208.10", "2025-03-12", None, None, {}, 25,
     "Proclamation 10896: 25% steel for all from 12 Mar 2025"),
    ("DE", "7208.10", "2025-06-04", None, None, {}, 50, "Proclamation 10947: 50% steel"),
    ("GB", "7208.10", "2025-06-04", None, None, {}, 25,
     "Proclamation 10947: the UK stays at 25%"),
    ("AU", "7208.10", "2020-01-01", None, None, {}, 0, "2018 Australia exemption"),
    ("AU", "7208.10", "2025-03-12", None, None, {}, 25,
     "Proclamation 10896 ends the Australia exemption"),
    ("JP", "7208.10", "2023-01-01", None, None, {"in_quota": True}, 0, "2022 Japan steel TRQ"),
    ("JP", "7208.10", "2023-01-01", None, None, {"in_quota": False}, 25,
     "2022 Japan steel TRQ, over quota"),
    ("CA", "7601.10", "2025-03-12", None, None, {"usmca_qualifying": True}, 25,
     "Proclamation 10895: aluminium 25% (USMCA goods are out of the Canada IEEPA duty)"),
    ("CN", "9503.00.00", "2025-11-10", None, None, {}, 20,
     "Nov 2025 order: fentanyl cut to 10%, reciprocal 10%"),
]


@pytest.mark.parametrize("origin, hts, entered, known, mfn, facts, additional, citation", CASES,
                         ids=[f"{c[0]}-{c[1]}-{c[2]}-k{c[3]}" for c in CASES])
def test_bundled_timeline_gives_the_cited_answer(
        loaded: TariffTimeline, origin: str, hts: str, entered: str, known: str | None,
        mfn: str | None, facts: dict[str, object], additional: int, citation: str) -> None:
    answer = loaded.rate_on(origin=origin, hts=hts, entered=entered, known=known, mfn=mfn,
                            facts=facts)
    assert answer.additional == Decimal(additional), (citation, answer.layers)


def test_korean_steel_in_2019_depends_on_the_quota_and_says_so(loaded: TariffTimeline) -> None:
    answer = loaded.rate_on(origin="KR", hts="7208.10", entered="2019-06-01")
    assert answer.additional is None
    assert {a.assumptions["in_quota = true"]: a.additional for a in answer.alternatives} == {
        True: 0, False: 25}


def test_schedule_shows_paused_and_in_force_measures(loaded: TariffTimeline) -> None:
    schedule = loaded.schedule_as_of(entered="2025-04-10", origin="JP")
    status = {row.id: row.status for row in schedule.rows}
    assert status["ieepa-recip-jp"] == "paused"
    assert status["ieepa-recip-baseline"] == "in_force"
    assert status["s232-steel"] == "in_force"
    before = loaded.schedule_as_of(entered="2025-04-06", origin="JP")
    assert {r.id: r.status for r in before.rows}["ieepa-recip-jp"] == "scheduled"


def test_schedule_rows_hold_their_rate_only_over_their_since_and_until(
        loaded: TariffTimeline) -> None:
    # given the bundled timeline: steel 25% since 2018, 50% from 4 June 2025 (Proclamation
    # 10947); China's fentanyl duty 10% from 4 February, 20% from 4 March (EO 14228), cut
    # to 10% from 10 November 2025
    # when the schedule of 1 July 2025 for Chinese flat-rolled steel is asked
    rows = {row.id: row for row in loaded.schedule_as_of(
        entered="2025-07-01", origin="CN", hts="7208.10.15").rows}
    steel, fentanyl = rows["s232-steel"], rows["ieepa-fentanyl-cn"]
    # then each row's since and until bound the stretch its rate holds over, not the
    # measure's time in force: no row says 50% since 2018
    assert (steel.rate or "").startswith("50%")
    assert steel.since is not None and steel.since.date().isoformat() == "2025-06-04"
    assert (fentanyl.rate or "").startswith("20%")
    assert fentanyl.since is not None and fentanyl.since.date().isoformat() == "2025-03-04"
    assert fentanyl.until is not None and fentanyl.until.date().isoformat() == "2025-11-10"
    # and each cites the events bounding that stretch: the raise, and the cut
    assert "s232-steel-alu-50-steel" in steel.events
    assert {"ieepa-cn-fentanyl-20", "ieepa-cn-fentanyl-cut-10"} <= set(fentanyl.events)


@pytest.mark.parametrize("entered", ["2019-01-01", "2025-04-10", "2025-07-01", "2026-03-01"])
def test_the_read_models_schedule_is_the_folds_byte_for_byte(
        loaded: TariffTimeline, entered: str) -> None:
    # given the bundled timeline, asked of the read model and of the fold
    by_fold = TariffTimeline(loaded.store, loaded.read_model, QueryPath.FOLD)
    coordinate = {"entered": entered, "known": "2026-07-01", "recorded": "2099-01-01"}
    # when the schedule is asked, then both give the same JSON: each since and until in
    # the Eastern time the instruments use, not the UTC the read model's rows count in
    answer = loaded.schedule_as_of(**coordinate)
    assert answer.rows
    assert answer.model_dump_json() == by_fold.schedule_as_of(**coordinate).model_dump_json()


def test_event_log_carries_all_three_clocks(loaded: TariffTimeline) -> None:
    rows = loaded.events("ieepa-recip-jp")
    own = [r.id for r in rows if r.id.startswith("recip-")]
    assert own[:3] == ["recip-country-rates-jp", "recip-pause-jp", "recip-pause-ext-aug1-jp"]
    assert {"jp-eo14345", "ieepa-collection-ended-recip-jp"} <= {r.id for r in rows}
    assert all(r.known and r.recorded for r in rows)
    # A ruling and a correction (of the data, not of policy) have no effective time of their own.
    assert all(r.effective_from or r.effective_until for r in rows
               if r.type not in ("CourtRuled", "EventCorrected"))
