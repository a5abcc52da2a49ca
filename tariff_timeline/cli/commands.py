"""The `tariffs` commands: each parses its options, asks the service, and renders the answer."""

from __future__ import annotations

import importlib.util
import os
import signal
import sys
import time
from pathlib import Path
from threading import Event
from typing import Annotated

import typer
from pydantic import TypeAdapter
from rich.progress import BarColumn, Progress, TaskID, TextColumn

from tariff_timeline.bootstrap import bundled_data
from tariff_timeline.cli.options import (
    WHEN_HELP,
    AllOption,
    CatchUpBar,
    DbOption,
    EnteredOption,
    FactOption,
    HtsOption,
    JsonOption,
    KnownOption,
    MfnOption,
    OriginOption,
    RecordedOption,
    WriteDeadlineOption,
    errors_as_json,
    open_timeline,
    refuse,
    run,
)
from tariff_timeline.cli.render import (
    err,
    out,
    print_coverage,
    print_diff,
    print_explanation,
    print_history,
    print_hts_diff,
    print_hts_line,
    print_hts_search,
    print_intact,
    print_json,
    print_log,
    print_rate,
    print_schedule,
    print_series,
    print_sources,
    verification_json,
)
from tariff_timeline.domain.questions import diff_times, fact_pairs
from tariff_timeline.events import EASTERN, AnyEvent, ImportFile
from tariff_timeline.projections.answers import RateAnswer
from tariff_timeline.projections.diff import Diff, diff_csv
from tariff_timeline.projections.hts import hts_diff_csv
from tariff_timeline.service import TariffTimeline, check_intact
from tariff_timeline.store.keys import ENV_PUBLIC_KEY, generate_keys

app = typer.Typer(
    add_completion=True, no_args_is_help=True,
    help="Tariff Timeline: what US tariff applied to which goods from where, on which date, "
         "as known when, and why.",
)


@app.command("import")
def import_(
    paths: Annotated[list[Path] | None, typer.Argument(
        help="Event files (YAML or JSON) or folders. None: the bundled timeline.")] = None,
    db: DbOption = None,
    write_deadline: WriteDeadlineOption = None,
) -> None:
    """Import event files: everything is validated first, then appended in one transaction."""
    timeline = run(lambda: TariffTimeline.open(db, load_bundled_if_new=False,
                                               write_deadline=write_deadline))
    chosen = paths or [bundled_data()]
    with Progress(TextColumn("{task.description}"), BarColumn(),
                  TextColumn("{task.completed}/{task.total}"), console=err,
                  transient=True, disable=not err.is_terminal) as bar:
        tasks: dict[str, TaskID] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=max(total, 1))
            bar.update(tasks[stage], completed=done, total=max(total, 1))

        report = run(lambda: timeline.import_paths(chosen, progress))
    out.print(f"appended {report.appended} event(s), {report.already_recorded} already "
              f"recorded; the store now holds {report.total_events}")
    timeline.close()


def _answer(db: str | None, origin: str, hts: str, entered: str, known: str | None,
            recorded: str | None, mfn: str | None, fact: list[str] | None) -> RateAnswer:
    timeline = open_timeline(db)
    answer = run(lambda: timeline.rate_on(
        origin=origin, hts=hts, entered=entered, known=known, recorded=recorded,
        mfn=mfn,
        facts=fact_pairs(fact)))
    timeline.close()
    return answer


@app.command()
def rate(
    origin: Annotated[str | None, typer.Option(
        help="Country of origin, ISO 3166 alpha-2 (JP).")] = None,
    hts: Annotated[str | None, typer.Option(
        help="HTS code, 2 to 10 digits, dots optional.")] = None,
    entered: Annotated[str | None, typer.Option(
        help="When the goods were entered. " + WHEN_HELP)] = None,
    known: KnownOption = None, recorded: RecordedOption = None, mfn: MfnOption = None,
    fact: FactOption = None, show_all: AllOption = False, as_json: JsonOption = False,
    input_: Annotated[Path | None, typer.Option(
        "--input", help="Answer every question row of a .csv, .jsonl, .json or .parquet file "
                        "(columns origin, hts, entered, optional id, known, recorded, mfn and "
                        "one per fact) instead of one question given by flags.")] = None,
    output: Annotated[Path | None, typer.Option(
        "--output", help="With --input: write one answer row per question to a .csv, .jsonl "
                         "or .parquet file (default: JSON Lines on standard output).")] = None,
    db: DbOption = None,
) -> None:
    """The additional US duty on an entry, every layer considered, and why (or, with --input,
    the answers to a file of questions)."""
    errors_as_json(as_json)
    if input_ is not None:
        _rate_file(db, input_, output, given=[name for name, value in (
            ("origin", origin), ("hts", hts), ("entered", entered), ("known", known),
            ("recorded", recorded), ("mfn", mfn), ("facts", fact)) if value])
        return
    if output is not None:
        run(lambda: refuse("only with --input", field="output"))
    if origin is None or hts is None or entered is None:
        missing = "origin" if origin is None else "hts" if hts is None else "entered"
        run(lambda: refuse("required (or give --input)", field=missing))
        return
    answer = _answer(db, origin, hts, entered, known, recorded, mfn, fact)
    if as_json:
        print_json(answer.to_json_dict())
    else:
        print_rate(answer, show_all)


