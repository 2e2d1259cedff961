"""Group commit: submissions that arrive together are decided together and written in one
transaction, so the per-transaction cost (BEGIN, the lock round trip, the write, COMMIT and
its WAL flush) is paid once per group instead of once per movement.

Natural batching, no timer: a submission that finds nothing in flight on what it moves runs
at once, alone, exactly as it would without group commit, so a quiet system pays nothing.
Otherwise it queues, and a free slot takes everything queued as its next group: at once when
nothing else is in flight, beside a running transaction only once enough wait to be worth
one (`min_overlap`); fewer wait for the running one to end, which bounds their wait.

The scheduler knows no database: it hands lists to a `GroupRunner` (the write pipeline).
"""

from __future__ import annotations

import asyncio
import contextvars
import copy
from collections import Counter, deque
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Generic, Protocol, TypeVar

from application.errors import CommitFateUnknown, StorageUnavailable

R = TypeVar("R")


class Job(Protocol):
    """What the scheduler needs to know of a submission."""

    @property
    def gates(self) -> frozenset[Hashable]:
        """What it moves: no two groups in flight share one."""
        ...

    @property
    def scope(self) -> Hashable | None:
        """Its idempotency key: two jobs under one key never share a group."""
        ...

    @property
    def solitary(self) -> bool:
        """It runs in a group of its own (a batch)."""
        ...

    @property
    def context(self) -> contextvars.Context:
        """The caller's context, which a job running for that caller alone runs in."""
        ...


J = TypeVar("J", bound=Job)
J_contra = TypeVar("J_contra", bound=Job, contravariant=True)
R_co = TypeVar("R_co", covariant=True)


class GroupRunner(Protocol[J_contra, R_co]):
    async def alone(self, job: J_contra) -> R_co:
        """Run one job in its own unit of work, with its own retries; raise its refusal."""
        ...

    async def together(self, group: Sequence[J_contra]) -> Sequence[R_co | BaseException]:
        """Run a group in one unit of work, once: one answer per job, in order. Raises
        `CommitFateUnknown` when COMMIT failed without saying whether it happened, anything else
        when the group rolled back."""
        ...


@dataclass(eq=False, slots=True)
class _Waiting(Generic[J, R]):
    job: J
    answer: asyncio.Future[R]


@dataclass(eq=False, slots=True)
class _InFlight:
    """A running group's gates, given back once: when its transaction ends, or when its task
    does (cancelled, failed), whichever comes first."""

    gates: list[Hashable]
    ended: bool = False


