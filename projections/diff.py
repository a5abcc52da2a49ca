"""What changed between two versions of the schedule (two coordinates of the three clocks).

Measures, exemptions, quotas and stacking rules are compared row by row (added, removed, or
changed in status, rate, scope or interval), each change with the events responsible: the events
whose paint gives the new value (or, for what disappeared, the old one). For a set of origins
times HTS codes, every cell whose additional duty changed is listed with the layers that moved.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from tariff_timeline.domain.clocks import Coordinate
from tariff_timeline.domain.state import ExemptionState, QuotaState, RuleState
from tariff_timeline.domain.timeline import MeasureState, Timeline, paint_at
from tariff_timeline.events import format_hts, normalise_hts
from tariff_timeline.projections.answers import (
    Answer,
    EventRef,
    Layer,
    Number,
    RateAnswer,
    ScheduleRow,
)
from tariff_timeline.projections.hts import HtsDiff, compare, diff_answer
from tariff_timeline.projections.rates import event_ref, rate_on
from tariff_timeline.projections.replay import Corrected
from tariff_timeline.projections.schedule import row_stretch, schedule_as_of, with_bounds


@dataclass(frozen=True)
class Snapshot:
    """The timeline at a coordinate and the events behind it: one side of a diff."""

    coordinate: Coordinate
    timeline: Timeline
    entries: Mapping[str, Corrected]


class Side(Answer):
    """The three clocks of one side."""

    entered: datetime
    known: datetime
    recorded: datetime


class FieldChange(Answer):
    """One attribute that differs: status, rate, scope or interval."""

    field: str
    before: str | None
    after: str | None


class ItemChange(Answer):
    """A measure, exemption, quota or stacking rule added, removed or changed."""

    kind: str
    id: str
    title: str
    change: Literal["added", "removed", "changed"]
    fields: tuple[FieldChange, ...]
    events: tuple[EventRef, ...]


class CellChange(Answer):
    """An origin and HTS code whose total additional duty differs, and why."""

    origin: str
    hts: str
    before: Number | None
    after: Number | None
    layers: tuple[str, ...]
    events: tuple[EventRef, ...]


class Diff(Answer):
    """The differences between the schedule at two coordinates."""

    before: Side
    after: Side
    origins: tuple[str, ...]
    hts: tuple[str, ...]
    changes: tuple[ItemChange, ...]
    cells: tuple[CellChange, ...]
    nomenclature: HtsDiff | None = None
    """The HTS lines added, removed, re-rated, re-described or restructured between the two
    sides (under the HTS prefixes, if any); None when a side holds no revision."""


def instruments(events: Iterable[EventRef]) -> list[str]:
    """The instruments the events cite (a source title where none names one), no repeats."""
    named: dict[str, None] = {}
    for event in events:
        cited = [s.instrument for s in event.sources if s.instrument]
        for name in cited or [s.title for s in event.sources[:1]]:
            named.setdefault(name, None)
    return list(named)


def _side(version: Snapshot) -> Side:
    c = version.coordinate
    return Side(entered=c.effective, known=c.known, recorded=c.recorded)


def _rows(version: Snapshot, origins: Sequence[str], hts: Sequence[str]
          ) -> dict[tuple[str, str], ScheduleRow]:
    rows: dict[tuple[str, str], ScheduleRow] = {}
    origin_choices: list[str | None] = [*origins] or [None]
    hts_choices: list[str | None] = [*hts] or [None]
    for origin in origin_choices:
        for code in hts_choices:
            for row in schedule_as_of(version.timeline, version.coordinate, origin, code).rows:
                rows.setdefault((row.kind, row.id), row)
    return rows


def _fields(row: ScheduleRow | None) -> dict[str, str | None]:
    if row is None:
        return {}
    return {
        "status": row.status,
        "rate": row.rate,
        "scope": (f"{row.origins}; {row.products}" if row.origins or row.products else None),
        "interval": row.interval(),
        # Only a quota's row has a volume: no other row gains a field that is never set.
        **({"volume": row.volume} if row.kind == "quota" else {}),
    }


_PAINTED = {"status": "statuses", "rate": "rates", "scope": "scopes", "interval": "statuses"}


def _measure_events(measure: MeasureState | None, at: datetime, fields: Iterable[str]
                    ) -> list[str]:
    """The events whose paints give a measure its value of each field at an instant."""
    if measure is None:
        return []
    found: list[str] = []
    if not measure.imposed:
        return [a.event_id for a in measure.announcements[-1:]]
    for name in fields:
        held = row_stretch(measure, at) if name == "interval" else None
        if held is not None:
            # The interval is the stretch the row holds over: the events whose paints
            # bound it (its own start, a later revocation, a pause's extension or end) give
            # it its since and until.
            found += [e for e in held.bounded_by if e not in found]
            continue
        paints = getattr(measure, _PAINTED[name])
        paint = paint_at(paints, at)
        if paint is None and paints:
            # Not yet in force: the paint that will start it is the one that matters.
            upcoming = [p for p in paints if p.start > at]
            paint = upcoming[0] if upcoming else paints[-1]
        if paint is not None and paint.event_id not in found:
            found.append(paint.event_id)
    return found


def _other_events(version: Snapshot, kind: str, item: str) -> tuple[str, ...]:
    """The events a side's row of an exemption, quota or stacking rule cites at the side's
    effective instant (`cited_at`, then the events bounding the stretch its row says it holds
    over), none when the side does not hold it."""
    timeline = version.timeline
    state: ExemptionState | QuotaState | RuleState | None = (
        timeline.exemptions.get(item) if kind == "exemption"
        else timeline.quotas.get(item) if kind == "quota"
        else timeline.rules.get(item) if kind == "stacking_rule" else None)
    if state is None:
        return ()
    at = version.coordinate.effective
    return with_bounds(state.cited_at(at), state.stretch_at(at))


def _refs(ids: Iterable[str], *versions: Snapshot) -> tuple[EventRef, ...]:
    refs: dict[str, EventRef] = {}
    for eid in ids:
        for version in versions:
            entry = version.entries.get(eid)
            if entry is not None:
                refs.setdefault(eid, event_ref(entry))
                break
    return tuple(refs.values())


def _responsible_ids(kind: str, item: str, changed: Sequence[str], before: Snapshot,
                     after: Snapshot) -> list[str]:
    """The events a change of an item names: for a measure, those whose paints give the
    changed fields their value (the new one, else the old); for the others, those its row
    cites on each side, the second side's first: what says each value, never its whole
    history (a stacking rule changed every week for years holds thousands of events)."""
    if kind == "measure":
        ids = _measure_events(after.timeline.measures.get(item),
                              after.coordinate.effective, changed)
        return ids or _measure_events(before.timeline.measures.get(item),
                                      before.coordinate.effective, changed)
    return list(dict.fromkeys([*_other_events(after, kind, item),
                               *_other_events(before, kind, item)]))


def _layer_key(layer: Layer) -> tuple[object, ...]:
    return (layer.applied, layer.rate, layer.status)


def _describe_layer(layer: Layer | None) -> str:
    if layer is None:
        return "not considered"
    if layer.applied:
        return f"{layer.rate}%"
    if layer.status != "in_force":
        return layer.status.replace("_", " ")
    # 'replaced by X (...)', 'not stacked: ...', 'exempt: ...': the words before the detail.
    return layer.reason.split(" (")[0].split(":")[0]


def layer_changes(before: RateAnswer, after: RateAnswer, low: datetime, high: datetime
                  ) -> tuple[tuple[str, ...], tuple[EventRef, ...]]:
    """The layers that moved between two answers, and the events that moved them.

    `low` and `high` bound the effective times compared: when both answers rest on the same
    events, those starting or ending in (low, high] made the difference."""
    old = {layer.measure: layer for layer in before.layers}
    new = {layer.measure: layer for layer in after.layers}
    moved: list[str] = []
    ids: list[str] = []
    gone: list[str] = []
    fallback: list[str] = []
    refs: dict[str, EventRef] = {}
    for measure in dict.fromkeys([*new, *old]):
        was, now = old.get(measure), new.get(measure)
        if was is not None and now is not None and _layer_key(was) == _layer_key(now):
            continue
        moved.append(f"{measure}: {_describe_layer(was)} → {_describe_layer(now)}")
        was_refs = {e.id: e for e in (was.events if was else ())}
        now_refs = {e.id: e for e in (now.events if now else ())}
        for ref in (*was_refs.values(), *now_refs.values()):
            refs.setdefault(ref.id, ref)
        refs.update(now_refs)
        # Events new to a layer (or corrected since) moved it; a layer whose own events are
        # unchanged moved because of another layer (a replacement, a stacking rule).
        ids.extend(e for e, ref in now_refs.items() if was_refs.get(e) != ref)
        gone.extend(e for e in was_refs if e not in now_refs)
        fallback.extend(now_refs or was_refs)
    # An event that left a layer explains the change only when no new one arrived (a pause
    # ending, an exemption revoked); otherwise it is merely what was replaced.
    ids = ids or gone
    if not ids:
        timed = [e for e in fallback if any(
            at is not None and low < at <= high
            for at in (refs[e].effective_from, refs[e].effective_until))]
        ids = timed or fallback
    return tuple(moved), tuple(refs[e] for e in dict.fromkeys(ids))


def _cell(origin: str, hts: str, before: RateAnswer, after: RateAnswer) -> CellChange | None:
    same_total = before.additional == after.additional and [
        a.additional for a in before.alternatives] == [a.additional for a in after.alternatives]
    if same_total:
        return None
    low, high = sorted((before.entered, after.entered))
    moved, events = layer_changes(before, after, low, high)
    return CellChange(origin=origin, hts=format_hts(hts), before=before.additional,
                      after=after.additional, layers=moved, events=events)


Rows = dict[tuple[str, str], ScheduleRow]
"""One side's schedule rows by (kind, id)."""


