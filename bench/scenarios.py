"""The scenarios, one function each, named for what it measures. Each runs its contenders one
after another on the same data, prints a line per contender, and returns its rows with the
targets it is judged by (the report's tables keep the scenario titles a) to e))."""

from __future__ import annotations

import asyncio
import random
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from bench.load import Request, probe_latency, run_load
from bench.measure import Profile, database_limit, measure, soak
from bench.progress import begin, end, say, summary
from bench.report import Check, Outcome, Row, as_row
from bench.request_pools import read_requests, registration_requests, transfer_requests
from bench.seed import BenchAccount
from bench.servers import Server

MANY_ACCOUNTS = "a) transfers, 10k accounts, 64 conns"
HOT_SPOT = "b) hot spot, 10 accounts, 32 conns"
READS = "c) GET account, 64 conns"
STORM = "d) registration storm, 16 conns"
SOAK = "e) soak"

NAMES = {"hexbank": "hexbank", "baseline": "tutorial baseline", "http-limit": "HTTP limit (no DB)"}
# Per served contender: where it takes a transfer, and whether it wants a bearer token.
TRANSFER_AT = {
    "hexbank": ("/api/v1/transfers", True),
    "baseline": ("/transfers", False),
    "http-limit": ("/api/v1/transfers", False),
}
ACCOUNT_AT = {"hexbank": ("/api/v1/accounts", True), "baseline": ("/accounts", False)}


@dataclass
class Bench:
    """What every scenario runs against: the started servers and the seeded accounts."""

    servers: dict[str, Server]
    accounts: list[BenchAccount]
    profile: Profile
    rng: random.Random


def transfers_at_the_database_limit(
    database_url: str, accounts: list[BenchAccount], profile: Profile, log: Path
) -> Row:
    """a), its ceiling: the same transfer as raw SQL on asyncpg. Run before the servers start,
    while no app holds pooled connections (64 more would pass max_connections)."""
    say("a) transfers over many accounts: the database limit, before any server holds a pool")
    begin("database limit (asyncpg)")
    row = database_limit(MANY_ACCOUNTS, database_url, accounts, 64, profile, log)
    end(summary(row))
    return row


def transfers_over_many_accounts(bench: Bench, limit: Row) -> Outcome:
    """a) Random transfers over every account: contention is rare, so this is throughput."""
    say("a) transfers over many accounts, 64 connections")
    ours, base, http = [
        _contender(bench, MANY_ACCOUNTS, name, _transfers(bench, bench.accounts, 5000, name), 64)
        for name in ("hexbank", "baseline", "http-limit")
    ]
    return Outcome(
        [ours, base, http, limit],
        [
            Check(
                "a) hexbank >= 3x baseline",
                f"{ours.ok_per_s / max(base.ok_per_s, 1e-9):.2f}x",
                ours.ok_per_s >= 3 * base.ok_per_s,
            ),
            Check(
                "a) hexbank >= 40% of the database limit",
                f"{ours.ok_per_s / max(limit.ok_per_s, 1e-9):.0%}",
                ours.ok_per_s >= 0.4 * limit.ok_per_s,
            ),
        ],
    )


def hot_spot_transfers(bench: Bench) -> Outcome:
    """b) Transfers among 10 accounts: every request contends, crossing ones would deadlock."""
    say("b) hot-spot transfers among 10 accounts, 32 connections")
    hot = bench.accounts[:10]
    ours, base = [
        _contender(bench, HOT_SPOT, name, _transfers(bench, hot, 2000, name), 32)
        for name in ("hexbank", "baseline")
    ]
    return Outcome(
        [ours, base],
        [
            Check(
                "b) hot spot: zero 5xx",
                f"{ours.server_errors} (baseline: {base.server_errors})",
                ours.server_errors == 0,
            ),
            Check(
                "b) hot spot >= 50x baseline",
                _ratio(ours.ok_per_s, base.ok_per_s),
                ours.ok_per_s >= 50 * base.ok_per_s,
            ),
        ],
    )


