from __future__ import annotations

from typing import Protocol


class PasswordHasher(Protocol):
    """Slow on purpose; implementations run off the event loop so other requests go on."""

    async def hash(self, password: str) -> str: ...

    async def verify(self, password_hash: str | None, password: str) -> bool:
        """Check a password; with no hash (unknown user), spend the same time and say no."""
        ...
