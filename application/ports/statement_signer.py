"""Signing statements so anyone can check them offline, and the public keys to check with."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class StatementSignature:
    key_id: str
    signature: bytes


@dataclass(frozen=True, slots=True)
class StatementKey:
    """A public key statements were or are signed with."""

    key_id: str
    algorithm: str
    public_key: bytes
    """Raw public key bytes (32 for Ed25519)."""
    current: bool
    """Signs new statements; the others are kept so older statements still verify."""


class StatementSigner(Protocol):
    def sign(self, document: bytes) -> StatementSignature:
        """Sign the exact bytes of a statement with the current key."""
        ...

    def public_keys(self) -> list[StatementKey]:
        """The current public key first, then the previous ones still published."""
        ...
