"""What /openapi.json says beside the routes: operation names, tags, servers, the guide in
`info.description`, and the conventions every operation follows. One place, so the routers
stay about behaviour and generated clients get stable, readable names."""

from __future__ import annotations

import copy
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.utils import generate_unique_id

from application.events import EVENT_TYPES
from domain.currency import MINOR_UNITS
from domain.metadata import (
    METADATA_KEY_MAX_LENGTH,
    METADATA_KEY_PATTERN,
    METADATA_MAX_KEYS,
    METADATA_VALUE_MAX_LENGTH,
)
from entrypoints.http.problems import PROBLEM_MEDIA_TYPE
from entrypoints.http.schemas import NO_CONTROL_CHARACTERS

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
    "POST /api/v1/accounts/{account_id}/monitors": "monitors_create",
    "GET /api/v1/accounts/{account_id}/monitors": "monitors_list",
    "DELETE /api/v1/accounts/{account_id}/monitors/{monitor_id}": "monitors_delete",
    "POST /api/v1/conversions": "conversions_create",
    "GET /api/v1/conversions/{conversion_id}": "conversions_get",
    "GET /api/v1/events": "events_list",
    "GET /health/live": "health_live",
    "GET /health/ready": "health_ready",
    "POST /api/v1/api-keys": "api_keys_create",
    "GET /api/v1/api-keys": "api_keys_list",
    "GET /api/v1/api-keys/{key_id}": "api_keys_get",
    "DELETE /api/v1/api-keys/{key_id}": "api_keys_revoke",
    "GET /api/v1/accounts/{account_id}/statement": "statements_export",
    "GET /api/v1/statement-keys": "statement_keys_list",
    "POST /api/v1/webhook-endpoints": "webhook_endpoints_create",
    "GET /api/v1/webhook-endpoints": "webhook_endpoints_list",
    "GET /api/v1/webhook-endpoints/{endpoint_id}": "webhook_endpoints_get",
    "PATCH /api/v1/webhook-endpoints/{endpoint_id}": "webhook_endpoints_update",
    "DELETE /api/v1/webhook-endpoints/{endpoint_id}": "webhook_endpoints_delete",
    "POST /api/v1/webhook-endpoints/{endpoint_id}/rotate-secret": "webhook_endpoints_rotate_secret",
    "GET /api/v1/webhook-endpoints/{endpoint_id}/deliveries": "webhook_deliveries_list",
    "POST /api/v1/webhook-endpoints/{endpoint_id}/replay": "webhook_endpoints_replay",
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
    {
        "name": "conversions",
        "description": "Move money between currencies at your rate, rounded down in the "
        "bank's favour, through the bank's FX accounts.",
    },
    {"name": "events", "description": "The feed of everything that happened to your accounts."},
    {
        "name": "api-keys",
        "description": "Keys for machines: scoped, restricted to accounts, expiring, revocable.",
    },
    {
        "name": "statements",
        "description": "Signed statements that verify offline, and the public keys to check "
        "them with.",
    },
    {
        "name": "webhooks",
        "description": "Signed webhooks: endpoints your events are POSTed to, their secrets, "
        "their delivery log, replays (docs/webhooks.md).",
    },
    {"name": "health", "description": "Liveness and readiness probes for orchestrators."},
]

CONTACT = {"name": "hexbank", "url": "https://hexbank.dev", "email": "api@hexbank.dev"}
LICENSE = {"name": "MIT", "url": "https://opensource.org/license/mit"}
SERVERS = [
    {
        "url": "/",
        "description": "This server, in whichever environment it runs (local, staging or "
        "production)",
        "x-internal": False,
    }
]

