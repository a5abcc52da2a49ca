"""Work that builds many objects at once: an import, a catch-up, a whole-schedule answer."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

SWEEP_EVERY = 16
"""How many large bulk works end between two full collections (see `paused_collector`)."""

SWEEP_GROWTH = 1.5
"""How much the frozen objects may grow, as a multiple of their count after the last full
collection, before the next one: what is frozen is mostly the caches, which are bounded, so
growth beyond them is garbage cycles waiting (CPython's own oldest generation waits for a
quarter more)."""

LARGE = 50_000
"""Objects left to the collector's youngest generation from which bulk work counts as large:
a collection walks them in about 10 ms. A question that finds nothing new to catch up on
leaves far fewer, and is not made to wait for a sweep."""


class _Sweeps:
    """Counts the large bulk works that ended since the last full collection, and the objects
    frozen right after it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.ended = 0
        self.swept: int | None = None  # None: no large work ended yet
        self.started = False  # whether what starting up left alive was frozen

    def settle(self) -> None:
        """Freeze what the bulk work left alive; collect fully every `SWEEP_EVERY` ends, or
        once the frozen objects grew `SWEEP_GROWTH` times."""
        gc.freeze()
        frozen = gc.get_freeze_count()
        with self.lock:
            self.ended += 1
            if self.swept is None:
                self.swept = frozen  # the first freeze sets the measure, as a sweep would
            sweep = self.ended >= SWEEP_EVERY or frozen > SWEEP_GROWTH * self.swept
            if sweep:
                self.ended = 0
        if sweep:
            gc.unfreeze()
            gc.collect()
            gc.freeze()
            with self.lock:
                self.swept = gc.get_freeze_count()


_SWEEPS = _Sweeps()


def freeze_start_up() -> None:
    """Freeze what starting the process left alive, once a process (the first store it
    opens calls this): modules, schemas, engines, which live as long as the process. Left to
    the collector, the first full collection walked them all, charged to whichever question
    made it (about 0.1 s, in a first round of 200 questions at 100k events). Garbage cycles
    among them wait for the next sweep (see `paused_collector`)."""
    with _SWEEPS.lock:
        if _SWEEPS.started:
            return
        _SWEEPS.started = True
    gc.freeze()


@contextmanager
def paused_collector() -> Iterator[None]:
    """Pause the cyclic garbage collector while bulk work builds its (acyclic) objects.

    Such work allocates millions of objects that live until it ends; the collector would walk
    all of them, and every object a large store's caches hold, again and again as they
    accumulate (40% of a 100k-event import, 35-40% of a whole diff at 1M events). Reference
    counting still frees everything; the collector is restored afterwards, even on error.

    What large work left alive (mostly decoded rows in the caches) is then frozen: the first
    collection after it would otherwise walk all of it (0.8-2 s after a whole diff at 1M
    events, charged to the diff). Frozen objects are still freed when their last reference
    goes; only garbage cycles wait, until every `SWEEP_EVERY`-th large work, or one after
    which the frozen objects grew `SWEEP_GROWTH` times, collects them all.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            if gc.get_count()[0] >= LARGE:
                _SWEEPS.settle()
            gc.enable()
