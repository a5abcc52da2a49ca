"""The app factory: every question the command line answers, under /v1, as JSON; batch rate
answers streamed as JSON Lines or CSV; writes behind a bearer token; problem details for
every error; one JSON log line per request; the web timeline page at /timeline.

Each worker process holds one TariffTimeline and asks it one question at a time (a lock): the
store's row caches are not shared between threads, and concurrency comes from workers (on
PostgreSQL). Answers carry a weak ETag over the store's recorded head and the query.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import logging
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from threading import Lock
from typing import Annotated, Any, TypeVar

from fastapi import Body, Depends, FastAPI, Query, Request, Response
from fastapi import Path as PathParam
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import TypeAdapter, ValidationError
from starlette.exceptions import HTTPException

from tariff_timeline import batch
from tariff_timeline.api.models import (
    BatchQuestion,
    ChainHealth,
    CorrectionResult,
    CorrectRequest,
    HeadOut,
    Health,
    HtsDiffPage,
    HtsSearchPage,
    ImportResult,
    Page,
    ReadModelHealth,
    SeriesSet,
)
from tariff_timeline.api.problems import (
    PROBLEM,
    Problem,
    of_error,
    on_http_error,
    on_tariff_error,
    on_validation_error,
    problem_response,
)
from tariff_timeline.api.settings import ApiSettings
from tariff_timeline.api.web import add_web_page
from tariff_timeline.domain.errors import InvalidInput, TamperDetected, TariffError
from tariff_timeline.domain.questions import diff_times, fact_pairs
from tariff_timeline.errors import TooLarge, Unauthenticated, WritesDisabled
from tariff_timeline.events import AnyEvent, PolicyEvent
from tariff_timeline.projections.answers import (
    CoverageRow,
    LogEntry,
    RateAnswer,
    Schedule,
    SourceRow,
)
from tariff_timeline.projections.diff import Diff
from tariff_timeline.projections.history import HistoryRow
from tariff_timeline.projections.hts import HtsLineAnswer
from tariff_timeline.service import Head, TariffTimeline

T = TypeVar("T")

ACCESS_LOG = logging.getLogger("tariff_timeline.api.access")
"""One JSON line per request: method, path, status, duration in ms (never a header)."""
MAX_BODY = 64 * 1024 * 1024
"""The largest request body taken (a batch of 100,000 rows is a few MB)."""
BATCH_CHUNK = 200
"""Answer rows sent together in one write of a batch's streamed response."""
HEAD_EVENTS, HEAD_LINK = "X-Tariffs-Head-Events", "X-Tariffs-Head-Link"

_PROBLEM_CONTENT = {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}}
READ_RESPONSES: dict[int | str, dict[str, Any]] = {
    304: {"description": "Not modified: the store's head and the query are those of the "
                         "If-None-Match ETag."},
    400: {"description": "Invalid input: `invalid-params` names the parameter at fault.",
          "content": _PROBLEM_CONTENT},
    "4XX": {"description": "Another client error, as problem details.",
            "content": _PROBLEM_CONTENT},
    500: {"description": "The stored log was changed outside the application "
                         "(tamper-detected), or an internal error.", "content": _PROBLEM_CONTENT},
    503: {"description": "The store cannot be reached.", "content": _PROBLEM_CONTENT},
}
WRITE_RESPONSES: dict[int | str, dict[str, Any]] = {
    **{k: v for k, v in READ_RESPONSES.items() if k != 304},
    401: {"description": "A token is configured and the request did not give it.",
          "content": _PROBLEM_CONTENT},
    403: {"description": "Writes are off: the server was started without a token.",
          "content": _PROBLEM_CONTENT},
    409: {"description": "Another writer appended first; retry.", "content": _PROBLEM_CONTENT},
    422: {"description": "The events were refused (import checks or a lifecycle rule); "
                         "nothing was written.", "content": _PROBLEM_CONTENT},
}


def _example(name: str, value: object) -> dict[str, dict[str, Any]]:
    return {name: {"value": value}}


Origin = Annotated[str, Query(description="Country of origin, ISO 3166 alpha-2 (JP).",
                              openapi_examples=_example("Japan", "JP"))]
Hts = Annotated[str, Query(description="HTS code, 2 to 10 digits, dots optional.",
                           openapi_examples=_example("passenger car", "8703.23.01"))]
