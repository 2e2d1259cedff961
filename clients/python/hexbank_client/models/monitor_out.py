from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.monitor_field import MonitorField
from ..models.monitor_op import MonitorOp

T = TypeVar("T", bound="MonitorOut")


@_attrs_define
class MonitorOut:
    """
    Attributes:
        id (UUID):
        account_id (UUID):
        field (MonitorField):
        op (MonitorOp):
        value (int):
        description (None | str):
        created_at (datetime.datetime):
    """

    id: UUID
    account_id: UUID
    field: MonitorField
    op: MonitorOp
    value: int
    description: None | str
    created_at: datetime.datetime
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = str(self.id)

        account_id = str(self.account_id)

        field = self.field.value

        op = self.op.value

        value = self.value

        description: None | str
        description = self.description

        created_at = self.created_at.isoformat()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "account_id": account_id,
                "field": field,
                "op": op,
                "value": value,
                "description": description,
                "created_at": created_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = UUID(d.pop("id"))

        account_id = UUID(d.pop("account_id"))

        field = MonitorField(d.pop("field"))

        op = MonitorOp(d.pop("op"))

        value = d.pop("value")

        def _parse_description(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        description = _parse_description(d.pop("description"))

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        monitor_out = cls(
            id=id,
            account_id=account_id,
            field=field,
            op=op,
            value=value,
            description=description,
            created_at=created_at,
        )

        monitor_out.additional_properties = d
        return monitor_out

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
