from __future__ import annotations

import json
from collections.abc import AsyncIterator, Collection, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    ARRAY,
    BigInteger,
    DateTime,
    Text,
    Uuid,
    and_,
    bindparam,
    cast,
    func,
    literal,
    or_,
    select,
    text,
    true,
    tuple_,
    union,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import TextClause

from adapters.sqlalchemy.errors import constraint_name
from adapters.sqlalchemy.outbox import EVENTS_INSERT, EVENTS_TYPES, event_values, insert_events
from adapters.sqlalchemy.tables import accounts, ledger_entries, transfers, written_in
from application.errors import TransientConflict
from application.events import Event
from application.ports.ledger import AccountTotals, BalanceAt, LedgerRepository, TransferQuery
from domain.account import Account, AccountKind
from domain.errors import AccountNotFound
from domain.ledger import Posting
from domain.transfer import LedgerEntry, Transfer, TransferKind, TransferStatus


def _statement(*constant_parts: str) -> TextClause:
    """SQL joined from the constant fragments of this module, never from input: every value
    travels as a bound parameter."""
    return text("".join(constant_parts))


_TRANSFER_COLUMNS = (
    "id, from_account_id, to_account_id, amount, currency, description, created_at,"
    " kind, status, expires_at, posted_amount, reversed_amount, reversal_of,"
    " reference, metadata, created_by"
)
_NEW_TRANSFER_VALUES = (
    ":transfer_id, :from_account_id, :to_account_id, :amount, :currency, :description,"
    " :created_at, :kind, :status, :expires_at, :posted_amount, 0, :reversal_of,"
    " :reference, :metadata, :created_by"
)
# Both entries and both new balances; entry sequence doubles as the account's entry count.
_MOVE = """
    new_entries AS (
        INSERT INTO ledger_entries
            (id, account_id, transfer_id, sequence, amount, balance_after, created_at)
        VALUES
            (:debit_id, :from_account_id, :transfer_id, :debit_sequence, :debit_amount,
             :debit_balance, :moved_at),
            (:credit_id, :to_account_id, :transfer_id, :credit_sequence, :credit_amount,
             :credit_balance, :moved_at)
    )
    UPDATE accounts
    SET balance = moved.balance, entry_count = moved.entry_count, last_entry_at = :moved_at
    FROM (VALUES
        (CAST(:from_account_id AS uuid), CAST(:debit_balance AS bigint),
         CAST(:debit_sequence AS bigint)),
        (CAST(:to_account_id AS uuid), CAST(:credit_balance AS bigint),
         CAST(:credit_sequence AS bigint))
    ) AS moved (id, balance, entry_count)
    WHERE accounts.id = moved.id
"""
_TYPES = (
    bindparam("transfer_id", type_=Uuid),
    bindparam("from_account_id", type_=Uuid),
    bindparam("to_account_id", type_=Uuid),
    bindparam("debit_id", type_=Uuid),
    bindparam("credit_id", type_=Uuid),
    bindparam("moved_at", type_=DateTime(timezone=True)),
)
# One statement, one round trip: the transfer, both entries, both new balances. Foreign keys
# are checked at the end of the statement, so the entries may reference the new transfer.
_NEW_TRANSFER_TYPES = (
    bindparam("transfer_id", type_=Uuid),
    bindparam("from_account_id", type_=Uuid),
    bindparam("to_account_id", type_=Uuid),
    bindparam("created_at", type_=DateTime(timezone=True)),
    bindparam("expires_at", type_=DateTime(timezone=True)),
    bindparam("description", type_=Text),
    bindparam("reversal_of", type_=Uuid),
    bindparam("posted_amount", type_=BigInteger),
    bindparam("reference", type_=Text),
    bindparam("metadata", type_=JSONB),
    bindparam("created_by", type_=Uuid),
)


