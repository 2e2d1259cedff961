from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.currency import Currency
from ..models.transfer_kind import TransferKind
from ..models.transfer_status import TransferStatus

if TYPE_CHECKING:
    from ..models.metadata import Metadata


T = TypeVar("T", bound="TransferOut")


@_attrs_define
class TransferOut:
    """
    Attributes:
        id (UUID):
        from_account_id (UUID):
        to_account_id (UUID):
        amount (int):
        currency (Currency): An active ISO 4217 code, in capitals. Amounts in it are integers in its minor units (EUR
            has 2 decimals: 10000 is 100.00 EUR; JPY none).
        description (None | str):
        kind (TransferKind):
        status (TransferStatus):
        expires_at (datetime.datetime | None): When a pending hold expires; null: never.
        posted_amount (int | None): What was posted; null until posted.
        reversed_amount (int): What has been reversed of it so far.
        reversal_of (None | UUID): For a reversal: the transfer it reverses.
        reference (None | str):
        metadata (Metadata): Your own labels: at most 20 keys of 1 to 40 characters (A-Z a-z 0-9 _ . -), text values of
            at most 500 characters. Returned exactly as given.
        conversion_id (None | UUID): For a leg of a currency conversion: the conversion.
        created_at (datetime.datetime):
    """

    id: UUID
    from_account_id: UUID
    to_account_id: UUID
    amount: int
    currency: Currency
    description: None | str
    kind: TransferKind
    status: TransferStatus
    expires_at: datetime.datetime | None
    posted_amount: int | None
    reversed_amount: int
    reversal_of: None | UUID
    reference: None | str
    metadata: Metadata
    conversion_id: None | UUID
    created_at: datetime.datetime
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = str(self.id)

        from_account_id = str(self.from_account_id)

        to_account_id = str(self.to_account_id)

        amount = self.amount

        currency = self.currency.value

        description: None | str
        description = self.description

        kind = self.kind.value

        status = self.status.value

        expires_at: None | str
        if isinstance(self.expires_at, datetime.datetime):
            expires_at = self.expires_at.isoformat()
        else:
            expires_at = self.expires_at

        posted_amount: int | None
        posted_amount = self.posted_amount

        reversed_amount = self.reversed_amount

        reversal_of: None | str
        if isinstance(self.reversal_of, UUID):
            reversal_of = str(self.reversal_of)
        else:
            reversal_of = self.reversal_of

        reference: None | str
        reference = self.reference

        metadata = self.metadata.to_dict()

        conversion_id: None | str
        if isinstance(self.conversion_id, UUID):
            conversion_id = str(self.conversion_id)
        else:
            conversion_id = self.conversion_id

        created_at = self.created_at.isoformat()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "from_account_id": from_account_id,
                "to_account_id": to_account_id,
                "amount": amount,
                "currency": currency,
                "description": description,
                "kind": kind,
                "status": status,
                "expires_at": expires_at,
                "posted_amount": posted_amount,
                "reversed_amount": reversed_amount,
                "reversal_of": reversal_of,
                "reference": reference,
                "metadata": metadata,
                "conversion_id": conversion_id,
                "created_at": created_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.metadata import Metadata  # noqa: PLC0415

        d = dict(src_dict)
        id = UUID(d.pop("id"))

        from_account_id = UUID(d.pop("from_account_id"))

        to_account_id = UUID(d.pop("to_account_id"))

        amount = d.pop("amount")

        currency = Currency(d.pop("currency"))

        def _parse_description(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        description = _parse_description(d.pop("description"))

        kind = TransferKind(d.pop("kind"))

        status = TransferStatus(d.pop("status"))

        def _parse_expires_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                expires_at_type_0 = datetime.datetime.fromisoformat(data)

                return expires_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        expires_at = _parse_expires_at(d.pop("expires_at"))

        def _parse_posted_amount(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        posted_amount = _parse_posted_amount(d.pop("posted_amount"))

        reversed_amount = d.pop("reversed_amount")

        def _parse_reversal_of(data: object) -> None | UUID:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                reversal_of_type_0 = UUID(data)

                return reversal_of_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | UUID, data)

        reversal_of = _parse_reversal_of(d.pop("reversal_of"))

        def _parse_reference(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        reference = _parse_reference(d.pop("reference"))

        metadata = Metadata.from_dict(d.pop("metadata"))

        def _parse_conversion_id(data: object) -> None | UUID:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                conversion_id_type_0 = UUID(data)

                return conversion_id_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | UUID, data)

        conversion_id = _parse_conversion_id(d.pop("conversion_id"))

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        transfer_out = cls(
            id=id,
            from_account_id=from_account_id,
            to_account_id=to_account_id,
            amount=amount,
            currency=currency,
            description=description,
            kind=kind,
            status=status,
            expires_at=expires_at,
            posted_amount=posted_amount,
            reversed_amount=reversed_amount,
            reversal_of=reversal_of,
            reference=reference,
            metadata=metadata,
            conversion_id=conversion_id,
            created_at=created_at,
        )

        transfer_out.additional_properties = d
        return transfer_out

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
