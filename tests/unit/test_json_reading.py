"""The JSON fast path reads the same events, at the same lines, as the YAML reader."""

from __future__ import annotations

from pathlib import Path

import pytest

from tariff_timeline.importing.files import _read_json, _read_yaml, read_file

EVENT = ('{"id": "%s", "type": "CourtRuled", "known": "2025-05-28", "ruling": "r-%s", '
         '"court": "CIT", "case": "V.O.S.", "holding": "h", "outcome": "invalidated", '
         '"sources": [{"title": "Opinion"}]}')


@pytest.mark.parametrize("text", [
    "[" + EVENT % ("a", "a") + ",\n" + EVENT % ("b", "b") + "]",
    '{"events": [\n' + EVENT % ("a", "a") + ",\n\n\n  " + EVENT % ("b", "b") + "\n]}\n",
    '\n\n { "events" :\n[\n\n' + EVENT % ("a", "a") + "\n,\n" + EVENT % ("b", "b") + "\n ] }",
    '{"events": [' + EVENT.replace(", ", ",\n") % ("a", "a") + ", " + EVENT % ("b", "b") + "]}",
])
def test_json_events_and_lines_match_the_yaml_reader(text: str) -> None:
    fast = _read_json("f.json", text)
    slow, problems = _read_yaml("f.json", text)
    assert fast is not None and not problems
    assert [(x.event, x.line) for x in fast] == [(x.event, x.line) for x in slow]


@pytest.mark.parametrize("text", [
    '{"events": [' + EVENT % ("a", "a") + ",]}",          # not JSON (trailing comma)
    '{"events": [], "extra": 1}',                          # not the shape of an import file
    '{"events": [' + EVENT.replace('"CIT"', "1") % ("a", "a") + "]}",  # does not validate
    "[]",
])
def test_anything_else_leaves_the_fast_path(text: str) -> None:
    assert _read_json("f.json", text) is None


def test_an_invalid_json_event_is_reported_with_its_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"events": [\n' + EVENT % ("a", "a") + ",\n"
                    + EVENT.replace('"CIT"', "1") % ("b", "b") + "\n]}\n", encoding="utf-8")
    located, problems = read_file(path)
    assert located and len(problems) == 1
    assert problems[0].startswith(f"{path}:3: event 'b' (CourtRuled), item 2, field 'court'")