Entered = Annotated[str, Query(
    description="When the goods were entered: an ISO date (goods entered that day after the "
                "12:01 a.m. US Eastern switch) or a datetime with offset.",
    openapi_examples=_example("1 May 2025", "2025-05-01"))]
Known = Annotated[str | None, Query(
    description="As known at (default now): a date means up to the end of that day.",
    openapi_examples=_example("before the pause", "2025-04-08"))]
Recorded = Annotated[str | None, Query(
    description="As recorded by the store at (default now).",
    openapi_examples=_example("now", "2026-07-01"))]
Mfn = Annotated[float | None, Query(ge=0, le=1000, allow_inf_nan=False,
                                    description="MFN (column 1) rate in percent.",
                                    openapi_examples=_example("2.5%", 2.5))]
Facts = Annotated[list[str] | None, Query(
    description="A fact about the goods, KEY=VALUE (repeatable).",
    openapi_examples=_example("USMCA qualifying", ["usmca_qualifying=true"]))]
Limit = Annotated[int, Query(ge=1, le=1000, description="Items per page.",
                             openapi_examples=_example("ten", 10))]
Offset = Annotated[int, Query(ge=0, le=10**9, description="Items to skip.",
                              openapi_examples=_example("first page", 0))]

BEARER = HTTPBearer(auto_error=False, description="The token the server was started with "
                                                  "(TARIFFS_API_TOKEN or --token-file).")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)]


@dataclass
class Server:
    """What one worker serves from: its timeline, the lock its questions take, its settings."""

    timeline: TariffTimeline
    settings: ApiSettings
    lock: Lock = field(default_factory=Lock)

    def ask(self, question: Callable[[], T]) -> T:
        """Ask the store one thing at a time."""
        with self.lock:
            return question()


def etag_of(head: Head, request: Request) -> str:
    """A weak ETag over the store's head and the query: the same question of the same log
    gets the same answer (defaults of `known` and `recorded` are 'now', so the body's clocks
    move on; what they answer does not while the log stays the same)."""
    query = sorted(request.query_params.multi_items())
    digest = hashlib.sha256(json.dumps(
        [head.events, head.link, request.url.path, query]).encode()).hexdigest()[:32]
    return f'W/"{digest}"'


def _matches(tag: str, header: str | None) -> bool:
    if header is None:
        return False
    given = [t.strip() for t in header.split(",")]
    return "*" in given or tag in given or tag.removeprefix("W/") in given


def _mfn(value: float | None) -> str | None:
    # The text of the number, so that 2.5 stays 2.5 and not a binary float.
    return None if value is None else str(value)


def create_app(settings: ApiSettings | None = None,
               timeline: TariffTimeline | None = None) -> FastAPI:
    """The HTTP API over a timeline (given, or opened at the settings' store URL, TARIFFS_DB
    or the embedded default, and then closed when the app shuts down)."""
    chosen = settings or ApiSettings()
    owned = timeline is None
    server = Server(timeline or TariffTimeline.open(chosen.db), chosen)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        if owned:
            server.timeline.close()

    app = FastAPI(
        title="Tariff Timeline", version="1",
        description="What US tariff applied to which goods from where, on which date, as "
                    "known when, and why: every answer names its three clocks (effective, "
                    "known, recorded) and the store's recorded head.",
        lifespan=lifespan,
    )
    app.add_exception_handler(TariffError, on_tariff_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(HTTPException, on_http_error)
    app.add_exception_handler(Exception, _on_unexpected)
    app.middleware("http")(_log_request)
    if chosen.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=list(chosen.cors_origins),
                           allow_methods=["GET", "POST"],
                           allow_headers=["Authorization", "Content-Type", "If-None-Match"],
                           expose_headers=["ETag", HEAD_EVENTS, HEAD_LINK, "Server-Timing"])
    _routes(app, server)
    add_web_page(app)
    _document_problems(app)
    return app


def create_app_from_env() -> FastAPI:
    """The app as `tariffs serve` starts it in each worker: settings from the environment,
    request logs as JSON lines on standard error."""
    if not ACCESS_LOG.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        ACCESS_LOG.addHandler(handler)
        ACCESS_LOG.setLevel(logging.INFO)
        ACCESS_LOG.propagate = False
    return create_app(ApiSettings.from_env())


