"""How answers look at the terminal: Rich tables and trees, and JSON for scripts."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table
from rich.tree import Tree

from tariff_timeline.events import EASTERN
from tariff_timeline.events.instants import describe_instant, end_of_day
from tariff_timeline.projections.answers import (
    CoverageRow,
    Layer,
    LogEntry,
    RateAnswer,
    Schedule,
    SourceRow,
)
from tariff_timeline.projections.diff import Diff, Side, instruments
from tariff_timeline.projections.history import History
from tariff_timeline.projections.hts import HtsDiff, HtsLineAnswer, HtsRevision, HtsSearch
from tariff_timeline.projections.series import Series
from tariff_timeline.store import Verification

out = Console()
err = Console(stderr=True)


def print_json(data: Any) -> None:
    """One JSON document on standard output."""
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def pct(value: object) -> str:
    """A percentage, or '?' where the answer has none."""
    return "?" if value is None else f"{value}%"


def bears_on_answer(layer: Layer) -> bool:
    """Whether a layer is shown by default: it applies, is exempted, replaced, not stacked or
    paused (in force at the entry date); scheduled, announced and ended ones are not."""
    return layer.applied or layer.status in ("in_force", "paused")


def _clock(at: datetime, label: str) -> str:
    """'on DATE' for a whole day (a bare known or recorded date), 'at DATETIME' otherwise."""
    local = at.astimezone(EASTERN)
    if local == end_of_day(local.date()):
        return f"{label} on {local.date().isoformat()}"
    return f"{label} at {at.astimezone(UTC).strftime('%Y-%m-%d %H:%M:%S UTC')}"


def heading(answer: RateAnswer) -> str:
    """Where a rate answer stands on the three clocks, in words."""
    return (f"[bold]{answer.origin} {answer.hts}[/] entered {describe_instant(answer.entered)}"
            f", {_clock(answer.known, 'as known')}, {_clock(answer.recorded, 'as recorded')}")


def hts_line(answer: RateAnswer) -> str | None:
    """The HTS line an answer used and its revision, in words (None without nomenclature)."""
    if answer.revision is None:
        return None
    described = answer.description or "a prefix, not a line of its own"
    return (f"HTS line {answer.line or answer.hts}: {described} [dim](revision "
            f"{answer.revision})[/]")


def _mfn_total(answer: RateAnswer) -> str:
    if answer.mfn is not None:
        source = {"given": " as given", "hts": " from the HTS"}.get(answer.mfn_source or "", "")
        return f"   total with MFN {answer.mfn}%{source}: [bold]{pct(answer.total)}[/]"
    if answer.mfn_general is not None:
        return f"   (MFN {answer.mfn_general}: no total, see notes)"
    return "   (give --mfn for the total)"


def _layers_table(layers: Sequence[Layer]) -> Table:
    table = _table(("measure", "code"), ("rate", "number"), ("applied", "code"), ("why", "text"))
    for layer in layers:
        # The Chapter 99 heading goes under the measure: no column of its own at 80 columns.
        measure = layer.measure + (f"\n[dim]ch. 99 {layer.heading}[/]" if layer.heading else "")
        table.add_row(measure, pct(layer.rate),
                      "[green]yes[/]" if layer.applied else "[dim]no[/]", layer.reason)
    return table


def print_rate(answer: RateAnswer, show_all: bool = False) -> None:
    """A rate answer: the layers that bear on it (all with `show_all`), the total, the
    alternatives, the sources of each layer shown, and the notes."""
    shown = [layer for layer in answer.layers if show_all or bears_on_answer(layer)]
    hidden = len(answer.layers) - len(shown)
    out.print(heading(answer), highlight=False)
    line = hts_line(answer)
    if line is not None:
        out.print(line, highlight=False)
    out.print(_layers_table(shown))
    out.print(f"additional duty: [bold]{pct(answer.additional)}[/]" + _mfn_total(answer),
              highlight=False)
    for alternative in answer.alternatives:
        assumed = " and ".join(k if v else f"not ({k})"
                               for k, v in alternative.assumptions.items())
        out.print(f"  if {assumed}: {pct(alternative.additional)}", highlight=False)
    for layer in shown:
        instruments = "; ".join(dict.fromkeys(s.instrument or s.title for s in layer.sources))
        if instruments:
            out.print(f"[dim]source of {layer.measure}:[/] {instruments}", highlight=False)
    for note in answer.notes:
        out.print(f"[yellow]note:[/] {note}", highlight=False)
    if hidden:
        out.print(f"[dim]{hidden} more layer(s) scheduled, announced or ended: --all shows "
                  "them[/]", highlight=False)


def print_explanation(answer: RateAnswer, show_all: bool = False) -> None:
    """A rate answer as a tree: each layer, the rule that decided it, its events with their
    three clocks, and their sources."""
    tree = Tree(heading(answer))
    line = hts_line(answer)
    if line is not None:
        tree.add(line)
    shown = [layer for layer in answer.layers if show_all or bears_on_answer(layer)]
    for layer in shown:
        verdict = "[green]applied[/]" if layer.applied else "[dim]not applied[/]"
        branch = tree.add(f"[bold]{layer.measure}[/] ({layer.authority}, program "
                          f"{layer.program}): {verdict}, {pct(layer.rate)}"
                          + (f" = {layer.rate_rule}" if layer.rate_rule else ""))
        branch.add(f"why: {layer.reason}")
        for event in layer.events:
            effective = (describe_instant(event.effective_from) if event.effective_from
                         else "-") + (f" until {describe_instant(event.effective_until)}"
                                      if event.effective_until else "")
            node = branch.add(f"event [cyan]{event.id}[/] ({event.type}): known {event.known}; "
                              f"effective {effective}; recorded "
                              f"{event.recorded.astimezone(UTC).strftime('%Y-%m-%d %H:%M UTC')}"
                              + (f"; corrected by {', '.join(event.corrected_by)}"
                                 if event.corrected_by else "")
                              + ("" if event.confidence == "verified"
                                 else f"; [yellow]{event.confidence}[/]"))
            for source in event.sources:
                node.add(", ".join(x for x in (source.instrument, source.title, source.url,
                                               source.federal_register) if x))
    out.print(tree)
    out.print(f"additional duty: [bold]{pct(answer.additional)}[/]"
              + (f", total with MFN: [bold]{pct(answer.total)}[/]" if answer.total else ""))
    for note in answer.notes:
        out.print(f"[yellow]note:[/] {note}", highlight=False)
    hidden = len(answer.layers) - len(shown)
    if hidden:
        out.print(f"[dim]{hidden} more layer(s) scheduled, announced or ended: --all shows "
                  "them[/]", highlight=False)


def _stamp(at: datetime) -> str:
    """A recorded instant, to the minute in UTC (its time matters: imports happen daily)."""
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _span(start: datetime | None, end: datetime | None) -> str:
    return ((describe_instant(start) if start else "") + " → "
            + (describe_instant(end) if end else "open"))


def shorten(codes: str, keep: int = 6) -> str:
    """A long comma-separated list of codes cut for a table (exports keep every code)."""
    parts = codes.split(", ")
    if len(parts) <= keep:
        return codes
    return ", ".join(parts[:keep]) + f" (+{len(parts) - keep} more; --json or --csv for all)"


def _table(*columns: tuple[str, str], title: str | None = None,
           caption: str | None = None) -> Table:
    """A table readable at 80 columns: codes and numbers never break, text wraps at words."""
    table = Table(title=title, caption=caption, box=box.SIMPLE_HEAD, pad_edge=False)
    for name, kind in columns:
        if kind == "code":
            table.add_column(name, no_wrap=True)
        elif kind == "number":
            table.add_column(name, no_wrap=True, justify="right")
        else:
            # Words wrap at their boundaries; only a word longer than the column folds.
            table.add_column(name, ratio=1, min_width=12, overflow="fold")
    return table


def print_schedule(result: Schedule) -> None:
    """A schedule: each measure, exemption, quota and rule with its status and rate, then
    what it covers."""
    out.print(f"schedule at {describe_instant(result.entered)}, "
              f"{_clock(result.known, 'as known')}, "
              f"{_clock(result.recorded, 'as recorded')}", highlight=False)
    for row in result.rows:
        products = shorten(row.products) + ("" if row.products_complete else " (partial list)")
        out.print(f"[bold]{row.id}[/] {row.kind}, {row.status}"
                  + (f": {row.rate}" if row.rate else "")
                  + (f", volume {row.volume}" if row.volume is not None else "")
                  + f"; {row.interval()}",
                  highlight=False)
        out.print(f"    origins {row.origins or '-'}; products {products or '-'}",
                  highlight=False)


def print_log(rows: list[LogEntry]) -> None:
    """The event log with its three clocks, one event to a paragraph."""
    for row in rows:
        out.print(f"[bold]#{row.seq} {row.id}[/] ({row.type}"
                  + (f", about {row.subject}" if row.subject else "") + ")", highlight=False)
        out.print(f"    {row.summary}", highlight=False)
        effective = (f"; effective {_span(row.effective_from, row.effective_until)}"
                     if row.effective_from else "")
        out.print(f"    known {row.known}{effective}; recorded {_stamp(row.recorded)}",
                  highlight=False)


def _side_text(side: Side) -> str:
    return (f"entered {describe_instant(side.entered)}, {_clock(side.known, 'known')}, "
            f"{_clock(side.recorded, 'recorded')}")


def print_diff(result: Diff) -> None:
    """A diff: the two coordinates, the changed items and the changed origin×HTS cells."""
    out.print(f"[bold]before:[/] {_side_text(result.before)}", highlight=False)
    out.print(f"[bold]after:[/]  {_side_text(result.after)}", highlight=False)
    out.print(f"{len(result.changes)} change(s) to the schedule", highlight=False)
    colours = {"added": "green", "removed": "red", "changed": "yellow"}
    for item in result.changes:
        out.print(f"[{colours[item.change]}]{item.change}[/] {item.kind} [bold]{item.id}[/]",
                  highlight=False)
        for field in item.fields:
            out.print(f"    {field.field}: {shorten(field.before or '-')} → "
                      f"{shorten(field.after or '-')}", highlight=False)
        because = "; ".join(f"{e.id} ({', '.join(instruments([e]))})" for e in item.events)
        if because:
            out.print(f"    [dim]because of:[/] {because}", highlight=False)
    if result.cells:
        cells = _table(("origin", "code"), ("hts", "code"), ("before", "number"),
                       ("after", "number"), ("layers", "text"),
                       title=f"{len(result.cells)} origin×HTS cell(s) whose additional duty "
                             "changed")
        for cell in result.cells:
            cells.add_row(cell.origin, cell.hts, pct(cell.before), pct(cell.after),
                          "; ".join(cell.layers))
        out.print(cells)
    elif result.origins and result.hts:
        out.print("no origin×HTS cell changed its additional duty")
    print_hts_section(result)


def print_series(label: str, series: Series) -> None:
    """A step series of the additional duty, with what changed and why."""
    out.print(f"[bold]{series.origin} {series.hts}[/]: additional duty, {label} "
              f"({_clock(series.known, 'as known')}, {_clock(series.recorded, 'as recorded')})",
              highlight=False)
    table = _table(("from", "code"), ("until", "code"), ("duty", "number"),
                   ("what changed", "text"))
    for step in series.steps:
        table.add_row(describe_instant(step.start),
                      describe_instant(step.end) if step.end else "",
                      pct(step.additional), "; ".join(step.layers))
    out.print(table)
    for step in series.steps:
        because = "; ".join(f"{e.id} ({', '.join(instruments([e]))})" for e in step.events)
        if because:
            out.print(f"[dim]{describe_instant(step.start)}:[/] {because}", highlight=False)


def print_history(result: History) -> None:
    """Every recorded version of every event about a subject, and the state after each, one
    event to a paragraph."""
    out.print(f"[bold]history of {result.subject}[/]", highlight=False)
    for row in result.rows:
        version = row.version + (f" of {row.corrects}" if row.corrects else "") + (
            f" (by {', '.join(row.superseded_by)})" if row.superseded_by else "")
        source = row.instrument or "; ".join(s.instrument or s.title for s in row.sources[:2])
        effective = (f"; effective {_span(row.effective_from, row.effective_until)}"
                     if row.effective_from else "")
        out.print(f"[bold]#{row.seq} {row.id}[/] ({row.type}, {version})", highlight=False)
        out.print(f"    {row.summary}", highlight=False)
        out.print(f"    known {row.known}{effective}; recorded {_stamp(row.recorded)}; "
                  f"source: {source}", highlight=False)
        out.print(f"    after it: {row.after}", highlight=False)


def print_sources(rows: list[SourceRow]) -> None:
    """Every citation, with the events that cite it."""
    out.print(f"{len(rows)} citations", highlight=False)
    for row in rows:
        name = row.title if row.instrument is None else f"{row.instrument}: {row.title}"
        out.print(f"[bold]{name}[/]", highlight=False)
        details = "; ".join(x for x in (row.federal_register, row.url,
                                        f"via {row.via}" if row.via else None) if x)
        if details:
            out.print(f"    {details}", highlight=False)
        out.print(f"    [dim]cited by:[/] {', '.join(row.events)}", highlight=False)


def verification_json(result: Verification) -> dict[str, Any]:
    """A chain verification as JSON: intact or not, counts, the head and the first break."""
    found = result.first_break
    return {"intact": result.intact, "events": result.events, "heads": result.heads,
            "head": result.head, "signed_heads": result.signed_heads,
            "first_break": None if found is None else {
                "notification_id": found.notification_id,
                "position": found.position, "problem": found.problem}}


def print_intact(result: Verification) -> None:
    """An intact chain, in one line."""
    signed = (f", {result.signed_heads} signature(s) verified" if result.signed_heads
              else "")
    out.print(f"[green]intact:[/] {result.events} event(s) chained, {result.heads} "
              f"head(s) match{signed}; last link {result.head}", highlight=False)


def print_coverage(rows: list[CoverageRow]) -> None:
    """Per measure and exemption: whether its product list is complete, and how long."""
    table = _table(("id", "code"), ("status", "text"), ("products", "code"), ("codes", "number"),
                   ("note", "text"), title="product coverage")
    for row in rows:
        table.add_row(row.id, row.status,
                      "complete" if row.products_complete else "[yellow]partial[/]",
                      "all" if row.codes is None else str(row.codes), row.products_note or "")
    out.print(table)


# ---------------------------------------------------------------- the HTS itself


def _revision_text(revision: HtsRevision) -> str:
    return f"HTS {revision.revision} (from {describe_instant(revision.effective_from)})"


def print_hts_line(answer: HtsLineAnswer) -> None:
    """One HTS line: its path from the heading down, units, rate columns, children, and the
    revision and clocks it was read at."""
    out.print(f"[bold]{answer.code}[/] {answer.description}", highlight=False)
    out.print(f"  entered {describe_instant(answer.entered)}, "
              f"{_clock(answer.known, 'as known')}, {_clock(answer.recorded, 'as recorded')}; "
              f"{_revision_text(answer.revision)}; this version since "
              f"{describe_instant(answer.since)}", highlight=False)
    tree = Tree("[bold]path[/]")
    node = tree
    for step in answer.path:
        node = node.add(f"[bold]{step.code}[/] {step.description}" if step.code
                        else f"[dim]{step.description}[/]", highlight=False)
    out.print(tree)
    rates = answer.rates
    table = _table(("column", "code"), ("rate as written", "text"),
                   title="rates" + (f" (printed on {rates.rated_by})"
                                    if rates.rated_by and rates.rated_by != answer.code
                                    else ""))
    general = rates.general or "-"
    if rates.general_kind is not None:
        general += f"  [dim]({rates.general_kind.replace('_', ' ')}"
        general += (f", {rates.general_ad_valorem}% ad valorem)[/]"
                    if rates.general_ad_valorem is not None else ")[/]")
    table.add_row("general (MFN)", general)
    table.add_row("special", rates.special or "-")
    table.add_row("column 2", rates.other or "-")
    out.print(table)
    if answer.units:
        out.print(f"units: {', '.join(answer.units)}", highlight=False)
    if answer.children:
        children = _table(("code", "code"), ("description", "text"), ("units", "code"),
                          title=f"{len(answer.children)} line(s) under it")
        for child in answer.children:
            above = " ".join(child.superiors)
            children.add_row(child.code, f"{above} {child.description}".strip(),
                             ", ".join(child.units))
        out.print(children)
    for note in answer.notes:
        out.print(f"[yellow]note:[/] {note}", highlight=False)


def print_hts_search(result: HtsSearch) -> None:
    """Lines found by words, best first, each with the heading it sits under."""
    out.print(f"{result.total} line(s) of {_revision_text(result.revision)} hold "
              f"'{result.words}' (entered {describe_instant(result.entered)}, "
              f"{_clock(result.known, 'as known')}, {_clock(result.recorded, 'as recorded')})",
              highlight=False)
    table = _table(("code", "code"), ("description", "text"))
    for hit in result.hits:
        # Where it sits, short: numbered steps by code, superior text in full.
        above = " › ".join(step.code or step.description for step in hit.path[:-1])
        table.add_row(hit.code, hit.description + (f" [dim](under {above})[/]"
                                                   if above else ""))
    out.print(table)
    shown = result.offset + len(result.hits)
    if shown < result.total:
        out.print(f"[dim]{result.total - shown} more: --limit and --offset page through "
                  "them[/]", highlight=False)
    for note in result.notes:
        out.print(f"[yellow]note:[/] {note}", highlight=False)


def hts_change_lines(result: HtsDiff, keep: int = 6) -> list[str]:
    """The changes of a nomenclature comparison in a few lines: a count per kind of change
    and its first codes (exports list every code)."""
    lines: list[str] = []
    for kind in ("added", "removed", "rerated", "redescribed", "restructured"):
        codes = list(dict.fromkeys(c.code for c in result.changes if c.change == kind))
        if codes:
            lines.append(f"{len(codes)} line(s) {kind}: {shorten(', '.join(codes), keep)}")
    return lines


def print_hts_diff(result: HtsDiff) -> None:
    """A comparison of the nomenclature at two dates: counts and the first codes of each kind
    of change (--json and --csv list them all)."""
    out.print(f"[bold]before:[/] entered {describe_instant(result.before.entered)}, "
              f"{_revision_text(result.before.revision)}", highlight=False)
    out.print(f"[bold]after:[/]  entered {describe_instant(result.after.entered)}, "
              f"{_revision_text(result.after.revision)}", highlight=False)
    out.print(f"{_clock(result.after.known, 'as known')}, "
              f"{_clock(result.after.recorded, 'as recorded')}"
              + (f"; only under {', '.join(result.under)}" if result.under else ""),
              highlight=False)
    lines = hts_change_lines(result)
    for line in lines:
        out.print(line, highlight=False)
    if not lines:
        out.print("no line changed", highlight=False)


def print_hts_section(result: Diff) -> None:
    """The nomenclature part of a diff: the revisions of both sides and a count per kind of
    change with its first codes."""
    found = result.nomenclature
    if found is None:
        return
    before, after = found.before.revision.revision, found.after.revision.revision
    lines = hts_change_lines(found)
    out.print(f"[bold]HTS nomenclature:[/] {before}"
              + (f" → {after}" if after != before else " on both sides")
              + ("" if lines else ", no line changed"), highlight=False)
    for line in lines:
        out.print(f"    {line}", highlight=False)
