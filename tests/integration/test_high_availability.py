"""hexbank on a real high-availability PostgreSQL: a three-node Patroni cluster, synchronous
and strict, behind a multi-host DATABASE_URL (tests/patroni_cluster.py), under a steady,
bounded load of transfers through a real `hexbank serve`:

- the leader node dies: a standby is promoted, the other standby keeps commits flowing, the
  dead node rejoins. Nothing acknowledged is lost, the ledger balances, requests in the
  window get only 201, 503 with Retry-After or a business refusal, and the service heals
  without a restart. The unavailability window is measured and printed;
- only the leader's postmaster dies: Patroni restarts it in place;
- a planned switchover, and the loss of etcd (every node turns read-only): 503, never 500;
- a streaming standby as HEXBANK_READ_REPLICA_URL: statements and summaries read it (shown
  by pausing its replay), writes never do, and when it dies reads answer from the primary
  or 503, never a wrong answer, never 500.

Skipped, saying why, where `patroni`/`etcd` are not installed (.ci/run installs them).
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import statistics
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from tests.fakes import TEST_SECRET, TEST_STATEMENT_KEY
from tests.integration.test_processes import answers_ready, customer
from tests.patroni_cluster import (  # noqa: F401  (a fixture: pytest finds it by its name)
    Node,
    PatroniCluster,
    patroni_cluster_fixture,
)
from tests.ports import free_port
from tests.postgres import create_database, unique_name
from tests.waiting import eventually, wait_until

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]

FUNDS = 10**7
WINDOW_GOAL_S = 7.0
"""The issue's goal for a leader's death: first 503 to first 201 after."""
WINDOW_BOUND_S = 20.0
"""What the test asserts: generous, for a loaded 2-core machine; the goal is printed."""


# -- the service under test ---------------------------------------------------------------


@contextmanager
def serving(
    database_url: str, data_dir: Path, **env: str
) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """A real `hexbank serve` on the cluster, its log kept for failure messages."""
    port = free_port()
    log = data_dir / f"serve-{port}.log"
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "HEXBANK_JWT_SECRET": TEST_SECRET,
        "HEXBANK_STATEMENT_SIGNING_KEY": TEST_STATEMENT_KEY,
        "HEXBANK_DATA_DIR": str(data_dir),
        "HEXBANK_LOG_LEVEL": "warning",
        "HEXBANK_LOG_FORMAT": "json",
        "HEXBANK_ARGON2_TIME_COST": "1",
        "HEXBANK_ARGON2_MEMORY_KIB": "64",
        "HEXBANK_REGISTRATIONS_PER_CLIENT": "10000",
        **env,
    }
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "entrypoints.cli", "serve", "--port", str(port)],
            env=environment,
            cwd=ROOT,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        assert process.poll() is None, log.read_text(errors="replace")[-3000:]
        return answers_ready(process, base)

    try:
        wait_until(ready, f"`hexbank serve` to be ready on {base}", within_s=60)
        yield process, base
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)


def server_errors(data_dir: Path) -> list[str]:
    """Log lines of the app processes that speak of an unexpected error (a 500)."""
    return [
        line
        for log in data_dir.glob("serve-*.log")
        for line in log.read_text(errors="replace").splitlines()
        if "Traceback" in line or '"level": "error"' in line
    ]


async def fresh_database(cluster: PatroniCluster) -> str:
    """A database of the test's own on the cluster (the app migrates it when it starts)."""
    name = unique_name("hexbank_ha")
    await create_database(cluster.node_url(cluster.leader()), name)
    return name


async def on_node(node: Node, database: str) -> asyncpg.Connection:
    return await asyncpg.connect(
        host="127.0.0.1", port=node.pg_port, user="postgres", database=database, timeout=5
    )


# -- a steady, bounded load of transfers --------------------------------------------------


@dataclass(frozen=True, slots=True)
class Answer:
    sent: float
    received: float
    status: int
    transfer_id: str | None
    retry_after: str | None
    content_type: str
    body: str