async def _log_request(request: Request,
                       call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    started = time.perf_counter()
    status = 500
    try:
        response = await call_next(request)
        status = response.status_code
        # The server's own time, for clients and benchmarks (a streamed body: until its start).
        response.headers["Server-Timing"] = (
            f"app;dur={(time.perf_counter() - started) * 1000:.3f}")
        return response
    finally:
        # The path only: never a query's value, a header, or the Authorization token.
        ACCESS_LOG.info(json.dumps({
            "method": request.method, "path": request.url.path, "status": status,
            "duration_ms": round((time.perf_counter() - started) * 1000, 3)}))


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    logging.getLogger("tariff_timeline.api").exception("unexpected error", exc_info=exc)
    return problem_response(500, "internal-error", "an unexpected error; see the server log")


def _document_problems(app: FastAPI) -> None:
    schema_of = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = schema_of()
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            components["Problem"] = Problem.model_json_schema(by_alias=True,
                                                              mode="serialization")
            components["Problem"].pop("$defs", None)
            components["InvalidParam"] = Problem.model_json_schema()["$defs"]["InvalidParam"]
            components["BatchQuestion"] = BatchQuestion.model_json_schema()
            problem = components["Problem"]
            for prop in problem.get("properties", {}).values():
                items = prop.get("items", {})
                if items.get("$ref", "").endswith("/InvalidParam"):
                    items["$ref"] = "#/components/schemas/InvalidParam"
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _routes(app: FastAPI, server: Server) -> None:
    timeline = server.timeline

    def answered(request: Request, response: Response, produce: Callable[[], T]
                 ) -> T | Response:
        head = server.ask(timeline.head)
        tag = etag_of(head, request)
        headers = {"ETag": tag, "Cache-Control": "no-cache", HEAD_EVENTS: str(head.events),
                   HEAD_LINK: head.link}
        if _matches(tag, request.headers.get("if-none-match")):
            return Response(status_code=304, headers=headers)
        result = server.ask(produce)
        (result if isinstance(result, Response) else response).headers.update(headers)
        return result

    def paged(request: Request, items: Sequence[T], limit: int, offset: int, head: Head, *,
              entered: Any = None, known: Any = None, recorded: Any, subject: str | None = None
              ) -> Page[T]:
        end = offset + limit
        following = (str(request.url.include_query_params(offset=end, limit=limit))
                     if end < len(items) else None)
        return Page[T](entered=entered, known=known, recorded=recorded, head=HeadOut.of(head),
                       subject=subject, total=len(items), limit=limit, offset=offset,
                       next=following, items=tuple(items[offset:end]))

    def writer(credentials: Credentials) -> None:
        token = server.settings.token
        if token is None:
            raise WritesDisabled("this server takes no writes: start it with a token "
                                 "(TARIFFS_API_TOKEN or tariffs serve --token-file)")
        given = credentials.credentials if credentials is not None else ""
        if not hmac.compare_digest(given.encode(), token.encode()):
            raise Unauthenticated("give Authorization: Bearer <the server's token>")

    # ------------------------------------------------------------ reads

    @app.get("/v1/rate", response_model=RateAnswer, responses=READ_RESPONSES,
             tags=["answers"], summary="The additional duty on an entry, every layer considered")
    def rate(request: Request, response: Response, origin: Origin, hts: Hts, entered: Entered,
             known: Known = None, recorded: Recorded = None, mfn: Mfn = None,
             fact: Facts = None) -> Response:
        """The additional US duty on goods of an origin and HTS code entered at a time, as
        known and recorded at times: every layer considered, why, and its sources."""
        # Exactly the JSON `tariffs rate --json` prints (sources without empty members).
        return answered(request, response, lambda: JSONResponse(timeline.rate_on(
            origin=origin, hts=hts, entered=entered, known=known, recorded=recorded,
            mfn=_mfn(mfn), facts=fact_pairs(fact)).to_json_dict()))

    @app.get("/v1/explain", response_model=RateAnswer, responses=READ_RESPONSES,
             tags=["answers"], summary="Why: every layer, its rule, events and sources")
    def explain(request: Request, response: Response, origin: Origin, hts: Hts,
                entered: Entered, known: Known = None, recorded: Recorded = None,
                mfn: Mfn = None, fact: Facts = None) -> Response:
        """The same answer as /v1/rate (as `tariffs explain --json`): each layer with the rule
        that decided it, the events behind it with their three clocks, and their sources."""
        return rate(request, response, origin, hts, entered, known, recorded, mfn, fact)

    @app.get("/v1/schedule", response_model=Schedule, responses=READ_RESPONSES,
             tags=["answers"], summary="The schedule at a coordinate")
    def schedule(request: Request, response: Response, entered: Entered, known: Known = None,
                 recorded: Recorded = None,
                 origin: Annotated[str | None, Query(description="Only what covers it.")]
                 = None,
                 hts: Annotated[str | None, Query(description="Only what covers it.")] = None,
                 ) -> Schedule | Response:
        """Measures, exemptions, quotas and rules in force, paused, scheduled and announced at
        a coordinate of the three clocks."""
        return answered(request, response, lambda: timeline.schedule_as_of(
            entered=entered, known=known, recorded=recorded, origin=origin, hts=hts))

    @app.get("/v1/diff", response_model=Diff, responses=READ_RESPONSES, tags=["answers"],
             summary="What changed between two coordinates")
    def diff(request: Request, response: Response,
             entered: Annotated[list[str], Query(
                 description="Effective time; twice to compare two.",
                 openapi_examples=_example("the pause", ["2025-04-08", "2025-04-10"]))],
             known: Annotated[list[str] | None, Query(
                 description="As known at; twice to compare two versions.")] = None,
             recorded: Annotated[list[str] | None, Query(
                 description="As recorded at; twice: before and after a correction.")] = None,
             origin: Annotated[list[str] | None, Query(
                 description="Only what covers this origin (repeatable).")] = None,
             hts: Annotated[list[str] | None, Query(
                 description="Only what covers this HTS prefix (repeatable); with origin, "
                             "also every origin×HTS cell whose duty changed.")] = None,
             ) -> Diff | Response:
        """The schedule at the second coordinate compared with the first: items added,
        removed or changed with the events responsible (and changed cells)."""
        def compare() -> Diff:
            entered_at, known_at, recorded_at = diff_times(entered, known, recorded)
            return timeline.diff(entered=entered_at, known=known_at, recorded=recorded_at,
                                 origins=origin or [], hts=hts or [])
        return answered(request, response, compare)

    @app.get("/v1/history", response_model=Page[HistoryRow], responses=READ_RESPONSES,
             tags=["lists"], summary="Every version of every event about a measure or a cell")
    def history(request: Request, response: Response,
                measure: Annotated[str | None, Query(
                    description="A measure (or exemption, quota, rule) id; or origin and hts.",
                    openapi_examples=_example("Japan's reciprocal", "ieepa-recip-jp"))] = None,
                origin: Annotated[str | None, Query(description="With hts.")] = None,
                hts: Annotated[str | None, Query(description="With origin.")] = None,
                recorded: Recorded = None, mfn: Mfn = None, limit: Limit = 100,
                offset: Offset = 0) -> Page[HistoryRow] | Response:
        """Every event that touched a measure or an origin × HTS code, with its three clocks,
        every recorded version, and the state or rate after it."""
        def ask() -> Page[HistoryRow]:
            found = timeline.history(measure, origin=origin, hts=hts, recorded=recorded,
                                     mfn=_mfn(mfn))
            cut = timeline.coordinate(timeline.store.clock(), None, recorded).recorded
            return paged(request, found.rows, limit, offset, timeline.head(), recorded=cut,
                         subject=found.subject)
        return answered(request, response, ask)

    @app.get("/v1/series", response_model=SeriesSet, responses=READ_RESPONSES,
             tags=["answers"], summary="The duty on one cell as a step series (timeline)")
    def series(request: Request, response: Response, origin: Origin, hts: Hts,
               from_: Annotated[str, Query(alias="from", description="First effective date.",
                                           openapi_examples=_example("March 2025",
                                                                     "2025-03-01"))],
               to: Annotated[str, Query(description="Last effective date.",
                                        openapi_examples=_example("end of 2025",
                                                                  "2025-12-31"))],
               known: Annotated[list[str] | None, Query(
                   description="As known at (default now); twice to overlay two versions.")]
               = None,
               recorded: Recorded = None, mfn: Mfn = None) -> SeriesSet | Response:
        """The additional duty on an origin and HTS code over [from, to] as step series, one
        per `known`, with change points and the instruments behind them."""
        def ask() -> SeriesSet:
            whens: list[str | None] = [*known] if known else [None]
            if len(whens) > 2:
                raise InvalidInput("give it at most twice", field="known")
            return SeriesSet(head=HeadOut.of(timeline.head()), series=tuple(
                timeline.rate_series(origin=origin, hts=hts, start=from_, end=to, known=when,
                                     recorded=recorded, mfn=_mfn(mfn)) for when in whens))
        return answered(request, response, ask)

    @app.get("/v1/events", response_model=Page[LogEntry], responses=READ_RESPONSES,
             tags=["lists"], summary="The event log with its three clocks")
    def events(request: Request, response: Response,
               measure: Annotated[str | None, Query(
                   description="Only events about this measure (or exemption, quota, ...).",
                   openapi_examples=_example("China's reciprocal", "ieepa-recip-cn"))] = None,
               limit: Limit = 100, offset: Offset = 0) -> Page[LogEntry] | Response:
        """The log as recorded, in order, each event with its known, effective and recorded
        times and its sources."""
        def ask() -> Page[LogEntry]:
            now = timeline.store.clock()
            return paged(request, timeline.events(measure), limit, offset, timeline.head(),
                         recorded=now)
        return answered(request, response, ask)

    @app.get("/v1/sources", response_model=Page[SourceRow], responses=READ_RESPONSES,
             tags=["lists"], summary="Every citation, with the events citing it")
    def sources(request: Request, response: Response, limit: Limit = 100, offset: Offset = 0
                ) -> Page[SourceRow] | Response:
        """Every citation in the store (corrections applied), with the events citing it."""
        def ask() -> Page[SourceRow]:
            now = timeline.store.clock()
            return paged(request, timeline.sources(), limit, offset, timeline.head(),
                         known=now, recorded=now)
        return answered(request, response, ask)

    @app.get("/v1/coverage", response_model=Page[CoverageRow], responses=READ_RESPONSES,
             tags=["lists"], summary="Per measure: complete or partial product list")
    def coverage(request: Request, response: Response,
                 at: Annotated[str | None, Query(
                     description="Statuses at this effective time (default now).",
                     openapi_examples=_example("mid 2025", "2025-07-01"))] = None,
                 limit: Limit = 100, offset: Offset = 0) -> Page[CoverageRow] | Response:
        """Per measure and exemption: whether its product list is complete, how many codes it
        names, and a note where it is partial."""
        def ask() -> Page[CoverageRow]:
            coordinate = timeline.coordinate(at if at is not None else timeline.store.clock())
            return paged(request, timeline.coverage(at), limit, offset, timeline.head(),
                         entered=coordinate.effective, known=coordinate.known,
                         recorded=coordinate.recorded)
        return answered(request, response, ask)

    @app.get("/v1/health", response_model=Health, tags=["operations"],
             summary="Whether the store answers and the chain checks out",
             responses={503: {"model": Health, "description": "The store cannot answer."},
                        500: READ_RESPONSES[500],
                        200: {"content": {"application/json": {"example": {
                            "status": "ok", "store": "reachable",
                            "chain": {"intact": True, "checked_events": 0, "detail": None},
                            "read_model": {"lag": 0, "applied_notification_id": 490,
                                           "log_notification_id": 490},
                            "head": {"events": 245, "link": "3f1c..."}}}}}})
    def health(response: Response) -> Health:
        """Whether the store answers, whether the chain checks out up to its head (what the
        read model has not applied yet is checked now), and how far the read model trails
        the log; status 503 when any of it fails."""
        def ask() -> Health:
            try:
                head, lag = timeline.head(), timeline.lag()
            except Exception as exc:  # whatever the driver raises: the store does not answer
                response.status_code = 503
                return Health(status="failing", store=f"unreachable: {exc}",
                              chain=ChainHealth(intact=None, checked_events=0),
                              read_model=None, head=None)
            lagging = ReadModelHealth(lag=lag.notifications,
                                      applied_notification_id=lag.applied_notification_id,
                                      log_notification_id=lag.log_notification_id)
            try:
                chain = ChainHealth(intact=True, checked_events=timeline.check_unapplied())
            except TamperDetected as exc:
                chain = ChainHealth(intact=False, checked_events=0, detail=str(exc))
            ok = bool(chain.intact)
            if not ok:
                response.status_code = 503
            return Health(status="ok" if ok else "failing", store="reachable", chain=chain,
                          read_model=lagging if timeline.read_model is not None else None,
                          head=HeadOut.of(head))
        return server.ask(ask)

    _hts_routes(app, server, answered)

    # ------------------------------------------------------------ batch

    @app.post("/v1/rate/batch", tags=["answers"], response_class=StreamingResponse,
              summary="Many rate questions at once, answered in order",
              responses={**{k: v for k, v in READ_RESPONSES.items() if k != 304},
                         200: {"description": "One answer row per question row, in order: "
                                              "JSON Lines, or CSV with Accept: text/csv.",
                               "content": {"application/x-ndjson": {"schema": {
                                   "type": "string"}},
                                   "text/csv": {"schema": {"type": "string"}}}},
                         413: {"description": "More than 100,000 rows.",
                               "content": _PROBLEM_CONTENT}},
              openapi_extra={"requestBody": {"required": True, "content": {
                  "application/json": {
                      "schema": {"type": "array", "maxItems": batch.MAX_ROWS,
                                 "items": {"$ref": "#/components/schemas/BatchQuestion"}},
                      "example": [{"id": "a", "origin": "JP", "hts": "8703.23.01",
                                   "entered": "2025-05-01", "mfn": 2.5},
                                  {"origin": "CA", "hts": "9503", "entered": "2025-04-01",
                                   "usmca_qualifying": True}]},
                  "application/x-ndjson": {"schema": {"type": "string"}},
                  "text/csv": {"schema": {"type": "string"}, "example":
                               "origin,hts,entered,mfn\nJP,8703.23.01,2025-05-01,2.5\n"}}}})
    async def rate_batch(request: Request) -> Response:
        """Rate questions as a JSON array, JSON Lines or CSV (by Content-Type; columns origin,
        hts, entered, and optionally id, known, recorded, mfn and one per fact), up to
        100,000 rows, answered in order as flat rows; a bad row is answered by an error row
        (status refused, error, field) in its place and the rest go on."""
        rows = _batch_rows(await _body(request), request.headers.get("content-type", ""))
        as_csv = "text/csv" in request.headers.get("accept", "")
        answers = batch.answer_rows(timeline, rows, guard=server.ask)
        # The first answer before the status line: a store that cannot answer (or a broken
        # chain) is then a problem response, not a 200 with nothing in it.
        first = await run_in_threadpool(next, answers, None)
        line = batch.csv_line if as_csv else batch.jsonl_line
        head = server.ask(timeline.head)

        def stream() -> Iterator[str]:
            if as_csv:
                yield batch.csv_header()
            if first is None:
                return
            yield line(first)
            number = first["row"]
            # Rows go out in chunks: each item of a sync stream costs a hop to a worker
            # thread and a write, which cost more than answering a row.
            chunk: list[str] = []
            try:
                for row in answers:
                    number = row["row"]
                    chunk.append(line(row))
                    if len(chunk) == BATCH_CHUNK:
                        yield "".join(chunk)
                        chunk.clear()
            except TariffError as exc:
                # Mid-stream the status is sent: the failure is the last row, and no row
                # after it is answered.
                stop: batch.Row = dict.fromkeys(batch.ANSWER_COLUMNS)
                stop.update(row=number + 1, status="refused", error=str(exc), applied=[],
                            applied_rates=[], alternatives=[], notes=[], facts={})
                chunk.append(line(stop))
            if chunk:
                yield "".join(chunk)

        return StreamingResponse(stream(), media_type="text/csv" if as_csv
                                 else "application/x-ndjson",
                                 headers={HEAD_EVENTS: str(head.events), HEAD_LINK: head.link})

    # ------------------------------------------------------------ writes

    @app.post("/v1/import", response_model=ImportResult, responses=WRITE_RESPONSES,
              tags=["writes"], dependencies=[Depends(writer)],
              summary="Import an event file (needs the token)",
              openapi_extra={"requestBody": {"required": True, "content": {
                  "application/json": {"schema": {"type": "object"}, "example": {
                      "events": []}},
                  "application/yaml": {"schema": {"type": "string"}}}}})
    async def import_(request: Request) -> ImportResult:
        """Import one event file (JSON or YAML, by Content-Type; the import format of
        `tariffs schema`): everything is validated, then appended in one transaction."""
        body = await _body(request)
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        suffix = {"application/json": ".json", "application/yaml": ".yaml",
                  "application/x-yaml": ".yaml", "text/yaml": ".yaml"}.get(kind)
        if suffix is None:
            raise InvalidInput("send the event file as application/json or application/yaml",
                               field="body")

        def record() -> ImportResult:
            with tempfile.TemporaryDirectory() as folder:
                path = Path(folder) / f"upload{suffix}"
                path.write_bytes(body)
                report = timeline.import_paths([path])
            return ImportResult(appended=report.appended,
                                already_recorded=report.already_recorded,
                                total_events=report.total_events,
                                head=HeadOut.of(timeline.head()))
        return await run_in_threadpool(server.ask, record)

    @app.post("/v1/correct", response_model=CorrectionResult, responses=WRITE_RESPONSES,
              tags=["writes"], dependencies=[Depends(writer)],
              summary="Record a data correction (needs the token)")
    def correct(body: Annotated[CorrectRequest, Body(openapi_examples=_example(
            "a misread annex", {"event_id": "recip-country-rates-jp",
                                "reason": "Annex I misread",
                                "replacement": {"id": "recip-country-rates-jp", "...": "..."}}))]
                ) -> CorrectionResult:
        """Record that the store got an event wrong: `replacement` is what it should have
        said (same id). Answers use it from now on; earlier `recorded` times do not."""
        try:
            replacement: PolicyEvent = TypeAdapter(AnyEvent).validate_python(body.replacement)
        except ValidationError as exc:
            raise InvalidInput(str(exc).splitlines()[0] if str(exc) else "invalid event",
                               field="replacement") from exc

        def record() -> CorrectionResult:
            made = timeline.correct(body.event_id, replacement, body.reason)
            return CorrectionResult(id=made.id, corrects=made.corrects,
                                    head=HeadOut.of(timeline.head()))
        return server.ask(record)


# ---------------------------------------------------------------- the HTS itself (issue 10)

At = Annotated[str, Query(
    description="Effective time: the HTS revision in force then answers (a date before the "
                "first revision recorded: the first one, with a note).",
    openapi_examples=_example("December 2025", "2025-12-10"))]
AtOrToday = Annotated[str | None, Query(
    description="Effective time (default now): the HTS revision in force then answers.",
    openapi_examples=_example("December 2025", "2025-12-10"))]


def _page_link(request: Request, total: int, limit: int, offset: int) -> str | None:
    end = offset + limit
    return (str(request.url.include_query_params(offset=end, limit=limit)) if end < total
            else None)


def _hts_routes(app: FastAPI, server: Server,
                answered: Callable[[Request, Response, Callable[[], Any]], Any]) -> None:
    """GET /v1/hts/search, /v1/hts/diff and /v1/hts/{code}: the schedule itself."""
    timeline = server.timeline

    @app.get("/v1/hts/search", response_model=HtsSearchPage, responses=READ_RESPONSES,
             tags=["hts"], summary="HTS lines whose descriptions hold some words, ranked")
    def hts_search(request: Request, response: Response,
                   q: Annotated[str, Query(
                       min_length=1, max_length=500,
                       description="Words every line found must hold, in its description or "
                                   "the headings above it (whole words or their starts).",
                       openapi_examples=_example("roasted coffee", "roasted coffee"))],
                   at: AtOrToday = None, known: Known = None, recorded: Recorded = None,
                   limit: Annotated[int, Query(ge=1, le=1000, description="Items per page.",
                                               openapi_examples=_example("ten", 10))] = 20,
                   offset: Offset = 0) -> HtsSearchPage | Response:
        """The HTS lines in force at `at` (as known and recorded then) found by words, best
        first (full-text search: FTS5 on SQLite, tsvector on PostgreSQL), as `tariffs hts
        search --json`, in pages."""
        def ask() -> HtsSearchPage:
            found = timeline.hts_search(q, at if at is not None else timeline.store.clock(),
                                        known, recorded, limit, offset)
            return HtsSearchPage(
                entered=found.entered, known=found.known, recorded=found.recorded,
                head=HeadOut.of(timeline.head()), total=found.total, limit=limit,
                offset=offset, next=_page_link(request, found.total, limit, offset),
                items=found.hits, words=found.words, revision=found.revision,
                notes=found.notes)
        return answered(request, response, ask)  # type: ignore[no-any-return]

    @app.get("/v1/hts/diff", response_model=HtsDiffPage, responses=READ_RESPONSES,
             tags=["hts"], summary="HTS lines added, removed, re-rated, re-described")
    def hts_diff(request: Request, response: Response,
                 from_: Annotated[str, Query(alias="from", description="Earlier effective "
                                             "time.", openapi_examples=_example(
                                                 "Revision 13", "2025-06-01"))],
                 to: Annotated[str, Query(description="Later effective time.",
                                          openapi_examples=_example("2026 Revision 4",
                                                                    "2026-03-01"))],
                 known: Known = None, recorded: Recorded = None,
                 under: Annotated[list[str] | None, Query(
                     description="Only lines under this HTS prefix (repeatable).",
                     openapi_examples=_example("coffee", ["0901"]))] = None,
                 limit: Annotated[int, Query(ge=1, le=1000, description="Items per page.",
                                             openapi_examples=_example("ten", 10))] = 100,
                 offset: Offset = 0) -> HtsDiffPage | Response:
        """The nomenclature in force at `to` compared with that at `from` (both as known and
        recorded at the same times): one item per line added, removed, re-described or
        restructured and per rate column re-rated, by code, in pages; the counts cover the
        whole comparison."""
        def ask() -> HtsDiffPage:
            found = timeline.hts_diff(from_, to, known, recorded, under or [])
            end = offset + limit
            return HtsDiffPage(
                entered=None, known=found.after.known, recorded=found.after.recorded,
                head=HeadOut.of(timeline.head()), total=len(found.changes), limit=limit,
                offset=offset, next=_page_link(request, len(found.changes), limit, offset),
                items=found.changes[offset:end], before=found.before, after=found.after,
                under=found.under, counts=found.counts)
        return answered(request, response, ask)  # type: ignore[no-any-return]

    @app.get("/v1/hts/{code}", response_model=HtsLineAnswer, responses=READ_RESPONSES,
             tags=["hts"], summary="One HTS line at a date: path, units, rates, children")
    def hts_line(request: Request, response: Response,
                 code: Annotated[str, PathParam(
                     description="HTS code: 4, 6, 8 or 10 digits, dots optional.",
                     openapi_examples=_example("coffee, not roasted", "0901.11.00"))],
                 at: At, known: Known = None, recorded: Recorded = None
                 ) -> HtsLineAnswer | Response:
        """One HTS line in force at `at`, as `tariffs hts show --json`: its description path
        from the heading down, units, the three rate columns (the general one read as a
        value), the lines under it, and the revision and since when; a code not in that
        revision is a problem naming the nearest lines."""
        return answered(  # type: ignore[no-any-return]
            request, response, lambda: timeline.hts_line(code, at, known, recorded))


async def _body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY:
        raise TooLarge(f"the body is over {MAX_BODY} bytes")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise TooLarge(f"the body is over {MAX_BODY} bytes")
    return body


def _batch_rows(body: bytes, content_type: str) -> Iterator[batch.QuestionRow]:
    kind = content_type.split(";")[0].strip().lower()
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"the body is not UTF-8: {exc}", field="body") from exc
    if kind == "application/json":
        rows = batch.read_json_array(text)
        if len(rows) > batch.MAX_ROWS:
            raise TooLarge(f"{len(rows)} rows: a batch holds at most {batch.MAX_ROWS:,}")
        return iter(rows)
    lines = text.count("\n") + (0 if text.endswith("\n") else 1)
    if kind in ("application/x-ndjson", "application/jsonl", "application/x-jsonlines",
                "application/json-lines"):
        if lines > batch.MAX_ROWS:
            raise TooLarge(f"{lines} lines: a batch holds at most {batch.MAX_ROWS:,} rows")
        return batch.read_jsonl(text.split("\n"))
    if kind == "text/csv":
        if lines > batch.MAX_ROWS + 1:
            raise TooLarge(f"{lines - 1} rows: a batch holds at most {batch.MAX_ROWS:,}")
        return batch.read_csv(io.StringIO(text, newline=""))
    raise InvalidInput("send questions as application/json (an array), application/x-ndjson "
                       "or text/csv", field="body")


__all__ = ["Server", "create_app", "create_app_from_env", "etag_of", "of_error"]
