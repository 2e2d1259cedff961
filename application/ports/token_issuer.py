from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol
from uuid import UUID


@dataclass(frozen=True, slots=True)
class AccessToken:
    token: str
    expires_in: int
    """Seconds until the token expires."""


class TokenIssuer(Protocol):
    def issue(self, user_id: UUID) -> AccessToken: ...

    def subject_of(self, token: str) -> UUID:
        """The user id a valid token was issued for; raise `InvalidToken` otherwise."""
        ...
