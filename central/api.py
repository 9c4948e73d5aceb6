"""The platform's HTTP API: terminals deliver batches and heartbeats and ask residents' online
queries and their place in the queue here; the centres' calling systems move the queues (FastAPI
app factory).

Every error is a JSON body ``{"error": code, "detail": text}``: a hostile or broken request gets a
4xx that says what is wrong, a database outage a 503 a terminal retries, and never a traceback.
"""

from __future__ import annotations

import email.message
import functools
import logging
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from central import __version__, services
from central.database import DatabaseUnavailableError, StoreError
from central.limits import DEFAULT_MAX_BODY_BYTES, LIMITED_PREFIX, RateLimit, TokenRateLimit
from central.queue import (
    PREFIX_RULE,
    QueueBoard,
    QueueError,
    Queues,
    QueueSet,
    QueueState,
    is_prefix,
)
from central.rollout import Rollouts
from central.store import Access, CentralStore
from contracts.wire import (
    KIOSK_ID_PATTERN,
    MAX_INT64,
    MAX_ITEMS_CEILING,
    QUEUE_PREFIX_PATTERN,
    BatchRequest,
    BatchResponse,
    ConfigReport,
    ConfigReportReply,
    ErrorBody,
    Health,
    Heartbeat,
    HeartbeatReply,
    QueueAnswer,
    QueueQuery,
    ServiceAnswer,
    ServiceQuery,
    TransactionPage,
)

log = logging.getLogger("central.api")

DEFAULT_MAX_ITEMS = 1000

