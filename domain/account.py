"""Accounts hold money of one currency and keep their own running ledger position."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from uuid import UUID, uuid5

from domain.chain import GENESIS_HASH
from domain.currency import require_currency
from domain.errors import (
    AccountClosed,
    AccountFrozen,
    AccountNotEmpty,
    InsufficientFunds,
    InvalidAccountName,
    InvalidOverdraftLimit,
    PayeeUnavailable,
    PreconditionFailed,
    TooManyAccounts,
)
from domain.ids import new_id
from domain.metadata import Metadata, require_metadata
from domain.money import MAX_MINOR_UNITS

ACCOUNT_NAME_MAX_LENGTH = 80

_FUNDING_NAMESPACE = UUID("6d1e0a55-3c1b-4f0e-9a57-2b8c1f4e0b7d")
_FX_NAMESPACE = UUID("0c3f7a2e-8d41-4b6a-9e15-5a7d2f9c1b3e")


def funding_account_id(currency: str) -> UUID:
    """The bank's funding account of a currency has a fixed id, so no lookup is needed."""
    return uuid5(_FUNDING_NAMESPACE, require_currency(currency))


def fx_account_id(currency: str) -> UUID:
    """The bank's FX account of a currency, the other side of every conversion leg in it."""
    return uuid5(_FX_NAMESPACE, require_currency(currency))


class AccountStatus(StrEnum):
    ACTIVE = "active"
    FROZEN = "frozen"
    """By an operator: no debit, no credit; its holds can still be voided or expire."""
    CLOSED = "closed"
    """By its owner, empty: no movement ever again; it stays readable with its history."""


class AccountKind(StrEnum):
    CUSTOMER = "customer"
    # The bank's per-currency funding account: the other side of every deposit. It may go
    # negative, which is how money entering the bank shows in the books.
    FUNDING = "funding"
    # The bank's per-currency FX account: a conversion's debit leg pays into the source
    # currency's, its credit leg is paid from the target currency's. Its balance is the
    # bank's position in that currency.
    FX = "fx"


