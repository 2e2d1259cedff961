from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace
from uuid import UUID, uuid4

import pytest

from application.errors import InvalidPage
from application.transfer_requests import TransferRequest
from application.use_cases.open_account import OpenAccount
from application.use_cases.register_user import Registration
from domain.account import Account, AccountKind, funding_account_id
from domain.errors import (
    AccountNotFound,
    CurrencyMismatch,
    IdempotencyKeyInFlight,
    IdempotencyKeyReused,
    InsufficientFunds,
    InvalidAmount,
    InvalidCurrency,
    InvalidDescription,
    SameAccountTransfer,
    TooManyAccounts,
    TransferNotFound,
)
from domain.user import User
from tests.fakes import InMemoryBank, use_cases


@pytest.fixture
def uc(bank: InMemoryBank) -> SimpleNamespace:
    return use_cases(bank)


async def user(uc: SimpleNamespace, name: str = "ada") -> UUID:
    registered: User = await uc.register(Registration(f"{name}@example.com", "password1", name))
    return registered.id


async def funded(
    uc: SimpleNamespace, owner: UUID, amount: int = 10_000, currency: str = "EUR"
) -> UUID:
    account: Account = await uc.open_account(owner, currency)
    if amount:
        await uc.deposit(owner, account.id, amount)
    return account.id


async def test_deposit_then_transfer_moves_money_and_keeps_the_books_balanced(
    bank: InMemoryBank, uc: SimpleNamespace
) -> None:
    ada, bob = await user(uc, "ada"), await user(uc, "bob")
    source, destination = await funded(uc, ada, 10_000), await funded(uc, bob, 0)

    receipt = await uc.transfer(ada, TransferRequest(source, destination, 2_500, "EUR", "rent"))

    assert receipt.transfer.amount == 2_500
    assert not receipt.replayed
    assert (await uc.get_account(ada, source)).balance == 7_500
    assert (await uc.get_account(bob, destination)).balance == 2_500
    assert bank.storage.accounts[funding_account_id("EUR")].balance == -10_000
    report = await uc.reconcile()
    assert report.is_clean
    assert report.totals_by_currency == {"EUR": 0}


async def test_insufficient_funds_moves_nothing(bank: InMemoryBank, uc: SimpleNamespace) -> None:
    ada, bob = await user(uc, "ada"), await user(uc, "bob")
    source, destination = await funded(uc, ada, 100), await funded(uc, bob, 0)
    with pytest.raises(InsufficientFunds):
        await uc.transfer(ada, TransferRequest(source, destination, 101, "EUR"))
    assert (await uc.get_account(ada, source)).balance == 100
    assert len(bank.storage.transfers) == 1  # the deposit only


@pytest.mark.parametrize(
    ("amount", "currency", "description", "error"),
    [
        (0, "EUR", None, InvalidAmount),
        (-5, "EUR", None, InvalidAmount),
        (10**12 + 1, "EUR", None, InvalidAmount),
        (True, "EUR", None, InvalidAmount),
        (1, "ZZZ", None, InvalidCurrency),
        (1, "EUR", "x" * 141, InvalidDescription),
        (1, "USD", None, CurrencyMismatch),
    ],
)
async def test_bad_transfers_are_refused(
    uc: SimpleNamespace, amount: int, currency: str, description: str | None, error: type[Exception]
) -> None:
    ada, bob = await user(uc, "ada"), await user(uc, "bob")
    source, destination = await funded(uc, ada), await funded(uc, bob, 0)
    with pytest.raises(error):
        await uc.transfer(ada, TransferRequest(source, destination, amount, currency, description))
    assert (await uc.get_account(ada, source)).balance == 10_000


async def test_the_largest_allowed_amount_goes_through(uc: SimpleNamespace) -> None:
    ada, bob = await user(uc, "ada"), await user(uc, "bob")
    source, destination = await funded(uc, ada, 10**12), await funded(uc, bob, 0)
    await uc.transfer(ada, TransferRequest(source, destination, 10**12, "EUR"))
    assert (await uc.get_account(bob, destination)).balance == 10**12


