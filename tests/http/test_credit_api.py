"""Overdraft limits, through HTTP: the limit is shown on the account, set by an operator
only, counted by every debit (holds included), and an event."""

from __future__ import annotations

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
