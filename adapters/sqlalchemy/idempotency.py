from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import ARRAY, DateTime, Integer, Text, Uuid, bindparam, delete, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.sqlalchemy.errors import LOCK_NOT_AVAILABLE, sqlstate
from adapters.sqlalchemy.tables import idempotency_keys
from application.ports.idempotency import IdempotencyKey, IdempotencyStore, Outcome, StoredRequest
from domain.errors import IdempotencyKeyInFlight

_table = idempotency_keys
_fresh = insert(_table)
_CLAIM = _fresh.on_conflict_do_update(
    index_elements=[_table.c.user_id, _table.c.key],
    set_={
        "fingerprint": _fresh.excluded.fingerprint,
        "created_at": _fresh.excluded.created_at,
        "transfer_id": None,
        "error_code": None,
        "error_detail": None,
        "error_index": None,
        "items": None,
    },
    where=_table.c.created_at < bindparam("expired_before"),
).returning(_table.c.user_id)
_this_key = (_table.c.user_id == bindparam("b_user_id")) & (_table.c.key == bindparam("b_key"))
_STORED = select(_table).where(_this_key)
_PURGE = delete(_table).where(_table.c.created_at < bindparam("expired_before"))
_COMPLETE = (
    update(_table)
    .where(_this_key)
    .values(
        transfer_id=bindparam("b_transfer_id"),
        error_code=bindparam("b_error_code"),
        error_detail=bindparam("b_error_detail"),
        error_index=bindparam("b_error_index"),
        items=bindparam("b_items"),
    )
)


_keys = (
    bindparam("user_ids", type_=ARRAY(Uuid)),
    bindparam("keys", type_=ARRAY(Text)),
)
# Many keys, one statement each way. Inserted in key order, so two bulk claims that share
# keys wait on each other in one order and cannot deadlock.
_CLAIM_MANY = text(
    "INSERT INTO idempotency_keys AS taken (user_id, key, fingerprint, created_at)"
    " SELECT user_id, key, fingerprint, :now FROM unnest(:user_ids, :keys, :fingerprints)"
    " AS k(user_id, key, fingerprint) ORDER BY user_id, key"
    " ON CONFLICT (user_id, key) DO UPDATE SET fingerprint = excluded.fingerprint,"
    " created_at = excluded.created_at, transfer_id = NULL, error_code = NULL,"
    " error_detail = NULL, error_index = NULL, items = NULL"
    " WHERE taken.created_at < :expired_before"
    " RETURNING user_id, key"
).bindparams(
    *_keys,
    bindparam("fingerprints", type_=ARRAY(Text)),
    bindparam("now", type_=DateTime(timezone=True)),
    bindparam("expired_before", type_=DateTime(timezone=True)),
)
_STORED_MANY = text(
    "SELECT * FROM idempotency_keys WHERE (user_id, key) IN"
    " (SELECT * FROM unnest(:user_ids, :keys))"
).bindparams(*_keys)
_COMPLETE_MANY = text(
    "UPDATE idempotency_keys AS k SET transfer_id = c.transfer_id, error_code = c.error_code,"
    " error_detail = c.error_detail, error_index = c.error_index, items = c.items::jsonb"
    " FROM unnest(:user_ids, :keys, :transfer_ids, :error_codes, :error_details,"
    " :error_indexes, :items) AS c(user_id, key, transfer_id, error_code, error_detail,"
    " error_index, items)"
    " WHERE k.user_id = c.user_id AND k.key = c.key"
).bindparams(
    *_keys,
    bindparam("transfer_ids", type_=ARRAY(Uuid)),
    bindparam("error_codes", type_=ARRAY(Text)),
    bindparam("error_details", type_=ARRAY(Text)),
    bindparam("error_indexes", type_=ARRAY(Integer)),
    bindparam("items", type_=ARRAY(Text)),
)


