"""Argon2id password hashing, off the event loop and on a bounded number of threads."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import threading
from concurrent.futures import ThreadPoolExecutor

from argon2 import PasswordHasher as _Argon2
from argon2.exceptions import InvalidHashError, VerificationError

from application.ports.password_hasher import PasswordHasher


def default_workers() -> int:
    """Leave a core to the event loop: a storm of registrations must not slow other requests."""
    return max(1, (os.cpu_count() or 2) - 1)


class Argon2PasswordHasher(PasswordHasher):
    """Hashes on its own small pool of low-priority threads: a storm of registrations queues
    for a hashing thread instead of taking every core from the event loop. One lane per hash
    for the same reason; the cost is in passes and memory (OWASP: 19 MiB, 2 passes)."""

    def __init__(
        self,
        *,
        time_cost: int,
        memory_cost_kib: int,
        parallelism: int,
        workers: int,
    ) -> None:
        self._argon2 = _Argon2(
            time_cost=time_cost, memory_cost=memory_cost_kib, parallelism=parallelism
        )
        self._executor = ThreadPoolExecutor(
            max_workers=workers,
            thread_name_prefix="argon2",
            initializer=_lower_priority,
        )
        # Verified against when the user is unknown, so that path costs the same time.
        self._dummy_hash = self._argon2.hash(secrets.token_urlsafe(16))

    async def hash(self, password: str) -> str:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._argon2.hash, password)

    async def verify(self, password_hash: str | None, password: str) -> bool:
        candidate = self._dummy_hash if password_hash is None else password_hash
        loop = asyncio.get_running_loop()
        matches = await loop.run_in_executor(self._executor, self._verify, candidate, password)
        return matches and password_hash is not None

    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._argon2.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False


def _lower_priority() -> None:
    """Hashing threads yield the CPU to the event loop (Linux schedules threads one by one)."""
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
