"""The `hexbank` command over a real database, as an operator runs it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.fakes import TEST_SECRET
from tests.integration.test_processes import free_port
from tests.postgres import connect

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def hexbank(
    database_url: str, data_dir: Path, *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "HEXBANK_JWT_SECRET": TEST_SECRET,
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
        "--password",
        "a-long-password",
    )
    assert created.returncode == 0, created.stderr
    assert "created eve@example.com" in created.stdout
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
    assert again.returncode == 2
    assert "already registered" in again.stderr

    purged = hexbank(database_url, tmp_path, "purge")
    assert purged.returncode == 0, purged.stderr
    assert "purged 0 idempotency keys" in purged.stdout

    clean = hexbank(database_url, tmp_path, "reconcile")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "the ledger balances" in clean.stdout

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
    assert "difference: BalanceMismatch" in broken.stdout


def test_serve_with_two_workers_answers_and_stops_cleanly(
    database_url: str, tmp_path: Path
) -> None:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "HEXBANK_JWT_SECRET": TEST_SECRET,
        "HEXBANK_LOG_FORMAT": "json",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "entrypoints.cli", "serve", "--workers", "2", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 40
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health/ready", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None, server.stdout.read() if server.stdout else ""
            assert time.monotonic() < deadline, "the workers did not start"
            time.sleep(0.2)
        pids = {httpx.get(f"http://127.0.0.1:{port}/health/live").status_code for _ in range(10)}
        assert pids == {200}
        metrics = httpx.get(f"http://127.0.0.1:{port}/metrics").text
        assert "hexbank_http_requests_total" in metrics
    finally:
        server.send_signal(signal.SIGTERM)
        output, _ = server.communicate(timeout=60)
    assert server.returncode == 0, output[-3000:]
    assert '"event": "request"' in output  # JSON access lines


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
