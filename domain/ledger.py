"""Double-entry posting: the one place where balances change."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID, uuid4

from domain.account import Account
from domain.errors import CurrencyMismatch, InsufficientFunds, InvalidAmount, SameAccountTransfer
from domain.money import Money
from domain.transfer import LedgerEntry, Transfer, TransferKind, TransferStatus


@dataclass(frozen=True, slots=True)
class Posting:
    """What one decision changes in the books, for the ledger to write in one go.

    `transfer` is new, or the new state of an existing one (`replaces` is then its previous
    state: a hold being posted, voided or expired). When money moves there is a debit and a
    credit entry and both accounts carry their new balances. `amends` is another transfer
    changed along with this one: the original of a reversal, with its new reversed amount.
    """

    transfer: Transfer
    source: Account
    destination: Account
    debit: LedgerEntry | None = None
    credit: LedgerEntry | None = None
    replaces: Transfer | None = None
    amends: Transfer | None = None

    @property
    def moves_money(self) -> bool:
        return self.debit is not None


def check_movement(source: Account, destination: Account, amount: Money) -> None:
    """The rules every movement and every hold meets; nothing changes when one refuses."""
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
) -> Posting:
    """Check every money rule, then move the balances; nothing changes when a rule refuses."""
    check_movement(source, destination, amount)
    transfer = Transfer(
        id=transfer_id,
        from_account_id=source.id,
        to_account_id=destination.id,
        amount=amount.amount,
        currency=amount.currency,
        description=description,
        created_at=now,
        kind=kind,
        status=TransferStatus.POSTED,
        posted_amount=amount.amount,
        reversal_of=reversal_of,
    )
    debit, credit = move(transfer, source, destination, amount.amount, now)
    return Posting(transfer, source, destination, debit, credit)


def move(
    transfer: Transfer, source: Account, destination: Account, amount: int, now: datetime
) -> tuple[LedgerEntry, LedgerEntry]:
    """The two entries of a checked movement, with both balances moved."""
    debit_sequence, debit_balance = source.apply(-amount)
    credit_sequence, credit_balance = destination.apply(amount)
    return (
        LedgerEntry(
            id=uuid4(),
            account_id=source.id,
            transfer_id=transfer.id,
            sequence=debit_sequence,
            amount=-amount,
            balance_after=debit_balance,
            created_at=now,
        ),
        LedgerEntry(
            id=uuid4(),
            account_id=destination.id,
            transfer_id=transfer.id,
            sequence=credit_sequence,
            amount=amount,
            balance_after=credit_balance,
            created_at=now,
        ),
    )
