"""A deterministic generator of synthetic, valid tariff histories in the project's import format.

    python -m benchmarks.generate --events 100000 --out /tmp/history-100k [--seed 4] [--prefix w1-]

The history is written as a folder of JSON files (``{"events": [...]}``, one event a line), in
the order the events became known, so the import accepts it as it is. It simulates a bounded
pool of measures (a few thousand, so each measure's history grows with N) under several
programs, with broad scopes (ALL origins, 2-digit chapters) and narrow ones (one country, 8 or
10-digit codes), rate changes, scope amendments, pauses with extensions and early resumptions,
revocations and court invalidations, exemptions with conditions, quotas, deals, stacking rules,
retroactive actions (effective before known) and data corrections (EventCorrected) and
retractions. Every event is built with the project's own event classes before it is written, so
a field the format would reject fails here, not in the benchmark.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from tariff_timeline.events import AnyEvent, PolicyEvent
from tariff_timeline.events.values import iso_alpha2_codes

FIRST_DAY = date(2018, 1, 1)
SPAN_DAYS = 4000
"""Known dates run from 2018-01-01 over about eleven years."""

PER_FILE = 10_000
"""Events per JSON file: a large history is a folder of files, read one at a time."""

PROGRAMS: tuple[tuple[str, str], ...] = (
    ("IEEPA", "ieepa-recip"), ("IEEPA", "ieepa-fentanyl"), ("IEEPA", "ieepa-brazil"),
    ("Section 232", "s232-steel"), ("Section 232", "s232-aluminium"),
    ("Section 232", "s232-autos"), ("Section 232", "s232-copper"),
    ("Section 232", "s232-lumber"), ("Section 301", "s301-china"), ("Section 122", "s122"),
)  # fmt: skip
COUNTRIES: tuple[str, ...] = (
    "CN", "JP", "KR", "TW", "VN", "TH", "MY", "ID", "IN", "PH", "SG", "KH", "BD", "PK", "LK",
    "DE", "FR", "IT", "ES", "NL", "BE", "IE", "SE", "AT", "PL", "CZ", "GB", "CH", "NO", "TR",
    "CA", "MX", "BR", "AR", "CL", "CO", "PE", "AU", "NZ", "ZA", "NG", "EG", "IL", "SA", "AE",
    "RU", "UA", "KZ", "LA", "MM",
)  # fmt: skip
CHAPTERS: tuple[str, ...] = tuple(f"{c:02d}" for c in range(1, 98) if c != 77)
FACT_CONDITIONS: tuple[dict[str, Any], ...] = (
    {"fact": "usmca_qualifying", "equals": True},
    {"fact": "end_use", "one_of": ["civil_aircraft", "data_center"]},
    {"fact": "us_content_share", "at_least": "0.2"},
    {"fact": "in_transit", "equals": True},
    {"fact": "company", "equals": "acme-industries"},
)
_ADAPTER: TypeAdapter[PolicyEvent] = TypeAdapter(AnyEvent)


@dataclass
class _Measure:
    """What the simulation must remember of a measure to keep its lifecycle valid."""

    id: str
    program: str
    start: date
    free_from: date
    paused: tuple[date, date] | None = None
    alive: bool = True
    kind: str = "dense"
    """The realistic profile's kind of measure: broad, country (one origin, every product) or
    narrow (one origin, 8/10-digit codes)."""
    origin: str | None = None
    products: tuple[str, ...] = ()
    authority: str = ""


@dataclass
class _Sim:
    """The state of a simulated history, advanced one event at a time."""

    rng: random.Random
    pool: int
    measures: list[_Measure] = field(default_factory=list)
    alive: list[_Measure] = field(default_factory=list)
    exemptions: list[tuple[str, date]] = field(default_factory=list)
    quotas: list[tuple[str, date]] = field(default_factory=list)
    rules: list[str] = field(default_factory=list)
    deals: list[str] = field(default_factory=list)
    rulings: list[str] = field(default_factory=list)
    rate_events: list[dict[str, Any]] = field(default_factory=list)
    serial: int = 0
    prefix: str = ""

    def next_id(self, kind: str) -> str:
        self.serial += 1
        return f"{self.prefix}{kind}-{self.serial:08d}"

    def next_name(self, kind: str) -> str:
        """The name of the next exemption, quota, deal, rule or ruling (the id of the event
        that creates it follows)."""
        return f"{self.prefix}{kind}-{self.serial + 1:08d}"


def _day(value: date) -> str:
    return value.isoformat()


def _source(rng: random.Random, n: int) -> list[dict[str, Any]]:
    kind = rng.choice(("Executive Order", "Proclamation", "Federal Register notice"))
    return [{"title": f"{kind} {n} (synthetic)",
             "url": f"https://www.federalregister.gov/d/synthetic-{n}",
             "instrument": f"{kind} {n}"}]


def _scope(rng: random.Random, broad: bool) -> dict[str, Any]:
    if broad:
        scope: dict[str, Any] = {"origins": ["ALL"],
                                 "products": sorted(rng.sample(CHAPTERS, rng.randint(1, 6)))}
        if rng.random() < 0.3:
            scope["origins_except"] = sorted(rng.sample(COUNTRIES, rng.randint(1, 3)))
        if rng.random() < 0.2:
            scope["products"] = ["ALL"]
        return scope
    origin = "EU" if rng.random() < 0.1 else rng.choice(COUNTRIES)
    chapter = rng.choice(CHAPTERS)
    codes = sorted({chapter + f"{rng.randrange(10**6):06d}" + ("" if rng.random() < 0.6 else
                                                                f"{rng.randrange(100):02d}")
                    for _ in range(rng.randint(1, 8))})
    scope = {"origins": [origin], "products": codes}
    if rng.random() < 0.1:
        scope["products_complete"] = False
    return scope


def _rate(rng: random.Random, sim: _Sim, program: str) -> dict[str, Any]:
    roll = rng.random()
    percent = rng.choice((5, 10, 15, 20, 25, 30, 34, 50, 84, 125))
    if roll < 0.08:
        return {"percent": 15, "kind": "ceiling"}
    if roll < 0.14:
        same = [m.id for m in sim.measures[-200:] if m.program == program][:2]
        if same:
            return {"percent": percent, "kind": "replacement", "replaces": same}
    if roll < 0.17:
        return {"percent": 50, "content_fact": "copper_content_share"}
    return {"percent": percent}


class Generator:
    """Yields N events of a valid history, as dictionaries of the import format."""

    def __init__(self, events: int, seed: int = 4, measures: int | None = None,
                 prefix: str = "") -> None:
        self.total = events
        self.rng = random.Random(seed)
        # A prefix names everything apart, so histories of several seeds share one store.
        self.sim = _Sim(self.rng, measures or max(20, min(3000, events // 30)), prefix=prefix)

    def _known(self, index: int) -> date:
        # Known dates never go backwards along the files, so fold order is file order.
        return FIRST_DAY + timedelta(days=index * SPAN_DAYS // max(self.total, 1))

    def _effective(self, known: date, floor: date) -> date:
        """Usually some days after it is known; one time in eight retroactively before it."""
        rng = self.rng
        if rng.random() < 0.125:
            when = known - timedelta(days=rng.randint(1, 90))
        else:
            when = known + timedelta(days=rng.choice((0, 0, 1, 7, 14, 30)))
        return max(when, floor)

    def _base(self, kind: str, known: date) -> dict[str, Any]:
        sim = self.sim
        event: dict[str, Any] = {"id": sim.next_id(kind), "known": _day(known),
                                 "sources": _source(self.rng, sim.serial)}
        if self.rng.random() < 0.03:
            event["confidence"] = "partly"
            event["caveats"] = ["the instrument's annex was published later (synthetic)"]
        return event

    def _impose(self, known: date) -> list[dict[str, Any]]:
        rng, sim = self.rng, self.sim
        authority, program = rng.choice(PROGRAMS)
        measure_id = f"{sim.prefix}{program}-{len(sim.measures) + 1:05d}"
        broad = rng.random() < 0.35
        out: list[dict[str, Any]] = []
        if rng.random() < 0.15:
            out.append({**self._base("ann", known), "type": "MeasureAnnounced",
                        "measure": measure_id, "title": f"Threatened {program} duty",
                        "authority": authority, "program": program, "stage": "threat",
                        "scope": _scope(rng, broad)})
        start = self._effective(known, FIRST_DAY)
        out.append({**self._base("imp", known), "type": "MeasureImposed", "measure": measure_id,
                    "title": f"{program} duty {len(sim.measures) + 1}", "authority": authority,
                    "program": program, "effective_from": _day(start),
                    "scope": _scope(rng, broad), "rate": _rate(rng, sim, program)})
        measure = _Measure(measure_id, program, start, start)
        sim.measures.append(measure)
        sim.alive.append(measure)
        return out

    def _kill(self, measure: _Measure) -> None:
        measure.alive = False
        alive = self.sim.alive
        index = alive.index(measure)
        alive[index] = alive[-1]
        alive.pop()

    def _one(self, known: date) -> list[dict[str, Any]]:
        rng, sim = self.rng, self.sim
        if len(sim.alive) < sim.pool and (len(sim.alive) < 10 or rng.random() < 0.3):
            return self._impose(known)
        roll = rng.random()
        if roll >= 0.82:
            # The rest of the mass goes to rate changes, the commonest action.
            roll = (roll - 0.82) / 0.18 * 0.36
        measure = rng.choice(sim.alive)
        base = self._base
        if roll < 0.36:
            event = {**base("rc", known), "type": "RateChanged", "measure": measure.id,
                     "effective_from": _day(self._effective(known, measure.start)),
                     "rate": _rate(rng, sim, measure.program)}
            sim.rate_events.append(event)
            if len(sim.rate_events) > 2000:
                del sim.rate_events[:1000]
            return [event]
        if roll < 0.46:
            broad = rng.random() < 0.35
            return [{**base("sa", known), "type": "ScopeAmended", "measure": measure.id,
                     "effective_from": _day(self._effective(known, measure.start)),
                     "scope": _scope(rng, broad)}]
        if roll < 0.52:
            return self._pause(measure, known)
        if roll < 0.525:
            at = self._effective(known, measure.start)
            self._kill(measure)
            if sim.rulings and rng.random() < 0.3:
                return [{**base("inv", known), "type": "MeasureInvalidated",
                         "measure": measure.id, "effective_from": _day(at),
                         "ruling": rng.choice(sim.rulings)}]
            return [{**base("rev", known), "type": "MeasureRevoked", "measure": measure.id,
                     "effective_from": _day(at),
                     "reason": rng.choice(("revoked", "expired", "superseded"))}]
        if roll < 0.62:
            start = self._effective(known, FIRST_DAY)
            name = sim.next_name("x")
            selector: dict[str, Any] = ({"measures": [measure.id]} if rng.random() < 0.8
                                        else {"programs": [measure.program]})
            event = {**base("exg", known), "type": "ExemptionGranted", "exemption": name,
                     "title": f"Exemption {name}", "applies_to": selector,
                     "effective_from": _day(start), "scope": _scope(rng, rng.random() < 0.2)}
            if rng.random() < 0.4:
                event["conditions"] = [rng.choice(FACT_CONDITIONS)]
            if rng.random() < 0.3:
                event["rate"] = {"percent": rng.choice((5, 10, 15))}
            sim.exemptions.append((name, start))
            return [event]
        if roll < 0.64 and sim.exemptions:
            name, start = sim.exemptions.pop(rng.randrange(len(sim.exemptions)))
            return [{**base("exr", known), "type": "ExemptionRevoked", "exemption": name,
                     "effective_from": _day(max(known, start + timedelta(days=1)))}]
        if roll < 0.67:
            start = self._effective(known, FIRST_DAY)
            name = sim.next_name("q")
            sim.quotas.append((name, start))
            return [{**base("qo", known), "type": "QuotaOpened", "quota": name,
                     "title": f"Tariff-rate quota {name}", "measure": measure.id,
                     "effective_from": _day(start),
                     "scope": {"origins": [rng.choice(COUNTRIES)], "products": ["ALL"]},
                     "in_quota_percent": rng.choice((0, 5, 10)),
                     "over_quota": rng.choice(("measure_rate", "prohibited")),
                     "volume": f"{rng.randint(1, 500) * 1000} tonnes"}]
        if roll < 0.70 and sim.quotas:
            index = rng.randrange(len(sim.quotas))
            name, start = sim.quotas[index]
            at = max(known, start + timedelta(days=1))
            event = {**base("qc", known), "type": "QuotaChanged", "quota": name,
                     "effective_from": _day(at)}
            if rng.random() < 0.2:
                event["closed"] = True
                sim.quotas.pop(index)
            else:
                event["volume"] = f"{rng.randint(1, 500) * 1000} tonnes"
            return [event]
        if roll < 0.73:
            return self._impose(known)
        if roll < 0.75:
            if not sim.deals or rng.random() < 0.4:
                name = sim.next_name("deal")
                sim.deals.append(name)
                return [{**base("deal", known), "type": "DealAnnounced", "deal": name,
                         "title": f"Framework agreement {name}",
                         "partners": {"origins": [rng.choice(COUNTRIES)], "products": ["ALL"]},
                         "terms": "reciprocal rate of 15% all-in; quotas on steel"}]
            return [{**base("step", known), "type": "DealImplemented",
                     "deal": rng.choice(sim.deals),
                     "effective_from": _day(self._effective(known, FIRST_DAY)),
                     "step": "tariff schedule modified"}]
        if roll < 0.76:
            start = self._effective(known, FIRST_DAY)
            if not sim.rules or rng.random() < 0.3:
                name = sim.next_name("rule")
                sim.rules.append(name)
                return [{**base("rs", known), "type": "StackingRuleSet", "rule": name,
                         "description": "Section 232 goods do not pay the reciprocal layer",
                         "effective_from": _day(start),
                         "when": {"programs": [rng.choice(PROGRAMS[3:8])[1]]},
                         "excludes": {"programs": ["ieepa-recip"]}}]
            return [{**base("rch", known), "type": "StackingRuleChanged",
                     "rule": rng.choice(sim.rules), "effective_from": _day(start),
                     "effective_until": _day(start + timedelta(days=rng.randint(10, 200))),
                     "in_effect": rng.random() < 0.5}]
        if roll < 0.765:
            name = sim.next_name("ruling")
            sim.rulings.append(name)
            return [{**base("court", known), "type": "CourtRuled", "ruling": name,
                     "court": "Court of International Trade", "case": f"Case {name}",
                     "holding": "the duties exceed the authority delegated",
                     "outcome": rng.choice(("upheld", "invalidated", "stayed")),
                     "measures": [measure.id]}]
        if roll < 0.79 and sim.rate_events:
            target = rng.choice(sim.rate_events)
            replacement = {**target, "rate": {"percent": rng.choice((7.5, 12.5, 17.5))},
                           "note": "percent misread from the annex"}
            return [{**base("fix", known), "type": "EventCorrected", "corrects": target["id"],
                     "reason": "the annex gives a different rate", "replacement": replacement}]
        if roll < 0.793 and sim.rate_events:
            target = sim.rate_events.pop(rng.randrange(len(sim.rate_events)))
            return [{**base("ret", known), "type": "EventRetracted", "retracts": target["id"],
                     "reason": "recorded from a draft that was never published"}]
        return [{**base("ann", known), "type": "MeasureAnnounced", "measure": measure.id,
                 "title": f"Planned change to {measure.id}", "authority": "IEEPA",
                 "program": measure.program, "stage": "announcement",
                 "scope": _scope(rng, rng.random() < 0.35), "rate": {"percent": 25},
                 "planned_from": _day(known + timedelta(days=30))}]

    def _pause(self, measure: _Measure, known: date) -> list[dict[str, Any]]:
        """Pause a measure, extend its pause or resume it early (both profiles)."""
        rng, base = self.rng, self._base
        if measure.paused is None:
            start = self._effective(known, measure.free_from)
            until = start + timedelta(days=rng.randint(30, 120))
            measure.paused = (start, until)
            return [{**base("pause", known), "type": "MeasurePaused", "measure": measure.id,
                     "effective_from": _day(start), "effective_until": _day(until)}]
        start, until = measure.paused
        if rng.random() < 0.5:
            new_until = until + timedelta(days=rng.randint(30, 90))
            measure.paused = (start, new_until)
            return [{**base("ext", known), "type": "PauseExtended", "measure": measure.id,
                     "effective_until": _day(new_until)}]
        resume = start + timedelta(days=rng.randint(1, (until - start).days - 1))
        measure.paused = None
        measure.free_from = resume
        return [{**base("res", known), "type": "MeasureResumed", "measure": measure.id,
                 "effective_from": _day(resume)}]

    def __iter__(self) -> Iterator[dict[str, Any]]:
        produced = 0
        while produced < self.total:
            for event in self._one(self._known(produced)):
                if produced >= self.total:
                    return
                yield event
                produced += 1


# ---------------------------------------------------------------- the realistic profile

BROAD: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("IEEPA", "ieepa-recip", ("ALL",)), ("Section 122", "s122", ("ALL",)),
    ("IEEPA", "ieepa-de-minimis", ("ALL",)), ("IEEPA", "ieepa-secondary", ("ALL",)),
    ("Section 232", "s232-steel", ("72", "73")), ("Section 232", "s232-aluminium", ("76",)),
    ("Section 232", "s232-autos", ("87",)), ("Section 232", "s232-copper", ("74",)),
    ("Section 232", "s232-lumber", ("44", "94")), ("Section 232", "s232-semiconductors", ("85",)),
    ("Section 232", "s232-pharma", ("30",)), ("Section 232", "s232-trucks", ("87",)),
)  # fmt: skip
"""The realistic profile's broad measures (ALL origins): a fixed set of 12, whatever N. Of the
bundled data's 99 measures, 30 are on ALL origins, 7 of them on every product (the reciprocal
baseline, Section 122 and its announced increase, the de minimis suspension, the Venezuela oil
tariff, the refund cap, Section 232 steel after its 2025 amendments); the rest name a few
chapters, headings or 8-digit lines of one sector. Four on ALL products and eight on one or
two chapters give every cell 4 broad layers and a cell of the ten sector chapters one or two
more: with the country-wide ones, 5-7, the bundled median of 5 (2018-2024) to 9 (2025-26)."""
COUNTRY_SECOND_EVERY = 4
"""Every origin has one country-wide measure (one origin, ALL products: 44 of the bundled
data's 61 single-origin measures, the reciprocal rates, letters and fentanyl duties by
country, 1-4 for the countries they name) and every fourth a second (fentanyl-like)."""
HOT_ORIGINS, HOT_SHARE = ("CN", "VN", "MX"), 0.3
"""A third of the narrow measures (and so of their exclusions) single out three origins, as
the bundled Section 301 lists single out China: 17 of its 61 single-origin measures, and the
cells of China carry its p99 and max. Lines grow as N, so these cells too stay bounded."""
NARROW_PROGRAMS: tuple[tuple[str, str], ...] = (
    ("Section 301", "s301-narrow"), ("Section 201", "s201-narrow"),
    ("Section 232", "s232-derivatives"), ("IEEPA", "ieepa-annex"),
)
LINES_PER_EVENTS = 40
"""10-digit lines in the baseline nomenclature: one per 40 events (at least 960, ten a
chapter): about 25,000 at 1M events, the size of the real HTS (some 19,000 statistical lines
in 2025 Rev. 13 plus the lines later revisions add). Narrow measures and exclusions grow as N,
so the lines they can name must grow as N for the number on one cell to stay flat."""
ORIGINS_BASE, ORIGINS_PER_EVENTS, ORIGINS_MAX = 50, 2000, 200
"""Origins: the 50 of the dense profile, one more per 2,000 events, at most 200 (the US
trades with some 200 countries and territories)."""
REALISTIC_MIX: tuple[tuple[float, str], ...] = (
    (0.07, "narrow"), (0.37, "rate"), (0.41, "scope"), (0.46, "pause"), (0.48, "revoke"),
    (0.55, "exclusion"), (0.57, "exclusion_revoked"), (0.575, "quota"), (0.655, "quota_period"),
    (0.665, "nomenclature"), (0.69, "correction"), (0.693, "retraction"), (0.697, "rule"),
    (0.70, "court"), (0.72, "announcement"),
)  # fmt: skip
"""Cumulative shares of the actions after the setup events; the rest (28%) are rate changes.

