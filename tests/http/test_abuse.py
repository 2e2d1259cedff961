"""Throttling shared through PostgreSQL, and access control on every route that takes an id."""

from __future__ import annotations

from pathlib import Path
from uuid import uuid4

import pytest
from httpx import AsyncClient

from tests.conftest import make_settings, serving
from tests.http.helpers import assert_problem, opened, signed_up


@pytest.mark.postgres  # instances share the count only through PostgreSQL
async def test_login_failures_lead_to_429_for_every_instance(
    database_url: str, tmp_path: Path
) -> None:
    settings = make_settings(database_url, tmp_path, login_failures_per_email=3)
    async with serving(settings, database_url) as first, serving(settings, database_url) as second:
        await signed_up(first, "ada@example.com")
        wrong = {
            "grant_type": "password",
            "username": "ada@example.com",
            "password": "not-her-password",
        }
        for instance in (first, second, first):
            assert_problem(
                await instance.post("/api/v1/auth/token", data=wrong), 400, "invalid-credentials"
            )
        # The count lives in PostgreSQL: the other instance refuses too, even the right password.
        right = {"grant_type": "password", "username": "ada@example.com", "password": "password1"}
        blocked = await second.post("/api/v1/auth/token", data=right)
        assert_problem(blocked, 429, "too-many-attempts")
        assert 0 < int(blocked.headers["retry-after"]) <= 15 * 60
        assert blocked.headers["ratelimit-remaining"] == "0"
        assert blocked.headers["ratelimit-reset"] == blocked.headers["retry-after"]


async def test_a_successful_login_resets_the_count(database_url: str, tmp_path: Path) -> None:
    settings = make_settings(database_url, tmp_path, login_failures_per_email=3)
    async with serving(settings, database_url) as client:
        await signed_up(client, "ada@example.com")
        wrong = {
            "grant_type": "password",
            "username": "ada@example.com",
            "password": "not-her-password",
        }
        right = {"grant_type": "password", "username": "ada@example.com", "password": "password1"}
        for _ in range(3):
            for _ in range(2):
                assert (await client.post("/api/v1/auth/token", data=wrong)).status_code == 400
            assert (await client.post("/api/v1/auth/token", data=right)).status_code == 200


async def test_registrations_are_rate_limited_per_client(database_url: str, tmp_path: Path) -> None:
    settings = make_settings(database_url, tmp_path, registrations_per_client=2)
    async with serving(settings, database_url) as client:
        for n in range(2):
            body = {"email": f"u{n}@example.com", "password": "password1", "full_name": "U"}
            assert (await client.post("/api/v1/users", json=body)).status_code == 201
        body = {"email": "late@example.com", "password": "password1", "full_name": "U"}
        response = await client.post("/api/v1/users", json=body)
        assert_problem(response, 429, "too-many-attempts")
        assert int(response.headers["retry-after"]) > 0


async def test_a_stranger_gets_404_on_every_route_with_an_id_and_changes_nothing(
    client: AsyncClient,
) -> None:
    owner, stranger = (
        await signed_up(client, "owner@example.com"),
        await signed_up(client, "stranger@example.com"),
    )
    account = await opened(client, owner, funds=1_000)
    other = await opened(client, owner)
    strangers_account = await opened(client, stranger, funds=1_000)
    transfer = (
        await client.post(
            "/api/v1/transfers",
            json={
                "from_account_id": account,
                "to_account_id": other,
                "amount": 10,
                "currency": "EUR",
            },
            headers=owner,
        )
    ).json()["id"]

    attempts = [
        ("GET", f"/api/v1/accounts/{account}", None),
        ("GET", f"/api/v1/accounts/{account}/summary", None),
        ("GET", f"/api/v1/accounts/{account}/entries", None),
        ("POST", f"/api/v1/accounts/{account}/deposits", {"amount": 5}),
        ("GET", f"/api/v1/transfers/{transfer}", None),
        # Moving someone else's money out, to the stranger's own account.
        (
            "POST",
            "/api/v1/transfers",
            {
                "from_account_id": account,
                "to_account_id": strangers_account,
                "amount": 5,
                "currency": "EUR",
            },
        ),
    ]
    for method, url, body in attempts:
        response = await client.request(method, url, json=body, headers=stranger)
        assert response.status_code == 404, (method, url, response.text)
        # The same answer as for an id that does not exist: nothing leaks.
        missing = url.replace(account, str(uuid4())).replace(transfer, str(uuid4()))
        assert (
            await client.request(method, missing, json=body, headers=stranger)
        ).status_code == 404

    balances = {
        acc: (await client.get(f"/api/v1/accounts/{acc}", headers=owner)).json()["balance"]
        for acc in (account, other)
    }
    assert balances == {account: 990, other: 10}
    assert (await client.get(f"/api/v1/accounts/{strangers_account}", headers=stranger)).json()[
        "balance"
    ] == 1_000
    listed = (await client.get("/api/v1/accounts", headers=stranger)).json()["items"]
    assert [item["id"] for item in listed] == [strangers_account]
