from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.transfer_in import TransferIn


T = TypeVar("T", bound="BatchIn")


@_attrs_define
class BatchIn:
    """
    Attributes:
        transfers (list[TransferIn]):
        atomic (bool | Unset): All or nothing: the first refusal refuses the batch. Default: False.
    """

    transfers: list[TransferIn]
    atomic: bool | Unset = False

    def to_dict(self) -> dict[str, Any]:
        transfers = []
        for transfers_item_data in self.transfers:
            transfers_item = transfers_item_data.to_dict()
            transfers.append(transfers_item)

        atomic = self.atomic

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "transfers": transfers,
            }
        )
        if atomic is not UNSET:
            field_dict["atomic"] = atomic

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.transfer_in import TransferIn  # noqa: PLC0415

        d = dict(src_dict)
        transfers = []
        _transfers = d.pop("transfers")
        for transfers_item_data in _transfers:
            transfers_item = TransferIn.from_dict(transfers_item_data)

            transfers.append(transfers_item)

        atomic = d.pop("atomic", UNSET)

        batch_in = cls(
            transfers=transfers,
            atomic=atomic,
        )

        return batch_in
