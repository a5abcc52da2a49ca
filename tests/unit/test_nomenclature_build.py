"""scripts/build_nomenclature.py on tiny reference CSVs: a baseline, then only what changed."""

from __future__ import annotations

import importlib.util
import json
import sys
from datetime import date
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tariff_timeline.domain.clocks import effective_instant
from tariff_timeline.domain.nomenclature import line_at
from tariff_timeline.domain.timeline import fold
from tariff_timeline.importing.files import read_file

REPO = Path(__file__).resolve().parents[2]
HEADER = "hts,hts_dotted,indent,parent,description,general,special,other,units,footnotes,"\
         "additional_duties\n"
FIRST = HEADER + """0101,0101,0,,"Live horses, asses, mules and hinnies:",,,,,,
,,1,0101,Horses:,,,,,,
01012100,0101.21.00,2,0101,Purebred breeding animals,Free,,Free,,,
0101210010,0101.21.00.10,3,01012100,Males,,,,No.,,
0101210020,0101.21.00.20,3,01012100,Females,,,,No.,,
0101300000,0101.30.00.00,1,0101,Asses,6.8%,"Free (A+,AU)",15%,No.;kg,,
0201,0201,0,,"Meat of bovine animals, fresh or chilled:",,,,,,
0201100000,0201.10.00.00,1,0201,Carcasses and half-carcasses,26.4%,,26.4%,kg,,
"""
SECOND = HEADER + """0101,0101,0,,"Live horses, asses, mules and hinnies:",,,,,,
,,1,0101,Horses:,,,,,,
01012100,0101.21.00,2,0101,Purebred breeding animals,Free,,Free,,,
0101210010,0101.21.00.10,3,01012100,Males,,,,No.,,
0101210030,0101.21.00.30,3,01012100,Geldings,,,,No.,,
0101300000,0101.30.00.00,1,0101,Asses,7%,"Free (A+,AU)",15%,No.;kg,,
0201,0201,0,,"Meat of bovine animals, fresh or chilled:",,,,,,
0201100000,0201.10.00.00,1,0201,Carcasses and half-carcasses,26.4%,,26.4%,kg,,
"""


@pytest.fixture(scope="module")
def script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_nomenclature",
                                                  REPO / "scripts" / "build_nomenclature.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # Its dataclasses look their module up while being defined.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _revisions(script: ModuleType) -> tuple[Any, ...]:
    def revision(ref: str, start: date, local: str) -> Any:
        return script.Revision(ref, f"Test {ref}", ref.upper(), start, local, "someone/hts",
                               f"data/{local}", "a" * 40, "b" * 40, "c" * 64)
    return (revision("2025-rev-13", date(2025, 5, 16), "first.csv"),
            revision("2025-rev-32", date(2025, 12, 5), "second.csv"))


@pytest.fixture
def built(script: ModuleType, tmp_path: Path) -> list[Path]:
    (tmp_path / "first.csv").write_text(FIRST, encoding="utf-8")
    (tmp_path / "second.csv").write_text(SECOND, encoding="utf-8")
    written: list[Path] = script.build(tmp_path, tmp_path / "out", _revisions(script))
    return written


def _events(path: Path) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))["events"]
    return events


def test_the_first_revision_records_every_line_of_each_chapter(built: list[Path]) -> None:
    events = _events(built[0])
    assert [(e["id"], e["baseline"]) for e in events] == [("hts-2025-rev-13-ch01", True),
                                                          ("hts-2025-rev-13-ch02", True)]
    lines = {line["code"]: line for line in events[0]["added"]}
    assert list(lines) == ["0101", "01012100", "0101210010", "0101210020", "0101300000"]
    assert lines["01012100"]["superiors"] == ["Horses:"]
    # "Asses" sits at the indent of "Horses:", so that text is not above it.
    assert "superiors" not in lines["0101300000"]
    assert lines["0101300000"]["units"] == ["No.", "kg"]
    assert lines["0101300000"]["special"] == "Free (A+,AU)"


def test_a_later_revision_records_only_the_lines_added_changed_or_removed(
        built: list[Path]) -> None:
    (event,) = _events(built[1])
    assert event["id"] == "hts-2025-rev-32-ch01"
    assert [line["code"] for line in event["added"]] == ["0101210030"]
    assert [(line["code"], line["general"]) for line in event["changed"]] == [
        ("0101300000", "7%")]
    assert event["removed"] == ["0101210020"]
    assert event["note"] == ("USITC Test 2025-rev-32, chapter 01: 1 lines added, 1 changed, "
                             "1 removed since Test 2025-rev-13.")


def test_every_event_cites_the_release_and_the_file_and_says_what_is_uncertain(
        built: list[Path]) -> None:
    (event,) = _events(built[1])
    assert [s["url"] for s in event["sources"]] == [
        "https://hts.usitc.gov/",
        f"https://github.com/someone/hts/blob/{'a' * 40}/data/second.csv"]
    assert event["known"] == "2025-12-05"
    assert event["effective_from"] == "2025-12-05T00:01:00-05:00"
    assert event["caveats"][0].startswith("Known date: the revision's USITC start date")


def test_the_written_files_import_and_answer_as_the_revisions_say(built: list[Path]) -> None:
    read = [read_file(path) for path in built]
    assert [problems for _, problems in read] == [[], []]
    hts = fold(item.event for located, _ in read for item in located).nomenclature
    asses = line_at(hts, "0101.30.00", effective_instant("2026-01-02"))
    assert asses is not None and (asses.line.code, asses.line.general) == ("0101300000", "7%")
    assert line_at(hts, "0101.21.00.20", effective_instant("2026-01-02")) is None


def test_the_files_are_the_same_when_built_again(script: ModuleType, built: list[Path],
                                                 tmp_path: Path) -> None:
    again = script.build(tmp_path, tmp_path / "again", _revisions(script))
    assert [p.read_bytes() for p in again] == [p.read_bytes() for p in built]


def test_each_event_and_each_line_has_a_line_of_its_own(built: list[Path]) -> None:
    text = built[1].read_text(encoding="utf-8").splitlines()
    assert text[0] == '{"events":['
    assert text[-1] == "]}"
    assert '{"code":"0101210030","indent":3,"parent":"01012100","description":"Geldings",' \
           '"units":["No."]}' in text
