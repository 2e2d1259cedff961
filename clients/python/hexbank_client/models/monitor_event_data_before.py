from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="MonitorEventDataBefore")


@_attrs_define
class MonitorEventDataBefore:
    """The account's figures before the movement.

    Attributes:
        balance (int):
        available (int):
    """

    balance: int
    available: int

    def to_dict(self) -> dict[str, Any]:
        balance = self.balance

        available = self.available

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "balance": balance,
                "available": available,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        balance = d.pop("balance")

        available = d.pop("available")

        monitor_event_data_before = cls(
            balance=balance,
            available=available,
        )

        return monitor_event_data_before