GUIDE = """\
A money service on a double-entry ledger: accounts, deposits, withdrawals, transfers, holds,
reversals and an event feed.

**Authentication.** Register with `POST /api/v1/users`, then get a bearer token from
`POST /api/v1/auth/token`: OAuth2's password grant, form-encoded (`grant_type=password`),
with your **email as `username`**. Send it as `Authorization: Bearer <access_token>` until
`expires_in` seconds have passed. Swagger UI's **Authorize** button does exactly this.
Operations marked with no security (registration, the token, the statement keys, health)
need no token.
A backend sends an **API key** (`POST /api/v1/api-keys`) the same way: `Bearer hxk_...`.

**Amounts** are integers in the currency's **minor units**: `10000` in EUR is 100.00 EUR,
`500` in JPY is 500 yen. There are no fractions and no floats.

**Retries.** Every request that moves money takes an `Idempotency-Key` header (1 to 255
visible ASCII characters, kept per user for 24 hours). A retry with the same key and body
replays the first answer, marked `Idempotent-Replayed: true`, instead of moving the money
again; the same key with another body is refused. Retry a 503 or a 429 after its
`Retry-After` seconds.

**Conditional debits.** `GET /api/v1/accounts/{id}` sends `ETag: "<sequence>"`. A transfer, a
hold or a withdrawal sent with `If-Match: "<sequence>"` applies only if the debited account is
still at that sequence when it is locked; otherwise 412 `precondition-failed`, with the
current `sequence`, and nothing moves. A malformed `If-Match` is 422 `validation-error`.

**Paging.** Lists answer a page of `items` and a `next_cursor`: pass it back as `cursor`
(`after` for the event feed), with the same filters, for the next page; `limit` sets the page
size. Pages never repeat or skip an item while new ones arrive. `next_cursor` is null on the
last page of a list; the event feed always gives one, to poll with.

**Errors** are RFC 9457 problems (`application/problem+json`) with `type`, `title`, `status`,
`detail` and the `request_id` of the exchange (also in `X-Request-ID`). The token endpoint's
problems also carry OAuth2's `error` and `error_description` (RFC 6749)."""


