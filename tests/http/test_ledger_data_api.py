"""Metadata and references, finding transfers, balances at a moment, account lifecycle: the
HTTP contract of issue 11, every status code and slug."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest
from httpx import AsyncClient

from entrypoints.container import Container
from tests.http.helpers import assert_problem, opened, payer_and_payee, signed_up
from tests.http.test_movements_api import account, transfer_body

LABELS = {"order_id": "A-1042", "channel": "web", "note.x-y_z": "äöü ✓"}


async def pay(
    client: AsyncClient,
    auth: dict[str, str],
    source: str,
    destination: str,
    amount: int,
    **extra: Any,
) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/transfers", json=transfer_body(source, destination, amount, **extra), headers=auth
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_metadata_and_references_are_kept_exactly_on_every_movement(
    client: AsyncClient,
) -> None:
    ada, bob, source, destination = await payer_and_payee(client, funds=10_000)
    made = []
    made.append(await pay(client, ada, source, destination, 1, reference="t-1", metadata=LABELS))
    made.append(
        await pay(
            client, ada, source, destination, 1, reference="h-1", metadata=LABELS, pending=True
        )
    )
    deposit = await client.post(
        f"/api/v1/accounts/{source}/deposits",
        json={"amount": 5, "reference": "d-1", "metadata": LABELS},
        headers=ada,
    )
    withdrawal = await client.post(
        f"/api/v1/accounts/{source}/withdrawals",
        json={"amount": 5, "reference": "w-1", "metadata": LABELS},
        headers=ada,
    )
    reversal = await client.post(
        f"/api/v1/transfers/{made[0]['id']}/reversals",
        json={"reference": "r-1", "metadata": LABELS},
        headers=bob,
    )
    batch = await client.post(
        "/api/v1/transfers/batch",
        json={
            "transfers": [transfer_body(source, destination, 1, reference="b-1", metadata=LABELS)]
        },
        headers=ada,
    )
    for response in (deposit, withdrawal, reversal):
        assert response.status_code == 201, response.text
        made.append(response.json())
    made.append(batch.json()["results"][0]["transfer"])
    for body, reference in zip(made, ["t-1", "h-1", "d-1", "w-1", "r-1", "b-1"], strict=True):
        assert (body["reference"], body["metadata"]) == (reference, LABELS)
        seen = await client.get(f"/api/v1/transfers/{body['id']}", headers=ada)
        assert (seen.json()["reference"], seen.json()["metadata"]) == (reference, LABELS)


async def test_a_reference_names_one_transfer_of_its_user(client: AsyncClient) -> None:
    ada, bob, source, destination = await payer_and_payee(client, funds=1_000)
    first = await client.post(
        "/api/v1/transfers",
        json=transfer_body(source, destination, 5, reference="inv-1"),
        headers={**ada, "Idempotency-Key": "k1"},
    )
    assert first.status_code == 201
    replay = await client.post(
        "/api/v1/transfers",
        json=transfer_body(source, destination, 5, reference="inv-1"),
        headers={**ada, "Idempotency-Key": "k1"},
    )
    assert replay.headers["idempotent-replayed"] == "true"
    duplicate = await client.post(
        "/api/v1/transfers",
        json=transfer_body(source, destination, 6, reference="inv-1"),
        headers=ada,
    )
    assert_problem(duplicate, 409, "duplicate-reference")
    in_batch = await client.post(
        "/api/v1/transfers/batch",
        json={
            "transfers": [
                transfer_body(source, destination, 1, reference="inv-2"),
                transfer_body(source, destination, 1, reference="inv-2"),
                transfer_body(source, destination, 1, reference="inv-1"),
            ]
        },
        headers=ada,
    )
    assert [r["status"] for r in in_batch.json()["results"]] == [201, 409, 409]
    # Another user's reference space is their own.
    bobs = await opened(client, bob, funds=10)
    theirs = await client.post(
        "/api/v1/transfers",
        json=transfer_body(bobs, destination, 1, reference="inv-1"),
        headers=bob,
    )
    assert theirs.status_code == 201, theirs.text
    changed = await client.post(
        "/api/v1/transfers",
        json=transfer_body(source, destination, 5, reference="inv-1", metadata={"a": "b"}),
        headers={**ada, "Idempotency-Key": "k1"},
    )
    assert_problem(changed, 422, "idempotency-key-reused")


async def test_bad_metadata_and_references_are_refused(client: AsyncClient) -> None:
    ada, _, source, destination = await payer_and_payee(client, funds=10)
    for extra in (
        {"metadata": {f"k{n}": "v" for n in range(21)}},
        {"metadata": {"": "v"}},
        {"metadata": {"with space": "v"}},
        {"metadata": {"k" * 41: "v"}},
        {"metadata": {"k": "v" * 501}},
        {"metadata": {"k": "tab\there"}},
        {"metadata": {"k": 1}},
        {"metadata": ["k"]},
        {"reference": ""},
        {"reference": "r" * 65},
        {"reference": "with space"},
        {"reference": "ünï"},
    ):
        response = await client.post(
            "/api/v1/transfers", json=transfer_body(source, destination, 1, **extra), headers=ada
        )
        assert_problem(response, 422, "validation-error")
    at_limits = await pay(
        client,
        ada,
        source,
        destination,
        1,
        reference="~" * 64,
        metadata={f"{n:0>40}": "v" * 500 for n in range(20)},
    )
    assert len(at_limits["metadata"]) == 20


async def test_accounts_take_a_name_and_metadata_and_patch_merges(client: AsyncClient) -> None:
    ada = await signed_up(client)
    bob = await signed_up(client, "bob@example.com")
    created = await client.post(
        "/api/v1/accounts",
        json={"currency": "EUR", "name": "Rent", "metadata": {"a": "1", "b": "2"}},
        headers=ada,
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["name"], body["metadata"], body["status"]) == (
        "Rent",
        {"a": "1", "b": "2"},
        "active",
    )
    patched = await client.patch(
        f"/api/v1/accounts/{body['id']}",
        json={"metadata": {"a": None, "c": "3"}},
        headers=ada,
    )
    assert patched.status_code == 200, patched.text
    assert (patched.json()["name"], patched.json()["metadata"]) == ("Rent", {"b": "2", "c": "3"})
    renamed = await client.patch(f"/api/v1/accounts/{body['id']}", json={"name": None}, headers=ada)
    assert (renamed.json()["name"], renamed.json()["metadata"]) == (None, {"b": "2", "c": "3"})
    for money in ({"balance": 10**6}, {"currency": "USD"}, {"held": 0}, {"name": ""}):
        refused = await client.patch(f"/api/v1/accounts/{body['id']}", json=money, headers=ada)
        assert_problem(refused, 422, "validation-error")
    too_many = await client.patch(
        f"/api/v1/accounts/{body['id']}",
        json={"metadata": {f"k{n}": "v" for n in range(19)}},
        headers=ada,
    )
    assert_problem(too_many, 422, "invalid-metadata")  # 2 kept + 19 new > 20
    stranger = await client.patch(f"/api/v1/accounts/{body['id']}", json={"name": "x"}, headers=bob)
    assert_problem(stranger, 404, "account-not-found")
    assert (await account(client, ada, body["id"]))["balance"] == 0


async def test_transfers_are_found_by_every_filter_newest_first(client: AsyncClient) -> None:
    ada, bob, source, destination = await payer_and_payee(client, funds=10_000)
    first = await pay(
        client, ada, source, destination, 10, reference="r-1", metadata={"order": "1"}
    )
    middle = await pay(client, ada, source, destination, 20, metadata={"order": "2", "x": "y"})
    hold = await pay(client, ada, source, destination, 30, pending=True, timeout_seconds=1)
    back = await pay(client, bob, destination, source, 5)

    async def found(auth: dict[str, str], **params: str) -> list[str]:
        response = await client.get("/api/v1/transfers", params=params, headers=auth)
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["items"]]

    everything = await found(ada)
    assert everything[:4] == [back["id"], hold["id"], middle["id"], first["id"]]
    assert len(everything) == 5  # and the deposit
    assert await found(ada, account_id=source, kind="deposit") == [everything[4]]
    assert await found(ada, reference="r-1") == [first["id"]]
    assert await found(ada, **{"metadata[order]": "2"}) == [middle["id"]]
    assert await found(ada, **{"metadata[order]": "2", "metadata[x]": "z"}) == []
    assert await found(ada, status="pending") == [hold["id"]]
    assert await found(bob, kind="transfer", account_id=destination) == [
        back["id"],
        hold["id"],
        middle["id"],
        first["id"],
    ]
    await asyncio.sleep(1.1)
    assert await found(ada, status="expired") == [hold["id"]]
    assert await found(ada, status="pending") == []
    after = datetime.fromisoformat(first["created_at"]).isoformat()
    assert first["id"] not in await found(ada, created_after=after)
    assert await found(ada, created_before=after, kind="transfer") == []

    # Pages: never a repeat, never a gap, stable while new transfers arrive at the top.
    page = await client.get("/api/v1/transfers", params={"limit": 2}, headers=ada)
    seen = [item["id"] for item in page.json()["items"]]
    await pay(client, ada, source, destination, 1)
    while cursor := page.json()["next_cursor"]:
        page = await client.get(
            "/api/v1/transfers", params={"limit": 2, "cursor": cursor}, headers=ada
        )
        seen += [item["id"] for item in page.json()["items"]]
    assert seen == everything

    eve = await signed_up(client, "eve@example.com")
    assert await found(eve) == []
    stranger = await client.get("/api/v1/transfers", params={"account_id": source}, headers=eve)
    assert_problem(stranger, 404, "account-not-found")
    for bad in (
        {"kind": "gift"},
        {"status": "done"},
        {"limit": "0"},
        {"cursor": "x"},
        {"created_after": "yesterday"},
        {"created_after": "0.5"},
        {"metadata[bad key]": "v"},
    ):
        response = await client.get("/api/v1/transfers", params=bad, headers=ada)
        assert response.status_code == 422, (bad, response.text)


async def test_the_balance_at_a_moment_and_entries_between_two(client: AsyncClient) -> None:
    ada, _, source, destination = await payer_and_payee(client, funds=1_000)
    before_anything = "2000-01-01T00:00:00Z"
    zero = await client.get(
        f"/api/v1/accounts/{source}/balance", params={"at": before_anything}, headers=ada
    )
    assert zero.json() == {
        "balance": 0,
        "at": "2000-01-01T00:00:00Z",
        "sequence": 0,
        "entry_hash": "0" * 64,
    }
    await asyncio.sleep(0.01)
    middle = datetime.now(UTC)
    await asyncio.sleep(0.01)
    await pay(client, ada, source, destination, 300)
    then = await client.get(
        f"/api/v1/accounts/{source}/balance", params={"at": middle.isoformat()}, headers=ada
    )
    assert (then.json()["balance"], then.json()["sequence"]) == (1_000, 1)
    now = await client.get(f"/api/v1/accounts/{source}/balance", headers=ada)
    assert (now.json()["balance"], now.json()["sequence"]) == (700, 2)

    window = {"from": middle.isoformat()}
    later = await client.get(f"/api/v1/accounts/{source}/entries", params=window, headers=ada)
    assert [e["amount"] for e in later.json()["items"]] == [-300]
    earlier = await client.get(
        f"/api/v1/accounts/{source}/entries", params={"to": middle.isoformat()}, headers=ada
    )
    assert [e["amount"] for e in earlier.json()["items"]] == [1_000]
    for bad in ("2026-01-01", "1700000000", "2026-01-01T00:00:00", "0001-01-01T00:00:00+05:00"):
        response = await client.get(
            f"/api/v1/accounts/{source}/balance", params={"at": bad}, headers=ada
        )
        assert_problem(response, 422, "validation-error")


async def test_closing_an_account_needs_it_empty_and_stops_every_movement(
    client: AsyncClient,
) -> None:
    ada, bob, source, _ = await payer_and_payee(client, funds=100)
    spare = await opened(client, ada)
    not_empty = await client.post(f"/api/v1/accounts/{source}/close", headers=ada)
    assert_problem(not_empty, 409, "account-not-empty")
    hold = await pay(client, ada, source, spare, 100, pending=True)
    await client.post(f"/api/v1/transfers/{hold['id']}/void", headers=ada)
    await pay(client, ada, source, spare, 100)
    stranger = await client.post(f"/api/v1/accounts/{source}/close", headers=bob)
    assert_problem(stranger, 404, "account-not-found")
    closed = await client.post(f"/api/v1/accounts/{source}/close", headers=ada)
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "closed"
    for response in (
        await client.post("/api/v1/transfers", json=transfer_body(spare, source, 1), headers=ada),
        await client.post(f"/api/v1/accounts/{source}/deposits", json={"amount": 1}, headers=ada),
        await client.post("/api/v1/transfers", json=transfer_body(source, spare, 1), headers=ada),
    ):
        assert_problem(response, 422, "account-closed")
    again = await client.post(f"/api/v1/accounts/{source}/close", headers=ada)
    assert_problem(again, 422, "account-closed")
    history = await client.get(f"/api/v1/accounts/{source}/entries", headers=ada)
    assert len(history.json()["items"]) == 2


async def test_a_frozen_account_takes_no_money_and_its_holds_can_only_be_voided(
    client: AsyncClient, container: Container
) -> None:
    ada, bob, source, destination = await payer_and_payee(client, funds=100)
    hold = await pay(client, ada, source, destination, 40, pending=True)
    await container.freeze_account()(_uuid(destination))
    into = await client.post(
        "/api/v1/transfers", json=transfer_body(source, destination, 1), headers=ada
    )
    assert_problem(into, 422, "payee-unavailable")  # Bob's account: Ada learns no more
    posting = await client.post(f"/api/v1/transfers/{hold['id']}/post", headers=ada)
    assert_problem(posting, 422, "payee-unavailable")
    own = await client.post(
        f"/api/v1/accounts/{destination}/deposits", json={"amount": 1}, headers=bob
    )
    assert_problem(own, 422, "account-frozen")  # Bob's own account: he hears why
    voided = await client.post(f"/api/v1/transfers/{hold['id']}/void", headers=ada)
    assert voided.status_code == 200
    assert (await account(client, bob, destination))["status"] == "frozen"
    await container.unfreeze_account()(_uuid(destination))
    assert (await pay(client, ada, source, destination, 1))["status"] == "posted"


@pytest.mark.parametrize("status", ["frozen", "closed"])
async def test_a_payee_that_cannot_receive_is_one_refusal_that_names_nothing(
    client: AsyncClient, container: Container, status: str
) -> None:
    """Whether a stranger's account is frozen or closed is not the payer's to learn: every
    movement into it (a transfer, a hold, posting an earlier hold, a batch item, a refund by
    the payee to a payer whose account no longer receives) answers `payee-unavailable`, with
    no account id, and so does its replay. The payer's own accounts still say why."""
    ada, bob, source, destination = await payer_and_payee(client, funds=100)
    spare = await opened(client, ada)
    to_bob = await pay(client, ada, source, destination, 10, pending=True)
    to_spare = await pay(client, ada, source, spare, 10, pending=True)
    await stop_receiving(client, container, status, bob, destination)
    await stop_receiving(client, container, status, ada, spare)

    keyed = {**ada, "Idempotency-Key": f"into-{status}"}
    into = transfer_body(source, destination, 1)
    refusals = [
        await client.post("/api/v1/transfers", json=into, headers=keyed),
        await client.post("/api/v1/transfers", json=into, headers=keyed),  # the replay
        await client.post(
            "/api/v1/transfers",
            json=transfer_body(source, destination, 1, pending=True),
            headers=ada,
        ),
        await client.post(f"/api/v1/transfers/{to_bob['id']}/post", headers=ada),
        await client.post(
            "/api/v1/transfers/batch", json={"transfers": [into], "atomic": True}, headers=ada
        ),
    ]
    for response in refusals:
        body = assert_problem(response, 422, "payee-unavailable")
        assert destination not in response.text
        assert "frozen" not in body["detail"]
        assert "closed" not in body["detail"]
    assert refusals[1].headers["idempotent-replayed"] == "true"
    assert refusals[-1].json()["index"] == 0
    batch = await client.post("/api/v1/transfers/batch", json={"transfers": [into]}, headers=ada)
    [item] = batch.json()["results"]
    assert (item["status"], item["problem"]["type"].rsplit("/", 1)[-1]) == (
        422,
        "payee-unavailable",
    )
    assert destination not in batch.text

    # Ada's own spare account: she hears why, whether she pays into it or posts a hold to it.
    own = await client.post("/api/v1/transfers", json=transfer_body(source, spare, 1), headers=ada)
    assert_problem(own, 422, f"account-{status}")
    own_hold = await client.post(f"/api/v1/transfers/{to_spare['id']}/post", headers=ada)
    assert_problem(own_hold, 422, f"account-{status}")

    # Carol refunds what Ada paid her once Ada's account no longer receives: Ada is her payee.
    carol = await signed_up(client, "carol@example.com")
    carols = await opened(client, carol)
    refunded = await pay(client, ada, source, carols, 5)
    for hold in (to_bob, to_spare):
        await client.post(f"/api/v1/transfers/{hold['id']}/void", headers=ada)
    await stop_receiving(client, container, status, ada, source)
    refund = await client.post(f"/api/v1/transfers/{refunded['id']}/reversals", headers=carol)
    assert_problem(refund, 422, "payee-unavailable")
    assert source not in refund.text


async def stop_receiving(
    client: AsyncClient, container: Container, status: str, owner: dict[str, str], account_id: str
) -> None:
    """Freeze the account (an operator), or close it (its owner, after emptying it)."""
    if status == "frozen":
        await container.freeze_account()(_uuid(account_id))
        return
    balance = (await account(client, owner, account_id))["balance"]
    if balance:
        withdrawn = await client.post(
            f"/api/v1/accounts/{account_id}/withdrawals", json={"amount": balance}, headers=owner
        )
        assert withdrawn.status_code == 201, withdrawn.text
    closed = await client.post(f"/api/v1/accounts/{account_id}/close", headers=owner)
    assert closed.status_code == 200, closed.text


def _uuid(text: str) -> UUID:
    return UUID(text)
