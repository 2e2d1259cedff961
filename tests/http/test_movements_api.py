"""Withdrawals, holds (two-phase transfers), reversals and batches through the HTTP API: every
status code and problem slug of the contract."""

from __future__ import annotations

import asyncio
from typing import Any

from httpx import AsyncClient

from tests.http.helpers import assert_problem, opened, payer_and_payee, signed_up


async def account(client: AsyncClient, auth: dict[str, str], account_id: str) -> dict[str, Any]:
    response = await client.get(f"/api/v1/accounts/{account_id}", headers=auth)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def transfer_body(source: str, destination: str, amount: int, **extra: Any) -> dict[str, Any]:
    return {
        "from_account_id": source,
        "to_account_id": destination,
        "amount": amount,
        "currency": "EUR",
        **extra,
    }


async def hold(
    client: AsyncClient,
    auth: dict[str, str],
    source: str,
    destination: str,
    amount: int,
    **extra: Any,
) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/transfers",
        json=transfer_body(source, destination, amount, pending=True, **extra),
        headers=auth,
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_a_withdrawal_takes_money_out_of_the_bank(client: AsyncClient) -> None:
    ada = await signed_up(client)
    source = await opened(client, ada, funds=1_000)
    response = await client.post(
        f"/api/v1/accounts/{source}/withdrawals",
        json={"amount": 400, "description": "cash"},
        headers={**ada, "Idempotency-Key": "w-1"},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["kind"], body["status"], body["amount"]) == ("withdrawal", "posted", 400)
    assert body["from_account_id"] == source
    assert (await account(client, ada, source))["balance"] == 600
    replay = await client.post(
        f"/api/v1/accounts/{source}/withdrawals",
        json={"amount": 400, "description": "cash"},
        headers={**ada, "Idempotency-Key": "w-1"},
    )
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.json()["id"] == body["id"]
    assert (await account(client, ada, source))["balance"] == 600

    too_much = await client.post(
        f"/api/v1/accounts/{source}/withdrawals", json={"amount": 601}, headers=ada
    )
    assert_problem(too_much, 422, "insufficient-funds")
    bob = await signed_up(client, "bob@example.com")
    stranger = await client.post(
        f"/api/v1/accounts/{source}/withdrawals", json={"amount": 1}, headers=bob
    )
    assert_problem(stranger, 404, "account-not-found")


async def test_a_hold_reserves_then_posts_in_part_and_releases_the_rest(
    client: AsyncClient,
) -> None:
    ada, bob, source, destination = await payer_and_payee(client, funds=1_000)
    placed = await hold(client, ada, source, destination, 700)
    assert (placed["status"], placed["kind"], placed["expires_at"]) == ("pending", "transfer", None)
    assert placed["posted_amount"] is None
    mine = await account(client, ada, source)
    assert (mine["balance"], mine["held"], mine["available"]) == (1_000, 700, 300)
    entries = await client.get(f"/api/v1/accounts/{source}/entries", headers=ada)
    assert len(entries.json()["items"]) == 1  # the deposit only: a hold writes no entry

    # available, not balance, is what may be spent
    refused = await client.post(
        "/api/v1/transfers", json=transfer_body(source, destination, 301), headers=ada
    )
    assert_problem(refused, 422, "insufficient-funds")

    too_much = await client.post(
        f"/api/v1/transfers/{placed['id']}/post", json={"amount": 701}, headers=ada
    )
    assert_problem(too_much, 422, "exceeds-pending-amount")
    by_payee = await client.post(f"/api/v1/transfers/{placed['id']}/post", headers=bob)
    assert_problem(by_payee, 403, "not-payer")
    eve = await signed_up(client, "eve@example.com")
    by_stranger = await client.post(f"/api/v1/transfers/{placed['id']}/post", headers=eve)
    assert_problem(by_stranger, 404, "transfer-not-found")

    posted = await client.post(
        f"/api/v1/transfers/{placed['id']}/post", json={"amount": 500}, headers=ada
    )
    assert posted.status_code == 200, posted.text
    body = posted.json()
    assert (body["id"], body["status"], body["posted_amount"]) == (placed["id"], "posted", 500)
    mine = await account(client, ada, source)
    assert (mine["balance"], mine["held"], mine["available"]) == (500, 0, 500)
    assert (await account(client, bob, destination))["balance"] == 500
    statement = (await client.get(f"/api/v1/accounts/{source}/entries", headers=ada)).json()
    assert statement["items"][0]["transfer_id"] == placed["id"]
    assert statement["items"][0]["amount"] == -500

    again = await client.post(f"/api/v1/transfers/{placed['id']}/post", headers=ada)
    assert_problem(again, 409, "transfer-not-pending")
    void_after = await client.post(f"/api/v1/transfers/{placed['id']}/void", headers=ada)
    assert_problem(void_after, 409, "transfer-not-pending")


