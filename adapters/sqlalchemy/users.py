from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import bindparam, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.sqlalchemy.errors import constraint_name
from adapters.sqlalchemy.tables import users
from application.ports.users import UserRepository
from domain.errors import EmailAlreadyRegistered
from domain.user import User

EMAIL_UNIQUE = "uq_users_email"

_ADD = insert(users)
_GET = select(users).where(users.c.id == bindparam("user_id"))
_BY_EMAIL = select(users).where(users.c.email == bindparam("email"))


def _user(row: Any) -> User:
    return User(
        id=row.id,
        email=row.email,
        full_name=row.full_name,
        password_hash=row.password_hash,
        created_at=row.created_at,
        is_active=row.is_active,
    )


class SqlAlchemyUserRepository(UserRepository):
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add(self, user: User) -> None:
        try:
            await self._connection.execute(
                _ADD,
                {
                    "id": user.id,
                    "email": user.email,
                    "full_name": user.full_name,
                    "password_hash": user.password_hash,
                    "is_active": user.is_active,
                    "created_at": user.created_at,
                },
            )
        except IntegrityError as error:
            if constraint_name(error) == EMAIL_UNIQUE:
                raise EmailAlreadyRegistered(f"{user.email} is already registered.") from None
            raise

    async def get(self, user_id: UUID) -> User | None:
        row = (await self._connection.execute(_GET, {"user_id": user_id})).first()
        return None if row is None else _user(row)

    async def get_by_email(self, email: str) -> User | None:
        row = (await self._connection.execute(_BY_EMAIL, {"email": email})).first()
        return None if row is None else _user(row)
