"""Every error leaves as RFC 9457 problem+json, mapped from its type in this one place."""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from application import errors as app_errors
from domain import errors as domain_errors
from entrypoints.http.schemas import ProblemOut
from entrypoints.observability.request_context import request_id

PROBLEM_BASE = "https://hexbank.dev/problems/"
PROBLEM_MEDIA_TYPE = "application/problem+json"

logger = structlog.get_logger("hexbank.http")

STATUS_BY_ERROR: dict[type[Exception], int] = {
    domain_errors.EmailAlreadyRegistered: 409,
    domain_errors.IdempotencyKeyInFlight: 409,
    domain_errors.AccountNotFound: 404,
    domain_errors.TransferNotFound: 404,
    domain_errors.DomainError: 422,
    app_errors.InvalidCredentials: 401,
    app_errors.InvalidToken: 401,
    app_errors.InvalidPage: 422,
    app_errors.TooManyAttempts: 429,
    app_errors.TransientConflict: 503,
    app_errors.StorageUnavailable: 503,
}
"""Most specific first; a domain error not listed is a refused request (422)."""

RETRY_AFTER_S: dict[type[Exception], str] = {
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


class ProblemResponse(JSONResponse):
    media_type = PROBLEM_MEDIA_TYPE


def problem(
    status: int,
    slug: str,
    detail: str,
    *,
    headers: Mapping[str, str] | None = None,
    **extensions: Any,
) -> ProblemResponse:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + slug,
        "title": slug.replace("-", " ").capitalize(),
        "status": status,
        "detail": detail,
        **extensions,
    }
    if (rid := request_id.get()) is not None:
        body["request_id"] = rid
    return ProblemResponse(body, status_code=status, headers=headers)


def status_of(error: Exception) -> int:
    for kind in type(error).__mro__:
        if kind in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[kind]
    return 500


async def _known_error(
    request: Request, error: domain_errors.DomainError | app_errors.ApplicationError
) -> ProblemResponse:
    status = status_of(error)
    headers: dict[str, str] = {}
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    if (retry_after := RETRY_AFTER_S.get(type(error))) is not None:
        headers["Retry-After"] = retry_after
    if isinstance(error, app_errors.TooManyAttempts):
        headers["Retry-After"] = str(error.retry_after_s)
    if status >= 500:
        logger.warning("database trouble", code=error.code, detail=error.detail)
    else:
        logger.info("refused", code=error.code, status=status)
    if isinstance(error, domain_errors.DomainError):
        request.app.state.metrics.refused(error.code)
    return problem(status, error.code, error.detail, headers=headers)


async def _validation_error(_: Request, error: RequestValidationError) -> ProblemResponse:
    fields = [
        {"loc": list(item["loc"]), "msg": item["msg"], "type": item["type"]}
        for item in error.errors()
    ]
    return problem(
        422,
        "validation-error",
        "The request is not valid; see `errors`.",
        errors=jsonable_encoder(fields),
    )


async def _http_error(_: Request, error: HTTPException) -> ProblemResponse:
    slug = _SLUG_BY_STATUS.get(error.status_code) or HTTPStatus(
        error.status_code
    ).phrase.lower().replace(" ", "-")
    detail = error.detail if isinstance(error.detail, str) else HTTPStatus(error.status_code).phrase
    return problem(error.status_code, slug, detail, headers=error.headers)


async def _unexpected_error(_: Request, error: Exception) -> ProblemResponse:
    logger.error("unexpected error", exc_info=error)
    return problem(500, "internal-error", "The server met an unexpected error.")


def install_problem_handlers(app: FastAPI) -> None:
    """Handlers are coroutines: Starlette would run plain functions in a worker thread."""
    # Starlette types handlers as taking any Exception; each of ours gets only its own kind.
    handlers: dict[type[Exception], Any] = {
        domain_errors.DomainError: _known_error,
        app_errors.ApplicationError: _known_error,
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
