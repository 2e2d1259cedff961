"""Balance monitors through HTTP: created on one's own accounts only, at most the limit,
and edge-triggered in the transaction that moves the account, in sequence order."""

from __future__ import annotations

from typing import Any

from httpx import AsyncClient

from entrypoints.container import Container
from tests.http.helpers import assert_problem, payer_and_payee
from tests.http.test_movements_api import hold, transfer_body


async def watch(
    client: AsyncClient, auth: dict[str, str], account: str, **monitor: Any
) -> dict[str, Any]:
    made = await client.post(f"/api/v1/accounts/{account}/monitors", json=monitor, headers=auth)
    assert made.status_code == 201, made.text
    body: dict[str, Any] = made.json()
    return body


async def monitor_events(client: AsyncClient, auth: dict[str, str]) -> list[tuple[Any, ...]]:
    feed = await client.get(
        "/api/v1/events?type=account.monitor.triggered&type=account.monitor.cleared",
        headers=auth,
    )
    assert feed.status_code == 200, feed.text
    return [
        (
            event["type"].rsplit(".", 1)[1],
            event["data"]["monitor"]["id"],
            event["data"]["sequence"],
            event["data"]["before"]["balance"],
            event["data"]["after"]["balance"],
        )
        for event in feed.json()["items"]
    ]


async def test_a_monitor_reports_each_crossing_once_in_order(client: AsyncClient) -> None:
    ada, bob, source, destination = await payer_and_payee(client, funds=1_000)
    low = await watch(client, ada, source, field="balance", op="lt", value=500, description="low")
    assert (low["field"], low["op"], low["value"], low["account_id"]) == (
        "balance",
        "lt",
        500,
        source,
    )

    async def pay(
        amount: int, payer: dict[str, str] = ada, a: str = source, b: str = destination
    ) -> None:
        paid = await client.post(
            "/api/v1/transfers", json=transfer_body(a, b, amount), headers=payer
        )
        assert paid.status_code == 201, paid.text

    await pay(400)  # 600: still false
    await pay(200)  # 400: triggered
    await pay(100)  # 300: stays true, nothing
    await pay(300, bob, destination, source)  # 600: cleared
    assert await monitor_events(client, ada) == [
        ("triggered", low["id"], 3, 600, 400),
        ("cleared", low["id"], 5, 300, 600),
    ]
    assert await monitor_events(client, bob) == []  # in the owner's feed only

    batch = await client.post(
        "/api/v1/transfers/batch",
        json={
            "transfers": [
                transfer_body(source, destination, 200),  # 400: triggered
                transfer_body(source, destination, 1),  # 399: nothing
            ]
        },
        headers=ada,
    )
    assert batch.status_code == 200, batch.text
    back = await client.post(
        "/api/v1/transfers/batch",
        json={
            "transfers": [
                transfer_body(destination, source, 101),  # 500: cleared
                transfer_body(destination, source, 1),  # 501: nothing
            ]
        },
        headers=bob,
    )
    assert back.status_code == 200, back.text
    crossing_twice = await client.post(
        "/api/v1/transfers/batch",
        json={
            "transfers": [
                transfer_body(source, destination, 2),  # 499: triggered
                transfer_body(source, destination, 500),  # refused: insufficient
                transfer_body(source, destination, 1),  # 498: nothing
            ]
        },
        headers=ada,
    )
    assert crossing_twice.status_code == 200
    events = await monitor_events(client, ada)
    assert [e[0] for e in events] == ["triggered", "cleared", "triggered", "cleared", "triggered"]
    assert [e[2] for e in events] == sorted(e[2] for e in events)  # in sequence order


async def test_a_batch_that_crosses_twice_reports_both_in_order(client: AsyncClient) -> None:
    ada, _, source, _ = await payer_and_payee(client, funds=1_000)
    own = await client.post("/api/v1/accounts", json={"currency": "EUR"}, headers=ada)
    spare = own.json()["id"]
    watched = await watch(client, ada, source, field="balance", op="lte", value=500)
    batch = await client.post(
        "/api/v1/transfers/batch",
        json={
            "atomic": True,
            "transfers": [
                transfer_body(source, spare, 600),  # 400: triggered
                transfer_body(spare, source, 300),  # 700: cleared
            ],
        },
        headers=ada,
    )
    assert batch.status_code == 201, batch.text
    assert await monitor_events(client, ada) == [
        ("triggered", watched["id"], 2, 1_000, 400),
        ("cleared", watched["id"], 3, 400, 700),
    ]


