"""`make bench-profile`: where a transfer's CPU goes, with py-spy on a loaded hexbank server.

Writes transfer-profile.svg (a flame graph) and transfer-profile.txt (the functions with the
most samples of their own, request threads only) into its own git-ignored run folder
(.data/bench/runs/<UTC time>-profile/, logs beside them). `--publish` copies the newest
profile to the tracked bench/results/; no run writes there by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
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

from bench.database import bench_database, dsn
from bench.load import Request, run_load
from bench.progress import begin, end, say
from bench.request_pools import transfer_requests
from bench.runs import (
    RESULTS,
    RunFolder,
    log_this_process,
    new_run,
    newest_run,
    publish,
    runs_root,
    shown,
)
from bench.seed import seed
from bench.servers import (
    PORT_ENV,
    Server,
    choose_ports,
    hexbank_command,
    server_env,
    start,
    wait_until_listening,
)

SECONDS = 12
FLAME, TOP = "transfer-profile.svg", "transfer-profile.txt"


def record(
    database_url: str,
    secret: str,
    port: int,
    output: Path,
    fmt: str,
    requests: list[Request],
    log: Path,
) -> None:
    """One loaded server under py-spy; py-spy's and the server's output go to `log`."""
    py_spy = str(Path(sys.executable).parent / "py-spy")
    command = [py_spy, "record", "--nonblocking", "-r", "250", "-f", fmt, "-o", str(output), "--"]
    server = start(
        "hexbank", [*command, *hexbank_command(port)], server_env(database_url, secret), port, log
    )
    try:
        wait_until_listening(server)
        time.sleep(1)
        run_load(server.url, requests, connections=64, duration_s=SECONDS)
    finally:
        _stop(server)


def _stop(server: Server) -> None:
    """Stop the server; py-spy writes its output when its child exits."""
    try:
        children = psutil.Process(server.process.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        children = []
    for child in children:
        child.send_signal(signal.SIGINT)
    try:
        server.process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()


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


def profile(port: int, folder: RunFolder) -> list[Path]:
    """Seed, then record the same load twice: once as a flame graph, once raw for the top list."""
    secret = secrets.token_urlsafe(48)
    say("database: a fresh hexbank_bench, migrated, 1,000 accounts seeded")
    with bench_database() as database_url:
        accounts = asyncio.run(seed(dsn(database_url), secret, 20, 50, 10**9))
        requests = transfer_requests(accounts, 3000, "/api/v1/transfers", True, random.Random(7))
        begin(f"flame graph, {SECONDS} s of transfers")
        record(
            database_url,
            secret,
            port,
            folder.path / FLAME,
            "flamegraph",
            requests,
            folder.log("flamegraph"),
        )
        end("done")
        begin(f"top frames, {SECONDS} s of transfers")
        with tempfile.TemporaryDirectory() as scratch:
            raw = Path(scratch) / "transfer.txt"
            record(database_url, secret, port, raw, "raw", requests, folder.log("raw"))
            (folder.path / TOP).write_text(summary(raw))
        end("done")
    return [folder.path / FLAME, folder.path / TOP]


def publish_profile(root: Path) -> None:
    folder = newest_run(root, "profile", (FLAME, TOP))
    if folder is None:
        raise SystemExit(f"no finished profile in {shown(root)}: run `make bench-profile` first")
    targets = publish({folder.path / name: RESULTS / name for name in (FLAME, TOP)})
    say(f"published {shown(folder.path)}:")
    for target in targets:
        say(f"  {shown(target)}")


def main(argv: list[str] | None = None) -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument(
        "--port",
        type=int,
        help=f"the server's port; default: {PORT_ENV['hexbank']}, else a free port",
    )
    parser.add_argument(
        "--runs-dir", metavar="DIR", help="default: BENCH_RUNS_DIR, else .data/bench/runs"
    )
    parser.add_argument(
        "--publish",
        action="store_true",
        help="run nothing: copy the newest profile to bench/results/",
    )
    args = parser.parse_args(argv)
    root = runs_root(args.runs_dir)
    if args.publish:
        publish_profile(root)
        return
    port = choose_ports({"hexbank": args.port})["hexbank"]
    folder = new_run(root, "profile")
    log_this_process(folder.log("bench"))
    say(f"hexbank transfer profile on port {port}, writing to {shown(folder.path)}")
    try:
        written = profile(port, folder)
    except Exception as error:
        logging.getLogger("bench").exception("the profile failed")
        say(f"failed: {error}")
        say(f"traceback and every process's output in {shown(folder.logs)}")
        raise SystemExit(1) from None
    top = (folder.path / TOP).read_text().splitlines()
    say("\n".join(top[:6]))
    say("written:")
    for path in [*written, folder.logs]:
        say(f"  {shown(path)}")
    say("to publish it to bench/results/: python -m bench.profile --publish")


if __name__ == "__main__":
    main()
