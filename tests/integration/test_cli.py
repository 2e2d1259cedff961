"""The `hexbank` command over a real database, as an operator runs it."""

from __future__ import annotations

import http.client
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.fakes import TEST_SECRET, TEST_STATEMENT_KEY
from tests.integration.test_processes import answers_ready
from tests.ports import free_port
from tests.postgres import connect
from tests.waiting import wait_until

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def hexbank(
    database_url: str, data_dir: Path, *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "HEXBANK_JWT_SECRET": TEST_SECRET,
        "HEXBANK_STATEMENT_SIGNING_KEY": TEST_STATEMENT_KEY,
        "HEXBANK_DATA_DIR": str(data_dir),
        "HEXBANK_ARGON2_TIME_COST": "1",
        "HEXBANK_ARGON2_MEMORY_KIB": "64",
        "HEXBANK_LOG_FORMAT": "json",
    }
    return subprocess.run(
        [sys.executable, "-m", "entrypoints.cli", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        input=stdin,
        timeout=120,
    )


async def test_seed_demo_create_user_and_reconcile(database_url: str, tmp_path: Path) -> None:
    seeded = hexbank(database_url, tmp_path, "seed-demo")
    assert seeded.returncode == 0, seeded.stderr
    assert "3 transfers" in seeded.stdout
    assert "already" in hexbank(database_url, tmp_path, "seed-demo").stdout

    created = hexbank(
        database_url,
        tmp_path,
        "create-user",
        "eve@example.com",
        "--full-name",
        "Eve",
        "--password-stdin",
        stdin="a long password\n",
    )
    assert created.returncode == 0, created.stderr
    assert created.stderr == ""  # no GetPassWarning, no prompt
    assert "created user eve@example.com" in created.stdout
    again = hexbank(
        database_url,
        tmp_path,
        "create-user",
        "EVE@example.com",
        "--full-name",
        "Eve",
        "--password",
        "a-long-password",
    )
    assert again.returncode == 1  # refused
    assert again.stderr.strip() == "hexbank: eve@example.com is already registered."

    purged = hexbank(database_url, tmp_path, "purge")
    assert purged.returncode == 0, purged.stderr
    assert "purged 0 idempotency keys and" in purged.stdout

    clean = hexbank(database_url, tmp_path, "reconcile")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "\nEUR " in clean.stdout  # a table, not a Python dict
    assert "{" not in clean.stdout
    assert clean.stdout.rstrip().endswith("the ledger balances")

    connection = await connect(database_url)
    try:
        await connection.execute(
            "UPDATE accounts SET balance = balance + 1"
            " WHERE id = (SELECT id FROM accounts WHERE kind = 'customer' LIMIT 1)"
        )
    finally:
        await connection.close()
    broken = hexbank(database_url, tmp_path, "reconcile")
    assert broken.returncode == 1
    check = next(line for line in broken.stdout.splitlines() if line.startswith("balance = "))
    assert check.split()[-1] == "1", broken.stdout  # one difference on that check
    assert "where not balance = sum of its entries:" in broken.stdout
    assert "account_id" in broken.stdout
    assert broken.stdout.rstrip().endswith("the ledger does NOT balance")


def test_migrate_says_what_it_applied(database_url: str, tmp_path: Path) -> None:
    """The test database is migrated already: a fresh one shows the whole list."""
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    first = subprocess.run(
        [sys.executable, "-m", "entrypoints.cli", "migrate"],
        env={**env, "HEXBANK_DATA_DIR": str(tmp_path), "HEXBANK_LOG_FORMAT": "json"},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert first.returncode == 0, first.stderr
    applied, at_head = first.stdout.splitlines()
    assert applied.startswith("applied ")
    assert "migrations to the embedded database: 0001" in applied
    assert at_head.startswith("the embedded database is at migration ")
    again = hexbank(database_url, tmp_path, "migrate")
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith("the database is at migration "), again.stdout
    assert at_head.split()[-3] == again.stdout.split()[-3]  # the same head


def test_create_user_checks_what_it_can_before_asking_or_starting(tmp_path: Path) -> None:
    """A bad email or name is refused (exit 1) before any prompt and before the database
    starts; a password from a pipe needs --password-stdin (exit 2, one line, no warning)."""
    nowhere = "postgresql://nobody@127.0.0.1:1/none"
    bad_email = hexbank(nowhere, tmp_path, "create-user", "not-an-email", stdin="")
    assert bad_email.returncode == 1, bad_email.stderr
    assert bad_email.stdout == ""  # nothing was asked
    assert bad_email.stderr.startswith("hexbank: ")
    assert len(bad_email.stderr.splitlines()) == 1, bad_email.stderr

    bad_name = hexbank(nowhere, tmp_path, "create-user", "x@example.com", stdin="\x07\n")
    assert bad_name.returncode == 1, bad_name.stderr
    assert "Password" not in bad_name.stdout
    assert "full name" in bad_name.stderr

    short = hexbank(
        nowhere, tmp_path, "create-user", "x@example.com", "--full-name", "X",
        "--password-stdin", stdin="short\n",
    )  # fmt: skip
    assert short.returncode == 1, short.stderr
    assert "8 to 128 characters" in short.stderr
    assert "Warning" not in short.stderr

    piped = hexbank(
        nowhere, tmp_path, "create-user", "x@example.com", "--full-name", "X", stdin="pw\n"
    )
    assert piped.returncode == 2, piped.stderr
    assert piped.stderr.splitlines() == [
        "hexbank: standard input is not a terminal: pipe the password with --password-stdin"
    ]
    assert "Warning" not in piped.stderr
    assert not (tmp_path / "pg").exists()


def children(pid: int) -> set[int]:
    """The direct child processes of `pid`, from /proc."""
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        found.update(int(child) for child in (task / "children").read_text().split())
    return found


def socket_inodes(pid: int) -> set[int]:
    """The inodes of the sockets process `pid` holds open."""
    inodes: set[int] = set()
    fds = Path(f"/proc/{pid}/fd")
    assert fds.exists(), f"process {pid} has exited"
    for fd in fds.iterdir():
        try:
            target = os.readlink(fd)
        except OSError:  # closed since the listing
            continue
        if target.startswith("socket:["):
            inodes.add(int(target[len("socket:[") : -1]))
    return inodes


def tcp_inode(local_port: int, remote_port: int | None) -> int:
    """The inode of the IPv4 TCP socket on 127.0.0.1:`local_port`: listening when
    `remote_port` is None, else connected to 127.0.0.1:`remote_port`."""
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote, inode = fields[1], fields[2], int(fields[9])
        if inode == 0 or int(local.split(":")[1], 16) != local_port:  # 0: closed, TIME_WAIT
            continue
        if remote_port is None and remote == "00000000:0000":
            return inode
        if remote_port is not None and int(remote.split(":")[1], 16) == remote_port:
            return inode
    raise AssertionError(f"no TCP socket on port {local_port} from port {remote_port}")


def worker_serving(workers: set[int], port: int) -> int:
    """Ask /health/live on a fresh connection and return the pid of the worker that holds
    the server's end of it, i.e. the process that answered."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", "/health/live")
        response = connection.getresponse()
        response.read()
        assert response.status == 200, response.status
        assert connection.sock is not None
        server_end = tcp_inode(port, connection.sock.getsockname()[1])
        owners = [pid for pid in workers if server_end in socket_inodes(pid)]
    finally:
        connection.close()
    assert len(owners) == 1, f"the connection is held by {owners}, not by one worker"
    return owners[0]


def test_serve_with_two_workers_answers_and_stops_cleanly(
    database_url: str, tmp_path: Path
) -> None:
    port, metrics_port = free_port(), free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "HEXBANK_JWT_SECRET": TEST_SECRET,
        "HEXBANK_STATEMENT_SIGNING_KEY": TEST_STATEMENT_KEY,
        "HEXBANK_LOG_FORMAT": "json",
        "HEXBANK_METRICS_PORT": str(metrics_port),
    }
    command = [sys.executable, "-m", "entrypoints.cli", "serve", "--workers", "2"]
    log = tmp_path / "serve.log"  # a file, not a pipe: nobody reads a pipe until the end
    with log.open("w") as output:
        server = subprocess.Popen(
            [*command, "--port", str(port)],
            env=env,
            cwd=ROOT,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        assert server.poll() is None, log.read_text()[-3000:]
        return answers_ready(server, base)

    try:
        wait_until(ready, "the workers to be ready", within_s=40)
        # The workers are the server's children that listen on the port.
        listening = tcp_inode(port, None)
        workers = {pid for pid in children(server.pid) if listening in socket_inodes(pid)}
        assert len(workers) == 2, f"{len(workers)} worker processes listen on the port"
        served_by: set[int] = set()

        def both_answered() -> bool:
            served_by.add(worker_serving(workers, port))
            return served_by == workers

        # The second worker may still be starting; until then the first takes every request.
        wait_until(
            both_answered,
            lambda: f"both workers {sorted(workers)} to answer, only {sorted(served_by)} did",
            every_s=0.01,
        )
        metrics = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics").text
        assert "hexbank_http_requests_total" in metrics
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    logged = log.read_text()
    assert server.returncode == 0, logged[-3000:]
    assert '"event": "request"' in logged  # JSON access lines


def test_more_than_one_worker_needs_a_shared_database(tmp_path: Path) -> None:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "HEXBANK_DATABASE_URL"}
    }
    refused = subprocess.run(
        [sys.executable, "-m", "entrypoints.cli", "serve", "--workers", "2"],
        env={**env, "HEXBANK_DATA_DIR": str(tmp_path)},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode != 0
    assert "DATABASE_URL" in refused.stderr