def _rate_file(db: str | None, source: Path, target: Path | None, given: list[str]) -> None:
    """Answer a file of questions, streamed, with a progress bar on standard error."""
    from tariff_timeline import batch  # the batch formats are loaded only when asked

    if given:
        run(lambda: refuse("the questions come from --input: give them as its columns",
                           field=given[0]))
    run(lambda: batch.format_of(source))
    if target is not None:
        run(lambda: batch.format_of(target))
    if not source.is_file():
        run(lambda: refuse(f"{source}: no such file", field="input"))
    timeline = open_timeline(db)
    total = run(lambda: batch.count_rows(source))
    with Progress(TextColumn("answering"), BarColumn(),
                  TextColumn("{task.completed}/{task.total} rows"), console=err,
                  transient=True, disable=not err.is_terminal) as bar:
        task = bar.add_task("rows", total=total)

        def progress(done: int) -> None:
            if done % 256 == 0 or done == total:
                bar.update(task, completed=done)

        rows = batch.answer_rows(timeline, batch.read_file(source))
        if target is None:
            written = run(lambda: batch.write_lines(rows, sys.stdout, "jsonl", progress))
        else:
            written = run(lambda: batch.write_rows(rows, target, progress))
    timeline.close()
    if target is not None:
        err.print(f"answered {written} row(s) into {target}", highlight=False)


@app.command()
def explain(origin: OriginOption, hts: HtsOption, entered: EnteredOption,
            known: KnownOption = None, recorded: RecordedOption = None, mfn: MfnOption = None,
            fact: FactOption = None, show_all: AllOption = False, as_json: JsonOption = False,
            db: DbOption = None) -> None:
    """Every layer considered for an entry: the rule that decided it, the events that produced
    it with their three clocks, and their sources."""
    errors_as_json(as_json)
    answer = _answer(db, origin, hts, entered, known, recorded, mfn, fact)
    if as_json:
        print_json(answer.to_json_dict())
        return
    print_explanation(answer, show_all)


@app.command()
def rebuild(db: DbOption = None) -> None:
    """Drop the read model and project the whole event log into it again."""
    timeline = open_timeline(db)
    started = time.perf_counter()
    count = run(lambda: timeline.rebuild_read_model(CatchUpBar("rebuilding the read model")))
    seconds = time.perf_counter() - started
    counts = timeline.read_model.reader.counts() if timeline.read_model else {}
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
    timeline = open_timeline(db)
    if follow_log:
        stop = Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())

        def report(applied: int, holds: int) -> None:
            out.print(f"{time.strftime('%H:%M:%S')} applied {applied} event(s); the read model "
                      f"holds {holds}", highlight=False)

        err.print("following the log (Ctrl-C to stop)", highlight=False)
        try:
            run(lambda: timeline.follow(stop, report))
        except KeyboardInterrupt:
            stop.set()
    else:
        count = run(lambda: timeline.catch_up(batch, CatchUpBar()))
        out.print(f"applied {count} event(s) to the read model")
    timeline.close()


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
    errors_as_json(as_json)
    timeline = open_timeline(db)
    result = run(lambda: timeline.schedule_as_of(entered=entered, known=known,
                                                  recorded=recorded, origin=origin, hts=hts))
    timeline.close()
    if as_json:
        print_json(result.model_dump(mode="json"))
        return
    print_schedule(result)


