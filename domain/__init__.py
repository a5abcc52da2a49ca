"""The rules of tariff policy: lifecycle fold, scopes, rates, stacking and errors."""

from __future__ import annotations

from tariff_timeline.domain.errors import (
    ConflictingWrite,
    ImportRejected,
    InvalidInput,
    LifecycleError,
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
    "ImportRejected",
    "InvalidInput",
    "LifecycleError",
    "MeasureState",
    "Paint",
    "StoreError",
    "TariffError",
    "Timeline",
    "UnknownReference",
    "evolve",
    "fold",
    "paint_at",
]
