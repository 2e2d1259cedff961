from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.metadata import Metadata


T = TypeVar("T", bound="ConversionIn")


@_attrs_define
class ConversionIn:
    """
    Attributes:
        from_account_id (UUID): One of your accounts: it pays `amount`.
        to_account_id (UUID): Any customer account, of another currency.
        amount (int): In the source account's minor units.
        rate (str): Target per source currency unit, a decimal string (`"1.0845"`): positive, at most 12 significant
            digits, no sign, no exponent; otherwise 422 `invalid-rate`. The caller's: hexbank has no market data.
        description (None | str | Unset):
        reference (None | str | Unset):
        metadata (Metadata | None | Unset):
    """

    from_account_id: UUID
    to_account_id: UUID
    amount: int
    rate: str
    description: None | str | Unset = UNSET
    reference: None | str | Unset = UNSET
    metadata: Metadata | None | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        from ..models.metadata import Metadata  # noqa: PLC0415

        from_account_id = str(self.from_account_id)

        to_account_id = str(self.to_account_id)

        amount = self.amount

        rate = self.rate

        description: None | str | Unset
        if isinstance(self.description, Unset):
            description = UNSET
        else:
            description = self.description

        reference: None | str | Unset
        if isinstance(self.reference, Unset):
            reference = UNSET
        else:
            reference = self.reference

        metadata: dict[str, Any] | None | Unset
        if isinstance(self.metadata, Unset):
            metadata = UNSET
        elif isinstance(self.metadata, Metadata):
            metadata = self.metadata.to_dict()
        else:
            metadata = self.metadata

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "from_account_id": from_account_id,
                "to_account_id": to_account_id,
                "amount": amount,
                "rate": rate,
            }
        )
        if description is not UNSET:
            field_dict["description"] = description
        if reference is not UNSET:
            field_dict["reference"] = reference
        if metadata is not UNSET:
            field_dict["metadata"] = metadata

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.metadata import Metadata  # noqa: PLC0415

        d = dict(src_dict)
        from_account_id = UUID(d.pop("from_account_id"))

        to_account_id = UUID(d.pop("to_account_id"))

        amount = d.pop("amount")

        rate = d.pop("rate")

        def _parse_description(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        description = _parse_description(d.pop("description", UNSET))

        def _parse_reference(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        reference = _parse_reference(d.pop("reference", UNSET))

        def _parse_metadata(data: object) -> Metadata | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                metadata_type_0 = Metadata.from_dict(data)

                return metadata_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(Metadata | None | Unset, data)

        metadata = _parse_metadata(d.pop("metadata", UNSET))

        conversion_in = cls(
            from_account_id=from_account_id,
            to_account_id=to_account_id,
            amount=amount,
            rate=rate,
            description=description,
            reference=reference,
            metadata=metadata,
        )

        return conversion_in
