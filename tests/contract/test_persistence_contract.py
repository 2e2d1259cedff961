"""What every implementation of the persistence ports must do, fake or real."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest

from application.events import posting_events
from application.ports.idempotency import IdempotencyKey, Outcome, StoredRequest
from application.ports.ledger import POSTINGS_PER_WRITE, BalanceAt, TransferQuery
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.account import Account, funding_account_id
from domain.chain import GENESIS_HASH, ChainStart, first_break
from domain.errors import EmailAlreadyRegistered, InsufficientFunds
from domain.holds import expire_hold, place_hold, post_hold, void_hold
from domain.ledger import Posting, post_transfer
from domain.money import Money
from domain.reversals import reverse_transfer
from domain.transfer import TransferKind, TransferStatus, chained
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
        assert await uow.accounts.list_owned_by(ada.id, at=NOW, limit=10) == [first, second]
        missing = uuid4()
        locked = await uow.accounts.lock([second.id, missing, first.id], at=NOW)
        assert locked == {first.id: first, second.id: second}
        assert await uow.accounts.get_many([missing, funding.id], at=NOW) == {funding.id: funding}


async def test_owned_accounts_page_in_creation_order_and_are_found_among_ids(
    uow_factory: UnitOfWorkFactory,
) -> None:
    ada, bob = await saved_user(uow_factory), await saved_user(uow_factory, "bob@example.com")
    # Two opened in the same instant: the id breaks the tie, so no page repeats or skips one.
    opened = [
        Account.open(owner_id=ada.id, currency="EUR", now=NOW + timedelta(seconds=n // 2))
        for n in range(5)
    ]
    theirs = await saved_account(uow_factory, bob)
    async with uow_factory() as uow:
        for account in opened:
            await uow.accounts.add(account)
        await uow.commit()
    in_order = sorted(opened, key=lambda account: (account.created_at, account.id))

    async with uow_factory() as uow:
        first = await uow.accounts.list_owned_by(ada.id, at=NOW, limit=2)
        assert first == in_order[:2]
        after = (first[-1].created_at, first[-1].id)
        assert (
            await uow.accounts.list_owned_by(ada.id, at=NOW, limit=10, after=after)
            == (in_order[2:])
        )
        last = (in_order[-1].created_at, in_order[-1].id)
        assert await uow.accounts.list_owned_by(ada.id, at=NOW, limit=10, after=last) == []

        asked = [opened[0].id, theirs.id, uuid4(), funding_account_id("EUR")]
        assert await uow.accounts.owned_among(ada.id, asked) == {opened[0].id}
        assert await uow.accounts.owned_among(bob.id, asked) == {theirs.id}
        assert await uow.accounts.owned_among(bob.id, []) == set()


async def test_an_owners_open_accounts_are_counted_closed_ones_not(
    uow_factory: UnitOfWorkFactory,
) -> None:
    ada = await saved_user(uow_factory)
    await saved_account(uow_factory, ada)
    closed = await saved_account(uow_factory, ada)
    async with uow_factory() as uow:
        account = (await uow.accounts.lock([closed.id], at=NOW))[closed.id]
        account.close()
        await uow.accounts.update(account)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.accounts.lock_owner_and_count_open(ada.id) == 1
        await uow.accounts.add(Account.open(owner_id=ada.id, currency="EUR", now=NOW))
        assert await uow.accounts.lock_owner_and_count_open(ada.id) == 2  # its own addition
    async with uow_factory() as uow:
        assert await uow.accounts.lock_owner_and_count_open(ada.id) == 1  # rolled back
        assert await uow.accounts.lock_owner_and_count_open(uuid4()) == 0


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

    await persistence.rewrite_amount(account.id, 2, -1)
    report = await persistence.reconciliation.reconcile(NOW)
    broken = [(b.account_id, b.sequence) for b in report.broken_hash_chains]
    assert broken == [(account.id, 2)], report


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


async def test_many_keys_are_claimed_and_completed_at_once(
    uow_factory: UnitOfWorkFactory,
) -> None:
    ada, bob = await saved_user(uow_factory), await saved_user(uow_factory, "bob@example.com")
    old = IdempotencyKey(ada.id, "old", "f-old")
    async with uow_factory() as uow:
        await uow.idempotency.claim(old, now=NOW, expired_before=NOW - timedelta(1))
        await uow.idempotency.complete(old, Outcome(error_code="x", error_detail="y"))
        await uow.commit()
    fresh = [IdempotencyKey(ada.id, "new", "f-1"), IdempotencyKey(bob.id, "old", "f-2")]
    retried = IdempotencyKey(ada.id, "old", "f-other")
    items = (Outcome(error_code="a", error_detail="b"),)

    async with uow_factory() as uow:
        stored = await uow.idempotency.claim_many(
            [*fresh, retried], now=NOW, expired_before=NOW - timedelta(1)
        )
        assert stored == {
            (ada.id, "old"): StoredRequest("f-old", Outcome(error_code="x", error_detail="y"))
        }
        assert await uow.idempotency.claim_many([], now=NOW, expired_before=NOW) == {}
        await uow.idempotency.complete_many(
            [
                (fresh[0], Outcome(error_code="c", error_detail="d")),
                (fresh[1], Outcome(items=items)),
            ]
        )
        await uow.commit()

    async with uow_factory() as uow:
        stored = await uow.idempotency.claim_many(fresh, now=NOW, expired_before=NOW - timedelta(1))
    assert stored == {
        (ada.id, "new"): StoredRequest("f-1", Outcome(error_code="c", error_detail="d")),
        (bob.id, "old"): StoredRequest("f-2", Outcome(items=items)),
    }
    later = NOW + timedelta(days=2)
    async with uow_factory() as uow:  # expired keys are free again
        assert (
            await uow.idempotency.claim_many(fresh, now=later, expired_before=later - timedelta(1))
            == {}
        )


async def funded_pair(uow_factory: UnitOfWorkFactory, funds: int) -> tuple[Account, Account]:
    """Ada's account with `funds` deposited, and Bob's empty one, as stored."""
    ada, bob = await saved_user(uow_factory), await saved_user(uow_factory, "bob@example.com")
    source, destination = (
        await saved_account(uow_factory, ada),
        await saved_account(uow_factory, bob),
    )
    async with uow_factory() as uow:
        await uow.accounts.add_if_absent(Account.funding(currency="EUR", now=NOW))
        locked = await uow.accounts.lock([funding_account_id("EUR"), source.id], at=NOW)
        await uow.ledger.record(
            post_transfer(
                transfer_id=uuid4(),
                source=locked[funding_account_id("EUR")],
                destination=locked[source.id],
                amount=Money(funds, "EUR"),
                description=None,
                now=NOW,
            )
        )
        await uow.commit()
    return source, destination


async def test_holds_are_stored_held_settled_and_expired(persistence: Persistence) -> None:
    uow_factory = persistence.uow_factory
    source, destination = await funded_pair(uow_factory, 1_000)
    later = NOW + timedelta(minutes=5)
    async with uow_factory() as uow:
        locked = await uow.accounts.lock([source.id, destination.id], at=NOW)
        placed = [
            place_hold(
                transfer_id=uuid4(),
                source=locked[source.id],
                destination=locked[destination.id],
                amount=Money(amount, "EUR"),
                description=None,
                now=NOW,
                timeout=timeout,
            )
            for amount, timeout in ((100, None), (200, timedelta(minutes=1)), (300, None))
        ]
        for placing in placed:
            await uow.ledger.record(placing)
        await uow.commit()
    first, expiring, third = (posting.transfer for posting in placed)

    async with uow_factory() as uow:
        at_once = await uow.accounts.get(source.id, at=NOW)
        assert at_once is not None
        assert (at_once.balance, at_once.held, at_once.available) == (1_000, 600, 400)
        after_expiry = await uow.accounts.get(source.id, at=later)
        assert after_expiry is not None
        assert after_expiry.held == 400  # the one-minute hold stopped counting
        assert (await uow.ledger.get_transfer(expiring.id)) == expiring
        assert await uow.ledger.get_transfers([first.id, third.id, uuid4()]) == {
            first.id: first,
            third.id: third,
        }

    async with uow_factory() as uow:
        hold = await uow.ledger.lock_transfer(first.id)
        assert hold == first
        locked = await uow.accounts.lock([source.id, destination.id], at=later)
        posting = post_hold(
            first,
            source=locked[source.id],
            destination=locked[destination.id],
            amount=60,
            now=later,
        )
        await uow.ledger.record(posting)
        hold3 = await uow.ledger.lock_transfer(third.id)
        assert hold3 is not None
        await uow.ledger.record(
            void_hold(
                hold3, source=locked[source.id], destination=locked[destination.id], now=later
            )
        )
        assert await uow.ledger.lock_transfer(uuid4()) is None
        await uow.commit()

    async with uow_factory() as uow:
        assert await uow.ledger.overdue_holds(later, limit=0) == []
        [overdue] = await uow.ledger.overdue_holds(later, limit=10)
        assert overdue.id == expiring.id
        assert await uow.ledger.overdue_holds(NOW, limit=10) == []
        locked = await uow.accounts.lock([source.id, destination.id], at=later)
        await uow.ledger.record(
            expire_hold(
                overdue, source=locked[source.id], destination=locked[destination.id], now=later
            )
        )
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.ledger.overdue_holds(later, limit=10) == []
        gone = await uow.ledger.get_transfer(expiring.id)
        assert gone is not None
        assert gone.status is TransferStatus.EXPIRED
        posted = await uow.ledger.get_transfer(first.id)
        assert posted is not None
        assert (posted.status, posted.posted_amount) == (TransferStatus.POSTED, 60)
        voided = await uow.ledger.get_transfer(third.id)
        assert voided is not None
        assert voided.status is TransferStatus.VOIDED
        account = await uow.accounts.get(source.id, at=later)
        assert account is not None
        assert (account.balance, account.held, account.entry_count) == (940, 0, 2)
        newest = await uow.ledger.entries(source.id, before_sequence=None, limit=1)
        assert (newest[0].transfer_id, newest[0].amount) == (first.id, -60)
    report = await persistence.reconciliation.reconcile(later)
    assert report.is_clean, report


async def test_a_reversal_amends_its_original(persistence: Persistence) -> None:
    uow_factory = persistence.uow_factory
    source, destination = await funded_pair(uow_factory, 1_000)
    async with uow_factory() as uow:
        locked = await uow.accounts.lock([source.id, destination.id], at=NOW)
        original = post_transfer(
            transfer_id=uuid4(),
            source=locked[source.id],
            destination=locked[destination.id],
            amount=Money(300, "EUR"),
            description=None,
            now=NOW,
        )
        await uow.ledger.record(original)
        await uow.commit()
    async with uow_factory() as uow:
        stored = await uow.ledger.lock_transfer(original.transfer.id)
        assert stored is not None
        locked = await uow.accounts.lock([source.id, destination.id], at=NOW)
        reversal = reverse_transfer(
            stored,
            reversal_id=uuid4(),
            payee=locked[destination.id],
            payer=locked[source.id],
            amount=120,
            description="refund",
            now=NOW,
        )
        await uow.ledger.record(reversal)
        await uow.commit()
    async with uow_factory() as uow:
        amended = await uow.ledger.get_transfer(original.transfer.id)
        assert amended is not None
        assert amended.reversed_amount == 120
        made = await uow.ledger.get_transfer(reversal.transfer.id)
        assert made == reversal.transfer
    report = await persistence.reconciliation.reconcile(NOW)
    assert report.is_clean, report


async def test_many_postings_are_recorded_as_one_by_one(persistence: Persistence) -> None:
    uow_factory = persistence.uow_factory
    source, destination = await funded_pair(uow_factory, 1_000)
    async with uow_factory() as uow:
        locked = await uow.accounts.lock([source.id, destination.id], at=NOW)
        postings: list[Posting] = [
            post_transfer(
                transfer_id=uuid4(),
                source=locked[source.id],
                destination=locked[destination.id],
                amount=Money(amount, "EUR"),
                description=f"item {amount}",
                now=NOW,
            )
            for amount in (10, 20, 30)
        ]
        postings.append(
            place_hold(
                transfer_id=uuid4(),
                source=locked[source.id],
                destination=locked[destination.id],
                amount=Money(40, "EUR"),
                description=None,
                now=NOW,
                timeout=None,
            )
        )
        await uow.ledger.record_many(postings)
        await uow.ledger.record_many([])
        await uow.commit()
    async with uow_factory() as uow:
        stored = await uow.ledger.get_transfers([p.transfer.id for p in postings])
        assert [stored[p.transfer.id] for p in postings] == [p.transfer for p in postings]
        account = await uow.accounts.get(source.id, at=NOW)
        assert account is not None
        assert (account.balance, account.held, account.entry_count) == (940, 40, 4)
        entries = await uow.ledger.entries(destination.id, before_sequence=None, limit=10)
        assert [(e.sequence, e.balance_after) for e in entries] == [(3, 60), (2, 30), (1, 10)]
    report = await persistence.reconciliation.reconcile(NOW)
    assert report.is_clean, report


async def test_a_batch_outcome_round_trips(uow_factory: UnitOfWorkFactory) -> None:
    ada = await saved_user(uow_factory)
    items = (
        Outcome(transfer_id=uuid4()),
        Outcome(error_code="insufficient-funds", error_detail="no"),
        Outcome(error_code="same-account", error_detail="two accounts"),
    )
    key = IdempotencyKey(ada.id, "batch", "f")
    refused = IdempotencyKey(ada.id, "atomic", "f")
    async with uow_factory() as uow:
        await uow.idempotency.claim(key, now=NOW, expired_before=NOW - timedelta(1))
        await uow.idempotency.complete(key, Outcome(items=items))
        await uow.idempotency.claim(refused, now=NOW, expired_before=NOW - timedelta(1))
        await uow.idempotency.complete(
            refused, Outcome(error_code="insufficient-funds", error_detail="no", error_index=3)
        )
        await uow.commit()
    async with uow_factory() as uow:
        stored = await uow.idempotency.claim(key, now=NOW, expired_before=NOW - timedelta(1))
        assert stored is not None
        assert stored.outcome == Outcome(items=items)
        stored = await uow.idempotency.claim(refused, now=NOW, expired_before=NOW - timedelta(1))
        assert stored is not None
        assert stored.outcome.error_index == 3


async def test_accounts_change_status_name_and_metadata_not_money(
    uow_factory: UnitOfWorkFactory,
) -> None:
    ada = await saved_user(uow_factory)
    account = await saved_account(uow_factory, ada)
    async with uow_factory() as uow:
        locked = (await uow.accounts.lock([account.id], at=NOW))[account.id]
        locked.name, locked.metadata = "Rent", {"a": "1"}
        locked.freeze()
        locked.balance = 10**6  # not what update writes
        await uow.accounts.update(locked)
        await uow.commit()
    async with uow_factory() as uow:
        stored = await uow.accounts.get(account.id, at=NOW)
        assert stored is not None
        assert (stored.name, stored.metadata, stored.status.value, stored.balance) == (
            "Rent",
            {"a": "1"},
            "frozen",
            0,
        )


async def test_references_search_and_balances_at_a_moment(persistence: Persistence) -> None:
    uow_factory = persistence.uow_factory
    source, destination = await funded_pair(uow_factory, 1_000)
    owner = source.owner_id
    assert owner is not None
    made = []
    for minute, (amount, reference, labels) in enumerate(
        ((100, "r-1", {"order": "1"}), (200, None, {"order": "2"}), (300, "r-3", {}))
    ):
        async with uow_factory() as uow:
            at = NOW + timedelta(minutes=minute + 1)
            locked = await uow.accounts.lock([source.id, destination.id], at=at)
            posting = post_transfer(
                transfer_id=uuid4(),
                source=locked[source.id],
                destination=locked[destination.id],
                amount=Money(amount, "EUR"),
                description=None,
                now=at,
                created_by=owner,
                reference=reference,
                metadata=labels,
            )
            await uow.ledger.record(posting)
            await uow.commit()
            made.append(posting.transfer)
    async with uow_factory() as uow:
        assert await uow.ledger.references_taken(owner, ["r-1", "r-2", "r-3"]) == {"r-1", "r-3"}
        assert await uow.ledger.references_taken(uuid4(), ["r-1"]) == set()

        def query(**filters: Any) -> TransferQuery:
            return TransferQuery(account_ids=(source.id,), at=NOW, limit=10, **filters)

        newest_first = await uow.ledger.search_transfers(query())
        assert [t.id for t in newest_first[:3]] == [t.id for t in reversed(made)]
        assert len(newest_first) == 4  # and the deposit
        by_reference = await uow.ledger.search_transfers(query(reference="r-3"))
        assert [t.id for t in by_reference] == [made[2].id]
        assert by_reference[0] == made[2]
        by_label = await uow.ledger.search_transfers(query(metadata={"order": "2"}))
        assert [t.id for t in by_label] == [made[1].id]
        assert await uow.ledger.search_transfers(query(kind=TransferKind.WITHDRAWAL)) == []
        assert len(await uow.ledger.search_transfers(query(kind=TransferKind.TRANSFER))) == 4
        page = await uow.ledger.search_transfers(query(older_than=(made[1].created_at, made[1].id)))
        assert [t.id for t in page][:1] == [made[0].id]
        window = await uow.ledger.search_transfers(
            query(created_after=made[0].created_at, created_before=made[2].created_at)
        )
        assert [t.id for t in window] == [made[1].id]
        from_payee = await uow.ledger.search_transfers(
            TransferQuery(account_ids=(destination.id,), at=NOW, limit=2)
        )
        assert [t.id for t in from_payee] == [made[2].id, made[1].id]

        # By owner: the store finds the owner's accounts itself, funding ones never.
        by_owner = await uow.ledger.search_transfers(
            TransferQuery(account_ids=(), owner_id=owner, at=NOW, limit=10)
        )
        assert by_owner == newest_first
        payees = await uow.ledger.search_transfers(
            TransferQuery(
                account_ids=(),
                owner_id=destination.owner_id,
                at=NOW,
                limit=10,
                older_than=(made[2].created_at, made[2].id),
            )
        )
        assert [t.id for t in payees] == [made[1].id, made[0].id]
        owners_withdrawals = await uow.ledger.search_transfers(
            TransferQuery(
                account_ids=(), owner_id=owner, at=NOW, limit=10, kind=TransferKind.WITHDRAWAL
            )
        )
        assert owners_withdrawals == []
        assert (
            await uow.ledger.search_transfers(
                TransferQuery(account_ids=(), owner_id=uuid4(), at=NOW, limit=10)
            )
            == []
        )

        hashes = {
            e.sequence: e.entry_hash
            for e in await uow.ledger.entries(source.id, before_sequence=None, limit=10)
        }
        assert await uow.ledger.balance_at(source.id, NOW - timedelta(days=1)) == BalanceAt(
            0, 0, GENESIS_HASH
        )
        assert await uow.ledger.balance_at(source.id, NOW) == BalanceAt(1_000, 1, hashes[1])
        assert await uow.ledger.balance_at(
            source.id, NOW + timedelta(minutes=2, seconds=30)
        ) == BalanceAt(700, 3, hashes[3])
        between = await uow.ledger.entries(
            source.id,
            before_sequence=None,
            limit=10,
            since=NOW + timedelta(minutes=2),
            until=NOW + timedelta(minutes=3),
        )
        assert [e.sequence for e in between] == [3]


async def test_a_search_by_owner_finds_the_newest_across_many_accounts(
    uow_factory: UnitOfWorkFactory,
) -> None:
    """More accounts with matches than the page holds: the page is still the newest matches
    of all of them, in order, page after page."""
    ada = await saved_user(uow_factory)
    mine = [await saved_account(uow_factory, ada) for _ in range(5)]
    funding = Account.funding(currency="EUR", now=NOW)
    async with uow_factory() as uow:
        await uow.accounts.add_if_absent(funding)
        await uow.commit()
    # Deposits spread unevenly: the newest three sit on two accounts, one account has none.
    for n, target in enumerate([0, 1, 2, 3, 0, 1, 2, 3, 3, 3, 1]):
        at = NOW + timedelta(minutes=n)
        async with uow_factory() as uow:
            locked = await uow.accounts.lock([funding.id, mine[target].id], at=at)
            posting = post_transfer(
                transfer_id=uuid4(),
                source=locked[funding.id],
                destination=locked[mine[target].id],
                amount=Money(10 + n, "EUR"),
                description=None,
                now=at,
            )
            await uow.ledger.record(posting)
            await uow.commit()
    everything = tuple(account.id for account in mine)
    async with uow_factory() as uow:
        for kind in (None, TransferKind.TRANSFER):
            expected = await uow.ledger.search_transfers(
                TransferQuery(account_ids=everything, at=NOW, limit=20, kind=kind)
            )
            assert len(expected) == 11
            pages, older_than = [], None
            while True:
                page = await uow.ledger.search_transfers(
                    TransferQuery(
                        account_ids=(),
                        owner_id=ada.id,
                        at=NOW,
                        limit=3,
                        kind=kind,
                        older_than=older_than,
                    )
                )
                pages.extend(page)
                if len(page) < 3:
                    break
                older_than = (page[-1].created_at, page[-1].id)
            assert [t.id for t in pages] == [t.id for t in expected]


async def test_recorded_entries_chain_per_account_and_the_lock_returns_the_head_hash(
    uow_factory: UnitOfWorkFactory,
) -> None:
    """One movement alone (`record`) and two in one unit of work (`record_many`): each entry
    is stored with the hash the domain gave it, the account row keeps the newest as its head,
    and the lock reads it back, for the next entry to chain from."""
    ada = await saved_user(uow_factory)
    mine, other = await saved_account(uow_factory, ada), await saved_account(uow_factory, ada)
    funding = funding_account_id("EUR")
    async with uow_factory() as uow:
        await uow.accounts.add_if_absent(Account.funding(currency="EUR", now=NOW))
        locked = await uow.accounts.lock([funding, mine.id], at=NOW)
        assert locked[mine.id].head_hash == GENESIS_HASH
        await uow.ledger.record(
            post_transfer(
                transfer_id=uuid4(),
                source=locked[funding],
                destination=locked[mine.id],
                amount=Money(1_000, "EUR"),
                description=None,
                now=NOW,
                kind=TransferKind.DEPOSIT,
            )
        )
        await uow.commit()
    async with uow_factory() as uow:
        locked = await uow.accounts.lock([mine.id, other.id], at=NOW)
        postings = [
            post_transfer(
                transfer_id=uuid4(),
                source=locked[mine.id],
                destination=locked[other.id],
                amount=Money(amount, "EUR"),
                description=None,
                now=NOW + timedelta(seconds=1),
            )
            for amount in (300, 200)
        ]
        await uow.ledger.record_many(postings)
        await uow.commit()
    async with uow_factory() as uow:
        for account_id in (mine.id, other.id, funding):
            entries = list(
                reversed(await uow.ledger.entries(account_id, before_sequence=None, limit=10))
            )
            kinds = await uow.ledger.get_transfers({e.transfer_id for e in entries})
            chain = [chained(e, "EUR", kinds[e.transfer_id].kind) for e in entries]
            assert first_break(ChainStart(), chain) is None
            head = (await uow.accounts.lock([account_id], at=NOW))[account_id]
            assert head.head_hash == chain[-1].entry_hash
            assert head.entry_count == len(chain)
        assert [e.entry_hash for e in entries] != [GENESIS_HASH] * len(entries)
        last = postings[-1]
        assert (await uow.accounts.get(mine.id, at=NOW)).head_hash == last.debit.entry_hash  # type: ignore[union-attr]
        assert last.source_after.head_hash == last.debit.entry_hash


async def test_a_write_of_many_statements_lands_as_one_in_order(persistence: Persistence) -> None:
    """More postings and events than one statement takes (a 1,000-item batch): recorded in
    order, so each account ends where its last posting left it, every entry is chained, a
    hold placed early and posted late is posted, and every event is in the outbox."""
    uow_factory = persistence.uow_factory
    source, destination = await funded_pair(uow_factory, 100_000)
    count = 2 * POSTINGS_PER_WRITE + 7
    async with uow_factory() as uow:
        locked = await uow.accounts.lock([source.id, destination.id], at=NOW)
        hold = place_hold(
            transfer_id=uuid4(),
            source=locked[source.id],
            destination=locked[destination.id],
            amount=Money(500, "EUR"),
            description=None,
            now=NOW,
            timeout=None,
        )
        postings: list[Posting] = [hold]
        for n in range(count):
            payer, payee = (destination, source) if n % 3 == 2 else (source, destination)
            amount = 3 if payer is source else 1
            postings.append(
                post_transfer(
                    transfer_id=uuid4(),
                    source=locked[payer.id],
                    destination=locked[payee.id],
                    amount=Money(amount, "EUR"),
                    description=None,
                    now=NOW,
                )
            )
        postings.append(
            post_hold(
                hold.transfer,
                source=locked[source.id],
                destination=locked[destination.id],
                amount=None,
                now=NOW,
            )
        )
        events = [e for p in postings for e in posting_events(p, NOW, traceparent=None)]
        await uow.ledger.record_many(postings, events)
        await uow.commit()
    async with uow_factory() as uow:
        for account in (source, destination):
            stored = await uow.accounts.get(account.id, at=NOW)
            assert stored is not None
            assert (stored.balance, stored.held, stored.entry_count) == (
                locked[account.id].balance,
                0,
                locked[account.id].entry_count,
            )
            entries = await uow.ledger.entries(account.id, before_sequence=None, limit=1_000)
            entries.reverse()
            assert [e.sequence for e in entries] == list(range(1, len(entries) + 1))
            kinds = await uow.ledger.get_transfers({e.transfer_id for e in entries})
            chain = [chained(e, "EUR", kinds[e.transfer_id].kind) for e in entries]
            assert first_break(ChainStart(), chain) is None
            assert stored.head_hash == chain[-1].entry_hash
        posted = await uow.ledger.get_transfer(hold.transfer.id)
        assert posted is not None
        assert posted.status is TransferStatus.POSTED
        claimed = await uow.outbox.claim_undelivered(10_000, now=NOW, until=NOW)
        assert {e.id for e in events} <= {claimed_event.id for claimed_event in claimed}
    report = await persistence.reconciliation.reconcile(NOW)
    assert report.is_clean, report


async def test_the_next_write_is_prepared_while_one_is_in_flight(
    persistence: Persistence,
) -> None:
    """A batch's next part is prepared while the part before it is being written, on the
    unit of work's one connection: both land, in order."""
    uow_factory = persistence.uow_factory
    source, destination = await funded_pair(uow_factory, 1_000)
    async with uow_factory() as uow:
        locked = await uow.accounts.lock([source.id, destination.id], at=NOW)
        postings = []
        for amount in (300, 200):
            postings.append(
                post_transfer(
                    transfer_id=uuid4(),
                    source=locked[source.id],
                    destination=locked[destination.id],
                    amount=Money(amount, "EUR"),
                    description=None,
                    now=NOW,
                )
            )
            if amount == 300:
                first = asyncio.create_task((await uow.ledger.prepare_many(postings[:1]))())
                await asyncio.sleep(0)  # a store's statement is then on the connection
        second = await uow.ledger.prepare_many(postings[1:])
        await first
        await second()
        await uow.commit()
    async with uow_factory() as uow:
        assert (await uow.accounts.get(source.id, at=NOW)).balance == 500  # type: ignore[union-attr]
        entries = await uow.ledger.entries(source.id, before_sequence=None, limit=10)
        assert [e.transfer_id for e in entries[:2]] == [p.transfer.id for p in reversed(postings)]
    report = await persistence.reconciliation.reconcile(NOW)
    assert report.is_clean, report


