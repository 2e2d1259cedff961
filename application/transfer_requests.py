"""A transfer as a client asks for it, and the command it becomes once its values pass every
check that needs no database: the same alone or as an item of a batch."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from uuid import UUID

from application.commands import MakeTransfer, pairs
from domain.currency import require_currency
from domain.errors import InvalidHoldTimeout, SameAccountTransfer
from domain.holds import require_hold_timeout
from domain.metadata import require_metadata, require_reference
from domain.money import MAX_MINOR_UNITS
from domain.transfer import normalize_description, require_valid_amount


@dataclass(frozen=True, slots=True)
class TransferRequest:
    """A transfer as a client sends it, before any check."""

    from_account_id: UUID
    to_account_id: UUID
    amount: int
    currency: str
    description: str | None = None
    pending: bool = False
    timeout_seconds: int | None = None
    reference: str | None = None
    metadata: Mapping[str, str] | None = None
    expected_sequence: int | None = None
    """`If-Match`: the source's sequence the caller saw; None: unconditional."""


def check_transfer(request: TransferRequest, max_amount: int = MAX_MINOR_UNITS) -> MakeTransfer:
    """The command for a request whose values pass every check that needs no database."""
    amount = require_valid_amount(request.amount, max_amount)
    currency = require_currency(request.currency)
    if request.from_account_id == request.to_account_id:
        raise SameAccountTransfer("A transfer needs two different accounts.")
    if request.timeout_seconds is not None and not request.pending:
        raise InvalidHoldTimeout("timeout_seconds is for holds only (pending: true).")
    description = normalize_description(request.description)
    require_hold_timeout(request.timeout_seconds)
    return MakeTransfer(
        source_id=request.from_account_id,
        destination_id=request.to_account_id,
        amount=amount,
        currency=currency,
        description=description,
        pending=request.pending,
        timeout_seconds=request.timeout_seconds,
        reference=require_reference(request.reference),
        metadata=pairs(require_metadata(request.metadata)),
        expected_sequence=request.expected_sequence,
    )
