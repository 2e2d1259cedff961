from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..models.monitor_field import MonitorField
from ..models.monitor_op import MonitorOp
from ..types import UNSET, Unset

T = TypeVar("T", bound="MonitorIn")


@_attrs_define
class MonitorIn:
    """
    Attributes:
        field (MonitorField):
        op (MonitorOp):
        value (int):
        description (None | str | Unset):
    """

    field: MonitorField
    op: MonitorOp
    value: int
    description: None | str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        field = self.field.value

        op = self.op.value

        value = self.value

        description: None | str | Unset
        if isinstance(self.description, Unset):
            description = UNSET
        else:
            description = self.description

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "field": field,
                "op": op,
                "value": value,
            }
        )
        if description is not UNSET:
            field_dict["description"] = description

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        field = MonitorField(d.pop("field"))

        op = MonitorOp(d.pop("op"))

        value = d.pop("value")

        def _parse_description(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        description = _parse_description(d.pop("description", UNSET))

        monitor_in = cls(
            field=field,
            op=op,
            value=value,
            description=description,
        )

        return monitor_in