def install_openapi_conventions(app: FastAPI) -> None:
    """Conventions stated once for every operation: one with no security scheme says
    `security: []` (public, not forgotten); every status the server can answer it with is
    declared (see `declare_answers`); and FastAPI's default 422 (its `HTTPValidationError`
    model, which no route here sends: they answer problems) is left out, with its schemas."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = build()
        components = document.setdefault("components", {})
        components["headers"] = HEADERS
        components["responses"] = RESPONSES
        for operations in document.get("paths", {}).values():
            for operation in operations.values():
                operation.setdefault("security", [])
                responses = operation["responses"]
                if _DEFAULT_422 in str(responses.get("422")):
                    del responses["422"]
                declare_answers(operation)
                for parameter in operation.get("parameters", []):
                    _absent_not_null(parameter)
                if operation.get("operationId") == "events_list":
                    _event_types(operation)
                if operation.get("operationId") == "transfers_list":
                    operation["parameters"].append(METADATA_FILTER)
                if (example := BODY_EXAMPLES.get(operation.get("operationId", ""))) is not None:
                    operation["requestBody"]["content"]["application/json"]["example"] = example
        share_schemas(document)
        bound_scalars(document)
        describe_security(components)
        schemas = components.get("schemas", {})
        if _DEFAULT_422 not in str(document["paths"]):
            for unused in ("HTTPValidationError", "ValidationError"):
                schemas.pop(unused, None)
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]


UNLIMITED = frozenset({"health_live", "health_ready"})
"""Operations no admission cap or attempt limit applies to (no 429): the probes."""

LOGIN = "auth_token"
"""The token endpoint: its problems carry OAuth2's `error` (oauth2.py), and every answer of
it says `Cache-Control: no-store`."""

BEFORE_THE_ROUTE = ("413", "431")
"""Refused before any route runs (the body limit, the server's header limit): these answers
carry none of a route's own headers."""

REPLAYABLE_REFUSALS = ("403", "404", "409", "412", "422")
"""Refusals of a money write that are kept with its Idempotency-Key and replayed with
`Idempotent-Replayed: true`, like its success."""


def declare_answers(operation: dict[str, Any]) -> None:
    """Every status the server can answer `operation` with, with the headers sent on each.
    The middleware and the server answer some for every route alike, so they are declared
    here rather than route by route: 500 (an unexpected error), 503 with `Retry-After` (past
    the request deadline, the database away, or too many connections), 431 (headers past
    HEXBANK_MAX_HEADER_BYTES); 429 with `Retry-After` past a cap; 401 with `WWW-Authenticate`
    for a missing or bad token; 413 for a body past HEXBANK_MAX_BODY_BYTES and 415 for one
    that is not JSON. `X-Request-ID` is on every answer."""
    responses: dict[str, Any] = operation["responses"]
    token = operation.get("operationId") == LOGIN
    body = operation.get("requestBody", {}).get("content", {})
    wanted = {"500": "InternalError", "503": "ServiceUnavailable", "431": "HeadersTooLarge"}
    if operation.get("operationId") not in UNLIMITED:
        wanted["429"] = "TooManyRequests"
    if operation["security"]:
        wanted["401"] = "Unauthorized"
    if body:
        wanted["413"] = "PayloadTooLarge"
    if "application/json" in body:
        wanted["415"] = "UnsupportedMediaType"
    for status, name in wanted.items():
        if token and status in responses:  # its own problem schema, with OAuth2's `error`
            headers = responses[status].setdefault("headers", {})
            headers.update(RESPONSES[name].get("headers", {}))
        elif token:  # inline: its own headers are added below
            responses[status] = copy.deepcopy(RESPONSES[name])
        else:
            responses[status] = {"$ref": f"#/components/responses/{name}"}
    replayable = any(p.get("name") == "Idempotency-Key" for p in operation.get("parameters", []))
    for status, response in responses.items():
        if "$ref" in response:
            continue
        headers = response.setdefault("headers", {})
        headers["X-Request-ID"] = {"$ref": "#/components/headers/X-Request-ID"}
        if status == "201" and "Location" not in headers and not _several_created(operation):
            headers["Location"] = {"$ref": "#/components/headers/Location"}
        if replayable and (status.startswith("2") or status in REPLAYABLE_REFUSALS):
            headers["Idempotent-Replayed"] = {"$ref": "#/components/headers/Idempotent-Replayed"}
        if token and status not in BEFORE_THE_ROUTE:
            headers["Cache-Control"] = {"$ref": "#/components/headers/Cache-Control"}
            headers["Pragma"] = {"$ref": "#/components/headers/Pragma"}


def _several_created(operation: dict[str, Any]) -> bool:
    """An atomic batch's 201 makes many transfers and no one resource: no `Location`."""
    return bool(operation.get("operationId") == "transfers_batch")


def _header(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "schema": schema}


HEADERS: dict[str, Any] = {
    "X-Request-ID": _header(
        "The request's id: the client's own `X-Request-ID` when it sent a usable one, else "
        "made here. Also in every problem's `request_id` and on every log line.",
        {"type": "string", "maxLength": 128, "pattern": "^[A-Za-z0-9._:-]{1,128}$"},
    ),
    "Retry-After": _header(
        "Seconds to wait before retrying (RFC 9110 section 10.2.3).",
        {"type": "integer", "format": "int32", "minimum": 0, "maximum": 86400},
    ),
    "WWW-Authenticate": _header(
        "The scheme to authenticate with: `Bearer` (RFC 6750).",
        {"type": "string", "maxLength": 200, "pattern": "^Bearer"},
    ),
    "Idempotent-Replayed": _header(
        "`true` when this is the stored answer to an earlier request with the same "
        "Idempotency-Key and body: nothing moved again.",
        {"type": "string", "enum": ["true"]},
    ),
    "Location": _header(
        "The path of what a 201 made: the transfer, the account, or the registered user's "
        "own page (`/api/v1/users/me`).",
        {"type": "string", "maxLength": 200, "pattern": "^/api/v1/"},
    ),
    "RateLimit-Limit": _header(
        "The limit that applies (IETF RateLimit fields): requests in flight at once, or an "
        "API key's requests per second. Sent with a 429 whose limit is a count, and on every "
        "answer to an API key.",
        {"type": "integer", "format": "int32", "minimum": 0},
    ),
    "RateLimit-Remaining": _header(
        "What is left of the limit now: 0 with every 429.",
        {"type": "integer", "format": "int32", "minimum": 0},
    ),
    "RateLimit-Reset": _header(
        "Seconds until the limit is free again (with a 429, the same as `Retry-After`).",
        {"type": "integer", "format": "int32", "minimum": 0, "maximum": 86400},
    ),
    "Cache-Control": _header(
        "`no-store`: neither a token nor the outcome of a login may be cached (RFC 6749 "
        "section 5.1).",
        {"type": "string", "enum": ["no-store"]},
    ),
    "Pragma": _header("`no-cache`, for HTTP/1.0 caches.", {"type": "string", "enum": ["no-cache"]}),
    "ETag": _header(
        'The account\'s sequence (its entry count) as a strong ETag, `"<sequence>"`: send it '
        "back as `If-Match` on a debit to make the debit conditional.",
        {"type": "string", "maxLength": 22, "pattern": '^"[0-9]{1,20}"$'},
    ),
}
"""Response headers, declared once and referred to by every response that sends them."""


def _problem(description: str, *headers: str) -> dict[str, Any]:
    return {
        "description": description,
        "headers": {
            name: {"$ref": f"#/components/headers/{name}"} for name in ("X-Request-ID", *headers)
        },
        "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/ProblemOut"}}},
    }