- narrow measures 7% (one origin, 1-6 codes, 60% 10-digit lines and 40% 8-digit ones): the
  bundled data has 17 (the Section 301 China lists) of its 99; 7% of 1M is 70,000 measures
  on 25,000 lines x 200 origins: by that arithmetic 0.1-0.2 narrow layers a cell, about 2
  on a cell of the three HOT_ORIGINS (as the bundled China cells carry the Section 301 lists);
- rate changes 58% in all, scope amendments 4% (narrow measures keep one origin and a few
  codes of the lines in force), pauses 5%, revocations 2%;
- exclusions 7% (exemptions of 1-4 codes of one origin from one measure; 60% on a fact
  condition) and their revocations 2%: the bundled data has 62 exemptions for 99 measures,
  41 on one origin, 32 on 8/10-digit codes and 26 conditional, and on a sampled cell a mean
  of 0.13 bear (median 0, p99 2, max 5);
- quotas opened 0.5% (one origin, 1-3 lines, on a measure of that origin) and quota
  periods 8% (QuotaChanged: a new period's volume, now and then a close): the bundled data
  opens 12 and changes 9, and at most one bears on a sampled cell (mean 0.002);
- nomenclature line changes 1% (NomenclatureRevised of one chapter: 1-3 lines added, 1-2
  changed, added lines removed again, so a chapter stays about its baseline size);
- corrections 2.5%, retractions 0.3%, stacking rules, court rulings and planned changes:
  as the dense profile, which the bundled data's 93 corrections in 587 events exceed."""


def _line(code: str, indent: int, parent: str | None, description: str) -> dict[str, Any]:
    line: dict[str, Any] = {"code": code, "indent": indent, "description": description}
    if parent is not None:
        line["parent"] = parent
    if len(code) == 8:
        line["general"] = "2.5%"
    if len(code) == 10:
        line["units"] = ["No."]
    return line


@dataclass
class _Chapter:
    """The synthetic HTS lines of one chapter: stable ones (measures name them; never
    removed) and the lines later revisions add and remove again."""

    code: str
    eights: list[str] = field(default_factory=list)
    tens: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    next_suffix: dict[str, int] = field(default_factory=dict)
    last_revision: date = FIRST_DAY


class RealisticGenerator(Generator):
    """N events of a history that grows like a real one: more products (a baseline HTS of one
    10-digit line per 40 events), more origins, narrow measures, exclusions, quota periods and
    nomenclature line changes, while the broad measures stay a fixed set, so that the number
    of layers that bear on one (origin, HTS) cell stays bounded as N grows.

    The parameters (BROAD, COUNTRY_SECOND_EVERY, LINES_PER_EVENTS, ORIGINS_*, REALISTIC_MIX)
    are set from what bears on a cell of the bundled data (benchmarks.cells on data/, 40
    origins x 500 statistical lines, 2,000 cells at each of 7 entry dates 2018-2026): layers
    (every status) median 6, p90 10, p99 12, max 17 (median 5 and p99 8 up to 2024, median 9
    and p99 13 in 2025-26); applied layers median 0, p99 3, max 4; exemptions median 0, p99
    2, max 5; quotas max 1; all that bears median 6, p90 10, p99 13, max 19. Here a cell has
    4 broad layers on ALL products, one or two country-wide ones, one or two more in the ten
    sector chapters, and narrow measures, exclusions and quotas at a density (about 0.1-0.2 a
    cell, 1-2 on the cells of HOT_ORIGINS) that does not grow with N once the lines do (from
    38,400 events; below, the floor of 960 lines keeps it lower).
    """

    def __init__(self, events: int, seed: int = 4, measures: int | None = None,
                 prefix: str = "") -> None:
        super().__init__(events, seed, measures, prefix)
        count = min(ORIGINS_MAX, ORIGINS_BASE + events // ORIGINS_PER_EVENTS)
        others = sorted(iso_alpha2_codes() - set(COUNTRIES) - {"US"})
        self.origins: list[str] = [*COUNTRIES, *others][:count]
        per_chapter = max(10, max(960, events // LINES_PER_EVENTS) // len(CHAPTERS))
        self.chapters = [self._chapter(code, per_chapter) for code in CHAPTERS]
        self.by_code = {chapter.code: chapter for chapter in self.chapters}
        self.open_quotas: list[tuple[str, date]] = []
        self.setup: list[dict[str, Any]] = []

    # -------------------------------------------------------- the nomenclature

    @staticmethod
    def _chapter(code: str, tens: int) -> _Chapter:
        chapter = _Chapter(code)
        eights = -(-tens // 3)
        for i in range(eights):
            eight = f"{code}{i // 4 + 1:02d}{(i // 2) % 2 + 1}0{i % 2 + 1}0"
            chapter.eights.append(eight)
            for k in range(min(3, tens - 3 * i)):
                chapter.tens.append(f"{eight}{k + 1}0")
            chapter.next_suffix[eight] = 41
        return chapter

    def _baseline(self, chapter: _Chapter) -> dict[str, Any]:
        lines: list[dict[str, Any]] = []
        seen: set[str] = set()
        tens = iter(chapter.tens)
        pending = next(tens, None)
        for eight in chapter.eights:
            heading, sub = eight[:4], eight[:6]
            if heading not in seen:
                seen.add(heading)
                lines.append(_line(heading, 0, None, f"Goods of heading {heading}"))
            if sub not in seen:
                seen.add(sub)
                lines.append(_line(sub, 1, heading, f"Goods of subheading {sub}"))
            lines.append(_line(eight, 2, sub, f"Goods of line {eight}"))
            while pending is not None and pending.startswith(eight):
                lines.append(_line(pending, 3, eight, f"Article {pending}"))
                pending = next(tens, None)
        return {**self._base("hts", FIRST_DAY), "type": "NomenclatureRevised",
                "revision": f"{self.sim.prefix}syn-rev-base", "chapter": chapter.code,
                "effective_from": _day(FIRST_DAY), "baseline": True, "added": lines}

    def _revise(self, known: date) -> list[dict[str, Any]]:
        rng = self.rng
        chapter = rng.choice(self.chapters)
        at = max(known, chapter.last_revision + timedelta(days=1))
        added: list[dict[str, Any]] = []
        for _ in range(rng.randint(0 if len(chapter.added) > 6 else 1, 3)):
            eight = rng.choice(chapter.eights)
            suffix = chapter.next_suffix[eight]
            if suffix > 99:
                continue
            chapter.next_suffix[eight] = suffix + 1
            code = f"{eight}{suffix:02d}"
            added.append(_line(code, 3, eight, f"Article {code} (new line)"))
        removed = sorted(chapter.added.pop(rng.randrange(len(chapter.added)))
                         for _ in range(min(len(chapter.added), rng.randint(0, 3))))
        changed = [_line(code, 3, code[:8], f"Article {code} (revised {_day(at)})")
                   for code in sorted(set(rng.sample(chapter.tens, min(len(chapter.tens),
                                                                       rng.randint(1, 2)))))]
        chapter.added.extend(line["code"] for line in added)
        chapter.last_revision = at
        event = {**self._base("hts", known), "type": "NomenclatureRevised",
                 "revision": f"{self.sim.prefix}syn-rev-{self.sim.serial:08d}",
                 "chapter": chapter.code, "effective_from": _day(at), "changed": changed}
        if added:
            event["added"] = added
        if removed:
            event["removed"] = removed
        return [event]

    # -------------------------------------------------------- scopes

    def _codes(self, count: int, chapter: _Chapter | None = None) -> list[str]:
        """A few codes of the lines in force: 10-digit lines, and 8-digit ones (40%)."""
        rng = self.rng
        chapter = chapter or rng.choice(self.chapters)
        return sorted({rng.choice(chapter.eights) if rng.random() < 0.4
                       else rng.choice(chapter.tens) for _ in range(count)})

    def _narrow_scope(self, origin: str) -> dict[str, Any]:
        return {"origins": [origin], "products": self._codes(self.rng.randint(1, 6))}

    # -------------------------------------------------------- measures

    def _measure(self, known: date, kind: str, authority: str, program: str,
                 origin: str | None, products: tuple[str, ...]) -> list[dict[str, Any]]:
        rng, sim = self.rng, self.sim
        measure_id = f"{sim.prefix}{program}-{len(sim.measures) + 1:05d}"
        scope = {"origins": [origin or "ALL"], "products": list(products)}
        start = FIRST_DAY if kind != "narrow" else self._effective(known, FIRST_DAY)
        out: list[dict[str, Any]] = []
        if kind == "narrow" and rng.random() < 0.15:
            out.append({**self._base("ann", known), "type": "MeasureAnnounced",
                        "measure": measure_id, "title": f"Threatened {program} duty",
                        "authority": authority, "program": program, "stage": "threat",
                        "scope": scope})
        out.append({**self._base("imp", known), "type": "MeasureImposed", "measure": measure_id,
                    "title": f"{program} duty {len(sim.measures) + 1}", "authority": authority,
                    "program": program, "effective_from": _day(start), "scope": scope,
                    "rate": _rate(rng, sim, program)})
        measure = _Measure(measure_id, program, start, start, kind=kind, origin=origin,
                           products=products, authority=authority)
        sim.measures.append(measure)
        sim.alive.append(measure)
        return out

    def _setup(self) -> list[dict[str, Any]]:
        """Known on the first day: the baseline HTS, the broad measures, one or two
        country-wide measures an origin, and a stacking rule."""
        out = [self._baseline(chapter) for chapter in self.chapters]
        for authority, program, products in BROAD:
            out += self._measure(FIRST_DAY, "broad", authority, program, None, products)
        for n, origin in enumerate(self.origins):
            out += self._measure(FIRST_DAY, "country", "IEEPA", "ieepa-recip-country", origin,
                                 ("ALL",))
            if n % COUNTRY_SECOND_EVERY == 0:
                out += self._measure(FIRST_DAY, "country", "IEEPA", "ieepa-fentanyl", origin,
                                     ("ALL",))
        name = self.sim.next_name("rule")
        self.sim.rules.append(name)
        out.append({**self._base("rs", FIRST_DAY), "type": "StackingRuleSet", "rule": name,
                    "description": "Section 232 goods do not pay the reciprocal layer",
                    "effective_from": _day(FIRST_DAY),
                    "when": {"authorities": ["Section 232"]},
                    "excludes": {"programs": ["ieepa-recip"]}})
        return out

    def _origin_of(self, measure: _Measure) -> str:
        return measure.origin or self.rng.choice(self.origins)

    def _one(self, known: date) -> list[dict[str, Any]]:
        if not self.setup and not self.sim.measures:
            self.setup = self._setup()
            return self.setup
        rng, sim = self.rng, self.sim
        roll = rng.random()
        action = next((name for limit, name in REALISTIC_MIX if roll < limit), "rate")
        measure = rng.choice(sim.alive)
        base = self._base
        if action == "narrow":
            authority, program = rng.choice(NARROW_PROGRAMS)
            origin = rng.choice(HOT_ORIGINS) if rng.random() < HOT_SHARE \
                else rng.choice(self.origins)
            return self._measure(known, "narrow", authority, program, origin,
                                 tuple(self._narrow_scope(origin)["products"]))
        if action == "scope" and measure.kind == "narrow" and measure.origin is not None:
            scope = self._narrow_scope(measure.origin)
            measure.products = tuple(scope["products"])
            return [{**base("sa", known), "type": "ScopeAmended", "measure": measure.id,
                     "effective_from": _day(self._effective(known, measure.start)),
                     "scope": scope}]
        if action == "pause":
            return self._pause(measure, known)
        if action == "revoke" and measure.kind == "narrow":
            at = self._effective(known, measure.start)
            self._kill(measure)
            return [{**base("rev", known), "type": "MeasureRevoked", "measure": measure.id,
                     "effective_from": _day(at),
                     "reason": rng.choice(("revoked", "expired", "superseded"))}]
        if action == "exclusion":
            return [self._exclusion(measure, known)]
        if action == "exclusion_revoked" and sim.exemptions:
            name, start = sim.exemptions.pop(rng.randrange(len(sim.exemptions)))
            return [{**base("exr", known), "type": "ExemptionRevoked", "exemption": name,
                     "effective_from": _day(max(known, start + timedelta(days=1)))}]
        if action == "quota" and measure.kind != "broad":
            return [self._quota(measure, known)]
        if action == "quota_period" and self.open_quotas:
            index = rng.randrange(len(self.open_quotas))
            name, last = self.open_quotas[index]
            at = max(known, last + timedelta(days=1))
            event = {**base("qc", known), "type": "QuotaChanged", "quota": name,
                     "effective_from": _day(at)}
            if rng.random() < 0.05:
                event["closed"] = True
                self.open_quotas.pop(index)
            else:
                event["volume"] = f"{rng.randint(1, 500) * 1000} tonnes"
                if rng.random() < 0.2:
                    event["in_quota_percent"] = rng.choice((0, 5, 10))
                self.open_quotas[index] = (name, at)
            return [event]
        if action == "nomenclature":
            return self._revise(known)
        if action == "correction" and sim.rate_events:
            target = rng.choice(sim.rate_events)
            replacement = {**target, "rate": {"percent": rng.choice((7.5, 12.5, 17.5))},
                           "note": "percent misread from the annex"}
            return [{**base("fix", known), "type": "EventCorrected", "corrects": target["id"],
                     "reason": "the annex gives a different rate", "replacement": replacement}]
        if action == "retraction" and sim.rate_events:
            target = sim.rate_events.pop(rng.randrange(len(sim.rate_events)))
            return [{**base("ret", known), "type": "EventRetracted", "retracts": target["id"],
                     "reason": "recorded from a draft that was never published"}]
        if action == "rule":
            start = self._effective(known, FIRST_DAY)
            return [{**base("rch", known), "type": "StackingRuleChanged",
                     "rule": rng.choice(sim.rules), "effective_from": _day(start),
                     "effective_until": _day(start + timedelta(days=rng.randint(10, 200))),
                     "in_effect": rng.random() < 0.5}]
        if action == "court":
            name = sim.next_name("ruling")
            sim.rulings.append(name)
            return [{**base("court", known), "type": "CourtRuled", "ruling": name,
                     "court": "Court of International Trade", "case": f"Case {name}",
                     "holding": "the duties exceed the authority delegated",
                     "outcome": rng.choice(("upheld", "invalidated", "stayed")),
                     "measures": [measure.id]}]
        if action == "announcement":
            scope = {"origins": [measure.origin or "ALL"], "products": list(measure.products)}
            return [{**base("ann", known), "type": "MeasureAnnounced", "measure": measure.id,
                     "title": f"Planned change to {measure.id}", "authority": measure.authority,
                     "program": measure.program, "stage": "announcement", "scope": scope,
                     "rate": {"percent": 25},
                     "planned_from": _day(known + timedelta(days=30))}]
        event = {**base("rc", known), "type": "RateChanged", "measure": measure.id,
                 "effective_from": _day(self._effective(known, measure.start)),
                 "rate": _rate(rng, sim, measure.program)}
        sim.rate_events.append(event)
        if len(sim.rate_events) > 2000:
            del sim.rate_events[:1000]
        return [event]

    def _exclusion(self, measure: _Measure, known: date) -> dict[str, Any]:
        """A product exclusion: 1-4 codes of one origin carved out of one measure."""
        rng, sim = self.rng, self.sim
        if measure.kind == "narrow":
            products = sorted(rng.sample(measure.products,
                                         rng.randint(1, min(4, len(measure.products)))))
        elif measure.kind == "broad" and measure.products != ("ALL",):
            products = self._codes(rng.randint(1, 4), self.by_code[
                rng.choice(measure.products)])
        else:
            products = self._codes(rng.randint(1, 4))
        start = self._effective(known, FIRST_DAY)
        name = sim.next_name("x")
        event = {**self._base("exg", known), "type": "ExemptionGranted", "exemption": name,
                 "title": f"Exclusion {name}", "applies_to": {"measures": [measure.id]},
                 "effective_from": _day(start),
                 "scope": {"origins": [self._origin_of(measure)], "products": products}}
        if rng.random() < 0.6:
            event["conditions"] = [rng.choice(FACT_CONDITIONS)]
        if rng.random() < 0.2:
            event["rate"] = {"percent": rng.choice((5, 10, 15))}
        sim.exemptions.append((name, start))
        return event

    def _quota(self, measure: _Measure, known: date) -> dict[str, Any]:
        """A tariff-rate quota on 1-3 lines of the measure's origin (of those a narrow measure
        names, else 8-digit lines), by the year or the quarter; its periods follow as
        QuotaChanged events."""
        rng, sim = self.rng, self.sim
        start = self._effective(known, FIRST_DAY)
        name = sim.next_name("q")
        self.open_quotas.append((name, start))
        if measure.kind == "narrow":
            # A quota on some of the lines the measure names (else it could never bear).
            products = sorted(rng.sample(measure.products,
                                         rng.randint(1, min(3, len(measure.products)))))
        else:
            chapter = rng.choice(self.chapters)
            products = sorted({rng.choice(chapter.eights) for _ in range(rng.randint(1, 3))})
        return {**self._base("qo", known), "type": "QuotaOpened", "quota": name,
                "title": f"Tariff-rate quota {name}", "measure": measure.id,
                "effective_from": _day(start),
                "scope": {"origins": [self._origin_of(measure)], "products": products},
                "in_quota_percent": rng.choice((0, 5, 10)),
                "over_quota": rng.choice(("measure_rate", "prohibited")),
                "volume": f"{rng.randint(1, 500) * 1000} tonnes",
                "period": rng.choice(("year", "quarter"))}


PROFILES: dict[str, type[Generator]] = {"dense": Generator, "realistic": RealisticGenerator}
"""dense: today's generator (a bounded pool of measures, a third of them broad, so the layers
on a cell grow with N); realistic: growth from more products, origins and narrow actions."""


def write_history(events: int, out: Path, seed: int = 4, check: bool = False,
                  per_file: int = PER_FILE, prefix: str = "",
                  profile: str = "dense") -> list[Path]:
    """Write a history of `events` events as JSON files under `out`; returns the files.

    With `check`, every event is validated with the project's event classes as it is written;
    `prefix` starts every id and name, so that histories can be imported side by side;
    `profile` is "dense" (the default, unchanged) or "realistic" (see RealisticGenerator).
    """
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("events-*.json"):
        old.unlink()
    files: list[Path] = []
    batch: list[str] = []

    def flush() -> None:
        path = out / f"events-{len(files) + 1:05d}.json"
        path.write_text('{"events": [\n' + ",\n".join(batch) + "\n]}\n", encoding="utf-8")
        files.append(path)
        batch.clear()

    for event in PROFILES[profile](events, seed, prefix=prefix):
        if check:
            _ADAPTER.validate_python(event)
        batch.append(json.dumps(event, separators=(",", ":")))
        if len(batch) == per_file:
            flush()
    if batch:
        flush()
    return files


def main(argv: list[str] | None = None) -> int:
    """Command line: write a synthetic history."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--check", action="store_true", help="validate every event on the way")
    parser.add_argument("--prefix", default="", help="start every id and name with this")
    parser.add_argument("--profile", choices=sorted(PROFILES), default="dense",
                        help="dense (default: a bounded pool of measures, a third broad) or "
                             "realistic (growth from products, origins and narrow actions)")
    args = parser.parse_args(argv)
    files = write_history(args.events, args.out, args.seed, args.check, prefix=args.prefix,
                          profile=args.profile)
    print(f"wrote {args.events} events in {len(files)} file(s) under {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