async def test_a_prepared_write_writes_nothing_until_it_is_awaited(
    persistence: Persistence,
) -> None:
    """`prepare_many` builds the write and leaves the store as it was; awaiting the write
    records the postings and their events as `record_many` would."""
    uow_factory = persistence.uow_factory
    source, destination = await funded_pair(uow_factory, 1_000)
    async with uow_factory() as uow:
        locked = await uow.accounts.lock([source.id, destination.id], at=NOW)
        posting = post_transfer(
            transfer_id=uuid4(),
            source=locked[source.id],
            destination=locked[destination.id],
            amount=Money(300, "EUR"),
            description=None,
            now=NOW,
        )
        events = posting_events(posting, NOW, traceparent=None)
        write = await uow.ledger.prepare_many([posting], events)
        assert await uow.ledger.get_transfer(posting.transfer.id) is None
        assert (await uow.accounts.get(source.id, at=NOW)).balance == 1_000  # type: ignore[union-attr]
        await write()
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.ledger.get_transfer(posting.transfer.id) == posting.transfer
        assert (await uow.accounts.get(source.id, at=NOW)).balance == 700  # type: ignore[union-attr]
        claimed = await uow.outbox.claim_undelivered(100, now=NOW, until=NOW)
        assert {e.id for e in events} <= {claimed_event.id for claimed_event in claimed}
    report = await persistence.reconciliation.reconcile(NOW)
    assert report.is_clean, report
