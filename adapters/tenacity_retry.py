"""Retries of a whole unit of work on transient database conflicts, with tenacity."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

from tenacity import (
    AsyncRetrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_random_exponential,
)

from application.errors import TransientConflict
from application.ports.retry import TransactionRetry

T = TypeVar("T")


class TenacityTransactionRetry(TransactionRetry):
    """Full-jitter exponential backoff, so retrying transactions spread out instead of
    colliding again; after the last attempt the `TransientConflict` reaches the caller.

    The first attempt runs bare: tenacity's bookkeeping costs more than a whole SQL
    statement, and nearly every transaction succeeds the first time.
    """

    def __init__(self, attempts: int, first_wait: float = 0.005, max_wait: float = 0.25):
        self._attempts = attempts
        self._first_wait = first_wait
        self._max_wait = max_wait
        self.retries = 0
        """Attempts that were run again, for metrics and tests."""

    async def run(self, attempt: Callable[[], Awaitable[T]]) -> T:
        try:
            return await attempt()
        except TransientConflict:
            if self._attempts <= 1:
                raise
        self.retries += 1
        # Jitter, not a secret: the standard generator is the right tool.
        await asyncio.sleep(random.uniform(0, self._first_wait))  # noqa: S311  # nosec B311
        retrying = AsyncRetrying(
            retry=retry_if_exception_type(TransientConflict),
            stop=stop_after_attempt(self._attempts - 1),
            wait=wait_random_exponential(multiplier=self._first_wait * 2, max=self._max_wait),
            reraise=True,
            before_sleep=self._count,
        )

        async def run_attempt() -> T:
            # A coroutine function, so tenacity awaits it (a plain callable's result is not).
            return await attempt()

        return await retrying(run_attempt)

    def _count(self, _state: object) -> None:
        self.retries += 1
