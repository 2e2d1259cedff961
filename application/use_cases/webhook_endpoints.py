"""Registering, reading, changing and deleting webhook endpoints; rotating their secret;
reading their deliveries and queueing events again."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace
from uuid import UUID

from application.cursors import decode_cursor, encode_cursor, int_field
from application.errors import InvalidPage
from application.events import EVENT_TYPES
from application.ports.clock import Clock
from application.ports.outbox import FeedPosition
from application.ports.retry import TransactionRetry
from application.ports.unit_of_work import UnitOfWorkFactory
from application.ports.webhooks import DeliveryStatus, WebhookDelivery
from application.use_cases.read_event_feed import decode_feed_cursor
from application.webhook_urls import WebhookUrlGuard
from domain.errors import TooManyWebhookEndpoints, WebhookEndpointNotFound
from domain.webhook import WebhookEndpoint, check_description, check_event_types

MAX_DELIVERIES_PAGE = 100
_MAX_ID = 2**63 - 1


def _not_found(endpoint_id: UUID) -> WebhookEndpointNotFound:
    return WebhookEndpointNotFound(f"Webhook endpoint {endpoint_id} not found.")


class CreateWebhookEndpoint:
    """An endpoint for the caller, its URL checked (after DNS resolution) before it is saved.
    The user's creations are serialized in the store, so two at the limit cannot both pass."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        retry: TransactionRetry,
        guard: WebhookUrlGuard,
        max_endpoints: int,
    ) -> None:
        self._uow_factory = uow_factory
        self._clock = clock
        self._retry = retry
        self._guard = guard
        self._max_endpoints = max_endpoints

    async def __call__(
        self,
        user_id: UUID,
        *,
        url: str,
        event_types: Collection[str] | None = None,
        description: str | None = None,
    ) -> WebhookEndpoint:
        check_event_types(event_types, EVENT_TYPES)
        await self._guard(url)
        endpoint = WebhookEndpoint.create(
            user_id=user_id,
            url=url,
            event_types=event_types,
            description=description,
            now=self._clock.now(),
        )

        async def store() -> None:
            async with self._uow_factory() as uow:
                count = await uow.webhook_endpoints.lock_user_and_count(user_id)
                if count >= self._max_endpoints:
                    raise TooManyWebhookEndpoints(
                        f"A user has at most {self._max_endpoints} webhook endpoints; "
                        "delete one first."
                    )
                await uow.webhook_endpoints.add(endpoint)
                await uow.commit()

        await self._retry.run(store)
        return endpoint


class ListWebhookEndpoints:
    """The user's endpoints, oldest first: at most the limit per user, so no page is needed."""

    def __init__(self, uow_factory: UnitOfWorkFactory) -> None:
        self._uow_factory = uow_factory

    async def __call__(self, user_id: UUID) -> list[WebhookEndpoint]:
        async with self._uow_factory() as uow:
            return await uow.webhook_endpoints.of_user(user_id)


class GetWebhookEndpoint:
    """One of the user's endpoints; another user's does not exist for this one."""

    def __init__(self, uow_factory: UnitOfWorkFactory) -> None:
        self._uow_factory = uow_factory

    async def __call__(self, user_id: UUID, endpoint_id: UUID) -> WebhookEndpoint:
        async with self._uow_factory() as uow:
            endpoint = await uow.webhook_endpoints.get(endpoint_id)
        if endpoint is None or endpoint.user_id != user_id:
            raise _not_found(endpoint_id)
        return endpoint


@dataclass(frozen=True, slots=True)
class EndpointChanges:
    """What a PATCH sets; a field left None is kept (`description` may be cleared)."""

    url: str | None = None
    event_types: Collection[str] | None = None
    all_event_types: bool = False
    """event_types set to null: every type again."""
    description: str | None = None
    clear_description: bool = False
    enabled: bool | None = None


