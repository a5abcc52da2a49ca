"""The command line's options, their help, and how errors reach the terminal: each error's
field is shown as the flag a person typed, and each error kind exits with its code."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, TypeVar

import typer

from tariff_timeline.bootstrap import ENV_DB
from tariff_timeline.cli.render import err
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
    "signing_key": "TARIFFS_SIGNING_KEY", "input": "--input", "output": "--output",
    "workers": "--workers", "token_file": "--token-file", "serve": "serve",
    "id": "--input (its id column)",
}
"""The flag (or argument) that gives each field of the service's questions and commands."""

DbOption = Annotated[str | None, typer.Option(
    "--db", envvar=ENV_DB,
    help="Database URL: sqlite:///path or postgresql://user@host:port/name. Default: an "
         "embedded SQLite file in your data directory, loaded with the bundled timeline.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
OriginOption = Annotated[str, typer.Option(help="Country of origin, ISO 3166 alpha-2 (JP).")]
HtsOption = Annotated[str, typer.Option(help="HTS code, 2 to 10 digits, dots optional.")]
EnteredOption = Annotated[str, typer.Option(help="When the goods were entered. " + WHEN_HELP)]
KnownOption = Annotated[str | None, typer.Option(help="As known at (default now). " + WHEN_HELP)]
RecordedOption = Annotated[str | None, typer.Option(
    help="As recorded by this store at (default now). " + WHEN_HELP)]
MfnOption = Annotated[float | None, typer.Option(help="MFN (column 1) rate in percent.")]
FactOption = Annotated[list[str] | None, typer.Option(
    help="A fact about the goods, KEY=VALUE (repeatable). Facts: " + FACTS_HELP)]


def message_of(error: TariffError) -> str:
    """An error as a person at the terminal reads it: a field named by its flag."""
    if isinstance(error, InvalidInput) and error.field is not None:
        return f"{FLAGS.get(error.field, error.field)}: {error.message}"
    return str(error)


def run(action: Callable[[], T]) -> T:
    """Do `action`; on one of our errors, print it and exit with its code."""
    try:
        return action()
    except TariffError as exc:
        err.print(f"[bold red]error:[/] {message_of(exc)}", highlight=False, markup=True,
                  soft_wrap=True)
        raise typer.Exit(exit_code(exc)) from exc


def open_timeline(db: str | None) -> TariffTimeline:
    """The store a command names (or the default), its warnings printed."""
    timeline = run(lambda: TariffTimeline.open(db))
    for warning in timeline.warnings:
        err.print(f"[yellow]warning:[/] {warning}", highlight=False)
    return timeline


def split_fact(pair: str) -> tuple[str, str]:
    """KEY=VALUE as (KEY, VALUE); the service says what is wrong with a malformed pair."""
    key, _, value = pair.partition("=")
    return key, value if "=" in pair else ""


def pair(values: list[str] | None, field: str, required: bool = False
         ) -> tuple[str | None, str | None]:
    """A flag given once (the same on both sides of a diff) or twice (before, after)."""
    given = values or []
    if len(given) > 2 or (required and not given):
        raise InvalidInput("give it once (both sides) or twice (before, after)", field=field)
    if not given:
        return None, None
    return (given[0], given[-1])


def refuse(message: str, field: str) -> None:
    """Refuse a flag's value, naming the flag."""
    raise InvalidInput(message, field=field)


def percent_text(value: float | None) -> str | None:
    """A percentage flag as the exact text typed (so 2.5 stays 2.5, not a binary float)."""
    return None if value is None else str(value)
