from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.account_status import AccountStatus
from ..models.currency import Currency

if TYPE_CHECKING:
    from ..models.metadata import Metadata


T = TypeVar("T", bound="AccountOut")


@_attrs_define
class AccountOut:
    """
    Attributes:
        id (UUID):
        owner_id (UUID):
        currency (Currency): An active ISO 4217 code, in capitals. Amounts in it are integers in its minor units (EUR
            has 2 decimals: 10000 is 100.00 EUR; JPY none).
        balance (int): The posted balance, in minor units.
        held (int): Reserved by open holds on this account.
        available (int): What may be spent: balance - held + overdraft_limit.
        overdraft_limit (int): How far below zero the balance may go, in minor units; set by an operator only (`hexbank
            set-overdraft`), 0: no overdraft.
        status (AccountStatus):
        name (None | str):
        metadata (Metadata): Your own labels: at most 20 keys of 1 to 40 characters (A-Z a-z 0-9 _ . -), text values of
            at most 500 characters. Returned exactly as given.
        created_at (datetime.datetime):
        sequence (int): Its newest entry's sequence: its number of entries.
        head_hash (str): Its newest entry's `entry_hash`, hex; 64 zeros before its first entry (docs/statements.md).
    """

    id: UUID
    owner_id: UUID
    currency: Currency
    balance: int
    held: int
    available: int
    overdraft_limit: int
    status: AccountStatus
    name: None | str
    metadata: Metadata
    created_at: datetime.datetime
    sequence: int
    head_hash: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = str(self.id)

        owner_id = str(self.owner_id)

        currency = self.currency.value

        balance = self.balance

        held = self.held

        available = self.available

        overdraft_limit = self.overdraft_limit

        status = self.status.value

        name: None | str
        name = self.name

        metadata = self.metadata.to_dict()

        created_at = self.created_at.isoformat()

        sequence = self.sequence

        head_hash = self.head_hash

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "owner_id": owner_id,
                "currency": currency,
                "balance": balance,
                "held": held,
                "available": available,
                "overdraft_limit": overdraft_limit,
                "status": status,
                "name": name,
                "metadata": metadata,
                "created_at": created_at,
                "sequence": sequence,
                "head_hash": head_hash,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.metadata import Metadata  # noqa: PLC0415

        d = dict(src_dict)
        id = UUID(d.pop("id"))

        owner_id = UUID(d.pop("owner_id"))

        currency = Currency(d.pop("currency"))

        balance = d.pop("balance")

        held = d.pop("held")

        available = d.pop("available")

        overdraft_limit = d.pop("overdraft_limit")

        status = AccountStatus(d.pop("status"))

        def _parse_name(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        name = _parse_name(d.pop("name"))

        metadata = Metadata.from_dict(d.pop("metadata"))

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        sequence = d.pop("sequence")

        head_hash = d.pop("head_hash")

        account_out = cls(
            id=id,
            owner_id=owner_id,
            currency=currency,
            balance=balance,
            held=held,
            available=available,
            overdraft_limit=overdraft_limit,
            status=status,
            name=name,
            metadata=metadata,
            created_at=created_at,
            sequence=sequence,
            head_hash=head_hash,
        )

        account_out.additional_properties = d
        return account_out

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
