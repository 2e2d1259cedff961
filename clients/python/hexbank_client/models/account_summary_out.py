from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.currency import Currency

T = TypeVar("T", bound="AccountSummaryOut")


@_attrs_define
class AccountSummaryOut:
    """
    Attributes:
        account_id (UUID):
        currency (Currency): An active ISO 4217 code, in capitals. Amounts in it are integers in its minor units (EUR
            has 2 decimals: 10000 is 100.00 EUR; JPY none).
        balance (int):
        total_in (int):
        total_out (int):
        count_in (int):
        count_out (int):
    """

    account_id: UUID
    currency: Currency
    balance: int
    total_in: int
    total_out: int
    count_in: int
    count_out: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        account_id = str(self.account_id)

        currency = self.currency.value

        balance = self.balance

        total_in = self.total_in

        total_out = self.total_out

        count_in = self.count_in

        count_out = self.count_out

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "account_id": account_id,
                "currency": currency,
                "balance": balance,
                "total_in": total_in,
                "total_out": total_out,
                "count_in": count_in,
                "count_out": count_out,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        account_id = UUID(d.pop("account_id"))

        currency = Currency(d.pop("currency"))

        balance = d.pop("balance")

        total_in = d.pop("total_in")

        total_out = d.pop("total_out")

        count_in = d.pop("count_in")

        count_out = d.pop("count_out")

        account_summary_out = cls(
            account_id=account_id,
            currency=currency,
            balance=balance,
            total_in=total_in,
            total_out=total_out,
            count_in=count_in,
            count_out=count_out,
        )

        account_summary_out.additional_properties = d
        return account_summary_out

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
