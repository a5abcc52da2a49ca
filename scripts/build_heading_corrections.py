"""Write data/zzz-corrections-headings.json: the Chapter 99 heading of each rate that has one.

Recorded events are immutable, so each heading is an EventCorrected whose replacement is the
event as it should have been (the correction of data/zz-corrections-issue11.yaml, where there
is one, with ``rate.heading`` set). Each heading is tied to the text and rate of a Chapter 99
row of a USITC revision in ../shared/reference/hts/; the build checks the row is there with
that rate. Re-run after changing the tables; commit the output, since the bundled package must
not depend on ../shared:

    .venv/bin/python scripts/build_heading_corrections.py
"""

from __future__ import annotations

import csv
import json
import re
from datetime import date
from pathlib import Path
from typing import Any, NamedTuple

from tariff_timeline.events import (
    EventCorrected,
    ExemptionGranted,
    MeasureImposed,
    PolicyEvent,
    Rate,
    RateChanged,
)
from tariff_timeline.events.instants import EASTERN
from tariff_timeline.importing.files import read_file

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
HTS_DIR = ROOT.parent / "shared" / "reference" / "hts"
OUTPUT = DATA / "zzz-corrections-headings.json"
"""Named to sort after every other file of data/ (zz-corrections-issue11.yaml included): a folder
is imported in name order, and of two corrections of one event the one imported later wins, so
this file must come after any correction it builds on."""
KNOWN = "2026-11-30"


class Revision(NamedTuple):
    file: str
    title: str
    start: date
    """The USITC start date of the revision (../shared/reference/hts/README.md)."""


REVISIONS = {
    "2025-13": Revision("hts-2025-rev-13.csv", "HTS 2025 Revision 13", date(2025, 5, 16)),
    "2025-32": Revision("hts-2025-rev-32.csv", "HTS 2025 Revision 32", date(2025, 12, 5)),
    "2026-04": Revision("hts-2026-rev-04.csv", "HTS 2026 Revision 4", date(2026, 2, 25)),
}


class Heading(NamedTuple):
    """The heading of one event's rate, the revision whose row shows it, and why it fits.

    rate: what the row's general column must say (spaces ignored), or None where the row's
    rate differs from the event's and ``why`` says what ties them instead.
    """

    heading: str
    revision: str
    rate: str | None
    why: str


FACTS = "the reference tariff facts give"
TRANSIT = "the row's in-transit and Annex II exceptions aside"

