"""Every status and header an operation can answer is declared in /openapi.json (issue 22,
item 2): the walk below states, from what each operation is (secured, with a body, with an
Idempotency-Key...), the set it must declare; the requests below check that the server's
own answers to each operation fall in that set."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

from httpx import AsyncClient

from tests.http.helpers import PROBLEM

PROBES = {"health_live", "health_ready"}
UUID = "00000000-0000-4000-8000-000000000000"


async def spec(client: AsyncClient) -> dict[str, Any]:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def resolved(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """`node` with its `$ref` (if any) followed, within the document."""
    while "$ref" in node:
        target: Any = document
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
    ]


def expected_statuses(operation: dict[str, Any]) -> set[str]:
    """What any operation of this kind can answer, whatever its route does."""
    expected = {"500", "503", "431"}  # an unexpected error; deadline, database, connections
    if operation["operationId"] not in PROBES:
        expected.add("429")  # the user's in-flight cap, or the address's login attempts
    if operation["security"]:
        expected.add("401")  # no token, or a bad one
    body = operation.get("requestBody", {}).get("content", {})
    if body:
        expected.add("413")  # past HEXBANK_MAX_BODY_BYTES
    if "application/json" in body:
        expected.add("415")  # a body that is not JSON
    if body or operation.get("parameters"):
        # a field refused: 422 `validation-error`; the token endpoint's is OAuth2's 400
        expected.add("400" if operation["operationId"] == "auth_token" else "422")
    if any(parameter["in"] == "path" for parameter in operation.get("parameters", [])):
        expected.add("404")  # not yours, or no such one
    return expected


def header_names(document: dict[str, Any], response: dict[str, Any]) -> set[str]:
    return set(resolved(document, response).get("headers", {}))


async def test_every_operation_declares_the_statuses_of_its_kind(client: AsyncClient) -> None:
    document = await spec(client)
    for method, path, operation in operations(document):
        declared = set(operation["responses"])
        missing = expected_statuses(operation) - declared
        assert not missing, (method, path, sorted(missing))


async def test_every_problem_response_is_a_problem_with_its_headers(
    client: AsyncClient,
) -> None:
    document = await spec(client)
    for method, path, operation in operations(document):
        token = operation["operationId"] == "auth_token"
        replayable = any(
            parameter["name"] == "Idempotency-Key" for parameter in operation.get("parameters", [])
        )
        for status, declared in operation["responses"].items():
            response = resolved(document, declared)
            headers = header_names(document, response)
            where = (method, path, status)
            assert "X-Request-ID" in headers, where
            if status >= "400":
                assert PROBLEM in response["content"], where
                schema = resolved(document, response["content"][PROBLEM]["schema"])
                assert {"type", "title", "status", "detail"} <= set(schema["required"]), where
            if status in ("429", "503"):
                assert "Retry-After" in headers, where
            if status == "401":
                assert "WWW-Authenticate" in headers, where
            if replayable and status.startswith("2"):
                assert "Idempotent-Replayed" in headers, where
            if token and status not in ("413", "431"):  # refused before the route
                assert {"Cache-Control", "Pragma"} <= headers, where
    retry_after = document["components"]["headers"]["Retry-After"]["schema"]
    assert retry_after["type"] == "integer"


async def test_declared_headers_are_the_ones_sent(client: AsyncClient) -> None:
    """The names declared are the names the server writes (not a near miss such as
    `Idempotency-Replayed`), on a real answer of each kind."""
    document = await spec(client)
    declared = set(document["components"]["headers"])
    assert {"Retry-After", "WWW-Authenticate", "X-Request-ID", "Idempotent-Replayed"} <= declared

    unauthenticated = await client.get("/api/v1/accounts")
    assert unauthenticated.status_code == 401
    assert unauthenticated.headers["WWW-Authenticate"] == "Bearer"
    assert unauthenticated.headers["X-Request-ID"]

    await client.post(
        "/api/v1/users",
        json={"email": "grace@example.com", "password": "password1", "full_name": "Grace"},
    )
    login = {"grant_type": "password", "username": "grace@example.com", "password": "password1"}
    token = await client.post("/api/v1/auth/token", data=login)
    assert token.headers["Cache-Control"] == "no-store"
    assert token.headers["Pragma"] == "no-cache"
    auth = {"Authorization": f"Bearer {token.json()['access_token']}"}
    account = await client.post("/api/v1/accounts", json={"currency": "EUR"}, headers=auth)
    key = {"Idempotency-Key": str(uuid4()), **auth}
    url = f"/api/v1/accounts/{account.json()['id']}/deposits"
    first = await client.post(url, json={"amount": 100}, headers=key)
    again = await client.post(url, json={"amount": 100}, headers=key)
    assert first.status_code == again.status_code == 201
    assert "Idempotent-Replayed" not in first.headers
    assert again.headers["Idempotent-Replayed"] == "true"


async def test_each_operation_answers_only_declared_statuses_to_bad_requests(
    client: AsyncClient,
) -> None:
    """Without a token, with a body that is not JSON, with a bad path id: whatever the server
    answers each operation is among its declared statuses."""
    document = await spec(client)
    for method, path, operation in operations(document):
        url = path.replace("{account_id}", UUID).replace("{transfer_id}", UUID)
        declared = set(operation["responses"])
        answers = [await client.request(method, url)]
        if operation.get("requestBody"):
            answers.append(
                await client.request(
                    method, url, content=b"amount=1", headers={"Content-Type": "text/plain"}
                )
            )
        if "{" in path:
            answers.append(await client.request(method, path.replace("{", "x").replace("}", "")))
        for answer in answers:
            where = (method, path, answer.status_code, answer.text[:200])
            assert str(answer.status_code) in declared, where


async def test_every_201_but_the_atomic_batch_declares_and_sends_location(
    client: AsyncClient,
) -> None:
    document = await spec(client)
    for path, item in document["paths"].items():
        for method, operation in item.items():
            created = operation.get("responses", {}).get("201")
            if created is None:
                continue
            several = operation["operationId"] == "transfers_batch"
            assert ("Location" in created.get("headers", {})) is not several, (method, path)

    registered = await client.post(
        "/api/v1/users",
        json={"email": "lin@example.com", "password": "password1", "full_name": "Lin"},
    )
    assert registered.headers["Location"] == "/api/v1/users/me"
    login = {"grant_type": "password", "username": "lin@example.com", "password": "password1"}
    token = await client.post("/api/v1/auth/token", data=login)
    auth = {"Authorization": f"Bearer {token.json()['access_token']}"}
    opened = [
        await client.post("/api/v1/accounts", json={"currency": "EUR"}, headers=auth)
        for _ in range(2)
    ]
    source, destination = (answer.json()["id"] for answer in opened)
    assert opened[0].headers["Location"] == f"/api/v1/accounts/{source}"
    assert (await client.get(opened[0].headers["Location"], headers=auth)).status_code == 200
    deposit = await client.post(
        f"/api/v1/accounts/{source}/deposits", json={"amount": 100}, headers=auth
    )
    transfer = await client.post(
        "/api/v1/transfers",
        json={
            "from_account_id": source,
            "to_account_id": destination,
            "amount": 5,
            "currency": "EUR",
        },
        headers=auth,
    )
    for made in (deposit, transfer):
        assert made.status_code == 201
        assert made.headers["Location"] == f"/api/v1/transfers/{made.json()['id']}"
        assert (await client.get(made.headers["Location"], headers=auth)).json() == made.json()
