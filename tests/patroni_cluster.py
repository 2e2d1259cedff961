"""A throwaway high-availability PostgreSQL for tests: etcd and a three-node Patroni cluster
(Debian's `patroni` and `etcd-server`), every process on loopback ports under a temp dir.

Synchronous and strict (`synchronous_mode_strict`): a commit is acknowledged only once a
standby has it, so no acknowledged transfer lives on one node only. With three nodes one
synchronous standby is enough, and losing any one node never blocks commits for long: the
leader names the other standby. Timings are short (a 5 s leader lease, a 1 s loop) so a
failover fits a test, and standbys stream without replication slots (`wal_keep_size`
instead): with slots, a promoted leader creates the other standby's slot only in its next
loop, and commits wait for that standby a second longer (measured: see docs/scaling.md).

Processes are found and stopped by pid: Patroni's process group, and its postmaster's
(Patroni starts PostgreSQL in a session of its own, so killing Patroni leaves it running).
`cluster()` stops all of it however the test ends. Skipped, saying why, where the binaries
are absent.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.ports import free_port
from tests.waiting import wait_until

SCOPE = "hexbank"
TTL_S = 5
"""Leader lease: a dead leader's key expires within this; the failover window follows it."""
LOOP_WAIT_S = 1
RETRY_TIMEOUT_S = 2
RUN_AS = "postgres"
"""initdb refuses root: as root the nodes run as this user."""


def postgres_bin_dir() -> Path | None:
    """The newest of Debian's PostgreSQL server installations, if any."""
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/postgres"),
        key=lambda path: int(path.parent.parent.name) if path.parent.parent.name.isdigit() else 0,
    )
    return found[-1].parent if found else None


def missing_binaries() -> str | None:
    """Why the cluster cannot run here, in one line; None when it can."""
    absent = [name for name in ("patroni", "etcd") if shutil.which(name) is None]
    if postgres_bin_dir() is None:
        absent.append("PostgreSQL server (postgresql)")
    if absent:
        return (
            f"{', '.join(absent)} not installed (Debian: apt-get install patroni etcd-server); "
            ".ci/run installs them"
        )
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(RUN_AS)
        except KeyError:
            return f"running as root and there is no {RUN_AS!r} user to run PostgreSQL as"
    return None


def _signal(pid: int | None, signum: signal.Signals) -> bool:
    """Send `signum` to `pid`; False when there is no such process (any more)."""
    if pid is None:
        return False
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        return False
    return True


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with contextlib.suppress(OSError):  # a zombie is dead for our purposes
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        return state != "Z"
    return True


@dataclass
class Node:
    """One Patroni-managed PostgreSQL: its ports, its files and its Patroni process."""

    name: str
    directory: Path
    pg_port: int
    rest_port: int
    process: subprocess.Popen[bytes] | None = None
    postmasters: set[int] = field(default_factory=set)
    """Every postmaster pid seen for this node, so teardown stops even a forgotten one."""

    @property
    def data_dir(self) -> Path:
        return self.directory / "data"

    @property
    def config_file(self) -> Path:
        return self.directory / "patroni.yml"

    @property
    def log_file(self) -> Path:
        return self.directory / "patroni.log"

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.pg_port}"

    def postmaster_pid(self) -> int | None:
        """The running postmaster's pid, from `postmaster.pid`; None when it is not running."""
        try:
            pid = int((self.data_dir / "postmaster.pid").read_text().split("\n", 1)[0])
        except (OSError, ValueError):
            return None
        if not _alive(pid):
            return None
        self.postmasters.add(pid)
        return pid

    def patroni_running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def status(self) -> dict[str, Any] | None:
        """Patroni's own view of this node (`GET /patroni`), or None when it does not answer."""
        try:
            response = httpx.get(f"http://127.0.0.1:{self.rest_port}/patroni", timeout=1)
        except httpx.TransportError:
            return None
        # 503 is a replica's or a stopped node's answer; the body still says which.
        status: dict[str, Any] | None = response.json() if response.content else None
        return status

    def log_tail(self, lines: int = 25) -> str:
        try:
            text = self.log_file.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])


