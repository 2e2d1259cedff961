"""What every implementation of the persistence ports must do, fake or real."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from application.ports.idempotency import IdempotencyKey, Outcome
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.account import Account
from domain.errors import EmailAlreadyRegistered, InsufficientFunds
from domain.ledger import post_transfer
from domain.money import Money
from domain.user import User
from tests.contract.conftest import Persistence

NOW = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


def a_user(email: str = "ada@example.com") -> User:
    return User.register(email=email, full_name="Ada", password_hash="hash", now=NOW)


async def saved_user(uow_factory: UnitOfWorkFactory, email: str = "ada@example.com") -> User:
    user = a_user(email)
    async with uow_factory() as uow:
        await uow.users.add(user)
        await uow.commit()
    return user


async def saved_account(uow_factory: UnitOfWorkFactory, owner: User, **kw: object) -> Account:
    account = Account.open(owner_id=owner.id, currency=str(kw.get("currency", "EUR")), now=NOW)
    async with uow_factory() as uow:
        await uow.accounts.add(account)
        await uow.commit()
    return account


async def test_users_round_trip_and_are_found_by_email(uow_factory: UnitOfWorkFactory) -> None:
    user = await saved_user(uow_factory)
    async with uow_factory() as uow:
        assert await uow.users.get(user.id) == user
        assert await uow.users.get_by_email("ada@example.com") == user
        assert await uow.users.get_by_email("bob@example.com") is None
        assert await uow.users.get(uuid4()) is None


async def test_a_taken_email_is_refused_by_the_store(uow_factory: UnitOfWorkFactory) -> None:
    await saved_user(uow_factory)
    with pytest.raises(EmailAlreadyRegistered):
        async with uow_factory() as uow:
            await uow.users.add(a_user())
            await uow.commit()


async def test_nothing_is_kept_without_commit(uow_factory: UnitOfWorkFactory) -> None:
    user = a_user()
    async with uow_factory() as uow:
        await uow.users.add(user)
    with pytest.raises(RuntimeError):
        async with uow_factory() as uow:
            await uow.users.add(a_user("bob@example.com"))
            raise RuntimeError("boom")
    async with uow_factory() as uow:
        assert await uow.users.get(user.id) is None
        assert await uow.users.get_by_email("bob@example.com") is None


async def test_accounts_round_trip_list_and_lock(uow_factory: UnitOfWorkFactory) -> None:
    ada, bob = await saved_user(uow_factory), await saved_user(uow_factory, "bob@example.com")
    first = await saved_account(uow_factory, ada)
    second = Account.open(owner_id=ada.id, currency="JPY", now=NOW + timedelta(seconds=1))
    funding = Account.funding(currency="EUR", now=NOW)
    async with uow_factory() as uow:
        await uow.accounts.add(second)
        await uow.accounts.add_if_absent(funding)
        await uow.accounts.add_if_absent(funding)
        await uow.commit()
    await saved_account(uow_factory, bob)

    async with uow_factory() as uow:
        assert await uow.accounts.get(first.id, at=NOW) == first
        assert await uow.accounts.get(funding.id, at=NOW) == funding
        assert await uow.accounts.list_owned_by(ada.id, at=NOW) == [first, second]
        missing = uuid4()
        locked = await uow.accounts.lock([second.id, missing, first.id], at=NOW)
        assert locked == {first.id: first, second.id: second}
        assert await uow.accounts.get_many([missing, funding.id], at=NOW) == {funding.id: funding}


async def test_a_posting_is_stored_whole(persistence: Persistence) -> None:
    uow_factory = persistence.uow_factory
    ada = await saved_user(uow_factory)
    account = await saved_account(uow_factory, ada)
    async with uow_factory() as uow:
        await uow.accounts.add_if_absent(Account.funding(currency="EUR", now=NOW))
        await uow.commit()

    for minutes, amount in enumerate((500, 300, 200)):
        async with uow_factory() as uow:
            locked = await uow.accounts.lock(
                [account.id, Account.funding(currency="EUR", now=NOW).id], at=NOW
            )
            funding_id = next(a for a in locked if a != account.id)
            posting = post_transfer(
                transfer_id=uuid4(),
                source=locked[funding_id],
                destination=locked[account.id],
                amount=Money(amount, "EUR"),
                description=f"deposit {minutes}",
                now=NOW + timedelta(minutes=minutes),
            )
            await uow.ledger.record(posting)
            await uow.commit()

    async with uow_factory() as uow:
        assert (await uow.accounts.get(account.id, at=NOW)).balance == 1_000  # type: ignore[union-attr]
        assert await uow.ledger.get_transfer(posting.transfer.id) == posting.transfer
        assert await uow.ledger.get_transfer(uuid4()) is None
        newest = await uow.ledger.entries(account.id, before_sequence=None, limit=2)
        assert [(e.sequence, e.amount, e.balance_after) for e in newest] == [
            (3, 200, 1_000),
            (2, 300, 800),
        ]
        older = await uow.ledger.entries(account.id, before_sequence=2, limit=2)
        assert [e.sequence for e in older] == [1]
        assert newest[0] == posting.credit
        totals = await uow.ledger.totals(account.id)
        assert (totals.balance, totals.total_in, totals.total_out) == (1_000, 1_000, 0)
        assert (totals.count_in, totals.count_out) == (3, 0)
    report = await persistence.reconciliation.reconcile(NOW)
    assert report.is_clean, report
    assert report.totals_by_currency == {"EUR": 0}


async def test_a_refused_posting_writes_nothing(uow_factory: UnitOfWorkFactory) -> None:
    ada, bob = await saved_user(uow_factory), await saved_user(uow_factory, "bob@example.com")
    source, destination = (
        await saved_account(uow_factory, ada),
        await saved_account(uow_factory, bob),
    )
    with pytest.raises(InsufficientFunds):
        async with uow_factory() as uow:
            locked = await uow.accounts.lock([source.id, destination.id], at=NOW)
            post_transfer(
                transfer_id=uuid4(),
                source=locked[source.id],
                destination=locked[destination.id],
                amount=Money(1, "EUR"),
                description=None,
                now=NOW,
            )
    async with uow_factory() as uow:
        assert (await uow.ledger.totals(source.id)).count_out == 0


async def test_idempotency_keys_are_claimed_completed_and_expire(
    uow_factory: UnitOfWorkFactory,
) -> None:
    ada = await saved_user(uow_factory)
    key = IdempotencyKey(ada.id, "k-1", "fingerprint-a")
    async with uow_factory() as uow:
        assert await uow.idempotency.claim(key, now=NOW, expired_before=NOW - timedelta(1)) is None
        await uow.idempotency.complete(
            key, Outcome(error_code="insufficient-funds", error_detail="no")
        )
        await uow.commit()

    async with uow_factory() as uow:
        stored = await uow.idempotency.claim(
            IdempotencyKey(ada.id, "k-1", "fingerprint-b"),
            now=NOW,
            expired_before=NOW - timedelta(1),
        )
        assert stored is not None
        assert stored.fingerprint == "fingerprint-a"
        assert stored.outcome == Outcome(error_code="insufficient-funds", error_detail="no")

    later = NOW + timedelta(days=2)
    async with uow_factory() as uow:
        assert (
            await uow.idempotency.claim(key, now=later, expired_before=later - timedelta(1)) is None
        )


async def test_an_uncommitted_claim_leaves_the_key_free(uow_factory: UnitOfWorkFactory) -> None:
    ada = await saved_user(uow_factory)
    key = IdempotencyKey(ada.id, "k-2", "f")
    async with uow_factory() as uow:
        assert await uow.idempotency.claim(key, now=NOW, expired_before=NOW) is None
    async with uow_factory() as uow:
        assert await uow.idempotency.claim(key, now=NOW, expired_before=NOW) is None


async def test_expired_idempotency_keys_are_purged(uow_factory: UnitOfWorkFactory) -> None:
    ada = await saved_user(uow_factory)
    for name, at in (("old", NOW - timedelta(days=2)), ("new", NOW)):
        key = IdempotencyKey(ada.id, name, "f")
        async with uow_factory() as uow:
            await uow.idempotency.claim(key, now=at, expired_before=at - timedelta(1))
            await uow.idempotency.complete(key, Outcome(error_code="x", error_detail="y"))
            await uow.commit()
    async with uow_factory() as uow:
        assert await uow.idempotency.purge(NOW - timedelta(days=1)) == 1
        await uow.commit()
    async with uow_factory() as uow:
        kept = await uow.idempotency.claim(
            IdempotencyKey(ada.id, "new", "f"), now=NOW, expired_before=NOW - timedelta(1)
        )
        assert kept is not None
