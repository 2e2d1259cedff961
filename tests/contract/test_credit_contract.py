"""Overdraft limits in the stores, fake or real: the limit is kept, read back with the
account, counts holds, and lets a balance go below zero down to it and no further."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID, uuid4

import pytest

from application.ports.ledger import TransferQuery
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.account import Account, AccountKind, fx_account_id
from domain.errors import InsufficientFunds
from domain.holds import place_hold
from domain.ledger import post_conversion, post_transfer
from domain.money import Money
from domain.monitor import Monitor, MonitorField, MonitorOp
from domain.transfer import TransferKind
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


async def test_a_conversion_is_stored_whole_and_read_back(persistence: Persistence) -> None:
    uow_factory = persistence.uow_factory
    source, _ = await funded_pair(uow_factory, 10_000)
    assert source.owner_id is not None
    payee = Account.open(owner_id=source.owner_id, currency="JPY", now=NOW)
    async with uow_factory() as uow:
        await uow.accounts.add(payee)
        for currency in ("EUR", "JPY"):
            await uow.accounts.add_if_absent(Account.fx(currency=currency, now=NOW))
        await uow.commit()
    ids = [source.id, payee.id, fx_account_id("EUR"), fx_account_id("JPY")]
    async with uow_factory() as uow:
        locked = await uow.accounts.lock(ids, at=NOW)
        made = post_conversion(
            conversion_id=uuid4(),
            source=locked[source.id],
            destination=locked[payee.id],
            source_fx=locked[fx_account_id("EUR")],
            target_fx=locked[fx_account_id("JPY")],
            amount=1_001,
            rate="163.9",
            description="trip",
            now=NOW,
            created_by=source.owner_id,
            reference="fx-1",
            metadata={"trip": "kyoto"},
        )
        await uow.ledger.record_many([made])
        await uow.commit()
    conversion = made.conversion
    assert conversion.target_amount == 1_640  # 10.01 EUR x 163.9 = 1640.639 JPY
    async with uow_factory() as uow:
        assert await uow.ledger.get_conversion(conversion.id) == conversion
        assert await uow.ledger.get_conversion(uuid4()) is None
        legs = await uow.ledger.get_transfers(
            [conversion.debit_transfer_id, conversion.credit_transfer_id]
        )
        found = await uow.ledger.search_transfers(
            TransferQuery(
                account_ids=(payee.id, source.id), at=NOW, limit=10, conversion_id=conversion.id
            )
        )
        accounts = await uow.accounts.get_many(ids, at=NOW)
    assert {leg.conversion_id for leg in legs.values()} == {conversion.id}
    assert {leg.kind for leg in legs.values()} == {TransferKind.CONVERSION}
    assert legs[conversion.debit_transfer_id].reference == "fx-1"
    assert legs[conversion.credit_transfer_id].reference is None
    assert {t.id for t in found} == set(legs)
    assert [accounts[i].balance for i in ids] == [10_000 - 1_001, 1_640, 1_001, -1_640]
    assert accounts[fx_account_id("JPY")].kind is AccountKind.FX
    report = await persistence.reconciliation.reconcile(NOW)
    assert report.is_clean, report


async def test_monitors_are_kept_per_account_listed_oldest_first_and_removed(
    uow_factory: UnitOfWorkFactory,
) -> None:
    source, destination = await funded_pair(uow_factory, 1)
    made = [
        Monitor.create(
            account_id=account,
            field=MonitorField.BALANCE,
            op=MonitorOp.LT,
            value=n,
            description=None if n else "low",
            now=NOW + timedelta(seconds=n),
        )
        for n, account in enumerate((source.id, source.id, destination.id))
    ]
    async with uow_factory() as uow:
        for monitor in made:
            await uow.monitors.add(monitor)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.monitors.of_account(source.id) == made[:2]
        assert await uow.monitors.of_accounts([source.id, destination.id, uuid4()]) == {
            source.id: made[:2],
            destination.id: made[2:],
        }
        assert not await uow.monitors.remove(destination.id, made[0].id)  # not that account's
        assert await uow.monitors.remove(source.id, made[0].id)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.monitors.of_account(source.id) == made[1:2]
        assert await uow.monitors.of_accounts([]) == {}
        # The account rows count what watches them (the write path reads only those).
        locked = await uow.accounts.lock([source.id, destination.id], at=NOW)
        assert (locked[source.id].monitor_count, locked[destination.id].monitor_count) == (1, 1)
        # Read with the lock (PostgreSQL serves them from its round trip), exactly as stored.
        assert await uow.monitors.of_accounts([source.id, destination.id]) == {
            source.id: made[1:2],
            destination.id: made[2:],
        }
