from __future__ import annotations

from typing import cast
from uuid import uuid4

import pytest
from httpx import AsyncClient

from entrypoints.http.schemas import TransferOut
from tests.http.helpers import assert_problem, opened, payer_and_payee, signed_up


async def test_accounts_are_opened_listed_and_read_by_their_owner_only(
    client: AsyncClient,
) -> None:
    ada, bob = (
        await signed_up(client, "ada@example.com"),
        await signed_up(client, "bob@example.com"),
    )
    created = await client.post("/api/v1/accounts", json={"currency": "EUR"}, headers=ada)
    assert created.status_code == 201
    account = created.json()
    assert set(account) == {
        "id",
        "owner_id",
        "currency",
        "balance",
        "held",
        "available",
        "overdraft_limit",
        "status",
        "name",
        "metadata",
        "created_at",
        "sequence",
        "head_hash",
    }
    assert (account["currency"], account["balance"]) == ("EUR", 0)
    assert (account["sequence"], account["head_hash"]) == (0, "0" * 64)
    await opened(client, bob)

    listed = await client.get("/api/v1/accounts", headers=ada)
    assert listed.json() == {"items": [account], "next_cursor": None}
    assert (await client.get(f"/api/v1/accounts/{account['id']}", headers=ada)).json() == account
    assert_problem(
        await client.get(f"/api/v1/accounts/{account['id']}", headers=bob), 404, "account-not-found"
    )
    assert_problem(
        await client.get(f"/api/v1/accounts/{uuid4()}", headers=ada), 404, "account-not-found"
    )
    assert_problem(
        await client.get("/api/v1/accounts/not-a-uuid", headers=ada), 422, "validation-error"
    )
    assert_problem(await client.get("/api/v1/accounts"), 401, "invalid-token")


@pytest.mark.parametrize("currency", ["ZZZ", "EURO", "12$", "eur", 978])
async def test_accounts_need_an_active_currency(client: AsyncClient, currency: object) -> None:
    ada = await signed_up(client)
    response = await client.post("/api/v1/accounts", json={"currency": currency}, headers=ada)
    assert response.status_code == 422
    assert response.json()["type"].rsplit("/", 1)[-1] in {"validation-error", "invalid-currency"}


async def test_deposit_transfer_statement_and_summary(client: AsyncClient) -> None:
    ada, bob = (
        await signed_up(client, "ada@example.com"),
        await signed_up(client, "bob@example.com"),
    )
    source, destination = await opened(client, ada), await opened(client, bob)

    deposit = await client.post(
        f"/api/v1/accounts/{source}/deposits", json={"amount": 10_000}, headers=ada
    )
    assert deposit.status_code == 201
    # A deposit answers a transfer's shape, as a withdrawal and every other movement do.
    assert set(deposit.json()) == set(TransferOut.model_fields)
    assert (deposit.json()["kind"], deposit.json()["status"]) == ("deposit", "posted")
    assert (deposit.json()["to_account_id"], deposit.json()["amount"]) == (source, 10_000)
    assert deposit.json()["kind"] == "deposit"

    transfer = await client.post(
        "/api/v1/transfers",
        json={
            "from_account_id": source,
            "to_account_id": destination,
            "amount": 2_500,
            "currency": "EUR",
            "description": "rent",
        },
        headers=ada,
    )
    assert transfer.status_code == 201, transfer.text
    body = transfer.json()
    assert (body["amount"], body["description"]) == (2_500, "rent")

    for viewer in (ada, bob):
        seen = await client.get(f"/api/v1/transfers/{body['id']}", headers=viewer)
        assert seen.json() == body
    eve = await signed_up(client, "eve@example.com")
    assert_problem(
        await client.get(f"/api/v1/transfers/{body['id']}", headers=eve), 404, "transfer-not-found"
    )

    statement = (await client.get(f"/api/v1/accounts/{source}/entries", headers=ada)).json()
    assert [(e["amount"], e["balance_after"]) for e in statement["items"]] == [
        (-2_500, 7_500),
        (10_000, 10_000),
    ]
    assert statement["next_cursor"] is None
    assert statement["items"][0]["transfer_id"] == body["id"]

    summary = (await client.get(f"/api/v1/accounts/{source}/summary", headers=ada)).json()
    assert summary == {
        "account_id": source,
        "currency": "EUR",
        "balance": 7_500,
        "total_in": 10_000,
        "total_out": 2_500,
        "count_in": 1,
        "count_out": 1,
    }
    assert (await client.get(f"/api/v1/accounts/{destination}", headers=bob)).json()[
        "balance"
    ] == 2_500


