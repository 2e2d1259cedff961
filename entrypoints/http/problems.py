"""Every error leaves as RFC 9457 problem+json, mapped from its type in this one place."""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import iter_route_contexts
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.routing import Match

from application import errors as app_errors
from application.receipts import BatchRefused
from domain import errors as domain_errors
from entrypoints.http.schemas import ProblemOut, explain
from entrypoints.observability.request_context import request_id

PROBLEM_BASE = "https://hexbank.dev/problems/"
PROBLEM_MEDIA_TYPE = "application/problem+json"

logger = structlog.get_logger("hexbank.http")

STATUS_BY_ERROR: dict[type[Exception], int] = {
    domain_errors.EmailAlreadyRegistered: 409,
    domain_errors.IdempotencyKeyInFlight: 409,
    domain_errors.TransferNotPending: 409,
    domain_errors.DuplicateReference: 409,
    domain_errors.AccountNotEmpty: 409,
    domain_errors.TooManyAccounts: 409,
    domain_errors.TooManyApiKeys: 409,
    domain_errors.TooManyWebhookEndpoints: 409,
    domain_errors.WebhookEndpointNotFound: 404,
    domain_errors.TooManyMonitors: 409,
    domain_errors.MonitorNotFound: 404,
    domain_errors.PreconditionFailed: 412,
    domain_errors.ScopeEscalation: 403,
    domain_errors.ApiKeyNotFound: 404,
    domain_errors.NotPayer: 403,
    domain_errors.NotPayee: 403,
    domain_errors.AccountNotFound: 404,
    domain_errors.TransferNotFound: 404,
    domain_errors.ConversionNotFound: 404,
    domain_errors.PayeeUnavailable: 422,
    domain_errors.DomainError: 422,
    # RFC 6749 section 5.2: the token endpoint answers 400 `invalid_grant` to bad credentials;
    # 401 is reserved there for a client that failed to authenticate (hexbank has no clients).
    app_errors.InvalidCredentials: 400,
    app_errors.InvalidToken: 401,
    app_errors.InsufficientScope: 403,
    app_errors.RateLimited: 429,
    app_errors.InvalidPage: 422,
    app_errors.TooManyAttempts: 429,
    app_errors.TooManyRequests: 429,
    app_errors.ReadTimedOut: 503,
    app_errors.TransientConflict: 503,
    app_errors.StorageUnavailable: 503,
}
"""Most specific first; a domain error not listed is a refused request (422)."""

RETRY_AFTER_S: dict[type[Exception], str] = {
    app_errors.TooManyRequests: "1",
    app_errors.ReadTimedOut: "2",
    app_errors.TransientConflict: "1",
    app_errors.StorageUnavailable: "2",
}

_SLUG_BY_STATUS = {
    400: "bad-request",
    401: "unauthorized",
    404: "not-found",
    405: "method-not-allowed",
    413: "payload-too-large",
    415: "unsupported-media-type",
    422: "validation-error",
    429: "too-many-attempts",
    500: "internal-error",
}


PROTOCOL_PROBLEMS: dict[str, tuple[int, str]] = {
    "bad-request": (
        400,
        "The request could not be read (a Content-Length that is no number), or a token "
        "request is malformed (OAuth2 `invalid_request`; see `errors`).",
    ),
    "cross-origin-refused": (
        400,
        "A CORS preflight from an origin, or for a method or header, that is not allowed.",
    ),
    "unauthorized": (401, "Authentication is missing."),
    "not-found": (404, "No such route."),
    "method-not-allowed": (405, "The route exists, but not with this method; see `Allow`."),
    "request-timeout": (
        408,
        "The request line and headers did not arrive within HEXBANK_HEADER_TIMEOUT_S; the "
        "connection is closed.",
    ),
    "payload-too-large": (413, "The request body is larger than HEXBANK_MAX_BODY_BYTES."),
    "request-header-fields-too-large": (
        431,
        "The request line and headers are larger than HEXBANK_MAX_HEADER_BYTES in all; the "
        "connection is closed.",
    ),
    "too-many-connections": (
        503,
        "The server process holds HEXBANK_MAX_CONNECTIONS open connections already; this one "
        "is closed. Retry after `Retry-After`.",
    ),
    "unsupported-media-type": (
        415,
        "The body is not JSON: send it with `Content-Type: application/json`.",
    ),
    "unsupported-grant-type": (
        400,
        "The token endpoint takes only `grant_type=password` (OAuth2 `unsupported_grant_type`).",
    ),
    "validation-error": (422, "A field of the request is missing or invalid; see `errors`."),
    "internal-error": (500, "An unexpected error; nothing was half done."),
    "deadline-exceeded": (
        503,
        "The request was not done within HEXBANK_REQUEST_DEADLINE_S; a write may still "
        "complete: retry with the same Idempotency-Key, which replays it.",
    ),
}
"""Problem types sent without an error class of the domain or the application (by the HTTP
layer or the server itself): slug -> (status, meaning). Each is listed in the OpenAPI document
beside those derived from the error classes."""