HEADINGS: dict[str, Heading] = {
    # ------------------------------------------------------------ IEEPA: Canada, Mexico, China
    "ieepa-ca-25-imposed": Heading(
        "9903.01.10", "2025-13", "+ 25%",
        "articles the product of Canada (U.S. note 2(j)), + 25%."),
    "ieepa-ca-mx-25-effective-ca": Heading(
        "9903.01.10", "2025-13", "+ 25%",
        "articles the product of Canada (U.S. note 2(j)), + 25%."),
    "ieepa-ca-35": Heading(
        "9903.01.10", "2025-32", "+ 35%",
        f"articles the product of Canada (U.S. note 2(j)), + 35%; {FACTS} 9903.01.10 for the 35%."),
    "ieepa-mx-25-imposed": Heading(
        "9903.01.01", "2025-13", "+ 25%",
        "articles the product of Mexico (U.S. note 2(a)), + 25%."),
    "ieepa-ca-mx-25-effective-mx": Heading(
        "9903.01.01", "2025-13", "+ 25%",
        "articles the product of Mexico (U.S. note 2(a)), + 25%."),
    "ieepa-cn-fentanyl-10": Heading(
        "9903.01.20", "2025-13", "+ 10%",
        "articles the product of China and Hong Kong (U.S. note 2(s)), + 10% (the row does not "
        "name Macau, which the measure's scope includes)."),
    "ieepa-cn-fentanyl-20": Heading(
        "9903.01.24", "2025-13", "+ 20%",
        "articles the product of China and Hong Kong (U.S. note 2(u)), + 20%; "
        f"{FACTS} 9903.01.24 for EO 14228's 20% (the row does not name Macau)."),
    "ieepa-cn-fentanyl-cut-10": Heading(
        "9903.01.24", "2025-32", "+ 10%",
        "articles the product of China and Hong Kong (U.S. note 2(u)), now + 10%; "
        f"{FACTS} 9903.01.24 for the cut to 10% (the row does not name Macau)."),
    # ------------------------------------------------------------ IEEPA reciprocal, Apr 2025
    "recip-baseline-10-imposed": Heading(
        "9903.01.25", "2025-13", "+ 10%",
        "articles the product of any country (U.S. note 2(v)), + 10%, the baseline; "
        f"{FACTS} 9903.01.25."),
    "recip-country-rates-jp": Heading(
        "9903.01.53", "2025-13", "+ 24%",
        f"articles the product of Brunei, Japan, or Malaysia, + 24% ({TRANSIT}); {FACTS} JP .53."),
    "recip-country-rates-kr": Heading(
        "9903.01.54", "2025-13", "+ 25%",
        f"articles the product of South Korea, + 25% ({TRANSIT}); {FACTS} KR .54."),
    "recip-country-rates-eu": Heading(
        "9903.01.50", "2025-13", "+ 20%",
        f"articles the product of the European Union or Jordan, + 20% ({TRANSIT}); "
        f"{FACTS} EU .50."),
    "recip-country-rates-vn": Heading(
        "9903.01.72", "2025-13", "+ 46%",
        f"articles the product of Vietnam, + 46% ({TRANSIT}); {FACTS} VN .72."),
    "recip-country-rates-tw": Heading(
        "9903.01.61", "2025-13", "+ 32%",
        f"articles the product of Angola, Fiji, Indonesia, or Taiwan, + 32% ({TRANSIT})."),
    "recip-country-rates-in": Heading(
        "9903.01.55", "2025-13", "+ 26%",
        f"articles the product of India, + 26% ({TRANSIT}); {FACTS} IN .55."),
    "recip-country-rates-kh": Heading(
        "9903.01.75", "2025-13", "+ 49%",
        f"articles the product of Cambodia, + 49% ({TRANSIT}); {FACTS} KH .75."),
    "recip-country-rates-cn": Heading(
        "9903.01.63", "2025-13", "+ 34%",
        f"articles the product of China, including Hong Kong and Macau, + 34% ({TRANSIT}); "
        f"{FACTS} CN .63."),
    "recip-cn-125": Heading(
        "9903.01.63", "2025-13", None,
        "articles the product of China, including Hong Kong and Macau; the row shows + 34% "
        "(restored by EO 14298 from 14 May 2025, with the provision suspended), not 125%: "
        f"{FACTS} 9903.01.63 for EO 14266's 125% on China (fact recip-90day-pause)."),
    "cn-eo14298-increases-removed": Heading(
        "9903.01.63", "2025-13", "+ 34%",
        "articles the product of China, including Hong Kong and Macau, + 34%, as EO 14298 "
        "restored it (the row notes the provision suspended: the 10% of the Geneva truce "
        "applied instead)."),
    # ------------------------------------------------------------ IEEPA: Brazil, India
    "br-eo14323-40pct": Heading(
        "9903.01.77", "2025-32", "+ 40%",
        "articles the product of Brazil (EO 14323), + 40%."),
    "in-eo14329-russian-oil": Heading(
        "9903.01.84", "2025-32", "+ 25%",
        "articles the product of India (EO 14329), + 25%; the reference tariff facts give "
        "9903.01.84-.89, of which .85-.89 are the exceptions at no additional duty."),
    # ------------------------------------------------------------ IEEPA reciprocal, EO 14326
    **{
        f"recip-eo14326-{code}": Heading(
            heading, "2025-32", f"+ {rate}%",
            f"articles the product of {name}, + {rate}% (EO 14326; {TRANSIT}); "
            f"{FACTS} 9903.02.02-.71 for the EO 14326 country rates.")
        for code, heading, rate, name in (
            ("jp", "9903.02.30", 15, "Japan"),
            ("kr", "9903.02.56", 15, "South Korea"),
            ("tw", "9903.02.60", 20, "Taiwan"),
            ("vn", "9903.02.69", 20, "Vietnam"),
            ("in", "9903.02.26", 25, "India"),
            ("kh", "9903.02.11", 19, "Cambodia"),
            ("id", "9903.02.27", 19, "Indonesia"),
            ("ph", "9903.02.53", 19, "the Philippines"),
            ("th", "9903.02.61", 19, "Thailand"),
            ("my", "9903.02.39", 19, "Malaysia"),
            ("ch", "9903.02.58", 39, "Switzerland"),
            ("la", "9903.02.33", 40, "Laos"),
            ("mm", "9903.02.43", 40, "Myanmar (Burma)"),
            ("sy", "9903.02.59", 41, "Syria"),
            ("za", "9903.02.55", 30, "South Africa"),
            ("bd", "9903.02.05", 20, "Bangladesh"),
            ("kz", "9903.02.32", 25, "Kazakhstan"),
            ("nz", "9903.02.46", 15, "New Zealand"),
            ("no", "9903.02.50", 15, "Norway"),
            ("il", "9903.02.29", 15, "Israel"),
            ("tr", "9903.02.64", 15, "Turkey"),
        )
    },
    # ------------------------------------------------------------ Section 122
    "s122-surcharge-10": Heading(
        "9903.03.01", "2026-04", "+ 10%",
        "articles the product of any country (U.S. note 2(aa)), + 10%, except the goods of "
        f"9903.03.02-.11; {FACTS} HTS 9903.03.01."),
    # ------------------------------------------------------------ Section 232
    "s232-steel-25-2018": Heading(
        "9903.80.01", "2025-13", "+ 25%",
        "products of iron or steel of the tariff provisions of U.S. note 16, + 25%, the 2018 "
        "heading (from 12 Mar 2025 the schedule also has 9903.81.87 at + 25%, which this "
        "dataset records no event for)."),
    "s232-aluminium-10-2018": Heading(
        "9903.85.01", "2025-13", "+ 10%",
        "products of aluminum of U.S. note 19, + 10%, the 2018 heading."),
    "s232-alu-25": Heading(
        "9903.85.02", "2025-13", "+ 25%",
        "products of aluminum of the tariff provisions of U.S. note 19, + 25% (Proclamation "
        "10895)."),
    "s232-steel-alu-50-steel": Heading(
        "9903.81.87", "2025-32", "+ 50%",
        "products of iron or steel of the tariff provisions of U.S. note 16, + 50%."),
    "s232-steel-alu-50-aluminium": Heading(
        "9903.85.02", "2025-32", "+ 50%",
        "products of aluminum of the tariff provisions of U.S. note 19, + 50%."),
    "s232-copper-50": Heading(
        "9903.78.01", "2025-32", "+ a duty of 50% upon the value of the copper content",
        "semi-finished copper and intensive copper derivative products (U.S. note 36(b)), 50% "
        "of the value of the copper content."),
    "s232-autos-25": Heading(
        "9903.94.01", "2025-13", "+ 25%",
        "passenger vehicles and light trucks (U.S. note 33(b)), + 25%."),
    "s232-auto-parts-25": Heading(
        "9903.94.05", "2025-13", "+ 25%",
        "automobile parts (U.S. note 33(g)), + 25%."),
    "s232-trucks-buses-buses": Heading(
        "9903.74.02", "2025-32", "+ 10%",
        f"buses and other vehicles of heading 8702 (U.S. note 38(c)), + 10%; {FACTS} .74.02."),
    "s232-lumber-wood-softwood": Heading(
        "9903.76.01", "2025-32", "+ 10%",
        f"softwood timber and lumber (U.S. note 37(b)), + 10%; {FACTS} 9903.76.01."),
    "s232-lumber-wood-upholstered": Heading(
        "9903.76.02", "2025-32", "+ 25%",
        "upholstered wooden furniture (U.S. note 37(d)), + 25%."),
    "s232-lumber-wood-cabinets": Heading(
        "9903.76.03", "2025-32", "+ 25%",
        "kitchen cabinets and vanities and their parts (U.S. note 37(f)), + 25%."),
    "s232-wood-increase-delayed-upholstered": Heading(
        "9903.76.02", "2026-04", "+ 25%",
        "upholstered wooden furniture (U.S. note 37(d)), still + 25% after the delay."),
    "s232-wood-increase-delayed-cabinets": Heading(
        "9903.76.03", "2026-04", "+ 25%",
        "kitchen cabinets and vanities and their parts (U.S. note 37(f)), still + 25% after the "
        "delay."),
    "s232-lumber-wood-gb-10": Heading(
        "9903.76.20", "2025-32", "+ 10%",
        "wood products of the United Kingdom of U.S. note 37(d) and (f) (the furniture and "
        "cabinet lines this exemption names), + 10%."),
    "s232-derivatives-407-steel": Heading(
        "9903.81.91", "2025-32", "+ a duty of 50% upon the value of the steel",
        "derivative iron or steel products of U.S. note 16(n), on the value of the steel "
        "content: the event's lines are the reference list's 9903.81.91 lines, all of them."),
    "s232-semis-procl11002": Heading(
        "9903.79.01", "2026-04", "+25%",
        "semiconductor articles (U.S. note 39(a) and (b)), + 25%."),
}

