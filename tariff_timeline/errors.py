"""Errors to exit codes, in one place."""

from __future__ import annotations

from tariff_timeline.domain.errors import (
    EmptyStore,
    ImportRejected,
    InvalidInput,
    LifecycleError,
    StoreBusy,
    StoreError,
    TamperDetected,
    TariffError,
)

EXIT_CODES: tuple[tuple[type[TariffError], int], ...] = (
    (InvalidInput, 2),
    (ImportRejected, 3),
    (LifecycleError, 3),
    # Before StoreError, its base: a busy store was reached, it only stayed busy too long.
    (StoreBusy, 6),
    (StoreError, 4),
    (TamperDetected, 5),
    (EmptyStore, 7),
    (TariffError, 1),
)


def exit_code(error: TariffError) -> int:
    """The process exit code for an error (0 is success, 1 an unexpected failure)."""
    for kind, code in EXIT_CODES:
        if isinstance(error, kind):
            return code
    return 1
