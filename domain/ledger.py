"""Double-entry posting: the one place where balances change."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TypeAlias
from uuid import UUID

from domain.account import Account
from domain.chain import TransferEncoding
from domain.conversion import Conversion, target_amount
from domain.errors import (
    AmountTooSmall,
    CurrencyMismatch,
    InsufficientFunds,
    InvalidAmount,
    SameAccountTransfer,
    SameCurrencyConversion,
)
from domain.ids import new_id
from domain.metadata import Metadata
from domain.money import Money
from domain.transfer import LedgerEntry, Transfer, TransferKind, TransferStatus


@dataclass(frozen=True, slots=True)
class Balance:
    """An account's books right after a posting, kept apart from the live `Account` (which
    later postings of the same unit of work move on): what the ledger writes on its row and
    what the posting's events report."""

    account_id: UUID
    balance: int
    sequence: int
    """Its newest entry's sequence: the account's entry count."""
    held: int
    last_entry_at: datetime | None
    head_hash: bytes
    """Its newest entry's hash (the genesis hash before the first)."""
    overdraft_limit: int = 0

    @classmethod
    def of(cls, account: Account) -> Balance:
        return cls(
            account.id,
            account.balance,
            account.entry_count,
            account.held,
            account.last_entry_at,
            account.head_hash,
            account.overdraft_limit,
        )

    @property
    def available(self) -> int:
        return self.balance - self.held + self.overdraft_limit


@dataclass(frozen=True, slots=True)
class Moved:
    """A new posted transfer (a transfer, deposit or withdrawal): the transfer, its two
    entries and both accounts' new balances."""

    transfer: Transfer
    source: Account
    destination: Account
    debit: LedgerEntry
    credit: LedgerEntry
    source_after: Balance
    destination_after: Balance


@dataclass(frozen=True, slots=True)
class Reversed:
    """A new reversal, moving money back like `Moved`, and its `original` with the amount
    now reversed of it."""

    transfer: Transfer
    source: Account
    destination: Account
    debit: LedgerEntry
    credit: LedgerEntry
    source_after: Balance
    destination_after: Balance
    original: Transfer


@dataclass(frozen=True, slots=True)
class HoldPlaced:
    """A new pending hold: the source holds back its amount; no entry, no balance moves."""

    transfer: Transfer
    source: Account
    destination: Account
    source_after: Balance
    destination_after: Balance


@dataclass(frozen=True, slots=True)
class HoldPosted:
    """A pending hold posted (all or part): its new state, the entries under its own id,
    both new balances; what was held is released."""

    transfer: Transfer
    source: Account
    destination: Account
    debit: LedgerEntry
    credit: LedgerEntry
    source_after: Balance
    destination_after: Balance


@dataclass(frozen=True, slots=True)
class HoldVoided:
    """A pending hold released whole: its new state; no entry, no balance moves."""

    transfer: Transfer
    source: Account
    destination: Account
    source_after: Balance
    destination_after: Balance


@dataclass(frozen=True, slots=True)
class HoldExpired:
    """A pending hold whose time ran out, written down: its new state; it has held nothing
    back since it expired, so no account changes."""

    transfer: Transfer
    source: Account
    destination: Account
    source_after: Balance
    destination_after: Balance


@dataclass(frozen=True, slots=True)
class Converted:
    """A new conversion: its two posted legs (payer to the source currency's FX account, the
    target currency's FX account to payee), written together or not at all. It reads as its
    debit leg where one transfer is asked for (a receipt, an idempotency outcome)."""

    conversion: Conversion
    debit_leg: Moved
    credit_leg: Moved

    @property
    def transfer(self) -> Transfer:
        return self.debit_leg.transfer

    @property
    def source(self) -> Account:
        return self.debit_leg.source

    @property
    def destination(self) -> Account:
        return self.credit_leg.destination

    @property
    def source_after(self) -> Balance:
        return self.debit_leg.source_after

    @property
    def destination_after(self) -> Balance:
        return self.credit_leg.destination_after


Posting: TypeAlias = (
    Moved | Reversed | HoldPlaced | HoldPosted | HoldVoided | HoldExpired | Converted
)
"""What one decision changes in the books, for the ledger to write in one go."""


def check_movement(
    source: Account, destination: Account, amount: Money, *, asked_by: UUID | None
) -> None:
    """The rules every movement and every hold meets; nothing changes when one refuses.
    `asked_by`, the user asking, hears why an account of theirs cannot take part."""
    source.require_open_for_movement()
    destination.require_open_to_receive(asked_by=asked_by)
    if source.id == destination.id:
        raise SameAccountTransfer("A transfer needs two different accounts.")
    if amount.amount <= 0:
        raise InvalidAmount("An amount must be greater than zero.")
    if source.currency != amount.currency:
        raise CurrencyMismatch(
            f"Account {source.id} holds {source.currency}, not {amount.currency}."
        )
    if destination.currency != amount.currency:
        # The payer may not own the destination: say nothing of what it holds.
        raise CurrencyMismatch(f"The destination account cannot receive {amount.currency}.")
    if not source.can_pay(amount.amount):
        raise InsufficientFunds(f"Account {source.id} has insufficient funds.")
    if not (source.stays_in_range(-amount.amount) and destination.stays_in_range(amount.amount)):
        raise InvalidAmount("The amount would take a balance past what the books can hold.")


