"""What an append costs a large store (issue 14): appends checked against the history of the
subjects they name (the read model) beside appends checked against the whole log, in one run.

    python -m benchmarks.appends --events 100000 --profile realistic

1. Generate a synthetic history (`benchmarks.generate`) and import it into a new SQLite store
   (or `--db URL`), then bring the read model up to date (timed: the catch-up rate).
2. Append one event, then 1,000 events, through the whole-log check (the importer without the
   read model: it indexes, reads and folds the whole log): `--whole-log-trials` times each.
3. The same through the subject check (the default): `--trials` times each. Each append first
   catches the read model up with the one before it, as it would in use, and that is timed too.

An appended event is an exemption, known and in effect from 2031 (after every generated
event), from one existing measure chosen at random (so its check reads that measure's whole
history); a 1,000-event append names 1,000 of them. Such an exemption is a new subject, with
no history of its own; so, last, `--trials` appends of one change each to the stacking rule
with the most events (the realistic profile changes its one rule 0.4% of the time: about
4,000 changes at 1M), each known a day after the one before, are timed through the subject
check, with the catch-up that takes each into the read model timed apart; and as many
appends of one HTS revision each (a new line) to the chapter with the most revisions, each
known a day after the one before, the catch-up timed apart too; and, after those, as many
corrections of the rule's last change (`TariffTimeline.correct`, each saying it held a day
longer), the catch-up timed apart too; and as many corrections of the rate of the last event
that sets one for the measure with the most events (its check reads the history of every
subject whose events name the measure), the catch-up timed apart too.
Times are in-process (process start excluded), median of the trials; results are printed and
written to benchmarks/results/appends-<timestamp>.json.

`--existing URL` skips step 1's generating and importing and appends to a store built before
(a copy: the appends stay in it), so that two versions of the code can be paired on one large
store; `--whole-log-trials 0` leaves out the whole-log check (minutes a trial at 1M).
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from benchmarks.generate import PROFILES, write_history
from tariff_timeline import TariffTimeline
from tariff_timeline.events import AnyEvent, EventCorrected, PolicyEvent
from tariff_timeline.events.instants import from_micros
from tariff_timeline.importing.recording import Importer
from tariff_timeline.projections.pieces import FOREVER
from tariff_timeline.readmodel.tables import EventRow, VersionRow

RESULTS = Path(__file__).resolve().parent / "results"
_EVENTS: TypeAdapter[PolicyEvent] = TypeAdapter(AnyEvent)
SOURCE = [{"title": "Benchmark append", "url": "https://example.org/append"}]


def measures_of(timeline: TariffTimeline) -> list[str]:
    """The ids of the measures the store holds now (from its read model's open versions)."""
    if timeline.read_model is None:
        raise SystemExit("the store has no read model (an in-memory store?)")
    with Session(timeline.read_model.engine) as session:
        return sorted(s.split(":", 1)[1] for s in session.execute(
            select(VersionRow.subject).distinct().where(
                VersionRow.subject.like("measure:%"), VersionRow.rec_until == FOREVER))
            .scalars())


def exemptions(measures: list[str], count: int, tag: str,
               chance: random.Random) -> list[PolicyEvent]:
    """`count` new exemptions, each from one of the measures."""
    return [_EVENTS.validate_python({
        "type": "ExemptionGranted", "id": f"bench-{tag}-{n}", "known": "2031-01-01",
        "sources": SOURCE, "exemption": f"bench-{tag}-{n}", "title": "benchmark exemption",
        "applies_to": {"measures": [chance.choice(measures)]},
        "effective_from": "2031-01-01", "scope": {"origins": ["JP"], "products": ["ALL"]}})
        for n in range(count)]


def busiest(timeline: TariffTimeline, kind: str) -> tuple[str, int, date] | None:
    """The subject of a kind ("rule", "chapter") with the most recorded events: its id, how
    many, and the day after the last on which one of them became known (when an event about
    it is known after all of them); None when the store holds none."""
    if timeline.read_model is None:
        raise SystemExit("the store has no read model (an in-memory store?)")
    with Session(timeline.read_model.engine) as session:
        found = session.execute(
            select(EventRow.subject, func.count(), func.max(EventRow.known_us))
            .where(EventRow.subject.like(f"{kind}:%")).group_by(EventRow.subject)
            .order_by(func.count().desc()).limit(1)).first()
    if found is None:
        return None
    subject, count, latest = found
    return (str(subject).split(":", 1)[1], int(count),
            from_micros(int(latest)).date() + timedelta(days=1))


def rule_changes(timeline: TariffTimeline, trials: int, tag: int) -> dict[str, Any] | None:
    """Time `trials` appends of one change each to the busiest stacking rule, each known a day
    after the one before, and the catch-up that takes each into the read model."""
    found = busiest(timeline, "rule")
    if found is None or trials == 0:
        return None
    rule, count, day = found

    def change(n: int) -> PolicyEvent:
        return _EVENTS.validate_python(rule_change(rule, day, tag, n))

    return {"rule": rule, "rule_events": count, "first_known": day.isoformat(),
            **_appended(timeline, trials, change)}


def rule_change(rule: str, day: date, tag: int, n: int, longer: int = 0) -> dict[str, Any]:
    """The n-th change of a rule that `rule_changes` appends (a day after `day` for each n),
    in effect for 30 days, and `longer` more."""
    known = (day + timedelta(days=n)).isoformat()
    return {"type": "StackingRuleChanged", "id": f"bench-{tag}-rule-{n}", "rule": rule,
            "known": known, "effective_from": known, "in_effect": n % 2 == 0,
            "effective_until": (day + timedelta(days=n + 30 + longer)).isoformat(),
            "sources": SOURCE}


def rule_corrections(timeline: TariffTimeline, trials: int, tag: int,
                     changed: dict[str, Any] | None) -> dict[str, Any] | None:
    """Time `trials` corrections of the last change `rule_changes` appended (`changed`, what
    it returned): each says the change held a day longer than the one before. Then the
    catch-up that takes each into the read model. Run last, so that `append_rule_1` times
    the rule as the store held it; a store appended to again times changes to a rule once
    corrected."""
    if changed is None or trials == 0:
        return None
    rule, day = changed["rule"], date.fromisoformat(changed["first_known"])
    last = trials - 1

    def correct(n: int) -> object:
        replacement = _EVENTS.validate_python(rule_change(rule, day, tag, last, longer=n + 1))
        return timeline.correct(replacement.id, replacement, reason="benchmark correction")

    return {"rule": rule, "corrects": f"bench-{tag}-rule-{last}",
            **_timed_with_catch_up(timeline, trials, correct)}


def measure_corrections(timeline: TariffTimeline, trials: int,
                        tag: int) -> dict[str, Any] | None:
    """Time `trials` corrections of the rate that the last event setting one for the busiest
    measure sets (its content as last corrected), each to another rate, and the catch-up
    that takes each into the read model."""
    found = busiest(timeline, "measure")
    if found is None or trials == 0:
        return None
    measure, count, _ = found
    rated = last_rated(timeline, measure)
    if rated is None:
        return None

    def correct(n: int) -> object:
        content = rated.model_dump(mode="json")
        # Another rate on each trial and run: a store may be corrected by run after run.
        content["rate"]["percent"] = str(40 + (tag + n) % 50)
        replacement = _EVENTS.validate_python(content)
        return timeline.correct(replacement.id, replacement, reason="benchmark correction")

    return {"measure": measure, "measure_events": count, "corrects": rated.id,
            **_timed_with_catch_up(timeline, trials, correct)}


def last_rated(timeline: TariffTimeline, measure: str) -> PolicyEvent | None:
    """The last recorded event about a measure that sets a rate, as last corrected (None
    when none does; a retracted one is passed over)."""
    if timeline.read_model is None:
        raise SystemExit("the store has no read model (an in-memory store?)")
    with Session(timeline.read_model.engine) as session:
        for event_id, payload in session.execute(
                select(EventRow.event_id, EventRow.payload).where(
                    EventRow.subject == f"measure:{measure}", EventRow.target_id.is_(None))
                .order_by(EventRow.seq.desc())).all():
            event = _EVENTS.validate_json(payload)
            if getattr(event, "rate", None) is None:
                continue
            # Its last correction or retraction, by the target's index (a correction may
            # have moved it to another subject): the content it holds now.
            last = session.execute(select(EventRow.payload).where(
                EventRow.target_id == event_id).order_by(EventRow.seq.desc()).limit(1)
            ).scalar()
            if last is None:
                return event
            change = _EVENTS.validate_json(last)
            if isinstance(change, EventCorrected):
                return change.replacement
    return None


def revisions(timeline: TariffTimeline, trials: int, tag: int) -> dict[str, Any] | None:
    """Time `trials` appends of one revision each to the HTS chapter with the most (a line
    added), each known a day after the one before, and the catch-up that takes each into the
    read model."""
    found = busiest(timeline, "chapter")
    if found is None or trials == 0:
        return None
    chapter, count, day = found

    def revision(n: int) -> PolicyEvent:
        known = (day + timedelta(days=n)).isoformat()
        # Ten digits, unique to this run and trial: a line no revision added before.
        code = f"{chapter}9{(tag * 10 + n) % 10_000_000:07d}"
        return _EVENTS.validate_python({
            "type": "NomenclatureRevised", "id": f"bench-{tag}-rev-{n}",
            "revision": f"bench-{tag}-{n}", "chapter": chapter, "known": known,
            "effective_from": known, "sources": SOURCE, "added": [{
                "code": code, "indent": 0, "parent": None, "superiors": [],
                "description": f"Benchmark line {code}", "units": ["No."]}]})

    return {"chapter": chapter, "chapter_events": count,
            **_appended(timeline, trials, revision)}


def _appended(timeline: TariffTimeline, trials: int,
              event: Callable[[int], PolicyEvent]) -> dict[str, Any]:
    """Append `event(n)` alone, then catch up, for each trial n: both timed."""
    return _timed_with_catch_up(timeline, trials,
                                lambda n: timeline.record_events([event(n)]))


def _timed_with_catch_up(timeline: TariffTimeline, trials: int,
                         action: Callable[[int], object]) -> dict[str, Any]:
    """Do `action(n)`, then catch up, for each trial n: both timed."""
    appended, caught_up = [], []
    for n in range(trials):
        appended.append(timed(partial(action, n)))
        caught_up.append(timed(timeline.catch_up))
    return {"by_subject_s": [round(t, 3) for t in appended],
            "by_subject_median_s": round(statistics.median(appended), 3),
            "catch_up_s": [round(t, 3) for t in caught_up],
            "catch_up_median_s": round(statistics.median(caught_up), 3)}


def timed(action: Callable[[], Any]) -> float:
    """Seconds an action took."""
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def run(events: int, profile: str, seed: int, trials: int, whole_log_trials: int,
        db: str | None, existing: str | None = None) -> dict[str, Any]:
    """Build the store (or take an `existing` one), then time appends both ways; the results
    as a dict."""
    with tempfile.TemporaryDirectory(prefix="tt-appends-") as folder:
        work = Path(folder)
        url = existing or db or f"sqlite:///{work / 'store.sqlite'}"
        timeline = TariffTimeline.open(url, load_bundled_if_new=False)
        try:
            out: dict[str, Any] = {"profile": profile, "seed": seed, "store": url.split(":")[0]}
            if existing is None:
                files = write_history(events, work / "history", seed=seed, profile=profile)
                import_s = timed(lambda: timeline.import_paths(files))
                out.update(events=events, import_s=round(import_s, 3),
                           import_events_per_s=round(events / import_s))
            else:
                out.update(events=timeline.store.count(), existing=True)
            catch_up_s = timed(timeline.catch_up)
            measures = measures_of(timeline)
            out.update(measures=len(measures), catch_up_s=round(catch_up_s, 3))
            if existing is None:
                out["catch_up_events_per_s"] = round(events / catch_up_s)
            chance = random.Random(seed)
            # Ids unique to this run: a store may be appended to by run after run.
            tag = timeline.store.count()
            whole_log = Importer(timeline.store)
            for size in (1, 1000):
                batch = partial(exemptions, measures, size, chance=chance)
                whole = [timed(partial(whole_log.record_events, batch(f"{tag}-w{size}-{n}")))
                         for n in range(whole_log_trials)]
                timeline.catch_up()  # what the whole-log appends added, applied once
                by_subject = [timed(partial(timeline.record_events,
                                            batch(f"{tag}-s{size}-{n}")))
                              for n in range(trials)]
                timings: dict[str, Any] = {
                    "by_subject_s": [round(t, 3) for t in by_subject],
                    "by_subject_median_s": round(statistics.median(by_subject), 3)}
                if whole:
                    timings.update(
                        whole_log_s=[round(t, 3) for t in whole],
                        whole_log_median_s=round(statistics.median(whole), 3),
                        whole_log_over_by_subject=round(
                            statistics.median(whole) / statistics.median(by_subject), 1))
                out[f"append_{size}"] = timings
            # What the last appends added, applied before the next trials: the first rule
            # change had timed the catch-up of 1,000 exemptions with its own check.
            timeline.catch_up()
            changed = rule_changes(timeline, trials, tag)
            out["append_rule_1"] = changed
            out["append_revision_1"] = revisions(timeline, trials, tag)
            out["correct_rule_1"] = rule_corrections(timeline, trials, tag, changed)
            out["correct_measure_1"] = measure_corrections(timeline, trials, tag)

            out["store_events_after"] = timeline.store.count()
            return out
        finally:
            timeline.close()


def main(argv: list[str] | None = None) -> int:
    """Command line: run the append benchmark and print its results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--profile", choices=sorted(PROFILES), default="realistic")
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--whole-log-trials", type=int, default=2, help="0 to leave it out")
    parser.add_argument("--db", help="a store URL (default: a new SQLite file)")
    parser.add_argument("--existing", metavar="URL",
                        help="append to this store as it is, built before (not generated)")
    args = parser.parse_args(argv)
    result = run(args.events, args.profile, args.seed, args.trials, args.whole_log_trials,
                 args.db, args.existing)
    result["machine"] = {"python": platform.python_version(), "system": platform.platform()}
    print(json.dumps(result, indent=2))
    RESULTS.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (RESULTS / f"appends-{stamp}.json").write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
