"""Webhook secrets sealed at rest. They must stay readable (every delivery is signed with
one), so they cannot be hashed like API keys: they are encrypted with AES-256-GCM under a key
derived (HKDF-SHA256) from the operator's key, the endpoint's id bound in as associated data.
A copy of the database alone (a dump, a backup, a replica) does not give them away, and a
sealed secret moved to another endpoint's row does not open.

The key is derived on first use: a command that never reads an endpoint needs none."""

from __future__ import annotations

import base64
import os
from collections.abc import Callable
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from application.errors import StorageUnavailable

SEALED = "sealed:v1:"
"""What a sealed secret starts with; a value without it was stored in clear (written by hand,
or before sealing) and is read as it is."""
_NONCE_BYTES = 12
_INFO = b"hexbank webhook endpoint secrets v1"


class SecretSealer:
    def __init__(self, key_material: Callable[[], str]) -> None:
        self._key_material = key_material
        self._aead: AESGCM | None = None

    def _cipher(self) -> AESGCM:
        if self._aead is None:
            key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(
                self._key_material().encode()
            )
            self._aead = AESGCM(key)
        return self._aead

    def seal(self, secret: str, endpoint_id: UUID) -> str:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._cipher().encrypt(nonce, secret.encode(), endpoint_id.bytes)
        return SEALED + base64.urlsafe_b64encode(nonce + sealed).decode()

    def open(self, stored: str, endpoint_id: UUID) -> str:
        if not stored.startswith(SEALED):
            return stored
        raw = base64.urlsafe_b64decode(stored[len(SEALED) :])
        try:
            opened = self._cipher().decrypt(
                raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], endpoint_id.bytes
            )
        except InvalidTag:
            raise StorageUnavailable(
                "A webhook secret cannot be unsealed: HEXBANK_WEBHOOK_SECRETS_KEY (or the JWT "
                "secret it is derived from when unset) is not the one it was sealed with."
            ) from None
        return opened.decode()
