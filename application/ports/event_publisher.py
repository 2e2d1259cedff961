"""The port through which committed events leave the bank for a broker (issue 12).

The relay hands it the rows it leased, in outbox order, and marks a row delivered only once
the broker has stored that event (JetStream's PubAck); `EventNotDelivered` means it may not
have, so the row stays and is published again later. Publishing again is safe: the event's id
travels as the broker's de-duplication key.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from types import MappingProxyType
from typing import Protocol
from uuid import UUID

from application.errors import ApplicationError

STREAM_NAME = "HEXBANK_EVENTS"
SUBJECT_PREFIX = "hexbank.events"
# How long the broker remembers an event id: a re-publish inside it is dropped. The relay's
# retries (a crash between publish and mark, a lost PubAck) come back well within it.
DUPLICATE_WINDOW = timedelta(minutes=2)
# The header that carries the event id; JetStream de-duplicates on it.
MESSAGE_ID_HEADER = "Nats-Msg-Id"

# Subject tokens: no spaces, no wildcards (`*`, `>`), no empty token.
_EVENT_TYPE = re.compile(r"[a-z0-9_-]+(?:\.[a-z0-9_-]+)*")
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_RESERVED_HEADER_PREFIX = "nats-"


class EventNotDelivered(ApplicationError):
    """The broker did not acknowledge the event (down, no stream, timeout, connection lost):
    it may or may not have stored it, so keep the event and publish it again later."""

    code = "event-not-delivered"


@dataclass(frozen=True)
class OutgoingEvent:
    """One event as the broker carries it: the payload is the JSON document, already encoded,
    so the bytes delivered are exactly the bytes the outbox holds."""

    id: UUID
    type: str
    payload: bytes
    headers: Mapping[str, str] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        if not _EVENT_TYPE.fullmatch(self.type):
            raise ValueError(f"an event type must be dot-separated subject tokens: {self.type!r}")
        for name, value in self.headers.items():
            # A bad name or a line break would let a header forge the protocol line after it;
            # `Nats-*` headers steer the broker itself, so only the adapter sets them.
            if not _HEADER_NAME.fullmatch(name):
                raise ValueError(f"not a header name: {name!r}")
            if name.lower().startswith(_RESERVED_HEADER_PREFIX):
                raise ValueError(f"header {name} is set by the publisher, not by the event")
            if any(c in value for c in "\r\n\0"):
                raise ValueError(f"header {name} has a line break or NUL in its value")
        # A private copy, read-only: the event cannot change after it was checked.
        object.__setattr__(self, "headers", MappingProxyType(dict(self.headers)))


def event_subject(event_type: str, prefix: str = SUBJECT_PREFIX) -> str:
    """`hexbank.events.transfer.posted`: consumers filter on the type with subject wildcards."""
    return f"{prefix}.{event_type}"


class EventPublisher(Protocol):
    async def ensure_stream(self) -> None:
        """Create the stream, or bring an existing one to the expected settings; safe to call
        on every start, by several relays at once. Raises `EventNotDelivered` if the broker
        cannot be reached."""
        ...

    async def publish(self, event: OutgoingEvent) -> None:
        """Return once the broker has stored the event (or already had its id inside the
        duplicate window); raise `EventNotDelivered` otherwise, never hang past the
        adapter's publish timeout."""
        ...

    async def publish_all(self, events: Sequence[OutgoingEvent]) -> list[EventNotDelivered | None]:
        """Send every event in order without waiting for one's acknowledgement before sending
        the next (one round trip for all, not one each), then wait for the acknowledgements:
        one entry per event, None where the broker stored it, the failure where it may not
        have. After a failure to send, the rest are not sent (and fail), so what reaches the
        broker keeps the given order; an event the broker refuses alone may still be
        followed by later ones it stored. Waits for acknowledgements no longer than the
        adapter's publish timeout."""
        ...

    async def close(self) -> None:
        """Let go of the connection; safe to call more than once, or before any use."""
        ...