async def test_same_account_is_refused(uc: SimpleNamespace) -> None:
    ada = await user(uc)
    source = await funded(uc, ada)
    with pytest.raises(SameAccountTransfer):
        await uc.transfer(ada, TransferRequest(source, source, 1, "EUR"))


async def test_only_the_owner_can_send_and_only_customers_can_receive(uc: SimpleNamespace) -> None:
    ada, mallory = await user(uc, "ada"), await user(uc, "mallory")
    adas, mallorys = await funded(uc, ada), await funded(uc, mallory, 0)
    with pytest.raises(AccountNotFound):  # someone else's money
        await uc.transfer(mallory, TransferRequest(adas, mallorys, 1, "EUR"))
    with pytest.raises(AccountNotFound):  # an account that does not exist
        await uc.transfer(ada, TransferRequest(adas, uuid4(), 1, "EUR"))
    with pytest.raises(AccountNotFound):  # the bank's own funding account
        await uc.transfer(ada, TransferRequest(adas, funding_account_id("EUR"), 1, "EUR"))
    with pytest.raises(AccountNotFound):  # deposits only into your own account
        await uc.deposit(mallory, adas, 1)


async def test_a_transfer_is_visible_to_both_sides_and_nobody_else(uc: SimpleNamespace) -> None:
    ada, bob, eve = await user(uc, "ada"), await user(uc, "bob"), await user(uc, "eve")
    source, destination = await funded(uc, ada), await funded(uc, bob, 0)
    transfer = (await uc.transfer(ada, TransferRequest(source, destination, 5, "EUR"))).transfer
    assert await uc.get_transfer(ada, transfer.id) == transfer
    assert await uc.get_transfer(bob, transfer.id) == transfer
    with pytest.raises(TransferNotFound):
        await uc.get_transfer(eve, transfer.id)
    with pytest.raises(TransferNotFound):
        await uc.get_transfer(ada, uuid4())


async def test_accounts_are_listed_for_their_owner_only(
    bank: InMemoryBank, uc: SimpleNamespace
) -> None:
    ada, bob = await user(uc, "ada"), await user(uc, "bob")
    first = await uc.open_account(ada, "EUR")
    bank.clock.advance(seconds=1)
    second = await uc.open_account(ada, "JPY")
    await uc.open_account(bob, "EUR")
    page = await uc.list_accounts(ada)
    assert [account.id for account in page.items] == [first.id, second.id]
    assert page.next_cursor is None
    assert all(a.kind is AccountKind.CUSTOMER for a in page.items)
    with pytest.raises(AccountNotFound):
        await uc.get_account(bob, first.id)


# -- idempotency --------------------------------------------------------------------------


async def test_a_retried_transfer_with_its_key_is_replayed_not_repeated(
    bank: InMemoryBank, uc: SimpleNamespace
) -> None:
    ada, bob = await user(uc, "ada"), await user(uc, "bob")
    source, destination = await funded(uc, ada), await funded(uc, bob, 0)
    request = TransferRequest(source, destination, 700, "EUR")

    first = await uc.transfer(ada, request, "key-1")
    again = await uc.transfer(ada, request, "key-1")

    assert again.replayed
    assert again.transfer == first.transfer
    assert (await uc.get_account(ada, source)).balance == 9_300
    with pytest.raises(IdempotencyKeyReused):
        await uc.transfer(ada, replace(request, amount=701), "key-1")
    # Keys are per user: the same key from someone else is a different request.
    bobs = await funded(uc, bob, 1_000)
    other = await uc.transfer(bob, TransferRequest(bobs, source, 1, "EUR"), "key-1")
    assert not other.replayed


async def test_a_refusal_is_replayed_too_even_after_the_funds_arrive(uc: SimpleNamespace) -> None:
    ada, bob = await user(uc, "ada"), await user(uc, "bob")
    source, destination = await funded(uc, ada, 100), await funded(uc, bob, 0)
    request = TransferRequest(source, destination, 500, "EUR")
    with pytest.raises(InsufficientFunds):
        await uc.transfer(ada, request, "key-2")
    await uc.deposit(ada, source, 1_000)
    with pytest.raises(InsufficientFunds):
        await uc.transfer(ada, request, "key-2")
    assert (await uc.get_account(bob, destination)).balance == 0


