"""How answers look at the terminal: Rich tables and trees, and JSON for scripts."""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.tree import Tree

from tariff_timeline.projections.answers import (
    CoverageRow,
    LogEntry,
    RateAnswer,
    Schedule,
    SourceRow,
)
from tariff_timeline.projections.diff import Diff, Side, instruments
from tariff_timeline.projections.history import History
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


def print_rate(answer: RateAnswer) -> None:
    """A rate answer as a table of layers, the total, alternatives and notes."""
    table = Table(title=f"{answer.origin} {answer.hts} entered {answer.entered.isoformat()}",
                  caption=f"as known at {answer.known.isoformat()}, as recorded at "
                          f"{answer.recorded.isoformat()}")
    for column in ("measure", "authority", "rate", "applied", "reason", "sources"):
        table.add_column(column, overflow="fold")
    for layer in answer.layers:
        sources = "; ".join(s.instrument or s.title for s in layer.sources[:3])
        table.add_row(layer.measure, layer.authority, pct(layer.rate),
                      "[green]yes[/]" if layer.applied else "[dim]no[/]", layer.reason, sources)
    out.print(table)
    out.print(f"additional duty: [bold]{pct(answer.additional)}[/]"
              + (f"   total with MFN {answer.mfn}%: [bold]{pct(answer.total)}[/]"
                 if answer.mfn is not None else "   (give --mfn for the total)"))
    for alternative in answer.alternatives:
        assumed = " and ".join(k if v else f"not ({k})"
                               for k, v in alternative.assumptions.items())
        out.print(f"  if {assumed}: {pct(alternative.additional)}", highlight=False)
    for note in answer.notes:
        out.print(f"[yellow]note:[/] {note}", highlight=False)