RESPONSES: dict[str, Any] = {
    "Unauthorized": _problem(
        "Unauthorized: no bearer token, or one that is invalid or expired.", "WWW-Authenticate"
    ),
    "PayloadTooLarge": _problem("Payload Too Large: the body is past HEXBANK_MAX_BODY_BYTES."),
    "UnsupportedMediaType": _problem(
        "Unsupported Media Type: the body is not sent as application/json."
    ),
    "TooManyRequests": _problem(
        "Too Many Requests: past the caller's cap of requests in flight, of login attempts, "
        "or of an API key's rate; retry after `Retry-After` seconds.",
        "Retry-After",
        "RateLimit-Limit",
        "RateLimit-Remaining",
        "RateLimit-Reset",
    ),
    "HeadersTooLarge": _problem(
        "Request Header Fields Too Large: the request line and headers are past "
        "HEXBANK_MAX_HEADER_BYTES; the connection is closed."
    ),
    "InternalError": _problem("Internal Server Error: an unexpected error; nothing half done."),
    "ServiceUnavailable": _problem(
        "Service Unavailable: the database is away, the request passed its deadline, or the "
        "server holds too many connections; retry after `Retry-After` seconds.",
        "Retry-After",
    ),
}
"""The answers every route can give alike, declared once (see `declare_answers`)."""


CURRENCY: dict[str, Any] = {
    "type": "string",
    "description": "An active ISO 4217 code, in capitals. Amounts in it are integers in its "
    "minor units (EUR has 2 decimals: 10000 is 100.00 EUR; JPY none).",
    "enum": sorted(MINOR_UNITS),
    "examples": ["EUR"],
}

METADATA_VALUE: dict[str, Any] = {
    "type": "string",
    "maxLength": METADATA_VALUE_MAX_LENGTH,
    "pattern": NO_CONTROL_CHARACTERS,
}
METADATA: dict[str, Any] = {
    "type": "object",
    "description": f"Your own labels: at most {METADATA_MAX_KEYS} keys of 1 to "
    f"{METADATA_KEY_MAX_LENGTH} characters (A-Z a-z 0-9 _ . -), text values of at most "
    f"{METADATA_VALUE_MAX_LENGTH} characters. Returned exactly as given.",
    "maxProperties": METADATA_MAX_KEYS,
    "propertyNames": {"pattern": METADATA_KEY_PATTERN, "maxLength": METADATA_KEY_MAX_LENGTH},
    "additionalProperties": METADATA_VALUE,
    "examples": [{"order_id": "A-1042"}],
}
METADATA_PATCH: dict[str, Any] = {
    **METADATA,
    "description": "Merged into the metadata: a key with a value sets it, with null removes it.",
    "additionalProperties": {"anyOf": [METADATA_VALUE, {"type": "null"}]},
}

METADATA_FILTER: dict[str, Any] = {
    "name": "metadata",
    "in": "query",
    "required": False,
    "style": "deepObject",
    "explode": True,
    "description": "`metadata[KEY]=VALUE`, repeatable: only the transfers whose metadata has "
    "every pair given.",
    "schema": {
        "type": "object",
        "maxProperties": METADATA_MAX_KEYS,
        "propertyNames": {"pattern": METADATA_KEY_PATTERN, "maxLength": METADATA_KEY_MAX_LENGTH},
        "additionalProperties": METADATA_VALUE,
    },
}
"""The search's metadata filter, which the route reads from the query itself (OpenAPI's
deepObject style is exactly its `metadata[KEY]=VALUE` form)."""


README_WORDS = "correct horse"
"""The README's example password (an example for the docs, no secret)."""

