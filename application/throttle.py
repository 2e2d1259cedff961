"""Who may try again, shared by Authenticate and RegisterUser."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass

from application.errors import TooManyAttempts
from application.ports.attempt_limiter import AttemptLimiter, AttemptPolicy
from application.ports.clock import Clock


@dataclass(frozen=True, slots=True)
class ThrottlePolicies:
    """How many failed logins per email and per client address, how many token requests of
    any outcome per client address, and how many registrations per client address, each
    window allows (the numbers are settings)."""

    login_per_email: AttemptPolicy
    login_per_client: AttemptPolicy
    registration_per_client: AttemptPolicy
    token_per_client: AttemptPolicy


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
                policies.token_per_client,
            )
        )
        return await self._limiter.purge(now - longest, now=now)


def login_email_key(email: str) -> str:
    """Digested: any input makes a valid key (no NUL reaches the store), and the counters
    table holds no addresses in clear."""
    return "login:email:" + _digest(email)


def login_client_key(client: str) -> str:
    return "login:client:" + _digest(client)


def token_client_key(client: str) -> str:
    """Every token request of an address, successful or not: a loop of correct logins costs
    a password hash each time as surely as a guessing run does."""
    return "token:client:" + _digest(client)


def registration_client_key(client: str) -> str:
    return "register:client:" + _digest(client)


def _digest(text: str) -> str:
    """Keys of one length whatever a client sends (a 4,000 character address must not reach
    an index as it is), and no NUL or lone surrogate reaches the store."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
