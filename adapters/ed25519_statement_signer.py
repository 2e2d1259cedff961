"""Ed25519 statement signatures (the `cryptography` package). A key's id is the first 16 hex
digits of the SHA-256 of its raw public key, so anyone holding the key can compute it."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Sequence

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from application.ports.statement_signer import StatementKey, StatementSignature, StatementSigner

ALGORITHM = "Ed25519"
_PEM_BLOCK = re.compile(r"-----BEGIN [A-Z ]+-----.+?-----END [A-Z ]+-----", re.DOTALL)
_RAW = serialization.Encoding.Raw, serialization.PublicFormat.Raw


class Ed25519StatementSigner(StatementSigner):
    def __init__(self, private_key: bytes, previous_public_keys: Sequence[bytes] = ()) -> None:
        """`private_key`: its 32 raw bytes; `previous_public_keys`: 32 raw bytes each."""
        self._key = Ed25519PrivateKey.from_private_bytes(private_key)
        current = self._key.public_key().public_bytes(*_RAW)
        self._key_id = key_id(current)
        self._keys = [StatementKey(self._key_id, ALGORITHM, current, True)]
        for public in dict.fromkeys(previous_public_keys):  # each once, in the order given
            if public != current:
                self._keys.append(StatementKey(key_id(public), ALGORITHM, public, False))

    def sign(self, document: bytes) -> StatementSignature:
        return StatementSignature(self._key_id, self._key.sign(document))

    def public_keys(self) -> list[StatementKey]:
        return list(self._keys)


def key_id(public_key: bytes) -> str:
    return hashlib.sha256(public_key).hexdigest()[:16]


def verifies(public_key: bytes, signature: bytes, document: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, document)
    except (InvalidSignature, ValueError):
        return False
    return True


def new_private_key_pem() -> bytes:
    return Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def private_key_bytes(text: str) -> bytes:
    """An Ed25519 private key as PEM (PKCS#8) or as base64 of its 32 raw bytes; ValueError
    when it is neither."""
    text = text.strip()
    if text.startswith("-----BEGIN"):
        try:
            key = serialization.load_pem_private_key(text.encode(), password=None)
        except (TypeError, UnsupportedAlgorithm) as error:  # encrypted, or an unknown kind
            raise ValueError(f"the PEM key cannot be used: {error}") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError("the PEM key is not an Ed25519 private key")
        return key.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
    return _raw32(text, "private")


def public_keys_bytes(text: str) -> list[bytes]:
    """Ed25519 public keys written as PEM blocks, or as base64 of their 32 raw bytes separated
    by commas or whitespace; ValueError on anything else."""
    keys = []
    for block in _PEM_BLOCK.findall(text):
        try:
            key = serialization.load_pem_public_key(block.encode())
        except UnsupportedAlgorithm as error:
            raise ValueError(f"a PEM key cannot be used: {error}") from None
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError("a PEM key is not an Ed25519 public key")
        keys.append(key.public_bytes(*_RAW))
    rest = _PEM_BLOCK.sub(" ", text)
    keys += [_raw32(token, "public") for token in re.split(r"[\s,]+", rest) if token]
    return keys


def public_key_pem(public_key: bytes) -> str:
    return (
        Ed25519PublicKey.from_public_bytes(public_key)
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def _raw32(text: str, kind: str) -> bytes:
    try:
        raw = base64.b64decode(text, validate=True)
    except binascii.Error:
        raise ValueError(f"an Ed25519 {kind} key is PEM or base64 of 32 bytes") from None
    if len(raw) != 32:
        raise ValueError(f"an Ed25519 {kind} key is PEM or base64 of 32 bytes")
    return raw
