"""Write the HTS nomenclature events into data/nomenclature/, from the reference revisions.

Reads ../shared/reference/hts/ (three USITC HTS revisions as CSV, see its README) in order and
writes one JSON event file per revision: one NomenclatureRevised event per chapter, every line
for the first revision, then only the lines each later revision added, changed or removed.
Re-run after changing this script; commit its output, since the bundled package must not
depend on ../shared:

    .venv/bin/python scripts/build_nomenclature.py [HTS_DIR]

The files are JSON (which has no comments): their provenance is in each event's sources, note
and caveats. One line per event header and one per HTS line, so that a diff stays readable.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from tariff_timeline.domain.timeline import fold
from tariff_timeline.events import HtsLine, NomenclatureRevised
from tariff_timeline.events.instants import entry_instant

ROOT = Path(__file__).resolve().parents[1]
HTS = ROOT.parent / "shared" / "reference" / "hts"
OUT = ROOT / "data" / "nomenclature"
USITC = "https://hts.usitc.gov/"


@dataclass(frozen=True)
class Revision:
    """One USITC revision, the reference file it is read from and where that file came from."""

    ref: str
    label: str
    release: str
    start: date
    local: str
    repository: str
    path: str
    commit: str
    blob: str
    sha256: str
    until: date | None = None

    def sources(self) -> list[dict[str, str]]:
        """The USITC release, and the copy of its CSV export the lines were read from."""
        return [
            {"title": f"USITC, Harmonized Tariff Schedule of the United States, {self.label}",
             "url": USITC, "instrument": f"HTSUS {self.label} ({self.release})"},
            {"title": f"{Path(self.path).name}: the USITC CSV export of {self.label}",
             "url": f"https://github.com/{self.repository}/blob/{self.commit}/{self.path}",
             "via": f"{self.repository}, {self.path} at commit {self.commit} (git blob "
                    f"{self.blob}, sha256 {self.sha256}), converted to "
                    f"../shared/reference/hts/{self.local}"},
        ]

    def caveats(self) -> list[str]:
        """What is uncertain about every event of this revision."""
        caveats = [
            f"Known date: the revision's USITC start date ({self.start.isoformat()}), as "
            "third-party READMEs quote USITC's release list; the exact publication time is "
            "not known, and USITC may have published the revision before it took effect.",
            "Read from a USITC CSV export that a third party committed to GitHub (see "
            "sources); that export has no footnotes, so footnote cross-references (e.g. to "
            "Chapter 99 headings) are not recorded.",
        ]
        if self.until is not None:
            caveats.append(
                f"USITC lists this revision as in force until {self.until.isoformat()}; later "
                "revisions are not recorded in this store, so later dates are answered with "
                "its lines.")
        return caveats


REVISIONS: tuple[Revision, ...] = (
    Revision("2025-rev-13", "2025 HTS Revision 13", "2025HTSRev13", date(2025, 5, 16),
             "hts-2025-rev-13.csv", "DavidRod1865/HTS-Classifier",
             "data/hts_2025_revision_13.csv", "74c26d737022f48ff452258e56aedd75642827c8",
             "41b5429479a5633ee6d2069b486b9d4cd5e74de5",
             "4e1f901e21de4e205d2fb4cc878c6df374017125f651b5cf4ca14738335bd24c"),
    Revision("2025-rev-32", "2025 HTS Revision 32", "2025HTSRev32", date(2025, 12, 5),
             "hts-2025-rev-32.csv", "jhson0911/kd-tariff-watch",
             "data/hts_2025_revision_32.csv", "1eb4706350292ed70e4a8f8ea3f54b1e3252ebea",
             "98235d138117fedee6289890a50098ec4a78e106",
             "7bda8230da56b4c8f52f539102035de646ab0da15bb6cbb39eb4ec5bc083c5f8"),
    Revision("2026-rev-04", "2026 HTS Revision 4", "2026HTSRev4", date(2026, 2, 25),
             "hts-2026-rev-04.csv", "jakefitzpatrick/Export-Import-SanctionsChatbot",
             "hts_2026_revision_4_csv.csv", "1aefadf56915fdea0613b5627d5d595a880b8790",
             "3d0141db20cfae56540bb58a888cfc4bdf607705",
             "911acd99dc3bed4ec32994b4fde0e547c6c7f8907bbf2df16232065e9917710b",
             until=date(2026, 4, 8)),
)
"""The reference revisions in order, with the provenance ../shared/reference/hts/README.md
gives for each file."""

Chapters = dict[str, dict[str, HtsLine]]
"""chapter -> code -> line."""


def read_revision(path: Path) -> Chapters:
    """The numbered lines of one reference CSV by chapter and code, each with the unnumbered
    superior text rows between its parent and itself."""
    chapters: Chapters = {}
    # The rows above the current one with smaller indents: (indent, code or "", description).
    stack: list[tuple[int, str, str]] = []
    indents: dict[str, int] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            indent = int(row["indent"])
            while stack and stack[-1][0] >= indent:
                stack.pop()
            code, parent = row["hts"], row["parent"] or None
            if code:
                above = -1 if parent is None else indents.get(parent, -1)
                superiors = tuple(text for level, number, text in stack
                                  if not number and level > above)
                line = HtsLine(
                    code=code, indent=indent, parent=parent, superiors=superiors,
                    description=row["description"],
                    units=tuple(u for u in row["units"].split(";") if u),
                    general=row["general"] or None, special=row["special"] or None,
                    other=row["other"] or None)
                chapters.setdefault(code[:2], {})[code] = line
                indents[code] = indent
            stack.append((indent, code, row["description"]))
    return chapters


def chapter_events(revision: Revision, lines: Chapters, previous: Chapters | None,
                   before: Revision | None = None) -> list[dict[str, Any]]:
    """The events of one revision, a chapter each: every line of a chapter seen for the first
    time, otherwise only the lines added, changed or removed since `previous`."""
    events: list[dict[str, Any]] = []
    for chapter in sorted(set(lines) | set(previous or {})):
        now = lines.get(chapter, {})
        was = (previous or {}).get(chapter)
        head: dict[str, Any] = {
            "id": f"hts-{revision.ref}-ch{chapter}", "type": "NomenclatureRevised",
            "known": revision.start.isoformat(), "revision": revision.ref, "chapter": chapter,
            "effective_from": entry_instant(revision.start).isoformat(),
        }
        if was is None:
            head["baseline"] = True
            head["note"] = (f"USITC {revision.label}, chapter {chapter}: every line "
                            f"({len(now):,}), the first revision of it this store records.")
            changes: dict[str, list[Any]] = {"added": [now[c] for c in sorted(now)]}
        else:
            changes = {
                "added": [now[c] for c in sorted(now) if c not in was],
                "changed": [now[c] for c in sorted(now) if c in was and was[c] != now[c]],
                "removed": [c for c in sorted(was) if c not in now],
            }
            if not any(changes.values()):
                continue
            since = f" since {before.label}" if before is not None else ""
            head["note"] = (f"USITC {revision.label}, chapter {chapter}: "
                            f"{len(changes['added'])} lines added, "
                            f"{len(changes['changed'])} changed, "
                            f"{len(changes['removed'])} removed{since}.")
        head["caveats"] = revision.caveats()
        head["sources"] = revision.sources()
        events.append({**head, **{k: v for k, v in changes.items() if v}})
    return events


def _line_json(item: HtsLine | str) -> str:
    value = item if isinstance(item, str) else item.model_dump(mode="json",
                                                               exclude_defaults=True)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def render(events: Sequence[Mapping[str, Any]]) -> str:
    """An event file as text: {"events": [...]}, one line per event header and per HTS line."""
    blocks: list[str] = []
    for event in events:
        head = {k: v for k, v in event.items() if k not in ("added", "changed", "removed")}
        text = json.dumps(head, ensure_ascii=False, separators=(",", ":"))[:-1]
        for name in ("added", "changed", "removed"):
            if name in event:
                items = ",\n".join(_line_json(item) for item in event[name])
                text += f',\n"{name}":[\n{items}\n]'
        blocks.append(text + "}")
    return '{"events":[\n' + ",\n".join(blocks) + "\n]}\n"


def build(source: Path, out: Path, revisions: Iterable[Revision] = REVISIONS) -> list[Path]:
    """Write one event file per revision into `out`; check that every event validates and
    that the events fold (a line added twice, or changed before it exists, is refused)."""
    out.mkdir(parents=True, exist_ok=True)
    previous: Chapters | None = None
    before: Revision | None = None
    written: list[Path] = []
    checked: list[NomenclatureRevised] = []
    for revision in revisions:
        lines = read_revision(source / revision.local)
        events = chapter_events(revision, lines, previous, before)
        checked += [NomenclatureRevised.model_validate(e) for e in events]
        target = out / f"hts-{revision.ref}.json"
        target.write_text(render(events), encoding="utf-8")
        written.append(target)
        counts = [sum(len(e.get(k, ())) for e in events) for k in ("added", "changed",
                                                                   "removed")]
        shown = target.relative_to(ROOT) if target.is_relative_to(ROOT) else target
        print(f"{shown}: {len(events)} events, {counts[0]} added, {counts[1]} changed, "
              f"{counts[2]} removed, {target.stat().st_size:,} bytes")
        previous, before = lines, revision
    fold(checked)
    return written


def main() -> None:
    """Build the nomenclature files from the reference revisions."""
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else HTS
    build(source, OUT)


if __name__ == "__main__":
    main()