class SqlAlchemyIdempotencyStore(IdempotencyStore):
    """Keys live in the same transaction as the money they guard.

    Claiming is one INSERT ... ON CONFLICT: a second request with the key waits on the first
    one's uncommitted row, then sees its stored outcome (or takes the key, if the first rolled
    back). A wait longer than the lock timeout answers `IdempotencyKeyInFlight`.
    """

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def claim(
        self, key: IdempotencyKey, *, now: datetime, expired_before: datetime
    ) -> StoredRequest | None:
        try:
            claimed = (
                await self._connection.execute(
                    _CLAIM,
                    {
                        "user_id": key.user_id,
                        "key": key.key,
                        "fingerprint": key.fingerprint,
                        "created_at": now,
                        "expired_before": expired_before,
                    },
                )
            ).first()
        except DBAPIError as error:
            if sqlstate(error) == LOCK_NOT_AVAILABLE:
                raise IdempotencyKeyInFlight(
                    "A request with this Idempotency-Key is still in progress."
                ) from None
            raise
        if claimed is not None:
            return None
        row = (
            await self._connection.execute(_STORED, {"b_user_id": key.user_id, "b_key": key.key})
        ).one()
        return StoredRequest(fingerprint=row.fingerprint, outcome=_outcome_from_row(row))

    async def complete(self, key: IdempotencyKey, outcome: Outcome) -> None:
        await self._connection.execute(
            _COMPLETE,
            {
                "b_user_id": key.user_id,
                "b_key": key.key,
                "b_transfer_id": outcome.transfer_id,
                "b_error_code": outcome.error_code,
                "b_error_detail": outcome.error_detail,
                "b_error_index": outcome.error_index,
                "b_items": None if outcome.items is None else [_item(i) for i in outcome.items],
            },
        )

    async def claim_many(
        self, keys: Sequence[IdempotencyKey], *, now: datetime, expired_before: datetime
    ) -> dict[tuple[UUID, str], StoredRequest]:
        if not keys:
            return {}
        values = {"user_ids": [k.user_id for k in keys], "keys": [k.key for k in keys]}
        try:
            claimed = await self._connection.execute(
                _CLAIM_MANY,
                {
                    **values,
                    "fingerprints": [k.fingerprint for k in keys],
                    "now": now,
                    "expired_before": expired_before,
                },
            )
        except DBAPIError as error:
            if sqlstate(error) == LOCK_NOT_AVAILABLE:
                raise IdempotencyKeyInFlight(
                    "A request with one of these Idempotency-Keys is still in progress."
                ) from None
            raise
        free = {(row.user_id, row.key) for row in claimed}
        if len(free) == len(keys):
            return {}
        taken = [k for k in keys if (k.user_id, k.key) not in free]
        rows = await self._connection.execute(
            _STORED_MANY,
            {"user_ids": [k.user_id for k in taken], "keys": [k.key for k in taken]},
        )
        return {
            (row.user_id, row.key): StoredRequest(row.fingerprint, _outcome_from_row(row))
            for row in rows
        }

    async def complete_many(self, outcomes: Sequence[tuple[IdempotencyKey, Outcome]]) -> None:
        if not outcomes:
            return
        await self._connection.execute(
            _COMPLETE_MANY,
            {
                "user_ids": [key.user_id for key, _ in outcomes],
                "keys": [key.key for key, _ in outcomes],
                "transfer_ids": [outcome.transfer_id for _, outcome in outcomes],
                "error_codes": [outcome.error_code for _, outcome in outcomes],
                "error_details": [outcome.error_detail for _, outcome in outcomes],
                "error_indexes": [outcome.error_index for _, outcome in outcomes],
                "items": [
                    None if o.items is None else json.dumps([_item(i) for i in o.items])
                    for _, o in outcomes
                ],
            },
        )

    async def purge(self, expired_before: datetime) -> int:
        result = await self._connection.execute(_PURGE, {"expired_before": expired_before})
        return int(result.rowcount)


def _item(outcome: Outcome) -> dict[str, str | None]:
    """One batch item's outcome as JSON: the transfer it made, or the refusal it met."""
    if outcome.transfer_id is not None:
        return {"transfer_id": str(outcome.transfer_id)}
    return {"error_code": outcome.error_code, "error_detail": outcome.error_detail}


def _outcome_from_row(row: Any) -> Outcome:
    items = None
    if row.items is not None:
        items = tuple(
            Outcome(transfer_id=UUID(item["transfer_id"]))
            if "transfer_id" in item
            else Outcome(error_code=item["error_code"], error_detail=item["error_detail"])
            for item in row.items
        )
    return Outcome(
        transfer_id=row.transfer_id,
        error_code=row.error_code,
        error_detail=row.error_detail,
        items=items,
        error_index=row.error_index,
    )