BODY_EXAMPLES: dict[str, dict[str, Any]] = {
    "users_create": {"email": "ada@example.com", "password": README_WORDS, "full_name": "Ada"},
    "accounts_create": {"currency": "EUR", "name": "Rent", "metadata": {"team": "ops"}},
    "accounts_update": {"name": "Rent 2027", "metadata": {"team": None}},
    "deposits_create": {"amount": 10000, "metadata": {"source": "payroll"}},
    "withdrawals_create": {"amount": 2500, "description": "cash"},
    "transfers_create": {
        "from_account_id": "00000000-0000-4000-8000-000000000001",
        "to_account_id": "00000000-0000-4000-8000-000000000002",
        "amount": 2500,
        "currency": "EUR",
        "description": "rent",
    },
    "holds_post": {"amount": 1000},
    "reversals_create": {"amount": 500, "description": "refund"},
}
"""A body for each write that Swagger UI's "Try it out" can send as shown, again and again:
no `reference` (unique per user: a fixed one conflicts on the second try), no
`timeout_seconds` without `pending: true`. Account ids are to be replaced by your own."""


def share_schemas(document: dict[str, Any]) -> None:
    """One `Currency`, `Metadata` and `MetadataPatch` component, referred to by requests and
    answers alike: pydantic repeats the 164 codes of the currency enum in every request that
    takes one and writes a plain string in answers, and writes metadata as
    `patternProperties`, which admits any value under a key outside the pattern."""
    schemas = document["components"]["schemas"]
    schemas["Currency"] = CURRENCY
    schemas["Metadata"] = METADATA
    schemas["MetadataPatch"] = METADATA_PATCH
    for schema in list(schemas.values()):
        _share(schema.get("properties", {}))
    type_events(schemas)


EVENT_GROUPS: dict[str, tuple[str, tuple[str, ...]]] = {
    "TransferEvent": ("TransferOut", ("transfer.", "deposit.", "withdrawal.")),
    "AccountEvent": ("AccountOut", ("account.",)),
    "UserEvent": ("UserOut", ("user.",)),
    "ApiKeyEvent": ("ApiKeyEventData", ("api_key.",)),
    "WebhookEndpointEvent": ("WebhookEndpointEventData", ("webhook_endpoint.",)),
    "ConversionEvent": ("ConversionEventData", ("conversion.",)),
    "MonitorEvent": ("MonitorEventData", ("account.monitor.",)),
}
"""Each kind of event and the resource its `data` is, as the API shows it (docs/events.md)."""


def _event_group(kind: str) -> str:
    """The group of the longest prefix `kind` starts with (`account.monitor.` before
    `account.`)."""
    matches = [
        (len(prefix), name)
        for name, (_, prefixes) in EVENT_GROUPS.items()
        for prefix in prefixes
        if kind.startswith(prefix)
    ]
    return max(matches)[1]


