"""The README's "Try it" walkthrough through the generated SDK alone (clients/python, the
package hexbank-client; issue 22, item 7), against the app served over ASGI: register, log in,
open accounts, deposit, transfer with an Idempotency-Key, hold and post, reverse, withdraw,
both kinds of batch, search with paging, the balance at a time, and the events. Every answer
the walkthrough reads must be the SDK's typed model for it, never a dict, None or a problem:
that is what proves the spec declares what the server sends."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID, uuid4

import pytest
from hexbank_client import AuthenticatedClient, Client
from hexbank_client.api.accounts import (
    accounts_balance_at,
    accounts_create,
    accounts_get,
    accounts_list,
    accounts_summary,
    deposits_create,
    entries_list,
    withdrawals_create,
)
from hexbank_client.api.events import events_list
from hexbank_client.api.transfers import (
    holds_post,
    reversals_create,
    transfers_batch,
    transfers_create,
    transfers_get,
    transfers_list,
)
from hexbank_client.api.users import auth_token, users_create, users_me
from hexbank_client.models import (
    AccountEvent,
    AccountListOut,
    AccountOut,
    AccountSummaryOut,
    AtomicBatchOut,
    BalanceOut,
    BatchIn,
    BatchOut,
    Currency,
    DepositIn,
    EventFeedOut,
    EventsListTypeItem,
    Metadata,
    OpenAccountIn,
    PostHoldIn,
    RegisterUserIn,
    ReversalIn,
    StatementOut,
    TokenFormIn,
    TokenOut,
    TokenProblemOut,
    TransferEvent,
    TransferIn,
    TransferListOut,
    TransferOut,
    UserEvent,
    UserOut,
    WithdrawalIn,
)
from httpx import ASGITransport

from entrypoints.app import create_app
from entrypoints.settings import Settings
from tests.in_memory import container_for
from tests.integration.test_processes import app_process

BASE = "http://hexbank.test"
Model = TypeVar("Model")


@dataclass(frozen=True)
class Target:
    base_url: str
    httpx_args: dict[str, Any]


@pytest.fixture
async def target(
    settings: Settings, database_url: str, tmp_path: Path, backend: str
) -> AsyncIterator[Target]:
    """In process on the in-memory adapters; or a live `hexbank serve` on PostgreSQL, so the
    SDK meets the real server: its HTTP parser, middleware and answers as sent on the wire."""
    if backend == "postgres":
        with app_process(database_url, tmp_path) as (_, base):
            yield Target(base, {})
        return
    app = create_app(container_for(settings, database_url))
    async with app.router.lifespan_context(app):
        yield Target(BASE, {"transport": ASGITransport(app=app)})


def typed(answer: Any, model: type[Model]) -> Model:
    """The SDK's own model for this answer: not a problem, a dict or None."""
    assert isinstance(answer, model), answer
    return answer


