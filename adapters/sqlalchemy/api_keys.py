from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import DateTime, Uuid, bindparam, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.sqlalchemy.tables import api_keys, users
from application.ports.api_keys import ApiKeyRepository
from domain.api_key import ApiKey, Scope

_at = bindparam("at", type_=DateTime(timezone=True))
_live = (
    api_keys.c.user_id == bindparam("user_id", type_=Uuid),
    api_keys.c.revoked_at.is_(None),
    or_(api_keys.c.expires_at.is_(None), api_keys.c.expires_at > _at),
)
_ADD = insert(api_keys)
_GET = select(api_keys).where(api_keys.c.id == bindparam("key_id", type_=Uuid))
_WITH_PREFIX = select(api_keys).where(api_keys.c.prefix == bindparam("prefix"))
_LIVE_OF = select(api_keys).where(*_live).order_by(api_keys.c.created_at, api_keys.c.id)
# The user's row, as an account opening holds it: a user's key creations queue here, and each
# counts what the one before it committed (a statement of its own, at READ COMMITTED).
_LOCK_USER = (
    select(users.c.id)
    .where(users.c.id == bindparam("user_id", type_=Uuid))
    .with_for_update(key_share=True)
)
_COUNT_LIVE = select(func.count()).select_from(api_keys).where(*_live)
_REVOKE = (
    update(api_keys)
    .where(api_keys.c.id == bindparam("key_id", type_=Uuid), api_keys.c.revoked_at.is_(None))
    .values(revoked_at=_at)
)
# Guarded in the statement: instances that each decide to write it write it once.
_TOUCH = (
    update(api_keys)
    .where(
        api_keys.c.id == bindparam("key_id", type_=Uuid),
        or_(
            api_keys.c.last_used_at.is_(None),
            api_keys.c.last_used_at < bindparam("unless_since", type_=DateTime(timezone=True)),
        ),
    )
    .values(last_used_at=_at)
)


def _key(row: Any) -> ApiKey:
    return ApiKey(
        id=row.id,
        user_id=row.user_id,
        name=row.name,
        prefix=row.prefix,
        secret_hash=bytes(row.secret_hash),
        scopes=frozenset(Scope(scope) for scope in row.scopes),
        account_ids=None if row.account_ids is None else frozenset(row.account_ids),
        expires_at=row.expires_at,
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
    )


class SqlAlchemyApiKeyRepository(ApiKeyRepository):
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add(self, key: ApiKey) -> None:
        await self._connection.execute(
            _ADD,
            {
                "id": key.id,
                "user_id": key.user_id,
                "name": key.name,
                "prefix": key.prefix,
                "secret_hash": key.secret_hash,
                "scopes": sorted(key.scopes),
                "account_ids": None if key.account_ids is None else sorted(key.account_ids),
                "expires_at": key.expires_at,
                "created_at": key.created_at,
                "last_used_at": key.last_used_at,
                "revoked_at": key.revoked_at,
            },
        )

    async def get(self, key_id: UUID) -> ApiKey | None:
        row = (await self._connection.execute(_GET, {"key_id": key_id})).one_or_none()
        return None if row is None else _key(row)

    async def with_prefix(self, prefix: str) -> list[ApiKey]:
        rows = await self._connection.execute(_WITH_PREFIX, {"prefix": prefix})
        return [_key(row) for row in rows]

    async def live_of(self, user_id: UUID, *, at: datetime) -> list[ApiKey]:
        rows = await self._connection.execute(_LIVE_OF, {"user_id": user_id, "at": at})
        return [_key(row) for row in rows]

    async def lock_user_and_count_live(self, user_id: UUID, *, at: datetime) -> int:
        await self._connection.execute(_LOCK_USER, {"user_id": user_id})
        count = await self._connection.scalar(_COUNT_LIVE, {"user_id": user_id, "at": at})
        return int(count or 0)

    async def revoke(self, key_id: UUID, *, at: datetime) -> None:
        await self._connection.execute(_REVOKE, {"key_id": key_id, "at": at})

    async def touch(self, key_id: UUID, *, at: datetime, unless_since: datetime) -> None:
        await self._connection.execute(
            _TOUCH, {"key_id": key_id, "at": at, "unless_since": unless_since}
        )
