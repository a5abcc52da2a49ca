"""The `tariffs` command line: import events and ask as-of questions on the three clocks."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from pydantic import TypeAdapter
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn
from rich.table import Table

from domain.errors import TariffError
from events import FACTS, AnyEvent, ImportFile
from projections.answers import RateAnswer
from tariffs.errors import exit_code
from tariffs.service import ENV_DB, TariffTimeline, bundled_data

FACTS_HELP = "; ".join(f"{name} ({kind}: {text})" for name, (kind, text) in FACTS.items())
WHEN_HELP = ("ISO date (2025-04-09) or datetime with offset. An entry date means goods entered "
             "that day after the 12:01 a.m. US Eastern switch; a known/recorded date means up "
             "to the end of that day.")

app = typer.Typer(
    add_completion=False, no_args_is_help=True,
    help="Tariff Timeline: what US tariff applied to which goods from where, on which date, "
         "as known when, and why.",
)
out = Console()
err = Console(stderr=True)
T = TypeVar("T")

DbOption = Annotated[str | None, typer.Option(
    "--db", envvar=ENV_DB,
    help="Database URL: sqlite:///path or postgresql://user@host:port/name. Default: an "
         "embedded SQLite file in your data directory, loaded with the bundled timeline.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def _run(action: Callable[[], T]) -> T:
    try:
        return action()
    except TariffError as exc:
        err.print(f"[bold red]error:[/] {exc}", highlight=False, markup=True, soft_wrap=True)
        raise typer.Exit(exit_code(exc)) from exc


def _open(db: str | None) -> TariffTimeline:
    return _run(lambda: TariffTimeline.open(db))


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


@app.command("import")
def import_(
    paths: Annotated[list[Path] | None, typer.Argument(
        help="Event files (YAML or JSON) or folders. None: the bundled timeline.")] = None,
    db: DbOption = None,
) -> None:
    """Import event files: everything is validated first, then appended in one transaction."""
    timeline = _run(lambda: TariffTimeline.open(db, load_bundled_if_new=False))
    chosen = paths or [bundled_data()]
    with Progress(TextColumn("{task.description}"), BarColumn(),
                  TextColumn("{task.completed}/{task.total}"), console=err,
                  transient=True, disable=not err.is_terminal) as bar:
        tasks: dict[str, TaskID] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=max(total, 1))
            bar.update(tasks[stage], completed=done, total=max(total, 1))

        report = _run(lambda: timeline.import_paths(chosen, progress))
    out.print(f"appended {report.appended} event(s), {report.already_recorded} already "
              f"recorded; the store now holds {report.total_events}")
    timeline.close()


@app.command()
def rate(
    origin: Annotated[str, typer.Option(help="Country of origin, ISO 3166 alpha-2 (JP).")],
    hts: Annotated[str, typer.Option(help="HTS code, 2 to 10 digits, dots optional.")],
    entered: Annotated[str, typer.Option(help="When the goods were entered. " + WHEN_HELP)],
    known: Annotated[str | None, typer.Option(help="As known at (default now). " + WHEN_HELP)]
    = None,
    recorded: Annotated[str | None, typer.Option(
        help="As recorded by this store at (default now). " + WHEN_HELP)] = None,
    mfn: Annotated[float | None, typer.Option(help="MFN (column 1) rate in percent.")] = None,
    fact: Annotated[list[str] | None, typer.Option(
        help="A fact about the goods, KEY=VALUE (repeatable). Facts: " + FACTS_HELP)] = None,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """The additional US duty on an entry, every layer considered, and why."""
    timeline = _open(db)
    answer = _run(lambda: timeline.rate_on(
        origin=origin, hts=hts, entered=entered, known=known, recorded=recorded,
        mfn=None if mfn is None else str(mfn),
        facts=dict(_split_fact(f) for f in fact or [])))
    timeline.close()
    if as_json:
        _print_json(answer.to_json_dict())
    else:
        _print_rate(answer)


def _split_fact(pair: str) -> tuple[str, str]:
    key, _, value = pair.partition("=")
    return key, value if "=" in pair else ""


def _pct(value: object) -> str:
    return "?" if value is None else f"{value}%"


def _print_rate(answer: RateAnswer) -> None:
    table = Table(title=f"{answer.origin} {answer.hts} entered {answer.entered.isoformat()}",
                  caption=f"as known at {answer.known.isoformat()}, as recorded at "
                          f"{answer.recorded.isoformat()}")
    for column in ("measure", "authority", "rate", "applied", "reason", "sources"):
        table.add_column(column, overflow="fold")
    for layer in answer.layers:
        sources = "; ".join(s.instrument or s.title for s in layer.sources[:3])
        table.add_row(layer.measure, layer.authority, _pct(layer.rate),
                      "[green]yes[/]" if layer.applied else "[dim]no[/]", layer.reason, sources)
    out.print(table)
    out.print(f"additional duty: [bold]{_pct(answer.additional)}[/]"
              + (f"   total with MFN {answer.mfn}%: [bold]{_pct(answer.total)}[/]"
                 if answer.mfn is not None else "   (give --mfn for the total)"))
    for alternative in answer.alternatives:
        assumed = " and ".join(k if v else f"not ({k})"
                               for k, v in alternative.assumptions.items())
        out.print(f"  if {assumed}: {_pct(alternative.additional)}", highlight=False)
    for note in answer.notes:
        out.print(f"[yellow]note:[/] {note}", highlight=False)


@app.command()
def schedule(
    entered: Annotated[str, typer.Option(help="Effective date. " + WHEN_HELP)],
    origin: Annotated[str | None, typer.Option(help="Only what covers this origin.")] = None,
    hts: Annotated[str | None, typer.Option(help="Only what covers this HTS code.")] = None,
    known: Annotated[str | None, typer.Option(help="As known at (default now).")] = None,
    recorded: Annotated[str | None, typer.Option(help="As recorded at (default now).")] = None,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Measures in force, paused, scheduled and announced at a coordinate."""
    timeline = _open(db)
    result = _run(lambda: timeline.schedule_as_of(entered=entered, known=known,
                                                  recorded=recorded, origin=origin, hts=hts))
    timeline.close()
    if as_json:
        _print_json(result.model_dump(mode="json"))
        return
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


