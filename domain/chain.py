"""The per-account hash chain: every entry's hash covers the account's previous entry hash and
the entry itself, so no entry of a statement can be changed, removed, added or reordered
without every later hash changing. One definition, shared by the ledger's write path (both
stores), the migration that chained the entries written before it, reconcile and the offline
verifier of statements. The encoding is documented byte by byte in docs/statements.md.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

_sha256 = hashlib.sha256
HASH_SIZE = 32
GENESIS_HASH = bytes(HASH_SIZE)
"""What an account's first entry chains from: 32 zero bytes."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
# Big-endian, signed, no padding: the entry's own fields (account id, sequence, transfer id,
# amount, balance_after), then its transfer's (currency, created_at in UTC microseconds since
# the Unix epoch, the length of the transfer kind), then the kind in ASCII.
_OWN = struct.Struct(">16sq16sqq")
_SHARED = struct.Struct(">3sqB")


class TransferEncoding:
    """The canonical encoding of the entries of one transfer, which share its id, currency,
    time and kind: those are encoded once for both entries of a movement, not once each."""

    __slots__ = ("_shared", "_transfer_id")

    def __init__(
        self, *, transfer_id: UUID, currency: str, created_at: datetime, transfer_kind: str
    ) -> None:
        if created_at.tzinfo is None:
            raise ValueError("an entry's time must be timezone-aware")
        kind = transfer_kind.encode("ascii")
        self._transfer_id = transfer_id.bytes
        self._shared = (
            _SHARED.pack(currency.encode("ascii"), (created_at - _EPOCH) // _MICROSECOND, len(kind))
            + kind
        )

    def encode(self, account_id: UUID, sequence: int, amount: int, balance_after: int) -> bytes:
        """The canonical bytes of one entry of the transfer (docs/statements.md)."""
        return (
            _OWN.pack(account_id.bytes, sequence, self._transfer_id, amount, balance_after)
            + self._shared
        )

    def chain(
        self, previous: bytes, account_id: UUID, sequence: int, amount: int, balance_after: int
    ) -> bytes:
        """`chain_hash(previous, self.encode(...))`."""
        return _sha256(previous + self.encode(account_id, sequence, amount, balance_after)).digest()


def encode_entry(
    *,
    account_id: UUID,
    sequence: int,
    transfer_id: UUID,
    amount: int,
    balance_after: int,
    currency: str,
    created_at: datetime,
    transfer_kind: str,
) -> bytes:
    """The canonical bytes of one entry (docs/statements.md): fixed-width fields, then the
    transfer kind in ASCII after its one-byte length."""
    return TransferEncoding(
        transfer_id=transfer_id,
        currency=currency,
        created_at=created_at,
        transfer_kind=transfer_kind,
    ).encode(account_id, sequence, amount, balance_after)


def chain_hash(previous: bytes, encoded_entry: bytes) -> bytes:
    """SHA-256(previous entry hash || canonical encoding of the entry)."""
    return _sha256(previous + encoded_entry).digest()


@dataclass(frozen=True, slots=True)
class ChainedEntry:
    """What the chain covers of one entry, as a statement or a store reads it back, with the
    hash that was stored for it."""

    account_id: UUID
    sequence: int
    transfer_id: UUID
    amount: int
    balance_after: int
    currency: str
    created_at: datetime
    transfer_kind: str
    entry_hash: bytes

    def encoded(self) -> bytes:
        return encode_entry(
            account_id=self.account_id,
            sequence=self.sequence,
            transfer_id=self.transfer_id,
            amount=self.amount,
            balance_after=self.balance_after,
            currency=self.currency,
            created_at=self.created_at,
            transfer_kind=self.transfer_kind,
        )


@dataclass(frozen=True, slots=True)
class ChainBreak:
    """The first entry where a chain does not hold, and why."""

    sequence: int
    reason: str


@dataclass(frozen=True, slots=True)
class ChainStart:
    """Where a run of entries picks the chain up: the entry before it (0 and the genesis
    hash from an account's first entry)."""

    balance: int = 0
    sequence: int = 0
    hash: bytes = GENESIS_HASH


class ChainVerifier:
    """Checks one account's entries as they come, in sequence order, from `start`: sequences
    contiguous, each balance_after the previous balance plus its amount, each hash the chain
    of the one before. Fed one entry at a time, so a long history is never held whole."""

    def __init__(self, start: ChainStart | None = None) -> None:
        start = start or ChainStart()
        self.balance, self.sequence, self.hash = start.balance, start.sequence, start.hash

    def check(self, entry: ChainedEntry) -> ChainBreak | None:
        """None: the entry extends the chain (which moves on to it); else why it does not."""
        due = self.sequence + 1
        if entry.sequence != due:
            return ChainBreak(entry.sequence, f"sequence {entry.sequence} where {due} was due")
        balance = self.balance + entry.amount
        if entry.balance_after != balance:
            return ChainBreak(
                entry.sequence,
                f"balance_after {entry.balance_after} is not the previous balance plus the"
                f" amount ({balance})",
            )
        expected = chain_hash(self.hash, entry.encoded())
        if entry.entry_hash != expected:
            return ChainBreak(
                entry.sequence,
                f"entry_hash {entry.entry_hash.hex()} is not the chain's {expected.hex()}",
            )
        self.balance, self.sequence, self.hash = balance, due, expected
        return None

    def check_head(self, head_hash: bytes, entry_count: int) -> ChainBreak | None:
        """After the last entry: the account row names the chain's end as its head."""
        if entry_count != self.sequence or head_hash != self.hash:
            return ChainBreak(
                entry_count,
                f"the account's head (sequence {entry_count}, hash {head_hash.hex()}) is not"
                f" its newest entry (sequence {self.sequence}, hash {self.hash.hex()})",
            )
        return None


def first_break(start: ChainStart, entries: Iterable[ChainedEntry]) -> ChainBreak | None:
    """The first entry of a run of one account's entries where the chain does not hold;
    None: it holds."""
    verifier = ChainVerifier(start)
    for entry in entries:
        found = verifier.check(entry)
        if found is not None:
            return found
    return None