@app.command()
def events(
    measure: Annotated[str | None, typer.Option(
        help="Only events about this measure (or exemption, quota, deal, rule).")] = None,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """The event log with all three clocks: known, effective and recorded."""
    errors_as_json(as_json)
    timeline = open_timeline(db)
    rows = run(lambda: timeline.events(measure))
    timeline.close()
    if as_json:
        print_json([r.model_dump(mode="json") for r in rows])
        return
    print_log(rows)


@app.command()
def correct(
    event_id: Annotated[str, typer.Argument(help="The id of the recorded event to correct.")],
    file: Annotated[Path, typer.Option(
        "--file", help="An event file holding the one replacement event (same id).")],
    reason: Annotated[str, typer.Option(help="What the store got wrong.")],
    db: DbOption = None,
    write_deadline: WriteDeadlineOption = None,
) -> None:
    """Record that this store got an event wrong (a data correction, not a policy change).

    Answers use the corrected content from now on; --recorded before now still gives the
    earlier answers exactly. Correcting an event again to the same content records nothing."""
    timeline = open_timeline(db, write_deadline)
    correction = run(lambda: timeline.correct_from_file(event_id, file, reason))
    timeline.close()
    out.print(f"recorded correction {correction.id} of {event_id}", highlight=False)


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
    errors_as_json(as_json)
    def compare() -> Diff:
        entered_at, known_at, recorded_at = diff_times(entered, known, recorded)
        return timeline.diff(entered=entered_at, known=known_at, recorded=recorded_at,
                             origins=origin or [], hts=hts or [])

    timeline = open_timeline(db)
    result = run(compare)
    timeline.close()
    if as_json:
        print_json(result.model_dump(mode="json"))
    elif as_csv:
        sys.stdout.write(diff_csv(result))
    else:
        print_diff(result)


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
    mfn: MfnOption = None,
    plot: Annotated[Path | None, typer.Option(
        help="Draw the step chart to FILE.png or FILE.svg.")] = None,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """The additional duty on one origin and HTS code as a step series, with change points."""
    errors_as_json(as_json)
    whens: list[str | None] = [*known] if known else [None]
    if len(whens) > 2:
        run(lambda: refuse("give it at most twice", field="known"))
    timeline = open_timeline(db)
    versions = run(lambda: [
        (f"known {when or 'now'}" + (f", recorded {recorded}" if recorded else ""),
         timeline.rate_series(origin=origin, hts=hts, start=from_, end=to, known=when,
                              recorded=recorded, mfn=mfn))
        for when in whens])
    timeline.close()
    if plot is not None:
        if importlib.util.find_spec("matplotlib") is None:
            run(lambda: refuse("drawing a chart needs matplotlib: "
                               "pip install 'tariff-timeline[plot]'", field="plot"))
        from tariff_timeline.cli.chart import (
            plot_series,  # matplotlib is slow to import: only for --plot
        )

        written = run(lambda: plot_series(versions, plot))
        err.print(f"chart written to {written}", highlight=False)
    if as_json:
        print_json([{"label": label, **series.model_dump(mode="json")}
                     for label, series in versions])
        return
    for label, series in versions:
        print_series(label, series)


@app.command()
def history(
    measure: Annotated[str | None, typer.Argument(
        help="A measure (or exemption, quota, rule) id; or give --origin and --hts.")] = None,
    origin: Annotated[str | None, typer.Option(help="Country of origin (with --hts).")]
    = None,
    hts: Annotated[str | None, typer.Option(help="HTS code (with --origin).")] = None,
    recorded: Annotated[str | None, typer.Option(
        help="As recorded at (default now). " + WHEN_HELP)] = None,
    mfn: MfnOption = None,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Every event that touched a measure or an origin × HTS code: three clocks, sources,
    every recorded version (corrections too) and the state or rate after each."""
    errors_as_json(as_json)
    timeline = open_timeline(db)
    result = run(lambda: timeline.history(measure, origin=origin, hts=hts, recorded=recorded,
                                           mfn=mfn))
    timeline.close()
    if as_json:
        print_json(result.model_dump(mode="json"))
        return
    print_history(result)


@app.command()
def sources(
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Every citation in the store, with the events that cite it."""
    errors_as_json(as_json)
    timeline = open_timeline(db)
    rows = run(timeline.sources)
    timeline.close()
    if as_json:
        print_json([r.model_dump(mode="json") for r in rows])
        return
    print_sources(rows)


@app.command()
def verify(
    public_key: Annotated[Path | None, typer.Option(
        "--public-key", envvar=ENV_PUBLIC_KEY,
        help="Public key (PEM) of the key that signs chain heads: heads must be signed by it "
             "(catches recomputed links and forged appends).")] = None,
    since: Annotated[str | None, typer.Option(
        help="A checkpoint printed by `tariffs checkpoint`: the log must still extend it "
             "(catches deleted newest events).")] = None,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Walk the tamper-evident hash chain of the stored log; exit 5 at the first break."""
    errors_as_json(as_json)
    timeline = open_timeline(db)
    result = run(lambda: timeline.verify(raise_on_break=False, public_key=public_key,
                                         since=since))
    timeline.close()
    if as_json:
        print_json(verification_json(result))
    elif result.first_break is None:
        print_intact(result)
    run(lambda: check_intact(result))


@app.command()
def checkpoint(db: DbOption = None) -> None:
    """Print a digest of the log's head to keep elsewhere (`verify --since` checks it later)."""
    timeline = open_timeline(db)
    mark = run(timeline.checkpoint)
    timeline.close()
    out.print(str(mark), highlight=False, soft_wrap=True)


@app.command()
def keygen(
    private_key: Annotated[Path, typer.Option(
        "--private-key", help="Where to write the private key (PEM, readable by you only); "
                              "writers name it in TARIFFS_SIGNING_KEY.")],
    public_key: Annotated[Path, typer.Option(
        "--public-key", help="Where to write the public key (PEM); `verify --public-key` or "
                             "TARIFFS_PUBLIC_KEY names it.")],
) -> None:
    """Make an Ed25519 key pair that signs chain heads; keep the private key outside the
    database (and outside its backups)."""
    run(lambda: generate_keys(private_key, public_key))
    out.print(f"wrote {private_key} (private) and {public_key} (public)", highlight=False)


@app.command()
def serve(
    host: Annotated[str, typer.Option(
        help="Address to listen on (loopback by default; 0.0.0.0 for every interface).")]
    = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(
        help="Worker processes (more than one needs a PostgreSQL store).")] = 1,
    token_file: Annotated[Path | None, typer.Option(
        "--token-file", help="A file holding the bearer token that enables writes "
                             "(POST /v1/import, /v1/correct); or TARIFFS_API_TOKEN. Without "
                             "either, writes are refused (403).")] = None,
    cors_origin: Annotated[list[str] | None, typer.Option(
        "--cors-origin", help="An origin allowed to call the API from a browser "
                              "(repeatable). CORS is off without one.")] = None,
    db: DbOption = None,
) -> None:
    """Serve the HTTP API (FastAPI on uvicorn): every question under /v1, OpenAPI at
    /openapi.json."""
    from tariff_timeline.api.settings import ENV_CORS, ENV_TOKEN_FILE, read_token
    from tariff_timeline.bootstrap import ENV_DB, default_db_url
    from tariff_timeline.store import persistence_env

    if importlib.util.find_spec("uvicorn") is None or importlib.util.find_spec(
            "fastapi") is None:
        run(lambda: refuse("serving needs FastAPI and uvicorn: "
                           "pip install 'tariff-timeline[api]'", field="serve"))
    if workers < 1:
        run(lambda: refuse("at least 1", field="workers"))
    url = db or default_db_url()
    module = run(lambda: persistence_env(url))["PERSISTENCE_MODULE"]
    if workers > 1 and module != "eventsourcing.postgres":
        run(lambda: refuse("several workers need a PostgreSQL store (--db postgresql://...): "
                           "SQLite takes one writer and each worker keeps its own read "
                           "model; use --workers 1", field="workers"))
    if token_file is not None:
        run(lambda: read_token(token_file))
        os.environ[ENV_TOKEN_FILE] = str(token_file.resolve())
    if cors_origin:
        os.environ[ENV_CORS] = ",".join(cors_origin)
    if db is not None:
        os.environ[ENV_DB] = db
    # Open once before the workers do: a new default store loads the bundled timeline here,
    # not in several workers at once.
    open_timeline(db).close()
    import uvicorn

    err.print(f"serving {'the default store' if db is None else 'the store'} on "
              f"http://{host}:{port} ({workers} worker(s)); OpenAPI at /openapi.json",
              highlight=False)
    uvicorn.run("tariff_timeline.api:create_app_from_env", factory=True, host=host,
                port=port, workers=workers, access_log=False, log_level="warning")


@app.command()
def coverage(
    at: Annotated[str | None, typer.Option(
        help="Statuses at this effective date (default now). " + WHEN_HELP)] = None,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Per measure and exemption: is its product list complete or partial, and how long."""
    errors_as_json(as_json)
    timeline = open_timeline(db)
    rows = run(lambda: timeline.coverage(at))
    timeline.close()
    if as_json:
        print_json([r.model_dump(mode="json") for r in rows])
        return
    print_coverage(rows)


@app.command()
def schema(
    event: Annotated[bool, typer.Option("--event", help="Schema of one event, not a file.")]
    = False,
) -> None:
    """Print the JSON Schema of the import format (generated by pydantic)."""
    if event:
        print_json(TypeAdapter(AnyEvent).json_schema())
    else:
        print_json(ImportFile.model_json_schema())


# ---------------------------------------------------------------- the HTS itself (issue 10)

hts_app = typer.Typer(no_args_is_help=True,
                      help="The Harmonized Tariff Schedule itself, revision by revision: show "
                           "a line, search descriptions, compare two dates.")
app.add_typer(hts_app, name="hts")

AtOption = Annotated[str, typer.Option(
    "--at", help="Effective date: the revision in force then answers (a date before the "
                 "first revision recorded: the first one, with a note). " + WHEN_HELP)]


@hts_app.command("show")
def hts_show(
    code: Annotated[str, typer.Argument(
        help="HTS code: a heading (4 digits), subheading (6), line (8) or statistical line "
             "(10), dots optional.")],
    at: AtOption,
    known: KnownOption = None, recorded: RecordedOption = None, as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """One HTS line at a date: its description path from the heading down, units, the three
    rate columns (general/MFN, special, column 2), the lines under it, and the revision."""
    errors_as_json(as_json)
    timeline = open_timeline(db)
    answer = run(lambda: timeline.hts_line(code, at, known, recorded))
    timeline.close()
    if as_json:
        print_json(answer.model_dump(mode="json"))
        return
    print_hts_line(answer)


def today(timeline: TariffTimeline) -> str:
    """Today's date in US Eastern time, by the store's clock."""
    return timeline.store.clock().astimezone(EASTERN).date().isoformat()


@hts_app.command("search")
def hts_search(
    words: Annotated[list[str], typer.Argument(
        help="Words every line found must hold, in its description or the headings above it "
             "(a word matches as a whole word or the start of one).")],
    at: Annotated[str | None, typer.Option(
        "--at", help="Effective date (default today). " + WHEN_HELP)] = None,
    known: KnownOption = None, recorded: RecordedOption = None,
    limit: Annotated[int, typer.Option(help="Lines to list, 1 to 1000.")] = 20,
    offset: Annotated[int, typer.Option(help="Lines to skip (for the next page).")] = 0,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Search the descriptions of the HTS lines in force at a date, ranked best first."""
    errors_as_json(as_json)
    timeline = open_timeline(db)
    result = run(lambda: timeline.hts_search(
        " ".join(words), at if at is not None else today(timeline), known, recorded, limit,
        offset))
    timeline.close()
    if as_json:
        print_json(result.model_dump(mode="json"))
        return
    print_hts_search(result)


@hts_app.command("diff")
def hts_diff(
    from_: Annotated[str, typer.Option("--from", help="Earlier effective date. " + WHEN_HELP)],
    to: Annotated[str, typer.Option("--to", help="Later effective date. " + WHEN_HELP)],
    known: KnownOption = None, recorded: RecordedOption = None,
    under: Annotated[list[str] | None, typer.Option(
        help="Only lines under this HTS prefix (repeatable).")] = None,
    as_json: JsonOption = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV (one row per change, every "
                                                      "code) instead of a summary.")] = False,
    db: DbOption = None,
) -> None:
    """The HTS lines added, removed, re-rated, re-described or restructured between two
    dates (the terminal shows counts and the first codes; --json and --csv list all)."""
    errors_as_json(as_json)
    timeline = open_timeline(db)
    result = run(lambda: timeline.hts_diff(from_, to, known, recorded, under or []))
    timeline.close()
    if as_json:
        print_json(result.model_dump(mode="json"))
    elif as_csv:
        sys.stdout.write(hts_diff_csv(result))
    else:
        print_hts_diff(result)