def schedule_rows(before: Snapshot, after: Snapshot, *, origins: Sequence[str] = (),
                  hts: Sequence[str] = ()) -> tuple[Rows, Rows]:
    """The rows of the schedule that `diff` compares, of each side."""
    hts = [normalise_hts(h) for h in hts]
    return _rows(before, origins, hts), _rows(after, origins, hts)


@dataclass(frozen=True)
class RowChange:
    """A row added, removed or changed between the sides, before its events are named."""

    kind: str
    item: str
    change: Literal["added", "removed", "changed"]
    fields: tuple[FieldChange, ...]
    named: tuple[str, ...]
    """The fields whose events the change names (the status, for a row added or removed)."""
    shown: ScheduleRow


def row_changes(rows: tuple[Rows, Rows]) -> tuple[RowChange, ...]:
    """The rows of the schedule added, removed or changed between the sides (`schedule_rows`),
    the fields that differ and those whose events a change names."""
    return tuple(_row_changes(*rows))


def _row_changes(old_rows: Rows, new_rows: Rows) -> Iterator[RowChange]:
    for key in dict.fromkeys([*old_rows, *new_rows]):
        kind, item = key
        old, new = old_rows.get(key), new_rows.get(key)
        was, now = _fields(old), _fields(new)
        if old is None or new is None:
            change: Literal["added", "removed", "changed"] = "added" if old is None else "removed"
            names = list(now or was)
        else:
            change = "changed"
            names = [n for n in now if now[n] != was.get(n)]
            if not names:
                continue
        shown = new if new is not None else old
        if shown is None:  # every key comes from one side or the other
            continue
        yield RowChange(kind, item, change,
                        tuple(FieldChange(field=n, before=was.get(n), after=now.get(n))
                              for n in names),
                        tuple(names) if change == "changed" else ("status",), shown)


