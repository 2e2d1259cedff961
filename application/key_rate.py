"""Per-key request rate, in memory and per process (no database round trip on the request
path): a token bucket per API key, refilled at `rate` per second, holding at most `burst`.
With several instances (or workers) a key's effective limit is this one times their number."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RateState:
    allowed: bool
    limit: int
    """The bucket's size: what may be sent at once after a rest."""
    remaining: int
    reset_s: int
    """Seconds until the bucket is full again."""
    retry_after_s: int
    """Seconds until one more request is allowed (0 when this one was)."""

    def headers(self) -> dict[str, str]:
        return {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset_s),
        }


class KeyRate:
    def __init__(
        self,
        rate: float,
        burst: float | None = None,
        *,
        capacity: int = 100_000,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.burst = 2 * rate if burst is None else burst
        self._capacity = capacity
        self._monotonic = monotonic
        self._buckets: dict[Hashable, tuple[float, float]] = {}
        """key -> (tokens, when counted)."""

    def take(self, key: Hashable) -> RateState:
        """Count one request of `key`: allowed while the bucket holds a token."""
        now = self._monotonic()
        tokens, counted = self._buckets.pop(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - counted) * self.rate)
        allowed = tokens >= 1
        if allowed:
            tokens -= 1
        if len(self._buckets) >= self._capacity:
            del self._buckets[next(iter(self._buckets))]  # the least recently seen key
        self._buckets[key] = (tokens, now)
        return RateState(
            allowed=allowed,
            limit=math.floor(self.burst),
            remaining=math.floor(tokens),
            reset_s=math.ceil((self.burst - tokens) / self.rate),
            retry_after_s=0 if allowed else max(1, math.ceil((1 - tokens) / self.rate)),
        )