def _movement(*, with_events: bool) -> TextClause:
    """A new transfer with its entries and balances, one statement, one round trip; with
    its events too on the hot path, all taken while the accounts are locked."""
    events = ("new_events AS (", EVENTS_INSERT, "), ") if with_events else ()
    statement = _statement(
        "WITH new_transfer AS (INSERT INTO transfers (",
        _TRANSFER_COLUMNS,
        ") VALUES (",
        _NEW_TRANSFER_VALUES,
        ")), ",
        *events,
        _MOVE,
    )
    return statement.bindparams(
        *_TYPES, *_NEW_TRANSFER_TYPES, *(EVENTS_TYPES if with_events else ())
    )


_RECORD_MOVEMENT = _movement(with_events=False)
_RECORD_MOVEMENT_AND_EVENTS = _movement(with_events=True)
# A hold being posted: its new state, its entries (under its own id) and the balances.
_RECORD_POSTED_HOLD = _statement(
    "WITH posted AS (UPDATE transfers SET status = 'posted', posted_amount = :posted_amount",
    " WHERE id = :transfer_id AND status = 'pending'), ",
    _MOVE,
).bindparams(*_TYPES, bindparam("posted_amount", type_=BigInteger))
_INSERT_HOLD = _statement(
    "INSERT INTO transfers (", _TRANSFER_COLUMNS, ") VALUES (", _NEW_TRANSFER_VALUES, ")"
).bindparams(*_NEW_TRANSFER_TYPES)
_SET_STATUS = (
    update(transfers)
    .where(transfers.c.id == bindparam("b_id"), transfers.c.status == "pending")
    .values(status=bindparam("b_status"))
)
_AMEND_REVERSED = (
    update(transfers)
    .where(transfers.c.id == bindparam("b_id"))
    .values(reversed_amount=bindparam("b_reversed_amount"))
)


def _array(name: str, of: Any) -> Any:
    return bindparam(name, type_=ARRAY(of))


# A batch: every new transfer, every entry, the events and every account's final balance,
# one statement whatever the size (arrays unnested by the server, not a row per round trip).
# Foreign keys are checked at the end of the statement, so entries may name new transfers.
_RECORD_MANY = _statement(
    "WITH new_transfers AS (INSERT INTO transfers (",
    _TRANSFER_COLUMNS,
    ") SELECT id, from_id, to_id, amount, currency, description, created_at, kind, status,"
    " expires_at, posted_amount, 0, NULL::uuid, reference, metadata::jsonb, created_by"
    " FROM unnest(:ids, :from_ids, :to_ids, :amounts, :currencies, :descriptions,"
    " :created_ats, :kinds, :statuses, :expires_ats, :posted_amounts, :references,"
    " :metadatas, :created_bys)"
    " AS t(id, from_id, to_id, amount, currency, description, created_at, kind, status,"
    " expires_at, posted_amount, reference, metadata, created_by)), ",
    "new_entries AS (INSERT INTO ledger_entries"
    " (id, account_id, transfer_id, sequence, amount, balance_after, created_at)"
    " SELECT * FROM unnest(:entry_ids, :entry_account_ids, :entry_transfer_ids,"
    " :entry_sequences, :entry_amounts, :entry_balances, :entry_created_ats)), ",
    "new_events AS (",
    EVENTS_INSERT,
    ") UPDATE accounts SET balance = moved.balance, entry_count = moved.entry_count,"
    " last_entry_at = moved.last_entry_at"
    " FROM unnest(:account_ids, :balances, :entry_counts, :last_entry_ats)"
    " AS moved (id, balance, entry_count, last_entry_at)"
    " WHERE accounts.id = moved.id",
).bindparams(
    _array("ids", Uuid),
    _array("from_ids", Uuid),
    _array("to_ids", Uuid),
    _array("amounts", BigInteger),
    _array("currencies", Text),
    _array("descriptions", Text),
    _array("created_ats", DateTime(timezone=True)),
    _array("kinds", Text),
    _array("statuses", Text),
    _array("expires_ats", DateTime(timezone=True)),
    _array("posted_amounts", BigInteger),
    _array("references", Text),
    _array("metadatas", Text),
    _array("created_bys", Uuid),
    _array("entry_ids", Uuid),
    _array("entry_account_ids", Uuid),
    _array("entry_transfer_ids", Uuid),
    _array("entry_sequences", BigInteger),
    _array("entry_amounts", BigInteger),
    _array("entry_balances", BigInteger),
    _array("entry_created_ats", DateTime(timezone=True)),
    *EVENTS_TYPES,
    _array("account_ids", Uuid),
    _array("balances", BigInteger),
    _array("entry_counts", BigInteger),
    _array("last_entry_ats", DateTime(timezone=True)),
)


