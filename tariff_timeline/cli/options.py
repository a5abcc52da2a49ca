"""The command line's options, their help, and how errors reach the terminal: each error's
field is shown as the flag a person typed, and each error kind exits with its code."""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from typing import Annotated, TypeVar

import typer
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeRemainingColumn

from tariff_timeline.bootstrap import ENV_DB
from tariff_timeline.cli.render import err, print_json
from tariff_timeline.domain.errors import InvalidInput, TariffError
from tariff_timeline.errors import exit_code
from tariff_timeline.events import FACTS
from tariff_timeline.service import TariffTimeline

T = TypeVar("T")

FACTS_HELP = "; ".join(f"{name} ({kind}: {text})" for name, (kind, text) in FACTS.items())
WHEN_HELP = ("ISO date (2025-04-09) or datetime with offset. An entry date means goods entered "
             "that day after the 12:01 a.m. US Eastern switch; a known/recorded date means up "
             "to the end of that day.")

FLAGS: dict[str, str] = {
    "entered": "--entered", "known": "--known", "recorded": "--recorded",
    "origin": "--origin", "origins": "--origin", "hts": "--hts", "mfn": "--mfn",
    "facts": "--fact", "start": "--from", "end": "--to", "at": "--at", "file": "--file",
    "measure": "MEASURE", "event_id": "EVENT_ID", "replacement": "--file", "plot": "--plot",
    "since": "--since", "public_key": "--public-key", "private_key": "--private-key",
    "signing_key": "TARIFFS_SIGNING_KEY", "db": "--db", "write_deadline": "--write-deadline",
    "input": "--input", "output": "--output", "workers": "--workers",
    "token_file": "--token-file", "serve": "serve", "id": "--input (its id column)",
    "words": "WORDS", "code": "CODE", "limit": "--limit", "offset": "--offset", "under": "--under",
}
"""The flag (or argument) that gives each field of the service's questions and commands."""

DbOption = Annotated[str | None, typer.Option(
    "--db", envvar=ENV_DB,
    help="Database URL: sqlite:///path or postgresql://user@host:port/name (?schema=NAME). "
         "Default: an embedded SQLite file in your data directory, loaded with the bundled "
         "timeline.")]
WriteDeadlineOption = Annotated[float | None, typer.Option(
    "--write-deadline", metavar="SECONDS",
    help="How long a writer waits its turn while other writers keep the store busy, then "
         "gives up (exit 6). Default: TARIFFS_WRITE_DEADLINE, else 60.")]
JsonOption = Annotated[bool, typer.Option(
    "--json", help="Print JSON instead of a table (errors too, as {\"error\": ...}).")]
AllOption = Annotated[bool, typer.Option(
    "--all", help="Also list the layers scheduled, announced or ended around the date.")]
OriginOption = Annotated[str, typer.Option(help="Country of origin, ISO 3166 alpha-2 (JP).")]
HtsOption = Annotated[str, typer.Option(help="HTS code, 2 to 10 digits, dots optional.")]
EnteredOption = Annotated[str, typer.Option(help="When the goods were entered. " + WHEN_HELP)]
KnownOption = Annotated[str | None, typer.Option(help="As known at (default now). " + WHEN_HELP)]
RecordedOption = Annotated[str | None, typer.Option(
    help="As recorded by this store at (default now). " + WHEN_HELP)]
MfnOption = Annotated[str | None, typer.Option(
    help="MFN (column 1) rate in percent, e.g. 2.5 (needed for all-in ceilings and the total).")]
FactOption = Annotated[list[str] | None, typer.Option(
    help="A fact about the goods, KEY=VALUE (repeatable). Facts: " + FACTS_HELP)]


def message_of(error: TariffError) -> str:
    """An error as a person at the terminal reads it: a field named by its flag."""
    if isinstance(error, InvalidInput) and error.field is not None:
        return f"{FLAGS.get(error.field, error.field)}: {error.message}"
    return str(error)


_JSON_ERRORS: ContextVar[bool] = ContextVar("json_errors", default=False)


def errors_as_json(as_json: bool) -> None:
    """Whether this command's errors go to standard output as JSON (it was asked for --json)."""
    _JSON_ERRORS.set(as_json)


def error_json(error: TariffError) -> dict[str, object]:
    """An error as JSON for scripts: its kind, message, field, flag and exit code."""
    field = error.field if isinstance(error, InvalidInput) else None
    return {"error": {"kind": type(error).__name__, "message": message_of(error),
                      "field": field, "flag": FLAGS.get(field, field) if field else None,
                      "exit_code": exit_code(error)}}


def run(action: Callable[[], T]) -> T:
    """Do `action`; on one of our errors, print it (as JSON on standard output when the
    command was asked for --json, so a script can parse it) and exit with its code."""
    try:
        return action()
    except TariffError as exc:
        if _JSON_ERRORS.get():
            print_json(error_json(exc))
        else:
            err.print(f"[bold red]error:[/] {message_of(exc)}", highlight=False,
                      markup=True, soft_wrap=True)
        raise typer.Exit(exit_code(exc)) from exc


class CatchUpBar:
    """A progress bar on the terminal for a read model catching up with a long log (none
    when standard error is not a terminal)."""

    def __init__(self, label: str = "bringing the read model up to date") -> None:
        self.label = label
        self._bar: Progress | None = None
        self._task: TaskID | None = None

    def __call__(self, done: int, total: int) -> None:
        """Show `done` of `total` events applied."""
        if not err.is_terminal:
            return
        if self._bar is None:
            self._bar = Progress(TextColumn("{task.description}"), BarColumn(),
                                 TextColumn("{task.completed}/{task.total} events"),
                                 TimeRemainingColumn(), console=err, transient=True)
            self._bar.start()
            self._task = self._bar.add_task(self.label, total=total)
        if self._task is not None:
            self._bar.update(self._task, completed=done, total=total)
        if done >= total:
            self._bar.stop()
            self._bar, self._task = None, None


def open_timeline(db: str | None, write_deadline: float | None = None) -> TariffTimeline:
    """The store a command names (or the default), its warnings printed, its catch-ups shown
    as a progress bar."""
    timeline = run(lambda: TariffTimeline.open(db, write_deadline=write_deadline))
    timeline.on_catch_up = CatchUpBar()
    for warning in timeline.warnings:
        err.print(f"[yellow]warning:[/] {warning}", highlight=False)
    return timeline


def refuse(message: str, field: str) -> None:
    """Refuse a flag's value, naming the flag."""
    raise InvalidInput(message, field=field)
