from __future__ import annotations

from typing import Any

from httpx import AsyncClient, Response

PROBLEM = "application/problem+json"


async def signed_up(client: AsyncClient, email: str = "ada@example.com") -> dict[str, str]:
    """Register and log in; return the Authorization header."""
    response = await client.post(
        "/api/v1/users", json={"email": email, "password": "password1", "full_name": "Ada"}
    )
    assert response.status_code == 201, response.text
    token = await client.post(
        "/api/v1/auth/token",
        data={"grant_type": "password", "username": email, "password": "password1"},
    )
    assert token.status_code == 200, token.text
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


async def opened(
    client: AsyncClient, auth: dict[str, str], currency: str = "EUR", funds: int = 0
) -> str:
    response = await client.post("/api/v1/accounts", json={"currency": currency}, headers=auth)
    assert response.status_code == 201, response.text
    account_id: str = response.json()["id"]
    if funds:
        deposit = await client.post(
            f"/api/v1/accounts/{account_id}/deposits", json={"amount": funds}, headers=auth
        )
        assert deposit.status_code == 201, deposit.text
    return account_id


def assert_problem(response: Response, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["type"].rsplit("/", 1)[-1] == slug
    assert body["title"]
    assert body["detail"]
    assert "Traceback" not in response.text
    # The request id names the exchange, not the outcome: replays and twins differ only there.
    assert body.pop("request_id") == response.headers["x-request-id"]
    return body


async def payer_and_payee(
    client: AsyncClient, funds: int = 1_000
) -> tuple[dict[str, str], dict[str, str], str, str]:
    """Ada with a funded EUR account, Bob with an empty one: (ada, bob, source, destination)."""
    ada = await signed_up(client, "ada@example.com")
    bob = await signed_up(client, "bob@example.com")
    return ada, bob, await opened(client, ada, funds=funds), await opened(client, bob)
