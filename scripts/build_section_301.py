"""Write data/generated-s301-china.yaml: the Section 301 China actions, from the reference lists.

Lists 1 to 4B by HTS-8 come from ../shared/reference/product-lists/s301_product_lists.csv
(Budget-Lab-Yale/tariff-rate-tracker, MIT), checked against the nomenclature of
../shared/reference/hts/. The notices, dates and rates are written below, each with its
Federal Register citation. Re-run after changing this script and commit its output:

    .venv/bin/python scripts/build_section_301.py [LISTS_DIR]
"""

from __future__ import annotations

import csv
import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any, NamedTuple

sys.path.insert(0, str(Path(__file__).resolve().parent))

import build_product_lists as shared

from tariff_timeline.events.values import format_hts

NAME = "generated-s301-china.json"
HTS = shared.ROOT.parent / "shared" / "reference" / "hts"
PROGRAM = "s301-china"
AUTHORITY = "Section 301"
ORIGINS = ["CN"]
LIST_FILE = "s301_product_lists.csv"
REVISIONS = ("hts-2025-rev-13.csv", "hts-2025-rev-32.csv", "hts-2026-rev-04.csv")


class Notice(NamedTuple):
    """A USTR notice (or other instrument) as cited by the events it backs."""

    title: str
    url: str
    instrument: str
    federal_register: str

    def source(self, listed: bool = False) -> dict[str, str]:
        out = {"title": self.title, "url": self.url, "instrument": self.instrument,
               "federal_register": self.federal_register}
        if listed:
            out["via"] = shared.VIA.format(name=LIST_FILE)
        return out


def _fr(day: str, doc: str) -> str:
    """The govinfo address of a Federal Register document (for those whose number was read)."""
    return f"https://www.govinfo.gov/content/pkg/FR-{day}/html/{doc}.htm"


LIST_1 = Notice("Notice of Action and Request for Public Comment Concerning Proposed Determination "
                "of Action Pursuant to Section 301 ($34 billion action, List 1; CBP CSMS "
                "18-000493)", "https://tradeandsanctionslaw.com/2018/06/17/imposition-of-tariffs-"
                "and-additional-proposed-action-pursuant-to-section-301/",
                "USTR notice of 15 Jun 2018", "83 FR 28710 (20 Jun 2018)")
LIST_2 = Notice("Notice of Action Pursuant to Section 301 ($16 billion action, List 2)",
                "https://thefederalregister.org/83-FR/40823", "USTR notice of 7 Aug 2018",
                "83 FR 40823 (16 Aug 2018), FR Doc 2018-17709")
LIST_3 = Notice("Notice of Modification of Section 301 Action ($200 billion action, List 3)",
                _fr("2018-09-21", "2018-20610"), "USTR notice of 17 Sep 2018",
                "83 FR 47974 (21 Sep 2018), FR Doc 2018-20610")
LIST_3_DELAY = Notice("Notice of Modification: rate increase on the $200 billion action "
                      "postponed to 2 Mar 2019",
                      "https://regulations.justia.com/regulations/fedreg/2018/12/19/"
                      "2018-27458.html", "USTR notice of 14 Dec 2018",
                      "83 FR 65198 (19 Dec 2018), FR Doc 2018-27458")
LIST_3_HOLD = Notice("Notice of Modification: rate increase on the $200 billion action postponed "
                     "until further notice",
                     "https://regulations.justia.com/regulations/fedreg/2019/03/05/2019-03935.html",
                     "USTR notice of 28 Feb 2019 (CBP CSMS 19-000095)",
                     "84 FR 7966 (5 Mar 2019), FR Doc 2019-03935")
LIST_3_25 = Notice("Notice of Modification: additional duty on the $200 billion action raised "
                   "to 25%", "https://www.federalregister.gov/d/2019-09681",
                   "USTR notice of 8 May 2019", "84 FR 20459 (9 May 2019), FR Doc 2019-09681")
LIST_3_CUTOFF = Notice("Implementing Modification: goods exported before 10 May 2019 and entered "
                       "before 1 Jun 2019 stay at 10% (heading 9903.88.09)",
                       "https://www.internationaltradecomplianceupdate.com/2021/04/26/us-ustr-"
                       "publishes-technical-amendments-to-china-section-301-list-3-exclusions-"
                       "for-goods-in-transit-may-june-2019/",
                       "USTR notice of 15 May 2019", "84 FR 21892 (15 May 2019)")
LIST_3_TRANSIT = Notice("Implementing Modification: goods exported before 10 May 2019 entered by "
                        "15 Jun 2019 stay at 10%",
                        "https://www.internationaltradecomplianceupdate.com/2019/06/13/us-ustr-"
                        "clarifies-effective-date-of-10-to-25-increase-in-sec-301-tariffs-"
                        "shipped-prior-to-may-10-2019/",
                        "USTR notice posted 31 May 2019", "84 FR 26930 (10 Jun 2019)")
