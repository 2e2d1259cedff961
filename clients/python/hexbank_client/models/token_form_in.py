from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="TokenFormIn")


@_attrs_define
class TokenFormIn:
    """OAuth2's password grant (RFC 6749 section 4.3.2), as Swagger UI's Authorize sends it.
    `grant_type` is REQUIRED there; other fields (`client_id`, ...) are ignored, as the RFC
    asks of unknown parameters.

        Attributes:
            grant_type (str):
            username (str):
            password (str):
            scope (str | Unset):  Default: ''.
    """

    grant_type: str
    username: str
    password: str
    scope: str | Unset = ""
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        grant_type = self.grant_type

        username = self.username

        password = self.password

        scope = self.scope

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "grant_type": grant_type,
                "username": username,
                "password": password,
            }
        )
        if scope is not UNSET:
            field_dict["scope"] = scope

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        grant_type = d.pop("grant_type")

        username = d.pop("username")

        password = d.pop("password")

        scope = d.pop("scope", UNSET)

        token_form_in = cls(
            grant_type=grant_type,
            username=username,
            password=password,
            scope=scope,
        )

        token_form_in.additional_properties = d
        return token_form_in

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
