"""Errors as problem details (RFC 9457, application/problem+json): the status and type come
from the one table in tariff_timeline/errors.py; a field the service names is shown as the
query parameter (or body member) that gives it."""

from __future__ import annotations

from typing import Any, cast

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException

from tariff_timeline.domain.errors import ImportRejected, InvalidInput, TariffError
from tariff_timeline.errors import Unauthenticated, http_status

PROBLEM = "application/problem+json"
TYPE_BASE = "urn:tariff-timeline:problem:"

PARAMS: dict[str, str] = {
    "origins": "origin", "facts": "fact", "start": "from", "end": "to",
    "replacement": "replacement", "event_id": "event_id", "file": "body",
    "words": "q",
}
"""The query parameter (or body member) that gives each field of the service's questions;
a field not listed is named as it is."""


class InvalidParam(BaseModel):
    """A parameter at fault and why."""

    name: str
    reason: str


class Problem(BaseModel):
    """An error as problem details (RFC 9457)."""

    model_config = ConfigDict(populate_by_name=True)

    type: str = Field(examples=[TYPE_BASE + "invalid-input"])
    title: str
    status: int
    detail: str
    invalid_params: list[InvalidParam] = Field(default_factory=list, alias="invalid-params")
    problems: list[str] = Field(default_factory=list,
                                description="Every problem an import was refused for.")


def param_of(field: str | None) -> str | None:
    """The query parameter that gives a field the service names."""
    return None if field is None else PARAMS.get(field, field)


def problem_response(status: int, name: str, detail: str,
                     invalid: list[InvalidParam] | None = None, problems: list[str] | None = None,
                     headers: dict[str, str] | None = None) -> JSONResponse:
    """A problem details response."""
    body = Problem(type=TYPE_BASE + name, title=name.replace("-", " "), status=status,
                   detail=detail, invalid_params=invalid or [], problems=problems or [])
    return JSONResponse(body.model_dump(mode="json", by_alias=True), status_code=status,
                        media_type=PROBLEM, headers=headers)


def of_error(error: TariffError) -> JSONResponse:
    """One of our errors as a problem details response, its status from the one table."""
    status, name = http_status(error)
    invalid: list[InvalidParam] = []
    detail = str(error)
    if isinstance(error, InvalidInput):
        param = param_of(error.field)
        detail = f"{param}: {error.message}" if param else error.message
        if param is not None:
            invalid.append(InvalidParam(name=param, reason=error.message))
    problems = error.problems if isinstance(error, ImportRejected) else None
    headers = {"WWW-Authenticate": "Bearer"} if isinstance(error, Unauthenticated) else None
    return problem_response(status, name, detail, invalid, problems, headers)


async def on_tariff_error(request: Request, exc: Exception) -> JSONResponse:
    """Our errors, as problems."""
    return of_error(cast(TariffError, exc))  # registered for TariffError only


async def on_validation_error(request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's own validation errors (a missing or mistyped parameter), as the same
    invalid-input problem our errors give."""
    invalid = []
    for error in cast(RequestValidationError, exc).errors():  # registered for it only
        location: tuple[Any, ...] = tuple(error.get("loc", ()))
        name = ".".join(str(part) for part in location[1:]) or str(location[0] if location
                                                                     else "request")
        invalid.append(InvalidParam(name=name, reason=str(error.get("msg", "invalid"))))
    detail = "; ".join(f"{p.name}: {p.reason}" for p in invalid) or "invalid request"
    return problem_response(400, "invalid-input", detail, invalid)


async def on_http_error(request: Request, exc: Exception) -> JSONResponse:
    """Starlette's errors (no such path, method not allowed), as problems."""
    exc = cast(HTTPException, exc)  # registered for HTTPException only
    name = {404: "not-found", 405: "method-not-allowed"}.get(exc.status_code, "http-error")
    return problem_response(exc.status_code, name, str(exc.detail),
                            headers=dict(exc.headers or {}))