class UpdateWebhookEndpoint:
    """Change an endpoint's URL (checked again), event types, description or enabled."""

    def __init__(
        self, uow_factory: UnitOfWorkFactory, retry: TransactionRetry, guard: WebhookUrlGuard
    ) -> None:
        self._uow_factory = uow_factory
        self._retry = retry
        self._guard = guard

    async def __call__(
        self, user_id: UUID, endpoint_id: UUID, changes: EndpointChanges
    ) -> WebhookEndpoint:
        check_event_types(changes.event_types, EVENT_TYPES)
        check_description(changes.description)
        if changes.url is not None:
            await self._guard(changes.url)
        changed: WebhookEndpoint | None = None

        async def store() -> None:
            nonlocal changed
            async with self._uow_factory() as uow:
                endpoint = await uow.webhook_endpoints.get(endpoint_id)
                if endpoint is None or endpoint.user_id != user_id:
                    raise _not_found(endpoint_id)
                changed = replace(
                    endpoint,
                    url=changes.url or endpoint.url,
                    event_types=(
                        None
                        if changes.all_event_types
                        else frozenset(changes.event_types)
                        if changes.event_types is not None
                        else endpoint.event_types
                    ),
                    description=(
                        None
                        if changes.clear_description
                        else changes.description
                        if changes.description is not None
                        else endpoint.description
                    ),
                    enabled=endpoint.enabled if changes.enabled is None else changes.enabled,
                    failing_since=None if changes.enabled else endpoint.failing_since,
                )
                await uow.webhook_endpoints.save(changed)
                await uow.commit()

        await self._retry.run(store)
        assert changed is not None  # nosec B101
        return changed


class DeleteWebhookEndpoint:
    """Delete one of the user's endpoints and its deliveries (none is sent after)."""

    def __init__(self, uow_factory: UnitOfWorkFactory) -> None:
        self._uow_factory = uow_factory

    async def __call__(self, user_id: UUID, endpoint_id: UUID) -> None:
        async with self._uow_factory() as uow:
            endpoint = await uow.webhook_endpoints.get(endpoint_id)
            if endpoint is None or endpoint.user_id != user_id:
                raise _not_found(endpoint_id)
            await uow.webhook_endpoints.delete(endpoint_id)
            await uow.commit()


class RotateWebhookSecret:
    """A new secret; the old one keeps signing beside it for 24 hours, so a receiver can
    switch without dropping a delivery."""

    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow_factory = uow_factory
        self._clock = clock

    async def __call__(self, user_id: UUID, endpoint_id: UUID) -> WebhookEndpoint:
        async with self._uow_factory() as uow:
            endpoint = await uow.webhook_endpoints.get(endpoint_id)
            if endpoint is None or endpoint.user_id != user_id:
                raise _not_found(endpoint_id)
            rotated = endpoint.rotated(self._clock.now())
            await uow.webhook_endpoints.save(rotated)
            await uow.commit()
        return rotated


@dataclass(frozen=True, slots=True)
class DeliveryPage:
    items: list[WebhookDelivery]
    next_cursor: str | None


class ListWebhookDeliveries:
    """An endpoint's deliveries, newest first, keyset paged, optionally of one status."""

    def __init__(self, uow_factory: UnitOfWorkFactory) -> None:
        self._uow_factory = uow_factory

    async def __call__(
        self,
        user_id: UUID,
        endpoint_id: UUID,
        *,
        status: DeliveryStatus | None = None,
        after: str | None = None,
        limit: int = 50,
    ) -> DeliveryPage:
        if not 1 <= limit <= MAX_DELIVERIES_PAGE:
            raise InvalidPage(f"A page holds 1 to {MAX_DELIVERIES_PAGE} deliveries.")
        before = (
            None if after is None else int_field(decode_cursor(after), "d", low=1, high=_MAX_ID)
        )
        async with self._uow_factory() as uow:
            endpoint = await uow.webhook_endpoints.get(endpoint_id)
            if endpoint is None or endpoint.user_id != user_id:
                raise _not_found(endpoint_id)
            items = await uow.webhook_deliveries.page(
                endpoint_id, status=status, before=before, limit=limit + 1
            )
        more = len(items) > limit
        items = items[:limit]
        cursor = encode_cursor({"d": items[-1].id}) if more else None
        return DeliveryPage(items, cursor)


class ReplayWebhookEvents:
    """Queue again, due now, every event of the endpoint's user after a feed cursor that the
    endpoint takes; how many. A delivery queued again gets a new retry window."""

    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow_factory = uow_factory
        self._clock = clock

    async def __call__(self, user_id: UUID, endpoint_id: UUID, *, after: str | None) -> int:
        start = FeedPosition(0, 0) if after is None else decode_feed_cursor(after)
        async with self._uow_factory() as uow:
            endpoint = await uow.webhook_endpoints.get(endpoint_id)
            if endpoint is None or endpoint.user_id != user_id:
                raise _not_found(endpoint_id)
            count = await uow.webhook_deliveries.requeue(
                endpoint, after=start, now=self._clock.now()
            )
            await uow.commit()
        return count
