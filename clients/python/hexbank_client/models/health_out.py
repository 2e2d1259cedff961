from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.events_health_out import EventsHealthOut


T = TypeVar("T", bound="HealthOut")


@_attrs_define
class HealthOut:
    """
    Attributes:
        status (str):
        events (EventsHealthOut | None | Unset): The outbox: events waiting for the broker, the oldest's age (s), and
            the broker, stream and subjects a consumer subscribes to.
    """

    status: str
    events: EventsHealthOut | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.events_health_out import EventsHealthOut  # noqa: PLC0415

        status = self.status

        events: dict[str, Any] | None | Unset
        if isinstance(self.events, Unset):
            events = UNSET
        elif isinstance(self.events, EventsHealthOut):
            events = self.events.to_dict()
        else:
            events = self.events

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "status": status,
            }
        )
        if events is not UNSET:
            field_dict["events"] = events

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.events_health_out import EventsHealthOut  # noqa: PLC0415

        d = dict(src_dict)
        status = d.pop("status")

        def _parse_events(data: object) -> EventsHealthOut | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                events_type_0 = EventsHealthOut.from_dict(data)

                return events_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(EventsHealthOut | None | Unset, data)

        events = _parse_events(d.pop("events", UNSET))

        health_out = cls(
            status=status,
            events=events,
        )

        health_out.additional_properties = d
        return health_out

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
