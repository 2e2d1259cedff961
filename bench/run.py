"""`make bench` / `make bench-quick`: every scenario, every contender, one run, one report.

Contenders run one after another on the same database, settings and data, so the ratios
hold on a noisy machine. Writes bench/results/latest.md and latest.png and prints the table.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import psutil

from adapters.embedded_postgres import EmbeddedPostgres
from adapters.sqlalchemy import migrations
from bench.load import LoadResult, Request, probe_latency, run_load, wrk_available
from bench.seed import BenchAccount, seed

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
PORTS = {"hexbank": 8101, "baseline": 8102, "http-limit": 8103}


@dataclass
class Profile:
    warmup_s: float
    measure_s: float
    users: int
    accounts_per_user: int
    soak_transfers: int
    probe_s: float


FULL = Profile(
    warmup_s=3, measure_s=15, users=100, accounts_per_user=100, soak_transfers=100_000, probe_s=8
)
QUICK = Profile(
    warmup_s=1, measure_s=4, users=20, accounts_per_user=50, soak_transfers=5_000, probe_s=3
)


@dataclass
class Row:
    scenario: str
    contender: str
    ok_per_s: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx: int
    server_errors: int
    server_cpu: float | None = None
    generator_cpu: float | None = None
    note: str = ""


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)
    checks: list[tuple[str, str, bool]] = field(default_factory=list)
    facts: dict[str, str] = field(default_factory=dict)

    def row(self, scenario: str, contender: str) -> Row:
        return next(r for r in self.rows if r.scenario == scenario and r.contender == contender)


# -- database -----------------------------------------------------------------------------


@contextmanager
def bench_database() -> Iterator[str]:
    """A fresh `hexbank_bench` database on DATABASE_URL's server, or on an embedded one."""
    if url := os.environ.get("DATABASE_URL"):
        server_url = url
        embedded = None
    else:
        embedded = EmbeddedPostgres(ROOT / ".data" / "bench", database="postgres")
        server_url = embedded.start()
    try:
        base, _, query = server_url.partition("?")
        root = base.rsplit("/", 1)[0]
        url = f"{root}/hexbank_bench" + (f"?{query}" if query else "")
        asyncio.run(_recreate(_dsn(server_url), "hexbank_bench"))
        migrations.upgrade(url)
        yield url
    finally:
        if embedded is not None:
            embedded.stop()


def _dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def _recreate(dsn: str, name: str) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


async def _database_facts(dsn: str) -> dict[str, str]:
    connection = await asyncpg.connect(dsn)
    try:
        facts = {"PostgreSQL": (await connection.fetchval("SELECT version()")).split(" on ")[0]}
        for setting in ("shared_buffers", "max_connections", "synchronous_commit", "fsync"):
            facts[setting] = await connection.fetchval(f"SHOW {setting}")
        return facts
    finally:
        await connection.close()


# -- servers ------------------------------------------------------------------------------


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    url: str

    @property
    def ps(self) -> psutil.Process:
        return psutil.Process(self.process.pid)

    def cpu_s(self) -> float:
        times = self.ps.cpu_times()
        return times.user + times.system


def server_env(database_url: str, secret: str) -> dict[str, str]:
    """The environment every served contender (and the profiled server) starts with."""
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "HEXBANK_JWT_SECRET": secret,
        "HEXBANK_LOG_LEVEL": "warning",
        # Scenario d) measures hashing against the event loop, not the registration limit.
        "HEXBANK_REGISTRATIONS_PER_CLIENT": "1000000",
        # The baseline reads the same two, so both get hexbank's default pool.
        "HEXBANK_DB_POOL_SIZE": os.environ.get("HEXBANK_DB_POOL_SIZE", "20"),
        "HEXBANK_DB_MAX_OVERFLOW": os.environ.get("HEXBANK_DB_MAX_OVERFLOW", "0"),
    }


@contextmanager
def servers(database_url: str, secret: str) -> Iterator[dict[str, Server]]:
    env = server_env(database_url, secret)
    uvicorn = [sys.executable, "-m", "uvicorn", "--log-level", "warning", "--no-access-log"]
    commands = {
        "hexbank": [
            sys.executable,
            "-m",
            "entrypoints.cli",
            "serve",
            "--port",
            str(PORTS["hexbank"]),
        ],
        "baseline": [*uvicorn, "bench.baseline.app:app", "--port", str(PORTS["baseline"])],
        "http-limit": [*uvicorn, "bench.http_limit:app", "--port", str(PORTS["http-limit"])],
    }
    started: dict[str, Server] = {}
    try:
        for name, command in commands.items():
            process = subprocess.Popen(command, env=env, cwd=ROOT)
            started[name] = Server(name, process, f"http://127.0.0.1:{PORTS[name]}")
        for server in started.values():
            _wait_until_listening(server)
        yield started
    finally:
        for server in started.values():
            server.process.terminate()
        for server in started.values():
            server.process.wait(timeout=30)