# Idle connections are dropped by the client before uvicorn's own keep-alive timeout (5 s)
# closes them: otherwise a request sent on a connection the server is closing at that very
# moment dies as a ReadError, a race of HTTP keep-alive, not of the failover under test.
KEEP_ALIVE = httpx.Limits(keepalive_expiry=1.0)


class TransferLoad:
    """`clients` loops, each sending at most `rate_per_client` transfers a second between
    random pairs of `people`, until stopped or `max_requests` were sent. Amounts are small
    against the funds: a refusal is possible in principle but not expected."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        base: str,
        people: list[tuple[dict[str, str], str]],
        *,
        clients: int = 8,
        rate_per_client: float = 15.0,
        max_requests: int = 20_000,
    ) -> None:
        self._http, self._base, self._people = http, base, people
        self._clients, self._interval = clients, 1.0 / rate_per_client
        self._max_requests = max_requests
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._rng = random.Random(14)
        self.answers: list[Answer] = []
        self.transport_errors: list[str] = []

    async def __aenter__(self) -> TransferLoad:
        self._tasks = [asyncio.create_task(self._client()) for _ in range(self._clients)]
        return self

    async def __aexit__(self, *_: object) -> None:
        self._stop.set()
        await asyncio.gather(*self._tasks)

    async def _client(self) -> None:
        loop = asyncio.get_running_loop()
        while not self._stop.is_set() and len(self.answers) < self._max_requests:
            (auth, source), (_, destination) = self._rng.sample(self._people, 2)
            body = {
                "from_account_id": source,
                "to_account_id": destination,
                "amount": self._rng.randint(1, 100),
                "currency": "EUR",
                "description": "load",
            }
            sent = loop.time()
            try:
                response = await self._http.post(
                    f"{self._base}/api/v1/transfers", json=body, headers=auth
                )
            except httpx.TransportError as error:
                self.transport_errors.append(f"{type(error).__name__}: {error}")
            else:
                created = response.status_code == 201
                self.answers.append(
                    Answer(
                        sent=sent,
                        received=loop.time(),
                        status=response.status_code,
                        transfer_id=response.json()["id"] if created else None,
                        retry_after=response.headers.get("retry-after"),
                        content_type=response.headers.get("content-type", ""),
                        body="" if created else response.text[:300],
                    )
                )
            await asyncio.sleep(max(0.0, sent + self._interval - loop.time()))

    def created(self) -> list[Answer]:
        return [answer for answer in self.answers if answer.status == 201]

    def accepted(self) -> list[str]:
        """The ids of the transfers that got a 201."""
        return [answer.transfer_id for answer in self.created() if answer.transfer_id]

    def created_after(self, moment: float) -> list[Answer]:
        return [answer for answer in self.created() if answer.sent >= moment]

    async def until(self, condition: Callable[[], bool], what: str, within_s: float = 40) -> None:
        def holds() -> bool:
            for task in self._tasks:
                if task.done():
                    task.result()  # a client ends early only on a bug: raise it
            return condition()

        await eventually(holds, lambda: f"{what} ({self.summary()})", within_s=within_s)

    def summary(self) -> str:
        counts: dict[int, int] = {}
        for answer in self.answers:
            counts[answer.status] = counts.get(answer.status, 0) + 1
        return f"answers by status {counts}, transport errors {len(self.transport_errors)}"


def improper(answers: list[Answer]) -> list[str]:
    """Answers a client must never get: anything but 201, 503 problem+json with Retry-After,
    or a refusal by a business rule (409/422 problem+json)."""
    wrong = []
    for answer in answers:
        problem = answer.content_type.startswith("application/problem+json")
        if answer.status == 201:
            continue
        if answer.status == 503 and problem and answer.retry_after:
            continue
        if answer.status in (409, 422) and problem:
            continue
        wrong.append(f"{answer.status} {answer.retry_after=} {answer.body}")
    return wrong


@dataclass(frozen=True, slots=True)
class Window:
    unavailable_s: float
    """From the first 503 to the first 201 after it (the issue's definition); when no
    request got a 503, the longest gap between two 201s around the kill."""
    longest_commit_gap_s: float
    answers_503: int


def measure_window(answers: list[Answer], killed_at: float) -> Window:
    created = sorted(answer.received for answer in answers if answer.status == 201)
    before = [moment for moment in created if moment < killed_at]
    after = [moment for moment in created if moment >= killed_at]
    assert before, "no transfer committed before the kill"
    assert after, "no transfer committed after the kill"
    gaps = [later - earlier for earlier, later in zip([before[-1], *after], after, strict=False)]
    longest = max(gaps)
    refused = sorted(a.received for a in answers if a.status == 503 and a.received >= killed_at)
    # A 503 after the last 201 (a request that met the old leader rejoining as the load
    # stopped) opens no window this run can close: the window is the one that closed.
    closed = [moment for moment in refused if moment < created[-1]]
    if not closed:
        return Window(longest, longest, len(refused))
    first_503 = closed[0]
    recovered = min(moment for moment in created if moment > first_503)
    return Window(recovered - first_503, longest, len(refused))


def report(capsys: pytest.CaptureFixture[str], line: str) -> None:
    """A measured figure, printed where CI's log shows it (not only on failure)."""
    with capsys.disabled():
        print(f"\n[high availability] {line}")


# -- what must hold afterwards ------------------------------------------------------------


async def check_books(
    cluster: PatroniCluster, database: str, accepted: list[str], customers: int
) -> None:
    """On the current primary: every accepted transfer is there, money is conserved, no
    balance is negative, every balance equals its entries and the entries sum to zero."""
    connection = await on_node(cluster.leader(), database)
    try:
        stored = {
            str(row["id"])
            for row in await connection.fetch(
                "SELECT id FROM transfers WHERE id = ANY($1::uuid[])", accepted
            )
        }
        held = await connection.fetchval(
            "SELECT coalesce(sum(balance), 0) FROM accounts WHERE kind = 'customer'"
        )
        negative = await connection.fetchval(
            "SELECT count(*) FROM accounts WHERE kind = 'customer' AND balance < 0"
        )
        entries = await connection.fetchval("SELECT coalesce(sum(amount), 0) FROM ledger_entries")
        mismatched = await connection.fetchval(
            "SELECT count(*) FROM accounts a WHERE a.balance <> coalesce("
            "(SELECT sum(amount) FROM ledger_entries e WHERE e.account_id = a.id), 0)"
        )
    finally:
        await connection.close()
    missing = set(accepted) - stored
    assert not missing, f"{len(missing)} of {len(accepted)} acknowledged transfers are lost"
    assert (held, negative, entries, mismatched) == (customers * FUNDS, 0, 0, 0), (
        f"customer money {held} (expected {customers * FUNDS}), {negative} negative balances, "
        f"entries sum {entries}, {mismatched} balances differ from their entries"
    )


def reconcile(database_url: str, data_dir: Path) -> None:
    """`hexbank reconcile` through the multi-host URL, as an operator runs it."""
    done = subprocess.run(
        [sys.executable, "-m", "entrypoints.cli", "reconcile"],
        env={
            **os.environ,
            "DATABASE_URL": database_url,
            "HEXBANK_JWT_SECRET": TEST_SECRET,
            "HEXBANK_STATEMENT_SIGNING_KEY": TEST_STATEMENT_KEY,
            "HEXBANK_DATA_DIR": str(data_dir),
        },
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "the ledger balances" in done.stdout


async def replicated_everywhere(
    cluster: PatroniCluster, database: str, accepted: list[str]
) -> None:
    """Every node, the rejoined one included, holds every accepted transfer (once replay
    has caught up)."""
    for node in cluster.nodes:

        async def has_all(node: Node = node) -> bool:
            connection = await on_node(node, database)
            try:
                found = await connection.fetchval(
                    "SELECT count(*) FROM transfers WHERE id = ANY($1::uuid[])", accepted
                )
            finally:
                await connection.close()
            return int(found) == len(accepted)

        await eventually(has_all, f"{node.name} to hold all {len(accepted)} accepted transfers")


# -- the tests ----------------------------------------------------------------------------


@dataclass
class Bank:
    """A fresh database on the cluster, a `hexbank serve` on it, customers with funds."""

    database: str
    url: str
    process: subprocess.Popen[bytes]
    base: str
    http: httpx.AsyncClient
    people: list[tuple[dict[str, str], str]]

    def load(self, **options: Any) -> TransferLoad:
        return TransferLoad(self.http, self.base, self.people, **options)

    async def still_serving(self) -> None:
        """The same process, never restarted, answers ready and commits a transfer."""
        assert self.process.poll() is None, "the service exited"
        assert (await self.http.get(f"{self.base}/health/ready")).status_code == 200
        (auth, source), (_, destination) = self.people[:2]
        body = {"from_account_id": source, "to_account_id": destination, "amount": 1}
        response = await self.http.post(
            f"{self.base}/api/v1/transfers", json={**body, "currency": "EUR"}, headers=auth
        )
        assert response.status_code == 201, response.text


@asynccontextmanager
async def bank_on(
    cluster: PatroniCluster, data_dir: Path, customers: int, **env: str
) -> AsyncIterator[Bank]:
    await asyncio.to_thread(cluster.wait_healthy)  # whatever the previous test left
    database = await fresh_database(cluster)
    url = cluster.url(database)
    with serving(url, data_dir, **env) as (process, base):
        async with httpx.AsyncClient(timeout=30, limits=KEEP_ALIVE) as http:
            people = [await customer(http, base, f"c{n}", FUNDS) for n in range(customers)]
            yield Bank(database, url, process, base, http, people)


def answered_properly(load: TransferLoad) -> None:
    assert not load.transport_errors, load.transport_errors[:5]
    wrong = improper(load.answers)
    assert not wrong, f"{len(wrong)} improper answers, e.g. {wrong[:5]}"


async def test_leader_dies_under_load_and_no_acknowledged_transfer_is_lost(
    patroni_cluster: PatroniCluster, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cluster = patroni_cluster
    loop = asyncio.get_running_loop()
    async with bank_on(cluster, tmp_path, customers=8) as bank:
        async with bank.load() as load:
            await load.until(lambda: len(load.created()) >= 100, "transfers to flow")
            old = cluster.leader()
            killed_at = loop.time()
            cluster.kill(old)
            new = await asyncio.to_thread(cluster.wait_new_leader, old)
            promoted_after = loop.time() - killed_at
            # Commits flow while the dead node is still down: the other standby is the
            # synchronous one now (with two nodes, strict mode would wait for the dead one).
            await load.until(
                lambda: len(load.created_after(killed_at)) >= 20,
                f"transfers to commit on {new.name} with {old.name} down",
            )
            assert not old.patroni_running()
            cluster.restart(old)
            await asyncio.to_thread(cluster.wait_rejoined, old)
            rejoined = len(load.created())
            await load.until(
                lambda: len(load.created()) >= rejoined + 50,
                f"transfers to commit once {old.name} rejoined",
            )
        answered_properly(load)
        window = measure_window(load.answers, killed_at)
        accepted = load.accepted()
        await bank.still_serving()
        await check_books(cluster, bank.database, accepted, len(bank.people))
        reconcile(bank.url, tmp_path)
        await replicated_everywhere(cluster, bank.database, accepted)
    report(
        capsys,
        f"leader {old.name} killed, {new.name} promoted {promoted_after:.1f} s later: "
        f"unavailable {window.unavailable_s:.2f} s (first 503 to first 201 after; goal "
        f"<= {WINDOW_GOAL_S:g} s), longest gap between commits "
        f"{window.longest_commit_gap_s:.2f} s, {window.answers_503} answers 503; "
        f"{len(accepted)} acknowledged transfers found on the new primary and on every node",
    )
    assert window.unavailable_s <= WINDOW_BOUND_S, window
    assert not server_errors(tmp_path), server_errors(tmp_path)[:5]


async def test_leader_postmaster_dies_and_patroni_restarts_it_in_place(
    patroni_cluster: PatroniCluster, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cluster = patroni_cluster
    async with bank_on(cluster, tmp_path, customers=4) as bank:
        async with bank.load(clients=4, rate_per_client=10) as load:
            await load.until(lambda: len(load.created()) >= 40, "transfers to flow")
            leader = cluster.leader()
            killed_at = asyncio.get_running_loop().time()
            cluster.kill_postmaster(leader)
            await load.until(
                lambda: len(load.created_after(killed_at)) >= 20,
                f"transfers to commit again after {leader.name}'s postmaster died",
            )
        answered_properly(load)
        window = measure_window(load.answers, killed_at)
        accepted = load.accepted()
        await bank.still_serving()
        await check_books(cluster, bank.database, accepted, len(bank.people))
        after = cluster.leader()
    report(
        capsys,
        f"postmaster of {leader.name} killed, "
        f"{'restarted in place' if after is leader else f'{after.name} took over'}: "
        f"unavailable {window.unavailable_s:.2f} s, {window.answers_503} answers 503; "
        f"{len(accepted)} acknowledged transfers checked",
    )
    assert window.unavailable_s <= WINDOW_BOUND_S, window
    assert not server_errors(tmp_path), server_errors(tmp_path)[:5]


async def test_planned_switchover_under_load(
    patroni_cluster: PatroniCluster, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`patronictl switchover`: the leader shuts down cleanly and restarts as a standby while
    its synchronous standby is promoted; for a moment no node is a primary."""
    cluster = patroni_cluster
    async with bank_on(cluster, tmp_path, customers=4) as bank:
        async with bank.load(clients=4, rate_per_client=10) as load:
            await load.until(lambda: len(load.created()) >= 40, "transfers to flow")
            old, candidate = cluster.leader(), cluster.sync_standby()
            started = asyncio.get_running_loop().time()
            await asyncio.to_thread(cluster.switchover, candidate)
            await load.until(
                lambda: len(load.created_after(started)) >= 20,
                f"transfers to commit on {candidate.name}",
            )
        answered_properly(load)
        window = measure_window(load.answers, started)
        accepted = load.accepted()
        await bank.still_serving()
        assert cluster.leader() is candidate
        await check_books(cluster, bank.database, accepted, len(bank.people))
    report(
        capsys,
        f"switchover {old.name} -> {candidate.name}: unavailable {window.unavailable_s:.2f} s, "
        f"{window.answers_503} answers 503; {len(accepted)} acknowledged transfers checked",
    )
    assert not server_errors(tmp_path), server_errors(tmp_path)[:5]


async def test_losing_etcd_turns_the_cluster_read_only_and_the_service_says_503(
    patroni_cluster: PatroniCluster, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without its DCS no Patroni node may stay primary: the leader demotes itself and every
    node answers as a standby (a multi-host URL then finds no read-write host). The service
    answers 503 until etcd is back and a leader is elected, then commits again."""
    cluster = patroni_cluster
    loop = asyncio.get_running_loop()
    async with bank_on(cluster, tmp_path, customers=4) as bank:
        async with bank.load(clients=4, rate_per_client=10) as load:
            await load.until(lambda: len(load.created()) >= 40, "transfers to flow")
            killed_at = loop.time()
            cluster.kill_etcd()
            await asyncio.to_thread(
                wait_until,
                lambda: set(cluster.roles().values()) == {"replica"},
                lambda: f"every node to be a standby: {cluster.roles()}",
            )
            read_only_at = loop.time()
            await load.until(
                lambda: sum(a.sent >= read_only_at for a in load.answers) >= 20,
                "requests to meet a cluster with no primary",
            )
            back_at = loop.time()
            cluster.restart_etcd()
            await load.until(
                lambda: len(load.created_after(back_at)) >= 20,
                "transfers to commit once etcd is back",
            )
        answered_properly(load)
        met = [a.status for a in load.answers if read_only_at <= a.sent < back_at]
        recovered_after = min(a.received for a in load.created_after(back_at)) - back_at
        accepted = load.accepted()
        await bank.still_serving()
        await check_books(cluster, bank.database, accepted, len(bank.people))
    assert set(met) == {503}, met
    report(
        capsys,
        f"etcd lost: every node read-only {read_only_at - killed_at:.1f} s later, "
        f"{len(met)} requests met no primary and got 503; etcd back, commits again "
        f"{recovered_after:.2f} s later; {len(accepted)} acknowledged transfers checked",
    )
    assert not server_errors(tmp_path), server_errors(tmp_path)[:5]


@asynccontextmanager
async def replay_paused(cluster: PatroniCluster, node: Node, database: str) -> AsyncIterator[None]:
    """The standby keeps receiving WAL but applies none of it: it shows the past. In
    maintenance mode, or Patroni would resume replay within a second."""
    await asyncio.to_thread(cluster.set_maintenance, True)
    try:
        connection = await on_node(node, database)
        try:
            await connection.execute("SELECT pg_wal_replay_pause()")
            await eventually(
                lambda: _is_paused(connection), f"replay to pause on {node.name}", within_s=10
            )
            yield
        finally:
            await connection.execute("SELECT pg_wal_replay_resume()")
            await connection.close()
    finally:
        await asyncio.to_thread(cluster.set_maintenance, False)


async def _is_paused(connection: asyncpg.Connection) -> bool:
    return bool(await connection.fetchval("SELECT pg_get_wal_replay_pause_state() = 'paused'"))


async def hexbank_queries_on(node: Node, database: str) -> list[str]:
    """The last statement of each hexbank connection to `database` on `node`."""
    connection = await on_node(node, database)
    try:
        rows = await connection.fetch(
            "SELECT query FROM pg_stat_activity WHERE datname = $1"
            " AND application_name = 'hexbank'",
            database,
        )
    finally:
        await connection.close()
    return [str(row["query"]) for row in rows]


def _top(statement: httpx.Response) -> str | None:
    """The transfer of the newest entry on a statement page."""
    items = statement.json()["items"]
    return str(items[0]["transfer_id"]) if items else None


_WRITES = ("INSERT", "UPDATE", "DELETE", "WITH")  # hexbank's writes are CTEs; its reads not


async def test_statements_and_summaries_read_a_streaming_replica(
    patroni_cluster: PatroniCluster, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two app processes on one database, each with the async standby as its read replica:
    `direct` names that standby alone; `fallback` names it and then the primary, with
    `target_session_attrs=prefer-standby`, so its reads move to the primary when the
    standby is gone."""
    cluster = patroni_cluster
    await asyncio.to_thread(cluster.wait_healthy)
    leader, replica = cluster.leader(), cluster.async_standby()
    database = await fresh_database(cluster)
    url = cluster.url(database)
    only_replica = cluster.url(database, [replica], target_session_attrs=None)
    then_primary = cluster.url(database, [replica, leader], target_session_attrs="prefer-standby")
    loop = asyncio.get_running_loop()
    with (
        serving(url, tmp_path, HEXBANK_READ_REPLICA_URL=only_replica) as (_, direct),
        serving(url, tmp_path, HEXBANK_READ_REPLICA_URL=then_primary) as (_, fallback),
    ):
        async with httpx.AsyncClient(timeout=30, limits=KEEP_ALIVE) as http:
            (auth, source), (_, destination) = [
                await customer(http, direct, name, FUNDS if name == "payer" else 0)
                for name in ("payer", "payee")
            ]
            moved = 0

            async def transfer(amount: int) -> str:
                nonlocal moved
                body = {"from_account_id": source, "to_account_id": destination}
                response = await http.post(
                    f"{direct}/api/v1/transfers",
                    json={**body, "amount": amount, "currency": "EUR"},
                    headers=auth,
                )
                assert response.status_code == 201, response.text
                moved += amount
                return str(response.json()["id"])

            async def newest_entry(base: str) -> httpx.Response:
                return await http.get(
                    f"{base}/api/v1/accounts/{source}/entries", params={"limit": 1}, headers=auth
                )

            async def summary(base: str) -> dict[str, Any]:
                answer = await http.get(f"{base}/api/v1/accounts/{source}/summary", headers=auth)
                assert answer.status_code == 200, answer.text
                return answer.json()  # type: ignore[no-any-return]

            async def shows(base: str, transfer_id: str) -> bool:
                response = await newest_entry(base)
                return response.status_code == 200 and _top(response) == transfer_id

            # The lag a statement sees on an async standby at rest: 201, then poll.
            lags = []
            for _ in range(20):
                made = await transfer(1)
                started = loop.time()
                await eventually(partial(shows, direct, made), "the replica to show it")
                lags.append(loop.time() - started)

            # Replay paused: GET account (primary) sees a new transfer, statements and
            # summaries (replica) do not; hexbank's connections there only ever read.
            async with replay_paused(cluster, replica, database):
                before = await summary(direct)
                unseen = await transfer(7)
                account = await http.get(f"{direct}/api/v1/accounts/{source}", headers=auth)
                assert account.json()["balance"] == FUNDS - moved, "GET account is not fresh"
                for base in (direct, fallback):
                    statement = await newest_entry(base)
                    assert statement.status_code == 200, statement.text
                    assert _top(statement) != unseen, f"{base}: a statement read the primary"
                    assert await summary(base) == before, f"{base}: a summary read the primary"
                queries = await hexbank_queries_on(replica, database)
                assert queries, "no hexbank connection on the replica"
                written = [q for q in queries if q.lstrip().upper().startswith(_WRITES)]
                assert not written, f"writes reached the replica: {written}"
            for base in (direct, fallback):
                await eventually(partial(shows, base, unseen), "replay to catch up")

            # The replica dies: `direct` answers statements 503, `fallback` reads the
            # primary; writes and primary reads go on; no 500, no wrong statement.
            cluster.kill(replica)
            after_kill = await transfer(3)
            direct_statuses: list[int] = []
            fallback_statuses: list[int] = []

            async def fallback_fresh() -> bool:
                direct_answer = await newest_entry(direct)
                direct_statuses.append(direct_answer.status_code)
                if direct_answer.status_code == 503:
                    assert direct_answer.headers.get("retry-after"), direct_answer.headers
                answer = await newest_entry(fallback)
                fallback_statuses.append(answer.status_code)
                return answer.status_code == 200 and _top(answer) == after_kill

            await eventually(fallback_fresh, "statements to answer from the primary", every_s=0.1)
            assert set(direct_statuses) == {503}, direct_statuses
            assert set(fallback_statuses) <= {200, 503}, fallback_statuses
            account = await http.get(f"{direct}/api/v1/accounts/{source}", headers=auth)
            assert account.status_code == 200, account.text

            # It comes back as a standby: `direct` reads it again, without a restart.
            cluster.restart(replica)
            recovering: list[int] = []

            async def direct_back() -> bool:
                answer = await newest_entry(direct)
                recovering.append(answer.status_code)
                return answer.status_code == 200 and _top(answer) == after_kill

            await eventually(direct_back, "statements to read the replica again", within_s=60)
            assert set(recovering) <= {200, 503}, recovering
            await asyncio.to_thread(cluster.wait_rejoined, replica)
    report(
        capsys,
        f"statements on the async standby {replica.name}: visible after a 201 within median "
        f"{statistics.median(lags) * 1000:.0f} ms, max {max(lags) * 1000:.0f} ms "
        f"({len(lags)} transfers, a poll included); replica killed: "
        f"{direct_statuses.count(503)} statement reads 503 on the replica-only URL, "
        f"{fallback_statuses.count(503)} before the prefer-standby URL read the primary",
    )
    assert not server_errors(tmp_path), server_errors(tmp_path)[:5]
