"""Withdrawals, holds, reversals and batches as use cases on the in-memory fakes."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from types import SimpleNamespace
from uuid import UUID

import pytest

from adapters.in_memory.accounts import InMemoryAccountRepository
from application.receipts import BatchRefused
from application.transfer_requests import TransferRequest
from application.use_cases.register_user import Registration
from application.use_cases.update_account import AccountChanges
from domain.account import Account
from domain.errors import (
    AccountNotFound,
    ExceedsPendingAmount,
    ExceedsReversibleAmount,
    IdempotencyKeyReused,
    InsufficientFunds,
    InvalidBatch,
    InvalidHoldTimeout,
    NotPayee,
    NotPayer,
    NotReversible,
    TransferNotFound,
    TransferNotPending,
)
from domain.transfer import TransferKind, TransferStatus
from domain.user import User
from tests.fakes import InMemoryBank, use_cases


@pytest.fixture
def uc(bank: InMemoryBank) -> SimpleNamespace:
    return use_cases(bank)


async def people(uc: SimpleNamespace, funds: int = 1_000) -> tuple[UUID, UUID, UUID, UUID]:
    """(ada, bob, ada's funded account, bob's empty one)."""
    ids = []
    for name in ("ada", "bob"):
        user: User = await uc.register(Registration(f"{name}@example.com", "password1", name))
        ids.append(user.id)
    ada, bob = ids
    source: Account = await uc.open_account(ada, "EUR")
    destination: Account = await uc.open_account(bob, "EUR")
    await uc.deposit(ada, source.id, funds)
    return ada, bob, source.id, destination.id


async def balances(uc: SimpleNamespace, owner: UUID, account: UUID) -> tuple[int, int, int]:
    found: Account = await uc.get_account(owner, account)
    return found.balance, found.held, found.available


async def test_holds_reserve_post_in_part_and_release(uc: SimpleNamespace) -> None:
    ada, bob, source, destination = await people(uc)
    hold = (
        await uc.transfer(ada, TransferRequest(source, destination, 600, "EUR", pending=True))
    ).transfer
    assert hold.status is TransferStatus.PENDING
    assert await balances(uc, ada, source) == (1_000, 600, 400)
    with pytest.raises(InsufficientFunds):
        await uc.transfer(ada, TransferRequest(source, destination, 401, "EUR"))
    with pytest.raises(ExceedsPendingAmount):
        await uc.post_hold(ada, hold.id, 601)
    with pytest.raises(NotPayer):
        await uc.post_hold(bob, hold.id)
    posted = (await uc.post_hold(ada, hold.id, 250)).transfer
    assert (posted.status, posted.posted_amount, posted.id) == (
        TransferStatus.POSTED,
        250,
        hold.id,
    )
    assert await balances(uc, ada, source) == (750, 0, 750)
    assert await balances(uc, bob, destination) == (250, 0, 250)
    with pytest.raises(TransferNotPending):
        await uc.void_hold(ada, hold.id)
    assert (await uc.reconcile()).is_clean


async def test_holds_expire_by_the_clock(bank: InMemoryBank, uc: SimpleNamespace) -> None:
    ada, _, source, destination = await people(uc)
    request = TransferRequest(source, destination, 900, "EUR", pending=True, timeout_seconds=60)
    hold = (await uc.transfer(ada, request)).transfer
    assert await balances(uc, ada, source) == (1_000, 900, 100)
    bank.clock.advance(seconds=60)
    assert await balances(uc, ada, source) == (1_000, 0, 1_000)
    assert (await uc.get_transfer(ada, hold.id)).status is TransferStatus.EXPIRED
    with pytest.raises(TransferNotPending):
        await uc.post_hold(ada, hold.id)
    expired = await uc.expire_holds()
    assert [t.id for t in expired] == [hold.id]
    assert await uc.expire_holds() == []
    assert (await uc.reconcile()).is_clean


async def test_a_timeout_needs_a_hold_and_a_range(uc: SimpleNamespace) -> None:
    ada, _, source, destination = await people(uc)
    with pytest.raises(InvalidHoldTimeout):
        await uc.transfer(ada, TransferRequest(source, destination, 1, "EUR", timeout_seconds=5))
    for seconds in (0, 604_801):
        with pytest.raises(InvalidHoldTimeout):
            await uc.transfer(
                ada,
                TransferRequest(
                    source, destination, 1, "EUR", pending=True, timeout_seconds=seconds
                ),
            )


async def test_reversals_by_the_payee_up_to_what_was_posted(uc: SimpleNamespace) -> None:
    ada, bob, source, destination = await people(uc)
    original = (await uc.transfer(ada, TransferRequest(source, destination, 300, "EUR"))).transfer
    with pytest.raises(NotPayee):
        await uc.reverse(ada, original.id)
    first = (await uc.reverse(bob, original.id, 100, "sorry")).transfer
    assert (first.kind, first.reversal_of, first.from_account_id) == (
        TransferKind.REVERSAL,
        original.id,
        destination,
    )
    with pytest.raises(ExceedsReversibleAmount):
        await uc.reverse(bob, original.id, 201)
    await uc.reverse(bob, original.id)
    assert (await uc.get_transfer(ada, original.id)).reversed_amount == 300
    with pytest.raises(ExceedsReversibleAmount):
        await uc.reverse(bob, original.id)
    with pytest.raises(NotReversible):
        await uc.reverse(ada, first.id)
    assert await balances(uc, ada, source) == (1_000, 0, 1_000)
    assert (await uc.reconcile()).is_clean


async def test_the_payee_needs_the_money_to_refund(uc: SimpleNamespace) -> None:
    ada, bob, source, destination = await people(uc)
    original = (await uc.transfer(ada, TransferRequest(source, destination, 300, "EUR"))).transfer
    await uc.withdraw(bob, destination, 250)
    with pytest.raises(InsufficientFunds):
        await uc.reverse(bob, original.id)
    await uc.reverse(bob, original.id, 50)


async def test_withdrawals_leave_the_bank_and_check_available(uc: SimpleNamespace) -> None:
    ada, bob, source, destination = await people(uc)
    await uc.transfer(ada, TransferRequest(source, destination, 500, "EUR", pending=True))
    with pytest.raises(InsufficientFunds):
        await uc.withdraw(ada, source, 501)
    withdrawal = (await uc.withdraw(ada, source, 500, "cash")).transfer
    assert withdrawal.kind is TransferKind.WITHDRAWAL
    assert await balances(uc, ada, source) == (500, 500, 0)
    with pytest.raises(AccountNotFound):
        await uc.withdraw(bob, source, 1)
    report = await uc.reconcile()
    assert report.is_clean, report
    assert report.totals_by_currency == {"EUR": 0}


async def test_a_batch_applies_items_in_order_and_replays(uc: SimpleNamespace) -> None:
    ada, _, source, destination = await people(uc, funds=100)
    requests = [
        TransferRequest(source, destination, 70, "EUR"),
        TransferRequest(source, destination, 70, "EUR"),
        TransferRequest(source, destination, 30, "EUR", pending=True),
        TransferRequest(source, source, 1, "EUR"),
    ]
    receipt = await uc.batch(ada, requests, atomic=False, idempotency_key="b")
    kinds = [
        type(r.refusal).__name__ if r.refusal else r.transfer.status.value for r in receipt.results
    ]
    assert kinds == ["posted", "InsufficientFunds", "pending", "SameAccountTransfer"]
    assert await balances(uc, ada, source) == (30, 30, 0)
    again = await uc.batch(ada, requests, atomic=False, idempotency_key="b")
    assert again.replayed
    assert [r.transfer.id for r in again.results if r.transfer] == [
        r.transfer.id for r in receipt.results if r.transfer
    ]
    with pytest.raises(IdempotencyKeyReused):
        await uc.batch(ada, requests[:1], atomic=False, idempotency_key="b")


async def test_an_atomic_batch_moves_nothing_when_an_item_is_refused(uc: SimpleNamespace) -> None:
    ada, _, source, destination = await people(uc, funds=100)
    requests = [
        TransferRequest(source, destination, 60, "EUR"),
        TransferRequest(source, destination, 60, "EUR"),
    ]
    with pytest.raises(BatchRefused) as refused:
        await uc.batch(ada, requests, atomic=True, idempotency_key="a")
    assert refused.value.index == 1
    assert isinstance(refused.value.refusal, InsufficientFunds)
    assert await balances(uc, ada, source) == (100, 0, 100)
    with pytest.raises(BatchRefused) as replayed:
        await uc.batch(ada, requests, atomic=True, idempotency_key="a")
    assert replayed.value.refusal.replayed
    with pytest.raises(InvalidBatch):
        await uc.batch(ada, [], atomic=True)


async def test_strangers_learn_nothing_of_a_transfer(uc: SimpleNamespace) -> None:
    ada, _, source, destination = await people(uc)
    eve: User = await uc.register(Registration("eve@example.com", "password1", "Eve"))
    hold = (
        await uc.transfer(ada, TransferRequest(source, destination, 1, "EUR", pending=True))
    ).transfer
    for action in (uc.post_hold, uc.void_hold, uc.reverse):
        with pytest.raises(TransferNotFound):
            await action(eve.id, hold.id)


async def test_each_batch_event_carries_the_accounts_as_that_item_left_them(
    bank: InMemoryBank, uc: SimpleNamespace
) -> None:
    ada, _, source, destination = await people(uc, funds=100)
    requests = [
        TransferRequest(source, destination, 10, "EUR"),
        TransferRequest(source, destination, 20, "EUR"),
    ]
    await uc.batch(ada, requests, atomic=False)
    posted = [s.event for s in bank.storage.events if s.event.type == "transfer.posted"]
    states = [
        [(a.sequence, a.balance) for a in event.accounts if a.id == source] for event in posted
    ]
    assert states == [[(2, 90)], [(3, 70)]]


async def test_an_atomic_batch_names_its_first_refused_item(uc: SimpleNamespace) -> None:
    ada, bob, source, destination = await people(uc, funds=100)
    bobs = (await uc.open_account(bob, "EUR")).id
    requests = [
        TransferRequest(bobs, destination, 1, "EUR"),  # not Ada's: refused once locked
        TransferRequest(source, destination, 1, "EUR", timeout_seconds=5),  # refused at once
    ]
    with pytest.raises(BatchRefused) as refused:
        await uc.batch(ada, requests, atomic=True)
    assert refused.value.index == 0
    assert isinstance(refused.value.refusal, AccountNotFound)


@pytest.fixture
def slow_locks(bank: InMemoryBank, monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Every account lock takes the seconds pushed here (the clock moves while it is awaited),
    as when another movement holds the accounts."""
    waits: list[float] = []
    lock = InMemoryAccountRepository.lock

    async def waiting_lock(
        self: InMemoryAccountRepository, account_ids: Collection[UUID], *, at: datetime
    ) -> dict[UUID, Account]:
        bank.clock.advance(seconds=waits.pop(0) if waits else 0)
        return await lock(self, account_ids, at=at)

    monkeypatch.setattr(InMemoryAccountRepository, "lock", waiting_lock)
    return waits