def post_transfer(
    *,
    transfer_id: UUID,
    source: Account,
    destination: Account,
    amount: Money,
    description: str | None,
    now: datetime,
    kind: TransferKind = TransferKind.TRANSFER,
    reversal_of: UUID | None = None,
    created_by: UUID | None = None,
    reference: str | None = None,
    metadata: Metadata | None = None,
    conversion_id: UUID | None = None,
) -> Moved:
    """Check every money rule, then move the balances; nothing changes when a rule refuses."""
    check_movement(source, destination, amount, asked_by=created_by)
    at = entry_time(now, source, destination)
    transfer = Transfer(
        id=transfer_id,
        from_account_id=source.id,
        to_account_id=destination.id,
        amount=amount.amount,
        currency=amount.currency,
        description=description,
        created_at=at,
        kind=kind,
        status=TransferStatus.POSTED,
        posted_amount=amount.amount,
        reversal_of=reversal_of,
        reference=reference,
        metadata=dict(metadata or {}),
        created_by=created_by,
        conversion_id=conversion_id,
    )
    debit, credit = move(transfer, source, destination, amount.amount, at)
    return Moved(transfer, source, destination, debit, credit, *balances(source, destination))


def post_conversion(
    *,
    conversion_id: UUID,
    source: Account,
    destination: Account,
    source_fx: Account,
    target_fx: Account,
    amount: int,
    rate: str,
    description: str | None,
    now: datetime,
    created_by: UUID | None = None,
    reference: str | None = None,
    metadata: Metadata | None = None,
) -> Converted:
    """Both legs checked before either moves, so a refusal of the second leaves the first
    unwritten: the payer pays `amount` into the bank's FX account of its currency; the bank's
    FX account of the payee's currency pays the converted amount, rounded down."""
    if source.currency == destination.currency:
        raise SameCurrencyConversion(
            "Both accounts hold the same currency: send a transfer, not a conversion."
        )
    if amount <= 0:
        raise InvalidAmount("An amount must be greater than zero.")
    converted = target_amount(amount, rate, source.currency, destination.currency)
    if converted <= 0:
        raise AmountTooSmall(
            f"{amount} at {rate} is less than one minor unit of {destination.currency}."
        )
    paid = Money(amount, source.currency)
    received = Money(converted, destination.currency)
    check_movement(source, source_fx, paid, asked_by=created_by)
    check_movement(target_fx, destination, received, asked_by=created_by)
    legs = [
        post_transfer(
            transfer_id=new_id(),
            source=payer,
            destination=payee,
            amount=money,
            description=description,
            now=now,
            kind=TransferKind.CONVERSION,
            created_by=created_by,
            reference=leg_reference,
            metadata=metadata,
            conversion_id=conversion_id,
        )
        for payer, payee, money, leg_reference in (
            (source, source_fx, paid, reference),  # a reference names one transfer: the debit
            (target_fx, destination, received, None),
        )
    ]
    debit_leg, credit_leg = legs
    conversion = Conversion(
        id=conversion_id,
        from_account_id=source.id,
        to_account_id=destination.id,
        source_amount=amount,
        source_currency=source.currency,
        target_amount=converted,
        target_currency=destination.currency,
        rate=rate,
        debit_transfer_id=debit_leg.transfer.id,
        credit_transfer_id=credit_leg.transfer.id,
        created_at=debit_leg.transfer.created_at,
        created_by=created_by,
        reference=reference,
        metadata=dict(metadata or {}),
    )
    return Converted(conversion, debit_leg, credit_leg)


def balances(source: Account, destination: Account) -> tuple[Balance, Balance]:
    """Both accounts' books as they are now, right after a posting moved them."""
    return Balance.of(source), Balance.of(destination)


def entry_time(now: datetime, source: Account, destination: Account) -> datetime:
    """Never before either account's newest entry: an account's entries are in time order
    along their sequence, whatever the clocks of the instances that wrote them say."""
    return max(
        now,
        source.last_entry_at or now,
        destination.last_entry_at or now,
    )


def move(
    transfer: Transfer, source: Account, destination: Account, amount: int, now: datetime
) -> tuple[LedgerEntry, LedgerEntry]:
    """The two entries of a checked movement, with both balances moved, dated `now` (see
    `entry_time`), each chained to its account's head hash, which moves on to it."""
    source.apply(-amount)
    destination.apply(amount)
    source.last_entry_at = destination.last_entry_at = now
    encoding = TransferEncoding(
        transfer_id=transfer.id,
        currency=transfer.currency,
        created_at=now,
        transfer_kind=transfer.kind.value,
    )
    return (
        _chained(source, transfer, -amount, now, encoding),
        _chained(destination, transfer, amount, now, encoding),
    )


def _chained(
    account: Account, transfer: Transfer, amount: int, now: datetime, encoding: TransferEncoding
) -> LedgerEntry:
    """The entry just applied to `account`, hashed here, in the decision that writes it: the
    chain is never computed later, and the account's head hash is what the next one needs."""
    entry_hash = encoding.chain(
        account.head_hash, account.id, account.entry_count, amount, account.balance
    )
    account.head_hash = entry_hash
    return LedgerEntry(
        id=new_id(),
        account_id=account.id,
        transfer_id=transfer.id,
        sequence=account.entry_count,
        amount=amount,
        balance_after=account.balance,
        created_at=now,
        entry_hash=entry_hash,
    )
