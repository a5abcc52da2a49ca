"""Hostile and careless import files (issue 13): each is refused as `file:line: why`, within
bounds, with nothing written; no value is typed by guesswork and nothing ends in a traceback."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from tariff_timeline import TariffTimeline
from tariff_timeline.domain.errors import ImportRejected
from tariff_timeline.importing.limits import MAX_FILE_BYTES

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
    scope: {origins: [JP], products: ['9503']}
    rate: {percent: 10}
    sources: [{title: EO 1, url: "https://example.org/eo1"}]
"""


def event(**changes: Any) -> dict[str, Any]:
    """The GOOD event as JSON data, with some fields changed."""
    data: dict[str, Any] = {
        "id": "m-imposed", "type": "MeasureImposed", "known": "2025-04-02", "measure": "m",
        "program": "p", "authority": "IEEPA", "title": "A measure",
        "effective_from": "2025-04-05", "scope": {"origins": ["JP"], "products": ["9503"]},
        "rate": {"percent": 10}, "sources": [{"title": "EO 1"}]}
    return data | changes


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def refused(timeline: TariffTimeline, path: Path) -> list[str]:
    """The problems an import of the file is refused with; nothing may have been written."""
    with pytest.raises(ImportRejected) as caught:
        timeline.import_paths([path])
    assert timeline.store.count() == 0
    return caught.value.problems


