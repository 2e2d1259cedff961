"""The outbox in PostgreSQL: one INSERT per unit of work, whatever the number of events (a
money movement's go in the ledger's own statement: see `rows.EVENTS_INSERT`)."""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import ARRAY, BigInteger, DateTime, Text, Uuid, bindparam, text
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.sqlalchemy.rows import EVENTS_INSERT, EVENTS_TYPES, event_values
from application.events import AccountState, Event, timestamp
from application.ports.outbox import (
    ClaimedEvent,
    FeedPosition,
    Outbox,
    OutboxBacklog,
    StoredEvent,
)
from application.turns import map_in_turns

_ADD = text(EVENTS_INSERT).bindparams(*EVENTS_TYPES)


# Only below the oldest transaction still running: everything there has committed (or
# never will), so no event can later appear behind a position already handed out.
_FEED = text(
    "SELECT position, transaction_id, id, type, occurred_at, schema_version, data, accounts,"
    " user_ids, traceparent FROM events"
    " WHERE user_ids @> ARRAY[CAST(:user_id AS uuid)]"
    " AND (transaction_id, position) > (:after_transaction, :after_position)"
    " AND transaction_id < (pg_snapshot_xmin(pg_current_snapshot())::text)::bigint"
    " AND (cardinality(CAST(:types AS text[])) = 0 OR type = ANY(CAST(:types AS text[])))"
    " ORDER BY transaction_id, position LIMIT :limit"
).bindparams(bindparam("user_id", type_=Uuid), bindparam("types", type_=ARRAY(Text)))
# A key restricted to some accounts: its user's events that touch one of them. A statement of
# its own, so the unrestricted feed's plan never weighs a filter it does not have.
_FEED_OF_ACCOUNTS = text(
    "SELECT position, transaction_id, id, type, occurred_at, schema_version, data, accounts,"
    " user_ids, traceparent FROM events"
    " WHERE user_ids @> ARRAY[CAST(:user_id AS uuid)]"
    " AND (transaction_id, position) > (:after_transaction, :after_position)"
    " AND transaction_id < (pg_snapshot_xmin(pg_current_snapshot())::text)::bigint"
    " AND (cardinality(CAST(:types AS text[])) = 0 OR type = ANY(CAST(:types AS text[])))"
    " AND EXISTS (SELECT FROM json_array_elements(accounts) AS a"
    " WHERE a->>'id' = ANY(CAST(:account_ids AS text[])))"
    " ORDER BY transaction_id, position LIMIT :limit"
).bindparams(
    bindparam("user_id", type_=Uuid),
    bindparam("types", type_=ARRAY(Text)),
    bindparam("account_ids", type_=ARRAY(Text)),
)
# A lease, committed at once: several relays share the work (SKIP LOCKED while choosing),
# and none holds a lock while it talks to the broker. `data` and `accounts` come back as the
# JSON text stored, not decoded: the broker's copy is spliced from it (`_claimed`).
_CLAIM = text(
    "WITH claimed AS (UPDATE event_deliveries SET claimed_until = :until WHERE position IN ("
    " SELECT position FROM event_deliveries"
    " WHERE claimed_until IS NULL OR claimed_until <= :now"
    " ORDER BY transaction_id, position LIMIT :limit FOR UPDATE SKIP LOCKED)"
    " RETURNING position)"
    " SELECT e.position, e.transaction_id, e.id, e.type, e.occurred_at, e.schema_version,"
    " e.data::text AS data, e.accounts::text AS accounts, e.traceparent"
    " FROM events AS e JOIN claimed ON claimed.position = e.position"
    " ORDER BY e.transaction_id, e.position"
).bindparams(
    bindparam("now", type_=DateTime(timezone=True)),
    bindparam("until", type_=DateTime(timezone=True)),
)
# Only this relay's own lease: another may have taken the rows since this one's ran out.
_RELEASE = text(
    "UPDATE event_deliveries SET claimed_until = NULL"
    " WHERE position = ANY(:positions) AND claimed_until = :leased_until"
).bindparams(
    bindparam("positions", type_=ARRAY(BigInteger)),
    bindparam("leased_until", type_=DateTime(timezone=True)),
)
_MARK = text("DELETE FROM event_deliveries WHERE position = ANY(:positions)").bindparams(
    bindparam("positions", type_=ARRAY(BigInteger))
)
# The queue alone, whatever plan the relay's prepared statement keeps: a join to `events`,
# planned while both were empty, scanned all of `events` for every undelivered row.
_BACKLOG = text("SELECT count(*) AS undelivered, min(occurred_at) AS oldest FROM event_deliveries")