@pytest.mark.parametrize("step", ["void", "post"])
async def test_a_hold_that_expires_while_its_locks_are_awaited_is_expired(
    bank: InMemoryBank, uc: SimpleNamespace, slow_locks: list[float], step: str
) -> None:
    """Another movement, holding the accounts meanwhile, may have spent what the hold kept
    back: the hold must read expired after the wait, not be voided or posted."""
    ada, _, source, destination = await people(uc)
    request = TransferRequest(source, destination, 300, "EUR", pending=True, timeout_seconds=10)
    hold = (await uc.transfer(ada, request)).transfer
    bank.clock.advance(seconds=9.5)  # pending when the request starts

    slow_locks.append(1)  # expired by the time the locks are held
    with pytest.raises(TransferNotPending, match="expired"):
        await (uc.void_hold if step == "void" else uc.post_hold)(ada, hold.id)
    assert (await uc.get_transfer(ada, hold.id)).status is TransferStatus.EXPIRED
    assert await balances(uc, ada, source) == (1_000, 0, 1_000)


async def test_a_movement_is_dated_when_its_locks_are_held(
    bank: InMemoryBank, uc: SimpleNamespace, slow_locks: list[float]
) -> None:
    ada, _, source, destination = await people(uc)
    asked = bank.clock.now()
    slow_locks.append(2)
    request = TransferRequest(source, destination, 5, "EUR", pending=True, timeout_seconds=10)
    hold = (await uc.transfer(ada, request)).transfer
    assert hold.created_at == asked + timedelta(seconds=2)
    assert hold.expires_at == asked + timedelta(seconds=12)
    slow_locks.append(3)
    [item] = (
        await uc.batch(ada, [TransferRequest(source, destination, 1, "EUR")], atomic=True)
    ).results
    assert item.transfer.created_at == asked + timedelta(seconds=5)


