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

    def __iter__(self) -> Iterator[dict[str, Any]]:
        produced = 0
        while produced < self.total:
            for event in self._one(self._known(produced)):
                if produced >= self.total:
                    return
                yield event
                produced += 1


def write_history(events: int, out: Path, seed: int = 4, check: bool = False,
                  per_file: int = PER_FILE, prefix: str = "") -> list[Path]:
    """Write a history of `events` events as JSON files under `out`; returns the files.

    With `check`, every event is validated with the project's event classes as it is written;
    `prefix` starts every id and name, so that histories can be imported side by side.
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

    for event in Generator(events, seed, prefix=prefix):
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
    args = parser.parse_args(argv)
    files = write_history(args.events, args.out, args.seed, args.check, prefix=args.prefix)
    print(f"wrote {args.events} events in {len(files)} file(s) under {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
