"""Random registrations, accounts, deposits and transfers on the in-memory adapters, with the
ledger's invariants checked after every step."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from typing import Any, TypeVar
from uuid import UUID

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule

from application.transfer_requests import TransferRequest
from application.use_cases.register_user import Registration
from domain.account import AccountKind
from domain.errors import DomainError
from tests.fakes import InMemoryBank, use_cases

T = TypeVar("T")

CURRENCIES = ["EUR", "USD", "JPY"]


class LedgerMachine(RuleBasedStateMachine):
    users = Bundle("users")
    accounts = Bundle("accounts")

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

    @rule(target=accounts, owner=users, currency=st.sampled_from(CURRENCIES))
    def open_account(self, owner: UUID, currency: str) -> tuple[UUID, UUID]:
        return owner, self.run(self.uc.open_account(owner, currency)).id

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

    @invariant()
    def money_is_conserved(self) -> None:
        held: dict[str, int] = dict.fromkeys(CURRENCIES, 0)
        for account in self.bank.storage.accounts.values():
            if account.kind is AccountKind.CUSTOMER:
                held[account.currency] += account.balance
        assert held == self.deposited

    @invariant()
    def no_customer_balance_is_negative(self) -> None:
        assert all(
            account.balance >= 0
            for account in self.bank.storage.accounts.values()
            if account.kind is AccountKind.CUSTOMER
        )

    @invariant()
    def the_books_reconcile(self) -> None:
        report = self.run(self.uc.reconcile())
        assert report.is_clean, report


LedgerMachine.TestCase.settings = settings(
    max_examples=60,
    stateful_step_count=30,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
TestLedgerMachine = LedgerMachine.TestCase