async def test_deposits_are_idempotent(uc: SimpleNamespace) -> None:
    ada = await user(uc)
    account = await funded(uc, ada, 0)
    first = await uc.deposit(ada, account, 250, "dep-1")
    again = await uc.deposit(ada, account, 250, "dep-1")
    assert again.replayed
    assert again.transfer.id == first.transfer.id
    assert (await uc.get_account(ada, account)).balance == 250
    with pytest.raises(IdempotencyKeyReused):
        await uc.deposit(ada, account, 251, "dep-1")


async def test_a_key_held_by_an_unfinished_unit_of_work_is_in_flight(
    bank: InMemoryBank, uc: SimpleNamespace
) -> None:
    from application.ports.idempotency import IdempotencyKey

    ada, bob = await user(uc, "ada"), await user(uc, "bob")
    source, destination = await funded(uc, ada), await funded(uc, bob, 0)
    async with bank.uow() as holder:
        await holder.idempotency.claim(
            IdempotencyKey(ada, "busy", "whatever"),
            now=bank.clock.now(),
            expired_before=bank.clock.now(),
        )
        with pytest.raises(IdempotencyKeyInFlight):
            await uc.transfer(ada, TransferRequest(source, destination, 1, "EUR"), "busy")
    # Rolled back without an outcome: the key is free again and the request runs once.
    assert not (
        await uc.transfer(ada, TransferRequest(source, destination, 1, "EUR"), "busy")
    ).replayed


async def test_keys_expire_after_a_day(bank: InMemoryBank, uc: SimpleNamespace) -> None:
    ada, bob = await user(uc, "ada"), await user(uc, "bob")
    source, destination = await funded(uc, ada), await funded(uc, bob, 0)
    request = TransferRequest(source, destination, 10, "EUR")
    first = await uc.transfer(ada, request, "old")
    bank.clock.advance(hours=23)
    assert (await uc.transfer(ada, request, "old")).replayed
    bank.clock.advance(hours=2)
    fresh = await uc.transfer(ada, request, "old")
    assert not fresh.replayed
    assert fresh.transfer.id != first.transfer.id


# -- statement, summary, reconciliation ---------------------------------------------------


async def test_the_statement_pages_newest_first_without_repeats_or_gaps(
    uc: SimpleNamespace,
) -> None:
    ada, bob = await user(uc, "ada"), await user(uc, "bob")
    source, destination = await funded(uc, ada, 1_000), await funded(uc, bob, 0)
    for amount in range(1, 8):
        await uc.transfer(ada, TransferRequest(source, destination, amount, "EUR"))

    first = await uc.statement(ada, source, limit=3)
    # An entry arriving between pages must not shift the next page.
    await uc.transfer(ada, TransferRequest(source, destination, 100, "EUR"))
    second = await uc.statement(ada, source, limit=3, cursor=first.next_cursor)
    third = await uc.statement(ada, source, limit=3, cursor=second.next_cursor)

    amounts = [e.amount for page in (first, second, third) for e in page.entries]
    assert amounts == [-7, -6, -5, -4, -3, -2, -1, 1_000]
    assert third.next_cursor is None
    balances = [e.balance_after for page in (first, second, third) for e in page.entries]
    assert balances == [972, 979, 985, 990, 994, 997, 999, 1_000]


async def test_bad_or_foreign_cursors_and_page_sizes_are_refused(uc: SimpleNamespace) -> None:
    ada = await user(uc)
    first, second = await funded(uc, ada, 1), await funded(uc, ada, 1)
    await uc.deposit(ada, first, 1)
    cursor = (await uc.statement(ada, first, limit=1)).next_cursor
    assert cursor is not None
    for bad in ("garbage", "e30", cursor[:-3]):
        with pytest.raises(InvalidPage):
            await uc.statement(ada, first, cursor=bad)
    with pytest.raises(InvalidPage):
        await uc.statement(ada, second, cursor=cursor)
    for limit in (0, 101):
        with pytest.raises(InvalidPage):
            await uc.statement(ada, first, limit=limit)


