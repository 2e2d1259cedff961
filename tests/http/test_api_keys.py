"""API keys over HTTP: creation, listing, revocation, scopes, account restriction, escalation,
the rate limit, and revocation seen by a second instance on the same database."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from dependency_injector import providers
from httpx import ASGITransport, AsyncClient

from domain.api_key import ALL_SCOPES
from entrypoints.app import create_app
from entrypoints.settings import Settings
from tests.conftest import make_settings
from tests.fakes import ManualClock
from tests.http.helpers import assert_problem, opened, signed_up
from tests.in_memory import container_for

READ_ONLY = ["accounts:read", "transfers:read", "events:read"]
WEBHOOK_URL = "https://hooks.example.com/hexbank"


@asynccontextmanager
async def instance(
    settings: Settings, database_url: str, clock: ManualClock
) -> AsyncIterator[AsyncClient]:
    """One app (one instance of the service) on the database, on its own manual clock."""
    container = container_for(settings, database_url)
    container.clock.override(providers.Object(clock))
    app = create_app(container)
    async with (
        app.router.lifespan_context(app),
        AsyncClient(transport=ASGITransport(app=app), base_url="http://hexbank.test") as client,
    ):
        yield client


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def keyed(
    settings: Settings, database_url: str, clock: ManualClock
) -> AsyncIterator[AsyncClient]:
    async with instance(settings, database_url, clock) as client:
        yield client


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


async def new_key(
    client: AsyncClient, auth: dict[str, str], expected: int = 201, **fields: Any
) -> dict[str, Any]:
    body = {"name": "backend", "scopes": sorted(ALL_SCOPES), **fields}
    response = await client.post("/api/v1/api-keys", json=body, headers=auth)
    assert response.status_code == expected, response.text
    created: dict[str, Any] = response.json()
    if expected == 201:
        assert response.headers["Location"] == f"/api/v1/api-keys/{created['id']}"
    return created


async def test_a_key_is_created_once_with_its_secret_listed_without_it_and_revoked(
    keyed: AsyncClient, clock: ManualClock
) -> None:
    ada = await signed_up(keyed)
    account = await opened(keyed, ada)
    expires = (clock.now() + timedelta(days=30)).isoformat()
    created = await new_key(
        keyed, ada, scopes=["accounts:read"], account_ids=[account], expires_at=expires
    )
    secret = created.pop("secret")
    assert secret.startswith("hxk_")
    assert len(secret) >= 4 + 43
    assert created["prefix"] == secret[:12]
    assert created["scopes"] == ["accounts:read"]
    assert created["account_ids"] == [account]
    assert created["last_used_at"] is None
    assert set(created) == {
        "id", "name", "prefix", "scopes", "account_ids", "expires_at", "created_at", "last_used_at"
    }  # fmt: skip

    used = await keyed.get(f"/api/v1/accounts/{account}", headers=bearer(secret))
    assert used.status_code == 200, used.text
    listed = await keyed.get("/api/v1/api-keys", headers=ada)
    assert listed.status_code == 200
    [item] = listed.json()["items"]
    assert secret not in listed.text
    assert item["id"] == created["id"]
    assert datetime.fromisoformat(item["last_used_at"]) == clock.now()

    for _ in range(2):  # revoking twice is still 204
        revoked = await keyed.delete(f"/api/v1/api-keys/{created['id']}", headers=ada)
        assert revoked.status_code == 204, revoked.text
    refused = await keyed.get(f"/api/v1/accounts/{account}", headers=bearer(secret))
    assert_problem(refused, 401, "invalid-token")
    assert (await keyed.get("/api/v1/api-keys", headers=ada)).json()["items"] == []

    events = (
        await keyed.get("/api/v1/events?type=api_key.created&type=api_key.revoked", headers=ada)
    ).json()
    assert [event["type"] for event in events["items"]] == ["api_key.created", "api_key.revoked"]
    assert secret not in str(events)
    assert events["items"][0]["data"]["prefix"] == secret[:12]


async def test_revoked_expired_and_unknown_keys_answer_exactly_as_a_bad_jwt(
    keyed: AsyncClient, clock: ManualClock
) -> None:
    ada = await signed_up(keyed)
    expiring = await new_key(
        keyed, ada, expires_at=(clock.now() + timedelta(minutes=1)).isoformat()
    )
    revoked = await new_key(keyed, ada)
    await keyed.delete(f"/api/v1/api-keys/{revoked['id']}", headers=ada)
    assert (
        await keyed.get("/api/v1/users/me", headers=bearer(expiring["secret"]))
    ).status_code == 200
    clock.advance(minutes=2)

    bad_jwt = await keyed.get("/api/v1/users/me", headers=bearer("not.a.jwt"))
    expected = assert_problem(bad_jwt, 401, "invalid-token")
    for secret in (
        expiring["secret"],
        revoked["secret"],
        "hxk_" + "A" * 43,  # unknown
        revoked["secret"][:-1] + ("A" if revoked["secret"][-1] != "A" else "B"),  # same prefix
    ):
        answer = await keyed.get("/api/v1/users/me", headers=bearer(secret))
        assert assert_problem(answer, 401, "invalid-token") == expected
        assert answer.headers["www-authenticate"] == bad_jwt.headers["www-authenticate"]


async def test_creation_is_validated(keyed: AsyncClient, clock: ManualClock) -> None:
    ada = await signed_up(keyed)
    unknown_scope = await keyed.post(
        "/api/v1/api-keys", json={"name": "k", "scopes": ["root"]}, headers=ada
    )
    assert_problem(unknown_scope, 422, "validation-error")
    past = (clock.now() - timedelta(seconds=1)).isoformat()
    in_the_past = await keyed.post(
        "/api/v1/api-keys",
        json={"name": "k", "scopes": ["accounts:read"], "expires_at": past},
        headers=ada,
    )
    assert in_the_past.status_code == 422
    too_many = [str(uuid4()) for _ in range(101)]
    many_accounts = await keyed.post(
        "/api/v1/api-keys",
        json={"name": "k", "scopes": ["accounts:read"], "account_ids": too_many},
        headers=ada,
    )
    assert_problem(many_accounts, 422, "validation-error")
    no_scope = await keyed.post("/api/v1/api-keys", json={"name": "k", "scopes": []}, headers=ada)
    assert_problem(no_scope, 422, "validation-error")
    bob = await signed_up(keyed, "bob@example.com")
    bobs = await opened(keyed, bob)
    foreign = await keyed.post(
        "/api/v1/api-keys",
        json={"name": "k", "scopes": ["accounts:read"], "account_ids": [bobs]},
        headers=ada,
    )
    assert_problem(foreign, 404, "account-not-found")


async def test_at_most_the_limit_of_live_keys(database_url: str, tmp_path: Path) -> None:
    settings = make_settings(database_url, tmp_path, api_keys_per_user=2)
    async with instance(settings, database_url, ManualClock()) as client:
        ada = await signed_up(client)
        first = await new_key(client, ada)
        await new_key(client, ada)
        assert_problem(
            await client.post(
                "/api/v1/api-keys", json={"name": "k", "scopes": ["accounts:read"]}, headers=ada
            ),
            409,
            "too-many-keys",
        )
        await client.delete(f"/api/v1/api-keys/{first['id']}", headers=ada)
        await new_key(client, ada)  # a revoked key no longer counts


# -- escalation ------------------------------------------------------------------------------


async def test_a_key_creates_keys_only_within_its_own_scopes(keyed: AsyncClient) -> None:
    ada = await signed_up(keyed)
    narrow = bearer(
        (await new_key(keyed, ada, scopes=["api-keys:write", "accounts:read"]))["secret"]
    )
    wider = await keyed.post(
        "/api/v1/api-keys",
        json={"name": "k", "scopes": ["accounts:read", "money:write"]},
        headers=narrow,
    )
    assert_problem(wider, 403, "scope-escalation")
    await new_key(keyed, narrow, scopes=["accounts:read"])  # within: fine


async def test_a_restricted_key_creates_keys_only_for_its_accounts(keyed: AsyncClient) -> None:
    ada = await signed_up(keyed)
    mine, other = await opened(keyed, ada), await opened(keyed, ada)
    restricted = bearer((await new_key(keyed, ada, account_ids=[mine]))["secret"])
    unrestricted = await keyed.post(
        "/api/v1/api-keys", json={"name": "k", "scopes": ["accounts:read"]}, headers=restricted
    )
    assert_problem(unrestricted, 403, "scope-escalation")
    elsewhere = await keyed.post(
        "/api/v1/api-keys",
        json={"name": "k", "scopes": ["accounts:read"], "account_ids": [mine, other]},
        headers=restricted,
    )
    assert_problem(elsewhere, 403, "scope-escalation")
    await new_key(keyed, restricted, scopes=["accounts:read"], account_ids=[mine])


async def test_an_expiring_key_creates_no_key_that_outlives_it(
    keyed: AsyncClient, clock: ManualClock
) -> None:
    ada = await signed_up(keyed)
    until = clock.now() + timedelta(hours=1)
    expiring = bearer((await new_key(keyed, ada, expires_at=until.isoformat()))["secret"])
    for later in (None, (until + timedelta(seconds=1)).isoformat()):
        outliving = await keyed.post(
            "/api/v1/api-keys",
            json={"name": "k", "scopes": ["accounts:read"], "expires_at": later},
            headers=expiring,
        )
        assert_problem(outliving, 403, "scope-escalation")
    await new_key(keyed, expiring, scopes=["accounts:read"], expires_at=until.isoformat())


async def test_a_key_without_the_scope_is_refused_naming_it(keyed: AsyncClient) -> None:
    ada = await signed_up(keyed)
    reader = bearer((await new_key(keyed, ada, scopes=READ_ONLY))["secret"])
    refused = await keyed.post(
        "/api/v1/api-keys", json={"name": "k", "scopes": ["accounts:read"]}, headers=reader
    )
    body = assert_problem(refused, 403, "insufficient-scope")
    assert body["required_scope"] == "api-keys:write"


async def test_a_key_never_reaches_another_users_keys(keyed: AsyncClient) -> None:
    ada = await signed_up(keyed)
    bob = await signed_up(keyed, "bob@example.com")
    bobs_key = await new_key(keyed, bob)
    adas_key = bearer((await new_key(keyed, ada))["secret"])
    listed = await keyed.get("/api/v1/api-keys", headers=adas_key)
    assert bobs_key["id"] not in listed.text
    revoking = await keyed.delete(f"/api/v1/api-keys/{bobs_key['id']}", headers=adas_key)
    assert_problem(revoking, 404, "api-key-not-found")
    seeing = await keyed.get(f"/api/v1/api-keys/{bobs_key['id']}", headers=adas_key)
    assert_problem(seeing, 404, "api-key-not-found")
    assert (
        await keyed.get("/api/v1/users/me", headers=bearer(bobs_key["secret"]))
    ).status_code == 200


# -- account restriction in listings -------------------------------------------------------


async def test_a_restricted_key_lists_and_feeds_only_its_accounts(keyed: AsyncClient) -> None:
    ada = await signed_up(keyed)
    bob = await signed_up(keyed, "bob@example.com")
    mine = await opened(keyed, ada, funds=100)
    other = await opened(keyed, ada, funds=100)
    bobs = await opened(keyed, bob)
    for source in (mine, other):
        paid = await keyed.post(
            "/api/v1/transfers",
            json={"from_account_id": source, "to_account_id": bobs, "amount": 5, "currency": "EUR"},
            headers=ada,
        )
        assert paid.status_code == 201, paid.text
    key = bearer((await new_key(keyed, ada, scopes=READ_ONLY, account_ids=[mine]))["secret"])

    accounts = (await keyed.get("/api/v1/accounts", headers=key)).json()
    assert [account["id"] for account in accounts["items"]] == [mine]
    transfers = (await keyed.get("/api/v1/transfers", headers=key)).json()["items"]
    assert transfers
    assert all(mine in (t["from_account_id"], t["to_account_id"]) for t in transfers)
    assert_problem(
        await keyed.get(f"/api/v1/transfers?account_id={other}", headers=key),
        404,
        "account-not-found",
    )
    events = (await keyed.get("/api/v1/events", headers=key)).json()["items"]
    assert events
    for event in events:
        assert [state["id"] for state in event["accounts"]] == [mine]
    everything = (await keyed.get("/api/v1/events", headers=ada)).json()["items"]
    assert len(everything) > len(events)


# -- rate limit ------------------------------------------------------------------------------


async def test_a_key_over_its_rate_is_refused_with_retry_after(
    database_url: str, tmp_path: Path
) -> None:
    settings = make_settings(database_url, tmp_path, api_key_rate=2)
    async with instance(settings, database_url, ManualClock()) as client:
        ada = await signed_up(client)
        key = bearer((await new_key(client, ada))["secret"])
        answers = [await client.get("/api/v1/users/me", headers=key) for _ in range(6)]
        statuses = [answer.status_code for answer in answers]
        assert statuses[:4] == [200] * 4  # a burst of twice the rate
        assert 429 in statuses[4:]
        refused = next(answer for answer in answers if answer.status_code == 429)
        assert_problem(refused, 429, "rate-limited")
        assert int(refused.headers["retry-after"]) >= 1
        for answer in answers:
            assert answer.headers["ratelimit-limit"] == "4"
            assert int(answer.headers["ratelimit-remaining"]) >= 0
            assert int(answer.headers["ratelimit-reset"]) >= 0
        assert [answer.headers["ratelimit-remaining"] for answer in answers[:4]] == [
            "3", "2", "1", "0"
        ]  # fmt: skip
        # Errors carry them too; a JWT's answers do not.
        missing = await client.get("/api/v1/accounts/not-a-uuid", headers=key)
        assert "ratelimit-limit" in missing.headers
        assert "ratelimit-limit" not in (await client.get("/api/v1/users/me", headers=ada)).headers


# -- two instances -----------------------------------------------------------------------------


@pytest.mark.postgres
async def test_a_revocation_reaches_another_instance_within_its_cache_life(
    settings: Settings, database_url: str
) -> None:
    first_clock, second_clock = ManualClock(), ManualClock()
    async with (
        instance(settings, database_url, first_clock) as first,
        instance(settings, database_url, second_clock) as second,
    ):
        ada = await signed_up(first)
        key = await new_key(first, ada)
        assert (
            await second.get("/api/v1/users/me", headers=bearer(key["secret"]))
        ).status_code == 200
        revoked = await first.delete(f"/api/v1/api-keys/{key['id']}", headers=ada)
        assert revoked.status_code == 204
        # The instance that revoked it refuses it at once.
        assert (
            await first.get("/api/v1/users/me", headers=bearer(key["secret"]))
        ).status_code == 401
        # The other one trusts what it read for at most HEXBANK_API_KEY_CACHE_S (<= 5 s) ...
        assert settings.api_key_cache_s <= 5
        assert (
            await second.get("/api/v1/users/me", headers=bearer(key["secret"]))
        ).status_code == 200
        second_clock.advance(seconds=settings.api_key_cache_s)
        # ... and refuses it from then on.
        answer = await second.get("/api/v1/users/me", headers=bearer(key["secret"]))
        assert_problem(answer, 401, "invalid-token")


# -- logs ----------------------------------------------------------------------------------------


async def test_no_log_line_carries_a_secret(
    keyed: AsyncClient, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    ada = await signed_up(keyed)
    key = await new_key(keyed, ada)
    secret = key["secret"]
    await keyed.get("/api/v1/users/me", headers=bearer(secret))
    await keyed.get("/api/v1/accounts/not-a-uuid", headers=bearer(secret))
    await keyed.delete(f"/api/v1/api-keys/{key['id']}", headers=ada)
    await keyed.get("/api/v1/users/me", headers=bearer(secret))
    captured = capsys.readouterr()
    assert caplog.records  # the requests were logged ...
    for output in (caplog.text, captured.out, captured.err):
        assert secret not in output  # ... and no line holds the secret
        assert secret[4:] not in output


# -- the authz matrix ----------------------------------------------------------------------------


@dataclass
class World:
    client: AsyncClient
    ada: dict[str, str]
    bob: dict[str, str]
    mine: str
    """Ada's funded account, the one every route is aimed at."""
    elsewhere: str
    """Ada's other account: the restricted key's only one."""
    bobs: str
    bobs_yen: str = ""
    """Bob's JPY account: the other side of conversions."""
    _webhook: str | None = None

    async def hold(self) -> str:
        made = await self.client.post(
            "/api/v1/transfers",
            json={
                "from_account_id": self.mine,
                "to_account_id": self.bobs,
                "amount": 1,
                "currency": "EUR",
                "pending": True,
            },
            headers=self.ada,
        )
        assert made.status_code == 201, made.text
        return str(made.json()["id"])

    async def received(self) -> str:
        made = await self.client.post(
            "/api/v1/transfers",
            json={
                "from_account_id": self.bobs,
                "to_account_id": self.mine,
                "amount": 1,
                "currency": "EUR",
            },
            headers=self.bob,
        )
        assert made.status_code == 201, made.text
        return str(made.json()["id"])

    async def conversion(self) -> str:
        made = await self.client.post(
            "/api/v1/conversions", json=_conversion_body(self), headers=self.ada
        )
        assert made.status_code == 201, made.text
        return str(made.json()["id"])

    async def monitor(self) -> str:
        made = await self.client.post(
            f"/api/v1/accounts/{self.mine}/monitors",
            json={"field": "available", "op": "gt", "value": 0},
            headers=self.ada,
        )
        assert made.status_code == 201, made.text
        return str(made.json()["id"])

    async def empty_account(self) -> str:
        return await opened(self.client, self.ada)

    async def spare_key(self) -> str:
        return str((await new_key(self.client, self.ada, scopes=["accounts:read"]))["id"])

    async def webhook(self) -> str:
        """Ada's endpoint, made once (a user has at most 20)."""
        if self._webhook is None:
            made = await self.client.post(
                "/api/v1/webhook-endpoints", json={"url": WEBHOOK_URL}, headers=self.ada
            )
            assert made.status_code == 201, made.text
            self._webhook = str(made.json()["id"])
        return self._webhook

    async def spare_webhook(self) -> str:
        made = await self.client.post(
            "/api/v1/webhook-endpoints", json={"url": WEBHOOK_URL}, headers=self.ada
        )
        assert made.status_code == 201, made.text
        return str(made.json()["id"])