def _wait_until_listening(server: Server, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.name} exited with {server.process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", PORTS[server.name]), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{server.name} did not start")


# -- request pools ------------------------------------------------------------------------


def transfer_requests(
    accounts: list[BenchAccount], count: int, path: str, auth: bool, rng: random.Random
) -> list[Request]:
    requests = []
    for _ in range(count):
        source, destination = rng.sample(accounts, 2)
        body = json.dumps(
            {
                "from_account_id": str(source.id),
                "to_account_id": str(destination.id),
                "amount": rng.randint(1, 100),
                "currency": "EUR",
            }
        ).encode()
        headers = {"Authorization": f"Bearer {source.token}"} if auth else {}
        requests.append(Request("POST", path, body, headers))
    return requests


def read_requests(
    accounts: list[BenchAccount], count: int, prefix: str, auth: bool, rng: random.Random
) -> list[Request]:
    requests = []
    for _ in range(count):
        account = rng.choice(accounts)
        headers = {"Authorization": f"Bearer {account.token}"} if auth else {}
        requests.append(Request("GET", f"{prefix}/{account.id}", b"", headers))
    return requests


def registration_requests(count: int) -> list[Request]:
    run = secrets.token_hex(4)
    return [
        Request(
            "POST",
            "/api/v1/users",
            json.dumps(
                {
                    "email": f"storm-{run}-{n}@example.com",
                    "password": "storm-password",
                    "full_name": f"Storm {n}",
                }
            ).encode(),
        )
        for n in range(count)
    ]


# -- measuring ----------------------------------------------------------------------------


def measure(
    server: Server,
    requests: list[Request],
    connections: int,
    profile: Profile,
    *,
    duration_s: float | None = None,
    sequential: bool = False,
) -> tuple[LoadResult, float]:
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


def as_row(
    scenario: str, contender: str, result: LoadResult, server_cpu: float | None, note: str = ""
) -> Row:
    return Row(
        scenario,
        contender,
        result.ok_per_s,
        result.p50_ms,
        result.p99_ms,
        result.requests,
        sum(n for s, n in result.statuses.items() if not 200 <= s < 300) + result.socket_errors,
        result.server_errors,
        server_cpu,
        result.generator_cpu_share,
        note,
    )


def db_limit(
    database_url: str, accounts: list[BenchAccount], connections: int, profile: Profile
) -> Row:
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as listing:
        listing.write("\n".join(str(a.id) for a in accounts))
    command = [
        sys.executable,
        "-m",
        "bench.db_limit",
        _dsn(database_url),
        listing.name,
        str(connections),
    ]
    try:
        for seconds in (profile.warmup_s, profile.measure_s):
            out = subprocess.run([*command, str(seconds)], capture_output=True, text=True, cwd=ROOT)
            if out.returncode != 0:
                raise RuntimeError(f"bench.db_limit failed:\n{out.stderr}")
    finally:
        os.unlink(listing.name)
    data = json.loads(out.stdout)
    return Row(
        "a) transfers, 10k accounts, 64 conns",
        "database limit (asyncpg)",
        data["requests"] / data["duration_s"],
        data["p50_ms"],
        data["p99_ms"],
        data["requests"],
        data["errors"],
        0,
        note="raw SQL, no HTTP",
    )


