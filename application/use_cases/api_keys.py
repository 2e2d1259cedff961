"""Creating, listing and revoking API keys, and recognising one on a request."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from application.errors import ApplicationError, InvalidToken
from application.events import TraceContext, api_key_event, untraced
from application.ports.clock import Clock
from application.ports.retry import TransactionRetry
from application.ports.unit_of_work import UnitOfWorkFactory
from application.principal import Principal
from domain.api_key import ApiKey, Scope, secret_hash, secret_prefix
from domain.errors import AccountNotFound, ApiKeyNotFound, TooManyApiKeys
from domain.user import User

INVALID_TOKEN = "The access token is invalid or has expired."  # noqa: S105  # nosec B105
"""Word for word what a bad JWT hears: a revoked, expired or unknown key cannot be told apart
from one another, nor from a bad token."""


@dataclass(frozen=True, slots=True)
class IssuedApiKey:
    key: ApiKey
    secret: str
    """Shown once, in the answer to its creation; only its hash is stored."""


class CreateApiKey:
    """A key for the caller's user, within what the caller holds (a key creating a key cannot
    widen its scopes, its accounts or its life). The user's creations are serialized in the
    store, so two at the limit cannot both pass; the event never carries the secret."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        retry: TransactionRetry,
        max_keys: int,
        trace: TraceContext = untraced,
    ) -> None:
        self._uow_factory = uow_factory
        self._clock = clock
        self._retry = retry
        self._max_keys = max_keys
        self._trace = trace

    async def __call__(
        self,
        caller: Principal,
        *,
        name: str,
        scopes: Collection[Scope],
        account_ids: Collection[UUID] | None = None,
        expires_at: datetime | None = None,
    ) -> IssuedApiKey:
        now = self._clock.now()
        key, secret = ApiKey.issue(
            user_id=caller.user.id,
            name=name,
            scopes=scopes,
            account_ids=account_ids,
            expires_at=expires_at,
            now=now,
        )
        caller.grant.require_covers(key.scopes, key.account_ids, key.expires_at)

        async def store() -> None:
            async with self._uow_factory() as uow:
                if key.account_ids is not None:
                    owned = await uow.accounts.owned_among(key.user_id, key.account_ids)
                    if missing := key.account_ids - owned:
                        raise AccountNotFound(f"Account {min(missing)} not found.")
                live = await uow.api_keys.lock_user_and_count_live(key.user_id, at=now)
                if live >= self._max_keys:
                    raise TooManyApiKeys(
                        f"A user has at most {self._max_keys} live API keys; revoke one first."
                    )
                await uow.api_keys.add(key)
                created = api_key_event("created", key, now, traceparent=self._trace())
                await uow.outbox.add([created])
                await uow.commit()

        await self._retry.run(store)
        return IssuedApiKey(key, secret)

    async def by_operator(
        self,
        email: str,
        *,
        name: str,
        scopes: Collection[Scope],
        account_ids: Collection[UUID] | None = None,
        expires_at: datetime | None = None,
    ) -> IssuedApiKey | None:
        """A key for the user with this (normalized) email, as that user's own login would
        create it; None when no user has that email."""
        async with self._uow_factory() as uow:
            user = await uow.users.get_by_email(email)
        if user is None:
            return None
        return await self(
            Principal.logged_in(user),
            name=name,
            scopes=scopes,
            account_ids=account_ids,
            expires_at=expires_at,
        )


class ListApiKeys:
    """The user's live keys (neither revoked nor expired), oldest first: at most the limit of
    live keys, so no page is needed."""

    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow_factory = uow_factory
        self._clock = clock

    async def __call__(self, user_id: UUID) -> list[ApiKey]:
        async with self._uow_factory() as uow:
            return await uow.api_keys.live_of(user_id, at=self._clock.now())


class GetApiKey:
    """One of the user's keys, revoked or expired included; another user's does not exist."""

    def __init__(self, uow_factory: UnitOfWorkFactory) -> None:
        self._uow_factory = uow_factory

    async def __call__(self, user_id: UUID, key_id: UUID) -> ApiKey:
        async with self._uow_factory() as uow:
            key = await uow.api_keys.get(key_id)
        if key is None or key.user_id != user_id:
            raise ApiKeyNotFound(f"API key {key_id} not found.")
        return key