async def test_a_voided_hold_gives_everything_back(client: AsyncClient) -> None:
    ada, bob, source, destination = await payer_and_payee(client, funds=1_000)
    placed = await hold(client, ada, source, destination, 1_000)
    by_payee = await client.post(f"/api/v1/transfers/{placed['id']}/void", headers=bob)
    assert_problem(by_payee, 403, "not-payer")
    voided = await client.post(
        f"/api/v1/transfers/{placed['id']}/void", headers={**ada, "Idempotency-Key": "v"}
    )
    assert voided.status_code == 200, voided.text
    assert voided.json()["status"] == "voided"
    mine = await account(client, ada, source)
    assert (mine["balance"], mine["held"], mine["available"]) == (1_000, 0, 1_000)
    replay = await client.post(
        f"/api/v1/transfers/{placed['id']}/void", headers={**ada, "Idempotency-Key": "v"}
    )
    assert replay.status_code == 200
    assert replay.headers["idempotent-replayed"] == "true"
    seen = await client.get(f"/api/v1/transfers/{placed['id']}", headers=bob)
    assert seen.json()["status"] == "voided"


async def test_a_hold_expires_at_its_time(client: AsyncClient) -> None:
    ada, _, source, destination = await payer_and_payee(client, funds=1_000)
    placed = await hold(client, ada, source, destination, 600, timeout_seconds=1)
    assert placed["expires_at"] is not None
    assert (await account(client, ada, source))["available"] == 400
    await asyncio.sleep(1.2)
    assert (await account(client, ada, source))["available"] == 1_000
    seen = await client.get(f"/api/v1/transfers/{placed['id']}", headers=ada)
    assert seen.json()["status"] == "expired"
    late = await client.post(f"/api/v1/transfers/{placed['id']}/post", headers=ada)
    assert_problem(late, 409, "transfer-not-pending")
    spend = await client.post(
        "/api/v1/transfers", json=transfer_body(source, destination, 1_000), headers=ada
    )
    assert spend.status_code == 201, spend.text


async def test_hold_timeouts_are_range_checked(client: AsyncClient) -> None:
    ada, _, source, destination = await payer_and_payee(client)
    for timeout in (0, 604_801, -1, 1.5, "60"):
        response = await client.post(
            "/api/v1/transfers",
            json=transfer_body(source, destination, 1, pending=True, timeout_seconds=timeout),
            headers=ada,
        )
        assert_problem(response, 422, "validation-error")
    without_pending = await client.post(
        "/api/v1/transfers",
        json=transfer_body(source, destination, 1, timeout_seconds=60),
        headers=ada,
    )
    assert_problem(without_pending, 422, "invalid-hold-timeout")
    longest = await hold(client, ada, source, destination, 1, timeout_seconds=604_800)
    assert longest["expires_at"] is not None


async def test_reversals_refund_up_to_what_was_posted(client: AsyncClient) -> None:
    ada, bob, source, destination = await payer_and_payee(client, funds=1_000)
    paid = await client.post(
        "/api/v1/transfers", json=transfer_body(source, destination, 300), headers=ada
    )
    original = paid.json()
    by_payer = await client.post(f"/api/v1/transfers/{original['id']}/reversals", headers=ada)
    assert_problem(by_payer, 403, "not-payee")
    eve = await signed_up(client, "eve@example.com")
    by_stranger = await client.post(f"/api/v1/transfers/{original['id']}/reversals", headers=eve)
    assert_problem(by_stranger, 404, "transfer-not-found")

    first = await client.post(
        f"/api/v1/transfers/{original['id']}/reversals",
        json={"amount": 100, "description": "partial refund"},
        headers=bob,
    )
    assert first.status_code == 201, first.text
    reversal = first.json()
    assert (reversal["kind"], reversal["reversal_of"]) == ("reversal", original["id"])
    assert (reversal["from_account_id"], reversal["to_account_id"]) == (destination, source)
    too_much = await client.post(
        f"/api/v1/transfers/{original['id']}/reversals", json={"amount": 201}, headers=bob
    )
    assert_problem(too_much, 422, "exceeds-reversible-amount")
    rest = await client.post(f"/api/v1/transfers/{original['id']}/reversals", headers=bob)
    assert rest.status_code == 201, rest.text
    assert rest.json()["amount"] == 200
    nothing_left = await client.post(f"/api/v1/transfers/{original['id']}/reversals", headers=bob)
    assert_problem(nothing_left, 422, "exceeds-reversible-amount")
    seen = (await client.get(f"/api/v1/transfers/{original['id']}", headers=ada)).json()
    assert seen["reversed_amount"] == 300
    assert (await account(client, ada, source))["balance"] == 1_000

    not_reversible = await client.post(f"/api/v1/transfers/{reversal['id']}/reversals", headers=ada)
    assert_problem(not_reversible, 422, "not-reversible")


