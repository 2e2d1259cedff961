"""Webhook delivery, off the money path: committed events are fanned out into one delivery
per endpoint (`DispatchWebhooks`), and workers lease due deliveries (several share them, SKIP
LOCKED) and POST them, signed, each endpoint at most `concurrency` at a time
(`DeliverWebhooks`). A transfer's transaction does no webhook work at all."""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from uuid import UUID

from application.errors import ApplicationError
from application.events import webhook_endpoint_disabled
from application.ports.clock import Clock
from application.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory
from application.ports.webhooks import (
    DeliveryOutcome,
    DeliveryStatus,
    FanOut,
    LeasedDelivery,
    WebhookResponse,
    WebhookTransport,
)
from application.webhook_urls import WebhookUrlGuard
from domain.errors import DomainError
from domain.webhook import DELIVERY_TIMEOUT_S, WebhookEndpoint, retry_delay, signature_header

LEASE = timedelta(minutes=1)
"""How long a worker may take over an attempt (10 s at most) before another worker takes the
delivery over (after a crash): the copy that makes shares its `Hexbank-Event-Id`."""
LEASE_DUE_EVERY = timedelta(seconds=0.25)
"""How often the queue is searched for due deliveries (retries; deliveries of failing
endpoints; leases that ran out) while the last search found none. Fresh
deliveries never wait for it: the fan-out hands them over leased."""
FRESH_ENDPOINT = timedelta(seconds=1)
"""How old a waiting delivery's view of its endpoint may be when it starts; an older one is
read again first, so that what the owner changed meanwhile (the URL, disabled, deleted)
holds for it as for a delivery leased now. Only endpoints at their bound have deliveries
that wait: one read per such endpoint per second at most."""
WAITING_PER_SLOT = 4
"""Fresh deliveries an endpoint may have waiting in this process, per attempt it may have in
flight; beyond that (or beyond `batch_size` waiting in all) they are handed back to the queue
(for any worker, when due)."""


class DispatchWebhooks:
    """One pass of the fan-out: the next committed events become deliveries."""

    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock, batch_size: int) -> None:
        self._uow_factory = uow_factory
        self._clock = clock
        self._batch_size = batch_size

    @property
    def batch_size(self) -> int:
        """Events read per pass: a pass that read this many is behind."""
        return self._batch_size

    async def __call__(self) -> FanOut:
        """The events it read (0: none new, or another dispatcher had them), and the fresh
        deliveries, leased to this worker."""
        now = self._clock.now()
        async with self._uow_factory() as uow:
            fanned = await uow.webhook_deliveries.fan_out(
                self._batch_size, now=now, until=now + LEASE
            )
            await uow.commit()
        return fanned


def webhook_body(leased: LeasedDelivery) -> bytes:
    """The event as the endpoint's owner reads it in the feed: only the owner's accounts."""
    event = leased.event.event
    mine = {state.id for state in event.accounts if state.owner_id == leased.endpoint.user_id}
    return json.dumps(event.document(visible_accounts=mine), separators=(",", ":")).encode()


