"""An event publisher that keeps what it is given, in order, as one JetStream stream would.

It follows the same contract tests as the NATS one: it refuses events before `ensure_stream`
(no stream, no responders), drops an id it has already stored inside the duplicate window
(answering as if stored, like a PubAck with `duplicate`), and can be put "down" so tests can
watch the relay keep its rows and retry.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from types import MappingProxyType
from uuid import UUID

from application.ports.event_publisher import (
    DUPLICATE_WINDOW,
    MESSAGE_ID_HEADER,
    SUBJECT_PREFIX,
    EventNotDelivered,
    EventPublisher,
    OutgoingEvent,
    event_subject,
)


@dataclass(frozen=True)
class StoredMessage:
    """What a consumer of the stream receives."""

    subject: str
    payload: bytes
    headers: Mapping[str, str]


class InMemoryEventPublisher(EventPublisher):
    def __init__(
        self,
        *,
        subject_prefix: str = SUBJECT_PREFIX,
        duplicate_window: timedelta = DUPLICATE_WINDOW,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._subject_prefix = subject_prefix
        self._window_s = duplicate_window.total_seconds()
        self._clock = clock
        self._messages: list[StoredMessage] = []
        self._stored_at: dict[UUID, float] = {}
        self._has_stream = False
        self.broker_down = False
        """While True, every call fails as if the broker could not be reached."""
        self.closed = False
        """True after `close()` until the next use (a real client reconnects on next use)."""

    @property
    def messages(self) -> Sequence[StoredMessage]:
        return tuple(self._messages)

    @property
    def events(self) -> Sequence[OutgoingEvent]:
        """The stored messages as the events that were published, for assertions."""
        return tuple(
            OutgoingEvent(
                id=UUID(message.headers[MESSAGE_ID_HEADER]),
                type=message.subject.removeprefix(f"{self._subject_prefix}."),
                payload=message.payload,
                headers={k: v for k, v in message.headers.items() if k != MESSAGE_ID_HEADER},
            )
            for message in self._messages
        )

    async def ensure_stream(self) -> None:
        self._reachable()
        self._has_stream = True

    async def publish(self, event: OutgoingEvent) -> None:
        self._reachable()
        if not self._has_stream:
            raise EventNotDelivered(f"no stream takes {event.type} events (ensure_stream not run?)")
        now = self._clock()
        self._forget_before(now - self._window_s)
        if event.id in self._stored_at:
            return
        self._stored_at[event.id] = now
        headers = {**event.headers, MESSAGE_ID_HEADER: str(event.id)}
        self._messages.append(
            StoredMessage(
                event_subject(event.type, self._subject_prefix),
                event.payload,
                MappingProxyType(headers),
            )
        )

    async def publish_all(self, events: Sequence[OutgoingEvent]) -> list[EventNotDelivered | None]:
        results: list[EventNotDelivered | None] = []
        for event in events:
            if results and results[-1] is not None:  # as on a connection: nothing sent after
                results.append(EventNotDelivered(f"event {event.id} not sent: {results[-1]}"))
                continue
            try:
                await self.publish(event)
            except EventNotDelivered as failure:
                results.append(failure)
            else:
                results.append(None)
        return results

    async def close(self) -> None:
        self.closed = True

    def _reachable(self) -> None:
        if self.broker_down:
            raise EventNotDelivered("the broker is down")
        self.closed = False

    def _forget_before(self, cutoff: float) -> None:
        """Ids are kept in the order they were stored, so the expired ones come first."""
        while self._stored_at:
            oldest, at = next(iter(self._stored_at.items()))
            if at > cutoff:
                return
            del self._stored_at[oldest]