LIST_4 = Notice("Notice of Modification: $300 billion action (Lists 4A and 4B) at 10%",
                _fr("2019-08-20", "2019-17865"), "USTR notice of 13 Aug 2019",
                "84 FR 43304 (20 Aug 2019), FR Doc 2019-17865")
LIST_4_15 = Notice("Notice of Modification: $300 billion action raised to 15%",
                   "https://regulations.justia.com/regulations/fedreg/2019/08/30/2019-18838.html",
                   "USTR notice of 27 Aug 2019 (advance copy)",
                   "84 FR 45821 (30 Aug 2019), FR Doc 2019-18838")
LIST_4B_SUSPENDED = Notice("Notice of Modification: List 4B suspended until further notice",
                           "https://casetext.com/federal-register/notice-of-modification-of-"
                           "section-301-action-chinas-acts-policies-and-practices-related-to-"
                           "technology-transfer-intellectual-property-and-innovation-6",
                           "USTR notice of 13 Dec 2019", "84 FR 69447 (18 Dec 2019)")
LIST_4A_75 = Notice("Notice of Modification: List 4A reduced to 7.5% (Economic and Trade "
                    "Agreement, phase one)",
                    "https://regulations.justia.com/regulations/fedreg/2020/01/22/2020-00904.html",
                    "USTR notice of 15 Jan 2020", "85 FR 3741 (22 Jan 2020), FR Doc 2020-00904")
REVIEW = Notice("Notice of Modification: China's Acts, Policies and Practices Related to "
                "Technology Transfer, Intellectual Property and Innovation (four-year review)",
                "https://regulations.justia.com/regulations/fedreg/2024/09/18/2024-21217.html",
                "USTR notice of 13 Sep 2024", "89 FR 76581 (18 Sep 2024), FR Doc 2024-21217")
REVIEW_2025 = Notice("Notice of Modification: tungsten, polysilicon and wafers from 1 Jan 2025 "
                     "(four-year review)",
                     "https://regulations.justia.com/regulations/fedreg/2024/12/16/2024-29462.html",
                     "USTR notice of 11 Dec 2024", "89 FR 101682 (16 Dec 2024), FR Doc 2024-29462")
REVIEW_CSMS = Notice("CSMS # 62411889 - GUIDANCE: Section 301 Four-Year Review Modifications",
                     "https://content.govdelivery.com/bulletins/gd/USDHSCBP-3b85471",
                     "CBP CSMS 62411889", "89 FR 76581 (18 Sep 2024)")
HTS_REV_32 = ("HTS 2025 Revision 32, chapter 99 headings 9903.88.01-.16 and 9903.91.01-.11 "
              "(../shared/reference/hts/hts-2025-rev-32.csv)")

ET_SUMMER = "-04:00"
ET_WINTER = "-05:00"


class ListSpec(NamedTuple):
    """One list of the reference file and the measure it becomes."""

    key: str
    measure: str
    label: str
    heading: str
    title: str


LISTS: tuple[ListSpec, ...] = (
    ListSpec("1", "s301-cn-list-1", "1", "9903.88.01",
             "Section 301 China, List 1 ($34 billion): 25% on listed goods of China"),
    ListSpec("2", "s301-cn-list-2", "2", "9903.88.02",
             "Section 301 China, List 2 ($16 billion): 25% on listed goods of China"),
    ListSpec("3", "s301-cn-list-3", "3", "9903.88.03",
             "Section 301 China, List 3 ($200 billion): 10%, then 25%, on listed goods of China"),
    ListSpec("3_addl", "s301-cn-list-3-note-20g", "3", "9903.88.04",
             "Section 301 China, List 3 goods of U.S. note 20(g): 10%, then 25%"),
    ListSpec("4A", "s301-cn-list-4a", "4A", "9903.88.15",
             "Section 301 China, List 4A ($300 billion action, part A): 15%, then 7.5%"),
)
"""The lists in force, in the order that decides which one charges a line named on several."""

LIST_4B = ListSpec("4B", "s301-cn-list-4b", "4B", "9903.88.16",
                   "Section 301 China, List 4B: announced at 10%, then 15%, suspended before "
                   "it took effect")
LIST_MEASURES = [spec.measure for spec in LISTS]
INCOMPLETE = ("Partial: a line renumbered since USTR last conformed the lists, or moved by the "
              "reference list to a later heading, may be missing.")
EV_LINES = ("87024031", "87024061", "87029031", "87029061", "87036000", "87037000", "87038000",
            "87039001")
LIST_1_EVS = ("The reference list names the electric and hybrid vehicle lines (8702.40.31/.61, "
              "8702.90.31/.61, 8703.60.00, 8703.70.00, 8703.80.00, 8703.90.01) only under the "
              "2024 review's 9903.91.03; the review's Annex A gives their Section 301 rate "
              "before it as 25% (89 FR 76581), and List 1 named the motor vehicles of 8702 and "
              "8703, so they are kept on List 1 here.")