@pytest.mark.parametrize(
    "backend", ["in_memory", pytest.param("postgres", marks=pytest.mark.postgres)]
)
async def test_the_readme_walkthrough_through_the_sdk(target: Target) -> None:
    transport = target.httpx_args
    public = Client(base_url=target.base_url, httpx_args=transport, raise_on_unexpected_status=True)
    email, password = f"ada+{uuid4().hex[:8]}@example.com", "correct horse"

    user = await users_create.asyncio(
        client=public,
        body=RegisterUserIn(email=email, password=password, full_name="Ada Lovelace"),
    )
    typed(user, UserOut)
    wrong = await auth_token.asyncio(
        client=public,
        body=TokenFormIn(grant_type="password", username=email, password="not the password"),
    )
    assert typed(wrong, TokenProblemOut).error == "invalid_grant"
    token = typed(
        await auth_token.asyncio(
            client=public,
            body=TokenFormIn(grant_type="password", username=email, password=password),
        ),
        TokenOut,
    )
    bank = AuthenticatedClient(
        base_url=target.base_url,
        token=token.access_token,
        httpx_args=transport,
        raise_on_unexpected_status=True,
    )
    assert typed(await users_me.asyncio(client=bank), UserOut).email == email

    a = typed(
        await accounts_create.asyncio(client=bank, body=OpenAccountIn(currency=Currency.EUR)),
        AccountOut,
    )
    b = typed(
        await accounts_create.asyncio(client=bank, body=OpenAccountIn(currency=Currency.EUR)),
        AccountOut,
    )
    run = uuid4().hex

    deposit = await deposits_create.asyncio(
        a.id, client=bank, body=DepositIn(amount=10000), idempotency_key=f"first-deposit-{run}"
    )
    assert typed(deposit, TransferOut).amount == 10000
    rent = TransferIn(from_account_id=a.id, to_account_id=b.id, amount=2500, currency=Currency.EUR)
    rent.description = "rent"
    first = typed(
        await transfers_create.asyncio(client=bank, body=rent, idempotency_key=f"rent-{run}"),
        TransferOut,
    )
    replay = await transfers_create.asyncio_detailed(
        client=bank, body=rent, idempotency_key=f"rent-{run}"
    )
    assert typed(replay.parsed, TransferOut).id == first.id  # replayed, not moved again
    assert replay.headers["Idempotent-Replayed"] == "true"

    statement = typed(await entries_list.asyncio(a.id, client=bank), StatementOut)
    assert [entry.amount for entry in statement.items] == [-2500, 10000]
    listed = typed(await accounts_list.asyncio(client=bank, limit=100), AccountListOut)
    assert {account.id for account in listed.items} == {a.id, b.id}
    summary = typed(await accounts_summary.asyncio(a.id, client=bank), AccountSummaryOut)
    assert (summary.total_in, summary.total_out) == (10000, 2500)

    # A hold: 3000 reserved on A, 2000 of it posted; B refunds 500; 1000 leaves the bank.
    hold_in = TransferIn(
        from_account_id=a.id, to_account_id=b.id, amount=3000, currency=Currency.EUR
    )
    hold_in.pending, hold_in.timeout_seconds = True, 3600
    hold = typed(await transfers_create.asyncio(client=bank, body=hold_in), TransferOut)
    a_now = typed(await accounts_get.asyncio(a.id, client=bank), AccountOut)
    assert (a_now.balance, a_now.held, a_now.available) == (7500, 3000, 4500)
    posted = await holds_post.asyncio(
        hold.id, client=bank, body=PostHoldIn(amount=2000), idempotency_key=f"capture-{run}"
    )
    assert typed(posted, TransferOut).posted_amount == 2000
    refund = ReversalIn(amount=500)
    refund.description = "partial refund"
    reversal = typed(await reversals_create.asyncio(hold.id, client=bank, body=refund), TransferOut)
    assert reversal.reversal_of == hold.id
    cash = await withdrawals_create.asyncio(
        a.id, client=bank, body=WithdrawalIn(amount=1000), idempotency_key=f"cash-{run}"
    )
    assert typed(cash, TransferOut).amount == 1000

    # Both kinds of batch: all or nothing (201), and one result per item (200).
    there = TransferIn(from_account_id=a.id, to_account_id=b.id, amount=100, currency=Currency.EUR)
    back = TransferIn(from_account_id=b.id, to_account_id=a.id, amount=50, currency=Currency.EUR)
    atomic = await transfers_batch.asyncio(
        client=bank, body=BatchIn(transfers=[there, back], atomic=True)
    )
    assert len(typed(atomic, AtomicBatchOut).transfers) == 2
    too_much = TransferIn(
        from_account_id=a.id, to_account_id=b.id, amount=10**9, currency=Currency.EUR
    )
    each = await transfers_batch.asyncio(client=bank, body=BatchIn(transfers=[there, too_much]))
    assert [result.status for result in typed(each, BatchOut).results] == [201, 422]

    # Search with paging; one transfer read back with its metadata.
    seen: list[UUID] = []
    cursor: str | None = None
    while True:
        page = typed(
            await transfers_list.asyncio(
                client=bank, account_id=a.id, limit=2, **({"cursor": cursor} if cursor else {})
            ),
            TransferListOut,
        )
        seen += [transfer.id for transfer in page.items]
        if not isinstance(page.next_cursor, str):
            break
        cursor = page.next_cursor
    assert len(seen) == len(set(seen)) >= 7
    assert first.id in seen
    tagged_in = DepositIn(amount=1)
    tagged_in.metadata = Metadata.from_dict({"order_id": f"A-{run[:8]}"})
    tagged = typed(await deposits_create.asyncio(b.id, client=bank, body=tagged_in), TransferOut)
    assert tagged.metadata.to_dict() == {"order_id": f"A-{run[:8]}"}
    assert typed(await transfers_get.asyncio(tagged.id, client=bank), TransferOut).amount == 1

    # The balance at a time: before anything, and now.
    before = await accounts_balance_at.asyncio(
        a.id, client=bank, at=datetime(2000, 1, 1, tzinfo=UTC)
    )
    assert typed(before, BalanceOut).balance == 0
    now = typed(await accounts_balance_at.asyncio(a.id, client=bank), BalanceOut)
    a_end = typed(await accounts_get.asyncio(a.id, client=bank), AccountOut)
    assert now.balance == a_end.balance

    # The events of it all, filtered by type.
    feed = await events_list.asyncio(
        client=bank, type_=[EventsListTypeItem("account.opened")], limit=10
    )
    opened = typed(feed, EventFeedOut)
    assert {typed(event, AccountEvent).data.id for event in opened.items} == {a.id, b.id}
    assert isinstance(opened.next_cursor, str)
    everything = typed(await events_list.asyncio(client=bank, limit=100), EventFeedOut)
    kinds: dict[str, type[Any]] = {}
    for event in everything.items:
        data = {TransferEvent: TransferOut, AccountEvent: AccountOut, UserEvent: UserOut}
        typed(event.data, data[type(event)])  # the resource, as the API shows it
        kinds[str(event.type_)] = type(event)
    assert kinds["deposit.posted"] is TransferEvent
    assert kinds["transfer.reversed"] is TransferEvent
    assert kinds["account.opened"] is AccountEvent