SEVERAL = "its goods fall under several headings"
NO_ROW = "no row of the three revisions has it"

LEFT: dict[str, str] = {
    # IEEPA
    "ieepa-ca-energy-potash-10": f"{SEVERAL}: energy 9903.01.13 and potash 9903.01.15.",
    "recip-cn-84": f"{NO_ROW}: 9903.01.63 shows 34% and no source read ties the 84% to it.",
    "cn-geneva-truce-eo14298": f"{NO_ROW}: 9903.01.63 is suspended and no row charges China "
                               "10% by name (9903.01.25 names any country).",
    "cn-pause-extended-eo14334": "as cn-geneva-truce-eo14298.",
    "cn-kl-arrangement-eo14358": "as cn-geneva-truce-eo14298.",
    "recip-eo14326-eu": f"{SEVERAL}: 9903.02.19 (MFN 15% or more) and 9903.02.20 (15% all-in).",
    "jp-eo14345": f"{SEVERAL}: 9903.02.72 (MFN 15% or more) and 9903.02.73 (15% all-in).",
    "kr-implementation-notice-reciprocal": f"{SEVERAL}: 9903.02.79 and 9903.02.80 by MFN.",
    "ch-39-to-15": f"{SEVERAL}: 9903.02.82-.84 by MFN and product (2026 Revision 4).",
    "de-minimis-suspended-all": "a 0% layer ending the de minimis exemption: no Chapter 99 "
                                "heading charges it.",
    # Section 232 deals and country rates
    "jp-eo14345-autos": f"{SEVERAL}: cars 9903.94.40/.41, parts 9903.94.42/.43 and .54/.55.",
    "eu-implementation-notice": f"{SEVERAL}: cars 9903.94.50/.51, parts .52/.53 and .44/.45.",
    "kr-implementation-notice": f"{SEVERAL}: cars 9903.94.60/.61, parts 9903.94.62-.65.",
    "uk-eo14309-auto-parts": f"{SEVERAL}: UK parts 9903.94.32 and 9903.94.33.",
    "s232-auto-offset-procl10925": "a 0% offset of the auto-parts duty, no heading of its own.",
    "kr-implementation-lumber": f"{SEVERAL}: Korean furniture and cabinets 9903.76.23, but it "
                                "applies to the whole timber program (softwood 9903.76.01).",
    "s232-lumber-wood-eu-jp-15": f"{SEVERAL}: Japan 9903.76.21, European Union 9903.76.22.",
    "s232-lumber-wood-upholstered-30": f"{NO_ROW}: the 30% was delayed before it took effect "
                                       "(9903.76.02 stays at + 25%).",
    "s232-lumber-wood-cabinets-50": f"{NO_ROW}: the 50% was delayed before it took effect "
                                    "(9903.76.03 stays at + 25%).",
    "s232-alu-derivatives-2025-03": f"{SEVERAL}: aluminium derivatives 9903.85.04, .07, .08.",
    "s232-alu-derivatives-50": f"{SEVERAL}: aluminium derivatives 9903.85.04, .07, .08.",
    "uk-steel-stays-25": f"{SEVERAL}: UK steel 9903.81.94/.95 and aluminium 9903.85.12.",
    "uk-derivatives-stay-25": f"{SEVERAL}: UK steel derivatives 9903.81.96-.99.",
    "uk-alu-derivatives-stay-25": f"{SEVERAL}: UK aluminium derivatives 9903.85.13-.15.",
    "s232-trucks-buses": f"{SEVERAL}: vehicles 9903.74.01 and parts 9903.74.08.",
    **{eid: f"{NO_ROW}: the April 2026 metals restructure is later than the last revision read "
            "(2026 Revision 4, in force until 8 Apr 2026)"
       for eid in ("s232-metals-restructure-2026-04-annex-1a",
                   "s232-metals-restructure-2026-04-annex-1b",
                   "s232-metals-restructure-2026-04-annex-3",
                   "s232-metals-restructure-2026-04-gb-1a",
                   "s232-metals-restructure-2026-04-gb-1b",
                   "s232-metals-restructure-2026-04-us-metal",
                   "s232-metals-adjust-2026-06-farm",
                   "s232-metals-adjust-2026-06-us-metal")},
    **{eid: f"{NO_ROW}: pharmaceuticals from 31 Jul 2026 are later than every revision read."
       for eid in ("s232-pharma-procl-2026", "s232-pharma-procl-2026-caps",
                   "s232-pharma-procl-2026-gb")},
    # Section 201 (data/s201-safeguards.yaml)
    **{eid: f"{SEVERAL}: solar cells over the quota 9903.45.22 and modules 9903.45.25."
       for eid in ("s201-solar-2018", "s201-solar-2019-rate", "s201-solar-2020-rate",
                   "s201-solar-2021-rate", "s201-solar-p10101-rate", "s201-solar-cit-2021-rate",
                   "s201-solar-cafc-2023-rate", "s201-solar-2022", "s201-solar-2023-rate",
                   "s201-solar-2024-rate", "s201-solar-2025-rate")},
    **{eid: f"{SEVERAL}: washers over the quota 9903.45.02 and parts over the quota 9903.45.06."
       for eid in ("s201-washers-2018", "s201-washers-2019-rate", "s201-washers-2020-rate",
                   "s201-washers-2021", "s201-washers-2022-rate")},
}
"""Rate-bearing events left without a heading, and why (see the report of the change)."""


