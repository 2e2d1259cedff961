"""Every route of the API, once, on both stores: the rest of tests/http runs on the in-memory
adapters, so this walk is what proves each route end to end on PostgreSQL too."""

from __future__ import annotations

from typing import Any

import pytest
from httpx import AsyncClient, Response

from tests.http.helpers import signed_up

BACKENDS = ["in_memory", pytest.param("postgres", marks=pytest.mark.postgres)]


class Walk:
    """Calls routes by their template, noting which were called."""

    def __init__(self, client: AsyncClient) -> None:
        self.client = client
        self.called: set[tuple[str, str]] = set()

    async def call(
        self,
        method: str,
        template: str,
        status: int,
        *,
        auth: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> Any:
        path = template.format(**kwargs.pop("ids", {}))
        response: Response = await self.client.request(method, path, headers=auth, **kwargs)
        assert response.status_code == status, (method, path, response.text)
        self.called.add((method, template))
        return response.json()


@pytest.mark.parametrize("backend", BACKENDS)
async def test_every_route_answers_on_each_store(client: AsyncClient, backend: str) -> None:
    walk = Walk(client)
    call = walk.call
    assert (await call("GET", "/health/live", 200))["status"] == "ok"
    assert (await call("GET", "/health/ready", 200))["status"] == "ok"

    user = {"email": "ada@example.com", "password": "password1", "full_name": "Ada"}
    assert (await call("POST", "/api/v1/users", 201, json=user))["email"] == user["email"]
    login = {"grant_type": "password", "username": user["email"], "password": "password1"}
    token = await call("POST", "/api/v1/auth/token", 200, data=login)
    ada = {"Authorization": f"Bearer {token['access_token']}"}
    assert (await call("GET", "/api/v1/users/me", 200, auth=ada))["full_name"] == "Ada"
    bob = await signed_up(client, "bob@example.com")
    payee = (await client.post("/api/v1/accounts", json={"currency": "EUR"}, headers=bob)).json()

    source = await call("POST", "/api/v1/accounts", 201, auth=ada, json={"currency": "EUR"})
    spare = await call("POST", "/api/v1/accounts", 201, auth=ada, json={"currency": "EUR"})
    listed = await call("GET", "/api/v1/accounts", 200, auth=ada)
    assert [item["id"] for item in listed["items"]] == [source["id"], spare["id"]]
    account = "/api/v1/accounts/{account_id}"
    ids = {"account_id": source["id"]}
    named = await call("PATCH", account, 200, auth=ada, ids=ids, json={"name": "Main"})
    assert named["name"] == "Main"
    await call("POST", account + "/deposits", 201, auth=ada, ids=ids, json={"amount": 1_000})
    await call("POST", account + "/withdrawals", 201, auth=ada, ids=ids, json={"amount": 100})

    def to_bob(amount: int, **extra: Any) -> dict[str, Any]:
        return {
            "from_account_id": source["id"],
            "to_account_id": payee["id"],
            "amount": amount,
            "currency": "EUR",
            **extra,
        }

    paid = await call("POST", "/api/v1/transfers", 201, auth=ada, json=to_bob(300))
    transfer = "/api/v1/transfers/{transfer_id}"
    found = await call("GET", transfer, 200, auth=ada, ids={"transfer_id": paid["id"]})
    assert (found["status"], found["amount"]) == ("posted", 300)
    reversed_ = await call(
        "POST",
        transfer + "/reversals",
        201,
        auth=bob,
        ids={"transfer_id": paid["id"]},
        json={"amount": 50},
    )
    assert reversed_["reversal_of"] == paid["id"]
    held = await call("POST", "/api/v1/transfers", 201, auth=ada, json=to_bob(200, pending=True))
    posted = await call(
        "POST",
        transfer + "/post",
        200,
        auth=ada,
        ids={"transfer_id": held["id"]},
        json={"amount": 150},
    )
    assert (posted["status"], posted["posted_amount"]) == ("posted", 150)
    held = await call("POST", "/api/v1/transfers", 201, auth=ada, json=to_bob(20, pending=True))
    voided = await call("POST", transfer + "/void", 200, auth=ada, ids={"transfer_id": held["id"]})
    assert voided["status"] == "voided"
    batch = await call(
        "POST",
        "/api/v1/transfers/batch",
        200,
        auth=ada,
        json={"transfers": [to_bob(10), to_bob(1_000_000)]},
    )
    assert [result["status"] for result in batch["results"]] == [201, 422]

    # 1,000 in; 100 out; 300, 150 and 10 to Bob; 50 back.
    summary = await call("GET", account + "/summary", 200, auth=ada, ids=ids)
    assert (summary["balance"], summary["total_in"], summary["total_out"]) == (490, 1_050, 560)
    balance = await call("GET", account + "/balance", 200, auth=ada, ids=ids)
    assert (balance["balance"], balance["sequence"]) == (490, 6)
    entries = await call("GET", account + "/entries", 200, auth=ada, ids=ids)
    assert [entry["amount"] for entry in entries["items"]] == [-10, -150, 50, -300, -100, 1_000]
    statement = await call("GET", account + "/statement", 200, auth=ada, ids=ids)
    assert statement["closing"]["balance"] == 490
    assert statement["closing"]["hash"] == balance["entry_hash"]
    published = await call("GET", "/api/v1/statement-keys", 200)
    assert statement["key_id"] == published["keys"][0]["key_id"]
    searched = await call("GET", "/api/v1/transfers", 200, auth=ada, params={"kind": "reversal"})
    assert [item["id"] for item in searched["items"]] == [reversed_["id"]]
    events = await call("GET", "/api/v1/events", 200, auth=ada)
    assert "transfer.posted" in {event["type"] for event in events["items"]}
    assert (await call("GET", account, 200, auth=ada, ids=ids))["balance"] == 490
    monitors = account + "/monitors"
    watching = {"field": "balance", "op": "lt", "value": 100}
    monitor = await call("POST", monitors, 201, auth=ada, ids=ids, json=watching)
    listed_monitors = await call("GET", monitors, 200, auth=ada, ids=ids)
    assert [m["id"] for m in listed_monitors["items"]] == [monitor["id"]]
    unwatched = await client.delete(f"{monitors.format(**ids)}/{monitor['id']}", headers=ada)
    assert unwatched.status_code == 204
    walk.called.add(("DELETE", "/api/v1/accounts/{account_id}/monitors/{monitor_id}"))
    yen = (await client.post("/api/v1/accounts", json={"currency": "JPY"}, headers=bob)).json()
    conversion = {"from_account_id": source["id"], "to_account_id": yen["id"], "amount": 90}
    converted = await call(
        "POST", "/api/v1/conversions", 201, auth=ada, json={**conversion, "rate": "163.9"}
    )
    assert converted["target_amount"] == 147  # 0.90 EUR x 163.9 = 147.51 JPY
    read = await call(
        "GET",
        "/api/v1/conversions/{conversion_id}",
        200,
        auth=bob,
        ids={"conversion_id": converted["id"]},
    )
    assert read == converted
    await client.post(
        account.format(**ids) + "/deposits", json={"amount": 90}, headers=ada
    )  # back to 490
    closed = await call("POST", account + "/close", 200, auth=ada, ids={"account_id": spare["id"]})
    assert closed["status"] == "closed"

    scopes = {"name": "backend", "scopes": ["accounts:read"], "account_ids": [source["id"]]}
    made = await call("POST", "/api/v1/api-keys", 201, auth=ada, json=scopes)
    key = {"Authorization": f"Bearer {made['secret']}"}
    assert (await call("GET", account, 200, auth=key, ids=ids))["balance"] == 490
    keys = await call("GET", "/api/v1/api-keys", 200, auth=ada)
    one = await call("GET", "/api/v1/api-keys/{key_id}", 200, auth=ada, ids={"key_id": made["id"]})
    assert one["prefix"] == made["secret"][:12]
    assert [item["id"] for item in keys["items"]] == [made["id"]]
    revoked = await client.delete(f"/api/v1/api-keys/{made['id']}", headers=ada)
    assert revoked.status_code == 204
    walk.called.add(("DELETE", "/api/v1/api-keys/{key_id}"))
    assert (await client.get(account.format(**ids), headers=key)).status_code == 401

    # A public address, not a name: no DNS on either store.
    hooks = "/api/v1/webhook-endpoints"
    hook = "/api/v1/webhook-endpoints/{endpoint_id}"
    made_hook = await call("POST", hooks, 201, auth=ada, json={"url": "https://93.184.216.34/h"})
    assert made_hook["secret"].startswith("whsec_")
    hook_ids = {"endpoint_id": made_hook["id"]}
    assert [item["id"] for item in (await call("GET", hooks, 200, auth=ada))["items"]] == [
        made_hook["id"]
    ]
    assert "secret" not in await call("GET", hook, 200, auth=ada, ids=hook_ids)
    patched = await call("PATCH", hook, 200, auth=ada, ids=hook_ids, json={"enabled": False})
    assert patched["enabled"] is False
    rotated = await call("POST", hook + "/rotate-secret", 200, auth=ada, ids=hook_ids)
    assert rotated["secret"] != made_hook["secret"]
    replayed = await call(
        "POST", hook + "/replay", 202, auth=ada, ids=hook_ids, json={"after": None}
    )
    assert replayed["count"] > 0
    deliveries = await call("GET", hook + "/deliveries", 200, auth=ada, ids=hook_ids)
    assert len(deliveries["items"]) == replayed["count"]
    removed = await client.delete(hook.format(**hook_ids), headers=ada)
    assert removed.status_code == 204
    walk.called.add(("DELETE", hook))

    document = (await client.get("/openapi.json")).json()
    every = {(method.upper(), path) for path, ops in document["paths"].items() for method in ops}
    assert walk.called == every
