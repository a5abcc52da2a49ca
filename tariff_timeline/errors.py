"""Errors to exit codes, in one place."""

from __future__ import annotations

from tariff_timeline.domain.errors import (
    ImportRejected,
    InvalidInput,
    LifecycleError,
    StoreError,
    TamperDetected,
    TariffError,
)

EXIT_CODES: tuple[tuple[type[TariffError], int], ...] = (
    (InvalidInput, 2),
    (ImportRejected, 3),
    (LifecycleError, 3),
    (StoreError, 4),
    (TamperDetected, 5),
    (TariffError, 1),
)


def exit_code(error: TariffError) -> int:
    """The process exit code for an error (0 is success, 1 an unexpected failure)."""
    for kind, code in EXIT_CODES:
        if isinstance(error, kind):
            return code
    return 1
