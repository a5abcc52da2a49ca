"""How long a writer waits its turn: a writer that meets a concurrent append or a busy database
checks again and retries, with backoff and jitter, until its write deadline; then it gives up
with `StoreBusy`, having written nothing.

The clock, the sleeper and the jitter are injected, so that tests need not really wait.
"""

from __future__ import annotations

import math
import os
import random
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TypeVar

from tariff_timeline.domain.errors import ConflictingWrite, InvalidInput, StoreBusy

T = TypeVar("T")

ENV_WRITE_DEADLINE = "TARIFFS_WRITE_DEADLINE"
"""The environment variable that sets the write deadline, in seconds."""
DEFAULT_WRITE_DEADLINE = 60.0
"""Seconds a writer keeps trying when no deadline is given."""

ABORTED_STATES = {
    "40001": "a serialization failure",
    "40P01": "a deadlock with another transaction",
}
"""PostgreSQL SQLSTATEs of a transaction aborted so that another could go on: nothing of it
was written, and it may simply be run again."""
BUSY_STATES = {
    **ABORTED_STATES,
    "55P03": "a lock held by another writer",
    # Only while a store is opened: two processes creating the same schema, type or table.
    "42P06": "a schema created at the same moment",
    "42P07": "a table created at the same moment",
    "42710": "an object created at the same moment",
    "23505": "a catalogue entry created at the same moment",
}
"""PostgreSQL SQLSTATEs that mean another session was busy, not that something is wrong."""
BUSY_WORDS = (
    ("database is locked", "the database was locked by another writer"),
    ("database is busy", "the database was busy"),
    ("database table is locked", "a table was locked by another writer"),
    ("tuple concurrently updated", "a catalogue row updated at the same moment"),
    ("could not serialize access", "a serialization failure"),
    ("deadlock detected", "a deadlock with another transaction"),
    ("canceling statement due to lock timeout", "a lock held by another writer"),
    ("lock timeout", "a lock held by another writer"),
)
"""Messages that say the same where no SQLSTATE comes with the error (SQLite, wrapped errors)."""


class TurnTimeout(Exception):
    """Another writer kept its turn (see `turns`) for the whole wait: a busy store, which
    `Patience.run` turns into another try or, past the deadline, into StoreBusy."""


def write_deadline_seconds(seconds: float | None = None) -> float:
    """The write deadline: the one given, else TARIFFS_WRITE_DEADLINE, else a minute."""
    if seconds is None:
        raw = os.environ.get(ENV_WRITE_DEADLINE, "").strip()
        if not raw:
            return DEFAULT_WRITE_DEADLINE
        try:
            seconds = float(raw)
        except ValueError:
            raise InvalidInput(f"{ENV_WRITE_DEADLINE}={raw!r} is not a number of seconds",
                               field="write_deadline") from None
    if not math.isfinite(seconds) or seconds < 0:
        raise InvalidInput(f"a write deadline is a number of seconds, 0 or more, not {seconds}",
                           field="write_deadline")
    return float(seconds)


def aborted_for_another(error: BaseException) -> bool:
    """Whether an error is PostgreSQL aborting this transaction for another one's sake."""
    return any(getattr(cause, "sqlstate", None) in ABORTED_STATES for cause in _causes(error))


def _causes(error: BaseException) -> Iterator[BaseException]:
    """The error and what it wraps (`raise ... from`, SQLAlchemy's `orig`); not the errors it
    was raised while handling, which may be unrelated."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        orig = getattr(current, "orig", None)
        pending += [current.__cause__, orig if isinstance(orig, BaseException) else None]


def busy_reason(error: BaseException) -> str | None:
    """Why an error means the store was busy with another writer (worth waiting for), or None
    if it means something else."""
    for cause in _causes(error):
        if isinstance(cause, ConflictingWrite):
            return cause.reason
        if isinstance(cause, TurnTimeout):
            return "another writer's turn"
        state = getattr(cause, "sqlstate", None)
        if isinstance(state, str) and state in BUSY_STATES:
            return BUSY_STATES[state]
    for cause in _causes(error):
        # Only database errors are read for words: an error of ours may quote anything.
        if not _is_database_error(cause):
            continue
        text = str(cause).lower()
        for words, reason in BUSY_WORDS:
            if words in text:
                return reason
    return None


def _is_database_error(error: BaseException) -> bool:
    if isinstance(error, sqlite3.Error):
        return True
    module = type(error).__module__
    return module.startswith(("eventsourcing", "psycopg", "sqlalchemy"))


@dataclass(frozen=True)
class Patience:
    """A writer's deadline and how it waits between tries (exponential backoff with jitter)."""

    seconds: float = DEFAULT_WRITE_DEADLINE
    monotonic: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    jitter: Callable[[float, float], float] = field(
        default_factory=lambda: random.Random().uniform)
    first_pause: float = 0.05
    longest_pause: float = 2.0

    @property
    def lock_seconds(self) -> int:
        """Whole seconds a single wait for a database lock may take: the deadline, at least 1
        (a lock timeout of 0 means 'wait forever' to PostgreSQL)."""
        return max(1, math.ceil(self.seconds))

    def run(self, attempt: Callable[[], T], doing: str) -> T:
        """Do `attempt` until it succeeds; while the store is busy, wait and try again until the
        deadline; an error of another kind is raised at once."""
        started = self.monotonic()
        ceiling = self.first_pause
        tries = 0
        while True:
            tries += 1
            try:
                return attempt()
            except Exception as exc:
                reason = busy_reason(exc)
                if reason is None:
                    raise
                # Jitter spreads writers that collided, so they do not collide again in step.
                pause = self.jitter(ceiling / 2, ceiling)
                waited = self.monotonic() - started
                if waited + pause > self.seconds:
                    counted = "1 try" if tries == 1 else f"{tries} tries"
                    raise StoreBusy(
                        f"could not {doing} within the write deadline of {self.seconds:g} s: "
                        f"other writers kept the store busy ({counted}, the last one met "
                        f"{reason}); nothing was written. Try again later, or allow more time "
                        f"({ENV_WRITE_DEADLINE}, --write-deadline, write_deadline=)") from exc
                self.sleep(pause)
                ceiling = min(self.longest_pause, ceiling * 2)
