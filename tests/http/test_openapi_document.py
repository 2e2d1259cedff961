"""/openapi.json as generators and linters read it: operation names, tags, servers, the guide,
security on every operation, and the 415 of every JSON body."""

from __future__ import annotations

import re
from typing import Any

from httpx import AsyncClient

from entrypoints.http.openapi import OPERATION_IDS

RESOURCE_ACTION = re.compile(r"^[a-z]+_[a-z]+(_[a-z]+)*$")
PUBLIC = {"users_create", "auth_token", "health_live", "health_ready", "statement_keys_list"}


async def openapi(client: AsyncClient) -> dict[str, Any]:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
    ]


async def test_every_operation_has_a_unique_resource_action_id(client: AsyncClient) -> None:
    document = await openapi(client)
    ids = [operation["operationId"] for _, _, operation in operations(document)]
    for method, path, operation in operations(document):
        name = operation["operationId"]
        assert RESOURCE_ACTION.fullmatch(name), (method, path, name)
        # Named on purpose in OPERATION_IDS, not by FastAPI's fallback.
        assert OPERATION_IDS[f"{method.upper()} {path}"] == name
    assert len(ids) == len(set(ids)), sorted(ids)
    assert sorted(ids) == sorted(OPERATION_IDS.values())  # no stale name either
    assert {"holds_post", "accounts_balance_at", "events_list", "transfers_create"} <= set(ids)


async def test_tags_servers_and_info_are_described(client: AsyncClient) -> None:
    document = await openapi(client)
    tags = {tag["name"]: tag["description"] for tag in document["tags"]}
    used = {tag for _, _, operation in operations(document) for tag in operation["tags"]}
    assert used == set(tags), (used, tags)
    assert all(tags.values())
    (server,) = document["servers"]
    assert server["url"] == "/"
    assert server["x-internal"] is False
    assert "production" in server["description"]
    info = document["info"]
    assert info["license"]["name"] == "MIT"
    assert info["contact"]["url"]
    description = info["description"]
    for words in (
        "`grant_type=password`",
        "**email as `username`**",
        "Authorization: Bearer",
        "minor units",
        "Idempotency-Key",
        "next_cursor",
        "| `insufficient-funds` | 422 |",  # the problem table follows the guide
    ):
        assert words in description, words
    assert description.index("Idempotency-Key") < description.index("| slug | status |")


async def test_public_operations_say_so_and_the_others_need_the_bearer(
    client: AsyncClient,
) -> None:
    document = await openapi(client)
    for method, path, operation in operations(document):
        if operation["operationId"] in PUBLIC:
            assert operation["security"] == [], (method, path)
        else:
            assert operation["security"] == [{"OAuth2PasswordBearer": []}], (method, path)


async def test_json_bodies_declare_415_and_no_fastapi_default_422_is_left(
    client: AsyncClient,
) -> None:
    document = await openapi(client)
    with_json_body = 0
    for method, path, operation in operations(document):
        content = operation.get("requestBody", {}).get("content", {})
        if "application/json" in content:
            with_json_body += 1
            assert "415" in operation["responses"], (method, path)
        for response in operation["responses"].values():
            assert "HTTPValidationError" not in str(response), (method, path)
    assert with_json_body == 15  # users, accounts (2), deposits, withdrawals, transfers (2),
    # holds_post, reversals, api_keys_create, webhook endpoints (create, update, replay),
    # conversions_create, monitors_create
    assert "HTTPValidationError" not in document["components"]["schemas"]
