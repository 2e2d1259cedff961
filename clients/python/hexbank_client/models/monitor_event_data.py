from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID

from attrs import define as _attrs_define

if TYPE_CHECKING:
    from ..models.monitor_event_data_after import MonitorEventDataAfter
    from ..models.monitor_event_data_before import MonitorEventDataBefore
    from ..models.monitor_out import MonitorOut


T = TypeVar("T", bound="MonitorEventData")


@_attrs_define
class MonitorEventData:
    """A monitor's condition became true (`triggered`) or false again (`cleared`) with the movement that took the account
    to `sequence`.

        Attributes:
            monitor (MonitorOut):
            account_id (UUID):
            sequence (int):
            before (MonitorEventDataBefore): The account's figures before the movement.
            after (MonitorEventDataAfter): And after it.
    """

    monitor: MonitorOut
    account_id: UUID
    sequence: int
    before: MonitorEventDataBefore
    after: MonitorEventDataAfter

    def to_dict(self) -> dict[str, Any]:
        monitor = self.monitor.to_dict()

        account_id = str(self.account_id)

        sequence = self.sequence

        before = self.before.to_dict()

        after = self.after.to_dict()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "monitor": monitor,
                "account_id": account_id,
                "sequence": sequence,
                "before": before,
                "after": after,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.monitor_event_data_after import MonitorEventDataAfter  # noqa: PLC0415
        from ..models.monitor_event_data_before import MonitorEventDataBefore  # noqa: PLC0415
        from ..models.monitor_out import MonitorOut  # noqa: PLC0415

        d = dict(src_dict)
        monitor = MonitorOut.from_dict(d.pop("monitor"))

        account_id = UUID(d.pop("account_id"))

        sequence = d.pop("sequence")

        before = MonitorEventDataBefore.from_dict(d.pop("before"))

        after = MonitorEventDataAfter.from_dict(d.pop("after"))

        monitor_event_data = cls(
            monitor=monitor,
            account_id=account_id,
            sequence=sequence,
            before=before,
            after=after,
        )

        return monitor_event_data