# ---------------------------------------------------------------- reading


def bundled() -> tuple[dict[str, PolicyEvent], set[str]]:
    """Every bundled event in force, by id (corrections applied in file order, later ones
    winning, as an import does), and the ids of this file's own corrections."""
    paths = sorted(p for p in DATA.iterdir() if p.suffix in (".yaml", ".json"))
    if any(path.name > OUTPUT.name for path in paths):
        raise SystemExit(f"{OUTPUT.name} must sort after every file of data/")
    events: dict[str, PolicyEvent] = {}
    ours: set[str] = set()
    for path in paths:
        located, problems = read_file(path)
        if problems:
            raise SystemExit("\n".join(problems))
        for item in located:
            event = item.event
            if isinstance(event, EventCorrected):
                if path == OUTPUT:
                    ours.add(event.id)
                    continue
                events[event.corrects] = event.replacement
            else:
                events[event.id] = event
    return events, ours


def rate_of(event: PolicyEvent) -> Rate | None:
    """The rate an event sets (MeasureImposed, RateChanged, ExemptionGranted with a rate)."""
    if isinstance(event, MeasureImposed | RateChanged | ExemptionGranted):
        return event.rate
    return None


def rows(revision: str) -> dict[str, dict[str, str]]:
    with (HTS_DIR / REVISIONS[revision].file).open(encoding="utf-8") as handle:
        return {row["hts_dotted"]: row for row in csv.DictReader(handle)
                if row["hts_dotted"].startswith("9903.")}


