"""`make run` as a person runs it, with nothing configured: the embedded PostgreSQL and the
embedded NATS start with the service and stop with it, whichever signal ends it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
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
