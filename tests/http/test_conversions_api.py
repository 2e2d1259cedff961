"""Currency conversions through HTTP: exponents and rounding, both legs through the bank's FX
accounts in one transaction, read back, searched, in statements and in one event."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from httpx import AsyncClient, Response

from entrypoints.container import Container
from tests.http.helpers import assert_problem, opened, signed_up
from tests.http.test_movements_api import account


def conversion_body(
    source: str, destination: str, amount: int, rate: str, **extra: Any
) -> dict[str, Any]:
    return {
        "from_account_id": source,
        "to_account_id": destination,
        "amount": amount,
        "rate": rate,
        **extra,
    }


async def convert(
    client: AsyncClient, auth: dict[str, str], body: dict[str, Any], **headers: str
) -> Response:
    return await client.post("/api/v1/conversions", json=body, headers={**auth, **headers})


async def test_a_conversion_moves_both_legs_through_the_fx_accounts(
    client: AsyncClient, container: Container
) -> None:
    ada = await signed_up(client)
    bob = await signed_up(client, "bob@example.com")
    yen = await opened(client, ada, "JPY", funds=100_000)
    euros = await opened(client, bob, "EUR")
    made = await convert(
        client,
        ada,
        conversion_body(yen, euros, 12_345, "0.0061", reference="fx-1", metadata={"k": "v"}),
        **{"Idempotency-Key": "fx-1"},
    )
    assert made.status_code == 201, made.text
    body = made.json()
    # 12 345 JPY x 0.0061 = 75.3045 EUR = 7530.45 cents: floor, 7530
    assert (body["source_amount"], body["source_currency"]) == (12_345, "JPY")
    assert (body["target_amount"], body["target_currency"]) == (7_530, "EUR")
    assert (body["rate"], body["reference"], body["metadata"]) == ("0.0061", "fx-1", {"k": "v"})
    assert made.headers["location"] == f"/api/v1/conversions/{body['id']}"
    debit_id, credit_id = body["transfer_ids"]

    assert (await account(client, ada, yen))["balance"] == 100_000 - 12_345
    assert (await account(client, bob, euros))["balance"] == 7_530
    debit = (await client.get(f"/api/v1/transfers/{debit_id}", headers=ada)).json()
    assert (debit["kind"], debit["conversion_id"], debit["amount"]) == (
        "conversion",
        body["id"],
        12_345,
    )
    assert debit["from_account_id"] == yen
    credit = (await client.get(f"/api/v1/transfers/{credit_id}", headers=bob)).json()
    assert (credit["to_account_id"], credit["amount"], credit["currency"]) == (euros, 7_530, "EUR")
    assert credit["conversion_id"] == body["id"]

    for auth in (ada, bob):  # both sides read it back; a stranger does not
        read = await client.get(f"/api/v1/conversions/{body['id']}", headers=auth)
        assert read.status_code == 200
        assert read.json() == body
    eve = await signed_up(client, "eve@example.com")
    assert_problem(
        await client.get(f"/api/v1/conversions/{body['id']}", headers=eve),
        404,
        "conversion-not-found",
    )

    legs = await client.get(f"/api/v1/transfers?conversion_id={body['id']}", headers=ada)
    assert [t["id"] for t in legs.json()["items"]] == [debit_id]  # Ada's side only
    entries = (await client.get(f"/api/v1/accounts/{euros}/entries", headers=bob)).json()
    assert entries["items"][0]["transfer_id"] == credit_id
    events = (await client.get("/api/v1/events?type=conversion.posted", headers=bob)).json()
    [event] = events["items"]
    assert event["data"]["id"] == body["id"]
    assert [t["id"] for t in event["data"]["transfers"]] == [debit_id, credit_id]
    assert [a["id"] for a in event["accounts"]] == [euros]  # Bob sees his account only
    # Its credit leg is the account's first entry: one entry, so nothing came before it.
    [state] = event["accounts"]
    assert (state["sequence"], state["previous_sequence"]) == (1, 0)
    assert state["entry_hash"] == (await account(client, bob, euros))["head_hash"]

    replay = await convert(
        client,
        ada,
        conversion_body(yen, euros, 12_345, "0.0061", reference="fx-1", metadata={"k": "v"}),
        **{"Idempotency-Key": "fx-1"},
    )
    assert replay.status_code == 201
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.json() == body
    assert (await account(client, ada, yen))["balance"] == 100_000 - 12_345

    positions = {p.currency: p.balance for p in await container.fx_positions()()}
    assert positions == {"JPY": 12_345, "EUR": -7_530}
    report = await container.reconcile_ledger()()
    assert report.is_clean, report


async def test_exponents_and_rounding(client: AsyncClient) -> None:
    ada = await signed_up(client)
    eur = await opened(client, ada, "EUR", funds=10_000_000)
    kwd = await opened(client, ada, "KWD")
    jpy = await opened(client, ada, "JPY")
    cases = [
        (eur, kwd, 10_000, "0.3301", 33_010),  # 100.00 EUR -> 33.010 KWD (3 decimals)
        (eur, kwd, 3, "0.3301", 9),  # 0.03 EUR -> 0.009903 KWD: floor 0.009
        (eur, jpy, 1, "157.23", 1),  # 0.01 EUR -> 1.5723 JPY: floor 1
        (eur, jpy, 99, "1", 0),  # 0.99 EUR -> 0.99 JPY: too small
        (eur, kwd, 1, "0.0001", 0),
    ]
    for source, destination, amount, rate, expected in cases:
        answer = await convert(client, ada, conversion_body(source, destination, amount, rate))
        if expected == 0:
            assert_problem(answer, 422, "amount-too-small")
        else:
            assert answer.status_code == 201, answer.text
            assert answer.json()["target_amount"] == expected, (amount, rate)


async def test_refusals(client: AsyncClient, container: Container) -> None:
    ada = await signed_up(client)
    bob = await signed_up(client, "bob@example.com")
    eur = await opened(client, ada, "EUR", funds=1_000)
    other_eur = await opened(client, ada, "EUR")
    usd = await opened(client, bob, "USD")
    assert_problem(
        await convert(client, ada, conversion_body(eur, other_eur, 100, "1.1")),
        422,
        "same-currency-conversion",
    )
    for rate in ("0", "0.000", "-1", "1e3", "1,5", ".5", "5.", "01.5", "1.2345678901234", ""):
        assert_problem(
            await convert(client, ada, conversion_body(eur, usd, 100, rate)), 422, "invalid-rate"
        )
    twelve = await convert(client, ada, conversion_body(eur, usd, 100, "1.00000000001"))
    assert twelve.status_code == 201, twelve.text
    assert_problem(
        await convert(client, ada, conversion_body(eur, usd, 1_000, "1.1")),
        422,
        "insufficient-funds",
    )
    assert_problem(
        await convert(client, bob, conversion_body(eur, usd, 1, "1.1")), 404, "account-not-found"
    )
    stale = await convert(client, ada, conversion_body(eur, usd, 1, "1.1"), **{"If-Match": '"1"'})
    assert assert_problem(stale, 412, "precondition-failed")["sequence"] == 2
    await container.freeze_account()(UUID(eur))
    assert_problem(
        await convert(client, ada, conversion_body(eur, usd, 1, "1.1")), 422, "account-frozen"
    )
    await container.unfreeze_account()(UUID(eur))
    shown = await account(client, ada, eur)
    assert shown["balance"] == 900
