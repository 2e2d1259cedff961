from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from application.use_cases.read_event_feed import MAX_EVENTS_PAGE, ReadEventFeed
from entrypoints.http.dependencies import EventsReader, grant_of, provided
from entrypoints.http.problems import problem_responses

router = APIRouter(
    prefix="/api/v1/events",
    tags=["events"],
    # Every route: 429 past its user's (or address's) cap, 503 past the request deadline;
    # 403 `insufficient-scope` to an API key without the route's scope.
    responses=problem_responses(403, 429, 503),
)


class EventFeedOut(BaseModel):
    items: list[dict[str, Any]] = Field(
        description="Events, oldest first: id, type, occurred_at, schema_version, data (the "
        "resource as the API shows it) and accounts (your own accounts it touched, each with "
        "sequence, balance and available after the change). See docs/events.md."
    )
    next_cursor: str = Field(
        description="Always given: poll with it forever and no event is ever missed."
    )


@router.get("", response_model=EventFeedOut, responses=problem_responses(401, 422))
async def read_events(
    request: Request,
    user: EventsReader,
    feed: Annotated[ReadEventFeed, provided(lambda c: c.read_event_feed)],
    after: Annotated[str | None, Query(max_length=512)] = None,
    event_type: Annotated[
        list[str] | None, Query(alias="type", max_length=20, description="Repeat for several.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_EVENTS_PAGE)] = 50,
) -> EventFeedOut:
    """Your events (touching your accounts, or you), in commit order, oldest first."""
    accounts = grant_of(request).account_ids
    page = await feed(user.id, after=after, types=event_type or (), limit=limit, accounts=accounts)
    return EventFeedOut(items=page.items, next_cursor=page.next_cursor)