def print_explanation(answer: RateAnswer) -> None:
    """A rate answer as a tree: each layer, the rule that decided it, its events and sources."""
    tree = Tree(f"[bold]{answer.origin} {answer.hts}[/] entered {answer.entered.isoformat()}, "
                f"as known at {answer.known.isoformat()}, as recorded at "
                f"{answer.recorded.isoformat()}")
    for layer in answer.layers:
        verdict = "[green]applied[/]" if layer.applied else "[dim]not applied[/]"
        branch = tree.add(f"[bold]{layer.measure}[/] ({layer.authority}, program "
                          f"{layer.program}): {verdict}, {pct(layer.rate)}"
                          + (f" = {layer.rate_rule}" if layer.rate_rule else ""))
        branch.add(f"why: {layer.reason}")
        for event in layer.events:
            effective = (event.effective_from.isoformat() if event.effective_from else "-") + (
                f" until {event.effective_until.isoformat()}" if event.effective_until else "")
            node = branch.add(f"event [cyan]{event.id}[/] ({event.type}): known {event.known}; "
                              f"effective {effective}; recorded {event.recorded.isoformat()}"
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


def print_schedule(result: Schedule) -> None:
    """A schedule as a table of measures, exemptions, quotas and rules."""
    table = Table(title=f"schedule at {result.entered.isoformat()}",
                  caption=f"as known at {result.known.isoformat()}, as recorded at "
                          f"{result.recorded.isoformat()}")
    for column in ("kind", "id", "status", "rate", "origins", "products", "since", "until"):
        table.add_column(column, overflow="fold")
    for row in result.rows:
        table.add_row(row.kind, row.id, row.status, row.rate or "", row.origins,
                      row.products + ("" if row.products_complete else " (partial list)"),
                      row.since.date().isoformat() if row.since else "",
                      row.until.date().isoformat() if row.until else "")
    out.print(table)


def print_log(rows: list[LogEntry]) -> None:
    """The event log with its three clocks."""
    table = Table(title="event log")
    for column in ("#", "id", "type", "known", "effective", "recorded", "summary"):
        table.add_column(column, overflow="fold")
    for row in rows:
        span = (row.effective_from.isoformat() if row.effective_from else "") + (
            f" → {row.effective_until.isoformat()}" if row.effective_until else "")
        table.add_row(str(row.seq), row.id, row.type, row.known, span,
                      row.recorded.isoformat(timespec="seconds"), row.summary)
    out.print(table)


def _side_text(side: Side) -> str:
    return (f"entered {side.entered.isoformat()}, known {side.known.isoformat()}, "
            f"recorded {side.recorded.isoformat()}")


def print_diff(result: Diff) -> None:
    """A diff: the two coordinates, the changed items and the changed origin×HTS cells."""
    out.print(f"[bold]before:[/] {_side_text(result.before)}", highlight=False)
    out.print(f"[bold]after:[/]  {_side_text(result.after)}", highlight=False)
    table = Table(title=f"{len(result.changes)} change(s) to the schedule")
    for column in ("change", "kind", "id", "field", "before", "after", "because of"):
        table.add_column(column, overflow="fold")
    colours = {"added": "green", "removed": "red", "changed": "yellow"}
    for item in result.changes:
        because = "; ".join(f"{e.id} ({', '.join(instruments([e]))})" for e in item.events)
        for index, field in enumerate(item.fields):
            table.add_row(f"[{colours[item.change]}]{item.change}[/]" if index == 0 else "",
                          item.kind if index == 0 else "", item.id if index == 0 else "",
                          field.field, field.before or "", field.after or "",
                          because if index == 0 else "")
    out.print(table)
    if result.cells:
        cells = Table(title=f"{len(result.cells)} origin×HTS cell(s) whose additional duty "
                            "changed")
        for column in ("origin", "hts", "before", "after", "layers", "because of"):
            cells.add_column(column, overflow="fold")
        for cell in result.cells:
            cells.add_row(cell.origin, cell.hts, pct(cell.before), pct(cell.after),
                          "\n".join(cell.layers),
                          "; ".join(f"{e.id} ({', '.join(instruments([e]))})"
                                    for e in cell.events))
        out.print(cells)
    elif result.origins and result.hts:
        out.print("no origin×HTS cell changed its additional duty")


def print_series(label: str, series: Series) -> None:
    """A step series of the additional duty, with what changed and why."""
    table = Table(title=f"{series.origin} {series.hts}: additional duty, {label}",
                  caption=f"as known at {series.known.isoformat()}, as recorded at "
                          f"{series.recorded.isoformat()}")
    for column in ("from", "until", "additional", "what changed", "because of"):
        table.add_column(column, overflow="fold")
    for step in series.steps:
        table.add_row(step.start.isoformat(), step.end.isoformat() if step.end else "",
                      pct(step.additional), "\n".join(step.layers),
                      "; ".join(f"{e.id} ({', '.join(instruments([e]))})"
                                for e in step.events))
    out.print(table)


def print_history(result: History) -> None:
    """Every recorded version of every event about a subject, and the state after each."""
    table = Table(title=f"history of {result.subject}")
    for column in ("#", "event", "version", "known", "effective", "recorded", "source",
                   "after it"):
        table.add_column(column, overflow="fold")
    for row in result.rows:
        span = (row.effective_from.isoformat() if row.effective_from else "") + (
            f" → {row.effective_until.isoformat()}" if row.effective_until else "")
        version = row.version + (f" of {row.corrects}" if row.corrects else "") + (
            f" (by {', '.join(row.superseded_by)})" if row.superseded_by else "")
        source = row.instrument or "; ".join(s.instrument or s.title for s in row.sources[:2])
        table.add_row(str(row.seq), f"{row.id}\n[dim]{row.type}: {row.summary}[/]", version,
                      row.known, span, row.recorded.isoformat(timespec="seconds"), source,
                      row.after.replace("; ", "\n"))
    out.print(table)


def print_sources(rows: list[SourceRow]) -> None:
    """Every citation, with the events that cite it."""
    table = Table(title=f"{len(rows)} citations")
    for column in ("instrument / title", "federal register", "url", "via", "events"):
        table.add_column(column, overflow="fold")
    for row in rows:
        name = row.title if row.instrument is None else f"{row.instrument}\n{row.title}"
        table.add_row(name, row.federal_register or "", row.url or "", row.via or "",
                      ", ".join(row.events))
    out.print(table)


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
    table = Table(title="product coverage")
    for column in ("kind", "id", "status", "products", "codes", "note"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(row.kind, row.id, row.status,
                      "complete" if row.products_complete else "[yellow]partial[/]",
                      "all" if row.codes is None else str(row.codes), row.products_note or "")
    out.print(table)