async def test_the_summary_totals_money_in_and_out(uc: SimpleNamespace) -> None:
    ada, bob = await user(uc, "ada"), await user(uc, "bob")
    source, destination = await funded(uc, ada, 1_000), await funded(uc, bob, 0)
    await uc.deposit(ada, source, 500)
    await uc.transfer(ada, TransferRequest(source, destination, 300, "EUR"))
    await uc.transfer(ada, TransferRequest(source, destination, 200, "EUR"))
    summary = await uc.summary(ada, source)
    totals = summary.totals
    assert (totals.balance, totals.total_in, totals.total_out) == (1_000, 1_500, 500)
    assert (totals.count_in, totals.count_out) == (2, 2)


async def test_reconciliation_reports_a_balance_that_does_not_match_its_entries(
    bank: InMemoryBank, uc: SimpleNamespace
) -> None:
    ada = await user(uc)
    account = await funded(uc, ada, 1_000)
    bank.storage.accounts[account].balance += 1  # money from nowhere
    report = await uc.reconcile()
    assert not report.is_clean
    assert [(m.account_id, m.balance, m.sum_of_entries) for m in report.balance_mismatches] == [
        (account, 1_001, 1_000)
    ]


async def test_purge_forgets_expired_keys_and_stale_counts(
    bank: InMemoryBank, uc: SimpleNamespace
) -> None:
    from application.use_cases.purge_expired import PurgeExpired

    ada, bob = await user(uc, "ada"), await user(uc, "bob")
    source, destination = await funded(uc, ada), await funded(uc, bob, 0)
    await uc.transfer(ada, TransferRequest(source, destination, 1, "EUR"), "old-key")
    await bank.throttle.count("login:client:x", bank.throttle.policies.login_per_client)
    purge = PurgeExpired(bank.uow, bank.throttle, bank.clock)
    assert await purge() == type(await purge())(0, 0)  # nothing is old enough yet
    bank.clock.advance(hours=25)
    purged = await purge()
    assert (purged.idempotency_keys, purged.attempt_counters) == (1, 1)
    again = await uc.transfer(ada, TransferRequest(source, destination, 1, "EUR"), "old-key")
    assert not again.replayed


async def test_open_accounts_are_capped_per_user_and_closed_ones_free_a_place(
    bank: InMemoryBank,
) -> None:
    uc = use_cases(bank)
    uc.open_account = OpenAccount(bank.uow, bank.clock, bank.retry, max_open_accounts=2)
    ada, bob = await user(uc, "ada"), await user(uc, "bob")
    first = await uc.open_account(ada, "EUR")
    await uc.open_account(ada, "EUR")
    with pytest.raises(TooManyAccounts):
        await uc.open_account(ada, "EUR")
    await uc.open_account(bob, "EUR")
    await uc.close_account(ada, first.id)
    await uc.open_account(ada, "EUR")
    assert len((await uc.list_accounts(ada)).items) == 3


async def test_accounts_page_with_a_cursor_and_refuse_a_foreign_one(
    bank: InMemoryBank, uc: SimpleNamespace
) -> None:
    ada = await user(uc, "ada")
    opened = []
    for _ in range(5):
        opened.append((await uc.open_account(ada, "EUR")).id)
        bank.clock.advance(seconds=1)
    first = await uc.list_accounts(ada, limit=3)
    rest = await uc.list_accounts(ada, limit=3, cursor=first.next_cursor)
    assert [a.id for a in first.items + rest.items] == opened
    assert rest.next_cursor is None
    with pytest.raises(InvalidPage):
        await uc.list_accounts(ada, cursor="bm90LWEtY3Vyc29y")
    with pytest.raises(InvalidPage):
        await uc.list_accounts(ada, limit=501)
