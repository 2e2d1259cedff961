from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID, uuid4

import pytest

from domain.account import Account, AccountStatus, funding_account_id
from domain.errors import (
    AccountClosed,
    AccountFrozen,
    CurrencyMismatch,
    InsufficientFunds,
    PayeeUnavailable,
    SameAccountTransfer,
)
from domain.ledger import post_transfer
from domain.money import Money

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def customer(balance: int = 0, currency: str = "EUR") -> Account:
    account = Account.open(owner_id=uuid4(), currency=currency, now=NOW)
    account.balance = balance
    return account


def test_a_posting_writes_a_debit_and_a_credit_that_sum_to_zero() -> None:
    source, destination = customer(1_000), customer(0)
    posting = post_transfer(
        transfer_id=uuid4(),
        source=source,
        destination=destination,
        amount=Money(300, "EUR"),
        description="rent",
        now=NOW,
    )
    debit, credit = posting.debit, posting.credit
    assert debit is not None
    assert credit is not None
    assert (debit.amount, credit.amount) == (-300, 300)
    assert (debit.balance_after, credit.balance_after) == (700, 300)
    assert (source.balance, destination.balance) == (700, 300)
    assert (debit.sequence, credit.sequence) == (1, 1)
    assert posting.transfer.description == "rent"


def test_insufficient_funds_changes_nothing() -> None:
    source, destination = customer(299), customer(0)
    with pytest.raises(InsufficientFunds):
        post_transfer(
            transfer_id=uuid4(),
            source=source,
            destination=destination,
            amount=Money(300, "EUR"),
            description=None,
            now=NOW,
        )
    assert (source.balance, source.entry_count, destination.balance) == (299, 0, 0)


def test_the_funding_account_may_go_negative() -> None:
    funding = Account.funding(currency="EUR", now=NOW)
    posting = post_transfer(
        transfer_id=uuid4(),
        source=funding,
        destination=customer(),
        amount=Money(500, "EUR"),
        description=None,
        now=NOW,
    )
    assert funding.balance == -500
    assert posting.debit is not None
    assert posting.debit.balance_after == -500


def test_funding_accounts_have_one_fixed_id_per_currency() -> None:
    assert Account.funding(currency="EUR", now=NOW).id == funding_account_id("EUR")
    assert funding_account_id("EUR") != funding_account_id("USD")


def test_same_account_and_currency_mismatch_are_refused() -> None:
    account = customer(1_000)
    with pytest.raises(SameAccountTransfer):
        post_transfer(
            transfer_id=uuid4(),
            source=account,
            destination=account,
            amount=Money(1, "EUR"),
            description=None,
            now=NOW,
        )
    with pytest.raises(CurrencyMismatch):
        post_transfer(
            transfer_id=uuid4(),
            source=account,
            destination=customer(currency="USD"),
            amount=Money(1, "EUR"),
            description=None,
            now=NOW,
        )


@pytest.mark.parametrize("status", [AccountStatus.FROZEN, AccountStatus.CLOSED])
def test_a_payee_that_cannot_receive_says_why_only_to_its_owner(status: AccountStatus) -> None:
    source, destination = customer(1_000), customer(0)
    destination.status = status

    def paid_by(asker: UUID | None) -> None:
        post_transfer(
            transfer_id=uuid4(),
            source=source,
            destination=destination,
            amount=Money(1, "EUR"),
            description=None,
            now=NOW,
            created_by=asker,
        )

    for stranger in (source.owner_id, None):
        with pytest.raises(PayeeUnavailable) as refused:
            paid_by(stranger)
        assert str(destination.id) not in refused.value.detail
    with pytest.raises(AccountFrozen if status is AccountStatus.FROZEN else AccountClosed):
        paid_by(destination.owner_id)
    source.status = status  # the payer's own account: always said
    with pytest.raises(AccountFrozen if status is AccountStatus.FROZEN else AccountClosed):
        paid_by(source.owner_id)
    assert (source.balance, destination.balance) == (1_000, 0)


def test_a_posting_keeps_the_balances_it_left_while_the_accounts_move_on() -> None:
    source, destination = customer(1_000), customer(0)
    first = post_transfer(
        transfer_id=uuid4(),
        source=source,
        destination=destination,
        amount=Money(300, "EUR"),
        description=None,
        now=NOW,
    )
    post_transfer(
        transfer_id=uuid4(),
        source=source,
        destination=destination,
        amount=Money(200, "EUR"),
        description=None,
        now=NOW,
    )
    assert (source.balance, destination.balance) == (500, 500)
    assert (first.source_after.balance, first.source_after.sequence) == (700, 1)
    assert (first.destination_after.balance, first.destination_after.sequence) == (300, 1)


def test_an_overdraft_limit_widens_what_a_customer_account_may_spend() -> None:
    from domain.errors import AccountClosed, InvalidOverdraftLimit

    now = datetime(2026, 1, 1, tzinfo=UTC)
    account = Account.open(owner_id=uuid4(), currency="EUR", now=now)
    account.held = 30
    assert (account.available, account.can_pay(1)) == (-30, False)
    assert account.set_overdraft_limit(100)
    assert not account.set_overdraft_limit(100)
    assert (account.available, account.can_pay(70), account.can_pay(71)) == (70, True, False)
    for bad in (-1, 2**63, True):
        with pytest.raises(InvalidOverdraftLimit):
            account.set_overdraft_limit(bad)
    assert account.overdraft_limit == 100
    with pytest.raises(InvalidOverdraftLimit):
        Account.funding(currency="EUR", now=now).set_overdraft_limit(10)
    account.held, account.balance = 0, 0
    account.set_overdraft_limit(0)
    account.close()
    with pytest.raises(AccountClosed):
        account.set_overdraft_limit(10)


def test_a_hold_whose_posting_a_lowered_limit_refuses_stays_counted() -> None:
    """Placed within a limit of 100, refused once the limit is 50: the refusal leaves the
    hold in `held`, so a later debit decided in the same unit of work (a group commit)
    cannot spend what the hold still reserves."""
    from domain.holds import place_hold, post_hold

    source, destination = customer(0), customer(0)
    source.set_overdraft_limit(100)
    placed = place_hold(
        transfer_id=uuid4(),
        source=source,
        destination=destination,
        amount=Money(60, "EUR"),
        description=None,
        now=NOW,
        timeout=None,
    )
    source.set_overdraft_limit(50)  # below the debt the hold may become: allowed
    assert (source.held, source.available) == (60, -10)
    with pytest.raises(InsufficientFunds):
        post_hold(placed.transfer, source=source, destination=destination, amount=None, now=NOW)
    assert (source.balance, source.held, source.available, source.entry_count) == (0, 60, -10, 0)
    assert not source.can_pay(50)
    posted = post_hold(placed.transfer, source=source, destination=destination, amount=10, now=NOW)
    assert (posted.source.balance, source.held, source.available) == (-10, 0, 40)
