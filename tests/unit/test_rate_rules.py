"""How layers combine for one entry: replacement, pauses, exemptions, quotas, stacking."""

from __future__ import annotations

from decimal import Decimal

from tariff_timeline.events import PolicyEvent, QuotaChanged, Rate, StackingRuleChanged
from tariff_timeline.projections import RateAnswer
from tests.builders import (
    SOURCE,
    exemption,
    exemption_revoked,
    imposed,
    paused,
    quota,
    rate_changed,
    revoked,
    stacking,
)
from tests.unit.pure import applied, ask, reason

BASELINE = imposed("base", "baseline", known="2025-04-02", start="2025-04-05", percent=10,
                   program="recip")
JAPAN = imposed("jp", "recip-jp", known="2025-04-02", start="2025-04-09", percent=24,
                origins=("JP",), program="recip", kind="replacement", replaces=("baseline",))
PAUSE = paused("pause", "recip-jp", known="2025-04-09", start="2025-04-10", until="2025-07-09")


class TestReplacementAndPauses:
    def test_country_rate_replaces_the_baseline_instead_of_adding_to_it(self) -> None:
        answer = ask([BASELINE, JAPAN], origin="JP", hts="9503", entered="2025-04-09")
        assert applied(answer) == {"recip-jp": 24}
        assert reason(answer, "baseline").startswith("replaced by recip-jp")

    def test_pause_reverts_country_rates_to_baseline(self) -> None:
        answer = ask([BASELINE, JAPAN, PAUSE], origin="JP", hts="9503", entered="2025-04-10")
        assert applied(answer) == {"baseline": 10}
        assert "paused" in reason(answer, "recip-jp")

    def test_pause_ends_on_its_date(self) -> None:
        answer = ask([BASELINE, JAPAN, PAUSE], origin="JP", hts="9503", entered="2025-07-09")
        assert applied(answer) == {"recip-jp": 24}

    def test_before_the_pause_was_known_the_country_rate_was_expected(self) -> None:
        answer = ask([BASELINE, JAPAN, PAUSE], origin="JP", hts="9503", entered="2025-04-10",
                     known="2025-04-08")
        assert answer.additional == 24

    def test_a_measure_not_yet_in_force_is_listed_as_scheduled(self) -> None:
        answer = ask([BASELINE, JAPAN], origin="JP", hts="9503", entered="2025-04-06")
        assert applied(answer) == {"baseline": 10}
        assert reason(answer, "recip-jp").startswith("not yet in force")


class TestWhichMeasuresAnAnswerLists:
    REVOKED = revoked("rev", "recip-jp", known="2025-06-01", start="2025-06-01")

    def test_a_measure_ended_within_a_year_is_listed_as_not_applied(self) -> None:
        answer = ask([BASELINE, JAPAN, self.REVOKED], origin="JP", hts="9503",
                     entered="2026-05-31")
        assert applied(answer) == {"baseline": 10}
        assert reason(answer, "recip-jp").startswith("revoked from 2025-06-01")

    def test_a_measure_ended_more_than_a_year_before_is_not_listed(self) -> None:
        answer = ask([BASELINE, JAPAN, self.REVOKED], origin="JP", hts="9503",
                     entered="2026-06-02")
        assert [layer.measure for layer in answer.layers] == ["baseline"]

    def test_a_measure_starting_more_than_a_year_later_is_not_listed(self) -> None:
        answer = ask([BASELINE, JAPAN], origin="JP", hts="9503", entered="2024-04-01")
        assert answer.layers == ()
        answer = ask([BASELINE, JAPAN], origin="JP", hts="9503", entered="2024-04-10")
        assert [layer.status for layer in answer.layers] == ["scheduled", "scheduled"]


