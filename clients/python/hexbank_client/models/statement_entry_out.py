from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.transfer_kind import TransferKind

T = TypeVar("T", bound="StatementEntryOut")


@_attrs_define
class StatementEntryOut:
    """
    Attributes:
        sequence (int):
        transfer_id (UUID):
        transfer_kind (TransferKind):
        amount (int):
        balance_after (int):
        created_at (datetime.datetime): UTC, to the microsecond the hash covers.
        entry_hash (str): SHA-256, hex.
    """

    sequence: int
    transfer_id: UUID
    transfer_kind: TransferKind
    amount: int
    balance_after: int
    created_at: datetime.datetime
    entry_hash: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        sequence = self.sequence

        transfer_id = str(self.transfer_id)

        transfer_kind = self.transfer_kind.value

        amount = self.amount

        balance_after = self.balance_after

        created_at = self.created_at.isoformat()

        entry_hash = self.entry_hash

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "sequence": sequence,
                "transfer_id": transfer_id,
                "transfer_kind": transfer_kind,
                "amount": amount,
                "balance_after": balance_after,
                "created_at": created_at,
                "entry_hash": entry_hash,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        sequence = d.pop("sequence")

        transfer_id = UUID(d.pop("transfer_id"))

        transfer_kind = TransferKind(d.pop("transfer_kind"))

        amount = d.pop("amount")

        balance_after = d.pop("balance_after")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        entry_hash = d.pop("entry_hash")

        statement_entry_out = cls(
            sequence=sequence,
            transfer_id=transfer_id,
            transfer_kind=transfer_kind,
            amount=amount,
            balance_after=balance_after,
            created_at=created_at,
            entry_hash=entry_hash,
        )

        statement_entry_out.additional_properties = d
        return statement_entry_out

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
