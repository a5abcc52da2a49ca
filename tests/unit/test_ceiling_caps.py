"""An all-in ceiling put in place of a layer's rate caps that rate; it never raises it."""

from __future__ import annotations

from decimal import Decimal

from tariff_timeline.domain.rules import capped_percent
from tariff_timeline.events import Rate
from tariff_timeline.events.policy import ExemptionGranted
from tests.builders import SOURCE, imposed
from tests.unit.pure import applied, ask

LUMBER = imposed("lumber", "softwood", known="2025-09-29", start="2025-10-14", percent=10,
                 program="timber", authority="Section 232", products=("4407",))
FURNITURE = imposed("furniture", "upholstered", known="2025-09-29", start="2025-10-14",
                    percent=25, program="timber", authority="Section 232", products=("9401",))
CAP = ExemptionGranted.model_validate({
    "id": "cap", "exemption": "timber-cap-15", "known": "2025-09-29",
    "effective_from": "2025-10-14", "title": "at most 15% including MFN",
    "applies_to": {"programs": ["timber"]}, "scope": {"origins": ["DE"], "products": ["ALL"]},
    "rate": {"percent": 15, "kind": "ceiling"}, "sources": SOURCE})


def test_given_a_15_percent_cap_when_the_layer_is_25_then_the_cap_lowers_it_to_15_minus_mfn(
) -> None:
    answer = ask([FURNITURE, CAP], origin="DE", hts="9401.61", entered="2025-11-01", mfn="2")
    assert applied(answer) == {"upholstered": Decimal(13)}


def test_given_a_15_percent_cap_when_the_layer_is_10_then_the_layer_stays_at_10() -> None:
    answer = ask([LUMBER, CAP], origin="DE", hts="4407.11", entered="2025-11-01", mfn="0")
    assert applied(answer) == {"softwood": Decimal(10)}
    assert answer.additional == 10


def test_given_a_cap_when_mfn_is_unknown_then_the_capped_layer_asks_for_it() -> None:
    answer = ask([LUMBER, CAP], origin="DE", hts="4407.11", entered="2025-11-01")
    assert answer.additional is None
    assert any("mfn" in note for note in answer.notes)


def test_given_an_mfn_above_the_cap_when_capping_then_the_layer_is_zero() -> None:
    cap = Rate(percent=Decimal(15), kind="ceiling")
    own = Rate(percent=Decimal(25))
    assert capped_percent(cap, own, Decimal(20), {}) == 0
    assert capped_percent(cap, own, Decimal(5), {}) == 10
    assert capped_percent(cap, Rate(percent=Decimal(4)), Decimal(5), {}) == 4
    assert capped_percent(cap, None, Decimal(5), {}) == 10
