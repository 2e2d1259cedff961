from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.account_event import AccountEvent
    from ..models.api_key_event import ApiKeyEvent
    from ..models.conversion_event import ConversionEvent
    from ..models.monitor_event import MonitorEvent
    from ..models.transfer_event import TransferEvent
    from ..models.user_event import UserEvent
    from ..models.webhook_endpoint_event import WebhookEndpointEvent


T = TypeVar("T", bound="EventFeedOut")


@_attrs_define
class EventFeedOut:
    """
    Attributes:
        items (list[AccountEvent | ApiKeyEvent | ConversionEvent | MonitorEvent | TransferEvent | UserEvent |
            WebhookEndpointEvent]): Events, oldest first: id, type, occurred_at, schema_version, data (the resource as the
            API shows it) and accounts (your own accounts it touched, each with sequence, balance and available after the
            change). See docs/events.md.
        next_cursor (str): Always given: poll with it forever and no event is ever missed.
    """

    items: list[
        AccountEvent | ApiKeyEvent | ConversionEvent | MonitorEvent | TransferEvent | UserEvent | WebhookEndpointEvent
    ]
    next_cursor: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.account_event import AccountEvent  # noqa: PLC0415
        from ..models.api_key_event import ApiKeyEvent  # noqa: PLC0415
        from ..models.conversion_event import ConversionEvent  # noqa: PLC0415
        from ..models.transfer_event import TransferEvent  # noqa: PLC0415
        from ..models.user_event import UserEvent  # noqa: PLC0415
        from ..models.webhook_endpoint_event import WebhookEndpointEvent  # noqa: PLC0415

        items = []
        for items_item_data in self.items:
            items_item: dict[str, Any]
            if isinstance(items_item_data, TransferEvent):
                items_item = items_item_data.to_dict()
            elif isinstance(items_item_data, AccountEvent):
                items_item = items_item_data.to_dict()
            elif isinstance(items_item_data, UserEvent):
                items_item = items_item_data.to_dict()
            elif isinstance(items_item_data, ApiKeyEvent):
                items_item = items_item_data.to_dict()
            elif isinstance(items_item_data, WebhookEndpointEvent):
                items_item = items_item_data.to_dict()
            elif isinstance(items_item_data, ConversionEvent):
                items_item = items_item_data.to_dict()
            else:
                items_item = items_item_data.to_dict()

            items.append(items_item)

        next_cursor = self.next_cursor

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "items": items,
                "next_cursor": next_cursor,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.account_event import AccountEvent  # noqa: PLC0415
        from ..models.api_key_event import ApiKeyEvent  # noqa: PLC0415
        from ..models.conversion_event import ConversionEvent  # noqa: PLC0415
        from ..models.monitor_event import MonitorEvent  # noqa: PLC0415
        from ..models.transfer_event import TransferEvent  # noqa: PLC0415
        from ..models.user_event import UserEvent  # noqa: PLC0415
        from ..models.webhook_endpoint_event import WebhookEndpointEvent  # noqa: PLC0415

        d = dict(src_dict)
        items = []
        _items = d.pop("items")
        for items_item_data in _items:

            def _parse_items_item(
                data: object,
            ) -> (
                AccountEvent
                | ApiKeyEvent
                | ConversionEvent
                | MonitorEvent
                | TransferEvent
                | UserEvent
                | WebhookEndpointEvent
            ):
                try:
                    if not isinstance(data, dict):
                        raise TypeError()
                    componentsschemas_event_type_0 = TransferEvent.from_dict(data)

                    return componentsschemas_event_type_0
                except (TypeError, ValueError, AttributeError, KeyError):
                    pass
                try:
                    if not isinstance(data, dict):
                        raise TypeError()
                    componentsschemas_event_type_1 = AccountEvent.from_dict(data)

                    return componentsschemas_event_type_1
                except (TypeError, ValueError, AttributeError, KeyError):
                    pass
                try:
                    if not isinstance(data, dict):
                        raise TypeError()
                    componentsschemas_event_type_2 = UserEvent.from_dict(data)

                    return componentsschemas_event_type_2
                except (TypeError, ValueError, AttributeError, KeyError):
                    pass
                try:
                    if not isinstance(data, dict):
                        raise TypeError()
                    componentsschemas_event_type_3 = ApiKeyEvent.from_dict(data)

                    return componentsschemas_event_type_3
                except (TypeError, ValueError, AttributeError, KeyError):
                    pass
                try:
                    if not isinstance(data, dict):
                        raise TypeError()
                    componentsschemas_event_type_4 = WebhookEndpointEvent.from_dict(data)

                    return componentsschemas_event_type_4
                except (TypeError, ValueError, AttributeError, KeyError):
                    pass
                try:
                    if not isinstance(data, dict):
                        raise TypeError()
                    componentsschemas_event_type_5 = ConversionEvent.from_dict(data)

                    return componentsschemas_event_type_5
                except (TypeError, ValueError, AttributeError, KeyError):
                    pass
                if not isinstance(data, dict):
                    raise TypeError()
                componentsschemas_event_type_6 = MonitorEvent.from_dict(data)

                return componentsschemas_event_type_6

            items_item = _parse_items_item(items_item_data)

            items.append(items_item)

        next_cursor = d.pop("next_cursor")

        event_feed_out = cls(
            items=items,
            next_cursor=next_cursor,
        )

        event_feed_out.additional_properties = d
        return event_feed_out

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
