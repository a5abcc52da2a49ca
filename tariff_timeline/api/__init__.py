"""The HTTP API: read endpoints under /v1 for every question the command line answers, batch
rate answers, and writes behind a bearer token (``app``: the app factory; ``models``: the
envelopes around the answer models; ``problems``: errors as RFC 9457 problem details;
``settings``: what a server is configured with)."""

from __future__ import annotations

from tariff_timeline.api.app import create_app, create_app_from_env
from tariff_timeline.api.settings import ApiSettings

__all__ = ["ApiSettings", "create_app", "create_app_from_env"]