async def test_a_clock_stepping_back_during_the_wait_never_dates_a_decision_earlier(
    bank: InMemoryBank, uc: SimpleNamespace, slow_locks: list[float]
) -> None:
    """The held sums are read as of the time the locks were asked for; a decision dated
    before that (the wall clock stepped back) could spend money a hold still keeps."""
    ada, _, source, destination = await people(uc)
    asked = bank.clock.now()
    slow_locks.append(-1)  # the clock steps back a second while the locks are awaited
    moved = (await uc.transfer(ada, TransferRequest(source, destination, 5, "EUR"))).transfer
    assert moved.created_at == asked


async def test_an_account_event_is_dated_when_its_lock_is_held(
    bank: InMemoryBank, uc: SimpleNamespace, slow_locks: list[float]
) -> None:
    """Lifecycle changes wait for the account's lock like movements do: their events are
    never dated before a movement that held the lock first."""
    ada, _, source, _ = await people(uc)
    asked = bank.clock.now()
    slow_locks.append(2)
    renamed = await uc.update_account(ada, source, AccountChanges(name="rent"))
    assert renamed.name == "rent"
    [event] = [s.event for s in bank.storage.events if s.event.type == "account.updated"]
    assert event.occurred_at == asked + timedelta(seconds=2)


async def test_a_monitor_sees_an_expired_hold_released_when_the_expiry_is_written(
    bank: InMemoryBank, uc: SimpleNamespace
) -> None:
    """As for a void: the hold made `available < 200` true, its expiry makes it false
    again, reported (once) by the expiry's own write."""
    from domain.monitor import Monitor, MonitorField, MonitorOp

    ada, _, source, destination = await people(uc)
    async with bank.uow() as uow:
        low = Monitor.create(
            account_id=source,
            field=MonitorField.AVAILABLE,
            op=MonitorOp.LT,
            value=200,
            description=None,
            now=bank.clock.now(),
        )
        await uow.monitors.add(low)
        await uow.commit()
    request = TransferRequest(source, destination, 900, "EUR", pending=True, timeout_seconds=60)
    await uc.transfer(ada, request)
    bank.clock.advance(seconds=60)
    await uc.expire_holds()
    await uc.expire_holds()  # nothing more to write, nothing more to report
    crossings = [
        (e.event.type, e.event.data["before"]["available"], e.event.data["after"]["available"])
        for e in bank.storage.events
        if e.event.type.startswith("account.monitor.")
    ]
    assert crossings == [
        ("account.monitor.triggered", 1_000, 100),
        ("account.monitor.cleared", 100, 1_000),
    ]
