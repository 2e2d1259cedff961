"""Webhook endpoints: where your events are POSTed, signed (docs/webhooks.md). Changing them
needs `webhooks:write`; reading them, `events:read` (they carry the feed's events)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field

from application.ports.webhooks import DeliveryStatus, WebhookDelivery
from application.use_cases.webhook_endpoints import (
    MAX_DELIVERIES_PAGE,
    CreateWebhookEndpoint,
    DeleteWebhookEndpoint,
    EndpointChanges,
    GetWebhookEndpoint,
    ListWebhookDeliveries,
    ListWebhookEndpoints,
    ReplayWebhookEvents,
    RotateWebhookSecret,
    UpdateWebhookEndpoint,
)
from domain.errors import ScopeEscalation
from domain.webhook import DESCRIPTION_MAX_LENGTH, URL_MAX_LENGTH, WebhookEndpoint
from entrypoints.http.dependencies import EventsReader, WebhooksWriter, grant_of, provided
from entrypoints.http.problems import problem_responses
from entrypoints.http.schemas import NO_CONTROL_CHARACTERS
from entrypoints.http.schemas import Request as Body

router = APIRouter(
    prefix="/api/v1/webhook-endpoints",
    tags=["webhooks"],
    # Every route: 429 past its user's (or address's, or key's) cap, 503 past the deadline;
    # 403 `insufficient-scope` to an API key without the route's scope.
    responses=problem_responses(403, 429, 503),
)

Url = Annotated[str, Field(min_length=1, max_length=URL_MAX_LENGTH, pattern=NO_CONTROL_CHARACTERS)]
Description = Annotated[
    str, Field(max_length=DESCRIPTION_MAX_LENGTH, pattern=NO_CONTROL_CHARACTERS)
]
# A type has one dot or more: `transfer.posted`, `account.monitor.triggered`.
EventTypes = Annotated[
    list[Annotated[str, Field(max_length=64, pattern=r"^[a-z_]+(\.[a-z_]+)+$")]],
    Field(min_length=1, max_length=64),
]


class WebhookEndpointIn(Body):
    url: Url = Field(description="https; private, loopback and link-local hosts are refused.")
    event_types: EventTypes | None = Field(
        default=None, description="The event types it takes; absent or null: all of them."
    )
    description: Description | None = None


class WebhookEndpointPatchIn(Body):
    url: Url | None = None
    event_types: EventTypes | None = Field(default=None, description="null: all of them.")
    description: Description | None = Field(default=None, description="null removes it.")
    enabled: bool | None = None


class WebhookEndpointOut(BaseModel):
    id: UUID
    url: str
    event_types: list[str] | None = Field(description="null: every type.")
    description: str | None
    enabled: bool
    created_at: datetime

    @classmethod
    def of(cls, endpoint: WebhookEndpoint) -> WebhookEndpointOut:
        return cls(
            id=endpoint.id,
            url=endpoint.url,
            event_types=None if endpoint.event_types is None else sorted(endpoint.event_types),
            description=endpoint.description,
            enabled=endpoint.enabled,
            created_at=endpoint.created_at,
        )


class WebhookEndpointCreatedOut(WebhookEndpointOut):
    secret: str = Field(
        description="`whsec_` and 32 random bytes in base64url: shown in this answer only "
        "(and on rotate-secret). Verify `Hexbank-Signature` with it."
    )


class WebhookSecretOut(BaseModel):
    id: UUID
    secret: str = Field(description="The new secret; the old one signs too for 24 hours.")
    previous_secret_expires_at: datetime


class WebhookEndpointListOut(BaseModel):
    items: list[WebhookEndpointOut] = Field(description="Your endpoints, oldest first.")


class WebhookDeliveryOut(BaseModel):
    id: int
    event_id: UUID
    status: DeliveryStatus
    attempts: int
    last_status_code: int | None
    last_error: str | None
    next_attempt_at: datetime | None = Field(description="null once delivered or failed.")
    queued_at: datetime

    @classmethod
    def of(cls, delivery: WebhookDelivery) -> WebhookDeliveryOut:
        return cls(
            id=delivery.id,
            event_id=delivery.event_id,
            status=delivery.status,
            attempts=delivery.attempts,
            last_status_code=delivery.last_status_code,
            last_error=delivery.last_error,
            next_attempt_at=delivery.next_attempt_at,
            queued_at=delivery.queued_at,
        )


class WebhookDeliveryListOut(BaseModel):
    items: list[WebhookDeliveryOut] = Field(description="Newest first.")
    next_cursor: str | None = Field(description="null: no more.")


class ReplayIn(Body):
    after: Annotated[str, Field(max_length=512)] | None = Field(
        default=None,
        description="A cursor of the events feed: every event after it is sent again; null: "
        "from the first.",
    )


class ReplayOut(BaseModel):
    count: int = Field(description="Events queued again.")


def _whole_user(request: Request) -> None:
    """An endpoint receives all of its user's events: a key restricted to some accounts
    may not set one up."""
    if grant_of(request).account_ids is not None:
        raise ScopeEscalation(
            "This key is restricted to some accounts; a webhook endpoint receives events of "
            "all of them."
        )


@router.post(
    "",
    status_code=201,
    response_model=WebhookEndpointCreatedOut,
    responses=problem_responses(401, 409, 413, 422),
)
async def create_webhook_endpoint(
    body: WebhookEndpointIn,
    request: Request,
    response: Response,
    user: WebhooksWriter,
    create: Annotated[CreateWebhookEndpoint, provided(lambda c: c.create_webhook_endpoint)],
) -> WebhookEndpointCreatedOut:
    """Register an endpoint: 422 `unsafe-webhook-url` for http or a host that is (or
    resolves to) a private, loopback, link-local or reserved address; at most
    HEXBANK_WEBHOOK_ENDPOINTS_PER_USER (409 `too-many-webhook-endpoints`)."""
    _whole_user(request)
    endpoint = await create(
        user.id, url=body.url, event_types=body.event_types, description=body.description
    )
    response.headers["Location"] = f"/api/v1/webhook-endpoints/{endpoint.id}"
    return WebhookEndpointCreatedOut(
        **WebhookEndpointOut.of(endpoint).model_dump(), secret=endpoint.secret
    )


@router.get("", response_model=WebhookEndpointListOut, responses=problem_responses(401))
async def list_webhook_endpoints(
    user: EventsReader,
    list_endpoints: Annotated[ListWebhookEndpoints, provided(lambda c: c.list_webhook_endpoints)],
) -> WebhookEndpointListOut:
    """Your endpoints; never a secret."""
    return WebhookEndpointListOut(
        items=[WebhookEndpointOut.of(e) for e in await list_endpoints(user.id)]
    )


@router.get(
    "/{endpoint_id}", response_model=WebhookEndpointOut, responses=problem_responses(401, 404, 422)
)
async def get_webhook_endpoint(
    endpoint_id: UUID,
    user: EventsReader,
    get: Annotated[GetWebhookEndpoint, provided(lambda c: c.get_webhook_endpoint)],
) -> WebhookEndpointOut:
    """One of your endpoints, never its secret; another user's is 404."""
    return WebhookEndpointOut.of(await get(user.id, endpoint_id))


