"""Webhook endpoints over HTTP (on the in-memory adapters): create, read, change, delete,
rotate, the SSRF guard at save time, the per-user limit, scopes, the delivery log, replay."""

from __future__ import annotations

import re
from typing import Any

import pytest
from httpx import AsyncClient

from application.events import EVENT_TYPES
from tests.conftest import make_settings
from tests.http.helpers import assert_problem, opened, signed_up

URL = "https://hooks.example.com/hexbank"
BASE = "/api/v1/webhook-endpoints"


async def created(client: AsyncClient, auth: dict[str, str], **fields: Any) -> dict[str, Any]:
    response = await client.post(BASE, json={"url": URL} | fields, headers=auth)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    assert response.headers["Location"] == f"{BASE}/{body['id']}"
    return body


async def test_an_endpoint_is_created_read_changed_and_deleted(client: AsyncClient) -> None:
    ada = await signed_up(client)
    endpoint = await created(client, ada, description="ledger sync")
    assert set(endpoint) == {
        "id",
        "url",
        "event_types",
        "description",
        "enabled",
        "created_at",
        "secret",
    }
    assert re.fullmatch(r"whsec_[A-Za-z0-9_-]{43}", endpoint["secret"])
    assert (endpoint["event_types"], endpoint["enabled"]) == (None, True)

    read = (await client.get(f"{BASE}/{endpoint['id']}", headers=ada)).json()
    assert "secret" not in read
    assert read["description"] == "ledger sync"
    listed = (await client.get(BASE, headers=ada)).json()["items"]
    assert [item["id"] for item in listed] == [endpoint["id"]]
    assert all("secret" not in item for item in listed)

    patched = await client.patch(
        f"{BASE}/{endpoint['id']}",
        json={"event_types": ["transfer.posted"], "enabled": False, "description": None},
        headers=ada,
    )
    assert patched.status_code == 200, patched.text
    changed = patched.json()
    assert (changed["event_types"], changed["enabled"], changed["description"]) == (
        ["transfer.posted"],
        False,
        None,
    )
    assert changed["url"] == URL

    deleted = await client.delete(f"{BASE}/{endpoint['id']}", headers=ada)
    assert deleted.status_code == 204
    gone = await client.get(f"{BASE}/{endpoint['id']}", headers=ada)
    assert_problem(gone, 404, "webhook-endpoint-not-found")


async def test_another_users_endpoint_does_not_exist_for_them(client: AsyncClient) -> None:
    ada = await signed_up(client)
    bob = await signed_up(client, "bob@example.com")
    endpoint = await created(client, ada)
    for method, path in [
        ("GET", f"{BASE}/{endpoint['id']}"),
        ("PATCH", f"{BASE}/{endpoint['id']}"),
        ("DELETE", f"{BASE}/{endpoint['id']}"),
        ("POST", f"{BASE}/{endpoint['id']}/rotate-secret"),
        ("GET", f"{BASE}/{endpoint['id']}/deliveries"),
        ("POST", f"{BASE}/{endpoint['id']}/replay"),
    ]:
        body: dict[str, Any] | None = {} if method in ("PATCH", "POST") else None
        response = await client.request(method, path, json=body, headers=bob)
        assert_problem(response, 404, "webhook-endpoint-not-found")
    assert (await client.get(BASE, headers=bob)).json()["items"] == []


async def test_unknown_event_types_are_refused(client: AsyncClient) -> None:
    ada = await signed_up(client)
    refused = await client.post(
        BASE, json={"url": URL, "event_types": ["transfer.posted", "money.printed"]}, headers=ada
    )
    body = assert_problem(refused, 422, "invalid-webhook-endpoint")
    assert "money.printed" in body["detail"]


