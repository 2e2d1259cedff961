from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="EventsHealthOut")


@_attrs_define
class EventsHealthOut:
    """The outbox, and where its events are delivered.

    Attributes:
        backlog (float): Events waiting for the broker.
        oldest_undelivered_s (float): Age of the oldest of them, in seconds.
        nats_url (None | str | Unset): The NATS server events go to; null with HEXBANK_EVENTS=off.
        stream (None | str | Unset): The JetStream stream that keeps them.
        subjects (None | str | Unset): Their subjects, `hexbank.events.<type>`, as one filter.
    """

    backlog: float
    oldest_undelivered_s: float
    nats_url: None | str | Unset = UNSET
    stream: None | str | Unset = UNSET
    subjects: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        backlog = self.backlog

        oldest_undelivered_s = self.oldest_undelivered_s

        nats_url: None | str | Unset
        if isinstance(self.nats_url, Unset):
            nats_url = UNSET
        else:
            nats_url = self.nats_url

        stream: None | str | Unset
        if isinstance(self.stream, Unset):
            stream = UNSET
        else:
            stream = self.stream

        subjects: None | str | Unset
        if isinstance(self.subjects, Unset):
            subjects = UNSET
        else:
            subjects = self.subjects

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "backlog": backlog,
                "oldest_undelivered_s": oldest_undelivered_s,
            }
        )
        if nats_url is not UNSET:
            field_dict["nats_url"] = nats_url
        if stream is not UNSET:
            field_dict["stream"] = stream
        if subjects is not UNSET:
            field_dict["subjects"] = subjects

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        backlog = d.pop("backlog")

        oldest_undelivered_s = d.pop("oldest_undelivered_s")

        def _parse_nats_url(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        nats_url = _parse_nats_url(d.pop("nats_url", UNSET))

        def _parse_stream(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        stream = _parse_stream(d.pop("stream", UNSET))

        def _parse_subjects(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        subjects = _parse_subjects(d.pop("subjects", UNSET))

        events_health_out = cls(
            backlog=backlog,
            oldest_undelivered_s=oldest_undelivered_s,
            nats_url=nats_url,
            stream=stream,
            subjects=subjects,
        )

        events_health_out.additional_properties = d
        return events_health_out

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
