from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.currency import Currency

if TYPE_CHECKING:
    from ..models.chain_point_out import ChainPointOut
    from ..models.statement_entry_out import StatementEntryOut


T = TypeVar("T", bound="SignedStatementOut")


@_attrs_define
class SignedStatementOut:
    """Every entry of the range, oldest first, between `opening` and `closing`, signed with
    Ed25519: `signature` (base64) covers the file's bytes with `signature` empty
    (docs/statements.md). `hexbank verify-statement FILE` checks it offline.

        Attributes:
            format_ (Literal['hexbank-statement/1']):
            account_id (UUID):
            currency (Currency): An active ISO 4217 code, in capitals. Amounts in it are integers in its minor units (EUR
                has 2 decimals: 10000 is 100.00 EUR; JPY none).
            from_ (datetime.datetime | None): Entries at or after it; null: all.
            to (datetime.datetime | None): Entries before it; null: all, up to `generated_at`.
            generated_at (datetime.datetime):
            opening (ChainPointOut): The account right after one entry: where a statement's chain opens or closes.
            closing (ChainPointOut): The account right after one entry: where a statement's chain opens or closes.
            entries (list[StatementEntryOut]): At most HEXBANK_STATEMENT_MAX_ENTRIES.
            key_id (str): The first 16 hex digits of SHA-256 of the raw public key.
            signature (str): Ed25519 (64 bytes), base64.
    """

    format_: Literal["hexbank-statement/1"]
    account_id: UUID
    currency: Currency
    from_: datetime.datetime | None
    to: datetime.datetime | None
    generated_at: datetime.datetime
    opening: ChainPointOut
    closing: ChainPointOut
    entries: list[StatementEntryOut]
    key_id: str
    signature: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        format_ = self.format_

        account_id = str(self.account_id)

        currency = self.currency.value

        from_: None | str
        if isinstance(self.from_, datetime.datetime):
            from_ = self.from_.isoformat()
        else:
            from_ = self.from_

        to: None | str
        if isinstance(self.to, datetime.datetime):
            to = self.to.isoformat()
        else:
            to = self.to

        generated_at = self.generated_at.isoformat()

        opening = self.opening.to_dict()

        closing = self.closing.to_dict()

        entries = []
        for entries_item_data in self.entries:
            entries_item = entries_item_data.to_dict()
            entries.append(entries_item)

        key_id = self.key_id

        signature = self.signature

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "format": format_,
                "account_id": account_id,
                "currency": currency,
                "from": from_,
                "to": to,
                "generated_at": generated_at,
                "opening": opening,
                "closing": closing,
                "entries": entries,
                "key_id": key_id,
                "signature": signature,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.chain_point_out import ChainPointOut  # noqa: PLC0415
        from ..models.statement_entry_out import StatementEntryOut  # noqa: PLC0415

        d = dict(src_dict)
        format_ = cast(Literal["hexbank-statement/1"], d.pop("format"))
        if format_ != "hexbank-statement/1":
            raise ValueError(f"format must match const 'hexbank-statement/1', got '{format_}'")

        account_id = UUID(d.pop("account_id"))

        currency = Currency(d.pop("currency"))

        def _parse_from_(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                from_type_0 = datetime.datetime.fromisoformat(data)

                return from_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        from_ = _parse_from_(d.pop("from"))

        def _parse_to(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                to_type_0 = datetime.datetime.fromisoformat(data)

                return to_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        to = _parse_to(d.pop("to"))

        generated_at = datetime.datetime.fromisoformat(d.pop("generated_at"))

        opening = ChainPointOut.from_dict(d.pop("opening"))

        closing = ChainPointOut.from_dict(d.pop("closing"))

        entries = []
        _entries = d.pop("entries")
        for entries_item_data in _entries:
            entries_item = StatementEntryOut.from_dict(entries_item_data)

            entries.append(entries_item)

        key_id = d.pop("key_id")

        signature = d.pop("signature")

        signed_statement_out = cls(
            format_=format_,
            account_id=account_id,
            currency=currency,
            from_=from_,
            to=to,
            generated_at=generated_at,
            opening=opening,
            closing=closing,
            entries=entries,
            key_id=key_id,
            signature=signature,
        )

        signed_statement_out.additional_properties = d
        return signed_statement_out

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
