from __future__ import annotations

from uuid import UUID

from adapters.in_memory.storage import InMemoryStorage, PendingChanges
from application.ports.users import UserRepository
from domain.errors import EmailAlreadyRegistered
from domain.user import User


class InMemoryUserRepository(UserRepository):
    def __init__(self, storage: InMemoryStorage, pending: PendingChanges) -> None:
        self._storage = storage
        self._pending = pending

    async def add(self, user: User) -> None:
        if await self.get_by_email(user.email) is not None:
            raise EmailAlreadyRegistered(f"{user.email} is already registered.")
        self._pending.users[user.id] = user

    async def get(self, user_id: UUID) -> User | None:
        return self._pending.users.get(user_id) or self._storage.users.get(user_id)

    async def get_by_email(self, email: str) -> User | None:
        for users in (self._pending.users, self._storage.users):
            for user in users.values():
                if user.email == email:
                    return user
        return None
