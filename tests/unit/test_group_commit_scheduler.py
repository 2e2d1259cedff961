"""The group-commit scheduler on its own: fake runners, no database, no ledger."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field

import pytest

from application.errors import CommitFateUnknown, StorageUnavailable
from application.group_commit import GroupCommit


@dataclass(eq=False)
class FakeJob:
    name: str
    gates: frozenset[Hashable]
    scope: Hashable | None = None
    solitary: bool = False
    context: contextvars.Context = field(default_factory=contextvars.copy_context)

    def __repr__(self) -> str:
        return self.name


def job(name: str, *gates: str, scope: str | None = None, solitary: bool = False) -> FakeJob:
    return FakeJob(name, frozenset(gates), scope, solitary)


class FakeRunner:
    """Records every run; each run waits until the test lets it finish (`release`)."""

    def __init__(self) -> None:
        self.runs: list[list[str]] = []
        """Every unit of work started, as the names of its jobs ("alone" runs are lists of one)."""
        self.in_flight: list[list[FakeJob]] = []
        self.overlaps: list[set[Hashable]] = []
        """Gates two units of work in flight shared, whenever one started."""
        self.gate = asyncio.Event()
        self.fail_together: BaseException | None = None
        self.refuse: set[str] = set()

    def release(self) -> None:
        self.gate.set()

    async def _run(self, jobs: list[FakeJob]) -> None:
        for other in self.in_flight:
            shared = {g for j in jobs for g in j.gates} & {g for j in other for g in j.gates}
            if shared:
                self.overlaps.append(shared)
        self.runs.append([j.name for j in jobs])
        self.in_flight.append(jobs)
        try:
            await self.gate.wait()
        finally:
            self.in_flight.remove(jobs)

    async def alone(self, job: FakeJob) -> str:
        await self._run([job])
        if job.name in self.refuse:
            raise ValueError(f"{job.name} refused")
        return f"{job.name} done alone"

    async def together(self, group: Sequence[FakeJob]) -> list[str | BaseException]:
        await self._run(list(group))
        if self.fail_together is not None:
            raise self.fail_together
        return [
            ValueError(f"{j.name} refused") if j.name in self.refuse else f"{j.name} done"
            for j in group
        ]


def scheduler(
    runner: FakeRunner, *, slots: int = 1, max_group: int = 100, min_overlap: int = 1
) -> GroupCommit[FakeJob, str]:
    return GroupCommit(
        runner, enabled=True, slots=slots, max_group=max_group, min_overlap=min_overlap
    )


async def submitted(
    commit: GroupCommit[FakeJob, str], jobs: Sequence[FakeJob]
) -> list[asyncio.Task[str]]:
    tasks = []
    for each in jobs:
        tasks.append(asyncio.ensure_future(commit.submit(each)))
        await asyncio.sleep(0)  # each one reaches the scheduler before the next
    return tasks


async def turns() -> None:
    """A few turns of the loop: a group task just created gets to start its run."""
    for _ in range(3):
        await asyncio.sleep(0)


async def settled(tasks: Sequence[asyncio.Task[str]]) -> list[str | BaseException]:
    return list(await asyncio.gather(*tasks, return_exceptions=True))


async def test_a_quiet_scheduler_runs_a_job_at_once_alone_in_the_callers_task() -> None:
    runner = FakeRunner()
    runner.release()
    assert await scheduler(runner).submit(job("a", "x", "y")) == "a done alone"
    assert runner.runs == [["a"]]


async def test_jobs_queued_behind_a_busy_slot_run_as_one_group_in_arrival_order() -> None:
    runner = FakeRunner()
    commit = scheduler(runner)
    tasks = await submitted(
        commit,
        [job("first", "a", "b"), job("j1", "c", "d"), job("j2", "e", "f"), job("j3", "g", "h")],
    )
    assert runner.runs == [["first"]]
    runner.release()
    answers = await settled(tasks)
    assert runner.runs == [["first"], ["j1", "j2", "j3"]]
    assert answers == ["first done alone", "j1 done", "j2 done", "j3 done"]


async def test_the_next_group_starts_before_the_group_before_it_is_answered() -> None:
    """Its first statement is on its way while the finished group's members are answered: the
    answers are not all between one COMMIT and the next lock."""
    runner = FakeRunner()
    answered_at_start: dict[str, list[bool]] = {}
    tasks: list[asyncio.Task[str]] = []
    together = runner.together

    async def noting(group: Sequence[FakeJob]) -> list[str | BaseException]:
        answered_at_start[group[0].name] = [task.done() for task in tasks[1:3]]
        return await together(group)

    runner.together = noting  # type: ignore[method-assign]
    commit = scheduler(runner, max_group=2)
    tasks += await submitted(commit, [job(name, "x") for name in ("first", "b", "c", "d", "e")])
    runner.release()
    answers = await settled(tasks)
    assert runner.runs == [["first"], ["b", "c"], ["d", "e"]]
    assert answers == ["first done alone", "b done", "c done", "d done", "e done"]
    assert answered_at_start["d"] == [False, False]  # b and c not answered yet

    # Each group's slot was given back once: with one slot, a job on other gates still waits.
    runner.gate.clear()
    later = await submitted(commit, [job("p", "x"), job("q", "y")])
    await turns()
    assert runner.runs[3:] == [["p"]]
    runner.release()
    assert await settled(later) == ["p done alone", "q done alone"]
    assert runner.runs[3:] == [["p"], ["q"]]


async def test_after_a_queued_job_run_alone_the_next_starts_before_it_is_answered() -> None:
    runner = FakeRunner()
    answered_at_start: dict[str, bool] = {}
    tasks: list[asyncio.Task[str]] = []
    alone = runner.alone

    async def noting(job: FakeJob) -> str:
        if job.name == "c":
            answered_at_start["b"] = tasks[1].done()
        return await alone(job)

    runner.alone = noting  # type: ignore[method-assign]
    commit = scheduler(runner, max_group=1)
    tasks += await submitted(commit, [job(name, "x") for name in ("first", "b", "c")])
    runner.release()
    assert await settled(tasks) == ["first done alone", "b done alone", "c done alone"]
    assert runner.runs == [["first"], ["b"], ["c"]]
    assert answered_at_start == {"b": False}


async def test_no_two_groups_in_flight_share_a_gate_and_none_overtakes_on_a_shared_one() -> None:
    runner = FakeRunner()
    commit = scheduler(runner, slots=4)
    tasks = await submitted(
        commit,
        [
            job("hot1", "hot", "a"),
            job("hot2", "hot", "b"),  # waits for hot1: they share "hot"
            job("b-after", "b", "c"),  # behind hot2 on "b": may not overtake it
            job("free", "x", "y"),  # shares nothing: may go beside hot1
        ],
    )
    await turns()
    assert runner.runs == [["hot1"], ["free"]]  # "free" went beside hot1; the rest wait
    runner.release()
    await settled(tasks)
    assert runner.runs == [["hot1"], ["free"], ["hot2", "b-after"]]
    assert runner.overlaps == []


async def test_beside_a_running_group_a_new_one_starts_only_once_enough_wait() -> None:
    runner = FakeRunner()
    commit = scheduler(runner, slots=2, min_overlap=3)
    tasks = await submitted(commit, [job("running", "r"), job("w1", "a"), job("w2", "b")])
    assert runner.runs == [["running"]]  # two waiting: not worth a transaction beside it
    tasks += await submitted(commit, [job("w3", "c")])
    await turns()
    assert runner.runs == [["running"], ["w1", "w2", "w3"]]  # three: worth one
    runner.release()
    await settled(tasks)


async def test_a_second_job_under_the_same_key_waits_for_the_next_group() -> None:
    runner = FakeRunner()
    commit = scheduler(runner)
    tasks = await submitted(
        commit,
        [
            job("first", "z"),
            job("k1", "a", scope="key"),
            job("other", "b"),
            job("k2", "c", scope="key"),
        ],
    )
    runner.release()
    await settled(tasks)
    assert runner.runs == [["first"], ["k1", "other"], ["k2"]]


async def test_a_batch_is_a_group_of_its_own() -> None:
    runner = FakeRunner()
    commit = scheduler(runner)
    tasks = await submitted(
        commit,
        [job("first", "z"), job("t1", "a"), job("batch", "b", solitary=True), job("t2", "c")],
    )
    runner.release()
    await settled(tasks)
    assert runner.runs == [["first"], ["t1", "t2"], ["batch"]]


async def test_a_failed_group_is_run_again_one_by_one_and_each_answers_as_alone() -> None:
    runner = FakeRunner()
    runner.fail_together = RuntimeError("the group's transaction rolled back")
    runner.refuse = {"j2"}
    commit = scheduler(runner)
    tasks = await submitted(commit, [job("first", "z"), job("j1", "a"), job("j2", "b")])
    runner.release()
    answers = await settled(tasks)
    assert runner.runs == [["first"], ["j1", "j2"], ["j1"], ["j2"]]
    assert answers[:2] == ["first done alone", "j1 done alone"]
    assert isinstance(answers[2], ValueError)


async def test_a_commit_of_unknown_fate_is_every_members_answer_and_nothing_runs_again() -> None:
    runner = FakeRunner()
    lost = ConnectionError("the connection died in COMMIT")
    runner.fail_together = CommitFateUnknown(lost)
    commit = scheduler(runner)
    tasks = await submitted(commit, [job("first", "z"), job("j1", "a"), job("j2", "b")])
    runner.release()
    answers = await settled(tasks)
    assert runner.runs == [["first"], ["j1", "j2"]]  # never again: it may have happened
    assert all(isinstance(answer, ConnectionError) for answer in answers[1:])
    assert answers[1] is not answers[2]  # each caller its own exception object


async def test_an_unreachable_database_is_every_members_answer() -> None:
    runner = FakeRunner()
    runner.fail_together = StorageUnavailable("no connection")
    commit = scheduler(runner)
    tasks = await submitted(commit, [job("first", "z"), job("j1", "a"), job("j2", "b")])
    runner.release()
    answers = await settled(tasks)
    assert runner.runs == [["first"], ["j1", "j2"]]
    assert all(isinstance(answer, StorageUnavailable) for answer in answers[1:])


async def test_a_caller_that_goes_away_while_queued_is_left_out_and_frees_nothing_early() -> None:
    runner = FakeRunner()
    commit = scheduler(runner)
    tasks = await submitted(commit, [job("first", "a"), job("gone", "a"), job("kept", "a")])
    tasks[1].cancel()
    runner.release()
    answers = await settled(tasks)
    assert isinstance(answers[1], asyncio.CancelledError)
    assert runner.runs == [["first"], ["kept"]]
    assert answers[2] == "kept done alone"


async def test_a_group_cancelled_in_flight_answers_every_member_and_frees_its_gates() -> None:
    runner = FakeRunner()
    commit = scheduler(runner)
    tasks = await submitted(commit, [job("first", "z"), job("j1", "a"), job("j2", "b")])
    await asyncio.sleep(0)
    for task in tasks:
        task.cancel()
    answers = await settled(tasks)
    assert all(isinstance(answer, asyncio.CancelledError) for answer in answers)
    await asyncio.sleep(0)
    runner.release()
    # Nothing is left holding "a", "b" or "z": a job on all three runs at once, alone.
    assert await commit.submit(job("after", "a", "b", "z")) == "after done alone"
    assert runner.runs[-1] == ["after"]


async def test_off_every_job_runs_alone_at_once() -> None:
    runner = FakeRunner()
    runner.release()
    commit = GroupCommit(runner, enabled=False, slots=1, max_group=100, min_overlap=1)
    answers = await settled(await submitted(commit, [job("a", "x"), job("b", "x")]))
    assert answers == ["a done alone", "b done alone"]
    assert runner.runs == [["a"], ["b"]]


@pytest.mark.parametrize("max_group", [1, 2])
async def test_groups_never_exceed_their_size(max_group: int) -> None:
    runner = FakeRunner()
    commit = scheduler(runner, max_group=max_group)
    tasks = await submitted(commit, [job("first", "z"), *(job(f"j{i}", f"g{i}") for i in range(5))])
    runner.release()
    await settled(tasks)
    assert max(len(run) for run in runner.runs) <= max_group
    assert sorted(name for run in runner.runs for name in run) == sorted(
        ["first", *(f"j{i}" for i in range(5))]
    )


async def test_a_job_under_a_key_never_overtakes_an_earlier_one_under_it_that_waits() -> None:
    runner = FakeRunner()
    commit = scheduler(runner, slots=2)
    tasks = await submitted(
        commit,
        [
            job("first", "a"),
            job("k1", "a", scope="key"),  # waits for "a"
            job("k2", "b", scope="key"),  # free to go, but after k1: same key
        ],
    )
    await turns()
    assert runner.runs == [["first"]]
    runner.release()
    await settled(tasks)
    assert runner.runs == [["first"], ["k1"], ["k2"]]
