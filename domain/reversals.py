"""Reversals: the payee sends back all or part of a posted transfer, as a new transfer."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from uuid import UUID

from domain.account import Account
from domain.errors import ExceedsReversibleAmount, InvalidAmount, NotReversible, TransferNotPending
from domain.ledger import Reversed, post_transfer
from domain.metadata import Metadata
from domain.money import Money
from domain.transfer import Transfer, TransferKind, TransferStatus


def reverse_transfer(
    original: Transfer,
    *,
    reversal_id: UUID,
    payee: Account,
    payer: Account,
    amount: int | None,
    description: str | None,
    now: datetime,
    created_by: UUID | None = None,
    reference: str | None = None,
    metadata: Metadata | None = None,
) -> Reversed:
    """A reversal moves money from the original's destination back to its source; several
    partial ones may follow each other up to what was posted."""
    if original.kind is not TransferKind.TRANSFER:
        raise NotReversible(f"A {original.kind.value} cannot be reversed.")
    status = original.status_at(now)
    if status is TransferStatus.PENDING:
        raise TransferNotPending(f"Transfer {original.id} is still pending: post it or void it.")
    if status is not TransferStatus.POSTED:
        raise NotReversible(f"Transfer {original.id} is {status.value}: nothing moved.")
    remaining = original.reversible_amount
    reversed_now = remaining if amount is None else amount
    if reversed_now <= 0 and amount is not None:
        raise InvalidAmount("An amount must be greater than zero.")
    if reversed_now > remaining or reversed_now <= 0:
        raise ExceedsReversibleAmount(
            f"At most {remaining} of transfer {original.id} can still be reversed."
        )
    moved = post_transfer(
        transfer_id=reversal_id,
        source=payee,
        destination=payer,
        amount=Money(reversed_now, original.currency),
        description=description,
        now=now,
        kind=TransferKind.REVERSAL,
        reversal_of=original.id,
        created_by=created_by,
        reference=reference,
        metadata=metadata,
    )
    amended = replace(original, reversed_amount=original.reversed_amount + reversed_now)
    return Reversed(
        moved.transfer,
        moved.source,
        moved.destination,
        moved.debit,
        moved.credit,
        moved.source_after,
        moved.destination_after,
        original=amended,
    )
