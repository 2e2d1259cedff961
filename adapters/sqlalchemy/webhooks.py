"""Webhook endpoints and their deliveries in PostgreSQL. The fan-out reads committed events
as the feed does (below the oldest running transaction) and moves its one-row position in the
same statement, guarded by the position it read: two dispatchers at once queue once."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    ARRAY,
    BigInteger,
    DateTime,
    Integer,
    Text,
    Uuid,
    bindparam,
    delete,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.sealed_secrets import SecretSealer
from adapters.sqlalchemy.outbox import _stored
from adapters.sqlalchemy.tables import users, webhook_endpoints
from application.ports.outbox import FeedPosition, StoredEvent
from application.ports.webhooks import (
    DeliveryBacklog,
    DeliveryOutcome,
    DeliveryStatus,
    FanOut,
    LeasedDelivery,
    WebhookDelivery,
    WebhookDeliveryQueue,
    WebhookEndpointRepository,
)
from domain.webhook import WebhookEndpoint

_Moment = DateTime(timezone=True)
_GET = select(webhook_endpoints).where(webhook_endpoints.c.id == bindparam("id", type_=Uuid))
_OF_USER = (
    select(webhook_endpoints)
    .where(webhook_endpoints.c.user_id == bindparam("user_id", type_=Uuid))
    .order_by(webhook_endpoints.c.created_at, webhook_endpoints.c.id)
)
_LOCK_USER = (
    select(users.c.id)
    .where(users.c.id == bindparam("user_id", type_=Uuid))
    .with_for_update(key_share=True)
)
_COUNT = (
    select(func.count())
    .select_from(webhook_endpoints)
    .where(webhook_endpoints.c.user_id == bindparam("user_id", type_=Uuid))
)
_DELETE = delete(webhook_endpoints).where(webhook_endpoints.c.id == bindparam("id", type_=Uuid))
_NOTE_ATTEMPT = text(
    "UPDATE webhook_endpoints SET failing_since = CASE WHEN :succeeded THEN NULL"
    " ELSE coalesce(failing_since, :at) END"
    # Only a change is written: a success clears a failing endpoint, a failure marks a sound one.
    " WHERE id = :id AND (failing_since IS NULL) <> :succeeded"
).bindparams(bindparam("id", type_=Uuid), bindparam("at", type_=_Moment))

# The queue's own bookkeeping (fan-out position, leases, outcomes) commits without waiting for
# the disk: a commit lost in a crash is done again (fanned out again, ON CONFLICT keeping one
# delivery; leased again; sent again with the same event id: at least once), so it need not
# take a flush from the money path's commits.
_NO_FLUSH = text("SET LOCAL synchronous_commit TO off")

# The position moves only from where this statement read it: a second dispatcher's UPDATE
# waits for the first, finds the row moved, updates nothing, and so queues nothing. What it
# queues for an endpoint that is not failing is leased to the caller at once (`until`).
_FAN_OUT = text(
    "WITH start AS (SELECT transaction_id, position FROM webhook_fan_out WHERE id = 1),"
    " batch AS (SELECT e.transaction_id, e.position, e.id, e.type, e.user_ids, e.occurred_at"
    " FROM events AS e, start"
    " WHERE (e.transaction_id, e.position) > (start.transaction_id, start.position)"
    " AND e.transaction_id < (pg_snapshot_xmin(pg_current_snapshot())::text)::bigint"
    " ORDER BY e.transaction_id, e.position LIMIT :limit),"
    " last AS (SELECT transaction_id, position FROM batch"
    " ORDER BY transaction_id DESC, position DESC LIMIT 1),"
    " moved AS (UPDATE webhook_fan_out AS f"
    " SET transaction_id = last.transaction_id, position = last.position"
    " FROM last, start WHERE f.id = 1 AND f.transaction_id = start.transaction_id"
    " AND f.position = start.position RETURNING 1),"
    " queued AS (INSERT INTO webhook_deliveries"
    " (endpoint_id, event_id, status, attempts, next_attempt_at, queued_at, claimed_until)"
    " SELECT w.id, b.id, 'pending', 0, :now, :now,"
    " CASE WHEN w.failing_since IS NULL THEN CAST(:until AS timestamptz) END"
    " FROM batch AS b"
    " JOIN webhook_endpoints AS w ON w.user_id = ANY(b.user_ids)"
    " WHERE EXISTS (SELECT FROM moved) AND w.enabled AND w.created_at <= b.occurred_at"
    " AND (w.event_types IS NULL OR b.type = ANY(w.event_types))"
    # KEY SHARE: an endpoint deleted since this statement's snapshot is skipped, not a
    # foreign-key violation.
    " ORDER BY b.transaction_id, b.position FOR KEY SHARE OF w"
    " ON CONFLICT (endpoint_id, event_id) DO NOTHING RETURNING id, claimed_until)"
    " SELECT (SELECT count(*) FROM moved) AS moved, (SELECT count(*) FROM batch) AS read,"
    " (SELECT coalesce(array_agg(id ORDER BY id), '{}') FROM queued"
    " WHERE claimed_until IS NOT NULL) AS leased,"
    " (SELECT count(*) FROM queued WHERE claimed_until IS NULL) AS unleased"
).bindparams(bindparam("now", type_=_Moment), bindparam("until", type_=_Moment))

# A leased delivery with what its attempt needs: its endpoint and its event.
_LEASED_COLUMNS = (
    "SELECT d.id AS d_id, d.endpoint_id AS d_endpoint_id, d.event_id AS d_event_id,"
    " d.status AS d_status, d.attempts AS d_attempts, d.next_attempt_at AS d_next_attempt_at,"
    " d.last_status_code AS d_last_status_code, d.last_error AS d_last_error,"
    " d.queued_at AS d_queued_at, w.*,"
    " e.id AS e_id, e.position AS e_position, e.transaction_id AS e_transaction_id,"
    " e.type AS e_type,"
    " e.occurred_at AS e_occurred_at, e.schema_version AS e_schema_version, e.data AS e_data,"
    " e.accounts AS e_accounts, e.user_ids AS e_user_ids, e.traceparent AS e_traceparent"
)
_FANNED_OUT = text(
    _LEASED_COLUMNS + " FROM webhook_deliveries AS d"
    " JOIN webhook_endpoints AS w ON w.id = d.endpoint_id"
    " JOIN events AS e ON e.id = d.event_id WHERE d.id = ANY(:ids) ORDER BY d.id"
).bindparams(bindparam("ids", type_=ARRAY(BigInteger)))

# The endpoints among the oldest due deliveries, then each one's oldest, `per_endpoint` at
# most (its index: endpoint, due time): one endpoint's backlog never fills a lease alone.
# Literals only (_LEASED_COLUMNS is a constant).
_LEASE = text(
    "WITH candidates AS (SELECT DISTINCT endpoint_id FROM (SELECT endpoint_id"  # noqa: S608  # nosec B608
    " FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= :now"
    " AND (claimed_until IS NULL OR claimed_until <= :now)"
    " AND endpoint_id <> ALL(:excluding)"
    " ORDER BY next_attempt_at, id LIMIT :scan) AS oldest),"
    " due AS (SELECT picked.id FROM candidates AS c"
    " JOIN webhook_endpoints AS w ON w.id = c.endpoint_id AND w.enabled"
    " CROSS JOIN LATERAL (SELECT d.id, d.next_attempt_at FROM webhook_deliveries AS d"
    " WHERE d.endpoint_id = c.endpoint_id AND d.status = 'pending'"
    " AND d.next_attempt_at <= :now AND (d.claimed_until IS NULL OR d.claimed_until <= :now)"
    " ORDER BY d.next_attempt_at, d.id LIMIT :per_endpoint FOR UPDATE OF d SKIP LOCKED)"
    " AS picked ORDER BY picked.next_attempt_at, picked.id LIMIT :limit),"
    " leased AS (UPDATE webhook_deliveries AS d SET claimed_until = :until FROM due"
    " WHERE d.id = due.id RETURNING d.*) "
    + _LEASED_COLUMNS
    + " FROM leased AS d JOIN webhook_endpoints AS w ON w.id = d.endpoint_id"
    " JOIN events AS e ON e.id = d.event_id ORDER BY d.next_attempt_at, d.id"
).bindparams(
    bindparam("now", type_=_Moment),
    bindparam("until", type_=_Moment),
    bindparam("excluding", type_=ARRAY(Uuid)),
)
# Many attempts in one statement, each only under the lease it was made with.
# Before the outcomes, their endpoints, in id order: a settle updates the endpoint after its
# deliveries (note_attempt), a DELETE of an endpoint locks it before its deliveries (the
# cascade), and the two orders would deadlock.
_LOCK_SETTLED_ENDPOINTS = text(
    "SELECT w.id FROM webhook_endpoints AS w WHERE w.id IN"
    " (SELECT d.endpoint_id FROM webhook_deliveries AS d WHERE d.id = ANY(:ids))"
    " ORDER BY w.id FOR NO KEY UPDATE OF w"
).bindparams(bindparam("ids", type_=ARRAY(BigInteger)))
_SETTLE = text(
    "UPDATE webhook_deliveries AS d SET status = o.status, attempts = d.attempts + 1,"
    " next_attempt_at = o.next_attempt_at, last_status_code = o.status_code,"
    " last_error = o.error, claimed_until = NULL"
    " FROM unnest(:ids, :leased_untils, :statuses, :next_attempt_ats, :status_codes, :errors)"
    " AS o(id, leased_until, status, next_attempt_at, status_code, error)"
    " WHERE d.id = o.id AND d.claimed_until = o.leased_until"
).bindparams(
    bindparam("ids", type_=ARRAY(BigInteger)),
    bindparam("leased_untils", type_=ARRAY(_Moment)),
    bindparam("statuses", type_=ARRAY(Text)),
    bindparam("next_attempt_ats", type_=ARRAY(_Moment)),
    bindparam("status_codes", type_=ARRAY(Integer)),
    bindparam("errors", type_=ARRAY(Text)),
)
_RELEASE = text(
    "UPDATE webhook_deliveries SET claimed_until = NULL"
    " WHERE id = ANY(:ids) AND claimed_until = :leased_until"
).bindparams(bindparam("ids", type_=ARRAY(BigInteger)), bindparam("leased_until", type_=_Moment))
_PAGE = text(
    "SELECT d.id AS d_id, d.endpoint_id AS d_endpoint_id, d.event_id AS d_event_id,"
    " d.status AS d_status, d.attempts AS d_attempts, d.next_attempt_at AS d_next_attempt_at,"
    " d.last_status_code AS d_last_status_code, d.last_error AS d_last_error,"
    " d.queued_at AS d_queued_at"
    " FROM webhook_deliveries AS d"
    " WHERE d.endpoint_id = :endpoint_id AND d.id < :before"
    " AND (CAST(:status AS text) IS NULL OR d.status = CAST(:status AS text))"
    " ORDER BY d.id DESC LIMIT :limit"
).bindparams(bindparam("endpoint_id", type_=Uuid))
_REQUEUE = text(
    "INSERT INTO webhook_deliveries"
    " (endpoint_id, event_id, status, attempts, next_attempt_at, queued_at)"
    " SELECT :endpoint_id, e.id, 'pending', 0, :now, :now FROM events AS e"
    " WHERE e.user_ids @> ARRAY[CAST(:user_id AS uuid)]"
    " AND (e.transaction_id, e.position) > (:after_transaction, :after_position)"
    " AND e.transaction_id < (pg_snapshot_xmin(pg_current_snapshot())::text)::bigint"
    " AND (CAST(:types AS text[]) IS NULL OR e.type = ANY(CAST(:types AS text[])))"
    " ORDER BY e.transaction_id, e.position"
    " ON CONFLICT (endpoint_id, event_id) DO UPDATE SET status = 'pending',"
    " next_attempt_at = excluded.next_attempt_at, queued_at = excluded.queued_at,"
    " claimed_until = NULL"
).bindparams(
    bindparam("endpoint_id", type_=Uuid),
    bindparam("user_id", type_=Uuid),
    bindparam("now", type_=_Moment),
    bindparam("types", type_=ARRAY(Text)),
)
_BACKLOG = text(
    "SELECT count(*) AS pending, count(*) FILTER (WHERE attempts > 0) AS retrying,"
    " min(queued_at) AS oldest FROM webhook_deliveries WHERE status = 'pending'"
)


def _endpoint(row: Any, sealer: SecretSealer) -> WebhookEndpoint:
    previous = row.previous_secret
    return WebhookEndpoint(
        id=row.id,
        user_id=row.user_id,
        url=row.url,
        event_types=None if row.event_types is None else frozenset(row.event_types),
        description=row.description,
        enabled=row.enabled,
        secret=sealer.open(row.secret, row.id),
        created_at=row.created_at,
        previous_secret=None if previous is None else sealer.open(previous, row.id),
        previous_secret_until=row.previous_secret_until,
        failing_since=row.failing_since,
    )


def _values(endpoint: WebhookEndpoint, sealer: SecretSealer) -> dict[str, Any]:
    previous = endpoint.previous_secret
    return {
        "id": endpoint.id,
        "user_id": endpoint.user_id,
        "url": endpoint.url,
        "event_types": None if endpoint.event_types is None else sorted(endpoint.event_types),
        "description": endpoint.description,
        "enabled": endpoint.enabled,
        "secret": sealer.seal(endpoint.secret, endpoint.id),
        "previous_secret": None if previous is None else sealer.seal(previous, endpoint.id),
        "previous_secret_until": endpoint.previous_secret_until,
        "failing_since": endpoint.failing_since,
        "created_at": endpoint.created_at,
    }


def _delivery(row: Any) -> WebhookDelivery:
    return WebhookDelivery(
        id=row.d_id,
        endpoint_id=row.d_endpoint_id,
        event_id=row.d_event_id,
        status=DeliveryStatus(row.d_status),
        attempts=row.d_attempts,
        next_attempt_at=row.d_next_attempt_at,
        last_status_code=row.d_last_status_code,
        last_error=row.d_last_error,
        queued_at=row.d_queued_at,
    )


_ENDPOINT_COLUMNS = tuple(str(column.name) for column in webhook_endpoints.columns)


def _leased(rows: Any, until: datetime, sealer: SecretSealer) -> list[LeasedDelivery]:
    """Leased rows as deliveries; an endpoint (its secrets opened) and an event are built once
    however many rows repeat them."""
    endpoints: dict[tuple[Any, ...], WebhookEndpoint] = {}
    events: dict[UUID, StoredEvent] = {}
    leased = []
    for row in rows:
        endpoint_key = tuple(
            tuple(value) if isinstance(value, list) else value
            for value in (getattr(row, name) for name in _ENDPOINT_COLUMNS)
        )
        endpoint = endpoints.get(endpoint_key)
        if endpoint is None:
            endpoint = endpoints[endpoint_key] = _endpoint(row, sealer)
        stored = events.get(row.d_event_id)
        if stored is None:
            stored = events[row.d_event_id] = _stored(row, "e_")
        leased.append(LeasedDelivery(_delivery(row), endpoint, stored, until))
    return leased


class SqlAlchemyWebhookEndpointRepository(WebhookEndpointRepository):
    """Secrets are sealed on the way in and opened on the way out (adapters/sealed_secrets)."""

    def __init__(self, connection: AsyncConnection, sealer: SecretSealer) -> None:
        self._connection = connection
        self._sealer = sealer

    async def add(self, endpoint: WebhookEndpoint) -> None:
        await self._connection.execute(insert(webhook_endpoints), _values(endpoint, self._sealer))

    async def get(self, endpoint_id: UUID) -> WebhookEndpoint | None:
        row = (await self._connection.execute(_GET, {"id": endpoint_id})).one_or_none()
        return None if row is None else _endpoint(row, self._sealer)

    async def of_user(self, user_id: UUID) -> list[WebhookEndpoint]:
        rows = await self._connection.execute(_OF_USER, {"user_id": user_id})
        return [_endpoint(row, self._sealer) for row in rows]

    async def lock_user_and_count(self, user_id: UUID) -> int:
        await self._connection.execute(_LOCK_USER, {"user_id": user_id})
        return int(await self._connection.scalar(_COUNT, {"user_id": user_id}) or 0)

    async def save(self, endpoint: WebhookEndpoint) -> None:
        values = _values(endpoint, self._sealer)
        del values["id"], values["user_id"], values["created_at"]
        await self._connection.execute(
            update(webhook_endpoints).where(webhook_endpoints.c.id == endpoint.id).values(values)
        )

    async def delete(self, endpoint_id: UUID) -> None:
        await self._connection.execute(_DELETE, {"id": endpoint_id})

    async def note_attempt(self, endpoint_id: UUID, *, succeeded: bool, at: datetime) -> None:
        await self._connection.execute(
            _NOTE_ATTEMPT, {"id": endpoint_id, "succeeded": succeeded, "at": at}
        )


class SqlAlchemyWebhookDeliveryQueue(WebhookDeliveryQueue):
    def __init__(self, connection: AsyncConnection, sealer: SecretSealer) -> None:
        self._connection = connection
        self._sealer = sealer

    async def fan_out(self, limit: int, *, now: datetime, until: datetime) -> FanOut:
        await self._connection.execute(_NO_FLUSH)
        values = {"limit": limit, "now": now, "until": until}
        row = (await self._connection.execute(_FAN_OUT, values)).one()
        if not row.moved:
            return FanOut(0, [])
        leased: list[LeasedDelivery] = []
        if row.leased:
            rows = await self._connection.execute(_FANNED_OUT, {"ids": list(row.leased)})
            leased = _leased(rows, until, self._sealer)
        return FanOut(int(row.read), leased, int(row.unleased))

    async def lease(
        self,
        limit: int,
        *,
        now: datetime,
        until: datetime,
        excluding: Collection[UUID],
        per_endpoint: int,
    ) -> list[LeasedDelivery]:
        values = {
            "limit": limit,
            "scan": limit * 10,
            "per_endpoint": per_endpoint,
            "now": now,
            "until": until,
            "excluding": list(excluding),
        }
        await self._connection.execute(_NO_FLUSH)
        rows = await self._connection.execute(_LEASE, values)
        return _leased(rows, until, self._sealer)

    async def release(self, delivery_ids: Collection[int], *, leased_until: datetime) -> None:
        if delivery_ids:
            await self._connection.execute(
                _RELEASE, {"ids": list(delivery_ids), "leased_until": leased_until}
            )

    async def settle(
        self, outcomes: Sequence[DeliveryOutcome], *, endpoints_next: bool = True
    ) -> None:
        if not outcomes:
            return
        await self._connection.execute(_NO_FLUSH)
        if endpoints_next:
            await self._connection.execute(
                _LOCK_SETTLED_ENDPOINTS, {"ids": [o.delivery_id for o in outcomes]}
            )
        await self._connection.execute(
            _SETTLE,
            {
                "ids": [o.delivery_id for o in outcomes],
                "leased_untils": [o.leased_until for o in outcomes],
                "statuses": [o.status.value for o in outcomes],
                "next_attempt_ats": [o.next_attempt_at for o in outcomes],
                "status_codes": [o.status_code for o in outcomes],
                "errors": [o.error for o in outcomes],
            },
        )

    async def page(
        self,
        endpoint_id: UUID,
        *,
        status: DeliveryStatus | None,
        before: int | None,
        limit: int,
    ) -> list[WebhookDelivery]:
        rows = await self._connection.execute(
            _PAGE,
            {
                "endpoint_id": endpoint_id,
                "before": 2**63 - 1 if before is None else before,
                "status": None if status is None else status.value,
                "limit": limit,
            },
        )
        return [_delivery(row) for row in rows]

    async def requeue(
        self, endpoint: WebhookEndpoint, *, after: FeedPosition, now: datetime
    ) -> int:
        result = await self._connection.execute(
            _REQUEUE,
            {
                "endpoint_id": endpoint.id,
                "user_id": endpoint.user_id,
                "after_transaction": after.transaction,
                "after_position": after.position,
                "now": now,
                "types": None if endpoint.event_types is None else sorted(endpoint.event_types),
            },
        )
        return int(result.rowcount)

    async def backlog(self) -> DeliveryBacklog:
        row = (await self._connection.execute(_BACKLOG)).one()
        return DeliveryBacklog(row.pending, row.retrying, row.oldest)