@router.patch(
    "/{endpoint_id}",
    response_model=WebhookEndpointOut,
    responses=problem_responses(401, 404, 413, 422),
)
async def update_webhook_endpoint(
    endpoint_id: UUID,
    body: WebhookEndpointPatchIn,
    request: Request,
    user: WebhooksWriter,
    update: Annotated[UpdateWebhookEndpoint, provided(lambda c: c.update_webhook_endpoint)],
) -> WebhookEndpointOut:
    """Change the URL (checked again), event types, description or `enabled` (enabling
    again resumes the endpoint's pending deliveries)."""
    _whole_user(request)
    given = body.model_fields_set
    changes = EndpointChanges(
        url=body.url,
        event_types=body.event_types,
        all_event_types="event_types" in given and body.event_types is None,
        description=body.description,
        clear_description="description" in given and body.description is None,
        enabled=body.enabled,
    )
    return WebhookEndpointOut.of(await update(user.id, endpoint_id, changes))


@router.delete(
    "/{endpoint_id}",
    status_code=204,
    response_class=Response,
    responses=problem_responses(401, 404, 422),
)
async def delete_webhook_endpoint(
    endpoint_id: UUID,
    request: Request,
    user: WebhooksWriter,
    delete: Annotated[DeleteWebhookEndpoint, provided(lambda c: c.delete_webhook_endpoint)],
) -> Response:
    """Delete one of your endpoints and its deliveries."""
    _whole_user(request)
    await delete(user.id, endpoint_id)
    return Response(status_code=204)


@router.post(
    "/{endpoint_id}/rotate-secret",
    response_model=WebhookSecretOut,
    responses=problem_responses(401, 404, 422),
)
async def rotate_webhook_secret(
    endpoint_id: UUID,
    request: Request,
    user: WebhooksWriter,
    rotate: Annotated[RotateWebhookSecret, provided(lambda c: c.rotate_webhook_secret)],
) -> WebhookSecretOut:
    """A new secret, shown in this answer only. For 24 hours every delivery carries two
    `v1=` signatures, one with each secret."""
    _whole_user(request)
    endpoint = await rotate(user.id, endpoint_id)
    assert endpoint.previous_secret_until is not None  # nosec B101
    return WebhookSecretOut(
        id=endpoint.id,
        secret=endpoint.secret,
        previous_secret_expires_at=endpoint.previous_secret_until,
    )


@router.get(
    "/{endpoint_id}/deliveries",
    response_model=WebhookDeliveryListOut,
    responses=problem_responses(401, 404, 422),
)
async def list_webhook_deliveries(
    endpoint_id: UUID,
    user: EventsReader,
    deliveries: Annotated[ListWebhookDeliveries, provided(lambda c: c.list_webhook_deliveries)],
    status: DeliveryStatus | None = None,
    after: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_DELIVERIES_PAGE)] = 50,
) -> WebhookDeliveryListOut:
    """The endpoint's deliveries, newest first: each event's attempts, last status code or
    error, and when it is tried next."""
    page = await deliveries(user.id, endpoint_id, status=status, after=after, limit=limit)
    return WebhookDeliveryListOut(
        items=[WebhookDeliveryOut.of(d) for d in page.items], next_cursor=page.next_cursor
    )


@router.post(
    "/{endpoint_id}/replay",
    status_code=202,
    response_model=ReplayOut,
    responses=problem_responses(401, 404, 413, 422),
)
async def replay_webhook_events(
    endpoint_id: UUID,
    body: ReplayIn,
    request: Request,
    user: WebhooksWriter,
    replay: Annotated[ReplayWebhookEvents, provided(lambda c: c.replay_webhook_events)],
) -> ReplayOut:
    """Queue again every event after a feed cursor that the endpoint takes, delivered or
    not; they go out within seconds."""
    _whole_user(request)
    return ReplayOut(count=await replay(user.id, endpoint_id, after=body.after))