class TestCeilingThatReplaces:
    EU = imposed("eu", "recip-eu", known="2025-07-31", start="2025-08-07", percent=15,
                 origins=("EU",), program="recip", kind="ceiling", replaces=("baseline",))

    def test_all_in_ceiling_takes_the_place_of_the_baseline(self) -> None:
        answer = ask([BASELINE, self.EU], origin="DE", hts="9503", entered="2025-08-08",
                     mfn="4")
        assert applied(answer) == {"recip-eu": Decimal(11)}
        assert reason(answer, "baseline").startswith("replaced by recip-eu")

    def test_ceiling_at_or_below_mfn_adds_nothing_and_still_replaces(self) -> None:
        answer = ask([BASELINE, self.EU], origin="DE", hts="0201", entered="2025-08-08",
                     mfn="26.4")
        assert answer.additional == 0


class TestRetroactiveActions:
    def test_retroactive_exemption_shows_both_worlds(self) -> None:
        electronics = exemption("elec", "electronics", known="2025-04-11", start="2025-04-05",
                                programs=("recip",), products=("8471",))
        given = [BASELINE, electronics]
        before = ask(given, origin="VN", hts="8471.30", entered="2025-04-07", known="2025-04-10")
        after = ask(given, origin="VN", hts="8471.30", entered="2025-04-07", known="2025-04-11")
        assert (before.additional, after.additional) == (10, 0)
        assert reason(after, "baseline").startswith("exempt")

    def test_a_later_known_rate_change_paints_over_the_past(self) -> None:
        given = [BASELINE, rate_changed("cut", "baseline", known="2025-06-01",
                                        start="2025-05-01", percent=5)]
        assert ask(given, origin="VN", hts="9503", entered="2025-05-02",
                   known="2025-05-30").additional == 10
        assert ask(given, origin="VN", hts="9503", entered="2025-05-02").additional == 5


class TestExemptionsAndConditions:
    CANADA = imposed("ca", "ieepa-ca", known="2025-02-01", start="2025-03-04", percent=25,
                     origins=("CA",))
    USMCA = exemption("usmca", "usmca", known="2025-03-06", start="2025-03-07",
                      measures=("ieepa-ca",),
                      conditions=({"fact": "usmca_qualifying", "equals": True},))

    def test_a_stated_fact_decides_a_conditional_exemption(self) -> None:
        given = [self.CANADA, self.USMCA]
        assert ask(given, origin="CA", hts="9503", entered="2025-04-01",
                   facts={"usmca_qualifying": True}).additional == 0
        assert ask(given, origin="CA", hts="9503", entered="2025-04-01",
                   facts={"usmca_qualifying": False}).additional == 25

    def test_an_unstated_fact_gives_alternatives_not_a_guess(self) -> None:
        answer = ask([self.CANADA, self.USMCA], origin="CA", hts="9503", entered="2025-04-01")
        assert answer.additional is None
        outcomes = {a.assumptions["usmca_qualifying = true"]: a.additional
                    for a in answer.alternatives}
        assert outcomes == {True: 0, False: 25}
        assert any("usmca_qualifying" in note for note in answer.notes)

    def test_an_exemption_at_a_reduced_rate_charges_that_rate(self) -> None:
        steel = imposed("st", "steel", known="2025-06-03", start="2025-06-04", percent=50,
                        authority="Section 232", products=("72",))
        uk = exemption("uk", "uk-25", known="2025-06-03", start="2025-06-04",
                       measures=("steel",), origins=("GB",), percent=25)
        assert applied(ask([steel, uk], origin="GB", hts="7208", entered="2025-07-01")) == {
            "steel": 25}
        assert applied(ask([steel, uk], origin="DE", hts="7208", entered="2025-07-01")) == {
            "steel": 50}

    def test_a_revoked_exemption_no_longer_applies(self) -> None:
        steel = imposed("st", "steel", known="2018-03-08", start="2018-03-23", percent=25,
                        products=("72",))
        au = exemption("au", "au", known="2018-04-30", start="2018-05-01",
                       measures=("steel",), origins=("AU",))
        end = exemption_revoked("end", "au", known="2025-02-10", start="2025-03-12")
        given = [steel, au, end]
        assert ask(given, origin="AU", hts="7208", entered="2020-01-01").additional == 0
        assert ask(given, origin="AU", hts="7208", entered="2025-03-12").additional == 25


