from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast
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
        entry_hash (None | str): The hash of the account's entry `sequence` (64 zeros before its first): each event's
            chains from the one before (docs/statements.md). Null in events stored before entries were chained.
        previous_sequence (int | None): The sequence of this account's previous event (its sequence before this change):
            above the last one applied, an event was missed; fetch it from the feed. Null on events written before hexbank
            recorded it.
        balance (int):
        available (int):
    """

    id: UUID
    sequence: int
    entry_hash: None | str
    previous_sequence: int | None
    balance: int
    available: int

    def to_dict(self) -> dict[str, Any]:
        id = str(self.id)

        sequence = self.sequence

        entry_hash: None | str
        entry_hash = self.entry_hash

        previous_sequence: int | None
        previous_sequence = self.previous_sequence

        balance = self.balance

        available = self.available

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "id": id,
                "sequence": sequence,
                "entry_hash": entry_hash,
                "previous_sequence": previous_sequence,
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

        def _parse_entry_hash(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        entry_hash = _parse_entry_hash(d.pop("entry_hash"))

        def _parse_previous_sequence(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        previous_sequence = _parse_previous_sequence(d.pop("previous_sequence"))

        balance = d.pop("balance")

        available = d.pop("available")

        event_account = cls(
            id=id,
            sequence=sequence,
            entry_hash=entry_hash,
            previous_sequence=previous_sequence,
            balance=balance,
            available=available,
        )

        return event_account
