from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.metadata import Metadata
    from ..models.transfer_out import TransferOut


T = TypeVar("T", bound="ConversionEventData")


@_attrs_define
class ConversionEventData:
    """
    Attributes:
        id (UUID):
        from_account_id (UUID):
        to_account_id (UUID):
        source_amount (int): Paid by the payer, in its minor units.
        source_currency (str):
        target_amount (int): Received by the payee: floor(source_amount x rate x 10^(target exponent - source
            exponent)), rounded down, in favour of the bank.
        target_currency (str):
        rate (str):
        transfer_ids (list[UUID]): The debit leg (payer to the bank's FX account of the source currency), then the
            credit leg (the bank's FX account of the target currency to the payee).
        created_at (datetime.datetime):
        reference (None | str):
        metadata (Metadata): Your own labels: at most 20 keys of 1 to 40 characters (A-Z a-z 0-9 _ . -), text values of
            at most 500 characters. Returned exactly as given.
        transfers (list[TransferOut]): The debit leg, then the credit leg.
    """

    id: UUID
    from_account_id: UUID
    to_account_id: UUID
    source_amount: int
    source_currency: str
    target_amount: int
    target_currency: str
    rate: str
    transfer_ids: list[UUID]
    created_at: datetime.datetime
    reference: None | str
    metadata: Metadata
    transfers: list[TransferOut]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = str(self.id)

        from_account_id = str(self.from_account_id)

        to_account_id = str(self.to_account_id)

        source_amount = self.source_amount

        source_currency = self.source_currency

        target_amount = self.target_amount

        target_currency = self.target_currency

        rate = self.rate

        transfer_ids = []
        for transfer_ids_item_data in self.transfer_ids:
            transfer_ids_item = str(transfer_ids_item_data)
            transfer_ids.append(transfer_ids_item)

        created_at = self.created_at.isoformat()

        reference: None | str
        reference = self.reference

        metadata = self.metadata.to_dict()

        transfers = []
        for transfers_item_data in self.transfers:
            transfers_item = transfers_item_data.to_dict()
            transfers.append(transfers_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "from_account_id": from_account_id,
                "to_account_id": to_account_id,
                "source_amount": source_amount,
                "source_currency": source_currency,
                "target_amount": target_amount,
                "target_currency": target_currency,
                "rate": rate,
                "transfer_ids": transfer_ids,
                "created_at": created_at,
                "reference": reference,
                "metadata": metadata,
                "transfers": transfers,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.metadata import Metadata  # noqa: PLC0415
        from ..models.transfer_out import TransferOut  # noqa: PLC0415

        d = dict(src_dict)
        id = UUID(d.pop("id"))

        from_account_id = UUID(d.pop("from_account_id"))

        to_account_id = UUID(d.pop("to_account_id"))

        source_amount = d.pop("source_amount")

        source_currency = d.pop("source_currency")

        target_amount = d.pop("target_amount")

        target_currency = d.pop("target_currency")

        rate = d.pop("rate")

        transfer_ids = []
        _transfer_ids = d.pop("transfer_ids")
        for transfer_ids_item_data in _transfer_ids:
            transfer_ids_item = UUID(transfer_ids_item_data)

            transfer_ids.append(transfer_ids_item)

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        def _parse_reference(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        reference = _parse_reference(d.pop("reference"))

        metadata = Metadata.from_dict(d.pop("metadata"))

        transfers = []
        _transfers = d.pop("transfers")
        for transfers_item_data in _transfers:
            transfers_item = TransferOut.from_dict(transfers_item_data)

            transfers.append(transfers_item)

        conversion_event_data = cls(
            id=id,
            from_account_id=from_account_id,
            to_account_id=to_account_id,
            source_amount=source_amount,
            source_currency=source_currency,
            target_amount=target_amount,
            target_currency=target_currency,
            rate=rate,
            transfer_ids=transfer_ids,
            created_at=created_at,
            reference=reference,
            metadata=metadata,
            transfers=transfers,
        )

        conversion_event_data.additional_properties = d
        return conversion_event_data

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
