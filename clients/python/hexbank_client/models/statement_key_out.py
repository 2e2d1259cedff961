from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="StatementKeyOut")


@_attrs_define
class StatementKeyOut:
    """
    Attributes:
        key_id (str): The first 16 hex digits of SHA-256 of the raw public key.
        algorithm (Literal['Ed25519']):
        public_key (str): The 32 raw bytes of the key, base64.
        public_key_pem (str): The same key as PEM (SubjectPublicKeyInfo).
        current (bool): Signs new statements; the others verify older ones.
    """

    key_id: str
    algorithm: Literal["Ed25519"]
    public_key: str
    public_key_pem: str
    current: bool
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        key_id = self.key_id

        algorithm = self.algorithm

        public_key = self.public_key

        public_key_pem = self.public_key_pem

        current = self.current

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "key_id": key_id,
                "algorithm": algorithm,
                "public_key": public_key,
                "public_key_pem": public_key_pem,
                "current": current,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        key_id = d.pop("key_id")

        algorithm = cast(Literal["Ed25519"], d.pop("algorithm"))
        if algorithm != "Ed25519":
            raise ValueError(f"algorithm must match const 'Ed25519', got '{algorithm}'")

        public_key = d.pop("public_key")

        public_key_pem = d.pop("public_key_pem")

        current = d.pop("current")

        statement_key_out = cls(
            key_id=key_id,
            algorithm=algorithm,
            public_key=public_key,
            public_key_pem=public_key_pem,
            current=current,
        )

        statement_key_out.additional_properties = d
        return statement_key_out

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