async def test_every_event_type_can_be_subscribed_to(client: AsyncClient) -> None:
    """Types of two dots too (`account.monitor.triggered`), on create and on PATCH."""
    ada = await signed_up(client)
    monitors = ["account.monitor.cleared", "account.monitor.triggered"]
    endpoint = await created(client, ada, event_types=monitors)
    assert endpoint["event_types"] == monitors
    changed = await client.patch(
        f"{BASE}/{endpoint['id']}", json={"event_types": sorted(EVENT_TYPES)}, headers=ada
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["event_types"] == sorted(EVENT_TYPES)


@pytest.mark.parametrize(
    "backend", ["in_memory", pytest.param("postgres", marks=pytest.mark.postgres)]
)
async def test_every_unsafe_url_is_refused_when_saved(client: AsyncClient, backend: str) -> None:
    """On PostgreSQL the container resolves names with the system resolver: `localhost`
    really resolves to loopback there."""
    ada = await signed_up(client)
    for url in [
        "http://hooks.example.com/plain-http",
        "https://127.0.0.1/hook",
        "https://10.1.2.3/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hook",
        "https://localhost:8443/hook",  # a name that resolves to loopback
        "https://192.168.0.10/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://0.0.0.0/hook",
        "https://unknown.invalid/hook",  # resolves to nothing
    ]:
        refused = await client.post(BASE, json={"url": url}, headers=ada)
        assert_problem(refused, 422, "unsafe-webhook-url")
    public = "https://93.184.216.34/hook"  # an address: no DNS needed on either store
    endpoint = await created(client, ada, url=public)
    moved = await client.patch(
        f"{BASE}/{endpoint['id']}", json={"url": "https://10.0.0.1/x"}, headers=ada
    )
    assert_problem(moved, 422, "unsafe-webhook-url")
    assert (await client.get(BASE, headers=ada)).json()["items"][0]["url"] == public


async def test_a_user_has_at_most_the_configured_endpoints(
    database_url: str, tmp_path: Any
) -> None:
    from tests.fakes import ManualClock
    from tests.http.test_api_keys import instance

    settings = make_settings(database_url, tmp_path, webhook_endpoints_per_user=2)
    async with instance(settings, database_url, ManualClock()) as client:
        ada = await signed_up(client)
        await created(client, ada)
        await created(client, ada)
        refused = await client.post(BASE, json={"url": URL}, headers=ada)
        assert_problem(refused, 409, "too-many-webhook-endpoints")


async def test_rotation_answers_a_new_secret(client: AsyncClient) -> None:
    ada = await signed_up(client)
    endpoint = await created(client, ada)
    rotated = await client.post(f"{BASE}/{endpoint['id']}/rotate-secret", headers=ada)
    assert rotated.status_code == 200, rotated.text
    body = rotated.json()
    assert body["secret"].startswith("whsec_")
    assert body["secret"] != endpoint["secret"]
    assert body["previous_secret_expires_at"]


async def test_keys_need_webhooks_write_to_change_and_events_read_to_read(
    client: AsyncClient,
) -> None:
    ada = await signed_up(client)
    account = await opened(client, ada)

    async def key(scopes: list[str], **fields: Any) -> dict[str, str]:
        response = await client.post(
            "/api/v1/api-keys", json={"name": "k", "scopes": scopes, **fields}, headers=ada
        )
        assert response.status_code == 201, response.text
        return {"Authorization": f"Bearer {response.json()['secret']}"}

    reader = await key(["events:read"])
    writer = await key(["webhooks:write"])
    refused = await client.post(BASE, json={"url": URL}, headers=reader)
    assert assert_problem(refused, 403, "insufficient-scope")["required_scope"] == "webhooks:write"
    endpoint = await created(client, writer)
    unread = await client.get(BASE, headers=writer)
    assert assert_problem(unread, 403, "insufficient-scope")["required_scope"] == "events:read"
    assert (await client.get(f"{BASE}/{endpoint['id']}", headers=reader)).status_code == 200
    restricted = await key(["webhooks:write"], account_ids=[account])
    assert_problem(
        await client.post(BASE, json={"url": URL}, headers=restricted), 403, "scope-escalation"
    )


async def test_the_delivery_log_pages_and_replay_counts(client: AsyncClient) -> None:
    ada = await signed_up(client)
    endpoint = await created(client, ada, event_types=["account.opened"])
    for _ in range(3):
        await opened(client, ada)
    replayed = await client.post(f"{BASE}/{endpoint['id']}/replay", json={}, headers=ada)
    assert replayed.status_code == 202, replayed.text
    assert replayed.json() == {"count": 3}
    first = (await client.get(f"{BASE}/{endpoint['id']}/deliveries?limit=2", headers=ada)).json()
    assert len(first["items"]) == 2
    assert first["next_cursor"]
    rest = await client.get(
        f"{BASE}/{endpoint['id']}/deliveries",
        params={"after": first["next_cursor"], "status": "pending"},
        headers=ada,
    )
    assert [item["status"] for item in rest.json()["items"]] == ["pending"]
    assert rest.json()["next_cursor"] is None
    delivered = await client.get(
        f"{BASE}/{endpoint['id']}/deliveries", params={"status": "delivered"}, headers=ada
    )
    assert delivered.json()["items"] == []
    feed = (
        await client.get("/api/v1/events", params={"type": "account.opened"}, headers=ada)
    ).json()
    first_opened = feed["items"][0]
    cursor_after_first = (
        await client.get(
            "/api/v1/events", params={"type": "account.opened", "limit": 1}, headers=ada
        )
    ).json()["next_cursor"]
    again = await client.post(
        f"{BASE}/{endpoint['id']}/replay", json={"after": cursor_after_first}, headers=ada
    )
    assert again.json() == {"count": 2}
    assert first_opened["type"] == "account.opened"
    bad = await client.post(f"{BASE}/{endpoint['id']}/replay", json={"after": "nope"}, headers=ada)
    assert bad.status_code == 422


async def test_each_account_in_an_event_names_its_previous_sequence(client: AsyncClient) -> None:
    """The sequence before the change: one less after an entry, the same for an event that
    wrote none (an account opened, a hold placed)."""
    ada = await signed_up(client)
    source = await opened(client, ada, funds=1_000)
    destination = await opened(client, ada)
    transfer = {
        "from_account_id": source,
        "to_account_id": destination,
        "amount": 100,
        "currency": "EUR",
    }
    hold = await client.post(
        "/api/v1/transfers", json={**transfer, "pending": True, "timeout_seconds": 60}, headers=ada
    )
    assert hold.status_code == 201, hold.text
    paid = await client.post("/api/v1/transfers", json=transfer, headers=ada)
    assert paid.status_code == 201, paid.text
    feed = (await client.get("/api/v1/events", headers=ada)).json()["items"]
    links = [
        (event["type"], account["id"] == source, account["previous_sequence"], account["sequence"])
        for event in feed
        for account in event["accounts"]
    ]
    assert links == [
        ("account.opened", True, 0, 0),
        ("deposit.posted", True, 0, 1),
        ("account.opened", False, 0, 0),
        ("transfer.pending", True, 1, 1),
        ("transfer.pending", False, 0, 0),
        ("transfer.posted", True, 1, 2),
        ("transfer.posted", False, 0, 1),
    ]
