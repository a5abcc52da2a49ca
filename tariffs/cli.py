"""The `tariffs` command line: import events and ask as-of questions on the three clocks."""

from __future__ import annotations

import json
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from threading import Event
from typing import Annotated, Any, TypeVar

import typer
from pydantic import TypeAdapter
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn
from rich.table import Table
from rich.tree import Tree

from domain.errors import InvalidInput, TariffError
from events import FACTS, AnyEvent, ImportFile
from projections.answers import RateAnswer
from projections.diff import Diff, Side, diff_csv, instruments
from tariffs.errors import exit_code
from tariffs.service import ENV_DB, TariffTimeline, bundled_data, check_intact

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
    timeline = _run(lambda: TariffTimeline.open(db))
    for warning in timeline.warnings:
        err.print(f"[yellow]warning:[/] {warning}", highlight=False)
    return timeline


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


OriginOption = Annotated[str, typer.Option(help="Country of origin, ISO 3166 alpha-2 (JP).")]
HtsOption = Annotated[str, typer.Option(help="HTS code, 2 to 10 digits, dots optional.")]
EnteredOption = Annotated[str, typer.Option(help="When the goods were entered. " + WHEN_HELP)]
KnownOption = Annotated[str | None, typer.Option(help="As known at (default now). " + WHEN_HELP)]
RecordedOption = Annotated[str | None, typer.Option(
    help="As recorded by this store at (default now). " + WHEN_HELP)]
MfnOption = Annotated[float | None, typer.Option(help="MFN (column 1) rate in percent.")]
FactOption = Annotated[list[str] | None, typer.Option(
    help="A fact about the goods, KEY=VALUE (repeatable). Facts: " + FACTS_HELP)]


def _answer(db: str | None, origin: str, hts: str, entered: str, known: str | None,
            recorded: str | None, mfn: float | None, fact: list[str] | None) -> RateAnswer:
    timeline = _open(db)
    answer = _run(lambda: timeline.rate_on(
        origin=origin, hts=hts, entered=entered, known=known, recorded=recorded,
        mfn=None if mfn is None else str(mfn),
        facts=dict(_split_fact(f) for f in fact or [])))
    timeline.close()
    return answer


@app.command()
def rate(origin: OriginOption, hts: HtsOption, entered: EnteredOption, known: KnownOption = None,
         recorded: RecordedOption = None, mfn: MfnOption = None, fact: FactOption = None,
         as_json: JsonOption = False, db: DbOption = None) -> None:
    """The additional US duty on an entry, every layer considered, and why."""
    answer = _answer(db, origin, hts, entered, known, recorded, mfn, fact)
    if as_json:
        _print_json(answer.to_json_dict())
    else:
        _print_rate(answer)