def problem_catalogue() -> dict[str, tuple[int, str]]:
    """Every problem type the service can answer: slug -> (status, meaning). The error classes
    give theirs (status from STATUS_BY_ERROR, meaning from the docstring), so a new refusal
    is declared in the spec by being written."""
    catalogue = dict(PROTOCOL_PROBLEMS)
    pending: list[type[Exception]] = [domain_errors.DomainError, app_errors.ApplicationError]
    while pending:
        kind = pending.pop()
        pending.extend(kind.__subclasses__())
        code = getattr(kind, "code", None)
        if kind in (domain_errors.DomainError, app_errors.ApplicationError) or not code:
            continue
        doc = (kind.__doc__ or "").strip().split("\n\n")[0]
        meaning = " ".join(doc.split()) or code.replace("-", " ").capitalize() + "."
        catalogue.setdefault(code, (_status_of_class(kind), meaning))
    return dict(sorted(catalogue.items()))


def _status_of_class(kind: type[Exception]) -> int:
    for base in kind.__mro__:
        if base in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[base]
    return 500


def install_problem_catalogue(app: FastAPI) -> None:
    """Declare every problem type in /openapi.json: a table in `info.description` for people
    and `x-problem-types` (slug -> status and meaning) for tools."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = build()
        catalogue = problem_catalogue()
        rows = "\n".join(
            f"| `{slug}` | {status} | {meaning} |" for slug, (status, meaning) in catalogue.items()
        )
        table = (
            f"Every error is `application/problem+json` (RFC 9457) whose `type` ends in one of "
            f"these slugs:\n\n| slug | status | meaning |\n|---|---|---|\n{rows}"
        )
        info = document["info"]
        info["description"] = f"{info.get('description', '')}\n\n{table}".strip()
        document["x-problem-types"] = {
            slug: {"status": status, "meaning": meaning}
            for slug, (status, meaning) in catalogue.items()
        }
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]


class ProblemResponse(JSONResponse):
    media_type = PROBLEM_MEDIA_TYPE


def problem_details(status: int, slug: str, detail: str, /, **extensions: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + slug,
        "title": slug.replace("-", " ").capitalize(),
        "status": status,
        "detail": detail,
        **extensions,
    }
    if (rid := request_id.get()) is not None:
        body["request_id"] = rid
    return body


def problem(
    status: int,
    slug: str,
    detail: str,
    /,
    *,
    headers: Mapping[str, str] | None = None,
    **extensions: Any,
) -> ProblemResponse:
    return ProblemResponse(
        problem_details(status, slug, detail, **extensions), status_code=status, headers=headers
    )


def refusal_details(refusal: domain_errors.DomainError) -> tuple[int, dict[str, Any]]:
    """A refused batch item: the status and problem it would have had on its own."""
    status = status_of(refusal)
    return status, problem_details(status, refusal.code, refusal.detail)


def status_of(error: Exception) -> int:
    for kind in type(error).__mro__:
        if kind in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[kind]
    return 500


async def _known_error(
    request: Request, error: domain_errors.DomainError | app_errors.ApplicationError
) -> ProblemResponse:
    return answer(request, error)


def answer(
    request: Request,
    error: domain_errors.DomainError | app_errors.ApplicationError,
    /,
    **extensions: Any,
) -> ProblemResponse:
    status = status_of(error)
    headers: dict[str, str] = {}
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    if (retry_after := RETRY_AFTER_S.get(type(error))) is not None:
        headers["Retry-After"] = retry_after
    if isinstance(error, app_errors.TooManyAttempts | app_errors.RateLimited):
        headers["Retry-After"] = str(error.retry_after_s)
    if status == 429:  # IETF RateLimit fields: nothing left until Retry-After
        headers["RateLimit-Remaining"] = "0"
        headers["RateLimit-Reset"] = headers.get("Retry-After", "1")
        if (limit := getattr(error, "limit", None)) is not None:
            headers["RateLimit-Limit"] = str(limit)
    if isinstance(error, app_errors.InsufficientScope):
        extensions["required_scope"] = error.required_scope
    if isinstance(error, domain_errors.PreconditionFailed) and error.sequence is not None:
        extensions["sequence"] = error.sequence
    # A refusal restored for an idempotent replay says so, like a replayed success does.
    # getattr: an error class without the attribute is simply not a replay.
    if getattr(error, "replayed", False):
        headers["Idempotent-Replayed"] = "true"
    if status >= 500:
        logger.warning("database trouble", code=error.code, detail=error.detail)
    else:
        logger.info("refused", code=error.code, status=status)
    if isinstance(error, domain_errors.DomainError):
        request.app.state.metrics.refused(error.code)
    return problem(status, error.code, error.detail, headers=headers, **extensions)


async def _batch_refused(request: Request, refused: BatchRefused) -> ProblemResponse:
    """An atomic batch answers with its first refused item's problem, plus that item's
    `index`; nothing moved."""
    return answer(request, refused.refusal, index=refused.index)


async def _validation_error(request: Request, error: RequestValidationError) -> ProblemResponse:
    if isinstance(error.body, bytes) and error.body:
        return _unsupported_media_type(request)
    return _invalid_request(validation_fields(error))


def _unsupported_media_type(request: Request) -> ProblemResponse:
    """FastAPI decodes a body as JSON only when its Content-Type says JSON, and leaves it as
    bytes otherwise (none given included); a JSON route then fails to validate those bytes.
    That is the wrong media type, not an invalid field: 415, naming the one this API reads."""
    given = request.headers.get("content-type", "")[:100]  # echoed: kept short
    detail = (
        f"This route reads JSON, not {given}: send `Content-Type: application/json`."
        if given
        else "The body has no Content-Type: send it as `Content-Type: application/json`."
    )
    accepted = {"POST": "Accept-Post", "PATCH": "Accept-Patch"}.get(request.method)
    headers = {accepted: "application/json"} if accepted else None
    return problem(415, "unsupported-media-type", detail, headers=headers)


def validation_fields(error: RequestValidationError) -> list[dict[str, Any]]:
    """The refused fields in plain words: `loc`, `msg` and `type` of each."""
    return [
        {
            "loc": list(item["loc"]),
            "msg": explain(item["loc"], item["type"], item["msg"]),
            "type": item["type"],
        }
        for item in error.errors()
    ]


def fields_detail(fields: list[dict[str, Any]]) -> str:
    """One refused field is the whole story, so it is the detail."""
    return fields[0]["msg"] if len(fields) == 1 else "The request is not valid; see `errors`."


def _invalid_request(fields: list[dict[str, Any]]) -> ProblemResponse:
    """422 `validation-error`."""
    return problem(422, "validation-error", fields_detail(fields), errors=jsonable_encoder(fields))


_UNPARSABLE_BODY = "There was an error parsing the body"
"""FastAPI's HTTPException(400) when decoding a body fails other than as a JSON syntax error:
bytes that are not UTF-8, nesting too deep for the parser."""


def _unparsable_body(error: HTTPException) -> ProblemResponse | None:
    """Our OpenAPI document promises 422 `validation-error` for every invalid body, and a
    client cannot tell "not UTF-8" or "a broken form" from "not JSON" (which FastAPI already
    answers 422): FastAPI's and Starlette's 400s for those become the same 422."""
    fields = unparsable_fields(error)
    return None if fields is None else _invalid_request(fields)


def unparsable_fields(error: HTTPException) -> list[dict[str, Any]] | None:
    """What FastAPI's or Starlette's 400 for an unreadable body means, as a refused field;
    None for any other HTTPException."""
    if error.status_code != 400:
        return None
    if isinstance(error.__context__, MultiPartException):  # Starlette raises inside `except`
        msg, kind = f"The form could not be read: {error.__context__.message}", "form_invalid"
    elif error.detail != _UNPARSABLE_BODY:
        return None
    elif isinstance(error.__cause__, UnicodeDecodeError):
        msg, kind = "The body is not valid UTF-8.", "json_invalid"
    else:
        msg, kind = "The body could not be parsed.", "body_invalid"
    return [{"loc": ["body"], "msg": msg, "type": kind}]


def _allowed_methods(request: Request, declared: str | None = None) -> str:
    """RFC 9110 section 10.2.1: `Allow` lists every method the resource supports. Starlette
    names those of the first route whose path matches, but one path may be served by several
    routes (GET and POST on /api/v1/accounts), so ask them all. A mounted app (the static
    files) is no route with methods: the `Allow` of its own 405 says what it takes."""
    methods = {method.strip().upper() for method in (declared or "").split(",") if method.strip()}
    # FastAPI's flat view of every route with its effective path (what /openapi.json is built
    # from): included routers are one opaque entry each in `app.routes`.
    for route in iter_route_contexts(request.app.routes):
        match, _ = route.matches(request.scope)
        if match is not Match.NONE:
            methods |= route.methods or set()
    if "GET" in methods:
        methods.add("HEAD")  # answered as GET without the body (http/head.py)
    methods.add("OPTIONS")  # answered below
    return ", ".join(sorted(methods))


async def _http_error(request: Request, error: HTTPException) -> Response:
    if (unparsable := _unparsable_body(error)) is not None:
        return unparsable
    if error.status_code == 405 and request.method == "OPTIONS":
        # RFC 9110 section 9.3.7: what this resource supports. No route declares OPTIONS, so
        # every OPTIONS to an existing path lands here; a CORS preflight never does
        # (CORSMiddleware answers it first, when CORS is on).
        allow = _allowed_methods(request, (error.headers or {}).get("Allow"))
        return Response(status_code=204, headers={"Allow": allow})
    headers = dict(error.headers or {})
    detail = error.detail if isinstance(error.detail, str) else HTTPStatus(error.status_code).phrase
    if error.status_code == 405:
        headers["Allow"] = _allowed_methods(request, headers.get("Allow"))
        detail = f"{request.method} is not allowed here; this resource takes {headers['Allow']}."
    slug = _SLUG_BY_STATUS.get(error.status_code) or HTTPStatus(
        error.status_code
    ).phrase.lower().replace(" ", "-")
    return problem(error.status_code, slug, detail, headers=headers)


async def _unexpected_error(_: Request, error: Exception) -> ProblemResponse:
    return unexpected_problem(error)


def unexpected_problem(error: Exception, /, **extensions: Any) -> ProblemResponse:
    logger.error("unexpected error", exc_info=error)
    return problem(500, "internal-error", "The server met an unexpected error.", **extensions)


def install_problem_handlers(app: FastAPI) -> None:
    """Handlers are coroutines: Starlette would run plain functions in a worker thread."""
    # Starlette types handlers as taking any Exception; each of ours gets only its own kind.
    handlers: dict[type[Exception], Any] = {
        domain_errors.DomainError: _known_error,
        app_errors.ApplicationError: _known_error,
        BatchRefused: _batch_refused,
        RequestValidationError: _validation_error,
        HTTPException: _http_error,
        Exception: _unexpected_error,
    }
    for kind, handler in handlers.items():
        app.add_exception_handler(kind, handler)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI declarations of the problem responses a route can give."""
    return {
        status: {
            "model": ProblemOut,
            "description": HTTPStatus(status).phrase,
            "content": {
                PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/ProblemOut"}}
            },
        }
        for status in statuses
    }
