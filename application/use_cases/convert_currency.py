from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from uuid import UUID

from application.commands import MakeConversion, pairs
from application.ports.unit_of_work import UnitOfWorkFactory
from application.teller import Teller
from domain.conversion import Conversion, require_rate
from domain.errors import ConversionNotFound
from domain.metadata import require_metadata, require_reference
from domain.money import MAX_MINOR_UNITS
from domain.transfer import normalize_description, require_valid_amount


@dataclass(frozen=True, slots=True)
class ConversionRequest:
    """A conversion as a client sends it, before any check. `amount` is in the source
    account's minor units; `rate` a decimal string (the caller's: hexbank has no market
    data)."""

    from_account_id: UUID
    to_account_id: UUID
    amount: int
    rate: str
    description: str | None = None
    reference: str | None = None
    metadata: Mapping[str, str] | None = None
    expected_sequence: int | None = None
    """`If-Match`: the source's sequence the caller saw; None: unconditional."""


@dataclass(frozen=True, slots=True)
class ConversionReceipt:
    conversion: Conversion
    replayed: bool = False


class ConvertCurrency:
    """Move money from one of the caller's accounts to a customer account of another
    currency, at the caller's rate, rounded down: a command of the write pipeline whose two
    legs are written in one unit of work, or not at all."""

    def __init__(
        self, teller: Teller, uow_factory: UnitOfWorkFactory, max_amount: int = MAX_MINOR_UNITS
    ) -> None:
        self._teller = teller
        self._uow_factory = uow_factory
        self._max_amount = max_amount

    async def __call__(
        self, user_id: UUID, request: ConversionRequest, idempotency_key: str | None = None
    ) -> ConversionReceipt:
        command = MakeConversion(
            source_id=request.from_account_id,
            destination_id=request.to_account_id,
            amount=require_valid_amount(request.amount, self._max_amount),
            rate=require_rate(request.rate),
            description=normalize_description(request.description),
            reference=require_reference(request.reference),
            metadata=pairs(require_metadata(request.metadata)),
            expected_sequence=request.expected_sequence,
        )
        receipt = await self._teller.move(command, user_id=user_id, idempotency_key=idempotency_key)
        # The receipt is the debit leg (also when replayed): the conversion is read back.
        conversion_id = receipt.transfer.conversion_id
        async with self._uow_factory() as uow:
            conversion = (
                None if conversion_id is None else await uow.ledger.get_conversion(conversion_id)
            )
        if conversion is None:  # a leg names a conversion written with it: a damaged store
            raise ConversionNotFound("The conversion of this request is not found.")
        return ConversionReceipt(conversion, replayed=receipt.replayed)


class GetConversion:
    """A conversion, for the owner of either side only; to anyone else it does not exist."""

    def __init__(self, uow_factory: UnitOfWorkFactory) -> None:
        self._uow_factory = uow_factory

    async def __call__(self, user_id: UUID, conversion_id: UUID) -> Conversion:
        async with self._uow_factory() as uow:
            conversion = await uow.ledger.get_conversion(conversion_id)
            if conversion is not None:
                owned = await uow.accounts.owned_among(
                    user_id, (conversion.from_account_id, conversion.to_account_id)
                )
                if owned:
                    return conversion
        raise ConversionNotFound(f"Conversion {conversion_id} not found.")
