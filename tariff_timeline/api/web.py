"""The web timeline page: one HTML page, its script and style, and the charting library it
ships (uPlot, vendored by scripts/vendor_chart.sh), all served from the package by the API's
own app. The page draws what /v1/series, /v1/explain and /v1/diff answer; it fetches nothing
from anywhere else.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import pycountry
from fastapi import FastAPI
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).resolve().parent / "static"
"""The page, its assets and the vendored charting library (package data)."""
PAGE = STATIC / "timeline.html"


@cache
def origins() -> tuple[dict[str, str], ...]:
    """Every origin a question can name (ISO 3166 alpha-2), with its common name, by name."""
    countries: list[Any] = list(pycountry.countries)
    named = ({"code": str(c.alpha_2),
              "name": str(getattr(c, "common_name", None) or c.name)} for c in countries)
    return tuple(sorted(named, key=lambda c: c["name"]))


def add_web_page(app: FastAPI) -> None:
    """Serve the timeline page at /timeline (and / leads to it), its assets under /static/,
    and the origins it offers at /timeline/origins.json; none of it is in the OpenAPI
    document, which describes the API."""

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("timeline", status_code=307)

    @app.get("/timeline", include_in_schema=False)
    def timeline_page() -> FileResponse:
        return FileResponse(PAGE, media_type="text/html; charset=utf-8",
                            headers={"Cache-Control": "no-cache"})

    @app.get("/timeline/origins.json", include_in_schema=False)
    def origin_list() -> JSONResponse:
        return JSONResponse(list(origins()), headers={"Cache-Control": "max-age=86400"})

    app.mount("/static", StaticFiles(directory=STATIC), name="static")


__all__ = ["PAGE", "STATIC", "add_web_page", "origins"]