class TestQuotasCeilingsAndStacking:
    def test_quota_gives_in_and_over_quota_answers(self) -> None:
        autos = imposed("au", "autos", known="2025-03-26", start="2025-04-03", percent=25,
                        authority="Section 232", products=("8703",))
        uk = quota("q", "uk-autos", "autos", known="2025-06-16", start="2025-06-30",
                   in_quota=7.5, origins=("GB",))
        answer = ask([autos, uk], origin="GB", hts="8703.23", entered="2025-07-01")
        outcomes = {a.assumptions["in_quota = true"]: a.additional for a in answer.alternatives}
        assert outcomes == {True: Decimal("7.5"), False: 25}
        assert ask([autos, uk], origin="GB", hts="8703.23", entered="2025-07-01",
                   facts={"in_quota": True}).additional == Decimal("7.5")

    def test_all_in_ceiling_is_15_minus_mfn_and_needs_the_mfn(self) -> None:
        eu = imposed("eu", "recip-eu", known="2025-07-31", start="2025-08-07", percent=15,
                     origins=("EU",), kind="ceiling")
        with_mfn = ask([eu], origin="DE", hts="9503", entered="2025-08-10", mfn="4")
        assert (with_mfn.additional, with_mfn.total) == (11, 15)
        high_mfn = ask([eu], origin="FR", hts="9503", entered="2025-08-10", mfn="20")
        assert high_mfn.additional == 0
        without = ask([eu], origin="DE", hts="9503", entered="2025-08-10")
        assert without.additional is None and any("the MFN rate (mfn)" in n for n in without.notes)

    def test_section_232_goods_do_not_pay_the_reciprocal_layer(self) -> None:
        autos = imposed("au", "autos", known="2025-03-26", start="2025-04-03", percent=25,
                        authority="Section 232", products=("8703",))
        rule = stacking("r", "no-recip-on-232", known="2025-04-02", start="2025-04-05",
                        when={"authorities": ["Section 232"]}, excludes={"programs": ["recip"]})
        answer = ask([BASELINE, autos, rule], origin="JP", hts="8703.23.01",
                     entered="2025-05-01", mfn="2.5")
        assert (answer.additional, answer.total) == (25, Decimal("27.5"))
        assert "not stacked" in reason(answer, "baseline")
        toys = ask([BASELINE, autos, rule], origin="JP", hts="9503", entered="2025-05-01")
        assert toys.additional == 10

    def test_a_scope_narrower_than_the_code_asked_is_flagged_not_guessed(self) -> None:
        narrow = imposed("n", "narrow", known="2025-01-01", start="2025-02-01", percent=25,
                         products=("8703.23.01",))
        answer = ask([narrow], origin="JP", hts="8703", entered="2025-03-01")
        assert applied(answer) == {}
        assert "only some HTS codes" in reason(answer, "narrow")

    def test_rate_change_applies_from_its_effective_date(self) -> None:
        given = [BASELINE, rate_changed("up", "baseline", known="2025-05-01",
                                        start="2025-05-10", percent=20)]
        assert ask(given, origin="VN", hts="9503", entered="2025-05-11").additional == 20
        assert ask(given, origin="VN", hts="9503", entered="2025-05-09").additional == 10