class GroupCommit(Generic[J, R]):
    """Runs jobs in groups. A group whose transaction fails is not anyone's answer: its jobs
    run again one by one, each with its own retries, and answer as they would have alone.
    Only a COMMIT whose fate is unknown (the connection died in it) is every member's answer,
    as it would be for a lone job: running them again could move the money twice."""

    def __init__(
        self,
        runner: GroupRunner[J, R],
        *,
        enabled: bool,
        slots: int,
        max_group: int,
        min_overlap: int,
    ) -> None:
        if slots < 1 or max_group < 1 or min_overlap < 1:
            raise ValueError("group commit needs at least one slot and groups of one")
        self._runner = runner
        self._enabled = enabled
        self._slots = slots
        self._max_group = max_group
        self._min_overlap = min_overlap
        self._busy = 0
        self._moving: Counter[Hashable] = Counter()
        """How many running transactions hold each gate."""
        self._queue: deque[_Waiting[J, R]] = deque()
        self._groups: set[asyncio.Task[None]] = set()

    async def submit(self, job: J) -> R:
        if not self._enabled:
            return await self._runner.alone(job)
        free = self._may_start(1) and not self._queue
        if free and self._moving.keys().isdisjoint(job.gates):
            self._busy += 1  # a free slot, nothing to wait for: run now, in the caller's task
            self._moving.update(job.gates)
            try:
                return await self._runner.alone(job)
            finally:
                self._release(job.gates)
                self._busy -= 1
                self._start_groups()
        answer: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._queue.append(_Waiting(job, answer))
        self._start_groups()
        return await answer

    def _may_start(self, waiting: int) -> bool:
        """Whether a transaction for `waiting` jobs may start now. Beside a running one it
        must be worth its own BEGIN, round trips and COMMIT: measured at 64 connections,
        starting one for every transfer that came while a group ran gave groups of one or two
        half the time, each as slow as a full one (the event loop is busy with the full
        group's requests), and 7% fewer transfers per second than waiting for 8."""
        if self._busy == 0:
            return True
        return self._busy < self._slots and waiting >= self._min_overlap

    def _start_groups(self) -> None:
        while self._may_start(len(self._queue)) and (group := self._next_group()):
            self._busy += 1
            gates = [gate for waiting in group for gate in waiting.job.gates]
            self._moving.update(gates)
            # A lone job runs in (a copy of) its caller's context (its trace, its log fields); a
            # group's work belongs to no single caller.
            context = group[0].job.context.copy() if len(group) == 1 else contextvars.Context()
            flight = _InFlight(gates)
            task = asyncio.create_task(self._run(group, flight), context=context)
            self._groups.add(task)
            task.add_done_callback(partial(self._group_done, group, flight))

    def _group_done(
        self, group: list[_Waiting[J, R]], flight: _InFlight, task: asyncio.Task[None]
    ) -> None:
        self._groups.discard(task)
        for waiting in group:  # a task cancelled before its first step ran no `finally`
            if not waiting.answer.done():
                waiting.answer.cancel()
        self._end(flight)

    def _end(self, flight: _InFlight) -> None:
        """The group's transaction is over: its gates are free and the next group may start.
        When it committed, this runs before its members are answered, so the next group's first
        statement is on its way while they are (waiting for the task's end put every answer's
        step, and the new task's first, between one COMMIT and the next lock). Otherwise (a
        failed group run again one by one, a cancelled one) it runs as the task ends."""
        if flight.ended:
            return
        flight.ended = True
        self._release(flight.gates)
        self._busy -= 1
        self._start_groups()

    def _release(self, gates: Sequence[Hashable] | frozenset[Hashable]) -> None:
        for gate in gates:
            self._moving[gate] -= 1
            if self._moving[gate] <= 0:
                del self._moving[gate]

    def _next_group(self) -> list[_Waiting[J, R]]:
        """What is queued, in arrival order, up to the group size, leaving for later every
        job that would wait: one touching a gate a running transaction holds (groups in
        flight never wait on each other's locks; a hot spot becomes one group at a time), and
        everything queued behind it on the same gates, so no job overtakes an earlier one on
        a gate they share. A second job under an idempotency key already in the group waits
        too: in the next one it meets the first one's outcome, as it would have arriving
        after it. A solitary job (a batch) is a group of its own."""
        group: list[_Waiting[J, R]] = []
        later: list[_Waiting[J, R]] = []
        taken: list[_Waiting[J, R]] = []
        scopes: set[Hashable] = set()
        blocked = set(self._moving)
        while self._queue and len(group) < self._max_group:
            waiting = self._queue.popleft()
            if waiting.answer.done():  # its caller went away before it ran
                continue
            taken.append(waiting)
            job = waiting.job
            solitary_misfit = job.solitary and bool(group)
            if solitary_misfit or job.scope in scopes or not blocked.isdisjoint(job.gates):
                later.append(waiting)
                blocked.update(job.gates)
                if job.scope is not None:  # a later one under its key may not overtake it
                    scopes.add(job.scope)
                continue
            if job.scope is not None:
                scopes.add(job.scope)
            group.append(waiting)
            if job.solitary:
                break
        if not self._may_start(len(group)) and not (group and group[0].job.solitary):
            self._queue.extendleft(reversed(taken))  # too few to go beside others
            return []
        self._queue.extendleft(reversed(later))
        return group

    async def _run(self, group: list[_Waiting[J, R]], flight: _InFlight) -> None:
        try:
            await self._answer(group, flight)
        finally:  # cancelled on the way (shutdown): nobody waits forever
            for waiting in group:
                if not waiting.answer.done():
                    waiting.answer.cancel()

    async def _answer(self, group: list[_Waiting[J, R]], flight: _InFlight) -> None:
        if len(group) == 1:
            await self._answer_alone(group[0], flight)
            return
        try:
            answers = await self._runner.together([waiting.job for waiting in group])
        except CommitFateUnknown as unknown:
            for waiting in group:
                _settle(waiting.answer, copy.copy(unknown.error))
            return
        except StorageUnavailable as unavailable:
            # No connection, or the database away: alone, each would wait for the same.
            for waiting in group:
                _settle(waiting.answer, copy.copy(unavailable))
            return
        except Exception:
            # The group's transaction failed and rolled back: one by one, in arrival order,
            # each in its caller's context, so each answers as it would have alone.
            for waiting in group:
                context = waiting.job.context.copy()
                await asyncio.create_task(self._answer_alone(waiting), context=context)
            return
        self._end(flight)
        for waiting, answer in zip(group, answers, strict=True):
            _settle(waiting.answer, answer)

    async def _answer_alone(self, waiting: _Waiting[J, R], flight: _InFlight | None = None) -> None:
        """`flight`: the job is its group's only one, whose transaction is over once it ran."""
        if waiting.answer.done():
            return
        outcome: R | BaseException
        try:
            outcome = await self._runner.alone(waiting.job)
        except Exception as error:
            outcome = error
        if flight is not None:
            self._end(flight)
        _settle(waiting.answer, outcome)


def _settle(answer: asyncio.Future[R], outcome: R | BaseException) -> None:
    """Give a caller its answer, unless it went away (its future was cancelled)."""
    if answer.done():
        return
    if isinstance(outcome, BaseException):
        answer.set_exception(outcome)
    else:
        answer.set_result(outcome)
