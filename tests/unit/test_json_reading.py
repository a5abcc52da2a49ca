"""The JSON reader reads the same events, at the same lines, as the YAML reader, and locates
every problem itself: a JSON file is never read a second time as YAML."""

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
    fast, problems = _read_json("f.json", text)
    slow, also = _read_yaml("f.json", text)
    assert fast and not problems and not also
    assert [(x.event, x.line) for x in fast] == [(x.event, x.line) for x in slow]


@pytest.mark.parametrize("text, line, why", [
    ('{"events": [' + EVENT % ("a", "a") + ",\n]}", 2, "not valid JSON: Expecting value"),
    ('{"events": [], "extra": 1}', 1, "only 'events' (found more after the list)"),
    ('{"other": []}', 1, "only 'events' (found 'other')"),
    ("[\n" + EVENT % ("a", "a") + "\n" + EVENT % ("b", "b") + "]", 3, "expected ',' or ']'"),
    ("[]\n[]", 2, "more after the list of events"),
    ('"events"', 1, "expected a list of events"),
    ("  \n ", 1, "the file is empty"),
    ("[\n" + EVENT.replace('"court": "CIT"', '"court": "CIT",\n"court": "X"') % ("a", "a")
     + "]", 3, "the key 'court' is given twice"),
])
def test_a_text_that_is_not_a_json_list_of_events_is_refused_at_its_line(
        text: str, line: int, why: str) -> None:
    located, problems = _read_json("f.json", text)
    assert located == []
    assert len(problems) == 1 and problems[0].startswith(f"f.json:{line}: ")
    assert why in problems[0]


def test_an_invalid_json_event_is_reported_with_its_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"events": [\n' + EVENT % ("a", "a") + ",\n"
                    + EVENT.replace('"CIT"', "1") % ("b", "b") + "\n]}\n", encoding="utf-8")
    located, problems = read_file(path)
    assert located and len(problems) == 1
    assert problems[0].startswith(f"{path}:3: event 'b' (CourtRuled), item 2, field 'court'")


def test_a_field_of_an_indented_json_event_is_reported_at_its_own_line(tmp_path: Path) -> None:
    path = tmp_path / "indented.json"
    path.write_text("[\n  {\n" + EVENT[1:-1].replace(", ", ",\n    ") % ("a", "a")
                    + "\n  }\n]\n", encoding="utf-8")
    path.write_text(path.read_text(encoding="utf-8").replace('"2025-05-28"', "20250528"),
                    encoding="utf-8")
    _, problems = read_file(path)
    assert problems == [
        f"{path}:5: event 'a' (CourtRuled), item 1, field 'known': 20250528 is a number; write "
        "the date as a quoted ISO string, e.g. '2025-05-28' (or a datetime with its UTC offset, "
        "e.g. '2025-03-01T00:01:00-05:00')"]
