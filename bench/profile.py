"""`make bench-profile`: where a transfer's CPU goes, with py-spy on a loaded hexbank server.

Writes bench/results/transfer-profile.svg (a flame graph) and transfer-profile.txt (the
functions with the most samples of their own, request threads only).
"""

from __future__ import annotations

import asyncio
import random
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import psutil

from bench.load import run_load
from bench.run import (
    PORTS,
    RESULTS,
    ROOT,
    Server,
    _dsn,
    _wait_until_listening,
    bench_database,
    server_env,
    transfer_requests,
)
from bench.seed import seed

SECONDS = 12


def record(database_url: str, secret: str, output: Path, fmt: str, requests: list) -> None:  # type: ignore[type-arg]
    env = server_env(database_url, secret)
    command = [
        str(Path(sys.executable).parent / "py-spy"),
        "record",
        "--nonblocking",
        "-r",
        "250",
        "-f",
        fmt,
        "-o",
        str(output),
        "--",
        sys.executable,
        "-m",
        "entrypoints.cli",
        "serve",
        "--port",
        str(PORTS["hexbank"]),
    ]
    process = subprocess.Popen(command, env=env, cwd=ROOT)
    try:
        _wait_until_listening(Server("hexbank", process, f"http://127.0.0.1:{PORTS['hexbank']}"))
        time.sleep(1)
        run_load(
            f"http://127.0.0.1:{PORTS['hexbank']}", requests, connections=64, duration_s=SECONDS
        )
    finally:
        # Stop the server; py-spy writes its output when its child exits.
        for child in psutil.Process(process.pid).children(recursive=True):
            child.send_signal(signal.SIGINT)
        process.wait(timeout=60)


def summary(raw: Path) -> str:
    own: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if "run_asgi" not in stack and "greenlet" not in stack:
            continue  # idle threads and the event loop waiting
        frames = stack.split(";")
        own[frames[-1]] += int(count)
        total += int(count)
    lines = [f"{total} samples in request handling; the functions with most samples of their own:"]
    lines += [f"{n / total:6.1%}  {frame}" for frame, n in own.most_common(30)]
    return "\n".join(lines) + "\n"


def main() -> None:
    secret = secrets.token_urlsafe(48)
    with bench_database() as database_url:
        accounts = asyncio.run(seed(_dsn(database_url), secret, 20, 50, 10**9))
        requests = transfer_requests(accounts, 3000, "/api/v1/transfers", True, random.Random(7))
        RESULTS.mkdir(parents=True, exist_ok=True)
        record(database_url, secret, RESULTS / "transfer-profile.svg", "flamegraph", requests)
        with tempfile.TemporaryDirectory() as folder:
            raw = Path(folder) / "transfer.txt"
            record(database_url, secret, raw, "raw", requests)
            (RESULTS / "transfer-profile.txt").write_text(summary(raw))
    print((RESULTS / "transfer-profile.txt").read_text())


if __name__ == "__main__":
    main()