async def test_deposits_withdrawals_and_pending_holds_are_not_reversed(
    client: AsyncClient,
) -> None:
    ada, bob, source, destination = await payer_and_payee(client, funds=1_000)
    deposit = await client.post(
        f"/api/v1/accounts/{destination}/deposits", json={"amount": 50}, headers=bob
    )
    refused = await client.post(f"/api/v1/transfers/{deposit.json()['id']}/reversals", headers=bob)
    assert_problem(refused, 422, "not-reversible")
    placed = await hold(client, ada, source, destination, 10)
    pending = await client.post(f"/api/v1/transfers/{placed['id']}/reversals", headers=bob)
    assert_problem(pending, 409, "transfer-not-pending")
    await client.post(f"/api/v1/transfers/{placed['id']}/void", headers=ada)
    voided = await client.post(f"/api/v1/transfers/{placed['id']}/reversals", headers=bob)
    assert_problem(voided, 422, "not-reversible")


async def test_a_batch_applies_items_in_order_each_on_its_own(client: AsyncClient) -> None:
    ada, bob, source, destination = await payer_and_payee(client, funds=100)
    bobs = await opened(client, bob)
    items = [
        transfer_body(source, destination, 60),
        transfer_body(source, destination, 60),  # the first one spent it
        transfer_body(bobs, source, 1),  # not Ada's account
        transfer_body(source, bobs, 40, pending=True),
    ]
    response = await client.post(
        "/api/v1/transfers/batch",
        json={"transfers": items},
        headers={**ada, "Idempotency-Key": "batch-1"},
    )
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [(r["index"], r["status"]) for r in results] == [(0, 201), (1, 422), (2, 404), (3, 201)]
    assert results[1]["problem"]["type"].endswith("insufficient-funds")
    assert results[2]["problem"]["type"].endswith("account-not-found")
    assert results[3]["transfer"]["status"] == "pending"
    mine = await account(client, ada, source)
    assert (mine["balance"], mine["held"], mine["available"]) == (40, 40, 0)

    replay = await client.post(
        "/api/v1/transfers/batch",
        json={"transfers": items},
        headers={**ada, "Idempotency-Key": "batch-1"},
    )
    assert replay.headers["idempotent-replayed"] == "true"
    assert [r["status"] for r in replay.json()["results"]] == [201, 422, 404, 201]
    assert (await account(client, ada, source))["balance"] == 40


async def test_an_atomic_batch_is_all_or_nothing(client: AsyncClient) -> None:
    ada, bob, source, destination = await payer_and_payee(client, funds=100)
    good = [transfer_body(source, destination, 30), transfer_body(source, destination, 70)]
    made = await client.post(
        "/api/v1/transfers/batch", json={"transfers": good, "atomic": True}, headers=ada
    )
    assert made.status_code == 201, made.text
    assert [t["amount"] for t in made.json()["transfers"]] == [30, 70]
    assert (await account(client, bob, destination))["balance"] == 100

    back = [transfer_body(destination, source, 50), transfer_body(destination, source, 51)]
    refused = await client.post(
        "/api/v1/transfers/batch",
        json={"transfers": back, "atomic": True},
        headers={**bob, "Idempotency-Key": "atomic"},
    )
    body = assert_problem(refused, 422, "insufficient-funds")
    assert body["index"] == 1
    assert (await account(client, bob, destination))["balance"] == 100
    replayed = await client.post(
        "/api/v1/transfers/batch",
        json={"transfers": back, "atomic": True},
        headers={**bob, "Idempotency-Key": "atomic"},
    )
    assert assert_problem(replayed, 422, "insufficient-funds")["index"] == 1
    assert replayed.headers["idempotent-replayed"] == "true"


async def test_batch_sizes_are_checked(client: AsyncClient) -> None:
    ada, _, source, destination = await payer_and_payee(client, funds=10)
    empty = await client.post("/api/v1/transfers/batch", json={"transfers": []}, headers=ada)
    assert_problem(empty, 422, "validation-error")
    item = transfer_body(source, destination, 1)
    too_many = await client.post(
        "/api/v1/transfers/batch", json={"transfers": [item] * 1_001}, headers=ada
    )
    assert_problem(too_many, 422, "validation-error")