@dataclass(slots=True)
class Account:
    """A balance in minor units. `entry_count` numbers the account's ledger entries 1, 2, ...

    `held` is the sum of the open holds that debit the account; the store derives it from
    the holds themselves when it loads the account (so it cannot drift from them, and an
    expired hold stops counting the instant it expires). `overdraft_limit` is the credit an
    operator granted: how far below zero the balance may go. `available` is what may be
    spent: balance - held + overdraft_limit.
    """

    id: UUID
    owner_id: UUID | None
    currency: str
    balance: int
    created_at: datetime
    kind: AccountKind = AccountKind.CUSTOMER
    entry_count: int = 0
    held: int = 0
    status: AccountStatus = AccountStatus.ACTIVE
    name: str | None = None
    metadata: Metadata = field(default_factory=dict)
    last_entry_at: datetime | None = None
    """When its newest entry was written: a new entry is never dated before it."""
    head_hash: bytes = GENESIS_HASH
    """Its newest entry's `entry_hash`, which the next entry chains from."""
    overdraft_limit: int = 0
    """Set by an operator only (a customer cannot grant itself credit); 0: no overdraft."""
    monitor_count: int = 0
    """How many balance monitors watch it, kept by the store as they come and go: a movement
    reads the monitors of an account that has some, and costs no read for one that has none."""

    @property
    def available(self) -> int:
        return self.balance - self.held + self.overdraft_limit

    @classmethod
    def open(
        cls,
        *,
        owner_id: UUID,
        currency: str,
        now: datetime,
        name: str | None = None,
        metadata: Metadata | None = None,
    ) -> Account:
        return cls(
            id=new_id(),
            owner_id=owner_id,
            currency=require_currency(currency),
            balance=0,
            created_at=now,
            name=normalize_account_name(name),
            metadata=require_metadata(metadata),
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

    @classmethod
    def fx(cls, *, currency: str, now: datetime) -> Account:
        return cls(
            id=fx_account_id(currency),
            owner_id=None,
            currency=require_currency(currency),
            balance=0,
            created_at=now,
            kind=AccountKind.FX,
        )

    def is_owned_by(self, user_id: UUID) -> bool:
        return self.kind is AccountKind.CUSTOMER and self.owner_id == user_id

    def require_open_for_movement(self) -> None:
        """Every debit and credit asks first; a refusal names only what the caller may see."""
        if self.status is AccountStatus.CLOSED:
            raise AccountClosed(f"Account {self.id} is closed.")
        if self.status is AccountStatus.FROZEN:
            raise AccountFrozen(f"Account {self.id} is frozen.")

    def require_open_to_receive(self, *, asked_by: UUID | None) -> None:
        """Every credit asks first. The account's owner hears why it cannot receive; anyone
        else hears one refusal for every reason, naming nothing: whether a stranger's account
        is frozen or closed is not the payer's to learn."""
        if self.status is AccountStatus.ACTIVE:
            return
        if asked_by is not None and self.is_owned_by(asked_by):
            self.require_open_for_movement()
        raise PayeeUnavailable("The payee cannot receive this payment.")

    def require_sequence(self, expected: int | None) -> None:
        """A conditional debit (`If-Match`) applies only to the account as its caller last
        saw it: at `expected` entries, checked once the account is locked. None: no
        condition."""
        if expected is not None and expected != self.entry_count:
            raise PreconditionFailed(
                f"Account {self.id} is at sequence {self.entry_count}, not {expected}.",
                self.entry_count,
            )

    def close(self) -> None:
        self.require_open_for_movement()
        if self.balance != 0 or self.held != 0:
            raise AccountNotEmpty(
                f"Account {self.id} closes only with a zero balance and no open holds."
            )
        self.status = AccountStatus.CLOSED

    def freeze(self) -> bool:
        """Whether it changed: freezing what is frozen is nothing to record."""
        return self._become(AccountStatus.FROZEN)

    def unfreeze(self) -> bool:
        """Whether it changed: unfreezing what is active is nothing to record."""
        return self._become(AccountStatus.ACTIVE)

    def set_overdraft_limit(self, limit: int) -> bool:
        """Whether it changed. A limit below the current debt is allowed: the balance stays
        where it is and every further debit is refused until `available` covers it."""
        if self.kind is not AccountKind.CUSTOMER:
            raise InvalidOverdraftLimit("Only a customer account has an overdraft limit.")
        if self.status is AccountStatus.CLOSED:
            raise AccountClosed(f"Account {self.id} is closed.")
        limit = require_overdraft_limit(limit)
        changed, self.overdraft_limit = self.overdraft_limit != limit, limit
        return changed

    def _become(self, status: AccountStatus) -> bool:
        if self.status is AccountStatus.CLOSED:
            raise AccountClosed(f"Account {self.id} is closed.")
        changed, self.status = self.status is not status, status
        return changed

    def can_pay(self, amount: int) -> bool:
        """The one check of every debit, holds included: TigerBeetle's
        debits_must_not_exceed_credits (pending debits counted) widened by the overdraft
        limit, for customer accounts only: the funding and FX accounts are the bank's side."""
        return self.kind is not AccountKind.CUSTOMER or self.available >= amount

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


def require_overdraft_limit(limit: int) -> int:
    """0 (no overdraft) up to what the books can hold."""
    if type(limit) is not int or not 0 <= limit <= MAX_MINOR_UNITS:
        raise InvalidOverdraftLimit(
            f"An overdraft limit is 0 to {MAX_MINOR_UNITS} minor units (0: no overdraft)."
        )
    return limit


def normalize_account_name(raw: str | None) -> str | None:
    """1 to 80 characters once trimmed, no control characters; None: no name."""
    if raw is None:
        return None
    name = unicodedata.normalize("NFC", raw).strip()
    if any(unicodedata.category(ch) in {"Cc", "Cs"} for ch in name):
        raise InvalidAccountName("An account name cannot contain control characters.")
    if not 1 <= len(name) <= ACCOUNT_NAME_MAX_LENGTH:
        raise InvalidAccountName(
            f"An account name is 1 to {ACCOUNT_NAME_MAX_LENGTH} characters long."
        )
    return name


def require_room_for_account(open_accounts: int, max_open_accounts: int) -> None:
    """A user may hold at most `max_open_accounts` open accounts (active or frozen); closed
    ones do not count. Every account read by a list or a search costs something, so the
    number one user can make others pay for is bounded."""
    if open_accounts >= max_open_accounts:
        raise TooManyAccounts(
            f"A user may have at most {max_open_accounts} open accounts; close one first."
        )