ERROR_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "body_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "too_many_requests",
    500: "internal_error",
    503: "unavailable",
}

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def error_response(
    status: int,
    detail: str,
    *,
    code: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body = {"error": code or ERROR_CODES.get(status, f"http_{status}"), "detail": detail}
    return JSONResponse(body, status_code=status, headers=headers)


class BodyTooLargeError(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body larger than {limit} bytes")


class BodyLimit:
    """ASGI middleware: refuse a body over *max_bytes* before anything parses it.

    A declared Content-Length over the limit is answered at once; a body that streams past the
    limit (chunked, or a lying Content-Length) stops the read with the same 413.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _header(scope, b"content-length")
        if declared is not None:
            if not declared.isdigit():
                await error_response(400, "Content-Length is not a number")(scope, receive, send)
                return
            if int(declared) > self.max_bytes:
                await error_response(413, f"request body larger than {self.max_bytes} bytes")(
                    scope, receive, send
                )
                return
        seen = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise BodyTooLargeError(self.max_bytes)
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, watched_send)
        except BodyTooLargeError as exc:
            # Normally the framework turns this into the 413 itself; this covers a body read
            # outside a route (a middleware, a mounted app).
            if started:
                raise
            await error_response(413, str(exc.detail))(scope, receive, send)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return bytes(value).decode("latin-1").strip()
    return None


def _summarise(exc: RequestValidationError) -> str:
    # Location and message only: the offending input may be large, or personal data.
    parts = []
    for error in exc.errors()[:5]:
        where = ".".join(str(part) for part in error.get("loc", ()) if part != "body")
        parts.append(f"{where or 'body'}: {error.get('msg', 'invalid')}")
    more = len(exc.errors()) - 5
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


async def require_json(request: Request) -> None:
    """415 for a body that does not claim to be JSON (checked before the body is validated).

    The cheap dependencies are ``async``: FastAPI runs a plain ``def`` one on the thread pool,
    a hand-over (and a turn at the GIL) per request for no I/O at all."""
    raw = request.headers.get("content-type")
    if raw is None:
        raise HTTPException(415, "send the body as application/json")
    message = email.message.Message()
    message["content-type"] = raw
    subtype = message.get_content_subtype()
    if message.get_content_maintype() != "application" or not (
        subtype == "json" or subtype.endswith("+json")
    ):
        raise HTTPException(415, "send the body as application/json")


@dataclass(frozen=True)
class ApiContext:
    """What the routes need, kept on ``app.state.central`` by create_app."""

    store: CentralStore
    max_items: int
    rollouts: Rollouts
    queues: Queues
    today: Callable[[], date]  # the platform's local date: a queue's day ends at local midnight


async def context_of(request: Request) -> ApiContext:
    context: ApiContext = request.app.state.central
    return context


Context = Annotated[ApiContext, Depends(context_of)]
bearer = HTTPBearer(auto_error=False, description="the token printed by kiosk-central kiosk add")


async def authenticated_kiosk(
    context: Context,
    kiosk_id: Annotated[str, Path(pattern=KIOSK_ID_PATTERN)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> str:
    # On the event loop: one indexed lookup (never waiting on a writer, on either backend) is
    # shorter than the hand-over to the thread pool and back, which every request would pay.
    # The token is looked up on every request, so a revoked or rotated one ends at once.
    challenge = {"WWW-Authenticate": "Bearer"}
    if credentials is None:
        raise HTTPException(401, "send Authorization: Bearer <token>", headers=challenge)
    access = context.store.authenticate(kiosk_id, credentials.credentials)
    if access is Access.FORBIDDEN:
        raise HTTPException(403, "this token belongs to another kiosk")
    if access is not Access.GRANTED:
        raise HTTPException(401, "unknown kiosk or wrong token", headers=challenge)
    return kiosk_id


Kiosk = Annotated[str, Depends(authenticated_kiosk)]

# Its own scheme: a calling system's token is not a terminal's; the document tells them apart.
caller_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="CallingSystemBearer",
    description="the token printed by kiosk-central queue caller",
)


def authenticated_caller(
    context: Context,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(caller_bearer)],
) -> str:
    """The centre (kiosk group) whose queues the calling system's token moves."""
    challenge = {"WWW-Authenticate": "Bearer"}
    if credentials is None:
        raise HTTPException(
            401, "send Authorization: Bearer <calling system token>", headers=challenge
        )
    found = context.queues.authenticate_caller(credentials.credentials)
    if found.access is Access.FORBIDDEN:
        raise HTTPException(403, "a terminal's token cannot move the queue")
    if found.access is not Access.GRANTED:
        raise HTTPException(401, "unknown calling system token", headers=challenge)
    return found.centre


Centre = Annotated[str, Depends(authenticated_caller)]


async def queue_prefix(
    prefix: Annotated[
        str, Path(description=PREFIX_RULE, json_schema_extra={"pattern": QUEUE_PREFIX_PATTERN})
    ],
) -> str:
    # Checked here rather than by Path(pattern=...), for a message an operator can act on.
    if not is_prefix(prefix):
        raise HTTPException(422, f"prefix must be {PREFIX_RULE}")
    return prefix


Prefix = Annotated[str, Depends(queue_prefix)]

ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": ERROR_CODES[status]}
    for status in (401, 403, 413, 415, 422, 503)
}

router = APIRouter()


@router.post(
    "/v1/kiosks/{kiosk_id}/batches",
    response_model=BatchResponse,
    responses=ERRORS,
    dependencies=[Depends(require_json)],
    summary="Deliver a batch of transactions; one result per item, in request order",
)
async def post_batch(body: BatchRequest, kiosk_id: Kiosk, context: Context) -> BatchResponse:
    if len(body.items) > context.max_items:
        raise HTTPException(
            422, f"at most {context.max_items} items per batch, got {len(body.items)}"
        )
    ingest = functools.partial(context.store.ingest, kiosk_id, body.items)
    # On PostgreSQL on the event loop, as the heartbeat: a worker then runs one request at a
    # time and several workers run side by side, rather than a worker's threads taking turns at
    # the GIL with its event loop (a batch's CPU-bound validation held the loop up for 5 ms at
    # each turn). A batch waits only on rows of its own kiosk that another worker is writing.
    if context.store.writes_without_waiting:
        return BatchResponse(results=ingest())
    return BatchResponse(results=await run_in_threadpool(ingest))


@router.post(
    "/v1/kiosks/{kiosk_id}/heartbeat",
    response_model=HeartbeatReply,
    responses=ERRORS,
    dependencies=[Depends(require_json)],
    summary="Report the terminal's health; the reply carries the platform's clock",
)
async def post_heartbeat(body: Heartbeat, kiosk_id: Kiosk, context: Context) -> HeartbeatReply:
    record = functools.partial(
        context.store.record_heartbeat,
        kiosk_id,
        app_version=body.app_version,
        devices=[device.model_dump() for device in body.devices],
        queue_depth=body.queue_depth,
        workers=[worker.model_dump() for worker in body.workers],
        oldest_waiting_seconds=body.oldest_waiting_seconds,
        dead_letters=body.dead_letters,
    )
    # The fleet's most frequent request. Where the upsert cannot wait on another request's
    # transaction (PostgreSQL: one row, its own) it runs on the event loop; on SQLite it may
    # queue for the file's write lock, so it waits on the thread pool instead.
    if context.store.writes_without_waiting:
        return HeartbeatReply(server_time=record())
    return HeartbeatReply(server_time=await run_in_threadpool(record))


@router.get(
    "/v1/kiosks/{kiosk_id}/transactions",
    response_model=TransactionPage,
    responses={status: ERRORS[status] for status in (401, 403, 422, 503)},
    summary="What the platform holds for this kiosk, in seq order",
)
def get_transactions(
    kiosk_id: Kiosk,
    context: Context,
    after_seq: Annotated[int, Query(ge=0, le=MAX_INT64)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> TransactionPage:
    found = context.store.transactions(kiosk_id, after_seq=after_seq, limit=limit)
    return TransactionPage(transactions=found)


@router.get(
    "/v1/kiosks/{kiosk_id}/config",
    responses={
        200: {"content": {"application/json": {}}, "description": "the signed bundle, as signed"},
        204: {"description": "nothing published for this kiosk (yet)"},
        304: {"description": "the bundle named by If-None-Match is still the newest"},
        **{status: ERRORS[status] for status in (401, 403, 503)},
    },
    summary="The newest configuration bundle this kiosk's group and rollout stage offer it",
)
def get_config(kiosk_id: Kiosk, context: Context, request: Request) -> Response:
    offer = context.rollouts.offer_for(kiosk_id)
    if offer is None:
        return Response(status_code=204)
    if request.headers.get("if-none-match") == offer.etag:
        return Response(status_code=304, headers={"ETag": offer.etag})
    return Response(offer.raw, media_type="application/json", headers={"ETag": offer.etag})


@router.post(
    "/v1/kiosks/{kiosk_id}/config-report",
    response_model=ConfigReportReply,
    responses=ERRORS,
    dependencies=[Depends(require_json)],
    summary="What the kiosk did with a bundle: applied, rejected (with the reason), rolled back",
)
def post_config_report(body: ConfigReport, kiosk_id: Kiosk, context: Context) -> ConfigReportReply:
    context.rollouts.report(
        kiosk_id, running=body.running, about=body.version, status=body.status,
        reason=body.reason,
    )  # fmt: skip
    return ConfigReportReply(recorded=True)


@router.post(
    "/v1/kiosks/{kiosk_id}/services/query",
    response_model=ServiceAnswer,
    responses=ERRORS,
    dependencies=[Depends(require_json)],
    summary="A resident's online query: a record by ID number, or the status of a scanned code",
)
def post_service_query(body: ServiceQuery, kiosk_id: Kiosk, context: Context) -> ServiceAnswer:
    # Nothing about the query is logged: its identifier may be an ID number. "Today" is the
    # platform's local date, the one appointments are booked in.
    return services.answer(body, today=date.today(), book=context.store, kiosk_id=kiosk_id)


@router.post(
    "/v1/kiosks/{kiosk_id}/queue/ahead",
    response_model=QueueAnswer,
    responses=ERRORS,
    dependencies=[Depends(require_json)],
    summary="How many people wait ahead of a ticket this kiosk issued today",
)
def post_queue_ahead(body: QueueQuery, kiosk_id: Kiosk, context: Context) -> QueueAnswer:
    return context.queues.ahead(kiosk_id, body.ticket, context.today())


CALLER_ERRORS: dict[int | str, dict[str, Any]] = {
    status: ERRORS[status] for status in (401, 403, 422, 503)
}


@router.post(
    "/v1/queue/{prefix}/call",
    response_model=QueueState,
    responses={**CALLER_ERRORS, 409: {"model": ErrorBody, "description": "at the highest number"}},
    summary="Call the next ticket of a prefix at the caller's centre: the number served + 1",
)
def post_queue_call(prefix: Prefix, centre: Centre, context: Context) -> QueueState:
    return context.queues.call(centre, prefix, context.today())


@router.put(
    "/v1/queue/{prefix}",
    response_model=QueueState,
    responses={**CALLER_ERRORS, 413: ERRORS[413], 415: ERRORS[415]},
    dependencies=[Depends(require_json)],
    summary="Set the number now served for a prefix today (a correction; 0: none called yet)",
)
def put_queue(body: QueueSet, prefix: Prefix, centre: Centre, context: Context) -> QueueState:
    return context.queues.set_serving(centre, prefix, context.today(), body.serving)


@router.get(
    "/v1/queue",
    response_model=QueueBoard,
    responses={status: ERRORS[status] for status in (401, 403, 503)},
    summary="Today's numbers served at the caller's centre, one per prefix called",
)
def get_queue(centre: Centre, context: Context) -> QueueBoard:
    return context.queues.board(context.today(), centre)


@router.get(
    "/healthz",
    response_model=Health,
    responses={503: {"model": ErrorBody, "description": "the database is unreachable"}},
    summary="Liveness with a database round trip",
)
def healthz(context: Context) -> Any:
    if context.store.ping():
        return Health(status="ok", db="ok")
    return error_response(503, "the database is unreachable", code="db_unavailable")


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400:
        # FastAPI's answer to a body json.loads cannot take (not UTF-8, nested past the
        # interpreter's limit, an integer too long): a malformed body, like any other.
        return error_response(422, "the body is not parseable JSON")
    return error_response(exc.status_code, str(exc.detail), headers=exc.headers)


async def _invalid_request(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return error_response(422, _summarise(exc))


async def _database_down(_request: Request, exc: Exception) -> JSONResponse:
    log.warning("%s", exc)
    return error_response(
        503, "the database is unavailable; retry later", headers={"Retry-After": "5"}
    )


async def _queue_refused(_request: Request, exc: Exception) -> JSONResponse:
    return error_response(409, str(exc))


async def _database_error(_request: Request, exc: Exception) -> JSONResponse:
    log.error("%s", exc)
    return error_response(500, "the database refused the request")


VALIDATION_ERROR_REF = "#/components/schemas/HTTPValidationError"
ERROR_BODY_REF = "#/components/schemas/ErrorBody"
BOUNDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")
FLOAT_EXACT = 2**53  # below this a float holds every integer, so a float bound reads back exactly


class Platform(FastAPI):
    """FastAPI, with an OpenAPI document that states what the API accepts and answers.

    FastAPI's own document promises HTTPValidationError (a list of errors) for a 422 on any route
    that does not name one, while the platform answers every error as an ErrorBody; and its
    document model holds bounds as floats, so MAX_INT64 came out as 2**63, one past what the API
    takes. schemathesis holds the document to the API (tests/central/test_openapi_truth.py).
    """

    def openapi(self) -> dict[str, Any]:
        # FastAPI caches the document and makes it again when routes change; the repair is
        # idempotent, so the cached copy is repaired in place.
        document = super().openapi()
        _errors_as_error_body(document)
        _exact_integer_bounds(document)
        # The batch's limit is this platform's max_items, not the ceiling any platform allows.
        batch = document.get("components", {}).get("schemas", {}).get("BatchRequest")
        if batch is not None:
            batch["properties"]["items"]["maxItems"] = self.state.central.max_items
        return document


def _errors_as_error_body(document: dict[str, Any]) -> None:
    for path_item in document.get("paths", {}).values():
        for operation in path_item.values():
            responses = operation.get("responses") if isinstance(operation, dict) else None
            if not isinstance(responses, dict):
                continue
            said = responses.get("422", {}).get("content", {}).get("application/json", {})
            if said.get("schema") == {"$ref": VALIDATION_ERROR_REF}:
                responses["422"] = {
                    "description": ERROR_CODES[422],
                    "content": {"application/json": {"schema": {"$ref": ERROR_BODY_REF}}},
                }
            # BodyLimit answers before any route: whatever the method, a body over the limit is
            # a 413.
            responses.setdefault(
                "413",
                {
                    "description": ERROR_CODES[413],
                    "content": {"application/json": {"schema": {"$ref": ERROR_BODY_REF}}},
                },
            )
    for path, path_item in document.get("paths", {}).items():
        if not path.startswith(LIMITED_PREFIX):
            continue
        for operation in path_item.values():
            if isinstance(operation, dict) and isinstance(operation.get("responses"), dict):
                operation["responses"].setdefault("429", TOO_MANY_REQUESTS)
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    schemas.setdefault("ErrorBody", ErrorBody.model_json_schema())


# TokenRateLimit answers before any route, so every route that takes a token may say it.
TOO_MANY_REQUESTS = {
    "description": "too_many_requests: this token is over its rate limit (serve --rate-limit)",
    "headers": {
        "Retry-After": {
            "description": "seconds until the token may send again",
            "schema": {"type": "integer", "minimum": 1},
        }
    },
    "content": {"application/json": {"schema": {"$ref": ERROR_BODY_REF}}},
}


def _exact_integer_bounds(node: Any) -> None:
    """Integer bounds as integers: 1 rather than 1.0, and MAX_INT64 rather than 2**63."""
    if isinstance(node, dict):
        if node.get("type") == "integer":
            for key in BOUNDS:
                value = node.get(key)
                if isinstance(value, float) and value.is_integer():
                    node[key] = _integer_bound(key, value)
        for child in node.values():
            _exact_integer_bounds(child)
    elif isinstance(node, list):
        for child in node:
            _exact_integer_bounds(child)


def _integer_bound(key: str, value: float) -> int:
    if abs(value) < FLOAT_EXACT:
        return int(value)
    # Past 2**53 the float no longer says which integer was meant. The platform's integers are
    # 64-bit (BIGINT columns), so the int64 limits are the only large bounds its models state;
    # any other would be a new one this repair does not know, and the document must not guess.
    if key == "maximum" and value == float(MAX_INT64):
        return MAX_INT64
    if key == "minimum" and value == float(-MAX_INT64 - 1):
        return -MAX_INT64 - 1
    raise ValueError(f"integer bound {key}={value!r} cannot be stated exactly in the document")


async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
    # Starlette re-raises after answering, so the server's log keeps the traceback.
    return error_response(500, "unexpected error; the platform's log has the details")


def create_app(
    store: CentralStore,
    *,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    max_items: int = DEFAULT_MAX_ITEMS,
    today: Callable[[], date] = date.today,
    rate_limit: RateLimit | None = None,
) -> FastAPI:
    """The API over *store*. The caller owns *store* and closes it after the app stops.

    *today* gives the platform's local date, the day queue numbers belong to (tests move it).
    *rate_limit*: each bearer token's limit in this process (none: unlimited).
    """
    if not 1 <= max_items <= MAX_ITEMS_CEILING:
        raise ValueError(f"max_items must be between 1 and {MAX_ITEMS_CEILING}")
    app = Platform(
        title="kiosk-central",
        version=__version__,
        summary="Reference central platform for kiosk terminals",
    )
    app.state.central = ApiContext(
        store=store, max_items=max_items, rollouts=Rollouts(store), queues=Queues(store),
        today=today,
    )  # fmt: skip
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)
    if rate_limit is not None:  # outermost: a token over its limit costs no body read
        app.add_middleware(TokenRateLimit, limit=rate_limit)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(DatabaseUnavailableError, _database_down)
    app.add_exception_handler(QueueError, _queue_refused)
    app.add_exception_handler(StoreError, _database_error)
    app.add_exception_handler(Exception, _unexpected)
    app.include_router(router)
    from central.verify_page import router as verification  # public: certificates' QR codes

    app.include_router(verification)
    from central.console.routes import console_router  # the operators' pages, /console/

    app.include_router(console_router(store))
    return app
