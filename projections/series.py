"""The additional duty on one origin and HTS code as a step series over effective time.

Rates only change where some paint starts or ends, so the series is evaluated at every paint
boundary inside the window (and at its start); equal neighbours merge into one step, and each
change point names the layers that moved and the events (instruments) that moved them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from decimal import Decimal

from tariff_timeline.domain.clocks import Coordinate
from tariff_timeline.domain.timeline import Paint, Timeline
from tariff_timeline.events import format_hts
from tariff_timeline.projections.answers import Answer, EventRef, Number, RateAnswer
from tariff_timeline.projections.diff import instruments, layer_changes
from tariff_timeline.projections.rates import rate_on
from tariff_timeline.projections.replay import Corrected


class Step(Answer):
    """The additional duty over [start, end), and what changed at its start."""

    start: datetime
    end: datetime | None
    additional: Number | None
    alternatives: tuple[Number | None, ...] = ()
    layers: tuple[str, ...] = ()
    events: tuple[EventRef, ...] = ()

    @property
    def instruments(self) -> list[str]:
        """The instruments behind the change at the start of this step."""
        return instruments(self.events)


class Series(Answer):
    """A rate as a step function of effective time, at one known and recorded time."""

    origin: str
    hts: str
    start: datetime
    end: datetime
    known: datetime
    recorded: datetime
    mfn: Number | None
    steps: tuple[Step, ...]

    @property
    def change_points(self) -> tuple[Step, ...]:
        """The steps after the first: where the rate changed."""
        return self.steps[1:]


def _boundaries(paints: tuple[Paint[object], ...]) -> Iterator[datetime]:
    for paint in paints:
        yield paint.start
        if paint.end is not None:
            yield paint.end


def change_candidates(timeline: Timeline) -> set[datetime]:
    """Every instant where some painted value of the timeline may change."""
    found: set[datetime] = set()
    for measure in timeline.measures.values():
        for paints in (measure.statuses, measure.rates, measure.scopes, measure.pauses):
            found.update(_boundaries(paints))  # type: ignore[arg-type]
    for exemption in timeline.exemptions.values():
        found.update(_boundaries(exemption.active))  # type: ignore[arg-type]
    for quota in timeline.quotas.values():
        for quota_paints in (quota.active, quota.in_quota_percent, quota.volume):
            found.update(_boundaries(quota_paints))  # type: ignore[arg-type]
    for rule in timeline.rules.values():
        found.update(_boundaries(rule.versions))  # type: ignore[arg-type]
    # A revision of the HTS may change which statistical lines a list covers, or the MFN.
    for chapter in timeline.nomenclature.chapters.values():
        found.update(paint.start for paint in chapter.revisions)
    return found


def _value(answer: RateAnswer) -> tuple[object, ...]:
    return (answer.additional, tuple(a.additional for a in answer.alternatives))


def rate_series(timeline: Timeline, entries: Mapping[str, Corrected], *, origin: str,
                hts: str, start: datetime, end: datetime, known: datetime,
                recorded: datetime, mfn: Decimal | None = None) -> Series:
    """The additional duty on `origin` × `hts` over [start, end] as known and recorded.

    `timeline` may hold only what bears on the cell (the read model's `cell_timeline`): the
    steps are the same. Its change candidates are among the whole timeline's, and the rate
    cannot change between two of them, so the same instants start a step. A change names the
    events of the moved layers that start or end since the instant evaluated before it; those
    are boundaries of the layers' own paints, candidates of either timeline, so none lies
    between the instant before it in the one and in the other."""
    instants = sorted({start, *(at for at in change_candidates(timeline) if start < at <= end)})
    steps: list[Step] = []
    previous: RateAnswer | None = None
    previous_at = start
    for at in instants:
        answer = rate_on(timeline, entries, origin=origin, hts=hts,
                         coordinate=Coordinate(at, known, recorded), mfn=mfn)
        if previous is not None and _value(answer) == _value(previous):
            # Compare neighbours, so a change is explained by what happened just before it.
            previous, previous_at = answer, at
            continue
        layers: tuple[str, ...] = ()
        events: tuple[EventRef, ...] = ()
        if previous is not None:
            layers, events = layer_changes(previous, answer, previous_at, at)
            steps[-1] = steps[-1].model_copy(update={"end": at})
        steps.append(Step(start=at, end=None, additional=answer.additional,
                          alternatives=tuple(a.additional for a in answer.alternatives),
                          layers=layers, events=events))
        previous, previous_at = answer, at
    return Series(origin=origin, hts=format_hts(hts), start=start, end=end, known=known,
                  recorded=recorded, mfn=mfn, steps=tuple(steps))