class DeliverWebhooks:
    """Send leased deliveries, each in a task of its own: the fresh ones the fan-out hands
    over (`take`), which wait here for a slot of their endpoint, and the due ones it leases
    from the queue. An endpoint at its bound of attempts in flight is left out of the next
    lease, so a slow or dead endpoint holds only its own slots (one while it is failing); the
    rest go on. The attempts that ended are recorded together on the next pass, each under
    the lease it was made with: a worker killed mid-attempt (or before it recorded) leaves
    the delivery to another once the lease runs out (at least once)."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        guard: WebhookUrlGuard,
        transport: WebhookTransport,
        *,
        retry_window: timedelta,
        concurrency: int,
        batch_size: int,
        on_outcome: Callable[[str], None] = lambda outcome: None,
    ) -> None:
        self._uow_factory = uow_factory
        self._clock = clock
        self._guard = guard
        self._transport = transport
        self._retry_window = retry_window
        self._concurrency = concurrency
        self._batch_size = batch_size
        self._on_outcome = on_outcome
        self._in_flight: dict[UUID, int] = {}
        self._bounds: dict[UUID, int] = {}
        """Of the endpoints with attempts in flight: how many each may have (`_bound`)."""
        self._tasks: set[asyncio.Task[None]] = set()
        self._ended: list[_Ended] = []
        """Attempts that ended and are not recorded yet."""
        self._waiting: dict[UUID, deque[LeasedDelivery]] = {}
        """Fresh deliveries leased to this worker, per endpoint, waiting for a slot."""
        self._read_at: dict[UUID, datetime] = {}
        """When the endpoint of each waiting queue was read (the oldest view in it)."""
        self._next_lease = datetime.min.replace(tzinfo=UTC)
        """When the queue is searched for due deliveries next; sooner when an attempt of a
        searched delivery ends (its endpoint may have more due) or the fan-out queued some
        it could not lease (a failing endpoint's)."""
        self.slot_freed = asyncio.Event()
        """Set when an attempt ends: the loop leases again at once instead of idling."""

    @property
    def in_flight(self) -> int:
        return len(self._tasks)

    @property
    def waiting(self) -> int:
        """Fresh deliveries waiting here for a slot of their endpoint."""
        return sum(map(len, self._waiting.values()))

    async def take(self, fanned: FanOut) -> None:
        """Fresh deliveries the fan-out leased to this worker: those their endpoint has a
        slot for start on this pass; the others wait here for one, within their endpoint's
        room to wait and `batch_size` in all, and the rest go back to the queue. Only slow
        endpoints' deliveries wait, so this bound (not a pause of the fan-out, which would
        hold up every endpoint's fresh deliveries behind theirs) is what keeps them few."""
        if fanned.unleased:
            self._search_now()
        held = self.waiting  # those of the last pass wait for a slot
        handed_back: list[LeasedDelivery] = []
        for lease in fanned.leased:
            endpoint = lease.endpoint.id
            waiting = self._waiting.setdefault(endpoint, deque())
            if len(waiting) >= self._bound(lease.endpoint) - self._in_flight.get(endpoint, 0):
                if len(waiting) >= self._concurrency * WAITING_PER_SLOT or held >= self._batch_size:
                    handed_back.append(lease)
                    continue
                held += 1
            waiting.append(lease)
            self._read_at.setdefault(endpoint, lease.leased_until - LEASE)
        await self._release(handed_back)

    async def __call__(self) -> int:
        """Record the attempts that ended, start what waits for a slot, and lease what is
        due when its search is due; how many attempts it started."""
        await self.record()
        await self._read_waiting_endpoints_again()
        started = self._start_waiting()
        now = self._clock.now()
        room = self._batch_size * 4 - len(self._tasks)
        if room <= 0 or now < self._next_lease:
            return started
        full = [
            endpoint
            for endpoint, n in self._in_flight.items()
            if n >= self._bounds.get(endpoint, self._concurrency)
        ]
        full += [endpoint for endpoint, waiting in self._waiting.items() if waiting]
        limit = min(self._batch_size, room)
        async with self._uow_factory() as uow:
            leased = await uow.webhook_deliveries.lease(
                limit, now=now, until=now + LEASE, excluding=full, per_endpoint=self._concurrency
            )
            await uow.commit()
        # Something was due: more may be, search again at once; otherwise a little later.
        self._next_lease = now if leased else now + LEASE_DUE_EVERY
        surplus: list[LeasedDelivery] = []
        for lease in leased:
            if self._in_flight.get(lease.endpoint.id, 0) >= self._bound(lease.endpoint):
                surplus.append(lease)  # beyond the endpoint's bound: for the next pass
                continue
            self._start(lease, searched=True)
        await self._release(surplus)
        return started + len(leased) - len(surplus)

    async def _read_waiting_endpoints_again(self) -> None:
        """The endpoints whose waiting deliveries may start now, when read longer than
        FRESH_ENDPOINT ago: deleted, their deliveries are gone; disabled or failing, back to
        the queue; otherwise they start with the endpoint as it is now."""
        now = self._clock.now()
        stale = [
            endpoint
            for endpoint, waiting in self._waiting.items()
            if waiting
            and self._read_at.get(endpoint, now) <= now - FRESH_ENDPOINT
            and self._in_flight.get(endpoint, 0) < self._bound(waiting[0].endpoint)
        ]
        if not stale:
            return
        async with self._uow_factory() as uow:
            current = {endpoint: await uow.webhook_endpoints.get(endpoint) for endpoint in stale}
        handed_back: list[LeasedDelivery] = []
        for endpoint_id, endpoint in current.items():
            if endpoint is None:
                self._hand_back(endpoint_id)  # deleted, with its deliveries
            elif not endpoint.enabled or endpoint.failing_since is not None:
                handed_back += self._hand_back(endpoint_id)
            else:
                waiting = self._waiting[endpoint_id]
                self._waiting[endpoint_id] = deque(replace(d, endpoint=endpoint) for d in waiting)
                self._read_at[endpoint_id] = now
        await self._release(handed_back)

    def _start_waiting(self) -> int:
        """Start the waiting deliveries their endpoints have slots for, within the worker's
        slots (4 x batch_size, as for a lease: endpoints that hang hold no more attempts, nor
        sockets, however many they are); one whose lease could run out during its attempt is
        dropped (the queue has it: it is leased again)."""
        started = 0
        room = self._batch_size * 4 - len(self._tasks)
        deadline = self._clock.now() + timedelta(seconds=2 * DELIVERY_TIMEOUT_S)
        for endpoint, waiting in list(self._waiting.items()):
            while waiting and started < room:
                lease = waiting[0]
                if self._in_flight.get(endpoint, 0) >= self._bound(lease.endpoint):
                    break
                waiting.popleft()
                if lease.leased_until < deadline:
                    continue
                self._start(lease, searched=False)
                started += 1
            if not waiting:
                del self._waiting[endpoint]
                self._read_at.pop(endpoint, None)
        return started

    def _search_now(self) -> None:
        self._next_lease = datetime.min.replace(tzinfo=UTC)

    def _start(self, lease: LeasedDelivery, *, searched: bool) -> None:
        endpoint = lease.endpoint.id
        self._bounds[endpoint] = self._bound(lease.endpoint)
        self._in_flight[endpoint] = self._in_flight.get(endpoint, 0) + 1
        task = asyncio.create_task(self._attempt(lease, searched), name="webhook-delivery")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _release(self, leases: list[LeasedDelivery]) -> None:
        """Hand leased deliveries back to the queue unsent (each under its own lease)."""
        by_lease: dict[datetime, list[int]] = {}
        for lease in leases:
            by_lease.setdefault(lease.leased_until, []).append(lease.delivery.id)
        if not by_lease:
            return
        async with self._uow_factory() as uow:
            for leased_until, ids in by_lease.items():
                await uow.webhook_deliveries.release(ids, leased_until=leased_until)
            await uow.commit()

    def _bound(self, endpoint: WebhookEndpoint) -> int:
        """Attempts the endpoint may have in flight: one while it is failing (every attempt
        since `failing_since` failed), so endpoints that hang or refuse cannot take this
        process's slots from those that answer; `concurrency` again after a success."""
        return 1 if endpoint.failing_since is not None else self._concurrency

    async def drain(self) -> None:
        """Hand back what waits, wait for the attempts under way and record them (on the way
        out)."""
        waiting = [lease for endpoint in list(self._waiting) for lease in self._hand_back(endpoint)]
        try:
            await self._release(waiting)
        finally:
            while self._tasks:
                await asyncio.gather(*list(self._tasks), return_exceptions=True)
            await self.record()

    async def _attempt(self, lease: LeasedDelivery, searched: bool) -> None:
        endpoint = lease.endpoint
        try:
            now = self._clock.now()
            body = webhook_body(lease)
            headers = {
                "Content-Type": "application/json",
                "User-Agent": "hexbank-webhooks",
                "Hexbank-Event-Id": str(lease.event.event.id),
                "Hexbank-Event-Type": lease.event.event.type,
                "Hexbank-Delivery-Attempt": str(lease.delivery.attempts + 1),
                "Hexbank-Signature": signature_header(
                    endpoint.signing_secrets(now), int(now.timestamp()), body
                ),
            }
            try:
                checked = await self._guard(endpoint.url)
                response = await self._transport.post(endpoint.url, checked.address, body, headers)
            except DomainError as refused:  # unsafe now (DNS rebinding), or no longer resolves
                response = WebhookResponse(None, f"{refused.code}: {refused.detail}")
            except Exception as error:  # a failed attempt, in the log, retried
                response = WebhookResponse(
                    None, f"unexpected {type(error).__name__}: {error}"[:300]
                )
            self._ended.append(_Ended(lease, response, self._clock.now()))
        finally:
            self.slot_freed.set()
            if searched:
                self._search_now()
            left = self._in_flight.get(endpoint.id, 1) - 1
            if left:
                self._in_flight[endpoint.id] = left
            else:
                self._in_flight.pop(endpoint.id, None)
                self._bounds.pop(endpoint.id, None)

    async def record(self) -> None:
        """Write down every attempt that ended since the last time, in one transaction (its
        lease still holds meanwhile: no one else takes the delivery). If the database is
        away they are lost, and their leases run out: the events are sent again."""
        ended, self._ended = self._ended, []
        if not ended:
            return
        outcomes = [self._outcome(attempt) for attempt in ended]
        endpoints = _endpoint_states(ended, outcomes)
        # Every attempt succeeded and no endpoint was failing (the usual batch): nothing to
        # note on any endpoint, so no endpoint row is locked or written.
        noted = {
            endpoint_id: state
            for endpoint_id, state in endpoints.items()
            if state.was_failing or state.failing_since is not None or state.gone
        }
        try:
            async with self._uow_factory() as uow:
                await uow.webhook_deliveries.settle(
                    [outcome for outcome, _ in outcomes], endpoints_next=bool(noted)
                )
                for endpoint_id, state in noted.items():
                    if state.succeeded_at is not None:
                        await uow.webhook_endpoints.note_attempt(
                            endpoint_id, succeeded=True, at=state.succeeded_at
                        )
                    if state.failing_since is not None:
                        await uow.webhook_endpoints.note_attempt(
                            endpoint_id, succeeded=False, at=state.failing_since
                        )
                    reason = self._disabled_for(state)
                    if reason is not None:
                        await _disable(uow, endpoint_id, reason, state.last_at)
                await uow.commit()
        except ApplicationError:
            for _ in ended:
                self._on_outcome("unrecorded")
            raise
        for _, name in outcomes:
            self._on_outcome(name)
        # The fresh deliveries waiting here for an endpoint that is failing now were leased
        # while it was sound: back to the queue, whence it gets one attempt at a time.
        await self._release(
            [
                lease
                for endpoint_id, state in endpoints.items()
                if state.failing_since is not None
                for lease in self._hand_back(endpoint_id)
            ]
        )

    def _hand_back(self, endpoint_id: UUID) -> deque[LeasedDelivery]:
        waiting = self._waiting.pop(endpoint_id, deque())
        self._read_at.pop(endpoint_id, None)
        return waiting

    def _outcome(self, attempt: _Ended) -> tuple[DeliveryOutcome, str]:
        delivery, code, now = attempt.lease.delivery, attempt.response.status_code, attempt.at
        next_at = None
        if code is not None and 200 <= code < 300:
            status, name = DeliveryStatus.DELIVERED, "delivered"
        elif code == 410:
            status, name = DeliveryStatus.FAILED, "gone"
        elif now >= delivery.queued_at + self._retry_window:
            status, name = DeliveryStatus.FAILED, "failed"
        else:
            status, name = DeliveryStatus.PENDING, "retried"
            next_at = now + retry_delay(delivery.attempts + 1)
        outcome = DeliveryOutcome(
            delivery.id, attempt.lease.leased_until, status, next_at, code, attempt.response.error
        )
        return outcome, name

    def _disabled_for(self, state: _EndpointState) -> str | None:
        """`gone` after a 410; `failing` when its last attempt failed and every one has
        since the whole retry window ago."""
        if state.gone:
            return "gone"
        since = state.failing_before or state.failing_since
        if state.last_failed and since is not None and state.last_at >= since + self._retry_window:
            return "failing"
        return None


@dataclass(frozen=True, slots=True)
class _Ended:
    lease: LeasedDelivery
    response: WebhookResponse
    at: datetime


@dataclass(slots=True)
class _EndpointState:
    """What one batch of attempts says about an endpoint."""

    failing_before: datetime | None
    """Its `failing_since` when leased (None if a success in this batch cleared it)."""
    was_failing: bool = False
    """Whether it was failing when leased: only then has a success anything to clear."""
    succeeded_at: datetime | None = None
    failing_since: datetime | None = None
    """The first failure after its last success in this batch (None: none since)."""
    last_at: datetime = datetime.min
    last_failed: bool = False
    gone: bool = False


def _endpoint_states(
    ended: list[_Ended], outcomes: list[tuple[DeliveryOutcome, str]]
) -> dict[UUID, _EndpointState]:
    states: dict[UUID, _EndpointState] = {}
    ordered = sorted(zip(ended, outcomes, strict=True), key=lambda pair: pair[0].at)
    for attempt, (outcome, _) in ordered:
        endpoint = attempt.lease.endpoint
        state = states.setdefault(
            endpoint.id,
            _EndpointState(endpoint.failing_since, was_failing=endpoint.failing_since is not None),
        )
        state.last_at = attempt.at
        if outcome.status is DeliveryStatus.DELIVERED:
            state.succeeded_at, state.failing_since, state.failing_before = attempt.at, None, None
            state.last_failed = False
        else:
            state.failing_since = state.failing_since or attempt.at
            state.last_failed = True
            state.gone = state.gone or outcome.status_code == 410
    return states


async def _disable(uow: UnitOfWork, endpoint_id: UUID, reason: str, now: datetime) -> None:
    """Disable an endpoint the bank gave up on, and say so in its user's feed (once)."""
    current = await uow.webhook_endpoints.get(endpoint_id)
    if current is None or not current.enabled:
        return
    await uow.webhook_endpoints.save(replace(current, enabled=False))
    disabled = webhook_endpoint_disabled(current.id, current.user_id, current.url, reason, now)
    await uow.outbox.add([disabled])
