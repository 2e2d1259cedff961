"""`hexbank serve --workers 2`: one scrape of the metrics listener (the supervisor's, on its
own port) counts the requests of both (prometheus_client's multiprocess mode); a dead
worker's counts stay in the totals and its live gauges go; files of an earlier run do not
count again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.fakes import TEST_SECRET, TEST_STATEMENT_KEY
from tests.integration.test_cli import children, socket_inodes, tcp_inode, worker_serving
from tests.integration.test_processes import answers_ready
from tests.ports import free_port
from tests.waiting import wait_until

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
SHARED = "PROMETHEUS_MULTIPROC_DIR"


@contextmanager
def two_workers(
    database_url: str, log: Path, **env: str
) -> Iterator[tuple[subprocess.Popen[bytes], int, int]]:
    """`hexbank serve --workers 2`, ready: the process, the API's port and the metrics port;
    stopped with SIGTERM, which must exit 0."""
    port, metrics_port = free_port(), free_port()
    environment = {key: value for key, value in os.environ.items() if key != SHARED}
    environment.update(
        DATABASE_URL=database_url,
        HEXBANK_JWT_SECRET=TEST_SECRET,
        HEXBANK_STATEMENT_SIGNING_KEY=TEST_STATEMENT_KEY,
        HEXBANK_LOG_FORMAT="json",
        HEXBANK_METRICS_PORT=str(metrics_port),
    )
    environment.update(env)
    command = [sys.executable, "-m", "entrypoints.cli", "serve", "--workers", "2"]
    with log.open("w") as output:
        server = subprocess.Popen(
            [*command, "--port", str(port)],
            env=environment,
            cwd=ROOT,
            stdout=output,
            stderr=subprocess.STDOUT,
        )

    def ready() -> bool:
        assert server.poll() is None, log.read_text()[-3000:]
        return answers_ready(server, f"http://127.0.0.1:{port}")

    try:
        wait_until(ready, "the workers to be ready", within_s=40)
        yield server, port, metrics_port
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    assert server.returncode == 0, log.read_text()[-3000:]


def listening_workers(server: subprocess.Popen[bytes], port: int) -> set[int]:
    """The server's children that listen on the port: its workers."""
    listening = tcp_inode(port, None)
    return {pid for pid in children(server.pid) if listening in socket_inodes(pid)}


def both_workers(server: subprocess.Popen[bytes], port: int) -> set[int]:
    found: set[int] = set()

    def two() -> bool:
        found.clear()
        found.update(listening_workers(server, port))
        return len(found) == 2

    wait_until(two, lambda: f"two workers to listen, found {sorted(found)}", within_s=40)
    return found


def hit_every_worker(workers: set[int], port: int) -> int:
    """GET /health/live on fresh connections until each worker answered one; how many."""
    served: set[int] = set()
    sent = 0

    def all_answered() -> bool:
        nonlocal sent
        served.add(worker_serving(workers, port))
        sent += 1
        return served == workers

    wait_until(
        all_answered,
        lambda: f"workers {sorted(workers)} to answer, only {sorted(served)} did",
        every_s=0.01,
    )
    return sent


def scrape(metrics_port: int) -> dict[str, float]:
    """The samples that matter here, from one scrape: GET /health/live answers counted, and
    the pool gauge (idle connections)."""
    response = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10)
    assert response.status_code == 200, response.text
    text = response.text
    found = {"live": 0.0}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = sample.labels
            if sample.name == "hexbank_http_requests_total" and labels.get("route") == (
                "/health/live"
            ):
                found["live"] += sample.value
            if sample.name == "hexbank_db_pool_connections":
                found[f"pool_{labels['state']}"] = sample.value
    return found


def leave_counts_of_an_earlier_run(directory: Path, requests: int) -> None:
    """Metric files as a previous run would have left them: `requests` answered."""
    count = (
        "from entrypoints.observability.metrics import Metrics\n"
        "metrics = Metrics()\n"
        f"for _ in range({requests}):\n"
        "    metrics.observe_request('GET', '/health/live', 200, 0.001)\n"
    )
    subprocess.run(
        [sys.executable, "-c", count],
        env={**os.environ, SHARED: str(directory)},
        cwd=ROOT,
        check=True,
    )
    assert list(directory.glob("counter_*.db")), "no metric file was written"


def test_one_scrape_counts_every_worker_and_outlives_a_dead_one(
    database_url: str, tmp_path: Path
) -> None:
    shared = tmp_path / "metrics"
    shared.mkdir()
    leave_counts_of_an_earlier_run(shared, 1000)
    with two_workers(database_url, tmp_path / "serve.log", **{SHARED: str(shared)}) as (
        server,
        port,
        metrics_port,
    ):
        workers = both_workers(server, port)
        sent = hit_every_worker(workers, port)
        first = scrape(metrics_port)
        assert first["live"] == sent, f"one scrape counted {first['live']} of {sent} requests"
        assert "pool_idle" in first, first

        victim = min(workers)
        os.kill(victim, signal.SIGKILL)  # uvicorn starts another worker in its place
        wait_until(
            lambda: victim not in listening_workers(server, port),
            f"worker {victim} to be gone",
        )
        workers = both_workers(server, port)
        sent += hit_every_worker(workers, port)
        again = scrape(metrics_port)
        assert again["live"] == sent, f"after a worker died: {again['live']} of {sent} counted"
        assert not list(shared.glob(f"gauge_live*_{victim}.db")), "the dead worker's gauges stay"
    assert list(shared.glob("counter_*.db")), "the operator's directory was not used"
    assert not list(shared.glob("gauge_live*.db")), "workers that exited left live gauges"


def test_without_a_directory_serve_makes_one_and_removes_it(
    database_url: str, tmp_path: Path
) -> None:
    with two_workers(database_url, tmp_path / "serve.log") as (server, port, metrics_port):
        workers = both_workers(server, port)
        sent = hit_every_worker(workers, port)
        assert scrape(metrics_port)["live"] == sent
        assert httpx.get(f"http://127.0.0.1:{port}/metrics").status_code == 404
        environ = Path(f"/proc/{min(workers)}/environ").read_bytes().split(b"\0")
        named = [item for item in environ if item.startswith(f"{SHARED}=".encode())]
        assert named, f"the workers were not given {SHARED}"
        directory = Path(named[0].split(b"=", 1)[1].decode())
        assert directory.is_dir()
    assert not directory.exists(), f"{directory} outlived the server"
