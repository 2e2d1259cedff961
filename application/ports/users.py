from __future__ import annotations

from typing import Protocol
from uuid import UUID

from domain.user import User


class UserRepository(Protocol):
    async def add(self, user: User) -> None:
        """Store a new user; raise `EmailAlreadyRegistered` when the email is taken.

        The store's uniqueness is the guard (no check-then-insert), so two racing
        registrations of one address give exactly one success.
        """
        ...

    async def get(self, user_id: UUID) -> User | None: ...

    async def get_by_email(self, email: str) -> User | None:
        """Look up by the normalized email."""
        ...