async def test_refused_transfers_answer_with_the_right_problem(client: AsyncClient) -> None:
    ada, bob = (
        await signed_up(client, "ada@example.com"),
        await signed_up(client, "bob@example.com"),
    )
    source = await opened(client, ada, funds=1_000)
    usd = await opened(client, ada, currency="USD", funds=1_000)
    destination = await opened(client, bob)

    def transfer(**changes: object) -> dict[str, object]:
        return {
            "from_account_id": source,
            "to_account_id": destination,
            "amount": 100,
            "currency": "EUR",
            **changes,
        }

    cases = [
        (transfer(amount=1_001), 422, "insufficient-funds"),
        (transfer(to_account_id=source), 422, "same-account"),
        (transfer(currency="USD"), 422, "currency-mismatch"),
        (transfer(from_account_id=usd), 422, "currency-mismatch"),
        (transfer(currency="ZZZ"), 422, "validation-error"),
        (transfer(from_account_id=destination, to_account_id=source), 404, "account-not-found"),
        (transfer(to_account_id=str(uuid4())), 404, "account-not-found"),
        (transfer(amount=10**12 + 1), 422, "invalid-amount"),
        (transfer(description="x" * 141), 422, "validation-error"),
        (transfer(from_account_id="nope"), 422, "validation-error"),
    ]
    for amount in (0, -1, 1.5, 1.0, True, "100", None):
        cases.append((transfer(amount=amount), 422, "validation-error"))
    for body, status, slug in cases:
        response = await client.post("/api/v1/transfers", json=body, headers=ada)
        assert_problem(response, status, slug)

    assert_problem(await client.post("/api/v1/transfers", json=transfer()), 401, "invalid-token")
    # Nothing moved through all of that.
    assert (await client.get(f"/api/v1/accounts/{source}", headers=ada)).json()["balance"] == 1_000


async def test_deposits_only_into_your_own_account_with_valid_amounts(client: AsyncClient) -> None:
    ada, bob = (
        await signed_up(client, "ada@example.com"),
        await signed_up(client, "bob@example.com"),
    )
    adas = await opened(client, ada)
    response = await client.post(
        f"/api/v1/accounts/{adas}/deposits", json={"amount": 5}, headers=bob
    )
    assert_problem(response, 404, "account-not-found")
    for amount in (0, -5, 2.5, "5", True):
        response = await client.post(
            f"/api/v1/accounts/{adas}/deposits", json={"amount": amount}, headers=ada
        )
        assert_problem(response, 422, "validation-error")


async def test_idempotent_transfers_replay_and_refuse_reuse(client: AsyncClient) -> None:
    ada, bob, source, destination = await payer_and_payee(client, funds=1_000)
    body = {
        "from_account_id": source,
        "to_account_id": destination,
        "amount": 400,
        "currency": "EUR",
    }
    headers = {**ada, "Idempotency-Key": "order-17"}

    first = await client.post("/api/v1/transfers", json=body, headers=headers)
    again = await client.post("/api/v1/transfers", json=body, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"

    reused = await client.post("/api/v1/transfers", json={**body, "amount": 401}, headers=headers)
    assert_problem(reused, 422, "idempotency-key-reused")

    refused = {**body, "amount": 5_000}
    first_refusal = await client.post(
        "/api/v1/transfers", json=refused, headers={**ada, "Idempotency-Key": "big"}
    )
    await client.post(f"/api/v1/accounts/{source}/deposits", json={"amount": 10_000}, headers=ada)
    replayed_refusal = await client.post(
        "/api/v1/transfers", json=refused, headers={**ada, "Idempotency-Key": "big"}
    )
    assert assert_problem(first_refusal, 422, "insufficient-funds") == assert_problem(
        replayed_refusal, 422, "insufficient-funds"
    )

    for bad_key in ("", "x" * 256, "with space", "ünïcode".encode(), "tab\there"):
        response = await client.post(
            "/api/v1/transfers",
            json=body,
            headers=cast(dict[str, str], {**ada, "Idempotency-Key": bad_key}),
        )
        assert_problem(response, 422, "validation-error")
    assert (await client.get(f"/api/v1/accounts/{destination}", headers=bob)).json()[
        "balance"
    ] == 400


async def test_idempotent_deposits_replay(client: AsyncClient) -> None:
    ada = await signed_up(client)
    account = await opened(client, ada)
    headers = {**ada, "Idempotency-Key": "dep"}
    first = await client.post(
        f"/api/v1/accounts/{account}/deposits", json={"amount": 5}, headers=headers
    )
    again = await client.post(
        f"/api/v1/accounts/{account}/deposits", json={"amount": 5}, headers=headers
    )
    assert again.json() == first.json()
    assert again.status_code == 201
    assert (await client.get(f"/api/v1/accounts/{account}", headers=ada)).json()["balance"] == 5


async def test_statement_pages_and_cursors(client: AsyncClient) -> None:
    ada = await signed_up(client)
    account, other = await opened(client, ada), await opened(client, ada)
    for amount in range(1, 6):
        await client.post(
            f"/api/v1/accounts/{account}/deposits", json={"amount": amount}, headers=ada
        )

    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (
            await client.get(f"/api/v1/accounts/{account}/entries", params=params, headers=ada)
        ).json()
        seen += [entry["amount"] for entry in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
        if len(seen) == 2:  # a deposit arriving mid-way must not shift what follows
            await client.post(
                f"/api/v1/accounts/{account}/deposits", json={"amount": 99}, headers=ada
            )
    assert seen == [5, 4, 3, 2, 1]

    url = f"/api/v1/accounts/{account}/entries"
    for params in ({"limit": 0}, {"limit": 101}, {"cursor": "garbage"}):
        assert_problem(
            await client.get(url, params=params, headers=ada),
            422,
            "validation-error" if "limit" in params else "invalid-page",
        )
    first = (await client.get(url, params={"limit": 1}, headers=ada)).json()
    foreign = await client.get(
        f"/api/v1/accounts/{other}/entries", params={"cursor": first["next_cursor"]}, headers=ada
    )
    assert_problem(foreign, 422, "invalid-page")
    stranger = await signed_up(client, "eve@example.com")
    assert_problem(await client.get(url, headers=stranger), 404, "account-not-found")
    assert_problem(
        await client.get(f"/api/v1/accounts/{account}/summary", headers=stranger),
        404,
        "account-not-found",
    )