Target = Callable[[World], Awaitable[tuple[str, str, Any]]]


def route(method: str, path: str, body: Any = None) -> Target:
    async def target(world: World) -> tuple[str, str, Any]:
        return method, path.format(mine=world.mine, bobs=world.bobs), body

    return target


def with_fresh(make: str, method: str, path: str, body: Any = None) -> Target:
    async def target(world: World) -> tuple[str, str, Any]:
        made = await getattr(world, make)()
        return method, path.format(made=made, mine=world.mine), body

    return target


def transfer(world_from: str, to: str) -> dict[str, Any]:
    return {"from_account_id": world_from, "to_account_id": to, "amount": 1, "currency": "EUR"}


async def _pay(world: World) -> tuple[str, str, Any]:
    return "POST", "/api/v1/transfers", transfer(world.mine, world.bobs)


async def _batch(world: World) -> tuple[str, str, Any]:
    return "POST", "/api/v1/transfers/batch", {"transfers": [transfer(world.mine, world.bobs)]}


def _conversion_body(world: World) -> dict[str, Any]:
    return {
        "from_account_id": world.mine,
        "to_account_id": world.bobs_yen,
        "amount": 100,
        "rate": "1",
    }


async def _convert(world: World) -> tuple[str, str, Any]:
    return "POST", "/api/v1/conversions", _conversion_body(world)


