"""A writer waits its turn: what counts as a busy store, how long it waits between tries, when
it gives up, and which exit code says so."""

from __future__ import annotations

import sqlite3

import pytest
from eventsourcing.persistence import IntegrityError, OperationalError

from tariff_timeline.domain.errors import (
    ConflictingWrite,
    EmptyStore,
    ImportRejected,
    InvalidInput,
    StoreBusy,
    StoreError,
)
from tariff_timeline.errors import exit_code, http_status
from tariff_timeline.readmodel.tables import RowsMoved
from tariff_timeline.store import Patience, busy_reason, write_deadline_seconds


class FakeTimer:
    """A monotonic clock that moves only when the writer sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.pauses: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.pauses.append(seconds)
        self.now += seconds


def patience(timer: FakeTimer, seconds: float = 60.0) -> Patience:
    # The longest jitter: each pause is its ceiling, so the figures are exact.
    return Patience(seconds, timer.monotonic, timer.sleep, lambda low, high: high)


class Busy:
    """An attempt that meets `times` busy errors, then succeeds."""

    def __init__(self, times: int, error: Exception) -> None:
        self.left = times
        self.error = error
        self.tries = 0

    def __call__(self) -> str:
        self.tries += 1
        if self.left:
            self.left -= 1
            raise self.error
        return "written"


def wrapped(error: Exception, outer: type[Exception] = OperationalError) -> Exception:
    """The error as eventsourcing raises it: its own class, the driver's error as the cause."""
    try:
        raise outer(str(error)) from error
    except Exception as exc:
        return exc


class FakePsycopgError(Exception):
    """A driver error carrying a SQLSTATE, as psycopg's do."""

    def __init__(self, message: str, sqlstate: str) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


class TestWhatCountsAsBusy:
    @pytest.mark.parametrize("error", [
        ConflictingWrite("the timeline moved from version 3 to 5 meanwhile"),
        wrapped(sqlite3.OperationalError("database is locked")),
        sqlite3.OperationalError("database is locked"),
        wrapped(FakePsycopgError("could not serialize access", "40001")),
        wrapped(FakePsycopgError("deadlock detected", "40P01")),
        wrapped(FakePsycopgError("canceling statement due to lock timeout", "55P03")),
        wrapped(FakePsycopgError("tuple concurrently updated", "XX000")),
        wrapped(FakePsycopgError('duplicate key value violates unique constraint '
                                 '"pg_namespace_nspname_index"', "23505"), IntegrityError),
    ])
    def test_another_writer_at_work_is_worth_waiting_for(self, error: Exception) -> None:
        assert busy_reason(error) is not None

    @pytest.mark.parametrize("error", [
        ImportRejected(["data.yaml:3: event 'x', field 'measure': no measure 'ghost'"]),
        StoreError("cannot connect to db.example:5432: connection refused"),
        wrapped(sqlite3.OperationalError("unable to open database file")),
        wrapped(FakePsycopgError("relation does not exist", "42P01")),
        InvalidInput("the database is locked, says this message of ours"),
        ValueError("database is locked"),
    ])
    def test_anything_else_is_not(self, error: Exception) -> None:
        assert busy_reason(error) is None


class TestWaitingItsTurn:
    def test_a_writer_that_meets_other_writers_tries_again_until_it_lands(self) -> None:
        timer = FakeTimer()
        attempt = Busy(3, ConflictingWrite("moved"))
        assert patience(timer).run(attempt, "record the import") == "written"
        assert attempt.tries == 4
        # backoff: each pause doubles, from 50 ms
        assert timer.pauses == [0.05, 0.1, 0.2]

    def test_pauses_are_jittered_between_half_and_all_of_their_ceiling(self) -> None:
        timer = FakeTimer()
        drawn: list[tuple[float, float]] = []

        def jitter(low: float, high: float) -> float:
            drawn.append((low, high))
            return low

        waiting = Patience(60, timer.monotonic, timer.sleep, jitter)
        waiting.run(Busy(2, ConflictingWrite("moved")), "record the import")
        assert drawn == [(0.025, 0.05), (0.05, 0.1)] and timer.pauses == [0.025, 0.05]

    def test_the_pause_between_tries_stops_growing_at_two_seconds(self) -> None:
        timer = FakeTimer()
        patience(timer).run(Busy(9, ConflictingWrite("moved")), "record the import")
        assert max(timer.pauses) == 2.0 and timer.pauses[-3:] == [2.0, 2.0, 2.0]

    def test_a_writer_gives_up_at_its_deadline_with_its_own_error(self) -> None:
        timer = FakeTimer()
        attempt = Busy(10_000, wrapped(sqlite3.OperationalError("database is locked")))
        with pytest.raises(StoreBusy) as caught:
            patience(timer, seconds=10).run(attempt, "record the import")
        assert timer.now <= 10 and attempt.tries == len(timer.pauses) + 1
        message = str(caught.value)
        assert message.startswith("could not record the import within the write deadline "
                                  "of 10 s: other writers kept the store busy")
        assert "the database was locked by another writer" in message
        assert "nothing was written" in message and "TARIFFS_WRITE_DEADLINE" in message

    def test_a_deadline_of_zero_tries_once(self) -> None:
        timer = FakeTimer()
        attempt = Busy(1, ConflictingWrite("moved"))
        with pytest.raises(StoreBusy):
            patience(timer, seconds=0).run(attempt, "record the import")
        assert attempt.tries == 1 and timer.pauses == []

    def test_an_error_that_is_not_busy_is_raised_at_once(self) -> None:
        timer = FakeTimer()
        attempt = Busy(1, ImportRejected(["content differs"]))
        with pytest.raises(ImportRejected):
            patience(timer).run(attempt, "record the import")
        assert attempt.tries == 1 and timer.pauses == []


class TestTheDeadline:
    def test_it_is_a_minute_unless_told(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.delenv("TARIFFS_WRITE_DEADLINE", raising=False)
        assert write_deadline_seconds() == 60

    def test_the_environment_sets_it_and_a_parameter_overrides_it(
            self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("TARIFFS_WRITE_DEADLINE", "12.5")
        assert write_deadline_seconds() == 12.5
        assert write_deadline_seconds(3) == 3

    @pytest.mark.parametrize("raw", ["soon", "-1", "nan", "inf"])
    def test_a_deadline_that_is_not_seconds_is_invalid_input(
            self, raw: str, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("TARIFFS_WRITE_DEADLINE", raw)
        with pytest.raises(InvalidInput) as caught:
            write_deadline_seconds()
        assert caught.value.field == "write_deadline"


def test_a_busy_store_and_an_empty_store_have_exit_codes_of_their_own() -> None:
    codes = {exit_code(StoreBusy("busy")), exit_code(StoreError("unreachable")),
             exit_code(EmptyStore("empty")), exit_code(InvalidInput("bad")),
             exit_code(ImportRejected(["refused"]))}
    assert (exit_code(StoreBusy("busy")), exit_code(EmptyStore("empty"))) == (6, 7)
    assert len(codes) == 5


def test_a_question_the_read_model_changed_under_is_told_to_ask_again() -> None:
    moved = RowsMoved("made again")
    assert (exit_code(moved), http_status(moved)) == (4, (409, "conflicting-write"))
