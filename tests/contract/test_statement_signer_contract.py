"""The statement signer port, on its one adapter (Ed25519 with the key in memory: it needs no
store and no service, so it is its own fake): what it signs verifies with the first key it
publishes, which it names; the keys it keeps from before a rotation are listed after it."""

from __future__ import annotations

import hashlib

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from adapters.ed25519_statement_signer import Ed25519StatementSigner, verifies
from application.ports.statement_signer import StatementSigner


def raw_private() -> bytes:
    return Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )


def test_a_signature_verifies_with_the_current_key_it_names() -> None:
    signer: StatementSigner = Ed25519StatementSigner(raw_private())
    [current] = signer.public_keys()
    signed = signer.sign(b"a statement")
    assert signed.key_id == current.key_id == hashlib.sha256(current.public_key).hexdigest()[:16]
    assert (current.algorithm, current.current, len(current.public_key)) == ("Ed25519", True, 32)
    assert verifies(current.public_key, signed.signature, b"a statement")
    assert not verifies(current.public_key, signed.signature, b"a statement!")


def test_previous_keys_follow_the_current_one_and_old_signatures_still_verify() -> None:
    old = Ed25519StatementSigner(raw_private())
    before = old.sign(b"signed before the rotation")
    [old_key] = old.public_keys()
    new = Ed25519StatementSigner(raw_private(), [old_key.public_key, old_key.public_key])
    keys = new.public_keys()
    assert [key.current for key in keys] == [True, False]  # listed twice, published once
    assert keys[1] == type(old_key)(old_key.key_id, "Ed25519", old_key.public_key, False)
    assert verifies(keys[1].public_key, before.signature, b"signed before the rotation")
    assert new.sign(b"after").key_id == keys[0].key_id != old_key.key_id
