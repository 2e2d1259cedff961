from __future__ import annotations

from collections.abc import Callable, Collection, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from application.events import Event
from domain.conversion import Conversion
from domain.ledger import Posting
from domain.transfer import LedgerEntry, Transfer, TransferKind, TransferStatus


@dataclass(frozen=True, slots=True)
class AccountTotals:
    """Read in one statement with the balance, so the figures agree with each other."""

    balance: int
    total_in: int
    total_out: int
    count_in: int
    count_out: int


@dataclass(frozen=True, slots=True)
class TransferQuery:
    """A page of transfers touching `account_ids` (or, with `owner_id`, any customer account
    of that owner, found by the store), newest first, every filter optional."""

    account_ids: tuple[UUID, ...]
    at: datetime
    """The moment status filters are judged at (a hold past its expiry is expired)."""
    limit: int
    kind: TransferKind | None = None
    status: TransferStatus | None = None
    reference: str | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)
    created_after: datetime | None = None
    created_before: datetime | None = None
    older_than: tuple[datetime, UUID] | None = None
    """Keyset: only transfers strictly before this (created_at, id) in the newest-first order."""
    owner_id: UUID | None = None
    """Instead of `account_ids` (then empty): every customer account of this user."""
    conversion_id: UUID | None = None
    """Only the legs of this conversion."""


@dataclass(frozen=True, slots=True)
class BalanceAt:
    balance: int
    sequence: int
    """The sequence of the last entry at or before the moment asked; 0 before the first."""
    entry_hash: bytes
    """That entry's hash (the genesis hash, 32 zero bytes, before the first)."""


POSTINGS_PER_WRITE = 250
"""Postings one write statement takes at most, with up to twice as many events (one a
posting, more for a reversal or a monitor): the driver encodes a statement's values in one
go, on the event loop (a 1,000-transfer batch's took ~15 ms), so a larger write is several
statements, in order; and a non-atomic batch's postings are written this many at a time,
each write while the next are decided."""

Write = Callable[[], Coroutine[Any, Any, None]]
"""A write prepared and not yet sent: awaiting it writes (`LedgerRepository.prepare_many`)."""


class LedgerRepository(Protocol):
    async def record(self, posting: Posting, events: Sequence[Event] = ()) -> None:
        """Write what the posting changes: the transfer (new, or its new state), the two
        entries and both new balances when money moves, the transfer it amends, and the
        events that report it (into the outbox, in the same statement where the store can)."""
        ...

    async def record_many(self, postings: Sequence[Posting], events: Sequence[Event] = ()) -> None:
        """Write postings decided one after the other in this unit of work, in bulk: the
        store sees the same result as recording them one by one, in order; and their events."""
        ...

    async def prepare_many(
        self, postings: Sequence[Posting], events: Sequence[Event] = ()
    ) -> Write:
        """`record_many` in two steps: what to write is built now, with no I/O, and nothing
        is written; the write returned writes it, once. While it runs, this unit of work
        takes no other call but `prepare_many` (the next part, prepared meanwhile)."""
        ...

    async def get_conversion(self, conversion_id: UUID) -> Conversion | None:
        """A conversion as recorded with its two legs."""
        ...

    async def get_transfer(self, transfer_id: UUID) -> Transfer | None:
        """The transfer as stored (a hold past its expiry may still read `pending`: see
        `Transfer.as_of`)."""
        ...

    async def get_transfers(self, transfer_ids: Collection[UUID]) -> dict[UUID, Transfer]: ...

    async def references_taken(self, user_id: UUID, references: Collection[str]) -> set[str]:
        """Which of `references` name a transfer `user_id` created already. The store also
        guards uniqueness itself: a race lost to a concurrent twin is a `TransientConflict`
        (the retry then sees the twin and refuses properly)."""
        ...

    async def lock_transfer(self, transfer_id: UUID) -> Transfer | None:
        """Load the transfer and hold it until the unit of work ends, so a hold is posted
        or voided once and a transfer's reversals are counted one at a time. Taken before
        any account lock, by everyone, so the two kinds of lock cannot wait on each other."""
        ...

    async def overdue_holds(self, now: datetime, *, limit: int) -> list[Transfer]:
        """Up to `limit` holds still stored as pending whose expiry has passed by `now`,
        soonest expired first. Time already decided they are expired (`Transfer.status_at`);
        the caller writes it down."""
        ...

    async def entries(
        self,
        account_id: UUID,
        *,
        before_sequence: int | None,
        limit: int,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[LedgerEntry]:
        """The account's entries, newest first, below `before_sequence` when given, written
        at or after `since` and before `until` when given."""
        ...

    async def balance_at(self, account_id: UUID, at: datetime) -> BalanceAt:
        """The posted balance after the account's last entry written at or before `at`."""
        ...

    async def search_transfers(self, query: TransferQuery) -> list[Transfer]: ...

    async def totals(self, account_id: UUID) -> AccountTotals:
        """Money in and out of one account, computed by the store, not by loading entries."""
        ...
