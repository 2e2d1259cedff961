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


T = TypeVar("T", bound="DepositOut")


@_attrs_define
class DepositOut:
    """
    Attributes:
        id (UUID):
        account_id (UUID):
        amount (int):
        currency (Currency): An active ISO 4217 code, in capitals. Amounts in it are integers in its minor units (EUR
            has 2 decimals: 10000 is 100.00 EUR; JPY none).
        kind (TransferKind):
        status (TransferStatus):
        reference (None | str):
        metadata (Metadata): Your own labels: at most 20 keys of 1 to 40 characters (A-Z a-z 0-9 _ . -), text values of
            at most 500 characters. Returned exactly as given.
        created_at (datetime.datetime):
    """

    id: UUID
    account_id: UUID
    amount: int
    currency: Currency
    kind: TransferKind
    status: TransferStatus
    reference: None | str
    metadata: Metadata
    created_at: datetime.datetime
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = str(self.id)

        account_id = str(self.account_id)

        amount = self.amount

        currency = self.currency.value

        kind = self.kind.value

        status = self.status.value

        reference: None | str
        reference = self.reference

        metadata = self.metadata.to_dict()

        created_at = self.created_at.isoformat()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "account_id": account_id,
                "amount": amount,
                "currency": currency,
                "kind": kind,
                "status": status,
                "reference": reference,
                "metadata": metadata,
                "created_at": created_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.metadata import Metadata  # noqa: PLC0415

        d = dict(src_dict)
        id = UUID(d.pop("id"))

        account_id = UUID(d.pop("account_id"))

        amount = d.pop("amount")

        currency = Currency(d.pop("currency"))

        kind = TransferKind(d.pop("kind"))

        status = TransferStatus(d.pop("status"))

        def _parse_reference(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        reference = _parse_reference(d.pop("reference"))

        metadata = Metadata.from_dict(d.pop("metadata"))

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        deposit_out = cls(
            id=id,
            account_id=account_id,
            amount=amount,
            currency=currency,
            kind=kind,
            status=status,
            reference=reference,
            metadata=metadata,
            created_at=created_at,
        )

        deposit_out.additional_properties = d
        return deposit_out

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
