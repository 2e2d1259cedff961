from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

T = TypeVar("T")


class TransactionRetry(Protocol):
    async def run(self, attempt: Callable[[], Awaitable[T]]) -> T:
        """Run a whole unit of work again when it fails with `TransientConflict`.

        A bounded number of times with jittered backoff, so a serialization failure or a
        deadlock victim is retried invisibly instead of becoming an error for the client.
        """
        ...