class PatroniCluster:
    """etcd plus `size` Patroni nodes; see the module's docstring."""

    def __init__(self, root: Path, size: int = 3) -> None:
        bin_dir, etcd, patroni = postgres_bin_dir(), shutil.which("etcd"), shutil.which("patroni")
        assert bin_dir is not None, missing_binaries()
        assert etcd is not None, missing_binaries()
        assert patroni is not None, missing_binaries()
        self.root = root
        self.bin_dir, self.etcd_binary, self.patroni_binary = bin_dir, etcd, patroni
        self.etcd_port, self.etcd_peer_port = free_port(), free_port()
        self.etcd: subprocess.Popen[bytes] | None = None
        self.nodes = [
            Node(f"node{n}", root / f"node{n}", free_port(), free_port())
            for n in range(1, size + 1)
        ]
        self._user = pwd.getpwnam(RUN_AS) if os.geteuid() == 0 else None

    # -- lifetime -------------------------------------------------------------------------

    def start(self, within_s: float = 60) -> None:
        """etcd, then every node; returns once a leader and all replicas stream."""
        self.root.chmod(0o755)  # the nodes' user must reach its own directory
        self._start_etcd()
        for node in self.nodes:
            node.directory.mkdir()
            node.config_file.write_text(json.dumps(self._config(node), indent=2))
            self._chown(node.directory, node.config_file)
        # The first node bootstraps alone; the others then copy it, rather than racing
        # to initialise.
        self._start_patroni(self.nodes[0])
        wait_until(
            lambda: self._leader_name() == self.nodes[0].name,
            lambda: f"the first node to bootstrap and lead\n{self.describe()}",
            within_s=within_s,
            every_s=0.2,
        )
        for node in self.nodes[1:]:
            self._start_patroni(node)
        self.wait_healthy(within_s=within_s)

    def stop(self) -> None:
        """Everything down, by pid: Patroni first (so it restarts nothing), then each
        postmaster (SIGQUIT: it takes its backends down with it), then etcd. Never raises."""
        for node in self.nodes:
            self._kill_patroni(node)
        for node in self.nodes:
            if node.process is not None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    node.process.wait(timeout=10)
            node.postmaster_pid()  # remember the current one too
            for pid in node.postmasters:
                _signal(pid, signal.SIGQUIT)
        deadline = time.monotonic() + 10
        for node in self.nodes:
            for pid in node.postmasters:
                while _alive(pid) and time.monotonic() < deadline:
                    time.sleep(0.05)
                _signal(pid, signal.SIGKILL)
        if self.etcd is not None and self.etcd.poll() is None:
            self.etcd.terminate()
            try:
                self.etcd.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.etcd.kill()
                self.etcd.wait(timeout=10)

    # -- what the cluster looks like ------------------------------------------------------

    def members(self) -> list[dict[str, Any]]:
        """Patroni's `/cluster` from the first node that answers; [] when none does."""
        for node in self.nodes:
            if not node.patroni_running():
                continue
            try:
                response = httpx.get(f"http://127.0.0.1:{node.rest_port}/cluster", timeout=1)
                members: list[dict[str, Any]] = response.json()["members"]
            except (httpx.TransportError, ValueError, KeyError):
                continue
            return members
        return []

    def node(self, name: str) -> Node:
        return next(node for node in self.nodes if node.name == name)

    def _leader_name(self) -> str | None:
        """The member holding the leader key whose PostgreSQL runs as a primary."""
        for member in self.members():
            if member["role"] == "leader" and member.get("state") == "running":
                status = self.node(member["name"]).status()
                if status is not None and status.get("role") in ("master", "primary"):
                    return str(member["name"])
        return None

    def leader(self) -> Node:
        name = self._leader_name()
        assert name is not None, f"no leader\n{self.describe()}"
        return self.node(name)

    def sync_standby(self) -> Node:
        names = [m["name"] for m in self.members() if m["role"] == "sync_standby"]
        assert names, f"no synchronous standby\n{self.describe()}"
        return self.node(names[0])

    def async_standby(self) -> Node:
        """A standby that is not the synchronous one: pausing or losing it delays no commit."""
        names = [m["name"] for m in self.members() if m["role"] == "replica"]
        assert names, f"no asynchronous standby\n{self.describe()}"
        return self.node(names[0])

    def roles(self) -> dict[str, str | None]:
        """What each node's PostgreSQL is now, by Patroni's word: primary, replica or None."""
        roles: dict[str, str | None] = {}
        for node in self.nodes:
            status = node.status()
            role = status.get("role") if status else None
            roles[node.name] = "primary" if role == "master" else role
        return roles

    def streaming(self) -> dict[str, str]:
        """The leader's replication connections: standby name -> sync_state."""
        name = self._leader_name()
        status = self.node(name).status() if name else None
        if not status:
            return {}
        return {
            row["application_name"]: row.get("sync_state", "")
            for row in status.get("replication", [])
            if row.get("state") == "streaming"
        }

    def healthy(self) -> bool:
        """A leader, every other node streaming from it, one of them synchronous and named
        so in the DCS (what strict mode needs before commits flow)."""
        name = self._leader_name()
        if name is None:
            return False
        others = {node.name for node in self.nodes} - {name}
        streaming = self.streaming()
        roles = {m["name"]: m["role"] for m in self.members()}
        return (
            others <= set(streaming)
            and "sync" in streaming.values()
            and any(roles.get(other) == "sync_standby" for other in others)
        )

    def wait_healthy(self, within_s: float = 60) -> None:
        wait_until(
            self.healthy,
            lambda: f"a leader with {len(self.nodes) - 1} streaming standbys\n{self.describe()}",
            within_s=within_s,
            every_s=0.2,
        )

    def wait_new_leader(self, old: Node, within_s: float = 40) -> Node:
        """Wait until a node other than `old` leads as a primary, and return it."""
        wait_until(
            lambda: self._leader_name() not in (None, old.name),
            lambda: f"a node other than {old.name} to be promoted\n{self.describe()}",
            within_s=within_s,
            every_s=0.1,
        )
        return self.leader()

    def wait_rejoined(self, node: Node, within_s: float = 60) -> None:
        """Wait until `node` streams from the leader again (and the cluster is whole)."""
        wait_until(
            lambda: node.name in self.streaming() and self.healthy(),
            lambda: f"{node.name} to stream from the leader again\n{self.describe()}",
            within_s=within_s,
            every_s=0.2,
        )

    def describe(self) -> str:
        """The members and the tail of each node's log: what a failure message needs."""
        lines = [f"members: {json.dumps(self.members())}"]
        for node in self.nodes:
            state = "running" if node.patroni_running() else "stopped"
            lines.append(
                f"--- {node.name} (patroni {state}, postmaster {node.postmaster_pid()}, "
                f"port {node.pg_port}):\n{node.log_tail(12)}"
            )
        return "\n".join(lines)

    # -- connecting -----------------------------------------------------------------------

    def url(
        self,
        database: str,
        nodes: list[Node] | None = None,
        target_session_attrs: str | None = "read-write",
    ) -> str:
        """The multi-host form hexbank and asyncpg take: every node listed, and the session
        attribute that picks among them (read-write: whichever node is the primary now)."""
        hosts = "&".join(f"host={node.address}" for node in nodes or self.nodes)
        attrs = f"&target_session_attrs={target_session_attrs}" if target_session_attrs else ""
        return f"postgresql://postgres@/{database}?{hosts}{attrs}"

    def node_url(self, node: Node, database: str = "postgres") -> str:
        return f"postgresql://postgres@{node.address}/{database}"

    # -- maintenance ----------------------------------------------------------------------

    def set_maintenance(self, paused: bool) -> None:
        """Patroni's maintenance mode (`patronictl pause`) on or off: while on, no node acts
        on PostgreSQL. Needed to hold a standby's replay paused: on PostgreSQL 14+ Patroni
        resumes paused replay in its next loop. Returns once every running node saw it."""
        leader = self.leader()
        response = httpx.patch(
            f"http://127.0.0.1:{leader.rest_port}/config",
            json={"pause": True if paused else None},
            timeout=5,
        )
        assert response.status_code == 200, response.text

        def seen() -> bool:
            statuses = [node.status() for node in self.nodes if node.patroni_running()]
            return all(s is not None and bool(s.get("pause")) is paused for s in statuses)

        wait_until(seen, f"every node to see pause={paused}", within_s=20, every_s=0.1)

    # -- faults ---------------------------------------------------------------------------

    def switchover(self, candidate: Node) -> None:
        """A planned change of leader (`patronictl switchover`); returns once Patroni says
        it is done."""
        leader = self.leader()
        response = httpx.post(
            f"http://127.0.0.1:{leader.rest_port}/switchover",
            json={"leader": leader.name, "candidate": candidate.name},
            timeout=60,
        )
        assert response.status_code == 200, f"{response.text}\n{self.describe()}"

    def kill(self, node: Node) -> None:
        """The whole node at once, as a machine dies: SIGKILL its Patroni and its postmaster."""
        postmaster = node.postmaster_pid()
        assert node.patroni_running(), f"{node.name} is not running"
        self._kill_patroni(node)
        _signal(postmaster, signal.SIGKILL)
        assert node.process is not None
        node.process.wait(timeout=10)

    def kill_etcd(self) -> None:
        """The DCS is lost (SIGKILL): without it no node may stay or become primary, so
        Patroni demotes the leader and the whole cluster turns read-only."""
        assert self.etcd is not None
        self.etcd.kill()
        self.etcd.wait(timeout=10)

    def restart_etcd(self) -> None:
        """etcd again, on its old data: a leader is elected once its key's lease is gone."""
        self._start_etcd()

    def kill_postmaster(self, node: Node) -> int:
        """Only PostgreSQL (SIGKILL to the postmaster); Patroni stays and restarts it."""
        pid = node.postmaster_pid()
        assert pid is not None, f"{node.name} has no running postmaster"
        os.kill(pid, signal.SIGKILL)
        return pid

    def restart(self, node: Node) -> None:
        """Start a killed node's Patroni again; it rejoins as a standby (pg_rewind if its
        timeline went past the new leader's)."""
        assert not node.patroni_running(), f"{node.name} is still running"
        self._start_patroni(node)

    # -- internals ------------------------------------------------------------------------

    @staticmethod
    def _kill_patroni(node: Node) -> None:
        """SIGKILL to Patroni's own process group (a session started for it): Patroni and
        whatever it runs at the moment (pg_basebackup, pg_rewind), not its postmaster."""
        if node.process is not None and node.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(node.process.pid, signal.SIGKILL)

    def _chown(self, *paths: Path) -> None:
        if self._user is not None:
            for path in paths:
                os.chown(path, self._user.pw_uid, self._user.pw_gid)

    def _start_etcd(self) -> None:
        directory = self.root / "etcd"
        client = f"http://127.0.0.1:{self.etcd_port}"
        peer = f"http://127.0.0.1:{self.etcd_peer_port}"
        log = (self.root / "etcd.log").open("ab")
        self.etcd = subprocess.Popen(
            [
                self.etcd_binary,
                "--name=etcd0",
                f"--data-dir={directory}",
                f"--listen-client-urls={client}",
                f"--advertise-client-urls={client}",
                f"--listen-peer-urls={peer}",
                f"--initial-advertise-peer-urls={peer}",
                f"--initial-cluster=etcd0={peer}",
                "--initial-cluster-state=new",
                "--log-level=warn",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        log.close()

        def answers() -> bool:
            assert self.etcd is not None
            if self.etcd.poll() is not None:
                log = (self.root / "etcd.log").read_text(errors="replace")
                raise AssertionError(f"etcd exited: {log[-2000:]}")
            try:
                return httpx.get(f"{client}/health", timeout=1).status_code == 200
            except httpx.TransportError:
                return False

        wait_until(answers, f"etcd to answer on {client}", within_s=20, every_s=0.1)

    def _start_patroni(self, node: Node) -> None:
        log = node.log_file.open("ab")
        user = self._user
        node.process = subprocess.Popen(
            [self.patroni_binary, str(node.config_file)],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=node.directory,
            env={
                "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                "HOME": str(node.directory),
                "LANG": "C.UTF-8",
            },
            user=user.pw_uid if user else None,
            group=user.pw_gid if user else None,
            extra_groups=[] if user else None,
            start_new_session=True,  # a Ctrl-C meant for pytest must not reach the cluster
        )
        log.close()

    def _config(self, node: Node) -> dict[str, Any]:
        """Patroni's configuration for `node` (JSON is YAML)."""
        return {
            "scope": SCOPE,
            "name": node.name,
            "log": {"level": "INFO"},
            "restapi": {
                "listen": f"127.0.0.1:{node.rest_port}",
                "connect_address": f"127.0.0.1:{node.rest_port}",
            },
            "etcd3": {"host": f"127.0.0.1:{self.etcd_port}"},
            "bootstrap": {
                "dcs": {
                    "ttl": TTL_S,
                    "loop_wait": LOOP_WAIT_S,
                    "retry_timeout": RETRY_TIMEOUT_S,
                    "maximum_lag_on_failover": 16 * 1024 * 1024,
                    "synchronous_mode": True,
                    "synchronous_mode_strict": True,
                    "synchronous_node_count": 1,
                    "postgresql": {
                        "use_pg_rewind": True,
                        "use_slots": False,
                        "parameters": {
                            "max_connections": 100,
                            "shared_buffers": "32MB",
                            "wal_keep_size": "128MB",
                            "max_wal_senders": 10,
                            "max_replication_slots": 10,
                            "hot_standby": "on",
                            # A standby retries its primary every 0.5 s, not every 5 s: it
                            # follows a new leader sooner.
                            "wal_retrieve_retry_interval": "500ms",
                        },
                    },
                },
                "initdb": [{"encoding": "UTF8"}, {"locale": "C.UTF-8"}],
            },
            "postgresql": {
                "listen": node.address,
                "connect_address": node.address,
                "data_dir": str(node.data_dir),
                "bin_dir": str(self.bin_dir),
                "pgpass": str(node.directory / "pgpass"),
                "remove_data_directory_on_rewind_failure": True,
                "remove_data_directory_on_diverged_timelines": True,
                "authentication": {
                    "superuser": {"username": "postgres"},
                    "replication": {"username": "postgres"},
                    "rewind": {"username": "postgres"},
                },
                "pg_hba": [
                    "local all all trust",
                    "host all all 127.0.0.1/32 trust",
                    "host replication all 127.0.0.1/32 trust",
                ],
                "parameters": {
                    # Each node its own socket directory: three servers on one machine.
                    "unix_socket_directories": str(node.directory),
                    "logging_collector": "off",
                    "log_min_messages": "warning",
                },
            },
        }


@contextlib.contextmanager
def cluster(size: int = 3) -> Iterator[PatroniCluster]:
    """A running cluster under a fresh temp dir (not pytest's: the nodes' user must reach
    it), stopped and removed however the block ends."""
    root = Path(tempfile.mkdtemp(prefix="hexbank-patroni-"))
    patroni = PatroniCluster(root, size)
    try:
        patroni.start()
        yield patroni
    finally:
        patroni.stop()
        shutil.rmtree(root, ignore_errors=True)


@contextlib.contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """SIGTERM (a CI timeout, a supervisor) ends the run as Ctrl-C does: pytest tears the
    fixtures down, so the cluster is stopped rather than orphaned."""

    def interrupt(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@pytest.fixture(scope="module", name="patroni_cluster")
def patroni_cluster_fixture() -> Iterator[PatroniCluster]:
    """One cluster for a test module; each test leaves it whole (killed nodes restarted)."""
    if reason := missing_binaries():
        pytest.skip(reason)
    with _sigterm_interrupts(), cluster() as running:
        yield running