def account_reads(bench: Bench) -> Outcome:
    """c) GET one account at random: the read path, authorization included."""
    say("c) account reads, 64 connections")
    ours, base = [
        _contender(bench, READS, name, _reads(bench, name), 64) for name in ("hexbank", "baseline")
    ]
    return Outcome(
        [ours, base],
        [
            Check(
                "c) reads >= 3x baseline",
                f"{ours.ok_per_s / max(base.ok_per_s, 1e-9):.2f}x",
                ours.ok_per_s >= 3 * base.ok_per_s,
            )
        ],
    )


def cheap_request_during_registration_storm(bench: Bench) -> Outcome:
    """d) A cheap request's latency at rest, then while 16 connections register users: Argon2
    hashing must not block the event loop."""
    say("d) cheap request during a registration storm, 16 connections registering")
    hexbank, seconds = bench.servers["hexbank"], bench.profile.probe_s
    begin("cheap request at rest")
    rest_p50, rest_p99, _ = asyncio.run(probe_latency(hexbank.url, "/health/live", seconds))
    end(f"p50 {rest_p50:.2f} ms  p99 {rest_p99:.2f} ms")
    begin("cheap request in the storm")
    registrations = registration_requests(20_000)
    with ThreadPoolExecutor(max_workers=1) as background:
        storm = background.submit(
            run_load,
            hexbank.url,
            registrations,
            connections=16,
            duration_s=seconds + 1,
            sequential=True,
        )
        time.sleep(0.5)
        storm_p50, storm_p99, _ = asyncio.run(probe_latency(hexbank.url, "/health/live", seconds))
        end(f"p50 {storm_p50:.2f} ms  p99 {storm_p99:.2f} ms")
        row = as_row(
            STORM, "hexbank: registrations", storm.result(), None, "Argon2id, default cost"
        )
    begin(row.contender)
    end(summary(row))
    return Outcome(
        [row],
        [
            Check(
                "d) cheap p99 in storm <= 3x at rest",
                f"{storm_p99:.2f} ms vs {rest_p99:.2f} ms ({storm_p99 / max(rest_p99, 1e-9):.1f}x)",
                storm_p99 <= 3 * rest_p99,
            )
        ],
        {
            "cheap request at rest": f"p50 {rest_p50:.2f} ms, p99 {rest_p99:.2f} ms",
            "cheap request in the storm": f"p50 {storm_p50:.2f} ms, p99 {storm_p99:.2f} ms",
        },
    )


def memory_over_soak(bench: Bench) -> Outcome:
    """e) hexbank's resident memory before and after `soak_transfers` transfers: no leak."""
    say(f"e) memory over a soak of {bench.profile.soak_transfers:,} transfers, 64 connections")
    begin("hexbank")
    result, cpu, rss_start, rss_end = soak(
        bench.servers["hexbank"],
        _transfers(bench, bench.accounts, 5000, "hexbank"),
        bench.profile,
    )
    rss = f"RSS {rss_start / 2**20:.0f} -> {rss_end / 2**20:.0f} MiB"
    row = as_row(SOAK, "hexbank", result, cpu, rss)
    end(summary(row))
    growth = (rss_end - rss_start) / rss_start
    return Outcome(
        [row],
        [
            Check(
                "e) RSS growth over the soak < 10%",
                f"{growth:+.1%} over {row.requests} requests",
                growth < 0.10,
            )
        ],
    )


def _contender(
    bench: Bench, scenario: str, server: str, requests: list[Request], connections: int
) -> Row:
    begin(NAMES[server])
    result, cpu = measure(bench.servers[server], requests, connections, bench.profile)
    row = as_row(scenario, NAMES[server], result, cpu)
    end(summary(row))
    return row


def _transfers(
    bench: Bench, accounts: list[BenchAccount], count: int, server: str
) -> list[Request]:
    path, auth = TRANSFER_AT[server]
    return transfer_requests(accounts, count, path, auth, bench.rng)


def _reads(bench: Bench, server: str) -> list[Request]:
    prefix, auth = ACCOUNT_AT[server]
    return read_requests(bench.accounts, 5000, prefix, auth, bench.rng)


def _ratio(ours: float, theirs: float) -> str:
    if theirs <= 0:
        return f"{ours:,.0f}/s vs 0/s (the baseline completed no transfer)"
    return f"{ours / theirs:.1f}x"
