"""What the write pipeline answers a caller: the transfer made (or replayed), one result per
item of a batch, or the refusal that stopped an atomic batch."""

from __future__ import annotations

from dataclasses import dataclass

from domain.errors import DomainError
from domain.transfer import Transfer


@dataclass(frozen=True, slots=True)
class TransferReceipt:
    transfer: Transfer
    replayed: bool = False
    """True when the transfer was made by an earlier request with the same idempotency key."""


@dataclass(frozen=True, slots=True)
class ItemResult:
    """One item of a batch: the transfer it made, or the refusal it met."""

    transfer: Transfer | None = None
    refusal: DomainError | None = None


@dataclass(frozen=True, slots=True)
class BatchReceipt:
    results: tuple[ItemResult, ...]
    replayed: bool = False


class BatchRefused(Exception):
    """An atomic batch stopped at item `index`, refused with `refusal`; nothing moved."""

    def __init__(self, index: int, refusal: DomainError) -> None:
        super().__init__(refusal.detail)
        self.index = index
        self.refusal = refusal
