"""A transfer as a client asks for it, checked and decided the same way alone or in a batch."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from application.money_movement import FingerprintPart
from application.ports.unit_of_work import UnitOfWork
from domain.account import Account, AccountKind
from domain.errors import (
    AccountNotFound,
    DuplicateReference,
    InvalidHoldTimeout,
    SameAccountTransfer,
)
from domain.holds import place_hold, require_hold_timeout
from domain.ids import new_id
from domain.ledger import Posting, post_transfer
from domain.metadata import Metadata, require_metadata, require_reference
from domain.money import Money
from domain.transfer import normalize_description, require_valid_amount


@dataclass(frozen=True, slots=True)
class TransferRequest:
    from_account_id: UUID
    to_account_id: UUID
    amount: int
    currency: str
    description: str | None = None
    pending: bool = False
    """A hold: reserve the amount now, post or void it later."""
    timeout_seconds: int | None = None
    """For a hold: how long it reserves the money; None: until posted or voided."""
    reference: str | None = None
    metadata: Mapping[str, str] | None = None


@dataclass(frozen=True, slots=True)
class CheckedTransfer:
    """A request whose values passed every check that needs no database."""

    source_id: UUID
    destination_id: UUID
    amount: Money
    description: str | None
    pending: bool
    hold_timeout: timedelta | None
    timeout_seconds: int | None
    reference: str | None
    metadata: Metadata

    def fingerprint(self) -> tuple[FingerprintPart, ...]:
        return (
            self.source_id,
            self.destination_id,
            self.amount.amount,
            self.amount.currency,
            self.description,
            self.pending,
            self.timeout_seconds,
            self.reference,
            metadata_fingerprint(self.metadata),
        )


@dataclass(frozen=True, slots=True)
class Labels:
    """What a client attaches to a movement to find it again: its own reference (unique among
    the transfers the user created) and metadata."""

    reference: str | None
    metadata: Metadata

    @classmethod
    def checked(cls, reference: str | None, metadata: Mapping[str, str] | None) -> Labels:
        return cls(require_reference(reference), require_metadata(metadata))

    def fingerprint(self) -> tuple[FingerprintPart, ...]:
        return (self.reference, metadata_fingerprint(self.metadata))

    async def refuse_if_taken(self, uow: UnitOfWork, user_id: UUID) -> None:
        await refuse_taken_reference(uow, user_id, self.reference)


def metadata_fingerprint(metadata: Metadata) -> tuple[FingerprintPart, ...]:
    """Key order is not part of a request: the same pairs give the same fingerprint."""
    return tuple((key, value) for key, value in sorted(metadata.items()))


def check_transfer(request: TransferRequest, max_amount: int) -> CheckedTransfer:
    amount = Money(require_valid_amount(request.amount, max_amount), request.currency)
    if request.from_account_id == request.to_account_id:
        raise SameAccountTransfer("A transfer needs two different accounts.")
    if request.timeout_seconds is not None and not request.pending:
        raise InvalidHoldTimeout("timeout_seconds is for holds only (pending: true).")
    return CheckedTransfer(
        source_id=request.from_account_id,
        destination_id=request.to_account_id,
        amount=amount,
        description=normalize_description(request.description),
        pending=request.pending,
        hold_timeout=require_hold_timeout(request.timeout_seconds),
        timeout_seconds=request.timeout_seconds,
        reference=require_reference(request.reference),
        metadata=require_metadata(request.metadata),
    )


def decide_transfer(
    checked: CheckedTransfer, locked: Mapping[UUID, Account], user_id: UUID, now: datetime
) -> Posting:
    """The posting (or hold) of a checked request between locked accounts: from one of the
    caller's accounts to any customer account."""
    source = locked.get(checked.source_id)
    if source is None or not source.is_owned_by(user_id):
        raise AccountNotFound(f"Account {checked.source_id} not found.")
    destination = locked.get(checked.destination_id)
    if destination is None or destination.kind is not AccountKind.CUSTOMER:
        raise AccountNotFound(f"Account {checked.destination_id} not found.")
    if checked.pending:
        return place_hold(
            transfer_id=new_id(),
            source=source,
            destination=destination,
            amount=checked.amount,
            description=checked.description,
            now=now,
            timeout=checked.hold_timeout,
            created_by=user_id,
            reference=checked.reference,
            metadata=checked.metadata,
        )
    return post_transfer(
        transfer_id=new_id(),
        source=source,
        destination=destination,
        amount=checked.amount,
        description=checked.description,
        now=now,
        created_by=user_id,
        reference=checked.reference,
        metadata=checked.metadata,
    )


async def refuse_taken_references(
    uow: UnitOfWork, user_id: UUID, references: Sequence[str | None]
) -> list[DuplicateReference | None]:
    """For each reference (None: none given), the refusal it meets: taken by one of the
    user's transfers already, or by an earlier one in the same list."""
    given = [reference for reference in references if reference is not None]
    taken = await uow.ledger.references_taken(user_id, given) if given else set()
    refusals: list[DuplicateReference | None] = []
    for reference in references:
        if reference is not None and reference in taken:
            refusals.append(
                DuplicateReference(f"Reference {reference!r} names another of your transfers.")
            )
            continue
        if reference is not None:
            taken.add(reference)
        refusals.append(None)
    return refusals


async def refuse_taken_reference(uow: UnitOfWork, user_id: UUID, reference: str | None) -> None:
    """Raise `DuplicateReference` when the user named another transfer so already."""
    [refusal] = await refuse_taken_references(uow, user_id, [reference])
    if refusal is not None:
        raise refusal