def _transfer(row: Any) -> Transfer:
    return Transfer(
        id=row.id,
        from_account_id=row.from_account_id,
        to_account_id=row.to_account_id,
        amount=row.amount,
        currency=row.currency,
        description=row.description,
        created_at=row.created_at,
        kind=TransferKind(row.kind),
        status=TransferStatus(row.status),
        expires_at=row.expires_at,
        posted_amount=row.posted_amount,
        reversed_amount=row.reversed_amount,
        reversal_of=row.reversal_of,
        reference=row.reference,
        metadata=dict(row.metadata),
        created_by=row.created_by,
    )


def _entry(row: Any) -> LedgerEntry:
    return LedgerEntry(
        id=row.id,
        account_id=row.account_id,
        transfer_id=row.transfer_id,
        sequence=row.sequence,
        amount=row.amount,
        balance_after=row.balance_after,
        created_at=row.created_at,
    )


def sum_as_bigint(expression: Any, where: Any = None) -> Any:
    """SUM as a BIGINT, 0 over no rows; PostgreSQL's SUM(bigint) is NUMERIC otherwise."""
    total = func.sum(expression) if where is None else func.sum(expression).filter(where)
    return cast(func.coalesce(total, 0), BigInteger)


_TRANSFER = select(transfers).where(transfers.c.id == bindparam("transfer_id"))
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
    select(ledger_entries.c.balance_after, ledger_entries.c.sequence)
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


def _transfer_values(transfer: Transfer) -> dict[str, Any]:
    return {
        "transfer_id": transfer.id,
        "from_account_id": transfer.from_account_id,
        "to_account_id": transfer.to_account_id,
        "amount": transfer.amount,
        "currency": transfer.currency,
        "description": transfer.description,
        "created_at": transfer.created_at,
        "kind": transfer.kind.value,
        "status": transfer.status.value,
        "expires_at": transfer.expires_at,
        "posted_amount": transfer.posted_amount,
        "reversal_of": transfer.reversal_of,
        "reference": transfer.reference,
        "metadata": transfer.metadata,
        "created_by": transfer.created_by,
    }


def _move_values(posting: Posting) -> dict[str, Any]:
    debit, credit = posting.debit, posting.credit
    if debit is None or credit is None:
        raise ValueError(f"posting {posting.transfer.id} moves no money: it has no entries")
    return {
        "transfer_id": posting.transfer.id,
        "from_account_id": debit.account_id,
        "to_account_id": credit.account_id,
        "moved_at": debit.created_at,
        "debit_id": debit.id,
        "debit_sequence": debit.sequence,
        "debit_amount": debit.amount,
        "debit_balance": debit.balance_after,
        "credit_id": credit.id,
        "credit_sequence": credit.sequence,
        "credit_amount": credit.amount,
        "credit_balance": credit.balance_after,
    }


