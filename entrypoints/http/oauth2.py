"""The OAuth2 token endpoint speaks RFC 6749 as well as RFC 9457.

Every error it answers is a problem that also carries the `error` and `error_description` an
OAuth2 client reads (section 5.2): without `error`, a standard client takes the problem for a
token. Every answer, success or error, says `Cache-Control: no-store` and `Pragma: no-cache`
(section 5.1): neither a token nor the outcome of a login may be kept by a cache.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from http import HTTPStatus
from typing import Any, Literal

from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import Field
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from application.errors import ApplicationError, InvalidCredentials
from domain.errors import DomainError
from entrypoints.http.problems import (
    PROBLEM_MEDIA_TYPE,
    answer,
    fields_detail,
    problem,
    status_of,
    unexpected_problem,
    unparsable_fields,
    validation_fields,
)
from entrypoints.http.schemas import ProblemOut

OAuth2Error = Literal[
    "invalid_request",
    "invalid_grant",
    "unsupported_grant_type",
    "temporarily_unavailable",
    "server_error",
]

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class TokenProblemOut(ProblemOut):
    """A problem of the token endpoint: RFC 9457's fields and RFC 6749's `error`."""

    error: OAuth2Error = Field(
        description="RFC 6749 section 5.2: `invalid_grant` (wrong email or password), "
        "`invalid_request` (a malformed request), `unsupported_grant_type` (not `password`); "
        "`temporarily_unavailable` (too many attempts, or the database is away: see "
        "`Retry-After`) and `server_error` come from RFC 6749 section 4.1.2.1."
    )
    error_description: str = Field(description="The same as `detail`.")


class OAuth2TokenRoute(APIRoute):
    """The route class of the token endpoint: its errors and headers as described above."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def token_endpoint(request: Request) -> Response:
            try:
                response = await handle(request)
            except Exception as error:  # every error: each gets its OAuth2 `error`
                response = _token_problem(request, error)
            response.headers.update(NO_STORE)
            return response

        return token_endpoint


def _token_problem(request: Request, error: Exception) -> Response:
    if isinstance(error, RequestValidationError):
        fields = validation_fields(error)
        # A grant type named but not ours is `unsupported_grant_type`; none at all is a
        # malformed request (`invalid_request`), like any other missing parameter.
        unsupported = [
            field
            for field in fields
            if field["loc"][-1:] == ["grant_type"] and field["type"] != "missing"
        ]
        if unsupported:
            detail = unsupported[0]["msg"]
            return _oauth2_problem(400, "unsupported-grant-type", detail, "unsupported_grant_type")
        return _malformed(fields)
    if isinstance(error, HTTPException):
        if (unreadable := unparsable_fields(error)) is not None:
            return _malformed(unreadable)
        # The body grew past HEXBANK_MAX_BODY_BYTES while it was read (413).
        slug = HTTPStatus(error.status_code).phrase.lower().replace(" ", "-")
        detail = error.detail if isinstance(error.detail, str) else slug
        return _oauth2_problem(error.status_code, slug, detail, "invalid_request")
    if isinstance(error, DomainError | ApplicationError):
        return answer(request, error, error=_oauth2_error(error), error_description=error.detail)
    detail = "The server met an unexpected error."
    return unexpected_problem(error, error="server_error", error_description=detail)


def _oauth2_error(error: DomainError | ApplicationError) -> OAuth2Error:
    if isinstance(error, InvalidCredentials):
        return "invalid_grant"
    if status_of(error) in (429, 503):
        return "temporarily_unavailable"
    return "server_error" if status_of(error) >= 500 else "invalid_request"


def _malformed(fields: list[dict[str, Any]]) -> Response:
    """RFC 6749's `invalid_request` is a 400, not the 422 `validation-error` of the JSON
    routes: `bad-request`, with the refused fields as `errors` all the same."""
    detail = fields_detail(fields)
    return problem(
        400,
        "bad-request",
        detail,
        errors=jsonable_encoder(fields),
        error="invalid_request",
        error_description=detail,
    )


def _oauth2_problem(status: int, slug: str, detail: str, error: OAuth2Error) -> Response:
    return problem(status, slug, detail, error=error, error_description=detail)


def token_problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI declarations of the token endpoint's problems, with `error`."""
    return {
        status: {
            "model": TokenProblemOut,
            "description": HTTPStatus(status).phrase,
            "content": {
                PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/TokenProblemOut"}}
            },
        }
        for status in statuses
    }
