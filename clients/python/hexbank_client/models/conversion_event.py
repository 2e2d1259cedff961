from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID

from attrs import define as _attrs_define

from ..models.conversion_event_type import ConversionEventType

if TYPE_CHECKING:
    from ..models.conversion_event_data import ConversionEventData
    from ..models.event_account import EventAccount


T = TypeVar("T", bound="ConversionEvent")


@_attrs_define
class ConversionEvent:
    """
    Attributes:
        id (UUID): Stable forever; the de-duplication key.
        type_ (ConversionEventType):
        occurred_at (datetime.datetime):
        schema_version (int):
        data (ConversionEventData):
        accounts (list[EventAccount]):
    """

    id: UUID
    type_: ConversionEventType
    occurred_at: datetime.datetime
    schema_version: int
    data: ConversionEventData
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
        from ..models.conversion_event_data import ConversionEventData  # noqa: PLC0415
        from ..models.event_account import EventAccount  # noqa: PLC0415

        d = dict(src_dict)
        id = UUID(d.pop("id"))

        type_ = ConversionEventType(d.pop("type"))

        occurred_at = datetime.datetime.fromisoformat(d.pop("occurred_at"))

        schema_version = d.pop("schema_version")

        data = ConversionEventData.from_dict(d.pop("data"))

        accounts = []
        _accounts = d.pop("accounts")
        for accounts_item_data in _accounts:
            accounts_item = EventAccount.from_dict(accounts_item_data)

            accounts.append(accounts_item)

        conversion_event = cls(
            id=id,
            type_=type_,
            occurred_at=occurred_at,
            schema_version=schema_version,
            data=data,
            accounts=accounts,
        )

        return conversion_event
