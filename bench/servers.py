"""The served contenders: their ports, environment and commands, each started with its output
going to its own log file, and stopped however the run ends."""

from __future__ import annotations

import base64
import hashlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import psutil

from bench.runs import ROOT, shown

HOST = "127.0.0.1"
# hexbank-gc-off: hexbank's own command with group commit switched off, so one run shows
# what batching commits moved (issue 13's latency target compares the two).
CONTENDERS = ("hexbank", "hexbank-gc-off", "baseline", "http-limit")
GROUP_COMMIT = "HEXBANK_GROUP_COMMIT"
# Each hexbank server keeps its embedded NATS under its own data directory: two servers on
# one directory would refuse to share it (and `make run` in this checkout uses .data/).
SERVER_DATA = ROOT / ".data" / "bench" / "servers"
PORT_ENV = {name: f"BENCH_{name.upper().replace('-', '_')}_PORT" for name in CONTENDERS}


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def ps(self) -> psutil.Process:
        return psutil.Process(self.process.pid)

    def cpu_s(self) -> float:
        times = self.ps.cpu_times()
        return float(times.user + times.system)


# -- ports --------------------------------------------------------------------------------


def choose_ports(given: Mapping[str, int | None]) -> dict[str, int]:
    """Per contender: the option, else BENCH_<NAME>_PORT, else a port the OS reports free.

    A port that was asked for must be free now: a server already listening there would
    otherwise be measured in place of the contender."""
    ports: dict[str, int] = {}
    for name in given:
        asked = given[name] or _env_port(name)
        if asked is not None:
            _refuse_busy(name, asked)
            ports[name] = asked
    automatic = free_ports(len(given) - len(ports))
    return {name: ports[name] if name in ports else automatic.pop() for name in given}


def _env_port(name: str) -> int | None:
    value = os.environ.get(PORT_ENV[name])
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise SystemExit(f"{PORT_ENV[name]}={value!r} is not a port number") from None


def free_ports(count: int) -> list[int]:
    """Ports the OS hands out as free, all held at once so they differ."""
    with ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:
            sock.bind((HOST, 0))
        return [sock.getsockname()[1] for sock in sockets]


def _refuse_busy(name: str, port: int) -> None:
    with socket.socket() as sock:
        try:
            sock.bind((HOST, port))
        except OSError as error:
            raise SystemExit(
                f"port {port} for {name} is not free ({error.strerror}): pass --{name}-port, "
                f"set {PORT_ENV[name]}, or give neither to have a free one picked"
            ) from None


# -- processes ----------------------------------------------------------------------------


def server_env(database_url: str, secret: str) -> dict[str, str]:
    """The environment every served contender (and the profiled server) starts with: hexbank's
    defaults for group commit (whatever the shell says), events on."""
    inherited = {name: value for name, value in os.environ.items() if name != GROUP_COMMIT}
    return {
        **inherited,
        "DATABASE_URL": database_url,
        "HEXBANK_JWT_SECRET": secret,
        # Any fixed key will do: the benchmark exports no statement.
        "HEXBANK_STATEMENT_SIGNING_KEY": base64.b64encode(
            hashlib.sha256(secret.encode()).digest()
        ).decode(),
        "HEXBANK_LOG_LEVEL": "warning",
        # Scenario d) measures hashing against the event loop, not the registration limit.
        "HEXBANK_REGISTRATIONS_PER_CLIENT": "1000000",
        # The baseline reads the same two, so both get hexbank's default pool.
        "HEXBANK_DB_POOL_SIZE": os.environ.get("HEXBANK_DB_POOL_SIZE", "20"),
        "HEXBANK_DB_MAX_OVERFLOW": os.environ.get("HEXBANK_DB_MAX_OVERFLOW", "0"),
        # The full-featured path: every money transaction writes its outbox rows and the
        # server's relay delivers them to NATS.
        "HEXBANK_EVENTS": "on",
        # Two hexbank servers run side by side: each listens for /metrics on a port of the
        # OS's choosing (the bench does not scrape).
        "HEXBANK_METRICS_PORT": "0",
        # j)'s webhook receiver is the bench's own, on loopback over plain http.
        "HEXBANK_WEBHOOKS_ALLOW_PRIVATE": "true",
    }


