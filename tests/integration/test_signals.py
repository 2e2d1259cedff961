"""`make run` as a person runs it, with nothing configured: the embedded PostgreSQL and the
embedded NATS start with the service and stop with it, whichever signal ends it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from tests.integration.test_processes import answers_ready
from tests.ports import free_port
from tests.waiting import wait_until

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def running_under(folder: Path) -> list[str]:
    """Processes (postgres, nats-server) whose command line names the data folder."""
    found = []
    for process in psutil.process_iter(["cmdline", "status"]):
        cmdline = " ".join(process.info["cmdline"] or [])
        if str(folder) in cmdline and process.info["status"] != psutil.STATUS_ZOMBIE:
            found.append(cmdline)
    return found


@pytest.mark.parametrize("sig", [signal.SIGHUP, signal.SIGTERM])
def test_a_signal_stops_the_service_and_every_embedded_server(
    tmp_path: Path, sig: signal.Signals
) -> None:
    data = tmp_path / "data"
    port = free_port()
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("HEXBANK_", "DATABASE_URL"))}
    env = {
        **clean,
        "HEXBANK_DATA_DIR": str(data),
        "PORT": str(port),
        "HEXBANK_LOG_FORMAT": "json",
        "HEXBANK_METRICS_PORT": "0",
    }
    log = tmp_path / "server.log"
    with log.open("wb") as output:
        server = subprocess.Popen(
            [sys.executable, "-m", "entrypoints.cli", "serve"],
            env=env,
            cwd=ROOT,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        try:
            wait_until(lambda: answers_ready(server, base), "the service to be ready", within_s=60)
        except AssertionError as failure:  # say why it did not start
            raise AssertionError(f"{failure}\n{log.read_text()[-4000:]}") from None
        assert any("nats-server" in line for line in running_under(data))
        assert any("postgres" in line for line in running_under(data))
        server.send_signal(sig)
        assert server.wait(timeout=30) == 0
        wait_until(lambda: not running_under(data), lambda: f"{running_under(data)} to stop")
    finally:
        if server.poll() is None:
            server.kill()


def start_serving(data: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("HEXBANK_", "DATABASE_URL"))}
    env = {**clean, "HEXBANK_DATA_DIR": str(data), "PORT": str(port), "HEXBANK_LOG_FORMAT": "json"}
    with log.open("ab") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "entrypoints.cli", "serve"],
            env=env,
            cwd=ROOT,
            stdout=output,
            stderr=subprocess.STDOUT,
        )


# Moments of a first start, each found by what it leaves behind: a file or a log line.
START_UP_MOMENTS = [
    pytest.param("pg.initializing", None, signal.SIGINT, id="initdb-SIGINT"),
    pytest.param(
        None, "initialised a new embedded PostgreSQL", signal.SIGTERM, id="pg_ctl-SIGTERM"
    ),
    pytest.param(None, "Running upgrade  -> 0001", signal.SIGINT, id="migrations-SIGINT"),
    pytest.param("nats/nats-server.log", None, signal.SIGTERM, id="nats-start-SIGTERM"),
]


@pytest.mark.parametrize(("file", "line", "sig"), START_UP_MOMENTS)
def test_a_signal_during_the_first_start_stops_it_and_the_data_stays_usable(
    outside_pytest_tmp: Path, file: str | None, line: str | None, sig: signal.Signals
) -> None:
    data, log = outside_pytest_tmp / "data", outside_pytest_tmp / "server.log"
    server = start_serving(data, free_port(), log)

    def reached() -> bool:
        if server.poll() is not None:
            raise AssertionError(f"exited {server.returncode} early:\n{log.read_text()[-3000:]}")
        return (data / file).exists() if file else str(line) in log.read_text()

    try:
        wait_until(reached, f"the start to reach {file or line}", within_s=60, every_s=0.01)
        server.send_signal(sig)
        signalled = time.monotonic()
        status = server.wait(timeout=30)
        stopped_in = time.monotonic() - signalled
    finally:
        if server.poll() is None:
            server.kill()
    assert status == 128 + sig, log.read_text()[-3000:]
    assert stopped_in <= 5, f"{stopped_in:.1f} s to stop"
    wait_until(lambda: not running_under(data), lambda: f"{running_under(data)} to stop")
    assert "Traceback" not in log.read_text()

    # The next start finds the data directory usable, and serves.
    port = free_port()
    again = start_serving(data, port, log)
    try:
        try:
            wait_until(
                lambda: answers_ready(again, f"http://127.0.0.1:{port}"),
                "the next start to serve",
                within_s=60,
            )
        except AssertionError as failure:
            raise AssertionError(f"{failure}\n{log.read_text()[-3000:]}") from None
        again.send_signal(signal.SIGTERM)
        assert again.wait(timeout=30) == 0
    finally:
        if again.poll() is None:
            again.kill()
    wait_until(lambda: not running_under(data), lambda: f"{running_under(data)} to stop")
