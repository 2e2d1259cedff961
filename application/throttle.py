"""Who may try again, shared by Authenticate and RegisterUser."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from application.errors import TooManyAttempts
from application.ports.attempt_limiter import AttemptLimiter, AttemptPolicy
from application.ports.clock import Clock

MINUTE = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class ThrottlePolicies:
    """Defaults: 5 failed logins per email or 20 per client address in 15 minutes block
    that email or address for 15 minutes; 20 registrations per address per hour."""

    login_per_email: AttemptPolicy = field(
        default_factory=lambda: AttemptPolicy(5, 15 * MINUTE, 15 * MINUTE)
    )
    login_per_client: AttemptPolicy = field(
        default_factory=lambda: AttemptPolicy(20, 15 * MINUTE, 15 * MINUTE)
    )
    registration_per_client: AttemptPolicy = field(
        default_factory=lambda: AttemptPolicy(20, 60 * MINUTE, 60 * MINUTE)
    )


class Throttle:
    def __init__(self, limiter: AttemptLimiter, clock: Clock, policies: ThrottlePolicies) -> None:
        self._limiter = limiter
        self._clock = clock
        self.policies = policies

    async def refuse_if_blocked(self, keys: Sequence[str]) -> None:
        wait = await self._limiter.blocked_for(keys, now=self._clock.now())
        if wait is not None:
            seconds = max(1, math.ceil(wait.total_seconds()))
            raise TooManyAttempts(f"Too many attempts; try again in {seconds} s.", seconds)

    async def count(self, key: str, policy: AttemptPolicy) -> None:
        await self._limiter.record(key, policy, now=self._clock.now())

    async def forget(self, key: str) -> None:
        await self._limiter.reset(key)

    async def forget_stale(self) -> int:
        """Drop counts older than the longest window that block nothing any more."""
        now = self._clock.now()
        policies = self.policies
        longest = max(
            policy.window
            for policy in (
                policies.login_per_email,
                policies.login_per_client,
                policies.registration_per_client,
            )
        )
        return await self._limiter.purge(now - longest, now=now)


def login_email_key(email: str) -> str:
    """Digested: any input makes a valid key (no NUL reaches the store), and the counters
    table holds no addresses in clear."""
    return "login:email:" + hashlib.sha256(email.encode("utf-8", "surrogatepass")).hexdigest()


def login_client_key(client: str) -> str:
    return f"login:client:{client}"


def registration_client_key(client: str) -> str:
    return f"register:client:{client}"
