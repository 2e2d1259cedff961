"""A conditional debit's expected sequence: checked against the locked account, part of the
idempotency fingerprint only when given."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from uuid import uuid4

import pytest

from application.commands import MakeTransfer, MakeWithdrawal, digest, fingerprint
from domain.account import Account
from domain.errors import DomainError, PreconditionFailed


def test_an_account_refuses_a_sequence_it_is_not_at_and_names_its_own() -> None:
    account = Account.open(owner_id=uuid4(), currency="EUR", now=datetime(2026, 1, 1, tzinfo=UTC))
    account.entry_count = 7
    account.require_sequence(None)
    account.require_sequence(7)
    with pytest.raises(PreconditionFailed) as refused:
        account.require_sequence(6)
    assert refused.value.sequence == 7
    restored = DomainError.restore(refused.value.code, refused.value.detail)
    assert isinstance(restored, PreconditionFailed)
    assert restored.sequence == 7  # a replay tells the sequence first told


def test_a_condition_is_fingerprinted_only_when_given() -> None:
    withdrawal = MakeWithdrawal(uuid4(), 100, None, None, ())
    unconditional = digest(
        ("withdrawal", withdrawal.account_id, 100, None, None, ())
    )  # the fingerprint before conditions existed: keys stored then still replay
    assert fingerprint(withdrawal) == unconditional
    at_three = replace(withdrawal, expected_sequence=3)
    assert len({fingerprint(withdrawal), fingerprint(at_three)}) == 2
    assert fingerprint(at_three) != fingerprint(replace(withdrawal, expected_sequence=4))
    transfer = MakeTransfer(uuid4(), uuid4(), 1, "EUR", None, False, None, None, ())
    assert fingerprint(transfer) != fingerprint(replace(transfer, expected_sequence=0))
