"""Lists stay bounded: accounts are paged, a page stops at its byte budget (with a cursor),
and one user's open accounts are capped, also under concurrent openings."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from httpx import AsyncClient

from tests.conftest import make_settings, serving
from tests.http.helpers import assert_problem, opened, signed_up

LARGE = {f"key{n:02}": chr(ord("a") + n) * 500 for n in range(20)}
"""20 metadata values of 500 characters: about 10 KB of JSON per item."""


async def every_page(
    client: AsyncClient, path: str, auth: dict[str, str], **params: Any
) -> list[dict[str, Any]]:
    """Follow `next_cursor` to the end; every page's size is recorded."""
    pages = []
    cursor = None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        response = await client.get(path, params=query, headers=auth)
        assert response.status_code == 200, response.text
        page = response.json()
        pages.append({**page, "bytes": len(response.content)})
        cursor = page["next_cursor"]
        if not cursor:
            return pages


async def test_accounts_are_keyset_paged_oldest_first(client: AsyncClient) -> None:
    ada, bob = await signed_up(client), await signed_up(client, "bob@example.com")
    mine = [await opened(client, ada) for _ in range(5)]
    await opened(client, bob)

    pages = await every_page(client, "/api/v1/accounts", ada, limit=2)
    assert [len(page["items"]) for page in pages] == [2, 2, 1]
    assert [item["id"] for page in pages for item in page["items"]] == mine
    assert pages[-1]["next_cursor"] is None
    everything = (await client.get("/api/v1/accounts", headers=ada)).json()
    assert [item["id"] for item in everything["items"]] == mine  # default: 100 a page
    assert everything["next_cursor"] is None


@pytest.mark.parametrize(
    ("params", "slug"),
    [
        ({"limit": 0}, "validation-error"),
        ({"limit": 501}, "validation-error"),
        ({"cursor": "not-a-cursor"}, "invalid-page"),
        ({"cursor": "eyJ0IjoieCIsImkiOiJ5In0"}, "invalid-page"),  # {"t":"x","i":"y"}
    ],
)
async def test_a_bad_accounts_page_is_refused(
    client: AsyncClient, params: dict[str, Any], slug: str
) -> None:
    ada = await signed_up(client)
    assert_problem(await client.get("/api/v1/accounts", params=params, headers=ada), 422, slug)


async def test_pages_of_large_items_stop_at_the_byte_budget(
    database_url: str, tmp_path: Path
) -> None:
    budget = 32 * 1024
    settings = make_settings(database_url, tmp_path, max_page_bytes=budget)
    async with serving(settings, database_url) as client:
        ada = await signed_up(client)
        accounts = []
        for n in range(7):
            body = {"currency": "EUR", "name": f"account {n}", "metadata": LARGE}
            created = await client.post("/api/v1/accounts", json=body, headers=ada)
            assert created.status_code == 201, created.text
            accounts.append(created.json()["id"])
        deposits = []
        for n in range(7):
            deposit = await client.post(
                f"/api/v1/accounts/{accounts[0]}/deposits",
                json={"amount": 10 + n, "metadata": LARGE},
                headers=ada,
            )
            assert deposit.status_code == 201, deposit.text
            deposits.append(deposit.json()["id"])

        listed = await every_page(client, "/api/v1/accounts", ada, limit=500)
        found = await every_page(client, "/api/v1/transfers", ada, limit=100)
        feed = await every_page_of_feed(client, ada)

    # Every item is found once, in order, and no page passes the budget (a few hundred
    # bytes of envelope aside); a page holds as many items as fit.
    assert [item["id"] for page in listed for item in page["items"]] == accounts
    assert [item["id"] for page in found for item in page["items"]] == deposits[::-1]
    assert len(feed) == 7 + 7 + 1  # opened, deposited, registered
    for pages in (listed, found):
        assert all(page["bytes"] <= budget + 1024 for page in pages)
        assert max(len(page["items"]) for page in pages) >= 2
        assert len(pages) >= 3


async def every_page_of_feed(client: AsyncClient, auth: dict[str, str]) -> list[Any]:
    items: list[Any] = []
    cursor = None
    while True:
        params = {"limit": 100, **({"after": cursor} if cursor else {})}
        response = await client.get("/api/v1/events", params=params, headers=auth)
        assert response.status_code == 200, response.text
        assert len(response.content) <= 32 * 1024 + 1024
        page = response.json()
        if not page["items"]:
            return items
        assert len(page["items"]) < 100
        items.extend(page["items"])
        cursor = page["next_cursor"]


async def test_a_user_may_have_so_many_open_accounts(database_url: str, tmp_path: Path) -> None:
    settings = make_settings(database_url, tmp_path, max_accounts_per_user=2)
    async with serving(settings, database_url) as client:
        ada, bob = await signed_up(client), await signed_up(client, "bob@example.com")
        first, _ = await opened(client, ada), await opened(client, ada)
        third = await client.post("/api/v1/accounts", json={"currency": "EUR"}, headers=ada)
        assert "2 open accounts" in assert_problem(third, 409, "too-many-accounts")["detail"]
        await opened(client, bob)  # a limit per user

        closed = await client.post(f"/api/v1/accounts/{first}/close", headers=ada)
        assert closed.status_code == 200, closed.text
        await opened(client, ada)  # closed accounts do not count
        again = await client.post("/api/v1/accounts", json={"currency": "EUR"}, headers=ada)
        assert_problem(again, 409, "too-many-accounts")
        listed = (await client.get("/api/v1/accounts", headers=ada)).json()["items"]
        assert len(listed) == 3


@pytest.mark.postgres  # the owner's row lock: the fakes never interleave two openings
async def test_concurrent_openings_at_the_limit_do_not_both_succeed(
    database_url: str, tmp_path: Path
) -> None:
    settings = make_settings(database_url, tmp_path, max_accounts_per_user=3)
    async with serving(settings, database_url) as client:
        ada = await signed_up(client)
        await opened(client, ada)
        answers = await asyncio.gather(
            *(
                client.post("/api/v1/accounts", json={"currency": "EUR"}, headers=ada)
                for _ in range(8)
            )
        )
        statuses = sorted(answer.status_code for answer in answers)
        assert statuses == [201] * 2 + [409] * 6, [answer.text for answer in answers]
        listed = (await client.get("/api/v1/accounts", headers=ada)).json()["items"]
        assert len(listed) == 3


@pytest.mark.postgres  # SERIALIZABLE's serialization failures and their retries
async def test_concurrent_openings_under_serializable_are_retried_not_refused(
    database_url: str, tmp_path: Path
) -> None:
    """At SERIALIZABLE an opening's snapshot predates its wait for the owner's row, so
    PostgreSQL aborts the openings that raced; they run again and see who won, so the
    client gets 201 or 409 too-many-accounts, never 503."""
    settings = make_settings(
        database_url,
        tmp_path,
        max_accounts_per_user=3,
        db_isolation_level="SERIALIZABLE",
    )
    async with serving(settings, database_url) as client:
        ada = await signed_up(client)
        await opened(client, ada)
        answers = await asyncio.gather(
            *(
                client.post("/api/v1/accounts", json={"currency": "EUR"}, headers=ada)
                for _ in range(30)
            )
        )
        statuses = sorted(answer.status_code for answer in answers)
        assert statuses == [201] * 2 + [409] * 28, [answer.text for answer in answers]
        for answer in answers:
            if answer.status_code == 409:
                assert_problem(answer, 409, "too-many-accounts")
        listed = (await client.get("/api/v1/accounts", headers=ada)).json()["items"]
        assert len(listed) == 3
