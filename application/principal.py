"""Who is calling and what they may do: the same shape for a password login's JWT and for an
API key, so routes and use cases never ask which one it was."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from application.errors import InsufficientScope
from domain.api_key import FULL_GRANT, Grant, Scope
from domain.user import User


@dataclass(frozen=True, slots=True)
class Principal:
    user: User
    grant: Grant
    api_key_id: UUID | None = None
    """The key the request came with; None for a password login's token."""

    @classmethod
    def logged_in(cls, user: User) -> Principal:
        """A password login holds every scope, over every account of its user."""
        return cls(user, FULL_GRANT)

    @property
    def id(self) -> UUID:
        """Who takes turns and is rate limited: each key apart from its user's logins."""
        return self.user.id if self.api_key_id is None else self.api_key_id

    def require(self, scope: Scope) -> None:
        if scope not in self.grant.scopes:
            raise InsufficientScope(
                f"This API key does not hold the `{scope}` scope this request needs.",
                required_scope=scope.value,
            )