def run(profile: Profile) -> Report:
    report = Report()
    secret = secrets.token_urlsafe(48)
    rng = random.Random(2026)
    report.facts.update(
        {
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB, {platform.platform()}",
            "CPU": _cpu_model(),
            "Python": platform.python_version(),
            "load generator": "wrk (Lua script), 1 thread"
            if wrk_available()
            else "asyncio client (wrk not installed)",
            "profile": "quick" if profile is QUICK else "full",
        }
    )
    with bench_database() as database_url:
        report.facts.update(asyncio.run(_database_facts(_dsn(database_url))))
        accounts = asyncio.run(
            seed(_dsn(database_url), secret, profile.users, profile.accounts_per_user, 10**9)
        )
        report.facts["data"] = (
            f"{len(accounts)} accounts of {profile.users} users, seeded through real deposits"
        )
        hot = accounts[:10]
        # First, while no app holds pooled connections (64 more would pass max_connections).
        limit_row = db_limit(database_url, accounts, 64, profile)
        with servers(database_url, secret) as running:
            hexbank, baseline, limit = (
                running["hexbank"],
                running["baseline"],
                running["http-limit"],
            )

            a = "a) transfers, 10k accounts, 64 conns"
            for server, path, auth in (
                (hexbank, "/api/v1/transfers", True),
                (baseline, "/transfers", False),
                (limit, "/api/v1/transfers", False),
            ):
                result, cpu = measure(
                    server, transfer_requests(accounts, 5000, path, auth, rng), 64, profile
                )
                name = {
                    "hexbank": "hexbank",
                    "baseline": "tutorial baseline",
                    "http-limit": "HTTP limit (no DB)",
                }[server.name]
                report.rows.append(as_row(a, name, result, cpu))
            report.rows.append(limit_row)

            b = "b) hot spot, 10 accounts, 32 conns"
            for server, path, auth, name in (
                (hexbank, "/api/v1/transfers", True, "hexbank"),
                (baseline, "/transfers", False, "tutorial baseline"),
            ):
                result, cpu = measure(
                    server, transfer_requests(hot, 2000, path, auth, rng), 32, profile
                )
                report.rows.append(as_row(b, name, result, cpu))

            c = "c) GET account, 64 conns"
            for server, prefix, auth, name in (
                (hexbank, "/api/v1/accounts", True, "hexbank"),
                (baseline, "/accounts", False, "tutorial baseline"),
            ):
                result, cpu = measure(
                    server, read_requests(accounts, 5000, prefix, auth, rng), 64, profile
                )
                report.rows.append(as_row(c, name, result, cpu))

            d = "d) registration storm, 16 conns"
            rest_p50, rest_p99, _ = asyncio.run(
                probe_latency(hexbank.url, "/health/live", profile.probe_s)
            )
            storm: dict[str, LoadResult] = {}
            thread = threading.Thread(
                target=lambda: storm.update(
                    result=run_load(
                        hexbank.url,
                        registration_requests(20_000),
                        connections=16,
                        duration_s=profile.probe_s + 1,
                        sequential=True,
                    )
                )
            )
            thread.start()
            time.sleep(0.5)
            storm_p50, storm_p99, _ = asyncio.run(
                probe_latency(hexbank.url, "/health/live", profile.probe_s)
            )
            thread.join()
            report.rows.append(
                as_row(d, "hexbank: registrations", storm["result"], None, "Argon2id, default cost")
            )
            report.facts["cheap request at rest"] = f"p50 {rest_p50:.2f} ms, p99 {rest_p99:.2f} ms"
            report.facts["cheap request in the storm"] = (
                f"p50 {storm_p50:.2f} ms, p99 {storm_p99:.2f} ms"
            )

            e = "e) soak"
            result, cpu, rss_start, rss_end = soak(
                hexbank, transfer_requests(accounts, 5000, "/api/v1/transfers", True, rng), profile
            )
            report.rows.append(
                as_row(
                    e,
                    "hexbank",
                    result,
                    cpu,
                    f"RSS {rss_start / 2**20:.0f} -> {rss_end / 2**20:.0f} MiB",
                )
            )

        reconcile = subprocess.run(
            [sys.executable, "-m", "entrypoints.cli", "reconcile"],
            env={**os.environ, "DATABASE_URL": database_url},
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        report.facts["ledger after the run"] = (
            "reconciles" if reconcile.returncode == 0 else f"DIFFERENCES:\n{reconcile.stdout}"
        )

    ours, base = report.row(a, "hexbank"), report.row(a, "tutorial baseline")
    database = report.row(a, "database limit (asyncpg)")
    report.checks += [
        (
            "a) hexbank >= 3x baseline",
            f"{ours.ok_per_s / max(base.ok_per_s, 1e-9):.2f}x",
            ours.ok_per_s >= 3 * base.ok_per_s,
        ),
        (
            "a) hexbank >= 40% of the database limit",
            f"{ours.ok_per_s / max(database.ok_per_s, 1e-9):.0%}",
            ours.ok_per_s >= 0.4 * database.ok_per_s,
        ),
    ]
    hot_ours, hot_base = report.row(b, "hexbank"), report.row(b, "tutorial baseline")
    report.checks += [
        (
            "b) hot spot: zero 5xx",
            f"{hot_ours.server_errors} (baseline: {hot_base.server_errors})",
            hot_ours.server_errors == 0,
        ),
        (
            "b) hot spot >= 50x baseline",
            _ratio(hot_ours.ok_per_s, hot_base.ok_per_s),
            hot_ours.ok_per_s >= 50 * hot_base.ok_per_s,
        ),
    ]
    read_ours, read_base = report.row(c, "hexbank"), report.row(c, "tutorial baseline")
    report.checks.append(
        (
            "c) reads >= 3x baseline",
            f"{read_ours.ok_per_s / max(read_base.ok_per_s, 1e-9):.2f}x",
            read_ours.ok_per_s >= 3 * read_base.ok_per_s,
        )
    )
    report.checks.append(
        (
            "d) cheap p99 in storm <= 3x at rest",
            f"{storm_p99:.2f} ms vs {rest_p99:.2f} ms ({storm_p99 / max(rest_p99, 1e-9):.1f}x)",
            storm_p99 <= 3 * rest_p99,
        )
    )
    growth = (rss_end - rss_start) / rss_start
    report.checks.append(
        (
            "e) RSS growth over the soak < 10%",
            f"{growth:+.1%} over {report.row(e, 'hexbank').requests} requests",
            growth < 0.10,
        )
    )
    return report


def _ratio(ours: float, theirs: float) -> str:
    if theirs <= 0:
        return f"{ours:,.0f}/s vs 0/s (the baseline completed no transfer)"
    return f"{ours / theirs:.1f}x"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


# -- output -------------------------------------------------------------------------------


def markdown(report: Report) -> str:
    lines = [
        "# hexbank benchmark",
        "",
        f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.",
        "",
    ]
    lines += [f"- **{key}**: {value}" for key, value in report.facts.items()]
    lines += [
        "",
        "| scenario | contender | 2xx/s | p50 ms | p99 ms | requests | non-2xx | 5xx | server CPU | generator CPU | note |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in report.rows:
        cpu = f"{r.server_cpu:.0%}" if r.server_cpu is not None else ""
        gen = f"{r.generator_cpu:.0%}" if r.generator_cpu is not None else ""
        lines.append(
            f"| {r.scenario} | {r.contender} | {r.ok_per_s:,.0f} | {r.p50_ms:.1f} | {r.p99_ms:.1f} | {r.requests:,} | {r.non_2xx:,} | {r.server_errors:,} | {cpu} | {gen} | {r.note} |"
        )
    lines += ["", "| target | measured | met |", "|---|---|---|"]
    lines += [
        f"| {name} | {value} | {'yes' if ok else '**no**'} |" for name, value, ok in report.checks
    ]
    return "\n".join(lines) + "\n"


def chart(report: Report, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [f"{r.scenario.split(')')[0]}) {r.contender}" for r in report.rows]
    fig, (left, right) = plt.subplots(1, 2, figsize=(15, 0.45 * len(labels) + 2))
    left.barh(labels, [r.ok_per_s for r in report.rows], color="#2a6f97")
    left.set_xlabel("successful requests per second")
    left.invert_yaxis()
    positions = range(len(labels))
    right.barh(
        [p - 0.2 for p in positions],
        [r.p50_ms for r in report.rows],
        height=0.4,
        label="p50",
        color="#61a5c2",
    )
    right.barh(
        [p + 0.2 for p in positions],
        [r.p99_ms for r in report.rows],
        height=0.4,
        label="p99",
        color="#a9d6e5",
    )
    right.set_yticks(list(positions), [""] * len(labels))
    right.set_xscale("log")
    right.set_xlabel("latency, ms (log)")
    right.invert_yaxis()
    right.legend()
    fig.suptitle("hexbank vs tutorial baseline vs limits (1 app worker each)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    # SIGTERM unwinds like Ctrl-C, so servers and the embedded database are stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="under a minute, smaller numbers")
    args = parser.parse_args()
    report = run(QUICK if args.quick else FULL)
    RESULTS.mkdir(parents=True, exist_ok=True)
    text = markdown(report)
    name = "latest-quick" if args.quick else "latest"
    (RESULTS / f"{name}.md").write_text(text)
    chart(report, RESULTS / f"{name}.png")
    print(text)


if __name__ == "__main__":
    main()
