from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from application.cursors import decode_cursor, encode_cursor, int_field
from application.errors import InvalidPage
from application.events import EVENT_TYPES
from application.page_budget import fill_page, json_bytes
from application.ports.clock import Clock
from application.ports.outbox import FeedPosition, StoredEvent
from application.ports.unit_of_work import UnitOfWorkFactory

MAX_EVENTS_PAGE = 100
_MAX_POSITION = 2**63 - 1
_EVENT_BYTES = 200
"""An event's JSON besides its data: id, type, time, version, keys."""
_ACCOUNT_STATE_BYTES = 120
"""One account's id, sequence, balance and available."""


def event_bytes(stored: StoredEvent) -> int:
    event = stored.event
    return _EVENT_BYTES + json_bytes(event.data) + _ACCOUNT_STATE_BYTES * len(event.accounts)


@dataclass(frozen=True, slots=True)
class EventPage:
    items: list[dict[str, Any]]
    next_cursor: str
    """Always given: after the last item, or the cursor that was sent when nothing is new, so
    a client polls with it forever and never misses an event."""


class ReadEventFeed:
    """The caller's events (touching the caller's accounts, or the caller), oldest first, in
    commit order. Each event lists only the caller's own accounts: the store is asked which
    of the page's accounts those are (never for all of the caller's accounts). A page stops
    early at the byte budget. With `accounts` (an API key restricted to some accounts), only
    the events touching those of the caller's accounts, each naming only those."""

    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock, max_page_bytes: int) -> None:
        self._uow_factory = uow_factory
        self._clock = clock
        self._max_page_bytes = max_page_bytes

    async def __call__(
        self,
        user_id: UUID,
        *,
        after: str | None = None,
        types: Collection[str] = (),
        limit: int = 50,
        accounts: Collection[UUID] | None = None,
    ) -> EventPage:
        if not 1 <= limit <= MAX_EVENTS_PAGE:
            raise InvalidPage(f"A page holds 1 to {MAX_EVENTS_PAGE} events.")
        unknown = set(types) - EVENT_TYPES
        if unknown:
            raise InvalidPage(f"Unknown event types: {', '.join(sorted(unknown))}.")
        start = None if after is None else decode_feed_cursor(after)
        async with self._uow_factory() as uow:

            async def fetch(last: StoredEvent | None, count: int) -> list[StoredEvent]:
                position = start if last is None else last.position
                return await uow.outbox.feed(
                    user_id, after=position, types=types, limit=count, accounts=accounts
                )

            page = await fill_page(
                fetch, limit=limit, max_bytes=self._max_page_bytes, size_of=event_bytes
            )
            stored = page.items
            named = {state.id for entry in stored for state in entry.event.accounts}
            if accounts is not None:
                named &= set(accounts)
            mine = await uow.accounts.owned_among(user_id, named) if named else set()
        items = [entry.event.document(visible_accounts=mine) for entry in stored]
        if stored:
            cursor = _encode(stored[-1].position)
        else:
            cursor = after if after is not None else _encode(FeedPosition(0, 0))
        return EventPage(items, cursor)


def _encode(position: FeedPosition) -> str:
    return encode_cursor({"t": position.transaction, "p": position.position})


def decode_feed_cursor(cursor: str) -> FeedPosition:
    """A feed cursor's position (a replay of webhooks starts from one too)."""
    fields = decode_cursor(cursor)
    return FeedPosition(
        int_field(fields, "t", low=0, high=_MAX_POSITION),
        int_field(fields, "p", low=0, high=_MAX_POSITION),
    )
