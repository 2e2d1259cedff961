from __future__ import annotations

import functools
import math
from collections.abc import AsyncIterator, Callable, Collection, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar
from uuid import UUID

from sqlalchemy import (
    ARRAY,
    BigInteger,
    DateTime,
    Integer,
    LargeBinary,
    Text,
    Uuid,
    and_,
    bindparam,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    true,
    tuple_,
    union,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import TextClause

from adapters.sqlalchemy.errors import constraint_name
from adapters.sqlalchemy.rows import (
    EVENTS_INSERT,
    EVENTS_TYPES,
    TRANSFER_FIELDS,
    conversion_from_row,
    conversion_values,
    event_values,
    transfer_array_types,
    transfer_columns,
    transfer_from_row,
    unnest_transfers,
)
from adapters.sqlalchemy.tables import (
    accounts,
    ledger_entries,
    sum_as_bigint,
    transfers,
    written_in,
)
from adapters.sqlalchemy.tables import (
    conversions as conversions_table,
)
from application.errors import TransientConflict
from application.events import Event
from application.ports.ledger import (
    POSTINGS_PER_WRITE,
    AccountTotals,
    BalanceAt,
    LedgerRepository,
    TransferQuery,
    Write,
)
from application.turns import ITEMS_PER_TURN, chunks_in_turns, take_turn
from domain.account import AccountKind
from domain.chain import GENESIS_HASH
from domain.conversion import Conversion
from domain.errors import AccountNotFound
from domain.ledger import (
    Balance,
    Converted,
    HoldExpired,
    HoldPlaced,
    HoldPosted,
    HoldVoided,
    Moved,
    Posting,
    Reversed,
)
from domain.transfer import LedgerEntry, Transfer, TransferStatus


def _statement(*constant_parts: str) -> TextClause:
    """SQL joined from the constant fragments of this module, never from input: every value
    travels as a bound parameter."""
    return text("".join(constant_parts))


def _array(name: str, of: Any) -> Any:
    return bindparam(name, type_=ARRAY(of))


# Everything postings change, in one statement whatever their number (arrays unnested by the
# server, not a row per round trip): the new transfers, the new state of existing ones, every
# entry, the events and every account's final balance. Foreign keys are checked at the end of
# the statement, so entries may name the transfers it inserts.
_RECORD = _statement(
    "WITH new_transfers AS (INSERT INTO transfers (",
    ", ".join(TRANSFER_FIELDS),
    ") SELECT ",
    ", ".join(f"{name}::jsonb" if name == "metadata" else name for name in TRANSFER_FIELDS),
    " FROM ",
    unnest_transfers("n_"),
    "), changed AS (UPDATE transfers SET status = c.status, posted_amount = c.posted_amount,"
    " reversed_amount = c.reversed_amount"
    " FROM unnest(:c_ids, :c_statuses, :c_posted_amounts, :c_reversed_amounts)"
    " AS c (id, status, posted_amount, reversed_amount) WHERE transfers.id = c.id), "
    "new_entries AS (INSERT INTO ledger_entries"
    " (id, account_id, transfer_id, sequence, amount, balance_after, created_at, entry_hash)"
    " SELECT * FROM unnest(:entry_ids, :entry_account_ids, :entry_transfer_ids,"
    " :entry_sequences, :entry_amounts, :entry_balances, :entry_created_ats,"
    " :entry_hashes)), "
    "new_events AS (",
    EVENTS_INSERT,
    ") UPDATE accounts SET balance = moved.balance, entry_count = moved.entry_count,"
    " last_entry_at = moved.last_entry_at, head_hash = moved.head_hash,"
    # Only shrinks: a repaid debt is no longer allowed beyond a lowered limit (0013).
    " debt_above_limit = LEAST(accounts.debt_above_limit,"
    " GREATEST(0, -moved.balance - accounts.overdraft_limit))"
    " FROM unnest(:account_ids, :balances, :entry_counts, :last_entry_ats, :head_hashes)"
    " AS moved (id, balance, entry_count, last_entry_at, head_hash)"
    " WHERE accounts.id = moved.id",
).bindparams(
    *transfer_array_types("n_"),
    _array("c_ids", Uuid),
    _array("c_statuses", Text),
    _array("c_posted_amounts", BigInteger),
    _array("c_reversed_amounts", BigInteger),
    _array("entry_ids", Uuid),
    _array("entry_account_ids", Uuid),
    _array("entry_transfer_ids", Uuid),
    _array("entry_sequences", BigInteger),
    _array("entry_amounts", BigInteger),
    _array("entry_balances", BigInteger),
    _array("entry_created_ats", DateTime(timezone=True)),
    _array("entry_hashes", LargeBinary),
    *EVENTS_TYPES,
    _array("account_ids", Uuid),
    _array("balances", BigInteger),
    _array("entry_counts", BigInteger),
    _array("last_entry_ats", DateTime(timezone=True)),
    _array("head_hashes", LargeBinary),
)


Row = TypeVar("Row")


async def _columns_in_turns(
    columns: Callable[[Sequence[Row]], dict[str, list[Any]]], rows: Sequence[Row]
) -> dict[str, list[Any]]:
    """`columns(rows)`; past a turn's worth of rows, a turn's worth at a time, each after a
    turn given to other requests: a batch's rows are the costliest part of its statement."""
    parts = await chunks_in_turns(lambda _, chunk: columns(chunk), rows)
    if not parts:
        return columns(rows)
    for part in parts[1:]:
        for name, column in part.items():
            parts[0][name] += column
    return parts[0]


async def _record_statement(
    postings: Sequence[Posting], events: Sequence[Event]
) -> tuple[dict[str, Any], bool]:
    """The values of one `_RECORD` (postings in order after any written before them: an
    account's balance is set to what its last posting here leaves), and whether it is large
    enough to take a turn before the driver encodes it."""
    new, values = _record_values(postings)
    values |= await _columns_in_turns(_new_transfer_columns, new)
    values |= await _columns_in_turns(event_values, events)
    return values, len(postings) + len(events) > ITEMS_PER_TURN


def _new_transfer_columns(transfers: Sequence[Transfer]) -> dict[str, list[Any]]:
    return transfer_columns(transfers, "n_")


def _record_values(postings: Sequence[Posting]) -> tuple[list[Transfer], dict[str, Any]]:
    """The postings folded into what the store ends with: each transfer's final state (new
    ones, returned to be inserted so; existing ones updated once), the entries in order, and
    each account's balance after the last posting that moved it."""
    new: dict[UUID, Transfer] = {}
    changed: dict[UUID, Transfer] = {}
    moved: list[Moved | Reversed | HoldPosted] = []

    def change(transfer: Transfer) -> None:
        (new if transfer.id in new else changed)[transfer.id] = transfer

    for posting in postings:
        match posting:
            case Moved():
                new[posting.transfer.id] = posting.transfer
                moved.append(posting)
            case HoldPlaced():
                new[posting.transfer.id] = posting.transfer
            case Reversed(original=original):
                new[posting.transfer.id] = posting.transfer
                change(original)
                moved.append(posting)
            case HoldPosted():
                change(posting.transfer)
                moved.append(posting)
            case HoldVoided() | HoldExpired():
                change(posting.transfer)
            case Converted(debit_leg=debit_leg, credit_leg=credit_leg):
                for leg in (debit_leg, credit_leg):
                    new[leg.transfer.id] = leg.transfer
                    moved.append(leg)
    entries = [entry for posting in moved for entry in (posting.debit, posting.credit)]
    final: dict[UUID, Balance] = {}
    for posting in moved:  # in order: an account's last posting leaves its balance
        final[posting.source_after.account_id] = posting.source_after
        final[posting.destination_after.account_id] = posting.destination_after
    updated = list(changed.values())
    return list(new.values()), {
        "c_ids": [t.id for t in updated],
        "c_statuses": [t.status.value for t in updated],
        "c_posted_amounts": [t.posted_amount for t in updated],
        "c_reversed_amounts": [t.reversed_amount for t in updated],
        "entry_ids": [e.id for e in entries],
        "entry_account_ids": [e.account_id for e in entries],
        "entry_transfer_ids": [e.transfer_id for e in entries],
        "entry_sequences": [e.sequence for e in entries],
        "entry_amounts": [e.amount for e in entries],
        "entry_balances": [e.balance_after for e in entries],
        "entry_created_ats": [e.created_at for e in entries],
        "entry_hashes": [e.entry_hash for e in entries],
        "account_ids": list(final),
        "balances": [b.balance for b in final.values()],
        "entry_counts": [b.sequence for b in final.values()],
        "last_entry_ats": [b.last_entry_at for b in final.values()],
        "head_hashes": [b.head_hash for b in final.values()],
    }


def _entry(row: Any) -> LedgerEntry:
    return LedgerEntry(
        id=row.id,
        account_id=row.account_id,
        transfer_id=row.transfer_id,
        sequence=row.sequence,
        amount=row.amount,
        balance_after=row.balance_after,
        created_at=row.created_at,
        entry_hash=bytes(row.entry_hash),
    )


_TRANSFER = select(transfers).where(transfers.c.id == bindparam("transfer_id"))
_CONVERSION = select(conversions_table).where(conversions_table.c.id == bindparam("conversion_id"))
_TRANSFERS = select(transfers).where(transfers.c.id == _array("transfer_ids", Uuid).any_())
# NO KEY UPDATE: the lock a status change needs, and no more, so inserting rows that
# reference the transfer (its entries) is not blocked by it.
_LOCK_TRANSFER = _TRANSFER.with_for_update(key_share=True)  # FOR NO KEY UPDATE
_OVERDUE_HOLDS = (
    select(transfers)
    .where(
        transfers.c.status == written_in(TransferStatus.PENDING.value),
        transfers.c.expires_at <= bindparam("now", type_=DateTime(timezone=True)),
    )
    .order_by(transfers.c.expires_at, transfers.c.id)
    .limit(bindparam("limit"))
)
_NEWEST = 2**63 - 1
_ENTRIES = (
    select(ledger_entries)
    .where(
        ledger_entries.c.account_id == bindparam("account_id"),
        ledger_entries.c.sequence < bindparam("before_sequence"),
    )
    .order_by(ledger_entries.c.sequence.desc())
    .limit(bindparam("limit"))
)
_ENTRIES_BETWEEN = _ENTRIES.where(
    ledger_entries.c.created_at >= bindparam("since", type_=DateTime(timezone=True)),
    ledger_entries.c.created_at < bindparam("until", type_=DateTime(timezone=True)),
)
_BALANCE_AT = (
    select(ledger_entries.c.balance_after, ledger_entries.c.sequence, ledger_entries.c.entry_hash)
    .where(
        ledger_entries.c.account_id == bindparam("account_id"),
        ledger_entries.c.created_at <= bindparam("at", type_=DateTime(timezone=True)),
    )
    .order_by(ledger_entries.c.created_at.desc(), ledger_entries.c.sequence.desc())
    .limit(1)
)
_REFERENCES_TAKEN = select(transfers.c.reference).where(
    transfers.c.created_by == bindparam("user_id"),
    transfers.c.reference == _array("references", Text).any_(),
)
_REFERENCE_UNIQUE = "uq_transfers_created_by_reference"
# Far past and far future for an open window: PostgreSQL's timestamptz takes both.
_SINCE_EVER = datetime(1, 1, 2, tzinfo=UTC)
_UNTIL_EVER = datetime(9999, 12, 30, tzinfo=UTC)
_amount = ledger_entries.c.amount
_TOTALS = (
    select(
        accounts.c.balance,
        sum_as_bigint(_amount, _amount > 0).label("total_in"),
        sum_as_bigint(-_amount, _amount < 0).label("total_out"),
        func.count().filter(_amount > 0).label("count_in"),
        func.count().filter(_amount < 0).label("count_out"),
    )
    .select_from(accounts.outerjoin(ledger_entries))
    .where(accounts.c.id == bindparam("account_id"))
    .group_by(accounts.c.id)
)


class SqlAlchemyLedgerRepository(LedgerRepository):
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def record(self, posting: Posting, events: Sequence[Event] = ()) -> None:
        write = await self.prepare_many((posting,), events)
        await write()

    async def record_many(self, postings: Sequence[Posting], events: Sequence[Event] = ()) -> None:
        write = await self.prepare_many(postings, events)
        await write()

    async def prepare_many(
        self, postings: Sequence[Posting], events: Sequence[Event] = ()
    ) -> Write:
        """Every posting and event in one statement, one round trip (more than
        POSTINGS_PER_WRITE in a few, in order); conversions, which name their legs, in one
        more after them. Each statement's values are built now, in turns."""
        parts = max(
            math.ceil(len(postings) / POSTINGS_PER_WRITE),
            math.ceil(len(events) / (2 * POSTINGS_PER_WRITE)),
        )
        postings_each = max(1, math.ceil(len(postings) / max(1, parts)))
        events_each = max(1, math.ceil(len(events) / max(1, parts)))
        statements = [
            await _record_statement(
                postings[part * postings_each : (part + 1) * postings_each],
                events[part * events_each : (part + 1) * events_each],
            )
            for part in range(parts)
        ]
        conversions = [
            conversion_values(p.conversion) for p in postings if isinstance(p, Converted)
        ]

        async def write() -> None:
            for values, large in statements:
                if large:
                    await take_turn()  # the driver encodes the statement in one go
                async with _reference_race_is_transient():
                    await self._connection.execute(_RECORD, values)
            if conversions:
                await self._connection.execute(insert(conversions_table), conversions)

        return write

    async def get_conversion(self, conversion_id: UUID) -> Conversion | None:
        row = (
            await self._connection.execute(_CONVERSION, {"conversion_id": conversion_id})
        ).first()
        return None if row is None else conversion_from_row(row)

    async def get_transfer(self, transfer_id: UUID) -> Transfer | None:
        row = (await self._connection.execute(_TRANSFER, {"transfer_id": transfer_id})).first()
        return None if row is None else transfer_from_row(row)

    async def get_transfers(self, transfer_ids: Collection[UUID]) -> dict[UUID, Transfer]:
        rows = await self._connection.execute(_TRANSFERS, {"transfer_ids": list(transfer_ids)})
        return {row.id: transfer_from_row(row) for row in rows}

    async def references_taken(self, user_id: UUID, references: Collection[str]) -> set[str]:
        rows = await self._connection.execute(
            _REFERENCES_TAKEN, {"user_id": user_id, "references": list(references)}
        )
        return {row.reference for row in rows}

    async def search_transfers(self, query: TransferQuery) -> list[Transfer]:
        statement, values = _search(query)
        rows = await self._connection.execute(statement, values)
        return [transfer_from_row(row) for row in rows]

    async def balance_at(self, account_id: UUID, at: datetime) -> BalanceAt:
        row = (
            await self._connection.execute(_BALANCE_AT, {"account_id": account_id, "at": at})
        ).first()
        if row is None:
            return BalanceAt(0, 0, GENESIS_HASH)
        return BalanceAt(row.balance_after, row.sequence, bytes(row.entry_hash))

    async def lock_transfer(self, transfer_id: UUID) -> Transfer | None:
        row = (await self._connection.execute(_LOCK_TRANSFER, {"transfer_id": transfer_id})).first()
        return None if row is None else transfer_from_row(row)

    async def overdue_holds(self, now: datetime, *, limit: int) -> list[Transfer]:
        rows = await self._connection.execute(_OVERDUE_HOLDS, {"now": now, "limit": limit})
        return [transfer_from_row(row) for row in rows]

    async def entries(
        self,
        account_id: UUID,
        *,
        before_sequence: int | None,
        limit: int,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[LedgerEntry]:
        window = since is not None or until is not None
        rows = await self._connection.execute(
            _ENTRIES_BETWEEN if window else _ENTRIES,
            {
                "account_id": account_id,
                # Sequences start at 1: "below the maximum" means the newest page.
                "before_sequence": _NEWEST if before_sequence is None else before_sequence,
                "limit": limit,
                "since": since or _SINCE_EVER,
                "until": until or _UNTIL_EVER,
            },
        )
        return [_entry(row) for row in rows]

    async def totals(self, account_id: UUID) -> AccountTotals:
        row = (await self._connection.execute(_TOTALS, {"account_id": account_id})).first()
        if row is None:
            raise AccountNotFound(f"Account {account_id} not found.")
        return AccountTotals(
            balance=row.balance,
            total_in=row.total_in,
            total_out=row.total_out,
            count_in=row.count_in,
            count_out=row.count_out,
        )


@asynccontextmanager
async def _reference_race_is_transient() -> AsyncIterator[None]:
    """Two requests with one new reference both found it free; the store's unique index let
    one through. The other runs again, sees the twin, and is refused `DuplicateReference`."""
    try:
        yield
    except IntegrityError as error:
        if constraint_name(error) == _REFERENCE_UNIQUE:
            raise TransientConflict("A concurrent transfer took the same reference.") from error
        raise


@dataclass(frozen=True, slots=True)
class _SearchShape:
    """What makes one search's SQL differ from another's: which filters are given (their
    values are bound), which status (each reads its own way), and how accounts are named."""

    accounts: Literal["one", "many", "owner"]
    kind: bool
    status: TransferStatus | None
    reference: bool
    conversion: bool
    metadata: bool
    created_after: bool
    created_before: bool
    older_than: bool

    @classmethod
    def of(cls, query: TransferQuery) -> _SearchShape:
        accounts: Literal["one", "many", "owner"] = (
            "owner"
            if query.owner_id is not None
            else "one"
            if len(query.account_ids) == 1
            else "many"
        )
        return cls(
            accounts,
            kind=query.kind is not None,
            status=query.status,
            reference=query.reference is not None,
            conversion=query.conversion_id is not None,
            metadata=bool(query.metadata),
            created_after=query.created_after is not None,
            created_before=query.created_before is not None,
            older_than=query.older_than is not None,
        )


def _search(query: TransferQuery) -> tuple[Any, dict[str, Any]]:
    """The search's statement, built once per shape (building it cost more than running
    it), and the values it binds."""
    values: dict[str, Any] = {
        "at": query.at,
        "limit": query.limit,
        "floor_offset": query.limit - 1,
        "kind": None if query.kind is None else query.kind.value,
        "status": None if query.status is None else query.status.value,
        "reference": query.reference,
        "conversion_id": query.conversion_id,
        "metadata": dict(query.metadata),
        "created_after": query.created_after,
        "created_before": query.created_before,
        "older_at": None if query.older_than is None else query.older_than[0],
        "older_id": None if query.older_than is None else query.older_than[1],
        "owner_id": query.owner_id,
        "account_id": query.account_ids[0] if query.account_ids else None,
        "account_ids": list(query.account_ids),
    }
    return _search_statement(_SearchShape.of(query)), values


@functools.lru_cache(maxsize=256)
def _search_statement(shape: _SearchShape) -> Any:
    """Newest first among the transfers touching the accounts. Each side (debited,
    credited) is its own index-ordered scan, cut at the page size, then merged: no sort of
    everything an account ever did."""
    conditions = []
    if shape.kind:
        conditions.append(transfers.c.kind == bindparam("kind"))
    if shape.status is not None:
        conditions.append(_status_is(shape.status))
    if shape.reference:
        conditions.append(transfers.c.reference == bindparam("reference"))
    if shape.conversion:
        conditions.append(transfers.c.conversion_id == bindparam("conversion_id"))
    if shape.metadata:
        # The second condition is implied by the first; stated, it lets the planner use the
        # partial index that leaves transfers without metadata out.
        conditions.append(transfers.c.metadata.contains(bindparam("metadata")))
        conditions.append(transfers.c.metadata != text("'{}'::jsonb"))
    if shape.created_after:
        conditions.append(transfers.c.created_at > bindparam("created_after"))
    if shape.created_before:
        conditions.append(transfers.c.created_at < bindparam("created_before"))
    if shape.older_than:
        conditions.append(
            tuple_(transfers.c.created_at, transfers.c.id)
            < tuple_(
                bindparam("older_at", type_=DateTime(timezone=True)),
                bindparam("older_id", type_=Uuid),
            )
        )
    newest = (transfers.c.created_at.desc(), transfers.c.id.desc())
    limit = bindparam("limit", type_=Integer)

    def touching(side: Any) -> Any:
        # One account (the usual search) is an equality, so the (account, created_at) index
        # is read in order and stops at the page size: no sort at all.
        if shape.accounts == "one":
            return side == bindparam("account_id", type_=Uuid)
        return side == bindparam("account_ids", type_=ARRAY(Uuid)).any_()

    def owned(name: str) -> Any:
        return (
            select(accounts.c.id)
            .where(
                accounts.c.owner_id == bindparam("owner_id", type_=Uuid),
                accounts.c.kind == written_in(AccountKind.CUSTOMER.value),
            )
            .subquery(name)
        )

    def owners_side(side: Any) -> Any:
        # Top N over many accounts, no account loaded by the application. First the newest
        # match of each account (one index probe each); the N-th newest of those, T, is a
        # floor for the answer (those N accounts alone have N matches at or after T). Then
        # each account is read newest first down to T, cut at N: only the accounts whose
        # newest match is at or after T (about N) read anything. Rows read: about N probes
        # per account plus N x N at most, whatever the accounts' history.
        heads_of = owned("heads_of")
        head = (
            select(transfers.c.created_at)
            .where(side == heads_of.c.id, *conditions)
            .order_by(*newest)
            .limit(1)
            .lateral("head")
        )
        floor = (
            select(head.c.created_at)
            .select_from(heads_of.join(head, true()))
            .order_by(head.c.created_at.desc())
            .offset(bindparam("floor_offset", type_=Integer))
            .limit(1)
            .scalar_subquery()
        )
        read_of = owned("read_of")
        latest = (
            select(transfers)
            .where(
                side == read_of.c.id,
                *conditions,
                transfers.c.created_at
                >= func.coalesce(floor, literal(_SINCE_EVER, DateTime(timezone=True))),
            )
            .order_by(*newest)
            .limit(limit)
            .lateral("latest")
        )
        return (
            select(latest)
            .select_from(read_of.join(latest, true()))
            .order_by(latest.c.created_at.desc(), latest.c.id.desc())
            .limit(limit)
        )

    if shape.accounts == "owner":
        sides = [
            owners_side(side) for side in (transfers.c.from_account_id, transfers.c.to_account_id)
        ]
    else:
        sides = [
            select(transfers).where(touching(side), *conditions).order_by(*newest).limit(limit)
            for side in (transfers.c.from_account_id, transfers.c.to_account_id)
        ]
    merged = union(*sides).subquery()
    return select(merged).order_by(merged.c.created_at.desc(), merged.c.id.desc()).limit(limit)


def _status_is(status: TransferStatus) -> Any:
    """Statuses as a reader sees them at `:at`: a pending hold past its expiry is expired."""
    at = bindparam("at", type_=DateTime(timezone=True))
    pending = transfers.c.status == written_in(TransferStatus.PENDING.value)
    if status is TransferStatus.PENDING:
        return and_(pending, or_(transfers.c.expires_at.is_(None), transfers.c.expires_at > at))
    if status is TransferStatus.EXPIRED:
        # Written so that the (account, status, created_at) indexes serve it: the account's
        # expired and pending transfers, the pending ones kept once overdue. (Spelt as
        # `expired OR overdue`, the planner reads every overdue hold of the bank instead.)
        expired = written_in(TransferStatus.EXPIRED.value)
        return and_(
            transfers.c.status.in_([expired, written_in(TransferStatus.PENDING.value)]),
            or_(~pending, transfers.c.expires_at <= at),
        )
    return transfers.c.status == bindparam("status")
