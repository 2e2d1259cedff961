"""Random registrations, accounts, deposits, transfers, holds (posted, voided, expiring),
reversals, withdrawals and batches on the in-memory adapters, with the ledger's invariants
checked after every step."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from typing import Any, TypeVar
from uuid import UUID

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule

from application.receipts import BatchRefused
from application.transfer_requests import TransferRequest
from application.use_cases.register_user import Registration
from domain.account import AccountKind
from domain.errors import DomainError
from tests.fakes import InMemoryBank, use_cases

T = TypeVar("T")

CURRENCIES = ["EUR", "USD", "JPY"]
OFTEN_EUR = st.sampled_from(["EUR", "EUR", "EUR", "USD", "JPY"])
"""Mostly one currency, so that random pairs of accounts can pay each other."""


class LedgerMachine(RuleBasedStateMachine):
    users = Bundle("users")
    accounts = Bundle("accounts")
    holds = Bundle("holds")
    payments = Bundle("payments")
    """(payer, transfer id or None when refused): holds to post or void, payments to reverse."""

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.bank = InMemoryBank()
        self.uc = use_cases(self.bank)
        self.deposited: dict[str, int] = dict.fromkeys(CURRENCIES, 0)
        self.registered = 0

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coroutine)

    def teardown(self) -> None:
        self.loop.close()

    @rule(target=users)
    def register(self) -> UUID:
        self.registered += 1
        email = f"user{self.registered}@example.com"
        return self.run(self.uc.register(Registration(email, "password1", "User"))).id  # type: ignore[no-any-return]

    @rule(target=accounts, owner=users, currency=OFTEN_EUR)
    def open_account(self, owner: UUID, currency: str) -> tuple[UUID, UUID]:
        """Opened with a first deposit, so the money rules below have money to work on."""
        account = self.run(self.uc.open_account(owner, currency))
        self.run(self.uc.deposit(owner, account.id, 10_000))
        self.deposited[currency] += 10_000
        return owner, account.id

    @rule(
        account=accounts,
        amount=st.integers(min_value=-5, max_value=10**6),
        key=st.sampled_from([None, "k1", "k2"]),
    )
    def deposit(self, account: tuple[UUID, UUID], amount: int, key: str | None) -> None:
        owner, account_id = account
        try:
            receipt = self.run(self.uc.deposit(owner, account_id, amount, key))
        except DomainError:
            return
        if not receipt.replayed:
            self.deposited[receipt.transfer.currency] += amount

    @rule(
        source=accounts,
        destination=accounts,
        amount=st.integers(min_value=-5, max_value=2 * 10**6),
        as_owner=st.booleans(),
        key=st.sampled_from([None, "t1", "t2"]),
    )
    def transfer(
        self,
        source: tuple[UUID, UUID],
        destination: tuple[UUID, UUID],
        amount: int,
        as_owner: bool,
        key: str | None,
    ) -> None:
        caller = source[0] if as_owner else destination[0]
        account = self.bank.storage.accounts[source[1]]
        with contextlib.suppress(DomainError):
            self.run(
                self.uc.transfer(
                    caller,
                    TransferRequest(source[1], destination[1], amount, account.currency),
                    key,
                )
            )

    @rule(
        target=payments,
        source=accounts,
        destination=accounts,
        amount=st.integers(min_value=1, max_value=12_000),
    )
    def pay(
        self, source: tuple[UUID, UUID], destination: tuple[UUID, UUID], amount: int
    ) -> tuple[UUID, UUID | None]:
        return self._transfer(source, destination, amount, pending=False, timeout=None)

    @rule(
        target=holds,
        source=accounts,
        destination=accounts,
        amount=st.integers(min_value=1, max_value=4_000),
        timeout=st.sampled_from([None, None, 60]),
    )
    def hold(
        self,
        source: tuple[UUID, UUID],
        destination: tuple[UUID, UUID],
        amount: int,
        timeout: int | None,
    ) -> tuple[UUID, UUID | None]:
        return self._transfer(source, destination, amount, pending=True, timeout=timeout)

    def _transfer(
        self,
        source: tuple[UUID, UUID],
        destination: tuple[UUID, UUID],
        amount: int,
        *,
        pending: bool,
        timeout: int | None,
    ) -> tuple[UUID, UUID | None]:
        currency = self.bank.storage.accounts[source[1]].currency
        payee = self._other_than(source[1], destination[1])
        request = TransferRequest(source[1], payee, amount, currency, None, pending, timeout)
        try:
            receipt = self.run(self.uc.transfer(source[0], request))
        except DomainError:
            return source[0], None
        return source[0], receipt.transfer.id

    @rule(
        made=holds,
        settle=st.sampled_from(["post", "post-part", "void"]),
        by_payer=st.sampled_from([True, True, True, False]),
    )
    def settle_hold(self, made: tuple[UUID, UUID | None], settle: str, by_payer: bool) -> None:
        caller, transfer_id = made
        if transfer_id is None:
            return
        if not by_payer:
            transfer = self.bank.storage.transfers[transfer_id]
            caller = self.owner_of(transfer.to_account_id)
        with contextlib.suppress(DomainError):
            if settle == "void":
                self.run(self.uc.void_hold(caller, transfer_id))
            else:
                amount = 1 if settle == "post-part" else None
                self.run(self.uc.post_hold(caller, transfer_id, amount))

    @rule(made=payments, amount=st.sampled_from([None, 1, 5_000]))
    def reverse(self, made: tuple[UUID, UUID | None], amount: int | None) -> None:
        _, transfer_id = made
        if transfer_id is None:
            return
        payee = self.owner_of(self.bank.storage.transfers[transfer_id].to_account_id)
        with contextlib.suppress(DomainError):
            self.run(self.uc.reverse(payee, transfer_id, amount))

    @rule(account=accounts, amount=st.integers(min_value=1, max_value=12_000))
    def withdraw(self, account: tuple[UUID, UUID], amount: int) -> None:
        owner, account_id = account
        try:
            receipt = self.run(self.uc.withdraw(owner, account_id, amount))
        except DomainError:
            return
        self.deposited[receipt.transfer.currency] -= amount

    @rule(
        source=accounts,
        destinations=st.lists(accounts, min_size=1, max_size=4),
        amount=st.integers(min_value=1, max_value=5_000),
        atomic=st.booleans(),
    )
    def batch(
        self,
        source: tuple[UUID, UUID],
        destinations: list[tuple[UUID, UUID]],
        amount: int,
        atomic: bool,
    ) -> None:
        currency = self.bank.storage.accounts[source[1]].currency
        requests = [TransferRequest(source[1], d[1], amount, currency) for d in destinations]
        with contextlib.suppress(DomainError, BatchRefused):
            self.run(self.uc.batch(source[0], requests, atomic=atomic))

    @rule(seconds=st.sampled_from([1, 30, 61]))
    def time_passes(self, seconds: int) -> None:
        self.bank.clock.advance(seconds=seconds)

    @rule()
    def sweep_expired_holds(self) -> None:
        self.run(self.uc.expire_holds())

    def _other_than(self, source: UUID, drawn: UUID) -> UUID:
        """Bundles draw the same account often; a payment needs two, of one currency."""
        if drawn != source:
            return drawn
        currency = self.bank.storage.accounts[source].currency
        others = sorted(
            account.id
            for account in self.bank.storage.accounts.values()
            if account.kind is AccountKind.CUSTOMER
            and account.currency == currency
            and account.id != source
        )
        return others[0] if others else drawn

    def owner_of(self, account_id: UUID) -> UUID:
        owner = self.bank.storage.accounts[account_id].owner_id
        assert owner is not None
        return owner

    @invariant()
    def money_is_conserved(self) -> None:
        held: dict[str, int] = dict.fromkeys(CURRENCIES, 0)
        for account in self.bank.storage.accounts.values():
            if account.kind is AccountKind.CUSTOMER:
                held[account.currency] += account.balance
        assert held == self.deposited

    @invariant()
    def no_customer_balance_or_available_is_negative(self) -> None:
        for account in self.bank.storage.accounts.values():
            if account.kind is AccountKind.CUSTOMER:
                assert account.owner_id is not None
                seen = self.run(self.uc.get_account(account.owner_id, account.id))
                assert seen.balance >= 0
                assert seen.available >= 0

    @invariant()
    def the_books_reconcile(self) -> None:
        report = self.run(self.uc.reconcile())
        assert report.is_clean, report


LedgerMachine.TestCase.settings = settings(
    max_examples=80,
    stateful_step_count=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
TestLedgerMachine = LedgerMachine.TestCase
