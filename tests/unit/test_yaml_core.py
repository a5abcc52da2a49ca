"""Import YAML is read by YAML 1.2's core schema, within the limits of the import."""

from __future__ import annotations

import math

import pytest
import yaml

from tariff_timeline.importing.limits import Limits
from tariff_timeline.importing.yamlcore import LimitExceeded, load


def value(text: str) -> object:
    _, data = load(f"v: {text}")
    assert isinstance(data, dict)
    return data["v"]


class TestPlainScalarsAreTypedByTheCoreSchema:
    @pytest.mark.parametrize("text", [
        "2025-03-01", "2025-03-01T00:01:00-05:00", "yes", "No", "on", "OFF", "y", "1:30",
        "0b101", "1_000", "=", "<<", "9503.00.00"])
    def test_what_yaml_11_would_have_typed_is_text(self, text: str) -> None:
        assert value(text) == text

    @pytest.mark.parametrize("text, expected", [
        ("0101", 101), ("-7", -7), ("0o17", 15), ("0x1F", 31), ("20250301", 20250301)])
    def test_integers_are_decimal_even_with_a_leading_zero(self, text: str,
                                                           expected: int) -> None:
        assert value(text) == expected

    @pytest.mark.parametrize("text, expected", [
        ("1.5", 1.5), ("1e3", 1000.0), ("-.inf", -math.inf), (".5", 0.5)])
    def test_floats_are_decimal_fractions_exponents_and_infinities(
            self, text: str, expected: float) -> None:
        assert value(text) == expected

    @pytest.mark.parametrize("text, expected", [
        ("true", True), ("False", False), ("~", None), ("null", None), ("", None)])
    def test_booleans_and_null_are_only_their_core_spellings(self, text: str,
                                                              expected: object) -> None:
        assert value(text) == expected

    @pytest.mark.parametrize("text", [
        "!!timestamp 2025-03-01", "!!binary aGk=", "!!set {a}", "!!python/tuple [1]",
        "!!bool yes", "!local x"])
    def test_a_tag_that_builds_anything_else_is_refused(self, text: str) -> None:
        with pytest.raises(yaml.YAMLError):
            value(text)

    def test_a_quoted_or_str_tagged_scalar_is_text(self) -> None:
        assert (value("'0101'"), value("!!str 0101")) == ("0101", "0101")

    def test_an_integer_too_long_to_convert_is_refused_not_raised(self) -> None:
        with pytest.raises(yaml.YAMLError, match="integer too long"):
            value("9" * 5000)


class TestLimits:
    def test_each_alias_counts_against_the_alias_limit(self) -> None:
        text = "a: &a x\nb: [" + ", ".join(["*a"] * 11) + "]\n"
        load(text, Limits(aliases=11))
        with pytest.raises(LimitExceeded, match=r"more than 10 aliases .*MAX_ALIASES"):
            load(text, Limits(aliases=10))

    def test_an_alias_counts_every_value_it_names_each_time_it_is_used(self) -> None:
        text = "a: &a [1, 2, 3]\nb: [*a, *a]\n"  # each use reaches the list and its 3 items
        load(text, Limits(alias_nodes=8))
        with pytest.raises(LimitExceeded, match="more than 7 values") as caught:
            load(text, Limits(alias_nodes=7))
        assert caught.value.problem_mark is not None
        assert caught.value.problem_mark.line == 1

    def test_an_alias_counts_the_depth_of_what_it_names_where_it_is_used(self) -> None:
        text = "a: &a [[[x]]]\nb: [[*a]]\n"
        load(text, Limits(depth=7))
        with pytest.raises(LimitExceeded, match="the alias \\*a nests more than 6 levels"):
            load(text, Limits(depth=6))

    def test_nesting_is_refused_at_the_first_level_past_the_limit(self) -> None:
        with pytest.raises(LimitExceeded, match="nested more than 3 levels") as caught:
            load("a:\n  b:\n    c:\n      d: 1\n", Limits(depth=3))
        assert caught.value.problem_mark is not None
        assert caught.value.problem_mark.line == 2

    def test_a_key_given_twice_is_refused(self) -> None:
        with pytest.raises(yaml.YAMLError, match="the key 'a' is given twice"):
            load("a: 1\nb: 2\na: 3\n")