def contender_env(name: str, database_url: str, secret: str) -> dict[str, str]:
    """`server_env`, plus per hexbank server its own data directory and, for the
    group-commit-off contender, the one setting that tells the two apart."""
    env = server_env(database_url, secret)
    if name.startswith("hexbank"):
        env["HEXBANK_DATA_DIR"] = str(SERVER_DATA / name)
    if name == "hexbank":
        # Webhooks are delivered as docs/webhooks.md recommends under load: by
        # `hexbank webhooks` in a process of its own (`servers` starts it), so the API's event
        # loop sends none.
        env["HEXBANK_WEBHOOKS"] = "off"
    if name == "hexbank-gc-off":
        env[GROUP_COMMIT] = "off"
        # One relay per outbox, as deployed: hexbank's delivers what both servers write. A
        # second relay racing it would take CPU from whichever server is being measured.
        env["HEXBANK_EVENTS"] = "off"
        # Likewise webhook delivery: hexbank's delivery process sends what both write.
        env["HEXBANK_WEBHOOKS"] = "off"
    return env


def hexbank_command(port: int) -> list[str]:
    return [sys.executable, "-m", "entrypoints.cli", "serve", "--host", HOST, "--port", str(port)]


def _commands(ports: Mapping[str, int]) -> dict[str, list[str]]:
    uvicorn = [sys.executable, "-m", "uvicorn", "--log-level", "warning", "--no-access-log"]
    uvicorn += ["--host", HOST]
    return {
        "hexbank": hexbank_command(ports["hexbank"]),
        "hexbank-gc-off": hexbank_command(ports["hexbank-gc-off"]),
        "baseline": [*uvicorn, "bench.baseline.app:app", "--port", str(ports["baseline"])],
        "http-limit": [*uvicorn, "bench.http_limit:app", "--port", str(ports["http-limit"])],
    }


def start(name: str, command: list[str], env: dict[str, str], port: int, log: Path) -> Server:
    """Start a server with stdout and stderr appended to `log` (nothing reaches the terminal)."""
    with log.open("ab") as output:
        process = subprocess.Popen(
            command, env=env, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=output, stderr=output
        )
    return Server(name, process, port, log)


@contextmanager
def servers(
    database_url: str, secret: str, ports: Mapping[str, int], logs: Path
) -> Iterator[dict[str, Server]]:
    """Every contender, started together and ready; stopped on the way out."""
    started: dict[str, Server] = {}
    companions: list[subprocess.Popen[bytes]] = []
    try:
        for name, command in _commands(ports).items():
            env = contender_env(name, database_url, secret)
            started[name] = start(name, command, env, ports[name], logs / f"{name}.log")
        for server in started.values():
            wait_until_listening(server)
        # After hexbank has migrated the database: its webhook delivery, in its own process.
        env = {**contender_env("hexbank", database_url, secret), "HEXBANK_WEBHOOKS": "on"}
        with (logs / "hexbank-webhooks.log").open("ab") as output:
            companions.append(
                subprocess.Popen(
                    [sys.executable, "-m", "entrypoints.cli", "webhooks"],
                    env=env,
                    cwd=ROOT,
                    stdin=subprocess.DEVNULL,
                    stdout=output,
                    stderr=output,
                )
            )
        yield started
    finally:
        for process in [*companions, *(server.process for server in started.values())]:
            process.terminate()
        for process in companions:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for server in started.values():
            try:
                server.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.process.kill()
                server.process.wait()


def wait_until_listening(server: Server, timeout_s: float = 60) -> None:
    """Until the server's own process (or a child of it) listens on its port."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"{server.name} exited with {server.process.returncode}; see {shown(server.log)}"
            )
        if _listens(server.ps, server.port):
            return
        time.sleep(0.2)
    raise RuntimeError(f"{server.name} did not listen on {server.port}; see {shown(server.log)}")


def _listens(process: psutil.Process, port: int) -> bool:
    try:
        family = [process, *process.children(recursive=True)]
        return any(
            connection.status == psutil.CONN_LISTEN and connection.laddr.port == port
            for member in family
            for connection in member.net_connections(kind="tcp")
        )
    except psutil.NoSuchProcess:
        return False
