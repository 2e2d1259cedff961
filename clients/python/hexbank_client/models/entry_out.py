from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="EntryOut")


@_attrs_define
class EntryOut:
    """
    Attributes:
        id (UUID):
        transfer_id (UUID):
        amount (int):
        balance_after (int):
        created_at (datetime.datetime):
        sequence (int): Its place among the account's entries, from 1, no gaps.
        entry_hash (str): SHA-256 of the previous entry's hash and this entry, hex (docs/statements.md).
    """

    id: UUID
    transfer_id: UUID
    amount: int
    balance_after: int
    created_at: datetime.datetime
    sequence: int
    entry_hash: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = str(self.id)

        transfer_id = str(self.transfer_id)

        amount = self.amount

        balance_after = self.balance_after

        created_at = self.created_at.isoformat()

        sequence = self.sequence

        entry_hash = self.entry_hash

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "transfer_id": transfer_id,
                "amount": amount,
                "balance_after": balance_after,
                "created_at": created_at,
                "sequence": sequence,
                "entry_hash": entry_hash,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = UUID(d.pop("id"))

        transfer_id = UUID(d.pop("transfer_id"))

        amount = d.pop("amount")

        balance_after = d.pop("balance_after")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        sequence = d.pop("sequence")

        entry_hash = d.pop("entry_hash")

        entry_out = cls(
            id=id,
            transfer_id=transfer_id,
            amount=amount,
            balance_after=balance_after,
            created_at=created_at,
            sequence=sequence,
            entry_hash=entry_hash,
        )

        entry_out.additional_properties = d
        return entry_out

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
