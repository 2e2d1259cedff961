"""Metadata, references, search, balances at a moment and account lifecycle as use cases on
the in-memory fakes."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest

from application.errors import InvalidPage
from application.transfer_requests import TransferRequest
from application.use_cases.search_transfers import TransferFilters
from application.use_cases.update_account import AccountChanges
from domain.account import AccountStatus
from domain.errors import (
    AccountClosed,
    AccountFrozen,
    AccountNotEmpty,
    AccountNotFound,
    DuplicateReference,
    InvalidAccountName,
    InvalidMetadata,
)
from domain.transfer import TransferStatus
from tests.fakes import InMemoryBank, use_cases
from tests.unit.test_movements import people


@pytest.fixture
def uc(bank: InMemoryBank) -> SimpleNamespace:
    return use_cases(bank)


async def test_references_are_unique_per_user_and_labels_kept(uc: SimpleNamespace) -> None:
    ada, bob, source, destination = await people(uc)
    labels = {"order": "7"}
    made = await uc.transfer(
        ada, TransferRequest(source, destination, 1, "EUR", reference="o-7", metadata=labels)
    )
    assert (made.transfer.reference, made.transfer.metadata, made.transfer.created_by) == (
        "o-7",
        labels,
        ada,
    )
    with pytest.raises(DuplicateReference):
        await uc.withdraw(ada, source, 1, reference="o-7")
    with pytest.raises(DuplicateReference):
        await uc.deposit(ada, source, 1, reference="o-7")
    await uc.reverse(bob, made.transfer.id, reference="o-7")  # Bob's own reference space
    with pytest.raises(InvalidMetadata):
        await uc.transfer(ada, TransferRequest(source, destination, 1, "EUR", metadata={"": "x"}))


async def test_an_account_is_renamed_relabelled_closed(uc: SimpleNamespace) -> None:
    ada, bob, source, _ = await people(uc)
    changed = await uc.update_account(ada, source, AccountChanges(name="Main", metadata={"a": "1"}))
    assert (changed.name, changed.metadata) == ("Main", {"a": "1"})
    merged = await uc.update_account(ada, source, AccountChanges(metadata={"a": None, "b": "2"}))
    assert (merged.name, merged.metadata) == ("Main", {"b": "2"})
    with pytest.raises(InvalidAccountName):
        await uc.update_account(ada, source, AccountChanges(name=" "))
    with pytest.raises(AccountNotFound):
        await uc.update_account(bob, source, AccountChanges(name="mine"))
    with pytest.raises(AccountNotEmpty):
        await uc.close_account(ada, source)
    await uc.withdraw(ada, source, 1_000)
    closed = await uc.close_account(ada, source)
    assert closed.status is AccountStatus.CLOSED
    with pytest.raises(AccountClosed):
        await uc.deposit(ada, source, 1)
    with pytest.raises(AccountClosed):
        await uc.freeze(source)


async def test_a_frozen_account_refuses_money_until_unfrozen(uc: SimpleNamespace) -> None:
    ada, _, source, destination = await people(uc)
    hold = (
        await uc.transfer(ada, TransferRequest(source, destination, 10, "EUR", pending=True))
    ).transfer
    assert (await uc.freeze(source)).changed
    with pytest.raises(AccountFrozen):
        await uc.transfer(ada, TransferRequest(source, destination, 1, "EUR"))
    with pytest.raises(AccountFrozen):
        await uc.post_hold(ada, hold.id)
    assert (await uc.void_hold(ada, hold.id)).transfer.status is TransferStatus.VOIDED
    await uc.unfreeze(source)
    await uc.transfer(ada, TransferRequest(source, destination, 1, "EUR"))


async def test_search_pages_and_balances_at_moments(
    bank: InMemoryBank, uc: SimpleNamespace
) -> None:
    ada, _, source, destination = await people(uc)
    start = bank.clock.now()
    for amount in (10, 20, 30):
        bank.clock.advance(minutes=1)
        await uc.transfer(ada, TransferRequest(source, destination, amount, "EUR"))
    first = await uc.search(ada, TransferFilters(account_id=source), limit=2)
    second = await uc.search(
        ada, TransferFilters(account_id=source), limit=2, cursor=first.next_cursor
    )
    amounts = [t.amount for t in first.items + second.items]
    assert amounts == [30, 20, 10, 1_000]
    assert second.next_cursor is None
    with pytest.raises(InvalidPage):
        await uc.search(ada, TransferFilters(), cursor="not-a-cursor")
    at = await uc.balance_at(ada, source, start + timedelta(minutes=2, seconds=30))
    assert (at.balance, at.sequence) == (970, 3)
    assert (await uc.balance_at(ada, source, start - timedelta(days=1))).balance == 0


async def test_freezing_what_is_frozen_or_unfreezing_what_is_active_writes_nothing(
    bank: InMemoryBank, uc: SimpleNamespace
) -> None:
    _, _, source, _ = await people(uc)

    def lifecycle_events() -> list[str]:
        return [
            stored.event.type
            for stored in bank.storage.events
            if stored.event.type in {"account.frozen", "account.unfrozen"}
        ]

    commits = bank.storage.commits
    already_active = await uc.unfreeze(source)
    assert (already_active.changed, already_active.account.status) == (
        False,
        AccountStatus.ACTIVE,
    )
    assert (await uc.freeze(source)).changed
    again = await uc.freeze(source)
    assert (again.changed, again.account.status) == (False, AccountStatus.FROZEN)
    assert (await uc.unfreeze(source)).changed
    assert lifecycle_events() == ["account.frozen", "account.unfrozen"]
    assert bank.storage.commits == commits + 2  # the no-ops committed nothing