def _many_values(postings: Sequence[Posting], events: Sequence[Event]) -> dict[str, Any]:
    new = [posting.transfer for posting in postings]
    entries = [entry for posting in postings for entry in (posting.debit, posting.credit) if entry]
    # The same Account objects went through every posting: each holds its final state.
    final: dict[UUID, Account] = {}
    for posting in postings:
        if posting.moves_money:
            final[posting.source.id] = posting.source
            final[posting.destination.id] = posting.destination
    return {
        "ids": [t.id for t in new],
        "from_ids": [t.from_account_id for t in new],
        "to_ids": [t.to_account_id for t in new],
        "amounts": [t.amount for t in new],
        "currencies": [t.currency for t in new],
        "descriptions": [t.description for t in new],
        "created_ats": [t.created_at for t in new],
        "kinds": [t.kind.value for t in new],
        "statuses": [t.status.value for t in new],
        "expires_ats": [t.expires_at for t in new],
        "posted_amounts": [t.posted_amount for t in new],
        "references": [t.reference for t in new],
        "metadatas": [json.dumps(t.metadata) for t in new],
        "created_bys": [t.created_by for t in new],
        "entry_ids": [e.id for e in entries],
        "entry_account_ids": [e.account_id for e in entries],
        "entry_transfer_ids": [e.transfer_id for e in entries],
        "entry_sequences": [e.sequence for e in entries],
        "entry_amounts": [e.amount for e in entries],
        "entry_balances": [e.balance_after for e in entries],
        "entry_created_ats": [e.created_at for e in entries],
        **event_values(events),
        "account_ids": list(final),
        "balances": [a.balance for a in final.values()],
        "entry_counts": [a.entry_count for a in final.values()],
        "last_entry_ats": [a.last_entry_at for a in final.values()],
    }


class SqlAlchemyLedgerRepository(LedgerRepository):
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def record(self, posting: Posting, events: Sequence[Event] = ()) -> None:
        """One statement per change; a plain movement with its events (the hot path) is one
        round trip."""
        async with _reference_race_is_transient():
            if posting.replaces is None and posting.moves_money and events:
                values = {
                    **_transfer_values(posting.transfer),
                    **_move_values(posting),
                    **event_values(events),
                }
                await self._connection.execute(_RECORD_MOVEMENT_AND_EVENTS, values)
            else:
                await self._record(posting)
                await insert_events(self._connection, events)
            await self._amend(posting)

    async def _record(self, posting: Posting) -> None:
        transfer = posting.transfer
        if posting.replaces is None and posting.moves_money:
            await self._connection.execute(
                _RECORD_MOVEMENT, {**_transfer_values(transfer), **_move_values(posting)}
            )
        elif posting.replaces is None:
            await self._connection.execute(_INSERT_HOLD, _transfer_values(transfer))
        elif posting.moves_money:
            await self._connection.execute(
                _RECORD_POSTED_HOLD,
                {**_move_values(posting), "posted_amount": transfer.posted_amount},
            )
        else:
            await self._connection.execute(
                _SET_STATUS, {"b_id": transfer.id, "b_status": transfer.status.value}
            )

    async def _amend(self, posting: Posting) -> None:
        if posting.amends is not None:
            await self._connection.execute(
                _AMEND_REVERSED,
                {"b_id": posting.amends.id, "b_reversed_amount": posting.amends.reversed_amount},
            )

    async def record_many(self, postings: Sequence[Posting], events: Sequence[Event] = ()) -> None:
        """New transfers (the batch endpoint, group commit) in one round trip; postings that
        change earlier transfers one statement each, in order."""
        async with _reference_race_is_transient():
            if any(p.replaces is not None or p.amends is not None for p in postings):
                for posting in postings:
                    await self._record(posting)
                    await self._amend(posting)
                await insert_events(self._connection, events)
            elif postings or events:
                await self._connection.execute(_RECORD_MANY, _many_values(postings, events))

    async def get_transfer(self, transfer_id: UUID) -> Transfer | None:
        row = (await self._connection.execute(_TRANSFER, {"transfer_id": transfer_id})).first()
        return None if row is None else _transfer(row)

    async def get_transfers(self, transfer_ids: Collection[UUID]) -> dict[UUID, Transfer]:
        rows = await self._connection.execute(_TRANSFERS, {"transfer_ids": list(transfer_ids)})
        return {row.id: _transfer(row) for row in rows}

    async def references_taken(self, user_id: UUID, references: Collection[str]) -> set[str]:
        rows = await self._connection.execute(
            _REFERENCES_TAKEN, {"user_id": user_id, "references": list(references)}
        )
        return {row.reference for row in rows}

    async def search_transfers(self, query: TransferQuery) -> list[Transfer]:
        rows = await self._connection.execute(_search(query))
        return [_transfer(row) for row in rows]

    async def balance_at(self, account_id: UUID, at: datetime) -> BalanceAt:
        row = (
            await self._connection.execute(_BALANCE_AT, {"account_id": account_id, "at": at})
        ).first()
        return BalanceAt(0, 0) if row is None else BalanceAt(row.balance_after, row.sequence)

    async def lock_transfer(self, transfer_id: UUID) -> Transfer | None:
        row = (await self._connection.execute(_LOCK_TRANSFER, {"transfer_id": transfer_id})).first()
        return None if row is None else _transfer(row)

    async def overdue_holds(self, now: datetime, *, limit: int) -> list[Transfer]:
        rows = await self._connection.execute(_OVERDUE_HOLDS, {"now": now, "limit": limit})
        return [_transfer(row) for row in rows]

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


