"""What /openapi.json says beside the routes: operation names, tags, servers, the guide in
`info.description`, and the conventions every operation follows. One place, so the routers
stay about behaviour and generated clients get stable, readable names."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.utils import generate_unique_id

from entrypoints.http.problems import PROBLEM_MEDIA_TYPE

OPERATION_IDS: dict[str, str] = {
    "POST /api/v1/users": "users_create",
    "POST /api/v1/auth/token": "auth_token",
    "GET /api/v1/users/me": "users_me",
    "POST /api/v1/accounts": "accounts_create",
    "GET /api/v1/accounts": "accounts_list",
    "GET /api/v1/accounts/{account_id}": "accounts_get",
    "PATCH /api/v1/accounts/{account_id}": "accounts_update",
    "POST /api/v1/accounts/{account_id}/close": "accounts_close",
    "GET /api/v1/accounts/{account_id}/balance": "accounts_balance_at",
    "GET /api/v1/accounts/{account_id}/summary": "accounts_summary",
    "GET /api/v1/accounts/{account_id}/entries": "entries_list",
    "POST /api/v1/accounts/{account_id}/deposits": "deposits_create",
    "POST /api/v1/accounts/{account_id}/withdrawals": "withdrawals_create",
    "POST /api/v1/transfers": "transfers_create",
    "GET /api/v1/transfers": "transfers_list",
    "GET /api/v1/transfers/{transfer_id}": "transfers_get",
    "POST /api/v1/transfers/batch": "transfers_batch",
    "POST /api/v1/transfers/{transfer_id}/post": "holds_post",
    "POST /api/v1/transfers/{transfer_id}/void": "holds_void",
    "POST /api/v1/transfers/{transfer_id}/reversals": "reversals_create",
    "GET /api/v1/events": "events_list",
    "GET /health/live": "health_live",
    "GET /health/ready": "health_ready",
    "POST /api/v1/api-keys": "api_keys_create",
    "GET /api/v1/api-keys": "api_keys_list",
    "DELETE /api/v1/api-keys/{key_id}": "api_keys_revoke",
}
"""`METHOD /path` -> operationId, `resource_action`: the method names of generated clients."""


def operation_id(route: APIRoute) -> str:
    """FastAPI's `generate_unique_id_function`. A route missing above keeps FastAPI's long
    default name, which the contract test refuses, so a new route cannot go unnamed."""
    method = min(route.methods or {""})  # one method per route here
    return OPERATION_IDS.get(f"{method} {route.path_format}") or generate_unique_id(route)


TAGS: list[dict[str, Any]] = [
    {"name": "users", "description": "Register, and trade your email and password for a token."},
    {
        "name": "accounts",
        "description": "Open, name and close accounts; deposit, withdraw, read balances, "
        "summaries and ledger entries.",
    },
    {
        "name": "transfers",
        "description": "Move money between accounts: now, as a hold to post or void later, "
        "in batches, and back again (reversals); search them.",
    },
    {"name": "events", "description": "The feed of everything that happened to your accounts."},
    {
        "name": "api-keys",
        "description": "Keys for machines: scoped, restricted to accounts, expiring, revocable.",
    },
    {"name": "health", "description": "Liveness and readiness probes for orchestrators."},
]

CONTACT = {"name": "hexbank", "url": "https://hexbank.dev", "email": "api@hexbank.dev"}
LICENSE = {"name": "MIT", "url": "https://opensource.org/license/mit"}
SERVERS = [{"url": "/", "description": "This server"}]

GUIDE = """\
A money service on a double-entry ledger: accounts, deposits, withdrawals, transfers, holds,
reversals and an event feed.

**Authentication.** Register with `POST /api/v1/users`, then get a bearer token from
`POST /api/v1/auth/token`: OAuth2's password grant, form-encoded (`grant_type=password`),
with your **email as `username`**. Send it as `Authorization: Bearer <access_token>` until
`expires_in` seconds have passed. Swagger UI's **Authorize** button does exactly this.
Operations marked with no security (registration, the token, health) need no token.
A backend sends an **API key** (`POST /api/v1/api-keys`) the same way: `Bearer hxk_...`.

**Amounts** are integers in the currency's **minor units**: `10000` in EUR is 100.00 EUR,
`500` in JPY is 500 yen. There are no fractions and no floats.

**Retries.** Every request that moves money takes an `Idempotency-Key` header (1 to 255
visible ASCII characters, kept per user for 24 hours). A retry with the same key and body
replays the first answer, marked `Idempotent-Replayed: true`, instead of moving the money
again; the same key with another body is refused. Retry a 503 or a 429 after its
`Retry-After` seconds.

**Paging.** Lists answer a page of `items` and a `next_cursor`: pass it back as `cursor`
(`after` for the event feed), with the same filters, for the next page; `limit` sets the page
size. Pages never repeat or skip an item while new ones arrive. `next_cursor` is null on the
last page of a list; the event feed always gives one, to poll with.

**Errors** are RFC 9457 problems (`application/problem+json`) with `type`, `title`, `status`,
`detail` and the `request_id` of the exchange (also in `X-Request-ID`). The token endpoint's
problems also carry OAuth2's `error` and `error_description` (RFC 6749)."""


def install_openapi_conventions(app: FastAPI) -> None:
    """Conventions stated once for every operation: one with no security scheme says
    `security: []` (public, not forgotten); one that reads a JSON body declares the 415 it
    answers to a body of another media type; and FastAPI's default 422 (its
    `HTTPValidationError` model, which no route here sends: they answer problems) is left
    out, with its schemas."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = build()
        for operations in document.get("paths", {}).values():
            for operation in operations.values():
                operation.setdefault("security", [])
                responses = operation["responses"]
                if _DEFAULT_422 in str(responses.get("422")):
                    del responses["422"]
                content = operation.get("requestBody", {}).get("content", {})
                if "application/json" in content:
                    operation["responses"].setdefault("415", _UNSUPPORTED_MEDIA_TYPE)
        schemas = document.get("components", {}).get("schemas", {})
        if _DEFAULT_422 not in str(document["paths"]):
            for unused in ("HTTPValidationError", "ValidationError"):
                schemas.pop(unused, None)
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]


_DEFAULT_422 = "#/components/schemas/HTTPValidationError"

_UNSUPPORTED_MEDIA_TYPE = {
    "description": "Unsupported Media Type: the body is not sent as application/json.",
    "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/ProblemOut"}}},
}
