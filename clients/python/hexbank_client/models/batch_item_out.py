from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.problem_out import ProblemOut
    from ..models.transfer_out import TransferOut


T = TypeVar("T", bound="BatchItemOut")


@_attrs_define
class BatchItemOut:
    """
    Attributes:
        index (int):
        status (int): The HTTP status this item would have had on its own.
        transfer (None | TransferOut | Unset):
        problem (None | ProblemOut | Unset): RFC 9457 problem details of a refused item.
    """

    index: int
    status: int
    transfer: None | TransferOut | Unset = UNSET
    problem: None | ProblemOut | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.problem_out import ProblemOut  # noqa: PLC0415
        from ..models.transfer_out import TransferOut  # noqa: PLC0415

        index = self.index

        status = self.status

        transfer: dict[str, Any] | None | Unset
        if isinstance(self.transfer, Unset):
            transfer = UNSET
        elif isinstance(self.transfer, TransferOut):
            transfer = self.transfer.to_dict()
        else:
            transfer = self.transfer

        problem: dict[str, Any] | None | Unset
        if isinstance(self.problem, Unset):
            problem = UNSET
        elif isinstance(self.problem, ProblemOut):
            problem = self.problem.to_dict()
        else:
            problem = self.problem

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "index": index,
                "status": status,
            }
        )
        if transfer is not UNSET:
            field_dict["transfer"] = transfer
        if problem is not UNSET:
            field_dict["problem"] = problem

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.problem_out import ProblemOut  # noqa: PLC0415
        from ..models.transfer_out import TransferOut  # noqa: PLC0415

        d = dict(src_dict)
        index = d.pop("index")

        status = d.pop("status")

        def _parse_transfer(data: object) -> None | TransferOut | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                transfer_type_0 = TransferOut.from_dict(data)

                return transfer_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | TransferOut | Unset, data)

        transfer = _parse_transfer(d.pop("transfer", UNSET))

        def _parse_problem(data: object) -> None | ProblemOut | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                problem_type_0 = ProblemOut.from_dict(data)

                return problem_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | ProblemOut | Unset, data)

        problem = _parse_problem(d.pop("problem", UNSET))

        batch_item_out = cls(
            index=index,
            status=status,
            transfer=transfer,
            problem=problem,
        )

        batch_item_out.additional_properties = d
        return batch_item_out

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
