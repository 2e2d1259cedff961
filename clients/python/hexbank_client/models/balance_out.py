from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="BalanceOut")


@_attrs_define
class BalanceOut:
    """
    Attributes:
        balance (int): The posted balance after the last entry at or before `at`.
        at (datetime.datetime):
        sequence (int): That entry's sequence; 0 before the first entry.
        entry_hash (str): That entry's hash, hex; 64 zeros before the first entry (docs/statements.md).
    """

    balance: int
    at: datetime.datetime
    sequence: int
    entry_hash: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        balance = self.balance

        at = self.at.isoformat()

        sequence = self.sequence

        entry_hash = self.entry_hash

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "balance": balance,
                "at": at,
                "sequence": sequence,
                "entry_hash": entry_hash,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        balance = d.pop("balance")

        at = datetime.datetime.fromisoformat(d.pop("at"))

        sequence = d.pop("sequence")

        entry_hash = d.pop("entry_hash")

        balance_out = cls(
            balance=balance,
            at=at,
            sequence=sequence,
            entry_hash=entry_hash,
        )

        balance_out.additional_properties = d
        return balance_out

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
