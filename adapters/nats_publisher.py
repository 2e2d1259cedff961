"""The event publisher on NATS JetStream (nats-py).

One connection, opened on first use and kept: nats-py reconnects by itself, forever, after a
broker restart or a network cut. While it is not connected, `publish` fails at once instead
of queueing the event in the client's buffer: the relay keeps the row and tries again, so a
broker outage costs no waiting and no memory. A message that was written to the socket but
whose PubAck was lost is published again by the relay; JetStream drops that duplicate by its
`Nats-Msg-Id` within the stream's duplicate window.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from datetime import timedelta

import nats
import nats.errors
import nats.js.errors
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import PubAck, StorageType, StreamConfig

from application.ports.event_publisher import (
    DUPLICATE_WINDOW,
    MESSAGE_ID_HEADER,
    STREAM_NAME,
    SUBJECT_PREFIX,
    EventNotDelivered,
    EventPublisher,
    OutgoingEvent,
    event_subject,
)
from application.turns import ITEMS_PER_TURN, take_turn

logger = logging.getLogger("hexbank.events.nats")

# How many PubAcks the client may await at once (nats-py's own default), set here so that
# `_send` knows when a publish can wait for room.
PENDING_ACKS = 4000
# JetStream's error code for "stream name already in use with a different configuration".
_STREAM_NAME_IN_USE = 10058
# What nats-py raises when the broker cannot take or acknowledge a request; anything else is
# a bug here, not an outage, and is left to propagate.
_BROKER_FAILURES = (nats.errors.Error, asyncio.TimeoutError, OSError)


class NatsJetStreamPublisher(EventPublisher):
    def __init__(
        self,
        url: str,
        *,
        stream: str = STREAM_NAME,
        subject_prefix: str = SUBJECT_PREFIX,
        duplicate_window: timedelta = DUPLICATE_WINDOW,
        publish_timeout_s: float = 5.0,
        connect_timeout_s: float = 2.0,
        reconnect_wait_s: float = 1.0,
        name: str = "hexbank",
    ) -> None:
        self._url = url
        self._stream = stream
        self._subject_prefix = subject_prefix
        self._duplicate_window = duplicate_window
        self._publish_timeout_s = publish_timeout_s
        self._connect_timeout_s = connect_timeout_s
        self._reconnect_wait_s = reconnect_wait_s
        self._name = name
        self._client: Client | None = None
        self._js: tuple[Client, JetStreamContext] | None = None
        """The client's JetStream context, kept: its reply subscription for acks is made once."""
        self._connecting: asyncio.Task[None] | None = None
        self._last_error: str | None = None

    async def ensure_stream(self) -> None:
        js = await self._jetstream()
        wanted = StreamConfig(
            name=self._stream,
            subjects=[f"{self._subject_prefix}.>"],
            storage=StorageType.FILE,
            duplicate_window=self._duplicate_window.total_seconds(),
        )
        try:
            try:
                current = (await js.stream_info(self._stream)).config
            except nats.js.errors.NotFoundError:
                try:
                    await js.add_stream(wanted)
                    return
                except nats.js.errors.BadRequestError as race:
                    # Another relay created it a moment ago, with other settings: update it.
                    if race.err_code != _STREAM_NAME_IN_USE:
                        raise
                    current = (await js.stream_info(self._stream)).config
            # Keep what an operator set that we do not care about (limits, replicas).
            updated = current.evolve(
                subjects=wanted.subjects,
                storage=wanted.storage,
                duplicate_window=wanted.duplicate_window,
            )
            if updated != current:
                await js.update_stream(updated)
                logger.info("updated stream %s to the expected settings", self._stream)
        except nats.js.errors.APIError as refusal:
            raise EventNotDelivered(
                f"JetStream refused to set up stream {self._stream}: {refusal.description}"
            ) from refusal
        except _BROKER_FAILURES as failure:
            raise EventNotDelivered(
                f"cannot set up stream {self._stream}: {_describe(failure)}"
            ) from failure

    async def publish(self, event: OutgoingEvent) -> None:
        [failure] = await self.publish_all([event])
        if failure is not None:
            raise failure

    async def publish_all(self, events: Sequence[OutgoingEvent]) -> list[EventNotDelivered | None]:
        if not events:
            return []
        try:
            js = await self._jetstream()
        except EventNotDelivered as failure:
            return [failure] * len(events)
        results: list[EventNotDelivered | None] = [None] * len(events)
        acks: dict[asyncio.Future[PubAck], int] = {}
        try:
            for index, event in enumerate(events):
                if index and index % ITEMS_PER_TURN == 0:
                    await take_turn()
                if (not_sent := await self._send(js, event, acks, index)) is not None:
                    results[index:] = [not_sent] * (len(events) - index)
                    break
            if acks:
                await asyncio.wait(acks, timeout=self._publish_timeout_s)
        finally:  # also when the pass is cancelled: nothing stays in the client's table
            for ack in acks:
                if not ack.done():
                    ack.cancel()
        for ack, index in acks.items():
            results[index] = self._acknowledged(events[index], ack)
        return results

    async def _send(
        self,
        js: JetStreamContext,
        event: OutgoingEvent,
        acks: dict[asyncio.Future[PubAck], int],
        index: int,
    ) -> EventNotDelivered | None:
        """Write one event to the client's buffer (its flusher sends what is there together)
        and keep the future of its PubAck; or say why it was not sent."""
        client = self._client
        if client is None or not client.is_connected:
            return EventNotDelivered(f"event {event.id} not sent: not connected to {self._url}")
        if len(event.payload) > client.max_payload:
            return EventNotDelivered(
                f"event {event.id} not sent: {len(event.payload)} bytes, the broker takes "
                f"{client.max_payload}"
            )
        # nats-py waits for room under its cap through `asyncio.wait_for`, which on Python
        # 3.11 is a task and a trip round the event loop per message given a timeout: its
        # flusher then wrote each message with a system call of its own. Below the cap there
        # is room for certain, so no timeout is given and a turn's messages leave in one write.
        room = js.publish_async_pending() < PENDING_ACKS
        try:
            ack = await js.publish_async(
                event_subject(event.type, self._subject_prefix),
                event.payload,
                stream=self._stream,
                headers={**event.headers, MESSAGE_ID_HEADER: str(event.id)},
                wait_stall=None if room else self._publish_timeout_s,
            )
        except _BROKER_FAILURES as failure:
            # The context registered a future for this send that nobody will settle: make a
            # fresh one next time rather than let its table of pending acks fill up.
            self._js = None
            return EventNotDelivered(f"event {event.id} not sent: {_describe(failure)}")
        acks[ack] = index
        return None

    def _acknowledged(
        self, event: OutgoingEvent, ack: asyncio.Future[PubAck]
    ) -> EventNotDelivered | None:
        if ack.cancelled():
            return EventNotDelivered(
                f"event {event.id} not acknowledged within {self._publish_timeout_s} s"
            )
        failure = ack.exception()
        if isinstance(failure, nats.js.errors.NoStreamResponseError):
            return EventNotDelivered(
                f"no stream takes {event.type} events (ensure_stream not run?)"
            )
        if isinstance(failure, nats.js.errors.APIError):
            return EventNotDelivered(f"JetStream refused event {event.id}: {failure.description}")
        if failure is not None:
            raise failure  # anything else is a bug here, not an outage
        if ack.result().duplicate:
            logger.debug("event %s was already in stream %s", event.id, self._stream)
        return None

    async def close(self) -> None:
        connecting, self._connecting = self._connecting, None
        client, self._client = self._client, None
        self._js = None
        if connecting is not None and not connecting.done():
            connecting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await connecting
        if client is not None and not client.is_closed:
            with contextlib.suppress(*_BROKER_FAILURES):
                await client.close()

    async def _jetstream(self) -> JetStreamContext:
        """The connected client's JetStream context, or `EventNotDelivered` at once if the
        connection is down; the first call opens the connection, waiting for it only up to
        the connect timeout (it goes on trying in the background)."""
        client = self._client
        if client is None or client.is_closed:
            client = self._client = Client()
            self._connecting = asyncio.create_task(self._connect(client))
        if (connecting := self._connecting) is not None:
            done, _ = await asyncio.wait({connecting}, timeout=self._connect_timeout_s)
            if not done:
                raise EventNotDelivered(f"cannot connect to NATS at {self._url}: {self._reason()}")
            # Concurrent callers wait on the same attempt; close() may have replaced it.
            if self._connecting is connecting:
                self._connecting = None
            failure = None if connecting.cancelled() else connecting.exception()
            if connecting.cancelled() or failure is not None:
                if self._client is client:
                    self._client = None
                reason = _describe(failure) if failure is not None else "closed meanwhile"
                raise EventNotDelivered(
                    f"cannot connect to NATS at {self._url}: {reason}"
                ) from failure
        if not client.is_connected:
            raise EventNotDelivered(f"not connected to NATS at {self._url}: {self._reason()}")
        if self._js is None or self._js[0] is not client:
            self._js = (
                client,
                client.jetstream(
                    timeout=self._publish_timeout_s, publish_async_max_pending=PENDING_ACKS
                ),
            )
        return self._js[1]

    async def _connect(self, client: Client) -> None:
        await client.connect(
            self._url,
            name=self._name,
            connect_timeout=max(1, round(self._connect_timeout_s)),
            # nats-py annotates int but sleeps on it: a fraction of a second works.
            reconnect_time_wait=self._reconnect_wait_s,  # type: ignore[arg-type]
            max_reconnect_attempts=-1,
            # Nothing is queued while disconnected: see the module docstring.
            pending_size=0,
            error_cb=self._on_error,
            disconnected_cb=self._on_disconnected,
            reconnected_cb=self._on_reconnected,
        )
        self._last_error = None
        logger.info("connected to NATS at %s", self._url)

    def _reason(self) -> str:
        return self._last_error or "no answer yet"

    async def _on_error(self, error: Exception) -> None:
        """nats-py reports every failed attempt while it reconnects: log each new one once."""
        described = _describe(error)
        if described != self._last_error:
            logger.warning("NATS at %s: %s", self._url, described)
            self._last_error = described

    async def _on_disconnected(self) -> None:
        if self._client is not None and not self._client.is_closed:
            logger.warning("disconnected from NATS at %s; reconnecting", self._url)

    async def _on_reconnected(self) -> None:
        self._last_error = None
        logger.info("reconnected to NATS at %s", self._url)


def _describe(error: BaseException) -> str:
    text = str(error).strip()
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