@app.command()
def explain(origin: OriginOption, hts: HtsOption, entered: EnteredOption,
            known: KnownOption = None, recorded: RecordedOption = None, mfn: MfnOption = None,
            fact: FactOption = None, as_json: JsonOption = False, db: DbOption = None) -> None:
    """Every layer considered for an entry: the rule that decided it, the events that produced
    it with their three clocks, and their sources."""
    answer = _answer(db, origin, hts, entered, known, recorded, mfn, fact)
    if as_json:
        _print_json(answer.to_json_dict())
        return
    tree = Tree(f"[bold]{answer.origin} {answer.hts}[/] entered {answer.entered.isoformat()}, "
                f"as known at {answer.known.isoformat()}, as recorded at "
                f"{answer.recorded.isoformat()}")
    for layer in answer.layers:
        verdict = "[green]applied[/]" if layer.applied else "[dim]not applied[/]"
        branch = tree.add(f"[bold]{layer.measure}[/] ({layer.authority}, program "
                          f"{layer.program}): {verdict}, {_pct(layer.rate)}"
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
    out.print(f"additional duty: [bold]{_pct(answer.additional)}[/]"
              + (f", total with MFN: [bold]{_pct(answer.total)}[/]" if answer.total else ""))
    for note in answer.notes:
        out.print(f"[yellow]note:[/] {note}", highlight=False)


@app.command()
def rebuild(db: DbOption = None) -> None:
    """Drop the read model and project the whole event log into it again."""
    timeline = _open(db)
    started = time.perf_counter()
    count = _run(timeline.rebuild_read_model)
    seconds = time.perf_counter() - started
    counts = timeline.read_model.counts() if timeline.read_model else {}
    timeline.close()
    out.print(f"rebuilt the read model from {count} event(s) in {seconds:.2f} s: "
              + ", ".join(f"{name} {rows}" for name, rows in counts.items()))


@app.command()
def project(
    follow_log: Annotated[bool, typer.Option(
        "--follow", help="Keep following the log (PostgreSQL: eventsourcing's projection "
                         "runner and subscription; SQLite: polling).")] = False,
    batch: Annotated[int, typer.Option(help="Notifications per transaction (about).")] = 5000,
    db: DbOption = None,
) -> None:
    """Bring the read model up to the end of the event log (queries also do this first)."""
    timeline = _open(db)
    if follow_log:
        stop = Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        try:
            _run(lambda: timeline.follow(stop))
        except KeyboardInterrupt:
            stop.set()
    else:
        count = _run(lambda: timeline.catch_up(batch))
        out.print(f"applied {count} event(s) to the read model")
    timeline.close()


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
def correct(
    event_id: Annotated[str, typer.Argument(help="The id of the recorded event to correct.")],
    file: Annotated[Path, typer.Option(
        "--file", help="An event file holding the one replacement event (same id).")],
    reason: Annotated[str, typer.Option(help="What the store got wrong.")],
    db: DbOption = None,
) -> None:
    """Record that this store got an event wrong (a data correction, not a policy change).

    Answers use the corrected content from now on; --recorded before now still gives the
    earlier answers exactly."""
    timeline = _open(db)
    correction = _run(lambda: timeline.correct_from_file(event_id, file, reason))
    timeline.close()
    out.print(f"recorded correction {correction.id} of {event_id}", highlight=False)


def _pair(values: list[str] | None, flag: str, required: bool = False
          ) -> tuple[str | None, str | None]:
    """Once: the same on both sides. Twice: before, then after."""
    given = values or []
    if len(given) > 2 or (required and not given):
        raise InvalidInput(f"{flag}: give it once (both sides) or twice (before, after)")
    if not given:
        return None, None
    return (given[0], given[-1])


@app.command()
def diff(
    entered: Annotated[list[str], typer.Option(
        help="Effective date; twice to compare two dates. " + WHEN_HELP)],
    known: Annotated[list[str] | None, typer.Option(
        help="As known at; twice to compare two versions (default now).")] = None,
    recorded: Annotated[list[str] | None, typer.Option(
        help="As recorded at; twice to compare before and after a correction.")] = None,
    origin: Annotated[list[str] | None, typer.Option(
        help="Only what covers this origin (repeatable).")] = None,
    hts: Annotated[list[str] | None, typer.Option(
        help="Only what covers this HTS prefix (repeatable). With --origin: also every "
             "origin×HTS cell whose additional duty changed.")] = None,
    as_json: JsonOption = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV instead of a table.")]
    = False,
    db: DbOption = None,
) -> None:
    """What changed between the schedule at two coordinates of the three clocks."""
    def compare() -> Diff:
        sides_entered = _pair(entered, "--entered", required=True)
        first, second = sides_entered
        if first is None or second is None:
            raise InvalidInput("--entered: give it once (both sides) or twice")
        return timeline.diff(entered=(first, second), known=_pair(known, "--known"),
                             recorded=_pair(recorded, "--recorded"), origins=origin or [],
                             hts=hts or [])

    timeline = _open(db)
    result = _run(compare)
    timeline.close()
    if as_json:
        _print_json(result.model_dump(mode="json"))
    elif as_csv:
        sys.stdout.write(diff_csv(result))
    else:
        _print_diff(result)


def _side_text(side: Side) -> str:
    return (f"entered {side.entered.isoformat()}, known {side.known.isoformat()}, "
            f"recorded {side.recorded.isoformat()}")


def _print_diff(result: Diff) -> None:
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
            cells.add_row(cell.origin, cell.hts, _pct(cell.before), _pct(cell.after),
                          "\n".join(cell.layers),
                          "; ".join(f"{e.id} ({', '.join(instruments([e]))})"
                                    for e in cell.events))
        out.print(cells)
    elif result.origins and result.hts:
        out.print("no origin×HTS cell changed its additional duty")


@app.command("timeline")
def timeline_(
    origin: Annotated[str, typer.Option(help="Country of origin, ISO 3166 alpha-2 (JP).")],
    hts: Annotated[str, typer.Option(help="HTS code, 2 to 10 digits, dots optional.")],
    from_: Annotated[str, typer.Option("--from", help="First effective date. " + WHEN_HELP)],
    to: Annotated[str, typer.Option(help="Last effective date. " + WHEN_HELP)],
    known: Annotated[list[str] | None, typer.Option(
        help="As known at (default now); twice to overlay two versions.")] = None,
    recorded: Annotated[str | None, typer.Option(help="As recorded at (default now).")]
    = None,
    mfn: Annotated[float | None, typer.Option(help="MFN rate in percent.")] = None,
    plot: Annotated[Path | None, typer.Option(
        help="Draw the step chart to FILE.png or FILE.svg.")] = None,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """The additional duty on one origin and HTS code as a step series, with change points."""
    if known is not None and len(known) > 2:
        _run(lambda: _fail("--known: give it at most twice"))
    timeline = _open(db)
    versions = _run(lambda: [
        (f"known {when or 'now'}" + (f", recorded {recorded}" if recorded else ""),
         timeline.rate_series(origin=origin, hts=hts, start=from_, end=to, known=when,
                              recorded=recorded, mfn=None if mfn is None else str(mfn)))
        for when in _each(known)])
    timeline.close()
    if plot is not None:
        from tariffs.chart import plot_series  # matplotlib is slow to import: only for --plot

        written = _run(lambda: plot_series(versions, plot))
        err.print(f"chart written to {written}", highlight=False)
    if as_json:
        _print_json([{"label": label, **series.model_dump(mode="json")}
                     for label, series in versions])
        return
    for label, series in versions:
        table = Table(title=f"{series.origin} {series.hts}: additional duty, {label}",
                      caption=f"as known at {series.known.isoformat()}, as recorded at "
                              f"{series.recorded.isoformat()}")
        for column in ("from", "until", "additional", "what changed", "because of"):
            table.add_column(column, overflow="fold")
        for step in series.steps:
            table.add_row(step.start.isoformat(), step.end.isoformat() if step.end else "",
                          _pct(step.additional), "\n".join(step.layers),
                          "; ".join(f"{e.id} ({', '.join(instruments([e]))})"
                                    for e in step.events))
        out.print(table)


def _each(values: list[str] | None) -> list[str | None]:
    return [*values] if values else [None]


def _fail(message: str) -> None:
    raise InvalidInput(message)


@app.command()
def history(
    measure: Annotated[str | None, typer.Argument(
        help="A measure (or exemption, quota, rule) id; or give --origin and --hts.")] = None,
    origin: Annotated[str | None, typer.Option(help="Country of origin (with --hts).")]
    = None,
    hts: Annotated[str | None, typer.Option(help="HTS code (with --origin).")] = None,
    recorded: Annotated[str | None, typer.Option(
        help="As recorded at (default now). " + WHEN_HELP)] = None,
    mfn: Annotated[float | None, typer.Option(help="MFN rate in percent.")] = None,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Every event that touched a measure or an origin × HTS code: three clocks, sources,
    every recorded version (corrections too) and the state or rate after each."""
    timeline = _open(db)
    result = _run(lambda: timeline.history(measure, origin=origin, hts=hts, recorded=recorded,
                                           mfn=None if mfn is None else str(mfn)))
    timeline.close()
    if as_json:
        _print_json(result.model_dump(mode="json"))
        return
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
def verify(
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Walk the tamper-evident hash chain of the stored log; exit 5 at the first break."""
    timeline = _open(db)
    result = _run(lambda: timeline.verify(raise_on_break=False))
    timeline.close()
    found = result.first_break
    if as_json:
        _print_json({"intact": result.intact, "events": result.events, "heads": result.heads,
                     "head": result.head,
                     "first_break": None if found is None else {
                         "notification_id": found.notification_id,
                         "position": found.position, "problem": found.problem}})
    elif found is None:
        out.print(f"[green]intact:[/] {result.events} event(s) chained, {result.heads} "
                  f"head(s) match; last link {result.head}", highlight=False)
    _run(lambda: check_intact(result))


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
