"""Money movements as commands: immutable records of what a caller asked for, checked of
everything that needs no database. The write pipeline runs them; their fields are their
idempotency fingerprint, derived here and nowhere else."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, fields
from datetime import timedelta
from typing import ClassVar
from uuid import UUID

from domain.errors import DomainError
from domain.metadata import Metadata

FingerprintPart = str | int | bool | UUID | None | tuple["FingerprintPart", ...]

Pairs = tuple[tuple[str, str], ...]
"""Metadata as a command holds it: its pairs sorted by key (key order is not part of a
request: the same pairs are the same request)."""


def pairs(metadata: Metadata) -> Pairs:
    return tuple(sorted(metadata.items()))


@dataclass(frozen=True, slots=True)
class MoneyCommand:
    """A money movement asked for. `KIND` names it in its fingerprint."""

    KIND: ClassVar[str]

    def fingerprint_parts(self) -> tuple[FingerprintPart, ...]:
        """Every field, in declaration order: a new field is part of the fingerprint
        without anyone remembering to add it. A condition (`CONDITION`) counts only when
        given, so a request without one keeps the fingerprint it had before conditions."""
        return tuple(
            getattr(self, each.name)
            for each in fields(self)
            if not (each.metadata.get(CONDITION) and getattr(self, each.name) is None)
        )


CONDITION = "condition"
"""Field metadata: an optional precondition, part of the fingerprint only when given."""


def sequence_condition() -> int | None:
    """The debited account's sequence the caller saw (`If-Match`); None: unconditional.

    Part of the idempotency fingerprint: the condition is part of what was asked. A retry
    with the same key and the same `If-Match` replays the first outcome (a success or a
    412) whatever the account's sequence is now; the same key with another `If-Match` is
    another request, refused `idempotency-key-reused`, not answered with an outcome that
    was decided on a different condition."""
    return field(default=None, metadata={CONDITION: True})


@dataclass(frozen=True, slots=True)
class MakeTransfer(MoneyCommand):
    """From one of the caller's accounts to any customer account; `pending`: a hold that
    reserves the amount now, to be posted or voided later (TigerBeetle's pending flag)."""

    KIND: ClassVar[str] = "transfer"
    source_id: UUID
    destination_id: UUID
    amount: int
    currency: str
    description: str | None
    pending: bool
    timeout_seconds: int | None
    """For a hold: how long it reserves the money; None: until posted or voided."""
    reference: str | None
    metadata: Pairs
    expected_sequence: int | None = sequence_condition()

    @property
    def hold_timeout(self) -> timedelta | None:
        return None if self.timeout_seconds is None else timedelta(seconds=self.timeout_seconds)


@dataclass(frozen=True, slots=True)
class MakeDeposit(MoneyCommand):
    """Money into one of the caller's accounts, from the bank's funding account."""

    KIND: ClassVar[str] = "deposit"
    account_id: UUID
    amount: int
    reference: str | None
    metadata: Pairs


@dataclass(frozen=True, slots=True)
class MakeWithdrawal(MoneyCommand):
    """Money out of one of the caller's accounts, back to the funding account."""

    KIND: ClassVar[str] = "withdrawal"
    account_id: UUID
    amount: int
    description: str | None
    reference: str | None
    metadata: Pairs
    expected_sequence: int | None = sequence_condition()


@dataclass(frozen=True, slots=True)
class MakeConversion(MoneyCommand):
    """From one of the caller's accounts to any customer account of another currency, at
    the caller's rate (a checked decimal string), through the bank's FX accounts."""

    KIND: ClassVar[str] = "conversion"
    source_id: UUID
    destination_id: UUID
    amount: int
    """In the source account's minor units."""
    rate: str
    description: str | None
    reference: str | None
    metadata: Pairs
    expected_sequence: int | None = sequence_condition()


@dataclass(frozen=True, slots=True)
class PostPendingTransfer(MoneyCommand):
    """The payer completes a hold, in full (`amount` None) or in part."""

    KIND: ClassVar[str] = "post-hold"
    transfer_id: UUID
    amount: int | None


@dataclass(frozen=True, slots=True)
class VoidPendingTransfer(MoneyCommand):
    """The payer cancels a hold."""

    KIND: ClassVar[str] = "void-hold"
    transfer_id: UUID


@dataclass(frozen=True, slots=True)
class MakeReversal(MoneyCommand):
    """The payee sends back all (`amount` None) or part of a posted transfer."""

    KIND: ClassVar[str] = "reversal"
    transfer_id: UUID
    amount: int | None
    description: str | None
    reference: str | None
    metadata: Pairs


@dataclass(frozen=True, slots=True)
class ExpirePendingTransfer(MoneyCommand):
    """The bank writes down that a hold's time ran out (asked by no user, under no key)."""

    KIND: ClassVar[str] = "expiry"
    transfer_id: UUID


ActsOnTransfer = PostPendingTransfer | VoidPendingTransfer | MakeReversal | ExpirePendingTransfer
"""The commands that change an existing transfer: it is locked before any account."""

BatchItem = MakeTransfer | DomainError
"""One item of a batch: a transfer asked for, or the refusal its values met already."""


def fingerprint(command: MoneyCommand) -> str:
    """The digest that tells a retry of `command` from a different request."""
    return digest((command.KIND, *command.fingerprint_parts()))


def batch_fingerprint(atomic: bool, items: tuple[BatchItem, ...]) -> str:
    """A batch is its atomic flag and its items, in order; an item refused already is its
    refusal (an invalid item changes the request as much as a valid one)."""
    return digest(
        (
            "batch",
            atomic,
            *(
                (item.code, item.detail)
                if isinstance(item, DomainError)
                else item.fingerprint_parts()
                for item in items
            ),
        )
    )


def digest(parts: tuple[FingerprintPart, ...]) -> str:
    """Canonical and typed: JSON keeps `None` (null) apart from the text "None", 1 from "1"
    and true from 1; a UUID is tagged so it never equals the same text given as a string."""
    canonical = json.dumps(_typed(parts), ensure_ascii=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _typed(part: FingerprintPart) -> object:
    if isinstance(part, UUID):
        return {"uuid": str(part)}
    if isinstance(part, bool):
        return {"bool": part}
    if isinstance(part, tuple):
        return [_typed(item) for item in part]
    return part