def _squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


# ---------------------------------------------------------------- building


def correction(event: PolicyEvent, found: Heading, general: str) -> dict[str, Any]:
    """The EventCorrected that gives this event's rate its heading."""
    assert isinstance(event, MeasureImposed | RateChanged | ExemptionGranted)
    assert event.rate is not None
    revision = REVISIONS[found.revision]
    starts = event.effective_from.astimezone(EASTERN).date()
    later = (f" {revision.title} (from {revision.start.isoformat()}) is later than the event "
             f"(from {starts.isoformat()}): the heading is read from the later revision."
             if revision.start > starts else "")
    reason = (f"The rate's Chapter 99 heading is {found.heading}, read from {revision.title}: "
              f"{found.why.rstrip('.')} (row general column: '{general.strip()}').{later}")
    rate = event.rate.model_copy(update={"heading": found.heading})
    replacement = event.model_copy(update={"rate": rate}).model_dump(
        mode="json", exclude_unset=True)
    replacement["rate"] = rate.model_dump(mode="json", exclude_unset=True)
    cited = f"{revision.title}, heading {found.heading}"
    made = EventCorrected.model_validate({
        "id": f"heading-{event.id}", "type": "EventCorrected", "known": KNOWN,
        "corrects": event.id, "reason": reason,
        "sources": [{"title": cited, "instrument": cited}],
        "replacement": replacement,
    })
    # Nothing but the heading changes.
    before = event.model_dump(mode="json")
    after = made.replacement.model_dump(mode="json")
    assert after["rate"].pop("heading") == found.heading
    before["rate"].pop("heading")
    assert before == after, event.id
    return made.model_dump(mode="json", exclude_unset=True)


