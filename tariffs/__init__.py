"""Tariff Timeline: where the timeline lives and how people reach it (store, import, CLI, API)."""

from __future__ import annotations

from tariffs.service import ImportReport, TariffTimeline

__all__ = ["ImportReport", "TariffTimeline"]