def named_by_second(change: RowChange, after: Snapshot) -> bool:
    """Whether the second side alone names the events of a change (a measure whose paints
    or announcement there give the changed fields their value): the first side's state of
    it is then not read for the change (see `_responsible_ids`)."""
    return change.kind == "measure" and bool(_measure_events(
        after.timeline.measures.get(change.item), after.coordinate.effective, change.named))


def cited_events(before: Snapshot, after: Snapshot, changes: Iterable[RowChange]
                 ) -> list[str]:
    """The events `diff` names for the changed rows of the two sides: what it reads of the
    log, no more."""
    return list(dict.fromkeys(
        event_id for change in changes for event_id in _responsible_ids(
            change.kind, change.item, change.named, before, after)))


def diff(before: Snapshot, after: Snapshot, *, origins: Sequence[str] = (),
         hts: Sequence[str] = (), changes: Sequence[RowChange] | None = None) -> Diff:
    """The schedule at `after` compared with the schedule at `before` (`changes`: the rows
    that differ, when already worked out by `row_changes`)."""
    if changes is None:
        changes = row_changes(schedule_rows(before, after, origins=origins, hts=hts))
    hts = [normalise_hts(h) for h in hts]
    items: list[ItemChange] = []
    for change in changes:
        ids = _responsible_ids(change.kind, change.item, change.named, before, after)
        items.append(ItemChange(kind=change.kind, id=change.item, title=change.shown.title,
                                change=change.change, fields=change.fields,
                                events=_refs(ids, after, before)))
    cells: list[CellChange] = []
    for origin in origins:
        for code in hts:
            answers = [rate_on(v.timeline, v.entries, origin=origin, hts=code,
                               coordinate=v.coordinate) for v in (before, after)]
            cell = _cell(origin, code, answers[0], answers[1])
            if cell is not None:
                cells.append(cell)
    return Diff(before=_side(before), after=_side(after), origins=tuple(origins),
                hts=tuple(format_hts(h) for h in hts), changes=tuple(items),
                cells=tuple(cells), nomenclature=nomenclature_diff(before, after, hts))


