"""Rate answers on the bundled timeline with its HTS nomenclature: known answers with their
citations, and the read model answering exactly as the fold does."""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest

from tariff_timeline import TariffTimeline
from tariff_timeline.domain.errors import InvalidInput
from tariff_timeline.domain.questions import RateQuestion
from tariff_timeline.projections.answers import RateAnswer

KNOWN = "2026-07-01"
RECORDED = None  # now: the fixture's clock, after the import

# (origin, hts, entered, additional, mfn, total, line, revision, citation)
CASES = [
    ("CL", "7403.11.00", "2025-08-05", 0, 1, 1, "7403.11.00.00", "2025-rev-13",
     "EO 14257 Annex II lists 7403.11.00.00, the only line under 7403.11.00 (event "
     "recip-annex-ii-exemptions); HTS 2025 Rev 13 general column 1%"),
    ("BR", "0901.11.00", "2025-12-10", 0, 0, 0, "0901.11.00", "2025-rev-32",
     "Order of 14 Nov 2025 (event recip-ag-exemptions-nov2025) lists all six suffixes of "
     "0901.11.00 in HTS 2025 Rev 32; the Brazil 40% lifted for it (event br-ag-nov2025); "
     "general column Free"),
    ("CH", "7108.13.70", "2025-09-10", 0, Decimal("4.1"), Decimal("4.1"), "7108.13.70.00",
     "2025-rev-13",
     "EO 14346 added bullion 7108.13.70.00 to Annex II from 8 Sep 2025 (event "
     "recip-scope-eo14346-bullion); HTS 2025 Rev 13 general column 4.1%"),
    ("JP", "8703.23.01", "2025-05-01", 25, Decimal("2.5"), Decimal("27.5"), "8703.23.01",
     "2025-rev-13",
     "Proclamation 10908: autos 25%; EO 14257 s.3(b): 232 goods pay no reciprocal; HTS 2025 "
     "Rev 13 (standing in for 1 May) general column 2.5%"),
]


@pytest.mark.parametrize("origin, hts, entered, additional, mfn, total, line, revision, cited",
                         CASES, ids=[f"{c[0]}-{c[1]}-{c[2]}" for c in CASES])
def test_the_bundled_timeline_gives_the_cited_answer_from_the_hts_line(
        loaded_once: TariffTimeline, origin: str, hts: str, entered: str, additional: int,
        mfn: Decimal, total: Decimal, line: str, revision: str, cited: str) -> None:
    answer = loaded_once.rate_on(origin=origin, hts=hts, entered=entered)
    assert (answer.additional, answer.mfn, answer.total) == (additional, mfn, total), (
        cited, answer.notes)
    assert (answer.line, answer.revision, answer.mfn_source) == (line, revision, "hts")
    assert answer.description


def test_coffee_on_1_december_2025_depends_on_the_suffix_the_list_names(
        loaded_once: TariffTimeline) -> None:
    # The November 2025 list names the suffixes of HTS 2025 Rev 32 (from 5 Dec); on 1 Dec,
    # Rev 13's .45 and .55 are not on it, so they still pay the 10% baseline.
    answer = loaded_once.rate_on(origin="BR", hts="0901.11.00", entered="2025-12-01")
    assert answer.additional is None
    assert [(a.assumptions, a.additional) for a in answer.alternatives] == [
        ({"entered under 0901.11.00.15, .25": True}, 0),
        ({"entered under 0901.11.00.45, .55": True}, 10)]


def test_a_code_that_is_no_line_of_the_bundled_hts_is_refused(
        loaded_once: TariffTimeline) -> None:
    with pytest.raises(InvalidInput, match=r"9999\.99\.99 is not a line of HTS chapter 99 .*"
                       "nearest: 99"):
        loaded_once.rate_on(origin="CN", hts="9999.99.99", entered="2025-05-01")


def test_a_given_mfn_still_overrides_the_bundled_line(loaded_once: TariffTimeline) -> None:
    answer = loaded_once.rate_on(origin="JP", hts="8703.23.01", entered="2025-05-01",
                                 mfn="3")
    assert (answer.total, answer.mfn_source, answer.mfn_general) == (28, "given", "2.5%")


ORIGINS = ("JP", "CN", "DE", "BR", "CL", "CH")
CODES = ("8703.23.01", "0901.11.00", "7403.11.00", "7108.13.70", "9503.00.00", "8471.30.01",
         "7208.10.15.00", "8708", "870323", "0901.11.00.45", "0901.11.00.65", "9999.99.99",
         "7708.10.00", "3004.20.00")
DATES = ("2025-03-01", "2025-12-01", "2026-03-01")
KNOWNS = (KNOWN, "2025-11-30")


def _json(answer: RateAnswer | InvalidInput) -> object:
    if isinstance(answer, InvalidInput):
        return ("refused", answer.field, answer.message)
    return answer.model_dump(mode="json")


def test_the_read_model_answers_bundled_questions_exactly_as_the_fold_does(
        loaded_once: TariffTimeline) -> None:
    questions = [RateQuestion(origin, hts, entered, known, RECORDED)
                 for origin, hts, entered, known in itertools.product(ORIGINS, CODES, DATES,
                                                                      KNOWNS)]
    # rate_many answers from folds of the checked log, the reference path.
    by_fold = [_json(answer) for answer in loaded_once.rate_many(questions)]
    for question, expected in zip(questions, by_fold, strict=True):
        try:
            by_model = _json(loaded_once.rate_on(
                origin=question.origin, hts=question.hts, entered=question.entered,
                known=question.known, recorded=question.recorded))
        except InvalidInput as refused:
            by_model = _json(refused)
        assert by_model == expected, question
    assert len(questions) == 504
    assert sum(isinstance(a, tuple) for a in by_fold) > 0
