"""Overdraft limits, through HTTP: the limit is shown on the account, set by an operator
only, counted by every debit (holds included), and an event."""

from __future__ import annotations

import asyncio
from uuid import UUID

from httpx import AsyncClient

from entrypoints.container import Container
from tests.http.helpers import assert_problem, payer_and_payee
from tests.http.test_movements_api import account, hold, transfer_body


async def test_an_account_shows_its_overdraft_limit_and_spends_down_to_it(
    client: AsyncClient, container: Container
) -> None:
    ada, _, source, destination = await payer_and_payee(client, funds=100)
    opened = await account(client, ada, source)
    assert (opened["overdraft_limit"], opened["available"]) == (0, 100)
    over = await client.post(
        "/api/v1/transfers", json=transfer_body(source, destination, 101), headers=ada
    )
    assert_problem(over, 422, "insufficient-funds")

    change = await container.set_overdraft_limit()(UUID(source), 500)
    assert change.changed
    shown = await account(client, ada, source)
    assert (shown["balance"], shown["overdraft_limit"], shown["available"]) == (100, 500, 600)

    await hold(client, ada, source, destination, 200)  # a hold counts against the limit
    assert (await account(client, ada, source))["available"] == 400
    too_much = await client.post(
        f"/api/v1/accounts/{source}/withdrawals", json={"amount": 401}, headers=ada
    )
    assert_problem(too_much, 422, "insufficient-funds")
    paid = await client.post(
        "/api/v1/transfers", json=transfer_body(source, destination, 400), headers=ada
    )
    assert paid.status_code == 201, paid.text
    after = await account(client, ada, source)
    assert (after["balance"], after["held"], after["available"]) == (-300, 200, 0)
    another_hold = await client.post(
        "/api/v1/transfers", json=transfer_body(source, destination, 1, pending=True), headers=ada
    )
    assert_problem(another_hold, 422, "insufficient-funds")

    events = (await client.get("/api/v1/events?type=account.updated", headers=ada)).json()
    [updated] = events["items"]
    assert updated["data"]["id"] == source
    assert updated["data"]["overdraft_limit"] == 500
    assert updated["accounts"][0]["available"] == 600
    again = await container.set_overdraft_limit()(UUID(source), 500)
    assert not again.changed  # the same limit again: no second event
    assert (
        len((await client.get("/api/v1/events?type=account.updated", headers=ada)).json()["items"])
        == 1
    )


async def test_a_customer_cannot_grant_itself_credit(client: AsyncClient) -> None:
    ada, _, source, _ = await payer_and_payee(client, funds=0)
    patched = await client.patch(
        f"/api/v1/accounts/{source}", json={"overdraft_limit": 1_000}, headers=ada
    )
    assert_problem(patched, 422, "validation-error")
    assert (await account(client, ada, source))["overdraft_limit"] == 0


async def test_a_lowered_limit_keeps_the_debt_refuses_debits_and_blocks_closing(
    client: AsyncClient, container: Container
) -> None:
    ada, bob, source, destination = await payer_and_payee(client, funds=0)
    await container.set_overdraft_limit()(UUID(source), 1_000)
    paid = await client.post(
        "/api/v1/transfers", json=transfer_body(source, destination, 800), headers=ada
    )
    assert paid.status_code == 201, paid.text
    await container.set_overdraft_limit()(UUID(source), 0)  # below the debt: allowed
    lowered = await account(client, ada, source)
    assert (lowered["balance"], lowered["overdraft_limit"], lowered["available"]) == (-800, 0, -800)
    refused = await client.post(
        "/api/v1/transfers", json=transfer_body(source, destination, 1), headers=ada
    )
    assert_problem(refused, 422, "insufficient-funds")
    closing = await client.post(f"/api/v1/accounts/{source}/close", headers=ada)
    assert_problem(closing, 409, "account-not-empty")

    back = await client.post(
        "/api/v1/transfers", json=transfer_body(destination, source, 800), headers=bob
    )
    assert back.status_code == 201, back.text
    closed = await client.post(f"/api/v1/accounts/{source}/close", headers=ada)
    assert closed.status_code == 200, closed.text
    report = await container.reconcile_ledger()()
    assert report.is_clean, report


async def etag(client: AsyncClient, auth: dict[str, str], account_id: str) -> str:
    response = await client.get(f"/api/v1/accounts/{account_id}", headers=auth)
    assert response.status_code == 200, response.text
    return response.headers["etag"]


async def test_an_account_sends_its_sequence_as_its_etag(client: AsyncClient) -> None:
    ada, _, source, destination = await payer_and_payee(client, funds=100)
    assert await etag(client, ada, source) == '"1"'  # the deposit
    paid = await client.post(
        "/api/v1/transfers", json=transfer_body(source, destination, 10), headers=ada
    )
    assert paid.status_code == 201
    assert await etag(client, ada, source) == '"2"'