def build() -> list[dict[str, Any]]:
    events, _ = bundled()
    wanted = {eid for eid, event in events.items()
              if (rate := rate_of(event)) is not None and rate.heading is None}
    named = set(HEADINGS) | set(LEFT)
    if missing := sorted(wanted - named):
        raise SystemExit(f"rate-bearing events neither headed nor left: {missing}")
    if stale := sorted(named - wanted):
        raise SystemExit(f"table rows naming no rate-bearing event without heading: {stale}")
    tables = {name: rows(name) for name in REVISIONS}
    made = []
    for eid, found in HEADINGS.items():
        row = tables[found.revision].get(found.heading)
        if row is None:
            raise SystemExit(f"{eid}: no row {found.heading} in {found.revision}")
        if found.rate is not None and _squeeze(found.rate) not in _squeeze(row["general"]):
            raise SystemExit(f"{eid}: row {found.heading} says {row['general']!r}, "
                             f"not {found.rate!r}")
        made.append(correction(events[eid], found, row["general"]))
    return made


def write(made: list[dict[str, Any]]) -> None:
    lines = [json.dumps(event, ensure_ascii=False, separators=(",", ":")) for event in made]
    OUTPUT.write_text('{"events":[\n' + ",\n".join(lines) + "\n]}\n", encoding="utf-8")


def main() -> None:
    made = build()
    write(made)
    print(f"wrote {OUTPUT.relative_to(ROOT)}: {len(made)} heading corrections; "
          f"{len(LEFT)} rate-bearing events left without a heading")


if __name__ == "__main__":
    main()
