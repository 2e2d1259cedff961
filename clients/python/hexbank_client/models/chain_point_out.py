from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="ChainPointOut")


@_attrs_define
class ChainPointOut:
    """The account right after one entry: where a statement's chain opens or closes.

    Attributes:
        balance (int):
        sequence (int): That entry's sequence; 0 before the account's first.
        hash_ (str): SHA-256, hex.
    """

    balance: int
    sequence: int
    hash_: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        balance = self.balance

        sequence = self.sequence

        hash_ = self.hash_

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "balance": balance,
                "sequence": sequence,
                "hash": hash_,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        balance = d.pop("balance")

        sequence = d.pop("sequence")

        hash_ = d.pop("hash")

        chain_point_out = cls(
            balance=balance,
            sequence=sequence,
            hash_=hash_,
        )

        chain_point_out.additional_properties = d
        return chain_point_out

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