def alias_bomb(levels: int = 9) -> str:
    """Nine anchors, each a list of nine aliases of the one before: 9**9 values in 1 KB."""
    lines = ["events:", "  - id: bomb", "    type: MeasureImposed",
             "    a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    for level in range(1, levels + 1):
        aliases = ", ".join([f"*a{level - 1}"] * 9)
        lines.append(f"    a{level}: &a{level} [{aliases}]")
    lines.append(f"    scope: {{origins: *a{levels}, products: *a{levels}}}")
    return "\n".join(lines) + "\n"


class TestLimits:
    def test_a_kilobyte_of_nested_aliases_is_refused_at_its_line_within_a_second(
            self, timeline: TariffTimeline, tmp_path: Path) -> None:
        path = write(tmp_path, "bomb.yaml", alias_bomb())
        assert path.stat().st_size < 1024
        started = time.perf_counter()
        problems = refused(timeline, path)
        assert time.perf_counter() - started < 1
        assert len(problems) == 1
        assert problems[0].startswith(f"{path}:9: aliases reach more than 250000 values")
        assert "MAX_ALIAS_NODES" in problems[0]

    def test_an_alias_inside_the_value_it_names_is_refused(
            self, timeline: TariffTimeline, tmp_path: Path) -> None:
        path = write(tmp_path, "loop.yaml", GOOD.replace(
            "products: ['9503']", "products: &p [*p]"))
        assert refused(timeline, path) == [
            f"{path}:10: the alias *p is inside the value it names (a value cannot contain "
            "itself)"]

    @pytest.mark.parametrize("name, opening, closing", [
        ("deep.yaml", "[", "]"), ("deep.json", "[", "]"), ("deep-maps.json", '{"a":', "}")])
    def test_a_document_nested_thousands_deep_is_refused_at_its_line(
            self, timeline: TariffTimeline, tmp_path: Path, name: str, opening: str,
            closing: str) -> None:
        path = write(tmp_path, name, "[\n" + opening * 5000 + "1" + closing * 5000 + "\n]")
        assert refused(timeline, path) == [
            f"{path}:2: nested more than 32 levels deep (the nesting limit, MAX_DEPTH)"]

    def test_an_event_nested_deeper_than_the_limit_but_not_than_python_is_refused_too(
            self, timeline: TariffTimeline, tmp_path: Path) -> None:
        path = write(tmp_path, "deep.json", json.dumps(
            [event(note=json.loads("[" * 40 + "]" * 40))], indent=1))
        problems = refused(timeline, path)
        assert len(problems) == 1 and "(the nesting limit, MAX_DEPTH)" in problems[0]

    def test_a_file_over_the_size_limit_is_refused_before_it_is_read(
            self, timeline: TariffTimeline, tmp_path: Path) -> None:
        path = tmp_path / "huge.json"
        with path.open("wb") as stream:
            stream.truncate(MAX_FILE_BYTES + 1)  # sparse: nothing is written to disk
        problems = refused(timeline, path)
        assert problems == [
            f"{path}:1: {MAX_FILE_BYTES + 1:,} bytes is over the limit of {MAX_FILE_BYTES:,} "
            "bytes for one file (MAX_FILE_BYTES); split the events into a folder of files"]


class TestNothingIsTypedByGuesswork:
    @pytest.mark.parametrize("field, line", [("known", 4), ("effective_from", 9)])
    def test_an_unquoted_number_as_a_date_is_refused_with_a_hint_to_quote_it(
            self, timeline: TariffTimeline, tmp_path: Path, field: str, line: int) -> None:
        text = GOOD.replace("known: 2025-04-02", "known: 20250301").replace(
            "effective_from: 2025-04-05", "effective_from: 20250305")
        path = write(tmp_path, "numbers.yaml", text)
        problems = refused(timeline, path)
        day = "2025-03-01" if field == "known" else "2025-03-05"
        assert (f"{path}:{line}: event 'm-imposed' (MeasureImposed), item 1, field '{field}': "
                f"{day.replace('-', '')} is a number; write the date as a quoted ISO string, "
                f"e.g. '{day}'") in "\n".join(problems)

    def test_a_date_given_as_a_number_in_json_is_refused_like_in_yaml(
            self, timeline: TariffTimeline, tmp_path: Path) -> None:
        path = write(tmp_path, "number.json", json.dumps([event(known=20250301)]))
        problems = refused(timeline, path)
        assert problems[0].startswith(
            f"{path}:1: event 'm-imposed' (MeasureImposed), item 1, field 'known': 20250301 "
            "is a number; write the date as a quoted ISO string, e.g. '2025-03-01'")

    @pytest.mark.parametrize("written", ["[0101]", "[9503]", "[8703.23]", "[true]"])
    def test_an_unquoted_hts_code_is_refused_never_read_as_a_number(
            self, timeline: TariffTimeline, tmp_path: Path, written: str) -> None:
        path = write(tmp_path, "codes.yaml", GOOD.replace("['9503']", written))
        problems = refused(timeline, path)
        assert len(problems) == 1
        assert problems[0].startswith(f"{path}:10: event 'm-imposed' (MeasureImposed), item 1, "
                                      "field 'scope.products.0': ")
        assert "write HTS codes as quoted strings" in problems[0] or (
            "an HTS code is a quoted string" in problems[0])

    def test_an_hts_code_with_an_inner_space_is_refused(
            self, timeline: TariffTimeline, tmp_path: Path) -> None:
        path = write(tmp_path, "space.yaml", GOOD.replace("['9503']", "['9503 00']"))
        assert "invalid HTS code '9503 00'" in refused(timeline, path)[0]

    @pytest.mark.parametrize("scope, missing", [
        ("{}", "origins and products"), ("{origins: [JP]}", "products"),
        ("{products: ['9503']}", "origins")])
    def test_a_scope_that_leaves_out_origins_or_products_is_refused(
            self, timeline: TariffTimeline, tmp_path: Path, scope: str, missing: str) -> None:
        path = write(tmp_path, "scope.yaml", GOOD.replace(
            "{origins: [JP], products: ['9503']}", scope))
        assert refused(timeline, path) == [
            f"{path}:10: event 'm-imposed' (MeasureImposed), item 1, field 'scope': {missing} "
            "not given: a scope must say which goods it covers (write [ALL] for every one)"]

    def test_unquoted_dates_yes_and_no_are_text_so_norway_is_a_country(
            self, timeline: TariffTimeline, tmp_path: Path) -> None:
        path = write(tmp_path, "norway.yaml", GOOD.replace("origins: [JP]", "origins: [NO]"))
        timeline.import_paths([path])
        (stored,) = [r.event for r in timeline.store.read()]
        assert stored.scope.origins == ("NO",)  # type: ignore[attr-defined]
        assert stored.known.isoformat() == "2025-04-02"

    def test_a_true_or_false_written_as_yes_or_on_is_refused(
            self, timeline: TariffTimeline, tmp_path: Path) -> None:
        path = write(tmp_path, "yes.yaml", GOOD.replace(
            "products: ['9503']}", "products: ['9503'], products_complete: off}"))
        assert "field 'scope.products_complete': Input should be a valid boolean" in refused(
            timeline, path)[0]

    @pytest.mark.parametrize("name, text, line", [
        ("twice.yaml", GOOD.replace("    measure: m\n", "    measure: m\n    measure: n\n"), 6),
        ("twice.json", json.dumps([event()], indent=1).replace(
            '"measure": "m",', '"measure": "m",\n  "measure": "n",'), 7),
    ])
    def test_a_key_given_twice_is_refused_not_overwritten_by_its_last_value(
            self, timeline: TariffTimeline, tmp_path: Path, name: str, text: str,
            line: int) -> None:
        path = write(tmp_path, name, text)
        problems = refused(timeline, path)
        assert len(problems) == 1 and problems[0].startswith(f"{path}:{line}: ")
        assert "'measure' is given twice" in problems[0]

    def test_a_yaml_tag_that_builds_another_type_is_refused(
            self, timeline: TariffTimeline, tmp_path: Path) -> None:
        path = write(tmp_path, "tag.yaml", GOOD.replace("known: 2025-04-02",
                                                         "known: !!timestamp 2025-04-02"))
        assert refused(timeline, path) == [
            f"{path}:4: not valid YAML: the tag 'tag:yaml.org,2002:timestamp' is not part of the "
            "import format (write plain values)"]


class TestTextAndEncodings:
    @pytest.mark.parametrize("name, text, line", [
        ("nul.yaml", GOOD.replace("A measure", "A \x00measure"), 8),
        ("nul.json", json.dumps([event()], indent=1).replace('"A measure"', '"A \x00"'), 9),
    ])
    def test_a_nul_byte_is_refused_at_its_line(self, timeline: TariffTimeline, tmp_path: Path,
                                               name: str, text: str, line: int) -> None:
        path = write(tmp_path, name, text)
        assert refused(timeline, path) == [
            f"{path}:{line}: holds a NUL character (U+0000): event files are text"]

    @pytest.mark.parametrize("name, text, line", [
        ("escaped-nul.json", json.dumps([event(title="A \x00")], indent=1), 9),
        ("escaped-nul.yaml", GOOD.replace("title: A measure", 'title: "A \\0"'), 8),
    ])
    def test_a_nul_written_as_an_escape_is_refused_at_its_field(
            self, timeline: TariffTimeline, tmp_path: Path, name: str, text: str,
            line: int) -> None:
        path = write(tmp_path, name, text)
        assert refused(timeline, path) == [
            f"{path}:{line}: event 'm-imposed' (MeasureImposed), item 1, field 'title': holds "
            "the control character U+0000; text may not hold them"]

    @pytest.mark.parametrize("name, text, line", [
        ("surrogate.json", json.dumps([event(title="A \ud800")], indent=1), 9),
        ("surrogate.yaml", GOOD.replace("title: A measure", 'title: "A \\ud800"'), 8),
    ])
    def test_a_lone_surrogate_is_refused_at_its_field(
            self, timeline: TariffTimeline, tmp_path: Path, name: str, text: str,
            line: int) -> None:
        path = write(tmp_path, name, text)
        assert refused(timeline, path) == [
            f"{path}:{line}: event 'm-imposed' (MeasureImposed), item 1, field 'title': holds "
            "U+D800, half of a UTF-16 surrogate pair, which is not a character on its own"]

    def test_a_lone_surrogate_in_a_key_is_refused_and_the_message_can_be_printed(
            self, timeline: TariffTimeline, tmp_path: Path) -> None:
        path = write(tmp_path, "key.json", json.dumps([event() | {"x\ud800": 1}]))
        problems = refused(timeline, path)
        assert problems == [
            f"{path}:1: event 'm-imposed' (MeasureImposed), item 1, field '(event)': holds "
            "U+D800, half of a UTF-16 surrogate pair, which is not a character on its own"]
        problems[0].encode("utf-8")

    @pytest.mark.parametrize("character, why", [
        ("\x85", "holds the control character U+0085"),
        ("\u2028", "holds U+2028, which YAML readers take as a line break or as text")])
    def test_a_yaml_line_break_of_yaml_11_only_is_refused_not_read_as_either(
            self, timeline: TariffTimeline, tmp_path: Path, character: str, why: str) -> None:
        # PyYAML would fold 'A measure<NEL>' into 'A measure ', where JSON reads the NEL.
        path = write(tmp_path, "nel.yaml", GOOD.replace("A measure", f"'A measure{character}'"))
        problems = refused(timeline, path)
        assert len(problems) == 1 and problems[0].startswith(f"{path}:8: {why}")

    def test_invalid_utf8_is_refused_at_its_line(self, timeline: TariffTimeline,
                                                 tmp_path: Path) -> None:
        path = write(tmp_path, "latin1.yaml", GOOD.replace("A measure", "Café").encode("latin-1"))
        assert refused(timeline, path) == [
            f"{path}:8: not UTF-8 text: byte 0xe9, invalid continuation byte"]

    @pytest.mark.parametrize("encoding", ["utf-16", "utf-32"])
    def test_a_utf16_or_utf32_file_is_refused_with_its_encoding(
            self, timeline: TariffTimeline, tmp_path: Path, encoding: str) -> None:
        path = write(tmp_path, "wide.yaml", GOOD.encode(encoding))
        assert refused(timeline, path) == [
            f"{path}:1: the file is {encoding.upper()} (it starts with a {encoding.upper()} "
            "byte-order mark); save it as UTF-8"]

    @pytest.mark.parametrize("name, text", [
        ("bom.yaml", GOOD), ("bom.json", json.dumps([event()]))])
    def test_a_utf8_byte_order_mark_at_the_start_is_not_content(
            self, timeline: TariffTimeline, tmp_path: Path, name: str, text: str) -> None:
        path = write(tmp_path, name, b"\xef\xbb\xbf" + text.encode("utf-8"))
        assert timeline.import_paths([path]).appended == 1


class TestJsonIsReadOnce:
    def test_a_bad_value_at_the_end_of_a_json_file_is_named_at_its_line_and_field(
            self, timeline: TariffTimeline, tmp_path: Path) -> None:
        events = [event(id=f"e{n}", measure=f"m{n}") for n in range(200)]
        events[-1]["rate"] = {"percent": "ten"}
        path = write(tmp_path, "tail.json", '{"events": [\n' + ",\n".join(
            json.dumps(e) for e in events) + "\n]}\n")
        assert refused(timeline, path) == [
            f"{path}:201: event 'e199' (MeasureImposed), item 200, field 'rate.percent': "
            "Input should be a valid decimal"]

    def test_a_json_problem_is_located_by_the_json_reader_where_yaml_could_not_even_parse(
            self, timeline: TariffTimeline, tmp_path: Path) -> None:
        # YAML allows no key longer than 1,024 characters: read as YAML, this file would only
        # be "not valid YAML"; read as JSON, its unknown field is named.
        path = write(tmp_path, "long-key.json", json.dumps([event() | {"k" * 2000: 1}]))
        problems = refused(timeline, path)
        assert problems == [f"{path}:1: event 'm-imposed' (MeasureImposed), item 1, field "
                            f"'{'k' * 55}[...]': Extra inputs are not permitted"]
