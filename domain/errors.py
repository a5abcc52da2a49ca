"""One hierarchy for everything that can go wrong in Tariff Timeline."""

from __future__ import annotations


class TariffError(Exception):
    """Base of every error this project raises on purpose."""


class InvalidInput(TariffError):
    """A value given by a caller is malformed; `field` names the parameter at fault (`entered`,
    `mfn`, ...), which each interface shows as its own flag or query parameter."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
        self.message = message


class LifecycleError(TariffError):
    """An event breaks a measure's lifecycle (pausing a revoked measure, ...)."""

    def __init__(self, event_id: str, field: str, message: str) -> None:
        super().__init__(f"event {event_id!r}, field {field!r}: {message}")
        self.event_id = event_id
        self.field = field
        self.message = message


class UnknownReference(LifecycleError):
    """An event refers to a measure, exemption, quota, deal, rule or event that does not exist."""


class ImportRejected(TariffError):
    """An import was refused as a whole; nothing was written. Lists every problem found."""

    def __init__(self, problems: list[str]) -> None:
        shown = "\n".join(f"  - {p}" for p in problems[:50])
        more = f"\n  ... and {len(problems) - 50} more" if len(problems) > 50 else ""
        super().__init__(f"import rejected, nothing was written ({len(problems)} problem(s)):\n"
                         f"{shown}{more}")
        self.problems = problems


class StoreError(TariffError):
    """The event store could not be reached or configured."""


class ConflictingWrite(StoreError):
    """Another writer appended to the timeline at the same time; retry."""

    reason = "another writer appended first"
    """What the other writer did, as a writer that waits and retries reports it."""


class StoreBusy(StoreError):
    """Other writers kept the store busy until this writer's deadline passed: it waited its
    turn, checked again and retried, and in the end wrote nothing."""


class EmptyStore(TariffError):
    """The store holds no events, so it has nothing to answer a question from (an empty
    timeline would say 0% for everything, a wrong answer that looks right)."""


class TamperDetected(TariffError):
    """The stored log was changed outside the application: its hash chain is broken."""

    def __init__(self, message: str, notification_id: int | None,
                 position: int | None) -> None:
        super().__init__(message)
        self.notification_id = notification_id
        self.position = position