class RevokeApiKey:
    """Revoke one of the user's keys; the row stays, with `revoked_at`. Revoking twice is no
    error and writes nothing; another user's key does not exist for this one."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        forget: Callable[[UUID], None] = lambda key_id: None,
        trace: TraceContext = untraced,
    ) -> None:
        self._uow_factory = uow_factory
        self._clock = clock
        self._forget = forget
        self._trace = trace

    async def __call__(self, user_id: UUID | None, key_id: UUID) -> ApiKey:
        """`user_id` None: an operator's revocation, whoever the key belongs to."""
        now = self._clock.now()
        async with self._uow_factory() as uow:
            key = await uow.api_keys.get(key_id)
            if key is None or (user_id is not None and key.user_id != user_id):
                raise ApiKeyNotFound(f"API key {key_id} not found.")
            if key.revoked_at is None:
                await uow.api_keys.revoke(key_id, at=now)
                revoked = api_key_event("revoked", key, now, traceparent=self._trace())
                await uow.outbox.add([revoked])
                await uow.commit()
        self._forget(key_id)  # this instance at once; the others within their cache's life
        return key.revoked(now)


@dataclass(frozen=True, slots=True)
class _Known:
    key: ApiKey
    principal: Principal
    until: datetime


class AuthenticateApiKey:
    """Resolve a presented `hxk_` secret to its principal without a database read per request.

    A key found live (and its user active) is remembered by its secret's hash for
    `cache_for` (at most a few seconds): a revocation on another instance, or a deactivated
    user, takes effect within that window. The key's expiry is checked on every request.
    On a miss, the key is looked up by its prefix and its hash compared in constant time.
    `last_used_at` is written at most once per `touch_every` per key (by the store's own
    guard too, so several instances do not each write it).
    """

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        cache_for: timedelta,
        touch_every: timedelta,
        touch_uow_factory: UnitOfWorkFactory | None = None,
        capacity: int = 10_000,
    ) -> None:
        self._uow_factory = uow_factory
        self._touch_uow_factory = touch_uow_factory or uow_factory
        self._clock = clock
        self._cache_for = cache_for
        self._touch_every = touch_every
        self._capacity = capacity
        self._known: dict[bytes, _Known] = {}
        self._touched: dict[UUID, datetime] = {}

    async def __call__(self, secret: str) -> Principal:
        now = self._clock.now()
        digest = secret_hash(secret)
        known = self._known.get(digest)
        if known is None or known.until <= now:
            known = await self._load(secret, digest, now)
        if not known.key.is_live(now):
            self._known.pop(digest, None)
            raise InvalidToken(INVALID_TOKEN)
        await self._touch(known.key, now)
        return known.principal

    def forget(self, key_id: UUID) -> None:
        """Drop a key from the cache (revoked here: no need to wait for the cache to expire)."""
        for digest, known in list(self._known.items()):
            if known.key.id == key_id:
                del self._known[digest]

    async def _load(self, secret: str, digest: bytes, now: datetime) -> _Known:
        self._known.pop(digest, None)
        async with self._uow_factory() as uow:
            found = await uow.api_keys.with_prefix(secret_prefix(secret))
            key = next((key for key in found if key.matches(secret)), None)
            user: User | None = None
            if key is not None and key.is_live(now):
                user = await uow.users.get(key.user_id)
        if key is None or user is None or not user.is_active or not key.is_live(now):
            raise InvalidToken(INVALID_TOKEN)
        known = _Known(key, Principal(user, key.grant, key.id), now + self._cache_for)
        if self._cache_for:
            if len(self._known) >= self._capacity:
                del self._known[next(iter(self._known))]
            self._known[digest] = known
        return known

    async def _touch(self, key: ApiKey, now: datetime) -> None:
        last = self._touched.get(key.id, key.last_used_at)
        if last is not None and now - last < self._touch_every:
            return
        self._touched.pop(key.id, None)
        if len(self._touched) >= self._capacity:
            del self._touched[next(iter(self._touched))]
        self._touched[key.id] = now  # before the write: concurrent requests do not write too
        try:
            async with self._touch_uow_factory() as uow:
                await uow.api_keys.touch(key.id, at=now, unless_since=now - self._touch_every)
                await uow.commit()
        except ApplicationError:
            # Bookkeeping only: a database that does not answer now fails no request for it.
            return