class TestRemainderOfContentLayers:
    DERIVATIVE = imposed("der", "steel-der", known="2025-06-03", start="2025-06-04",
                         percent=50, authority="Section 232", program="s232-der")
    RULE = stacking("rem", "remainder", known="2025-06-03", start="2025-06-04",
                    when={"programs": ["s232-der"]}, excludes={"programs": ["recip"]})

    def _events(self) -> list[PolicyEvent]:
        derivative = self.DERIVATIVE.model_copy(update={"rate": Rate(
            percent=Decimal(50), content_fact="steel_content_share")})
        rule = self.RULE.model_copy(update={"remainder": True})
        return [BASELINE, derivative, rule]

    def test_the_reciprocal_layer_is_charged_on_the_non_metal_share(self) -> None:
        answer = ask(self._events(), origin="VN", hts="9403.20", entered="2025-07-01",
                     facts={"steel_content_share": Decimal("0.4")})
        assert applied(answer) == {"steel-der": Decimal("20.0"), "baseline": Decimal("6.0")}
        assert reason(answer, "baseline").startswith("on the remaining share only")

    def test_without_the_share_the_answer_says_which_fact_is_missing(self) -> None:
        answer = ask(self._events(), origin="VN", hts="9403.20", entered="2025-07-01")
        assert answer.additional is None
        assert any("steel_content_share" in note for note in answer.notes)


def _cited(answer: RateAnswer, measure: str) -> list[str]:
    return [e.id for layer in answer.layers if layer.measure == measure for e in layer.events]


class TestWhatAnAnswerCites:
    """A rule or quota with a long history is cited by the events that decide it at the entry
    date, as a measure is, not by every change it ever had."""

    AUTOS = imposed("au", "autos", known="2025-03-26", start="2025-04-03", percent=25,
                    authority="Section 232", products=("8703",))
    RULE = stacking("r", "no-recip-on-232", known="2025-04-02", start="2025-04-05",
                    when={"authorities": ["Section 232"]}, excludes={"programs": ["recip"]})

    @staticmethod
    def _rule_changed(eid: str, *, known: str, start: str, until: str,
                      in_effect: bool) -> PolicyEvent:
        return StackingRuleChanged.model_validate({
            "id": eid, "rule": "no-recip-on-232", "known": known, "effective_from": start,
            "effective_until": until, "in_effect": in_effect, "sources": SOURCE})

    def test_a_rule_cites_its_setting_and_the_version_in_force_not_its_other_changes(
            self) -> None:
        suspended = self._rule_changed("susp", known="2025-05-01", start="2025-09-01",
                                       until="2025-10-01", in_effect=False)
        renewed = self._rule_changed("renew", known="2025-05-02", start="2025-06-01",
                                     until="2025-07-01", in_effect=True)
        given = [BASELINE, self.AUTOS, self.RULE, suspended, renewed]
        answer = ask(given, origin="JP", hts="8703.23.01", entered="2025-06-15")
        assert "not stacked" in reason(answer, "baseline")
        assert _cited(answer, "baseline") == ["base", "r", "renew"]
        earlier = ask(given, origin="JP", hts="8703.23.01", entered="2025-05-15")
        assert _cited(earlier, "baseline") == ["base", "r"]
        suspended_then = ask(given, origin="JP", hts="8703.23.01", entered="2025-09-15")
        assert applied(suspended_then) == {"autos": 25, "baseline": 10}
        assert _cited(suspended_then, "baseline") == ["base"]

    def test_a_quota_cites_its_opening_and_the_period_in_force_not_later_periods(
            self) -> None:
        uk = quota("q", "uk-autos", "autos", known="2025-06-16", start="2025-06-30",
                   in_quota=7.5, origins=("GB",))
        later = QuotaChanged.model_validate({
            "id": "q2", "quota": "uk-autos", "known": "2025-06-20",
            "effective_from": "2026-01-01", "volume": "50,000 units", "sources": SOURCE})
        given = [self.AUTOS, uk, later]
        answer = ask(given, origin="GB", hts="8703.23", entered="2025-07-01",
                     facts={"in_quota": True})
        assert answer.additional == Decimal("7.5")
        assert _cited(answer, "autos") == ["au", "q"]
        next_year = ask(given, origin="GB", hts="8703.23", entered="2026-02-01",
                        facts={"in_quota": True})
        assert _cited(next_year, "autos") == ["au", "q", "q2"]
