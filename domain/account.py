"""Accounts hold money of one currency and keep their own running ledger position."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID, uuid4, uuid5

from domain.currency import require_currency
from domain.errors import InsufficientFunds
from domain.money import MAX_MINOR_UNITS

_FUNDING_NAMESPACE = UUID("6d1e0a55-3c1b-4f0e-9a57-2b8c1f4e0b7d")


def funding_account_id(currency: str) -> UUID:
    """The bank's funding account of a currency has a fixed id, so no lookup is needed."""
    return uuid5(_FUNDING_NAMESPACE, require_currency(currency))


class AccountKind(StrEnum):
    CUSTOMER = "customer"
    # The bank's per-currency funding account: the other side of every deposit. It may go
    # negative, which is how money entering the bank shows in the books.
    FUNDING = "funding"


@dataclass(slots=True)
class Account:
    """A balance in minor units. `entry_count` numbers the account's ledger entries 1, 2, ...

    `held` is the sum of the open holds that debit the account; the store derives it from
    the holds themselves when it loads the account (so it cannot drift from them, and an
    expired hold stops counting the instant it expires). `available` is what may be spent.
    """

    id: UUID
    owner_id: UUID | None
    currency: str
    balance: int
    created_at: datetime
    kind: AccountKind = AccountKind.CUSTOMER
    entry_count: int = 0
    held: int = 0

    @property
    def available(self) -> int:
        return self.balance - self.held

    @classmethod
    def open(cls, *, owner_id: UUID, currency: str, now: datetime) -> Account:
        return cls(
            id=uuid4(),
            owner_id=owner_id,
            currency=require_currency(currency),
            balance=0,
            created_at=now,
        )

    @classmethod
    def funding(cls, *, currency: str, now: datetime) -> Account:
        return cls(
            id=funding_account_id(currency),
            owner_id=None,
            currency=require_currency(currency),
            balance=0,
            created_at=now,
            kind=AccountKind.FUNDING,
        )

    def is_owned_by(self, user_id: UUID) -> bool:
        return self.kind is AccountKind.CUSTOMER and self.owner_id == user_id

    def can_pay(self, amount: int) -> bool:
        """TigerBeetle's debits_must_not_exceed_credits (pending debits included), for
        customer accounts only: the funding accounts are the bank's side of the books."""
        return self.kind is AccountKind.FUNDING or self.available >= amount

    def stays_in_range(self, amount: int) -> bool:
        """Whether moving the balance by a signed amount keeps it within the books' range."""
        return abs(self.balance + amount) <= MAX_MINOR_UNITS

    def apply(self, amount: int) -> tuple[int, int]:
        """Move the balance by a signed amount; return (entry sequence, balance after)."""
        if amount < 0 and not self.can_pay(-amount):
            raise InsufficientFunds(f"Account {self.id} has insufficient funds.")
        self.balance += amount
        self.entry_count += 1
        return self.entry_count, self.balance
