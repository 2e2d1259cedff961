from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar
from uuid import UUID

from attrs import define as _attrs_define

from ..models.webhook_endpoint_event_data_reason import WebhookEndpointEventDataReason

T = TypeVar("T", bound="WebhookEndpointEventData")


@_attrs_define
class WebhookEndpointEventData:
    """
    Attributes:
        id (UUID):
        url (str):
        reason (WebhookEndpointEventDataReason): gone: it answered 410; failing: every delivery failed for
            HEXBANK_WEBHOOK_RETRY_HOURS.
        disabled_at (datetime.datetime):
    """

    id: UUID
    url: str
    reason: WebhookEndpointEventDataReason
    disabled_at: datetime.datetime

    def to_dict(self) -> dict[str, Any]:
        id = str(self.id)

        url = self.url

        reason = self.reason.value

        disabled_at = self.disabled_at.isoformat()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "id": id,
                "url": url,
                "reason": reason,
                "disabled_at": disabled_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = UUID(d.pop("id"))

        url = d.pop("url")

        reason = WebhookEndpointEventDataReason(d.pop("reason"))

        disabled_at = datetime.datetime.fromisoformat(d.pop("disabled_at"))

        webhook_endpoint_event_data = cls(
            id=id,
            url=url,
            reason=reason,
            disabled_at=disabled_at,
        )

        return webhook_endpoint_event_data