@app.command()
def events(
    measure: Annotated[str | None, typer.Option(
        help="Only events about this measure (or exemption, quota, deal, rule).")] = None,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """The event log with all three clocks: known, effective and recorded."""
    timeline = _open(db)
    rows = _run(lambda: timeline.events(measure))
    timeline.close()
    if as_json:
        _print_json([r.model_dump(mode="json") for r in rows])
        return
    table = Table(title="event log")
    for column in ("#", "id", "type", "known", "effective", "recorded", "summary"):
        table.add_column(column, overflow="fold")
    for row in rows:
        span = (row.effective_from.isoformat() if row.effective_from else "") + (
            f" → {row.effective_until.isoformat()}" if row.effective_until else "")
        table.add_row(str(row.seq), row.id, row.type, row.known, span,
                      row.recorded.isoformat(timespec="seconds"), row.summary)
    out.print(table)


@app.command()
def sources(
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Every citation in the store, with the events that cite it."""
    timeline = _open(db)
    rows = _run(timeline.sources)
    timeline.close()
    if as_json:
        _print_json([r.model_dump(mode="json") for r in rows])
        return
    table = Table(title=f"{len(rows)} citations")
    for column in ("instrument / title", "federal register", "url", "via", "events"):
        table.add_column(column, overflow="fold")
    for row in rows:
        name = row.title if row.instrument is None else f"{row.instrument}\n{row.title}"
        table.add_row(name, row.federal_register or "", row.url or "", row.via or "",
                      ", ".join(row.events))
    out.print(table)


@app.command()
def coverage(
    at: Annotated[str | None, typer.Option(
        help="Statuses at this effective date (default now). " + WHEN_HELP)] = None,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Per measure and exemption: is its product list complete or partial, and how long."""
    timeline = _open(db)
    rows = _run(lambda: timeline.coverage(at))
    timeline.close()
    if as_json:
        _print_json([r.model_dump(mode="json") for r in rows])
        return
    table = Table(title="product coverage")
    for column in ("kind", "id", "status", "products", "codes", "note"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(row.kind, row.id, row.status,
                      "complete" if row.products_complete else "[yellow]partial[/]",
                      "all" if row.codes is None else str(row.codes), row.products_note or "")
    out.print(table)


@app.command()
def schema(
    event: Annotated[bool, typer.Option("--event", help="Schema of one event, not a file.")]
    = False,
) -> None:
    """Print the JSON Schema of the import format (generated by pydantic)."""
    if event:
        _print_json(TypeAdapter(AnyEvent).json_schema())
    else:
        _print_json(ImportFile.model_json_schema())


def main() -> None:
    """Entry point of the `tariffs` console script."""
    app()


if __name__ == "__main__":
    main()
