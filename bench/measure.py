"""How one contender is measured: a warm-up then a timed load with the server's CPU share, a
soak in rounds with its memory, and the database limit as its own process."""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.database import dsn
from bench.load import LoadResult, Request, run_load
from bench.report import Row
from bench.runs import ROOT, shown
from bench.seed import BenchAccount
from bench.servers import Server


@dataclass(frozen=True)
class Profile:
    """How big and how long: `full` for the published numbers, `quick` to try a change."""

    name: str
    warmup_s: float
    measure_s: float
    users: int
    accounts_per_user: int
    soak_transfers: int
    # e) at one connection: the two servers take turns in this many segments (a multiple
    # of 4: A B B A ...), each `segment_s` long after its own warm-up.
    segments: int
    segment_s: float
    # f) the cheap request: this many slices at rest and in the storm, taking turns, each
    # probed for `probe_s` (one request every 10 ms), after one storm slice not counted.
    storm_slices: int
    probe_s: float
    # h) fairness: B's reads beside each of A's loads, in this many slices at rest and
    # under load, this many reads a slice; B's logins in this many rounds at rest and in
    # A's login storm.
    fairness_slices: int
    fairness_samples: int
    fairness_login_rounds: int


FULL = Profile(
    "full",
    warmup_s=3,
    measure_s=15,
    users=100,
    accounts_per_user=100,
    soak_transfers=100_000,
    segments=8,
    segment_s=4,
    storm_slices=4,
    probe_s=3,
    fairness_slices=8,
    fairness_samples=100,
    fairness_login_rounds=2,
)
QUICK = Profile(
    "quick",
    warmup_s=1,
    measure_s=4,
    users=20,
    accounts_per_user=50,
    soak_transfers=5_000,
    segments=16,
    segment_s=1,
    storm_slices=4,
    probe_s=2,
    fairness_slices=3,
    fairness_samples=50,
    fairness_login_rounds=1,
)


def measure(
    server: Server,
    requests: list[Request],
    connections: int,
    profile: Profile,
    *,
    duration_s: float | None = None,
    sequential: bool = False,
) -> tuple[LoadResult, float]:
    """Warm up, then measure; the server's CPU share is over the measured part only."""
    run_load(
        server.url,
        requests,
        connections=connections,
        duration_s=profile.warmup_s,
        sequential=sequential,
    )
    cpu_before, started = server.cpu_s(), time.perf_counter()
    result = run_load(
        server.url,
        requests,
        connections=connections,
        duration_s=duration_s or profile.measure_s,
        sequential=sequential,
    )
    server_cpu = (server.cpu_s() - cpu_before) / (time.perf_counter() - started)
    return result, server_cpu


def soak(
    server: Server, requests: list[Request], profile: Profile
) -> tuple[LoadResult, float, int, int]:
    """Transfers in rounds until at least `soak_transfers` went through; RSS before and after
    (the start is read after a warm-up, so it is the working size, not the import size)."""
    run_load(server.url, requests, connections=64, duration_s=profile.warmup_s)
    rss_start = server.ps.memory_info().rss
    cpu_before, started = server.cpu_s(), time.perf_counter()
    total: LoadResult | None = None
    while total is None or total.requests < profile.soak_transfers:
        part = run_load(
            server.url, requests, connections=64, duration_s=min(30.0, profile.measure_s * 2)
        )
        total = part if total is None else _merged(total, part)
    cpu = (server.cpu_s() - cpu_before) / (time.perf_counter() - started)
    return total, cpu, rss_start, server.ps.memory_info().rss


def _merged(first: LoadResult, second: LoadResult) -> LoadResult:
    """Rounds added up; latency percentiles are the worse of the two rounds (conservative)."""
    return LoadResult(
        first.requests + second.requests,
        first.duration_s + second.duration_s,
        first.statuses + second.statuses,
        max(first.p50_ms, second.p50_ms),
        max(first.p99_ms, second.p99_ms),
        first.socket_errors + second.socket_errors,
        first.generator_cpu_s + second.generator_cpu_s,
        first.generator,
    )


def segments_merged(segments: list[LoadResult]) -> LoadResult:
    """Segments of one measurement taken apart in time: counts added, p50 the median of the
    segments' (one disturbed segment, a vacuum say, moves it little), p99 the worst."""
    merged = functools.reduce(_merged, segments)
    return dataclasses.replace(
        merged,
        p50_ms=statistics.median(segment.p50_ms for segment in segments),
        p99_ms=max(segment.p99_ms for segment in segments),
    )


def database_limit(
    scenario: str,
    database_url: str,
    accounts: list[BenchAccount],
    connections: int,
    profile: Profile,
    log: Path,
    note: str = "raw SQL, no HTTP",
    *,
    module: str = "bench.db_limit",
    contender: str = "database limit (asyncpg)",
) -> Row:
    """A raw-SQL transfer module (bench.db_limit, hexbank's statements; bench.minimal_transfer,
    the least a transfer can do) run twice (warm-up, then measured) over `accounts` with
    `connections` asyncpg tasks; its stderr goes to `log`."""
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as listing:
        listing.write("\n".join(str(a.id) for a in accounts))
    command = [
        sys.executable,
        "-m",
        module,
        dsn(database_url),
        listing.name,
        str(connections),
    ]
    try:
        for seconds in (profile.warmup_s, profile.measure_s):
            out = subprocess.run([*command, str(seconds)], capture_output=True, text=True, cwd=ROOT)
            with log.open("a") as output:
                output.write(out.stderr)
            if out.returncode != 0:
                raise RuntimeError(f"{module} failed; see {shown(log)}")
    finally:
        os.unlink(listing.name)
    data = json.loads(out.stdout)
    return Row(
        scenario,
        contender,
        data["requests"] / data["duration_s"],
        data["p50_ms"],
        data["p99_ms"],
        data["requests"],
        data["errors"],
        0,
        note=note,
    )