def type_events(schemas: dict[str, Any]) -> None:
    """The feed's items as a union discriminated by `type`: the event schema of
    docs/events.md, with `data` the very schema of the resource the API answers (the route
    serves the outbox's JSON as stored, so the document states it here)."""
    schemas["EventAccount"] = {
        "type": "object",
        "description": "One of your accounts the event touched, right after the change.",
        "required": ["id", "sequence", "entry_hash", "previous_sequence", "balance", "available"],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "string", "format": "uuid"},
            "sequence": {
                "type": "integer",
                "minimum": 0,
                "description": "The account's entry count after the change: apply an event "
                "only when it is above the last one applied.",
            },
            "entry_hash": {
                "anyOf": [{"type": "string", "pattern": "^[0-9a-f]{64}$"}, {"type": "null"}],
                "description": "The hash of the account's entry `sequence` (64 zeros before "
                "its first): each event's chains from the one before (docs/statements.md). "
                "Null in events stored before entries were chained.",
            },
            "previous_sequence": {
                "anyOf": [{"type": "integer", "minimum": 0}, {"type": "null"}],
                "description": "The sequence of this account's previous event (its sequence "
                "before this change): above the last one applied, an event was missed; fetch "
                "it from the feed. Null on events written before hexbank recorded it.",
            },
            "balance": {"type": "integer"},
            "available": {"type": "integer"},
        },
    }
    # An api_key.* event's data is the key as listed, and `revoked_at` once revoked.
    key_data = copy.deepcopy(schemas["ApiKeyOut"])
    key_data["title"] = "ApiKeyEventData"
    key_data["properties"]["revoked_at"] = {
        "anyOf": [{"type": "string", "format": "date-time"}, {"type": "null"}],
        "description": "`api_key.revoked` only: when it was revoked.",
    }
    schemas["ApiKeyEventData"] = key_data
    schemas["WebhookEndpointEventData"] = {
        "type": "object",
        "title": "WebhookEndpointEventData",
        "required": ["id", "url", "reason", "disabled_at"],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "string", "format": "uuid"},
            "url": {"type": "string"},
            "reason": {
                "type": "string",
                "enum": ["gone", "failing"],
                "description": "gone: it answered 410; failing: every delivery failed for "
                "HEXBANK_WEBHOOK_RETRY_HOURS.",
            },
            "disabled_at": {"type": "string", "format": "date-time"},
        },
    }
    # A conversion.* event's data is the conversion as answered, with both legs as transfers.
    conversion_data = copy.deepcopy(schemas["ConversionOut"])
    conversion_data["title"] = "ConversionEventData"
    conversion_data["properties"]["transfers"] = {
        "type": "array",
        "items": {"$ref": "#/components/schemas/TransferOut"},
        "minItems": 2,
        "maxItems": 2,
        "description": "The debit leg, then the credit leg.",
    }
    conversion_data["required"] = [*conversion_data["required"], "transfers"]
    schemas["ConversionEventData"] = conversion_data
    figures = {
        "type": "object",
        "required": ["balance", "available"],
        "additionalProperties": False,
        "properties": {"balance": {"type": "integer"}, "available": {"type": "integer"}},
    }
    schemas["MonitorEventData"] = {
        "title": "MonitorEventData",
        "type": "object",
        "description": "A monitor's condition became true (`triggered`) or false again "
        "(`cleared`) with the movement that took the account to `sequence`.",
        "required": ["monitor", "account_id", "sequence", "before", "after"],
        "additionalProperties": False,
        "properties": {
            "monitor": {"$ref": "#/components/schemas/MonitorOut"},
            "account_id": {"type": "string", "format": "uuid"},
            "sequence": {"type": "integer", "minimum": 0},
            "before": {**figures, "description": "The account's figures before the movement."},
            "after": {**figures, "description": "And after it."},
        },
    }
    mapping: dict[str, str] = {}
    for name, (data, _) in EVENT_GROUPS.items():
        types = sorted(kind for kind in EVENT_TYPES if _event_group(kind) == name)
        mapping.update(dict.fromkeys(types, f"#/components/schemas/{name}"))
        schemas[name] = {
            "type": "object",
            "required": ["id", "type", "occurred_at", "schema_version", "data", "accounts"],
            "additionalProperties": False,
            "properties": {
                "id": {
                    "type": "string",
                    "format": "uuid",
                    "description": "Stable forever; the de-duplication key.",
                },
                "type": {"type": "string", "enum": types},
                "occurred_at": {"type": "string", "format": "date-time"},
                "schema_version": {"type": "integer", "minimum": 1, "maximum": 1},
                "data": {"$ref": f"#/components/schemas/{data}"},
                "accounts": {
                    "type": "array",
                    "items": {"$ref": "#/components/schemas/EventAccount"},
                },
            },
        }
    schemas["Event"] = {
        "oneOf": [{"$ref": f"#/components/schemas/{name}"} for name in EVENT_GROUPS],
        "discriminator": {"propertyName": "type", "mapping": dict(sorted(mapping.items()))},
    }
    schemas["EventFeedOut"]["properties"]["items"]["items"] = {"$ref": "#/components/schemas/Event"}


def _share(properties: dict[str, Any]) -> None:
    for name, schema in properties.items():
        kinds = schema.get("anyOf", [schema])
        nullable = {"type": "null"} in kinds
        values = [kind for kind in kinds if kind != {"type": "null"}]
        if len(values) != 1:
            continue
        value = values[0]
        component = None
        if name == "currency" and value.get("type") == "string":
            component = "Currency"
        elif name == "metadata" and value.get("type") == "object":
            patterned = value.get("patternProperties", {}).get(METADATA_KEY_PATTERN, {})
            component = "MetadataPatch" if "anyOf" in patterned else "Metadata"
        if component is None:
            continue
        reference = {"$ref": f"#/components/schemas/{component}"}
        shared = {"anyOf": [reference, {"type": "null"}]} if nullable else reference
        described = {key: schema[key] for key in ("description", "default") if key in schema}
        properties[name] = {**shared, **described}


def _absent_not_null(parameter: dict[str, Any]) -> None:
    """An optional query parameter is left out, never sent as null: its schema is the value's
    alone (FastAPI writes `anyOf: [value, null]` for `X | None = None`)."""
    schema = parameter.get("schema", {})
    kinds = schema.get("anyOf", [])
    values = [kind for kind in kinds if kind != {"type": "null"}]
    if parameter.get("required") or len(kinds) != 2 or len(values) != 1:
        return
    del schema["anyOf"]
    schema.update(values[0])