def _positions(events: Collection[ClaimedEvent]) -> list[int]:
    """Where the relay's queue keeps them: no lookup by id."""
    return [event.position.position for event in events]


def _state(document: dict[str, Any]) -> AccountState:
    owner = document.get("owner_id")
    entry_hash = document.get("entry_hash")  # absent from events stored before the chain
    return AccountState(
        id=UUID(document["id"]),
        sequence=document["sequence"],
        balance=document["balance"],
        available=document["available"],
        owner_id=None if owner is None else UUID(owner),
        entry_hash=None if entry_hash is None else bytes.fromhex(entry_hash),
        previous_sequence=document.get("previous_sequence"),
    )


def _stored(row: Any, prefix: str = "") -> StoredEvent:
    """An events row as read; `prefix`: its columns' names in a row that joins it."""

    def column(name: str) -> Any:
        return getattr(row, prefix + name)

    event = Event(
        id=column("id"),
        type=column("type"),
        occurred_at=column("occurred_at"),
        data=column("data"),
        accounts=tuple(_state(state) for state in column("accounts")),
        user_ids=tuple(column("user_ids")),
        schema_version=column("schema_version"),
    )
    position = FeedPosition(column("transaction_id"), column("position"))
    return StoredEvent(event, position, column("traceparent"))


_STATE_KEYS = tuple(AccountState(UUID(int=0), 0, 0, 0, None, None).document())
"""The fields of an account in an event's document, as `AccountState.document()` names them."""


def _claimed(row: Any) -> ClaimedEvent:
    """The broker's copy of an events row, `Event.document()` as JSON, spliced from the JSON
    text stored rather than decoded into an `Event` only to be encoded again. Each account
    keeps exactly its document's fields, in their order: not the owner only the feed needs,
    and nulls for those an event stored before the hash chain lacks."""
    states = json.dumps(
        [{key: state.get(key) for key in _STATE_KEYS} for state in json.loads(row.accounts)],
        separators=(",", ":"),
    )
    payload = (
        f'{{"id":"{row.id}","type":{json.dumps(row.type)},'
        f'"occurred_at":"{timestamp(row.occurred_at)}","schema_version":{row.schema_version:d},'
        f'"data":{row.data},"accounts":{states}}}'
    )
    position = FeedPosition(row.transaction_id, row.position)
    return ClaimedEvent(row.id, row.type, payload.encode(), position, row.traceparent)


class SqlAlchemyOutbox(Outbox):
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add(self, events: Sequence[Event]) -> None:
        if events:
            await self._connection.execute(_ADD, event_values(events))

    async def feed(
        self,
        user_id: UUID,
        *,
        after: FeedPosition | None,
        types: Collection[str],
        limit: int,
        accounts: Collection[UUID] | None = None,
    ) -> list[StoredEvent]:
        start = after or FeedPosition(0, 0)
        values: dict[str, Any] = {
            "user_id": user_id,
            "after_transaction": start.transaction,
            "after_position": start.position,
            "types": list(types),
            "limit": limit,
        }
        if accounts is None:
            rows = await self._connection.execute(_FEED, values)
        else:
            values["account_ids"] = [str(account_id) for account_id in accounts]
            rows = await self._connection.execute(_FEED_OF_ACCOUNTS, values)
        return [_stored(row) for row in rows]

    async def claim_undelivered(
        self, limit: int, *, now: datetime, until: datetime
    ) -> list[ClaimedEvent]:
        rows = await self._connection.execute(_CLAIM, {"limit": limit, "now": now, "until": until})
        return await map_in_turns(_claimed, rows.all())

    async def mark_delivered(self, events: Collection[ClaimedEvent]) -> None:
        if events:
            await self._connection.execute(_MARK, {"positions": _positions(events)})

    async def release(self, events: Collection[ClaimedEvent], *, leased_until: datetime) -> None:
        if events:
            await self._connection.execute(
                _RELEASE, {"positions": _positions(events), "leased_until": leased_until}
            )

    async def backlog(self) -> OutboxBacklog:
        row = (await self._connection.execute(_BACKLOG)).one()
        return OutboxBacklog(row.undelivered, row.oldest)
