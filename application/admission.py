"""Per-principal admission: one user (or, later, one API key) cannot take the whole process.

Two limits, both per process and in memory (no database round trip on the request path):

- in flight: at most `max_in_flight` requests of one principal exist at once; the next one is
  refused at once (`TooManyRequests`), before it costs anything more than its token check;
- running: while other principals are active too, at most `max_running` of one principal's
  heavy requests (a turn taken `gated`: reads and writes of many rows) do their work
  (database, CPU) at once; the others wait their turn in arrival
  order. The event loop runs whatever is ready in turn, so another principal's request waits
  behind a few of the busy one's steps, not behind all of them. With nobody else active
  (in the last `contention_window_s`), one principal may run everything it has in flight:
  fairness costs nothing when there is nobody to be fair to;
- pause: while contended, a principal with requests waiting gets its freed turn back only
  after `pause` times the running time of the request that ended. A process kept busy by
  one principal without a break loses the scheduler's favour on a shared machine, and every
  other request then waits for CPU as well as for the loop; with a pause of 1 one busy
  principal takes at most about half of the process's time while others are active.

A slot is released when its request ends, however it ends (answer, error, cancellation).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Hashable
from types import TracebackType

from application.errors import TooManyRequests


class _Principal:
    __slots__ = ("in_flight", "resting", "running", "waiting")

    def __init__(self) -> None:
        self.in_flight = 0
        self.running = 0
        self.resting = 0
        """Turns held through a pause (counted in `running`, not in flight: their request
        has ended)."""
        self.waiting: deque[asyncio.Future[None]] = deque()


class Admission:
    def __init__(
        self,
        max_in_flight: int,
        max_running: int,
        *,
        pause: float = 0.0,
        contention_window_s: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_in_flight < 1 or not 1 <= max_running <= max_in_flight or pause < 0:
            raise ValueError("need 1 <= max_running <= max_in_flight and pause >= 0")
        self.max_in_flight = max_in_flight
        self.max_running = max_running
        self.pause = pause
        self._window_s = contention_window_s
        self._monotonic = monotonic
        self._principals: dict[Hashable, _Principal] = {}
        # Who was admitted in this window and the one before it: two sets, swapped as time
        # passes, so telling "someone else is active" costs no scan on the common path.
        self._seen: set[Hashable] = set()
        self._seen_before: set[Hashable] = set()
        self._window_ends = 0.0

    def turn(self, principal: Hashable, *, gated: bool = True) -> Turn:
        """`async with admission.turn(user_id):` around a request's work. Not `gated`: the
        request counts in flight but never waits (one row read or one movement costs less
        than the turn-taking would save, and throughput rests on those running at once)."""
        return Turn(self, principal, gated=gated)

    async def enter(self, principal: Hashable, *, gated: bool = True) -> Turn:
        """The same turn, taken now and given back by `Turn.release()`: for a caller whose
        request ends somewhere else than where it began."""
        turn = Turn(self, principal, gated=gated)
        await turn.__aenter__()
        return turn

    def in_flight(self, principal: Hashable) -> int:
        found = self._principals.get(principal)
        return 0 if found is None else found.in_flight

    def _note(self, principal: Hashable) -> None:
        now = self._monotonic()
        if now >= self._window_ends:
            recent = now < self._window_ends + self._window_s
            self._seen_before = self._seen if recent else set()
            self._seen = set()
            self._window_ends = now + self._window_s
        self._seen.add(principal)

    def _contended(self, principal: Hashable) -> bool:
        """Whether a principal other than this one was admitted lately or is in flight."""
        if len(self._principals) > 1:
            return True
        return any(other != principal for other in (*self._seen, *self._seen_before))

    def _may_run(self, principal: Hashable, found: _Principal) -> bool:
        return found.running < self.max_running or not self._contended(principal)

    def _enter(self, principal: Hashable) -> _Principal:
        self._note(principal)
        found = self._principals.get(principal)
        if found is None:
            found = self._principals[principal] = _Principal()
        elif found.in_flight >= self.max_in_flight:
            raise TooManyRequests(
                f"At most {self.max_in_flight} of your requests may be in flight at once; "
                "retry when one has ended.",
                self.max_in_flight,
            )
        found.in_flight += 1
        return found

    def _finish(
        self, principal: Hashable, found: _Principal, *, ran: bool, ran_for: float = 0.0
    ) -> None:
        found.in_flight -= 1
        if ran:
            rest = self.pause * ran_for
            if rest > 0 and found.waiting and self._contended(principal):
                # The turn stays taken while it rests; then it goes to the next in line.
                found.resting += 1
                asyncio.get_running_loop().call_later(rest, self._rested, principal, found)
                return
            found.running -= 1
        self._hand_over(principal, found)

    def _rested(self, principal: Hashable, found: _Principal) -> None:
        found.resting -= 1
        found.running -= 1
        self._hand_over(principal, found)

    def _hand_over(self, principal: Hashable, found: _Principal) -> None:
        # Hand freed turns to those waiting, oldest first (all of them once uncontended).
        while found.waiting and self._may_run(principal, found):
            waiter = found.waiting.popleft()
            if not waiter.done():
                found.running += 1
                waiter.set_result(None)
        if found.in_flight == 0 and found.resting == 0:  # nothing left: keep no state
            del self._principals[principal]


class Turn:
    """One request's place: counted in flight on entry, running once its turn comes."""

    __slots__ = ("_admission", "_counted", "_entry", "_gated", "_principal", "_running", "_started")

    def __init__(self, admission: Admission, principal: Hashable, *, gated: bool = True) -> None:
        self._admission = admission
        self._principal = principal
        self._gated = gated
        self._running = False
        self._counted = False
        """In flight without a running turn (not gated)."""

    async def __aenter__(self) -> None:
        admission, principal = self._admission, self._principal
        entry = self._entry = admission._enter(principal)
        if not self._gated:
            self._counted = True
            return
        if not entry.waiting and admission._may_run(principal, entry):
            entry.running += 1
            self._running = True
            self._started = admission._monotonic()
            return
        waiter = asyncio.get_running_loop().create_future()
        entry.waiting.append(waiter)
        try:
            await waiter
        except BaseException:  # cancelled while waiting its turn
            granted = waiter.done() and not waiter.cancelled()
            if not granted:
                waiter.cancel()
            admission._finish(principal, entry, ran=granted)
            raise
        self._running = True
        self._started = admission._monotonic()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()

    def release(self) -> None:
        """Give the turn back (once; again is a no-op)."""
        if self._running:
            self._running = False
            admission = self._admission
            ran_for = admission._monotonic() - self._started
            admission._finish(self._principal, self._entry, ran=True, ran_for=ran_for)
        elif self._counted:
            self._counted = False
            self._admission._finish(self._principal, self._entry, ran=False)
