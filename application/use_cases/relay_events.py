from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from application.ports.clock import Clock
from application.ports.event_publisher import EventNotDelivered, EventPublisher, OutgoingEvent
from application.ports.outbox import ClaimedEvent, Outbox, OutboxBacklog
from application.ports.unit_of_work import UnitOfWorkFactory
from application.turns import map_in_turns

LEASE = timedelta(minutes=1)
"""How long a relay may take to publish what it claimed before another relay takes it over
(after a crash); well inside the broker's de-duplication window for the copies that makes."""
COUNT_EVERY = timedelta(seconds=1)
"""How often a relay that keeps finding full batches counts what still waits: the count reads
the whole backlog, so counting on every pass slowed the relay most when it had most to do. A
pass that finds less than a full batch (the backlog is small) counts every time."""


@dataclass(frozen=True, slots=True)
class Settlement:
    """How a pass ends its lease: the events the broker stored are marked delivered, the rest
    released. Kept until it commits: a pass whose settlement fails (the pool exhausted, the
    database away) leaves it to the next pass, which settles it before anything else, so its
    events wait for the relay's retry, not for the lease to run out."""

    delivered: list[ClaimedEvent]
    undelivered: list[ClaimedEvent]
    leased_until: datetime


@dataclass(frozen=True, slots=True)
class RelayPass:
    published: int
    failed: bool
    """The broker refused or did not answer: the rest waits for the next pass."""
    backlog: OutboxBacklog


class RelayEvents:
    """One pass of the relay: lease the oldest undelivered events (relays share the work),
    publish them in order outside any transaction, all sent before any acknowledgement is
    awaited, then mark as delivered those the broker acknowledged and release the rest. A mark
    that fails is done again first thing on the next pass, so its events wait for the retry,
    not for the lease. A crash after a publish and before the mark publishes the event again
    once the lease runs out: the broker drops the copy by its id. The relay never touches the
    money path, and holds no lock while it talks to the broker."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        publisher: EventPublisher,
        clock: Clock,
        batch_size: int,
    ) -> None:
        self._uow_factory = uow_factory
        self._publisher = publisher
        self._clock = clock
        self._batch_size = batch_size
        self._stream_ready = False
        self._counted: tuple[OutboxBacklog, datetime] | None = None
        """The last count of the backlog, and when it was made."""
        self._unsettled: Settlement | None = None
        """A settlement that did not commit: the next pass settles it first."""

    async def __call__(self) -> RelayPass:
        now = self._clock.now()
        if self._unsettled is not None:
            async with self._uow_factory() as uow:
                await settle(uow.outbox, self._unsettled)
                await uow.commit()
            self._unsettled = None
        # Before any event: a consumer started ahead of the first event finds the stream.
        await self._stream()
        async with self._uow_factory() as uow:
            claimed = await uow.outbox.claim_undelivered(
                self._batch_size, now=now, until=now + LEASE
            )
            await uow.commit()
        published: list[ClaimedEvent] = []
        failed = False
        if claimed:
            try:
                published = await self._publish(claimed)
            except Exception:  # a bug: its events are released, not left for the lease
                self._unsettled, self._stream_ready = Settlement([], claimed, now + LEASE), False
                raise
            if len(published) < len(claimed):
                failed, self._stream_ready = True, False
        delivered = {claimed_event.id for claimed_event in published}
        settlement = Settlement(
            published, [c for c in claimed if c.id not in delivered], now + LEASE
        )
        self._unsettled = settlement
        async with self._uow_factory() as uow:
            await settle(uow.outbox, settlement)
            full = len(claimed) == self._batch_size and not failed
            counted = self._counted
            if counted is None or not full or not counted[1] <= now < counted[1] + COUNT_EVERY:
                counted = (await uow.outbox.backlog(), now)  # clock steps too
            await uow.commit()
        self._unsettled, self._counted = None, counted
        return RelayPass(len(published), failed, counted[0])

    async def _stream(self) -> bool:
        """Whether the broker has the stream: made on start, and again after any failure."""
        if not self._stream_ready:
            try:
                await self._publisher.ensure_stream()
            except EventNotDelivered:
                return False
            self._stream_ready = True
        return True

    async def _publish(self, claimed: list[ClaimedEvent]) -> list[ClaimedEvent]:
        """Those the broker stored. All are sent at once: one round trip for the lot."""
        if not await self._stream():
            return []
        results = await self._publisher.publish_all(await map_in_turns(outgoing, claimed))
        return [event for event, failure in zip(claimed, results, strict=True) if failure is None]


async def settle(outbox: Outbox, settlement: Settlement) -> None:
    """Mark and release, both idempotent, so a settlement whose commit was lost is safe to do
    again. Only this relay's own lease is released: if it ran out meanwhile, another relay may
    hold the events now."""
    await outbox.mark_delivered(settlement.delivered)
    await outbox.release(settlement.undelivered, leased_until=settlement.leased_until)


def outgoing(claimed: ClaimedEvent) -> OutgoingEvent:
    """The broker's copy, with the trace it continues."""
    headers = {} if claimed.traceparent is None else {"traceparent": claimed.traceparent}
    return OutgoingEvent(claimed.id, claimed.type, claimed.payload, headers)