def nomenclature_diff(before: Snapshot, after: Snapshot, hts: Sequence[str] = ()
                      ) -> HtsDiff | None:
    """The nomenclature at one side compared with the other (each as its side knows it), only
    under the HTS prefixes if any; None when a side holds no revision."""
    found = compare(before.timeline.nomenclature, after.timeline.nomenclature,
                    before.coordinate.effective, after.coordinate.effective,
                    [h for h in hts if h != "ALL"])
    if found is None:
        return None
    return diff_answer(found[0], before.coordinate, after.coordinate,
                       [h for h in hts if h != "ALL"], found[1])


CSV_COLUMNS = ("section", "change", "kind", "id", "field", "before", "after", "events",
               "instruments")


def diff_csv(result: Diff) -> str:
    """The diff as CSV: one line per changed field and per changed cell."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for item in result.changes:
        for field in item.fields:
            writer.writerow(["schedule", item.change, item.kind, item.id, field.field,
                             field.before or "", field.after or "",
                             " ".join(e.id for e in item.events),
                             "; ".join(instruments(item.events))])
    for cell in result.cells:
        writer.writerow(["cell", "changed", "origin×hts", f"{cell.origin} {cell.hts}",
                         "additional duty", "" if cell.before is None else cell.before,
                         "" if cell.after is None else cell.after,
                         " ".join(e.id for e in cell.events),
                         "; ".join(instruments(cell.events))])
    if result.nomenclature is not None:
        # Every code, as `tariffs hts diff --csv` lists them.
        for line in result.nomenclature.changes:
            writer.writerow(["hts", line.change, "hts line", line.code,
                             line.column or "description" if line.change in (
                                 "rerated", "redescribed") else "",
                             line.before or "", line.after or "", "", ""])
    return buffer.getvalue()
