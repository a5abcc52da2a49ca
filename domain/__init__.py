"""The rules of tariff policy: lifecycle fold, scopes, rates, stacking and errors."""

from __future__ import annotations

from tariff_timeline.domain.errors import (
    ConflictingWrite,
    EmptyStore,
    ImportRejected,
    InvalidInput,
    LifecycleError,
    StoreBusy,
    StoreError,
    TariffError,
    UnknownReference,
)
from tariff_timeline.domain.timeline import (
    ENDED,
    MeasureState,
    Paint,
    Timeline,
    evolve,
    fold,
    paint_at,
)

__all__ = [
    "ENDED",
    "ConflictingWrite",
    "EmptyStore",
    "ImportRejected",
    "InvalidInput",
    "LifecycleError",
    "MeasureState",
    "Paint",
    "StoreBusy",
    "StoreError",
    "TariffError",
    "Timeline",
    "UnknownReference",
    "evolve",
    "fold",
    "paint_at",
]
