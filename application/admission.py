"""Per-principal admission: one user (or, later, one API key) cannot take the whole process.

Two limits, both per process and in memory (no database round trip on the request path):

- in flight: at most `max_in_flight` requests of one principal exist at once; the next one is
  refused at once (`TooManyRequests`), before it costs anything more than its token check;
- running: of those, at most `max_running` do their work (database, CPU) at once; the others
  wait their turn in arrival order. A principal's many concurrent requests then take turns,
  so a burst of heavy reads or batches does not fill the event loop's queue and the pool, and
  another principal's request meets a few of them, not all of them.

A slot is released when its request ends, however it ends (answer, error, cancellation).
"""

from __future__ import annotations

import asyncio
from collections.abc import Hashable
from types import TracebackType

from application.errors import TooManyRequests


class _Principal:
    __slots__ = ("in_flight", "running")

    def __init__(self, max_running: int) -> None:
        self.in_flight = 0
        self.running = asyncio.Semaphore(max_running)


class Admission:
    def __init__(self, max_in_flight: int, max_running: int) -> None:
        if max_in_flight < 1 or not 1 <= max_running <= max_in_flight:
            raise ValueError("need 1 <= max_running <= max_in_flight")
        self.max_in_flight = max_in_flight
        self.max_running = max_running
        self._principals: dict[Hashable, _Principal] = {}

    def turn(self, principal: Hashable) -> Turn:
        """`async with admission.turn(user_id):` around a request's work."""
        return Turn(self, principal)

    def in_flight(self, principal: Hashable) -> int:
        found = self._principals.get(principal)
        return 0 if found is None else found.in_flight

    def _enter(self, principal: Hashable) -> _Principal:
        found = self._principals.get(principal)
        if found is None:
            found = self._principals[principal] = _Principal(self.max_running)
        elif found.in_flight >= self.max_in_flight:
            raise TooManyRequests(
                f"At most {self.max_in_flight} requests of one user may be in flight at once; "
                f"retry when one has ended.",
            )
        found.in_flight += 1
        return found

    def _leave(self, principal: Hashable, found: _Principal) -> None:
        found.in_flight -= 1
        if found.in_flight == 0:  # nothing of this principal left: keep no state for it
            del self._principals[principal]


class Turn:
    """One request's place: counted in flight on entry, running once its turn comes."""

    __slots__ = ("_admission", "_entry", "_principal", "_running")

    def __init__(self, admission: Admission, principal: Hashable) -> None:
        self._admission = admission
        self._principal = principal
        self._running = False

    async def __aenter__(self) -> None:
        self._entry = self._admission._enter(self._principal)
        try:
            await self._entry.running.acquire()
        except BaseException:  # cancelled while waiting its turn
            self._admission._leave(self._principal, self._entry)
            raise
        self._running = True

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._running:
            self._running = False
            self._entry.running.release()
            self._admission._leave(self._principal, self._entry)