async def _get_transfer(world: World) -> tuple[str, str, Any]:
    return "GET", f"/api/v1/transfers/{await world.received()}", None


_WATCH = {"field": "balance", "op": "lt", "value": 1}

OK, FORBIDDEN, GONE, DENIED = "ok", 403, 404, 401

# route -> (expected for: JWT, full key, read-only key, key restricted to another account);
# revoked and expired keys get 401 everywhere.
MATRIX: dict[str, tuple[Target, int, tuple[int, int, int, int]]] = {
    "GET /users/me": (route("GET", "/api/v1/users/me"), 200, (200, 200, 200, 200)),
    "POST /accounts": (
        route("POST", "/api/v1/accounts", {"currency": "EUR"}),
        201,
        (201, 201, 403, 201),
    ),
    "GET /accounts": (route("GET", "/api/v1/accounts"), 200, (200, 200, 200, 200)),
    "GET /accounts/{id}": (route("GET", "/api/v1/accounts/{mine}"), 200, (200, 200, 200, 404)),
    "PATCH /accounts/{id}": (
        route("PATCH", "/api/v1/accounts/{mine}", {"name": "main"}),
        200,
        (200, 200, 403, 404),
    ),
    "POST /accounts/{id}/close": (
        with_fresh("empty_account", "POST", "/api/v1/accounts/{made}/close"),
        200,
        (200, 200, 403, 404),
    ),
    "GET /accounts/{id}/balance": (
        route("GET", "/api/v1/accounts/{mine}/balance"),
        200,
        (200, 200, 200, 404),
    ),
    "GET /accounts/{id}/summary": (
        route("GET", "/api/v1/accounts/{mine}/summary"),
        200,
        (200, 200, 200, 404),
    ),
    "GET /accounts/{id}/entries": (
        route("GET", "/api/v1/accounts/{mine}/entries"),
        200,
        (200, 200, 200, 404),
    ),
    "GET /accounts/{id}/statement": (
        route("GET", "/api/v1/accounts/{mine}/statement"),
        200,
        (200, 200, 200, 404),
    ),
    "POST /accounts/{id}/deposits": (
        route("POST", "/api/v1/accounts/{mine}/deposits", {"amount": 10}),
        201,
        (201, 201, 403, 404),
    ),
    "POST /accounts/{id}/withdrawals": (
        route("POST", "/api/v1/accounts/{mine}/withdrawals", {"amount": 1}),
        201,
        (201, 201, 403, 404),
    ),
    "POST /transfers": (_pay, 201, (201, 201, 403, 404)),
    "POST /transfers/batch": (_batch, 200, (200, 200, 403, 404)),
    "GET /transfers": (route("GET", "/api/v1/transfers"), 200, (200, 200, 200, 200)),
    "GET /transfers/{id}": (_get_transfer, 200, (200, 200, 200, 404)),
    "POST /transfers/{id}/post": (
        with_fresh("hold", "POST", "/api/v1/transfers/{made}/post"),
        200,
        (200, 200, 403, 404),
    ),
    "POST /transfers/{id}/void": (
        with_fresh("hold", "POST", "/api/v1/transfers/{made}/void"),
        200,
        (200, 200, 403, 404),
    ),
    "POST /transfers/{id}/reversals": (
        with_fresh("received", "POST", "/api/v1/transfers/{made}/reversals"),
        201,
        (201, 201, 403, 404),
    ),
    "POST /accounts/{id}/monitors": (
        route(
            "POST", "/api/v1/accounts/{mine}/monitors", {"field": "balance", "op": "lt", "value": 1}
        ),
        201,
        (201, 201, 403, 404),
    ),
    "GET /accounts/{id}/monitors": (
        route("GET", "/api/v1/accounts/{mine}/monitors"),
        200,
        (200, 200, 200, 404),
    ),
    "DELETE /accounts/{id}/monitors/{id}": (
        with_fresh("monitor", "DELETE", "/api/v1/accounts/{mine}/monitors/{made}"),
        204,
        (204, 204, 403, 404),
    ),
    "POST /conversions": (_convert, 201, (201, 201, 403, 404)),
    "GET /conversions/{id}": (
        with_fresh("conversion", "GET", "/api/v1/conversions/{made}"),
        200,
        (200, 200, 200, 404),
    ),
    "GET /events": (route("GET", "/api/v1/events"), 200, (200, 200, 200, 200)),
    "POST /api-keys": (
        route("POST", "/api/v1/api-keys", {"name": "k", "scopes": ["accounts:read"]}),
        201,
        # The restricted key may not mint a key for every account: scope-escalation.
        (201, 201, 403, 403),
    ),
    "GET /api-keys": (route("GET", "/api/v1/api-keys"), 200, (200, 200, 403, 200)),
    "GET /api-keys/{id}": (
        with_fresh("spare_key", "GET", "/api/v1/api-keys/{made}"),
        200,
        (200, 200, 403, 200),
    ),
    "DELETE /api-keys/{id}": (
        with_fresh("spare_key", "DELETE", "/api/v1/api-keys/{made}"),
        204,
        (204, 204, 403, 204),
    ),
    # Webhooks: webhooks:write to change, events:read to read; a key restricted to some
    # accounts manages none (an endpoint receives every account's events): scope-escalation.
    "POST /webhook-endpoints": (
        route("POST", "/api/v1/webhook-endpoints", {"url": WEBHOOK_URL}),
        201,
        (201, 201, 403, 403),
    ),
    "GET /webhook-endpoints": (
        route("GET", "/api/v1/webhook-endpoints"),
        200,
        (200, 200, 200, 200),
    ),
    "GET /webhook-endpoints/{id}": (
        with_fresh("webhook", "GET", "/api/v1/webhook-endpoints/{made}"),
        200,
        (200, 200, 200, 200),
    ),
    "PATCH /webhook-endpoints/{id}": (
        with_fresh("webhook", "PATCH", "/api/v1/webhook-endpoints/{made}", {"description": "d"}),
        200,
        (200, 200, 403, 403),
    ),
    "DELETE /webhook-endpoints/{id}": (
        with_fresh("spare_webhook", "DELETE", "/api/v1/webhook-endpoints/{made}"),
        204,
        (204, 204, 403, 403),
    ),
    "POST /webhook-endpoints/{id}/rotate-secret": (
        with_fresh("webhook", "POST", "/api/v1/webhook-endpoints/{made}/rotate-secret"),
        200,
        (200, 200, 403, 403),
    ),
    "GET /webhook-endpoints/{id}/deliveries": (
        with_fresh("webhook", "GET", "/api/v1/webhook-endpoints/{made}/deliveries"),
        200,
        (200, 200, 200, 200),
    ),
    "POST /webhook-endpoints/{id}/replay": (
        with_fresh("webhook", "POST", "/api/v1/webhook-endpoints/{made}/replay", {}),
        202,
        (202, 202, 403, 403),
    ),
}


