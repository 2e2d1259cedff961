from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from application.cursors import decode_cursor, encode_cursor, int_field
from application.errors import InvalidPage
from application.events import EVENT_TYPES
from application.ports.clock import Clock
from application.ports.outbox import FeedPosition
from application.ports.unit_of_work import UnitOfWorkFactory

MAX_EVENTS_PAGE = 100
_MAX_POSITION = 2**63 - 1


@dataclass(frozen=True, slots=True)
class EventPage:
    items: list[dict[str, Any]]
    next_cursor: str
    """Always given: after the last item, or the cursor that was sent when nothing is new, so
    a client polls with it forever and never misses an event."""


class ReadEventFeed:
    """The caller's events (touching the caller's accounts, or the caller), oldest first, in
    commit order. Each event lists only the caller's own accounts."""

    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow_factory = uow_factory
        self._clock = clock

    async def __call__(
        self,
        user_id: UUID,
        *,
        after: str | None = None,
        types: Collection[str] = (),
        limit: int = 50,
    ) -> EventPage:
        if not 1 <= limit <= MAX_EVENTS_PAGE:
            raise InvalidPage(f"A page holds 1 to {MAX_EVENTS_PAGE} events.")
        unknown = set(types) - EVENT_TYPES
        if unknown:
            raise InvalidPage(f"Unknown event types: {', '.join(sorted(unknown))}.")
        start = None if after is None else _decode(after)
        async with self._uow_factory() as uow:
            stored = await uow.outbox.feed(user_id, after=start, types=types, limit=limit)
            owned = await uow.accounts.list_owned_by(user_id, at=self._clock.now())
        mine = {account.id for account in owned}
        items = [entry.event.document(visible_accounts=mine) for entry in stored]
        if stored:
            cursor = _encode(stored[-1].position)
        else:
            cursor = after if after is not None else _encode(FeedPosition(0, 0))
        return EventPage(items, cursor)


def _encode(position: FeedPosition) -> str:
    return encode_cursor({"t": position.transaction, "p": position.position})


def _decode(cursor: str) -> FeedPosition:
    fields = decode_cursor(cursor)
    return FeedPosition(
        int_field(fields, "t", low=0, high=_MAX_POSITION),
        int_field(fields, "p", low=0, high=_MAX_POSITION),
    )
