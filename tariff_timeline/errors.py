"""Errors to exit codes and HTTP statuses, in one place."""

from __future__ import annotations

from tariff_timeline.domain.errors import (
    ConflictingWrite,
    EmptyStore,
    ImportRejected,
    InvalidInput,
    LifecycleError,
    StoreBusy,
    StoreError,
    TamperDetected,
    TariffError,
)


class Unauthenticated(TariffError):
    """A write was asked without the bearer token the server was given (or with another)."""


class WritesDisabled(TariffError):
    """A write was asked of a server that takes none (no token was configured)."""


class TooLarge(TariffError):
    """A request body holds more than the server takes at once (rows or bytes)."""


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

HTTP_STATUSES: tuple[tuple[type[TariffError], int, str], ...] = (
    # The caller's parameters or body are malformed: fix the request (names the parameter).
    (InvalidInput, 400, "invalid-input"),
    (Unauthenticated, 401, "unauthenticated"),
    (WritesDisabled, 403, "writes-disabled"),
    (TooLarge, 413, "too-large"),
    # Well-formed, but the events break the import's checks or a lifecycle rule.
    (ImportRejected, 422, "import-rejected"),
    (LifecycleError, 422, "lifecycle-rule-broken"),
    # Another writer appended first: the same request may succeed when retried.
    (ConflictingWrite, 409, "conflicting-write"),
    # The database cannot be reached: the server is there, its store is not (retry later).
    (StoreError, 503, "store-unavailable"),
    # The stored log was changed outside the application. Not the caller's fault and not
    # transient: a server error that must page someone, and nothing is answered from it.
    (TamperDetected, 500, "tamper-detected"),
    (TariffError, 500, "internal-error"),
)
"""Each error kind's HTTP status and problem type (the first match, in this order, wins)."""


def exit_code(error: TariffError) -> int:
    """The process exit code for an error (0 is success, 1 an unexpected failure)."""
    for kind, code in EXIT_CODES:
        if isinstance(error, kind):
            return code
    return 1


def http_status(error: TariffError) -> tuple[int, str]:
    """The HTTP status and problem type name of an error."""
    for kind, status, name in HTTP_STATUSES:
        if isinstance(error, kind):
            return status, name
    return 500, "internal-error"
