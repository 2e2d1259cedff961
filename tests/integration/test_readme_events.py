"""The README's "Consume the events" snippets, exactly as written there, against a running
`hexbank serve` (the suite's PostgreSQL, its embedded NATS on a pinned port): after a deposit
and a transfer, both snippets print both events. The banner and /health/ready name the broker."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.fakes import TEST_SECRET, TEST_STATEMENT_KEY
from tests.integration.test_processes import answers_ready
from tests.ports import free_port
from tests.waiting import wait_until

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def readme_snippets() -> list[str]:
    """The python blocks of the README's "Consume the events" section, in order."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n## Consume the events\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)


class Printed:
    """What a snippet running in its own process prints, line by line, as it comes."""

    def __init__(self, script: Path, env: dict[str, str]) -> None:
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            [sys.executable, str(script)],
            env={**env, "PYTHONUNBUFFERED": "1"},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip())

    def types(self) -> set[str]:
        return {line.split()[0] for line in self.lines if line.split()}

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)


@pytest.fixture
def served(database_url: str, tmp_path: Path) -> Iterator[tuple[str, int, Path]]:
    port, nats_port, log = free_port(), free_port(), tmp_path / "serve.log"
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("HEXBANK_", "DATABASE_URL"))}
    env = {
        **clean,
        "DATABASE_URL": database_url,
        "HEXBANK_JWT_SECRET": TEST_SECRET,
        "HEXBANK_STATEMENT_SIGNING_KEY": TEST_STATEMENT_KEY,
        "HEXBANK_DATA_DIR": str(tmp_path / "data"),
        "HEXBANK_NATS_PORT": str(nats_port),
        "HEXBANK_LOG_FORMAT": "json",
        "PORT": str(port),
    }
    with log.open("wb") as output:
        server = subprocess.Popen(
            [sys.executable, "-m", "entrypoints.cli", "serve"],
            env=env,
            cwd=ROOT,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        try:
            wait_until(lambda: answers_ready(server, base), "hexbank serve", within_s=60)
        except AssertionError as failure:
            raise AssertionError(f"{failure}\n{log.read_text()[-3000:]}") from None
        yield base, nats_port, log
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()


def a_deposit_and_a_transfer(base: str) -> str:
    """The README's "Try it", shortened; returns the token."""
    with httpx.Client(base_url=base, timeout=10) as http:
        email, password = "reader@example.com", "correct horse"
        created = http.post(
            "/api/v1/users", json={"email": email, "password": password, "full_name": "Reader"}
        )
        assert created.status_code == 201, created.text
        token = http.post(
            "/api/v1/auth/token",
            data={"grant_type": "password", "username": email, "password": password},
        ).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        a, b = (
            http.post("/api/v1/accounts", headers=auth, json={"currency": "EUR"}).json()["id"]
            for _ in range(2)
        )
        deposit = http.post(
            f"/api/v1/accounts/{a}/deposits",
            headers={**auth, "Idempotency-Key": "readme-deposit"},
            json={"amount": 10_000},
        )
        assert deposit.status_code == 201, deposit.text
        transfer = http.post(
            "/api/v1/transfers",
            headers={**auth, "Idempotency-Key": "readme-rent"},
            json={"from_account_id": a, "to_account_id": b, "amount": 2500, "currency": "EUR"},
        )
        assert transfer.status_code == 201, transfer.text
        return str(token)


def test_the_readme_snippets_print_the_events(
    served: tuple[str, int, Path], tmp_path: Path
) -> None:
    base, nats_port, log = served
    nats_url = f"nats://127.0.0.1:{nats_port}"
    banner = f"events on {nats_url}, stream HEXBANK_EVENTS, subjects hexbank.events.>"
    assert banner in log.read_text()
    events = httpx.get(f"{base}/health/ready").json()["events"]
    assert events["nats_url"] == nats_url
    assert (events["stream"], events["subjects"]) == ("HEXBANK_EVENTS", "hexbank.events.>")

    token = a_deposit_and_a_transfer(base)
    durable, feed = readme_snippets()
    env = {**os.environ, "NATS_URL": events["nats_url"], "BASE": base, "TOKEN": token}
    expected = {"deposit.posted", "transfer.posted"}
    consumers = []
    for name, snippet in (("durable.py", durable), ("feed.py", feed)):
        (tmp_path / name).write_text(snippet)
        consumers.append(Printed(tmp_path / name, env))
    try:
        for consumer in consumers:
            wait_until(
                lambda consumer=consumer: expected <= consumer.types(),  # type: ignore[misc]
                lambda consumer=consumer: f"{expected} from {consumer.lines}",  # type: ignore[misc]
                within_s=60,
            )
    finally:
        for consumer in consumers:
            consumer.stop()