async def test_holds_move_available_and_a_monitor_made_while_true_waits_for_a_change(
    client: AsyncClient,
) -> None:
    ada, _, source, destination = await payer_and_payee(client, funds=1_000)
    already = await watch(client, ada, source, field="balance", op="gte", value=1)
    spendable = await watch(client, ada, source, field="available", op="lt", value=100)
    placed = await hold(client, ada, source, destination, 950)  # available 50: triggered
    assert await monitor_events(client, ada) == [("triggered", spendable["id"], 1, 1_000, 1_000)]
    voided = await client.post(f"/api/v1/transfers/{placed['id']}/void", headers=ada)
    assert voided.status_code == 200
    out = await client.post(
        f"/api/v1/accounts/{source}/withdrawals", json={"amount": 1_000}, headers=ada
    )
    assert out.status_code == 201
    types = [(e[0], e[1]) for e in await monitor_events(client, ada)]
    assert types == [
        ("triggered", spendable["id"]),
        ("cleared", spendable["id"]),  # the void: available back to 1000
        ("cleared", already["id"]),  # balance 0: `gte 1` stops holding (first report)
        ("triggered", spendable["id"]),
    ]


async def test_monitors_are_listed_deleted_bounded_and_the_owners_only(
    client: AsyncClient, container: Container
) -> None:
    ada, bob, source, _ = await payer_and_payee(client, funds=10)
    first = await watch(client, ada, source, field="available", op="eq", value=0)
    listed = await client.get(f"/api/v1/accounts/{source}/monitors", headers=ada)
    assert [m["id"] for m in listed.json()["items"]] == [first["id"]]
    stranger = await client.post(
        f"/api/v1/accounts/{source}/monitors",
        json={"field": "balance", "op": "lt", "value": 1},
        headers=bob,
    )
    assert_problem(stranger, 404, "account-not-found")
    assert_problem(
        await client.get(f"/api/v1/accounts/{source}/monitors", headers=bob),
        404,
        "account-not-found",
    )
    bad = await client.post(
        f"/api/v1/accounts/{source}/monitors",
        json={"field": "held", "op": "lt", "value": 1},
        headers=ada,
    )
    assert_problem(bad, 422, "validation-error")
    limit = container.settings().max_monitors_per_account
    for n in range(limit - 1):
        await watch(client, ada, source, field="balance", op="gt", value=n)
    too_many = await client.post(
        f"/api/v1/accounts/{source}/monitors",
        json={"field": "balance", "op": "lt", "value": 1},
        headers=ada,
    )
    assert_problem(too_many, 409, "too-many-monitors")
    path = f"/api/v1/accounts/{source}/monitors/{first['id']}"
    assert_problem(await client.delete(path, headers=bob), 404, "account-not-found")
    gone = await client.delete(path, headers=ada)
    assert gone.status_code == 204
    assert_problem(await client.delete(path, headers=ada), 404, "monitor-not-found")
    assert await watch(client, ada, source, field="balance", op="lt", value=1)
    again = await client.get(f"/api/v1/accounts/{source}/monitors", headers=ada)
    assert len(again.json()["items"]) == limit


async def test_an_operator_changing_the_limit_is_a_crossing_of_available(
    client: AsyncClient, container: Container
) -> None:
    """The limit is part of `available`: granting it clears `available < 0`, lowering it
    below the debt triggers it, in the transaction that changes it (no movement needed),
    so the next movement's report follows on from it."""
    from uuid import UUID

    ada, bob, source, destination = await payer_and_payee(client, funds=0)
    negative = await watch(client, ada, source, field="available", op="lt", value=0)
    on_balance = await watch(client, ada, source, field="balance", op="lt", value=0)
    await container.set_overdraft_limit()(UUID(source), 1_000)  # 0 -> 1000: nothing
    paid = await client.post(
        "/api/v1/transfers", json=transfer_body(source, destination, 800), headers=ada
    )
    assert paid.status_code == 201, paid.text  # balance -800, available 200
    await container.set_overdraft_limit()(UUID(source), 0)  # available -800: triggered
    await container.set_overdraft_limit()(UUID(source), 0)  # unchanged: nothing
    back = await client.post(
        "/api/v1/transfers", json=transfer_body(destination, source, 800), headers=bob
    )
    assert back.status_code == 201, back.text  # available 0: cleared
    feed = await client.get(
        "/api/v1/events?type=account.monitor.triggered&type=account.monitor.cleared",
        headers=ada,
    )
    assert [
        (
            e["type"].rsplit(".", 1)[1],
            e["data"]["monitor"]["id"],
            e["data"]["sequence"],
            e["data"]["before"]["available"],
            e["data"]["after"]["available"],
        )
        for e in feed.json()["items"]
    ] == [
        ("triggered", on_balance["id"], 1, 1_000, 200),
        ("triggered", negative["id"], 1, 200, -800),
        ("cleared", negative["id"], 2, -800, 0),
        ("cleared", on_balance["id"], 2, -800, 0),
    ]
