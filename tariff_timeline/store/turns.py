"""The writer's turn: one writer at a time checks an import against the log and appends it.

Writers first check optimistically, all at once, and take the turn only to append. One that
then finds the log moved waits for its turn and checks again within it: since every append
takes the turn, nobody overtakes it a second time, so each writer checks at most about twice
instead of once for every writer that landed before it. On PostgreSQL the turn is an
advisory lock for the schema; on SQLite an exclusive lock (flock) on a file beside the
database, `<file>.writer-lock`; an in-memory store has one writer only.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tariff_timeline.domain.errors import StoreError
from tariff_timeline.store.opening import connect, lock_key
from tariff_timeline.store.patience import TurnTimeout
from tariff_timeline.store.urls import StoreUrl

try:
    import fcntl
except ImportError:  # pragma: no cover - not on Windows: there writers only retry
    fcntl = None  # type: ignore[assignment]

POLL = 0.01
"""Seconds between two looks at a SQLite writer lock held by another process."""


class WriterTurn:
    """The turn of one store's writers; `hold` is reentrant within one process."""

    def __init__(self, target: StoreUrl) -> None:
        self.target = target
        self._depth = 0
        self._held: Any = None

    @contextmanager
    def hold(self, seconds: float) -> Iterator[None]:
        """Wait up to `seconds` for the turn and keep it inside the block; if another writer
        keeps it longer, raise TurnTimeout (a busy store)."""
        if self._depth == 0:
            self._held = self._acquire(max(0.0, seconds))
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1
            if self._depth == 0:
                held, self._held = self._held, None
                self._release(held)

    def _acquire(self, seconds: float) -> Any:
        if self.target.backend == "postgresql":
            return self._acquire_advisory(seconds)
        if self.target.in_memory or fcntl is None:
            return None
        return self._acquire_file(seconds)

    def _acquire_advisory(self, seconds: float) -> Any:
        from psycopg import sql
        from psycopg.errors import LockNotAvailable

        conn = connect(self.target)
        key = lock_key("writer", self.target.schema)
        try:
            if seconds < 0.001:  # a lock_timeout of 0 would mean 'wait forever'
                row = conn.execute("SELECT pg_try_advisory_lock(hashtext(%s))", (key,))
                if not (row.fetchone() or (False,))[0]:
                    raise TurnTimeout(f"another writer has the turn at {self.target.shown}")
                return conn
            conn.execute(sql.SQL("SET lock_timeout = {}").format(
                sql.Literal(f"{max(1, int(seconds * 1000))}ms")))
            # A session lock: released when the connection closes, even if this process dies.
            conn.execute("SELECT pg_advisory_lock(hashtext(%s))", (key,))
        except LockNotAvailable as exc:
            conn.close()
            raise TurnTimeout(f"another writer has the turn at {self.target.shown}") from exc
        except BaseException:
            conn.close()
            raise
        return conn

    def _acquire_file(self, seconds: float) -> int:
        path = f"{self.target.path}.writer-lock"
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise StoreError(f"cannot open the writers' lock file {path}: {exc}") from exc
        ends = time.monotonic() + seconds
        while True:
            try:
                # Released by the operating system when the process ends, even if killed.
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return fd
            except BlockingIOError:
                if time.monotonic() >= ends:
                    os.close(fd)
                    raise TurnTimeout(f"another writer has the turn at {path}") from None
                time.sleep(POLL)
            except BaseException:
                os.close(fd)
                raise

    def _release(self, held: Any) -> None:
        if held is None:
            return
        if isinstance(held, int):
            os.close(held)  # closing the file releases its flock
        else:
            held.close()  # closing the session releases its advisory lock
