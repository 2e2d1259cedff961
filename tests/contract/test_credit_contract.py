"""Overdraft limits in the stores, fake or real: the limit is kept, read back with the
account, counts holds, and lets a balance go below zero down to it and no further."""

from __future__ import annotations

from uuid import UUID, uuid4

import pytest

from application.ports.unit_of_work import UnitOfWorkFactory
from domain.account import Account
from domain.errors import InsufficientFunds
from domain.holds import place_hold
from domain.ledger import post_transfer
from domain.money import Money
from tests.contract.conftest import Persistence
from tests.contract.test_persistence_contract import NOW, funded_pair


async def set_limit(uow_factory: UnitOfWorkFactory, account_id: UUID, limit: int) -> None:
    async with uow_factory() as uow:
        locked = (await uow.accounts.lock([account_id], at=NOW))[account_id]
        locked.set_overdraft_limit(limit)
        await uow.accounts.update(locked)
        await uow.commit()


async def pay(uow_factory: UnitOfWorkFactory, source: UUID, destination: UUID, amount: int) -> None:
    async with uow_factory() as uow:
        locked = await uow.accounts.lock([source, destination], at=NOW)
        posting = post_transfer(
            transfer_id=uuid4(),
            source=locked[source],
            destination=locked[destination],
            amount=Money(amount, "EUR"),
            description=None,
            now=NOW,
        )
        await uow.ledger.record(posting)
        await uow.commit()


async def read(uow_factory: UnitOfWorkFactory, account_id: UUID) -> Account:
    async with uow_factory() as uow:
        account = await uow.accounts.get(account_id, at=NOW)
    assert account is not None
    return account


async def test_a_limit_is_kept_and_lets_the_balance_go_down_to_it(
    persistence: Persistence,
) -> None:
    uow_factory = persistence.uow_factory
    source, destination = await funded_pair(uow_factory, 100)
    await set_limit(uow_factory, source.id, 500)
    stored = await read(uow_factory, source.id)
    assert (stored.balance, stored.overdraft_limit, stored.available) == (100, 500, 600)

    await pay(uow_factory, source.id, destination.id, 600)
    stored = await read(uow_factory, source.id)
    assert (stored.balance, stored.available) == (-500, 0)
    with pytest.raises(InsufficientFunds):
        await pay(uow_factory, source.id, destination.id, 1)
    assert (await read(uow_factory, source.id)).balance == -500
    assert (await persistence.reconciliation.reconcile(NOW)).is_clean


async def test_a_hold_counts_against_the_limit(persistence: Persistence) -> None:
    uow_factory = persistence.uow_factory
    source, destination = await funded_pair(uow_factory, 1)
    await set_limit(uow_factory, source.id, 299)
    async with uow_factory() as uow:
        locked = await uow.accounts.lock([source.id, destination.id], at=NOW)
        placed = place_hold(
            transfer_id=uuid4(),
            source=locked[source.id],
            destination=locked[destination.id],
            amount=Money(200, "EUR"),
            description=None,
            now=NOW,
            timeout=None,
        )
        await uow.ledger.record(placed)
        await uow.commit()
    stored = await read(uow_factory, source.id)
    assert (stored.balance, stored.held, stored.available) == (1, 200, 100)
    with pytest.raises(InsufficientFunds):
        await pay(uow_factory, source.id, destination.id, 101)
    await pay(uow_factory, source.id, destination.id, 100)
    stored = await read(uow_factory, source.id)
    assert (stored.balance, stored.held, stored.available) == (-99, 200, 0)
    assert (await persistence.reconciliation.reconcile(NOW)).is_clean


async def test_a_limit_lowered_below_the_debt_keeps_the_balance_and_refuses_debits(
    persistence: Persistence,
) -> None:
    uow_factory = persistence.uow_factory
    source, destination = await funded_pair(uow_factory, 10)
    await set_limit(uow_factory, source.id, 1_000)
    await pay(uow_factory, source.id, destination.id, 810)
    await set_limit(uow_factory, source.id, 300)
    stored = await read(uow_factory, source.id)
    assert (stored.balance, stored.overdraft_limit, stored.available) == (-800, 300, -500)
    with pytest.raises(InsufficientFunds):
        await pay(uow_factory, source.id, destination.id, 1)
    await pay(uow_factory, destination.id, source.id, 600)  # a credit is always taken
    stored = await read(uow_factory, source.id)
    assert (stored.balance, stored.available) == (-200, 100)
    await pay(uow_factory, source.id, destination.id, 100)
    assert (await read(uow_factory, source.id)).balance == -300
    await set_limit(uow_factory, source.id, 0)
    assert (await read(uow_factory, source.id)).available == -300
    assert (await persistence.reconciliation.reconcile(NOW)).is_clean
