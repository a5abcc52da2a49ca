"""Tariff Timeline: an event-sourced, bitemporal store of US tariff policy.

The pure layers (``tariff_timeline.events``, ``.domain``, ``.projections``) import nothing of
persistence; ``TariffTimeline``, the facade over the store, is imported on first use so that
importing a pure layer never loads SQLAlchemy or eventsourcing's persistence.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tariff_timeline.importing import ImportReport
    from tariff_timeline.service import QueryPath, TariffTimeline

__all__ = ["ImportReport", "QueryPath", "TariffTimeline"]


def __getattr__(name: str) -> Any:
    """The facade's names, imported when first asked for."""
    if name in ("TariffTimeline", "QueryPath"):
        from tariff_timeline import service

        return getattr(service, name)
    if name == "ImportReport":
        from tariff_timeline.importing import ImportReport

        return ImportReport
    raise AttributeError(f"module 'tariff_timeline' has no attribute {name!r}")