async def test_every_route_answers_every_kind_of_credential_as_expected(
    keyed: AsyncClient, clock: ManualClock
) -> None:
    client = keyed
    ada = await signed_up(client)
    bob = await signed_up(client, "bob@example.com")
    world = World(
        client,
        ada,
        bob,
        mine=await opened(client, ada, funds=10_000),
        elsewhere=await opened(client, ada),
        bobs=await opened(client, bob, funds=10_000),
        bobs_yen=await opened(client, bob, "JPY"),
    )
    expiring = (clock.now() + timedelta(minutes=1)).isoformat()
    credentials = {
        "jwt": ada,
        "full key": bearer((await new_key(client, ada))["secret"]),
        "read-only key": bearer((await new_key(client, ada, scopes=READ_ONLY))["secret"]),
        "restricted key": bearer(
            (await new_key(client, ada, account_ids=[world.elsewhere]))["secret"]
        ),
    }
    revoked = await new_key(client, ada)
    await client.delete(f"/api/v1/api-keys/{revoked['id']}", headers=ada)
    expired = await new_key(client, ada, expires_at=expiring)
    clock.advance(minutes=2)  # the JWT (an hour) lives on; the expiring key does not
    credentials["revoked key"] = bearer(revoked["secret"])
    credentials["expired key"] = bearer(expired["secret"])

    seen: dict[tuple[str, str], int] = {}
    slugs: dict[tuple[str, str], str] = {}
    wanted: dict[tuple[str, str], int] = {}
    for name, (target, _, expected) in MATRIX.items():
        for credential, status in zip(credentials, (*expected, 401, 401), strict=True):
            method, path, body = await target(world)
            answer = await client.request(method, path, json=body, headers=credentials[credential])
            seen[name, credential] = answer.status_code
            wanted[name, credential] = status
            if status >= 400 and answer.status_code == status:
                slugs[name, credential] = answer.json()["type"].rsplit("/", 1)[-1]
    assert seen == wanted
    for (name, credential), slug in slugs.items():
        if credential in ("revoked key", "expired key"):
            assert slug == "invalid-token", name
        elif credential == "restricted key" and (
            name == "POST /api-keys" or "/webhook-endpoints" in name
        ):
            assert slug == "scope-escalation", name
        elif credential == "read-only key":
            assert slug == "insufficient-scope", name
        else:
            assert credential == "restricted key", (name, credential)
            assert slug in {"account-not-found", "transfer-not-found", "conversion-not-found"}, name