def _search(query: TransferQuery) -> Any:
    """Newest first among the transfers touching the accounts. Each side (debited,
    credited) is its own index-ordered scan, cut at the page size, then merged: no sort of
    everything an account ever did."""
    conditions = []
    if query.kind is not None:
        conditions.append(transfers.c.kind == query.kind.value)
    if query.status is not None:
        conditions.append(_status_is(query.status, query.at))
    if query.reference is not None:
        conditions.append(transfers.c.reference == query.reference)
    if query.metadata:
        # The second condition is implied by the first; stated, it lets the planner use the
        # partial index that leaves transfers without metadata out.
        conditions.append(transfers.c.metadata.contains(dict(query.metadata)))
        conditions.append(transfers.c.metadata != text("'{}'::jsonb"))
    if query.created_after is not None:
        conditions.append(transfers.c.created_at > query.created_after)
    if query.created_before is not None:
        conditions.append(transfers.c.created_at < query.created_before)
    if query.older_than is not None:
        moment, transfer_id = query.older_than
        conditions.append(
            tuple_(transfers.c.created_at, transfers.c.id)
            < tuple_(literal(moment), literal(transfer_id))
        )
    newest = (transfers.c.created_at.desc(), transfers.c.id.desc())

    def touching(side: Any) -> Any:
        # One account (the usual search) is an equality, so the (account, created_at) index
        # is read in order and stops at the page size: no sort at all.
        if len(query.account_ids) == 1:
            return side == literal(query.account_ids[0], Uuid)
        return side == literal(list(query.account_ids), ARRAY(Uuid)).any_()

    def owned(name: str) -> Any:
        return (
            select(accounts.c.id)
            .where(
                accounts.c.owner_id == literal(query.owner_id, Uuid),
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
            .offset(query.limit - 1)
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
            .limit(query.limit)
            .lateral("latest")
        )
        return (
            select(latest)
            .select_from(read_of.join(latest, true()))
            .order_by(latest.c.created_at.desc(), latest.c.id.desc())
            .limit(query.limit)
        )

    if query.owner_id is not None:
        sides = [
            owners_side(side) for side in (transfers.c.from_account_id, transfers.c.to_account_id)
        ]
    else:
        sides = [
            select(transfers)
            .where(touching(side), *conditions)
            .order_by(*newest)
            .limit(query.limit)
            for side in (transfers.c.from_account_id, transfers.c.to_account_id)
        ]
    merged = union(*sides).subquery()
    return (
        select(merged).order_by(merged.c.created_at.desc(), merged.c.id.desc()).limit(query.limit)
    )


def _status_is(status: TransferStatus, at: datetime) -> Any:
    """Statuses as a reader sees them at `at`: a pending hold past its expiry is expired."""
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
    return transfers.c.status == status.value