class Increase(NamedTuple):
    """One step of the 2024 four-year review (a heading of U.S. note 31) as a measure.

    groups: the reference list's groups it takes whole; lines: HTS codes added by hand, each
    with why in `PARTIAL`; drop: HTS-8 codes of those groups it does not take.
    """

    heading: str
    measure: str
    percent: int
    start: str
    end: str | None
    title: str
    groups: tuple[str, ...]
    notice: Notice
    known: str
    lines: tuple[str, ...] = ()
    drop: tuple[str, ...] = ()


FACEMASKS = ("6307909842", "6307909844", "6307909850", "6307909875")
POLYSILICON_WAFERS = ("28046100", "38180000")
INCREASES: tuple[Increase, ...] = (
    Increase("9903.91.01", "s301-cn-2024-25", 25, "2024-09-27", None,
             "Section 301 four-year review: 25% from 27 Sep 2024 (steel and aluminium products, "
             "electric-vehicle batteries, battery parts, critical minerals, facemasks)",
             ("biden_25",), REVIEW, "2024-09-13", ("8507600010", *FACEMASKS)),
    Increase("9903.91.02", "s301-cn-2024-50", 50, "2024-09-27", None,
             "Section 301 four-year review: 50% from 27 Sep 2024 (solar cells)",
             ("biden_50",), REVIEW, "2024-09-13"),
    Increase("9903.91.03", "s301-cn-2024-100", 100, "2024-09-27", None,
             "Section 301 four-year review: 100% from 27 Sep 2024 (electric vehicles, syringes "
             "and needles)", ("biden_100",), REVIEW, "2024-09-13"),
    Increase("9903.91.04", "s301-cn-2025-25-facemasks", 25, "2025-01-01", "2026-01-01",
             "Section 301 four-year review: 25% in 2025 (disposable textile facemasks)",
             (), REVIEW, "2024-09-13", ("6307909870",)),
    Increase("9903.91.05", "s301-cn-2025-50", 50, "2025-01-01", None,
             "Section 301 four-year review: 50% from 1 Jan 2025 (semiconductors, medical and "
             "surgical gloves)", ("biden_50_jan25",), REVIEW, "2024-09-13", ("40151210",),
             POLYSILICON_WAFERS),
    Increase("9903.91.05", "s301-cn-2025-50-polysilicon", 50, "2025-01-01", None,
             "Section 301 four-year review: 50% from 1 Jan 2025 (polysilicon and wafers)",
             (), REVIEW_2025, "2024-12-11", POLYSILICON_WAFERS),
    Increase("9903.91.11", "s301-cn-2025-25", 25, "2025-01-01", None,
             "Section 301 four-year review: 25% from 1 Jan 2025 (tungsten products)",
             ("biden_25_jan25",), REVIEW_2025, "2024-12-11"),
    Increase("9903.91.06", "s301-cn-2026-25", 25, "2026-01-01", None,
             "Section 301 four-year review: 25% from 1 Jan 2026 (natural graphite, permanent "
             "magnets, lithium-ion batteries other than for vehicles)",
             ("jan26_25",), REVIEW, "2024-09-13", ("8507600020",), ("85076000",)),
    Increase("9903.91.07", "s301-cn-2026-50", 50, "2026-01-01", None,
             "Section 301 four-year review: 50% from 1 Jan 2026 (facemasks)",
             ("jan26_50",), REVIEW, "2024-09-13", (*FACEMASKS, "6307909870"), ("63079098",)),
    Increase("9903.91.08", "s301-cn-2026-100", 100, "2026-01-01", None,
             "Section 301 four-year review: 100% from 1 Jan 2026 (medical and surgical gloves)",
             ("jan26_100",), REVIEW, "2024-09-13"),
)
"""The review's steps in order; a later step takes the place of the earlier ones (and of the
lists) on the goods it covers."""

SKIPPED_GROUPS = {
    "cranes_301": "Ship-to-shore gantry cranes of 8426.19.00 (heading 9903.92.10, 25% from 27 Sep "
                  "2024, with exceptions under 9903.91.09) are a description narrower than the "
                  "line; not recorded here, nor the 2025 shipbuilding action.",
}

POLYSILICON_WHY = ("Polysilicon (2804.61.00) and wafers (3818.00.00) were set for 2025 by the "
                   "notice of 11 Dec 2024 (89 FR 101682), not by the September notice.")

