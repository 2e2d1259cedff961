from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID

from attrs import define as _attrs_define

from ..models.monitor_event_type import MonitorEventType

if TYPE_CHECKING:
    from ..models.event_account import EventAccount
    from ..models.monitor_event_data import MonitorEventData


T = TypeVar("T", bound="MonitorEvent")


@_attrs_define
class MonitorEvent:
    """
    Attributes:
        id (UUID): Stable forever; the de-duplication key.
        type_ (MonitorEventType):
        occurred_at (datetime.datetime):
        schema_version (int):
        data (MonitorEventData): A monitor's condition became true (`triggered`) or false again (`cleared`) with the
            movement that took the account to `sequence`.
        accounts (list[EventAccount]):
    """

    id: UUID
    type_: MonitorEventType
    occurred_at: datetime.datetime
    schema_version: int
    data: MonitorEventData
    accounts: list[EventAccount]

    def to_dict(self) -> dict[str, Any]:
        id = str(self.id)

        type_ = self.type_.value

        occurred_at = self.occurred_at.isoformat()

        schema_version = self.schema_version

        data = self.data.to_dict()

        accounts = []
        for accounts_item_data in self.accounts:
            accounts_item = accounts_item_data.to_dict()
            accounts.append(accounts_item)

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "id": id,
                "type": type_,
                "occurred_at": occurred_at,
                "schema_version": schema_version,
                "data": data,
                "accounts": accounts,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.event_account import EventAccount  # noqa: PLC0415
        from ..models.monitor_event_data import MonitorEventData  # noqa: PLC0415

        d = dict(src_dict)
        id = UUID(d.pop("id"))

        type_ = MonitorEventType(d.pop("type"))

        occurred_at = datetime.datetime.fromisoformat(d.pop("occurred_at"))

        schema_version = d.pop("schema_version")

        data = MonitorEventData.from_dict(d.pop("data"))

        accounts = []
        _accounts = d.pop("accounts")
        for accounts_item_data in _accounts:
            accounts_item = EventAccount.from_dict(accounts_item_data)

            accounts.append(accounts_item)

        monitor_event = cls(
            id=id,
            type_=type_,
            occurred_at=occurred_at,
            schema_version=schema_version,
            data=data,
            accounts=accounts,
        )

        return monitor_event