async def test_a_conditional_debit_applies_only_at_the_sequence_it_names(
    client: AsyncClient,
) -> None:
    ada, bob, source, destination = await payer_and_payee(client, funds=1_000)
    seen = await etag(client, ada, source)
    paid = await client.post(
        "/api/v1/transfers",
        json=transfer_body(source, destination, 100),
        headers={**ada, "If-Match": seen},
    )
    assert paid.status_code == 201, paid.text

    for path, body in (
        ("/api/v1/transfers", transfer_body(source, destination, 100)),
        ("/api/v1/transfers", transfer_body(source, destination, 100, pending=True)),
        (f"/api/v1/accounts/{source}/withdrawals", {"amount": 100}),
    ):
        stale = await client.post(path, json=body, headers={**ada, "If-Match": seen})
        problem = assert_problem(stale, 412, "precondition-failed")
        assert problem["sequence"] == 2
    shown = await account(client, ada, source)
    assert (shown["balance"], shown["held"]) == (900, 0)  # nothing moved

    now = await etag(client, ada, source)
    held = await client.post(
        "/api/v1/transfers",
        json=transfer_body(source, destination, 50, pending=True),
        headers={**ada, "If-Match": now},
    )
    assert held.status_code == 201, held.text
    assert await etag(client, ada, source) == now  # a hold writes no entry
    out = await client.post(
        f"/api/v1/accounts/{source}/withdrawals",
        json={"amount": 100},
        headers={**ada, "If-Match": now},
    )
    assert out.status_code == 201, out.text
    assert (await account(client, ada, source))["balance"] == 800

    strangers = await client.post(
        f"/api/v1/accounts/{source}/withdrawals",
        json={"amount": 1},
        headers={**bob, "If-Match": '"0"'},
    )
    assert_problem(strangers, 404, "account-not-found")  # no sequence told to a stranger


async def test_a_malformed_if_match_is_a_validation_error(client: AsyncClient) -> None:
    ada, _, source, destination = await payer_and_payee(client, funds=100)
    for malformed in ("1", 'W/"1"', "*", '"1", "2"', '"-1"', '"01"', '"' + "9" * 20 + '"'):
        response = await client.post(
            "/api/v1/transfers",
            json=transfer_body(source, destination, 1),
            headers={**ada, "If-Match": malformed},
        )
        problem = assert_problem(response, 422, "validation-error")
        assert problem["errors"][0]["loc"] == ["header", "If-Match"], malformed
    assert (await account(client, ada, source))["balance"] == 100


async def test_with_an_idempotency_key_a_retry_replays_the_first_outcome(
    client: AsyncClient,
) -> None:
    ada, _, source, destination = await payer_and_payee(client, funds=1_000)
    seen = await etag(client, ada, source)
    headers = {**ada, "If-Match": seen, "Idempotency-Key": "conditional-1"}
    first = await client.post(
        "/api/v1/transfers", json=transfer_body(source, destination, 100), headers=headers
    )
    assert first.status_code == 201
    replay = await client.post(
        "/api/v1/transfers", json=transfer_body(source, destination, 100), headers=headers
    )
    assert replay.status_code == 201  # the account moved since: still the first outcome
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.json()["id"] == first.json()["id"]

    stale = {**ada, "If-Match": seen, "Idempotency-Key": "conditional-2"}
    refused = await client.post(
        "/api/v1/transfers", json=transfer_body(source, destination, 100), headers=stale
    )
    assert assert_problem(refused, 412, "precondition-failed")["sequence"] == 2
    await client.post("/api/v1/transfers", json=transfer_body(source, destination, 1), headers=ada)
    again = await client.post(
        "/api/v1/transfers", json=transfer_body(source, destination, 100), headers=stale
    )
    problem = assert_problem(again, 412, "precondition-failed")
    assert problem["sequence"] == 2  # as first answered, not the 3 it is at now
    assert again.headers["idempotent-replayed"] == "true"
    other_condition = await client.post(
        "/api/v1/transfers",
        json=transfer_body(source, destination, 100),
        headers={**stale, "If-Match": '"3"'},
    )
    assert_problem(other_condition, 422, "idempotency-key-reused")
    assert (await account(client, ada, source))["balance"] == 899


async def test_racing_conditional_debits_with_one_if_match_let_exactly_one_through(
    client: AsyncClient,
) -> None:
    ada, _, source, destination = await payer_and_payee(client, funds=1_000)
    seen = await etag(client, ada, source)
    answers = await asyncio.gather(
        *(
            client.post(
                "/api/v1/transfers",
                json=transfer_body(source, destination, 10),
                headers={**ada, "If-Match": seen},
            )
            for _ in range(8)
        )
    )
    assert sorted(a.status_code for a in answers) == [201] + [412] * 7
    assert (await account(client, ada, source))["balance"] == 990