PARTIAL: dict[str, str] = {
    "8507600010": "Electric-vehicle lithium-ion batteries (8507.60.00.10) pay 25% from 27 Sep "
                  "2024 and the other lithium-ion batteries (8507.60.00.20) from 1 Jan 2026 "
                  "(89 FR 76581, Annex A); the reference list names the whole HTS-8 under "
                  "9903.91.06 only.",
    "8507600020": "Only 8507.60.00.20 of the reference list's 8507.60.00 is charged from 2026; "
                  ".10 is charged from 2024 (89 FR 76581, Annex A).",
    "6307909842": "Facemasks (6307.90.98.42, .44, .50, .75) pay 25% from 27 Sep 2024 and "
                  "disposable ones (.70) 25% in 2025; all five 50% from 2026 (89 FR 76581, "
                  "Annex A). The reference list names the whole HTS-8 under 9903.91.07 and none "
                  "under 9903.91.01 or .04; the rest of 6307.90.98 is not a facemask.",
    "6307909870": "Disposable textile facemasks, 6307.90.98.70 (89 FR 76581, Annex A: 25% in "
                  "2025, 50% in 2026).",
    "40151210": "Medical and surgical gloves, 4015.12.10: 50% in 2025 and 100% in 2026 (89 FR "
                "76581, Annex A). The heading of the 2025 step (9903.91.05) is inferred from its "
                "rate and date; note 31 itself was not read.",
    **dict.fromkeys(POLYSILICON_WAFERS, POLYSILICON_WHY),
}
"""Why a step names a code the reference list does not give it (at that heading or length)."""


