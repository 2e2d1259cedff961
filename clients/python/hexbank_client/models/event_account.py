from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar
from uuid import UUID

from attrs import define as _attrs_define

T = TypeVar("T", bound="EventAccount")


@_attrs_define
class EventAccount:
    """One of your accounts the event touched, right after the change.

    Attributes:
        id (UUID):
        sequence (int): The account's entry count after the change: apply an event only when it is above the last one
            applied.
        balance (int):
        available (int):
    """

    id: UUID
    sequence: int
    balance: int
    available: int

    def to_dict(self) -> dict[str, Any]:
        id = str(self.id)

        sequence = self.sequence

        balance = self.balance

        available = self.available

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "id": id,
                "sequence": sequence,
                "balance": balance,
                "available": available,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = UUID(d.pop("id"))

        sequence = d.pop("sequence")

        balance = d.pop("balance")

        available = d.pop("available")

        event_account = cls(
            id=id,
            sequence=sequence,
            balance=balance,
            available=available,
        )

        return event_account