def _event_types(operation: dict[str, Any]) -> None:
    """The feed's `type` filter names event types: an enum, so a client knows them (one not
    known is refused as `invalid-page`)."""
    for parameter in operation.get("parameters", []):
        if parameter["name"] == "type" and "items" in parameter["schema"]:
            parameter["schema"]["items"] = {"type": "string", "enum": sorted(EVENT_TYPES)}


def describe_security(components: dict[str, Any]) -> None:
    """What the bearer token is, for people and for linters that look for it."""
    for scheme in components.get("securitySchemes", {}).values():
        scheme["description"] = (
            "Bearer tokens from `POST /api/v1/auth/token` (email as `username`). They are "
            "HS256 JWTs checked as RFC8725 (JSON Web Token Best Current Practices) asks: the "
            "algorithm pinned, the signature and every claim required and verified, and the "
            "expiry (`expires_in` seconds after issue) checked on every request."
        )


INT32 = (-(2**31), 2**31 - 1)
INT64 = (-(2**63), 2**63 - 1)

FORMAT_MAX_LENGTH = {"uuid": 36, "date-time": 32}
"""The longest text of each format as the API writes it and reads it: a hyphenated UUID, an
RFC 3339 instant with microseconds and an offset (the only form `Moment` reads)."""

CURSOR_PATTERN = "^[A-Za-z0-9_-]*$"
"""A page cursor is unpadded base64url (application/cursors.py); anything else is refused
as `invalid-page`."""


def bound_scalars(node: Any, name: str = "") -> None:
    """Integers and strings as exact as the API is: every integer says its format (int32 or
    int64) and both bounds as integers (a column is a bigint at most; pydantic's `lt=2**63`
    comes out as the float 9.223372036854776e+18, restated as the integer maximum 2**63-1);
    a UUID or an instant says its longest text; a cursor its alphabet."""
    if isinstance(node, list):
        for item in node:
            bound_scalars(item, name)
        return
    if not isinstance(node, dict):
        return
    if node.get("type") == "integer":
        _bound_integer(node)
    elif node.get("type") == "string":
        if (longest := FORMAT_MAX_LENGTH.get(node.get("format", ""))) is not None:
            node.setdefault("maxLength", longest)
        if name in ("cursor", "after", "next_cursor"):
            node.setdefault("pattern", CURSOR_PATTERN)
    if node.get("in") == "query" and isinstance(node.get("name"), str):
        name = node["name"]  # a parameter: its schema is bound by what it is
    for key, value in node.items():
        if key == "properties" and isinstance(value, dict):
            for prop, schema in value.items():
                bound_scalars(schema, prop)
        elif key not in ("example", "examples", "default", "const", "enum"):
            bound_scalars(value, name)


def _bound_integer(node: dict[str, Any]) -> None:
    if "exclusiveMinimum" in node:
        node["minimum"] = int(node.pop("exclusiveMinimum")) + 1
    if "exclusiveMaximum" in node:
        node["maximum"] = int(node.pop("exclusiveMaximum")) - 1
    low = int(node.get("minimum", INT64[0]))
    high = int(node.get("maximum", INT64[1]))
    node["minimum"], node["maximum"] = low, high
    if "format" not in node:
        node["format"] = "int32" if INT32[0] <= low and high <= INT32[1] else "int64"


_DEFAULT_422 = "#/components/schemas/HTTPValidationError"


def document() -> dict[str, Any]:
    """The document the server serves at /openapi.json, built without serving or a database:
    the app is created (its container only describes connections) and never started."""
    from entrypoints.app import create_app  # here: the app imports this module
    from entrypoints.container import build_container
    from entrypoints.settings import Settings

    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    unused = "postgresql+asyncpg://hexbank@127.0.0.1:5432/hexbank"  # never connected to
    return create_app(build_container(settings, unused)).openapi()


def main() -> None:
    """`python -m entrypoints.http.openapi [PATH]`: the document as JSON, to PATH or stdout,
    for the linters and the SDK generator (make spec, make client)."""
    import json
    import sys

    text = json.dumps(document(), indent=2, ensure_ascii=False) + "\n"
    if len(sys.argv) > 1:
        with open(sys.argv[1], "w", encoding="utf-8") as out:
            out.write(text)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
