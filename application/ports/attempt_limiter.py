from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol


@dataclass(frozen=True, slots=True)
class AttemptPolicy:
    """At most `limit` attempts per `window` for one key; then it is blocked for `block`."""

    limit: int
    window: timedelta
    block: timedelta


class AttemptLimiter(Protocol):
    """Counts attempts per key (an email, a client address) in storage that every app
    instance shares, so a limit holds however many instances serve the traffic."""

    async def blocked_for(self, keys: Sequence[str], *, now: datetime) -> timedelta | None:
        """How long until the most blocked of `keys` is free again; None when none is."""
        ...

    async def record(self, key: str, policy: AttemptPolicy, *, now: datetime) -> None:
        """Count one attempt; block the key when it reaches the policy's limit."""
        ...

    async def reset(self, key: str) -> None: ...

    async def purge(self, stale_before: datetime, *, now: datetime) -> int:
        """Forget counts whose window began before `stale_before` and that block nothing."""
        ...