def _hts_lines() -> set[str]:
    """Every 8- and 10-digit line of the three reference revisions."""
    codes: set[str] = set()
    for name in REVISIONS:
        with (HTS / name).open(encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                if len(row["hts"]) >= 8:
                    codes.add(row["hts"][:8])
                    codes.add(row["hts"])
    return codes


def _instant(day: str, offset: str, time: str = "00:01") -> str:
    return f"{day}T{time}:00{offset}"


def _scope(products: list[str], note: str, complete: bool = True) -> dict[str, Any]:
    return {"origins": ORIGINS, "products": products, "products_complete": complete,
            "products_note": note}


def _rate(percent: float, heading: str, replaces: list[str] | None = None) -> dict[str, Any]:
    rate: dict[str, Any] = {"percent": percent}
    if replaces:
        rate |= {"kind": "replacement", "replaces": replaces}
    rate["heading"] = heading
    return rate


def _grouped(rows: list[dict[str, str]]) -> dict[str, list[str]]:
    """HTS-8 codes by list key of the reference file (jan26 split by its heading), with the
    vehicle lines the reference list moved to the review put back on List 1 (LIST_1_EVS)."""
    heads = {"9903.91.06": "jan26_25", "9903.91.07": "jan26_50", "9903.91.08": "jan26_100"}
    out: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        key = heads[row["ch99_code"]] if row["list"] == "biden_jan26" else row["list"]
        out[key].append(row["hts8"])
    if set(EV_LINES) - set(out["biden_100"]):
        raise SystemExit("LIST_1_EVS names lines the reference list no longer moves")
    out["1"].extend(EV_LINES)
    return {key: sorted(set(codes)) for key, codes in out.items()}


def _missing_note(codes: list[str], known: set[str]) -> str:
    missing = [c for c in codes if c not in known]
    if not missing:
        return "Every line is in the 2025-2026 nomenclature."
    return (f"{len(missing)} of the {len(codes)} lines are not in the 2025-2026 nomenclature "
            "(renumbered since the list was made) and are kept as the list names them: "
            + ", ".join(format_hts(c) for c in missing) + ".")


def list_events(groups: dict[str, list[str]], known: set[str]) -> list[dict[str, Any]]:
    """Lists 1 to 4B: impositions, rate changes, the postponed and suspended steps."""
    def imposed(spec: ListSpec, event: str, day: str, start: str, percent: float,
                notice: Notice, caveats: list[str]) -> dict[str, Any]:
        codes = groups[spec.key]
        return {"id": event, "type": "MeasureImposed", "known": day, "measure": spec.measure,
                "program": PROGRAM, "authority": AUTHORITY, "title": spec.title,
                "instrument": notice.instrument, "effective_from": start,
                "scope": _scope(codes, f"HTS-8 lines of U.S. note 20 for heading {spec.heading} "
                                f"as the reference list gives them. {_missing_note(codes, known)} "
                                + INCOMPLETE, complete=False),
                "rate": _rate(percent, spec.heading), "confidence": "partly",
                "caveats": caveats, "sources": [notice.source(listed=True)]}

    def changed(spec: ListSpec, event: str, day: str, start: str, percent: float,
                notice: Notice, heading: str | None = None) -> dict[str, Any]:
        return {"id": event, "type": "RateChanged", "known": day, "measure": spec.measure,
                "instrument": notice.instrument, "effective_from": start,
                "rate": _rate(percent, heading or spec.heading), "sources": [notice.source()]}

    one, two, three, three_g, four_a = LISTS
    def in_transit(event: str, exemption: str, title: str, day: str, start: str, end: str,
                   notice: Notice) -> dict[str, Any]:
        # The 10% kept by goods exported before 10 May 2019 (heading 9903.88.09), for a while.
        return {"id": event, "type": "ExemptionGranted", "known": day, "exemption": exemption,
                "title": title, "applies_to": {"measures": [three.measure, three_g.measure]},
                "scope": {"origins": ORIGINS, "products": ["ALL"]},
                "conditions": [{"fact": "in_transit", "equals": True}],
                "rate": {"percent": 10, "heading": "9903.88.09"},
                "instrument": notice.instrument,
                "effective_from": _instant(start, ET_SUMMER),
                "effective_until": _instant(end, ET_SUMMER), "sources": [notice.source()]}

    lines_note = ("The reference list is by HTS-8; where U.S. note 20 names a line only in part "
                  "(by description or statistical suffix) the whole line is charged here, and "
                  "the product exclusions USTR granted before 2024 are not recorded.")
    events = [
        imposed(one, "s301-cn-list-1", "2018-06-15", _instant("2018-07-06", ET_SUMMER), 25,
                LIST_1, [lines_note, LIST_1_EVS]),
        imposed(two, "s301-cn-list-2", "2018-08-07", _instant("2018-08-23", ET_SUMMER), 25,
                LIST_2, [lines_note]),
    ]
    increase_planned = {
        "id": "s301-cn-list-3-25-planned", "type": "MeasureAnnounced", "known": "2018-09-17",
        "measure": "s301-cn-list-3-increase", "program": PROGRAM, "authority": AUTHORITY,
        "stage": "announcement",
        "title": "Section 301 China, List 3: increase from 10% to 25% scheduled",
        "scope": _scope(groups["3"], "The lines of List 3 (heading 9903.88.03)."),
        "rate": {"percent": 25, "heading": "9903.88.03"},
        "planned_from": _instant("2019-01-01", ET_WINTER),
        "note": "The notice of 17 Sep 2018 scheduled 25% for 1 Jan 2019.",
        "sources": [LIST_3.source()]}
    events += [
        imposed(three, "s301-cn-list-3", "2018-09-17", _instant("2018-09-24", ET_SUMMER), 10,
                LIST_3, [lines_note]),
        imposed(three_g, "s301-cn-list-3-note-20g", "2018-09-17",
                _instant("2018-09-24", ET_SUMMER), 10, LIST_3,
                [lines_note, "Heading 9903.88.04 holds List 3 goods that U.S. note 20(g) "
                 "describes within these lines; the reference list names the whole lines."]),
        increase_planned,
        increase_planned | {
            "id": "s301-cn-list-3-25-postponed", "known": "2018-12-14",
            "planned_from": _instant("2019-03-02", ET_WINTER),
            "note": "Postponed from 1 Jan to 2 Mar 2019 (83 FR 65198) during negotiations.",
            "sources": [LIST_3_DELAY.source()]},
        {k: v for k, v in increase_planned.items() if k != "planned_from"} | {
            "id": "s301-cn-list-3-25-on-hold", "known": "2019-02-28",
            "note": "Postponed until further notice (84 FR 7966).",
            "sources": [LIST_3_HOLD.source()]},
    ]
    for spec in (three, three_g):
        events.append(changed(spec, f"{spec.measure}-25", "2019-05-08",
                              _instant("2019-05-10", ET_SUMMER), 25, LIST_3_25))
    events += [
        in_transit("s301-cn-list-3-in-transit", "s301-cn-list-3-exported-before-may-10",
                   "List 3 goods exported to the US before 10 May 2019 stay at 10%",
                   "2019-05-15", "2019-05-10", "2019-06-01", LIST_3_CUTOFF) | {
            "confidence": "partly",
            "caveats": ["Dated to the notice that created heading 9903.88.09 (84 FR 21892); CBP "
                        "may have applied the export date earlier, which is not recorded."],
            "sources": [LIST_3_CUTOFF.source(), LIST_3_25.source()]},
        in_transit("s301-cn-list-3-in-transit-extended",
                   "s301-cn-list-3-exported-before-may-10-extended",
                   "List 3 goods exported before 10 May 2019 and entered by 15 Jun 2019 stay at "
                   "10% (period extended)", "2019-05-31", "2019-06-01", "2019-06-15",
                   LIST_3_TRANSIT),
        imposed(four_a, "s301-cn-list-4a", "2019-08-13", _instant("2019-09-01", ET_SUMMER), 10,
                LIST_4, [lines_note]),
        changed(four_a, "s301-cn-list-4a-15", "2019-08-27", _instant("2019-09-01", ET_SUMMER),
                15, LIST_4_15),
        changed(four_a, "s301-cn-list-4a-7-5", "2020-01-15", _instant("2020-02-14", ET_WINTER),
                7.5, LIST_4A_75) | {
            "confidence": "partly",
            "caveats": ["The cut was announced with the phase one agreement on 13 Dec 2019 "
                        "without a date; its date came with the notice of 15 Jan 2020, which "
                        "is taken as the time it was known."]},
    ]
    planned_4b = {
        "id": "s301-cn-list-4b-10", "type": "MeasureAnnounced", "known": "2019-08-13",
        "measure": LIST_4B.measure, "program": PROGRAM, "authority": AUTHORITY,
        "stage": "announcement", "title": LIST_4B.title,
        "scope": _scope(groups["4B"], "HTS-8 lines of U.S. note 20(u) for heading 9903.88.16 as "
                        f"the reference list gives them. {_missing_note(groups['4B'], known)}"),
        "rate": {"percent": 10, "heading": LIST_4B.heading},
        "planned_from": _instant("2019-12-15", ET_WINTER),
        "sources": [LIST_4.source(listed=True)]}
    events += [
        planned_4b,
        planned_4b | {"id": "s301-cn-list-4b-15", "known": "2019-08-27",
                      "rate": {"percent": 15, "heading": LIST_4B.heading},
                      "sources": [LIST_4_15.source()]},
        {k: v for k, v in planned_4b.items() if k != "planned_from"} | {
            "id": "s301-cn-list-4b-suspended", "known": "2019-12-13",
            "rate": {"percent": 15, "heading": LIST_4B.heading},
            "note": "Suspended indefinitely before 15 Dec 2019; never in force "
                    "(heading 9903.88.16 is marked 'provision suspended').",
            "sources": [LIST_4B_SUSPENDED.source()]},
    ]
    return events


def one_list_events(groups: dict[str, list[str]]) -> list[dict[str, Any]]:
    """A line named on several lists pays one list's duty: stacking rules in list order, and
    exemptions on the fact section_301_list for the goods of a later list."""
    events: list[dict[str, Any]] = []
    why = ("Each heading of U.S. note 20 charges the goods it describes; goods are on one list, "
           "so two lists never charge the same goods. Where a line is named on several lists, "
           "this dataset charges the earliest unless the goods' list is stated "
           "(fact section_301_list).")
    starts = {"2": ("2018-08-07", "2018-08-23", LIST_2), "3": ("2018-09-17", "2018-09-24", LIST_3),
              "4A": ("2019-08-13", "2019-09-01", LIST_4)}
    for index, spec in enumerate(LISTS[1:], start=1):
        earlier = [s.measure for s in LISTS[:index]]
        label = "3" if spec.key == "3_addl" else spec.key
        known, start, notice = starts[label]
        events.append({
            "id": f"s301-cn-one-list-{spec.measure.removeprefix('s301-cn-')}",
            "type": "StackingRuleSet", "known": known,
            "rule": f"s301-cn-one-list-{spec.measure.removeprefix('s301-cn-')}",
            "description": f"goods charged under an earlier Section 301 list are not charged "
                           f"under {spec.heading} as well",
            "when": {"measures": earlier}, "excludes": {"measures": [spec.measure]},
            "effective_from": _instant(start, ET_SUMMER), "instrument": notice.instrument,
            "confidence": "partly", "caveats": [why],
            "sources": [notice.source(), {"title": HTS_REV_32, "instrument": HTS_REV_32}]})
    # Exemptions: for a line on lists a1 < a2 < ..., the goods of a later list are carved
    # out of each earlier one (one condition per earlier list).
    owners: dict[str, list[ListSpec]] = defaultdict(list)
    for spec in LISTS:
        for code in groups[spec.key]:
            owners[code].append(spec)
    carved: dict[tuple[str, tuple[str, ...]], list[str]] = defaultdict(list)
    for code, specs in owners.items():
        labels = [("3" if s.key == "3_addl" else s.key) for s in specs]
        for index, spec in enumerate(specs[:-1]):
            later = tuple(dict.fromkeys(label for label in labels[index + 1:]
                                        if label != labels[index]))
            if later:
                carved[(spec.measure, later)].append(code)
    for (measure, later), codes in sorted(carved.items()):
        first = min((starts[label] for label in later), key=lambda s: s[1])
        known, start, notice = first
        events.append({
            "id": f"{measure}-goods-of-list-{'-'.join(later).lower()}",
            "type": "ExemptionGranted", "known": known,
            "exemption": f"{measure}-goods-of-list-{'-'.join(later).lower()}",
            "title": f"Goods of list {' or '.join(later)} on lines also named by "
                     f"{measure.removeprefix('s301-cn-')} pay the later list's duty only",
            "applies_to": {"measures": [measure]},
            "scope": _scope(sorted(codes), "Lines the reference list names on more than one "
                            "Section 301 list."),
            "conditions": [{"fact": "section_301_list", "one_of": list(later)}],
            "instrument": notice.instrument,
            "effective_from": _instant(start, ET_SUMMER),
            "confidence": "partly", "caveats": [why],
            "sources": [notice.source(listed=True)]})
    return events


def _caveats_for(codes: tuple[str, ...]) -> list[str]:
    said: list[str] = []
    for code in codes:
        # A line without its own entry shares the reason of its HTS-8's first entry.
        why = PARTIAL.get(code) or next((w for c, w in PARTIAL.items() if c[:8] == code[:8]),
                                        None)
        if why is None:
            raise SystemExit(f"{code} is named by hand without a reason in PARTIAL")
        if why not in said:
            said.append(why)
    return said


def review_events(groups: dict[str, list[str]], known: set[str]) -> list[dict[str, Any]]:
    """The 2024 four-year review: each step a measure, in place of the list duties and of the
    earlier steps on the same goods."""
    replaced = ("The review's rates are read as the goods' whole Section 301 duty, in place of "
                "the list duty (EVs 25% to 100%, as USTR's tables give the previous rate); the "
                "note of chapter 99 that says so was not read.")
    events: list[dict[str, Any]] = []
    earlier: list[str] = []
    for step in INCREASES:
        listed = [c for group in step.groups for c in groups[group] if c not in step.drop]
        codes = sorted({*listed, *step.lines})
        offset = ET_SUMMER if step.start.endswith("09-27") else ET_WINTER
        event: dict[str, Any] = {
            "id": step.measure, "type": "MeasureImposed", "known": step.known,
            "measure": step.measure, "program": PROGRAM, "authority": AUTHORITY,
            "title": step.title, "instrument": step.notice.instrument,
            "effective_from": _instant(step.start, offset, "00:00"),
            "scope": _scope(codes, f"Lines of U.S. note 31 for heading {step.heading}: the "
                            "reference list's, with the lines named by hand in the caveats. "
                            f"{_missing_note(codes, known)}"),
            "rate": _rate(step.percent, step.heading, [*LIST_MEASURES, *earlier]),
            "confidence": "partly", "caveats": [replaced, *_caveats_for(step.lines)],
            "sources": [step.notice.source(listed=bool(step.groups)), REVIEW_CSMS.source()]}
        if step.end:
            event["effective_until"] = _instant(step.end, ET_WINTER, "00:00")
        events.append(event)
        earlier.append(step.measure)
    used = {group for step in INCREASES for group in step.groups}
    review_groups = {g for g in groups if g.startswith(("biden", "jan26", "cranes"))}
    if review_groups - used - set(SKIPPED_GROUPS):
        raise SystemExit(f"groups not placed: {sorted(review_groups - used - set(SKIPPED_GROUPS))}")
    events.append({
        "id": "s301-cn-2024-enteral-syringes", "type": "ExemptionGranted", "known": "2024-09-13",
        "exemption": "s301-cn-2024-enteral-syringes",
        "title": "Enteral syringes of 9018.31.00.80 stay outside the 100% (heading 9903.91.10)",
        "applies_to": {"measures": ["s301-cn-2024-100"]},
        "scope": _scope(["9018310080"], "Enteral syringes, described in statistical reporting "
                        "number 9018.31.00.80 (a description narrower than the line)."),
        "conditions": [{"fact": "described_goods", "equals": True}],
        "instrument": REVIEW.instrument,
        "effective_from": _instant("2024-09-27", ET_SUMMER, "00:00"),
        "effective_until": _instant("2026-01-01", ET_WINTER, "00:00"),
        "sources": [REVIEW.source(), {"title": HTS_REV_32, "instrument": HTS_REV_32}]})
    return events


EXCLUSIONS_FILE = Path(__file__).resolve().parent / "reference" / "s301-exclusions.yaml"
EXCLUDED = Notice("Notice of Product Exclusion Extensions: 164 exclusions extended through 31 May "
                  "2025 (Annex C), the others of the 429 left to expire after 14 Jun 2024",
                  "https://www.thompsonhinesmartrade.com/2024/05/ustr-extends-certain-china-"
                  "section-301-product-exclusions-but-allows-others-to-expire/",
                  "USTR notice of 24 May 2024", "89 FR 46948 (30 May 2024)")
EXTENDED_AUG = Notice("Notice of Product Exclusion Extensions: the 178 exclusions through 31 Aug "
                      "2025", "https://www.ghy.com/trade-compliance/section-301-tariff-exclusions-"
                      "extended-through-august-31-2025/", "USTR notice of 31 May 2025",
                      "FR Doc 2025-10203 (5 Jun 2025; page not read)")
EXTENDED_NOV = Notice("Notice of Product Exclusion Extensions: the 178 exclusions through 29 Nov "
                      "2025", _fr("2025-09-02", "2025-16733"), "USTR notice of 28 Aug 2025",
                      "90 FR 42500 (2 Sep 2025), FR Doc 2025-16733")
EXTENDED_2026 = Notice("USTR extends exclusions from China Section 301 tariffs to 10 Nov 2026 "
                       "(entries through 11:59 p.m. on 9 Nov 2026)",
                       "https://ustr.gov/about/policy-offices/press-office/press-releases/2025/"
                       "november/ustr-extends-exclusions-china-section-301-tariffs-related-"
                       "forced-technology-transfer-investigation",
                       "USTR notice of 26 Nov 2025",
                       "FR Doc 2025-21671 (1 Dec 2025; page not read)")


class Period(NamedTuple):
    """One period for which USTR granted or extended exclusions."""

    key: str
    known: str
    start: str
    end: str
    notice: Notice
    notes: tuple[str, ...]


PERIODS: tuple[Period, ...] = (
    Period("2024-06", "2024-05-24", "2024-06-15T00:01:00-04:00", "2025-06-01T00:01:00-04:00",
           EXCLUDED, ("vvv",)),
    Period("2024-solar", "2024-09-13", "2024-01-01T00:00:00-05:00", "2025-06-01T00:01:00-04:00",
           REVIEW, ("www",)),
    Period("2025-06", "2025-05-31", "2025-06-01T00:01:00-04:00", "2025-09-01T00:01:00-04:00",
           EXTENDED_AUG, ("vvv", "www")),
    Period("2025-09", "2025-08-28", "2025-09-01T00:01:00-04:00", "2025-11-30T00:01:00-05:00",
           EXTENDED_NOV, ("vvv", "www")),
    Period("2025-11", "2025-11-26", "2025-11-30T00:01:00-05:00", "2026-11-10T00:00:00-05:00",
           EXTENDED_2026, ("vvv", "www")),
)
EXCLUSION_CAVEATS = [
    "The exclusions are read from a third party's transcription of U.S. note 20(vvv) and 20(www) "
    "(luv91/Laynes, data/current/exclusion_claims.csv), not from the official text.",
    "The 2018-2020 exclusions (more than 2,200, most expired by the end of 2020) and the 352 "
    "reinstated in 2022 (87 FR 17380) are not recorded: before 15 Jun 2024 an excluded product "
    "is charged here as if it were not.",
    "An exclusion covers only goods of China under the lists (headings 9903.88.01-.04 and .15); "
    "the four-year review's rates (9903.91) still apply.",
]


def exclusion_events() -> list[dict[str, Any]]:
    """The product exclusions alive from 2024: one exemption per period, split into whole lines
    and lines where only the goods the exclusion describes are excluded."""
    import yaml

    items = yaml.safe_load(EXCLUSIONS_FILE.read_text(encoding="utf-8"))["exclusions"]
    events: list[dict[str, Any]] = []
    for period in PERIODS:
        chosen = [i for i in items if i["subdivision"].split("(")[0] in period.notes]
        whole: set[str] = set()
        described: set[str] = set()
        said: list[str] = []
        for item in chosen:
            codes = item["hts"] if isinstance(item["hts"], list) else [item["hts"]]
            codes += item.get("earlier_hts", [])
            if "statistical reporting number only" in item["description"]:
                whole.update(codes)
            else:
                described.update(codes)
                said.append(f"20({item['subdivision']}){item['number']} {item['description']} "
                            f"[{', '.join(format_hts(c) for c in codes)}]")
        notes = " and ".join(f"20({n})" for n in period.notes)
        base: dict[str, Any] = {
            "type": "ExemptionGranted", "known": period.known,
            "applies_to": {"measures": LIST_MEASURES},
            "instrument": period.notice.instrument, "effective_from": period.start,
            "effective_until": period.end, "confidence": "partly",
            "caveats": EXCLUSION_CAVEATS,
            "sources": [period.notice.source(),
                        {"title": "U.S. note 20(vvv) and 20(www) as transcribed "
                                   "(exclusion_claims.csv)",
                         "url": "https://github.com/luv91/Laynes/blob/91b345bdf3824b3a3c33b446e1f"
                                "2969675c2af68/data/current/exclusion_claims.csv",
                         "via": "luv91/Laynes, commit 91b345b"}]}
        if whole:
            ident = f"s301-cn-exclusions-{period.key}-lines"
            events.append(base | {
                "id": ident, "exemption": ident,
                "title": f"Section 301 product exclusions of U.S. note {notes} that name whole "
                         "statistical lines",
                "scope": _scope(sorted(whole), f"{len(whole)} lines excluded whole.")})
        if described:
            ident = f"s301-cn-exclusions-{period.key}-described"
            events.append(base | {
                "id": ident, "exemption": ident,
                "title": f"Section 301 product exclusions of U.S. note {notes} for the goods "
                         "their descriptions name",
                "scope": _scope(sorted(described), "The exclusions, each for the goods it "
                                "describes on these lines: " + "; ".join(said) + "."),
                "conditions": [{"fact": "described_goods", "equals": True}]})
    return events


def main() -> None:
    """Build data/generated-s301-china.yaml."""
    if len(sys.argv) > 1:
        shared.LISTS = Path(sys.argv[1])
    groups = _grouped(shared._rows(LIST_FILE))
    known = _hts_lines()
    events = [*list_events(groups, known), *one_list_events(groups),
              *review_events(groups, known), *exclusion_events()]
    # JSON, one event a line: it is read several times faster than YAML, and every store
    # that loads the bundled data reads it.
    body = ",\n".join(json.dumps(event, ensure_ascii=False, separators=(",", ":"))
                      for event in events)
    (shared.ROOT / "data" / NAME).write_text('{"events":[\n' + body + "\n]}\n",
                                            encoding="utf-8")
    print(f"data/{NAME}: {len(events)} events")


if __name__ == "__main__":
    main()
