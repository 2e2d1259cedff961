"""Regressions from the hostile trial: values that reached the database unchecked, throttles a
client could steer, refusals that said too much or too little, and outages that answered 500."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from httpx import AsyncClient

from tests.conftest import make_settings, serving
from tests.http.helpers import assert_problem, opened, payer_and_payee, signed_up


def cursor_of(payload: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


@pytest.mark.postgres  # PostgreSQL's bigint range and the pooled connection after it
async def test_a_cursor_past_the_64_bit_range_is_refused_before_the_database(
    client: AsyncClient,
) -> None:
    auth = await signed_up(client)
    account = await opened(client, auth, funds=100)
    for sequence in (2**63, 2**64, -(2**63) - 1, 0, -1):
        response = await client.get(
            f"/api/v1/accounts/{account}/entries",
            params={"cursor": cursor_of({"a": account, "s": sequence})},
            headers=auth,
        )
        assert_problem(response, 422, "invalid-page")
    # The pool was never handed a damaged connection: the next calls are served normally.
    for _ in range(3):
        response = await client.get(f"/api/v1/accounts/{account}/entries", headers=auth)
        assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "payload",
    [
        {"a": 1, "s": 3},
        {"a": None, "s": 3},
        {"a": ["x"], "s": 3},
        {"s": 3},
        [1, 2],
        "text",
        3,
        None,
        {"a": "not-a-uuid", "s": 3},
        {"a": "{account}", "s": 1.5},
        {"a": "{account}", "s": "3"},
        {"a": "{account}", "s": True},
        {"a": "{account}", "s": [3]},
        {"a": "{account}"},
    ],
)
async def test_a_cursor_of_the_wrong_shape_is_422(client: AsyncClient, payload: object) -> None:
    auth = await signed_up(client)
    account = await opened(client, auth)
    if isinstance(payload, dict) and payload.get("a") == "{account}":
        payload = {**payload, "a": account}
    response = await client.get(
        f"/api/v1/accounts/{account}/entries", params={"cursor": cursor_of(payload)}, headers=auth
    )
    assert_problem(response, 422, "invalid-page")


async def test_a_currency_mismatch_says_nothing_of_another_users_account(
    client: AsyncClient,
) -> None:
    ada = await signed_up(client, "ada@example.com")
    bob = await signed_up(client, "bob@example.com")
    source = await opened(client, ada, funds=1_000)
    bobs_yen = await opened(client, bob, currency="JPY")
    response = await client.post(
        "/api/v1/transfers",
        json={"from_account_id": source, "to_account_id": bobs_yen, "amount": 1, "currency": "EUR"},
        headers=ada,
    )
    body = assert_problem(response, 422, "currency-mismatch")
    assert "JPY" not in body["detail"]
    assert bobs_yen not in body["detail"]


async def test_a_replayed_refusal_says_it_is_a_replay(client: AsyncClient) -> None:
    ada, _, source, destination = await payer_and_payee(client, funds=10)
    body = {"from_account_id": source, "to_account_id": destination, "amount": 11}
    body["currency"] = "EUR"
    headers = {**ada, "Idempotency-Key": "too-much"}
    first = await client.post("/api/v1/transfers", json=body, headers=headers)
    assert_problem(first, 422, "insufficient-funds")
    assert "idempotent-replayed" not in first.headers
    again = await client.post("/api/v1/transfers", json=body, headers=headers)
    assert_problem(again, 422, "insufficient-funds")
    assert again.headers["idempotent-replayed"] == "true"


async def test_a_description_of_null_and_of_the_text_none_are_different_requests(
    client: AsyncClient,
) -> None:
    ada, _, source, destination = await payer_and_payee(client)
    body = {"from_account_id": source, "to_account_id": destination, "amount": 1, "currency": "EUR"}
    headers = {**ada, "Idempotency-Key": "typed-fingerprint"}
    first = await client.post(
        "/api/v1/transfers", json={**body, "description": None}, headers=headers
    )
    assert first.status_code == 201, first.text
    changed = await client.post(
        "/api/v1/transfers", json={**body, "description": "None"}, headers=headers
    )
    assert_problem(changed, 422, "idempotency-key-reused")


async def test_forwarded_headers_are_ignored_unless_the_peer_is_a_trusted_proxy(
    database_url: str, tmp_path: Path
) -> None:
    """A header per request must not buy a fresh throttle key, nor lock out someone else."""
    settings = make_settings(database_url, tmp_path, login_failures_per_client=3)
    async with serving(settings, database_url) as client:
        wrong = {
            "grant_type": "password",
            "username": "nobody@example.com",
            "password": "wrong-password",
        }
        for n in range(3):
            forged = {"X-Forwarded-For": f"203.0.113.{n}"}
            response = await client.post("/api/v1/auth/token", data=wrong, headers=forged)
            assert_problem(response, 400, "invalid-credentials")
        blocked = await client.post(
            "/api/v1/auth/token", data=wrong, headers={"X-Forwarded-For": "198.51.100.7"}
        )
        assert_problem(blocked, 429, "too-many-attempts")


async def test_a_trusted_proxy_names_the_client(database_url: str, tmp_path: Path) -> None:
    settings = make_settings(
        database_url, tmp_path, login_failures_per_client=2, trusted_proxies=["127.0.0.1"]
    )
    async with serving(settings, database_url) as client:
        wrong = {
            "grant_type": "password",
            "username": "nobody@example.com",
            "password": "wrong-password",
        }
        for _ in range(2):
            headers = {"X-Forwarded-For": "203.0.113.9"}
            response = await client.post("/api/v1/auth/token", data=wrong, headers=headers)
            assert_problem(response, 400, "invalid-credentials")
        blocked = await client.post(
            "/api/v1/auth/token", data=wrong, headers={"X-Forwarded-For": "203.0.113.9"}
        )
        assert_problem(blocked, 429, "too-many-attempts")
        # Another client behind the same proxy is not punished for it.
        other = await client.post(
            "/api/v1/auth/token", data=wrong, headers={"X-Forwarded-For": "203.0.113.10"}
        )
        assert_problem(other, 400, "invalid-credentials")
        # A client address of any length makes a key of one length (no index overflow).
        huge = await client.post(
            "/api/v1/auth/token", data=wrong, headers={"X-Forwarded-For": "9" * 4_000}
        )
        assert_problem(huge, 400, "invalid-credentials")


async def test_login_and_registration_answer_503_while_the_database_is_away(
    tmp_path: Path,
) -> None:
    """Nothing listens on port 1: every database call fails to connect."""
    unreachable = "postgresql+asyncpg://hexbank@127.0.0.1:1/hexbank"
    settings = make_settings(unreachable, tmp_path, db_connect_timeout_s=1.0)
    async with serving(settings, unreachable) as client:
        registration = await client.post(
            "/api/v1/users",
            json={"email": "ada@example.com", "password": "password1", "full_name": "Ada"},
        )
        assert_problem(registration, 503, "storage-unavailable")
        assert int(registration.headers["retry-after"]) > 0
        login = await client.post(
            "/api/v1/auth/token",
            data={"grant_type": "password", "username": "ada@example.com", "password": "password1"},
        )
        assert_problem(login, 503, "storage-unavailable")
        assert int(login.headers["retry-after"]) > 0


@pytest.mark.parametrize(
    "moment", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "2026-01-01T00:00:00"]
)
async def test_a_search_cursor_at_the_edge_of_the_calendar_is_422(
    client: AsyncClient, moment: str
) -> None:
    auth = await signed_up(client)
    cursor = cursor_of({"t": moment, "i": "00000000-0000-0000-0000-000000000001"})
    response = await client.get("/api/v1/transfers", params={"cursor": cursor}, headers=auth)
    assert_problem(response, 422, "invalid-page")
