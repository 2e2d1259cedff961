"""What a feature costs the money path, measured on one server in one run: j) webhook delivery
beside a)'s transfers, k) overdraft limits and balance monitors beside a)'s and b)'s.

Each compares the same server under the same load with the feature on and off, in
alternating segments (A B B A ...), so the machine's drift weighs on both alike; the ratio
judged is the median of the back-to-back pairs' throughput ratios."""

from __future__ import annotations

import asyncio
import json
import statistics
import time
import urllib.request
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import asyncpg

from bench.database import calm, dsn
from bench.load import LoadResult, Request
from bench.measure import measure, segments_merged
from bench.progress import begin, end, say, summary
from bench.report import Bar, Check, Goal, Outcome, Panel, Row, as_row
from bench.request_pools import transfer_requests
from bench.scenarios import HOT_SPOT, MANY_ACCOUNTS, Bench, hot_accounts
from bench.seed import BenchAccount
from bench.webhook_receiver import WebhookReceiver

WEBHOOKS = "j) webhooks at a)'s load, 10k accounts, 64 conns"
WEBHOOK_RATIO = 0.9
DRAIN_LIMIT_S = 10.0
CREDIT_RATIO = 0.95
TRANSFERS = "/api/v1/transfers"


def _call(bench: Bench, method: str, path: str, token: str, body: Any = None) -> Any:
    """One JSON request to hexbank as the given user; anything but 2xx raises."""
    request = urllib.request.Request(  # noqa: S310 (the started server's own http:// address)
        bench.servers["hexbank"].url + path,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method=method,
    )
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
        payload = response.read()
    return json.loads(payload) if payload else None


def _owners(accounts: list[BenchAccount]) -> dict[uuid.UUID, list[BenchAccount]]:
    by_owner: dict[uuid.UUID, list[BenchAccount]] = {}
    for account in accounts:
        by_owner.setdefault(account.owner_id, []).append(account)
    return by_owner


def _alternate(
    bench: Bench,
    pools: dict[str, list[Request]],
    connections: int,
    switch: Callable[[str], None] = lambda _: None,
) -> tuple[dict[str, LoadResult], list[float]]:
    """`profile.segments` segments of hexbank, A B B A ...; `switch(label)` before each. The
    ratios are B's throughput over A's in each back-to-back pair."""
    first, second = pools
    order = [first, second, second, first] * (bench.profile.segments // 4)
    segments: dict[str, list[LoadResult]] = {first: [], second: []}
    for label in order:
        switch(label)
        calm(bench.database_url)
        result, _ = measure(
            bench.servers["hexbank"],
            pools[label],
            connections,
            bench.profile,
            duration_s=bench.profile.segment_s,
        )
        segments[label].append(result)
    ratios = [
        b.ok_per_s / max(a.ok_per_s, 1e-9)
        for a, b in zip(segments[first], segments[second], strict=True)
    ]
    return {label: segments_merged(results) for label, results in segments.items()}, ratios


def _rows(scenario: str, merged: dict[str, LoadResult]) -> list[Row]:
    rows = []
    for label, result in merged.items():
        row = as_row(scenario, f"hexbank, {label}", result, None)
        begin(row.contender)
        end(summary(row))
        rows.append(row)
    return rows


# -- j) webhooks --------------------------------------------------------------------------


def webhooks_beside_transfers(bench: Bench) -> Outcome:
    """j) One endpoint per user, taking `transfer.posted`, at a local receiver, delivered by the
    bench's `hexbank webhooks` process (bench/servers.py): a)'s transfers
    with every endpoint registered against the same with none (they are deleted and made again
    between segments); then one more a)-long run with them, and the time until no delivery is
    pending."""
    say("j) webhooks: a)'s transfers with an endpoint per user, then with none, alternating")
    tokens = {owner: accounts[0].token for owner, accounts in _owners(bench.accounts).items()}
    requests = transfer_requests(bench.accounts, 5000, TRANSFERS, True, bench.rng)
    endpoints: dict[uuid.UUID, str] = {}
    with WebhookReceiver() as receiver:

        def register(on: bool) -> None:
            def one(owner: uuid.UUID) -> None:
                if on and owner not in endpoints:
                    body = {"url": receiver.url, "event_types": ["transfer.posted"]}
                    path = "/api/v1/webhook-endpoints"
                    endpoints[owner] = _call(bench, "POST", path, tokens[owner], body)["id"]
                elif not on and owner in endpoints:
                    path = f"/api/v1/webhook-endpoints/{endpoints.pop(owner)}"
                    _call(bench, "DELETE", path, tokens[owner])

            with ThreadPoolExecutor(16) as pool:
                list(pool.map(one, list(tokens)))

        try:
            merged, ratios = _alternate(
                bench,
                {"no webhooks": requests, "webhooks": requests},
                64,
                switch=lambda label: register(label == "webhooks"),
            )
            rows = _rows(WEBHOOKS, merged)
            register(True)
            say("j) one a)-long run with every endpoint, then the time until none is pending")
            measure(bench.servers["hexbank"], requests, 64, bench.profile)
            drain_s = _until_drained(bench, endpoints, tokens, time.monotonic())
            delivered, distinct = receiver.snapshot()
        finally:
            register(False)
    ratio = statistics.median(ratios)
    off, on = rows
    return Outcome(
        rows,
        [
            Check(
                f"j) transfers with webhooks >= {WEBHOOK_RATIO:g}x without",
                f"{ratio:.2f}x (median of {len(ratios)} back-to-back pairs; "
                f"{on.ok_per_s:,.0f}/s vs {off.ok_per_s:,.0f}/s)",
                ratio >= WEBHOOK_RATIO,
            ),
            Check(
                f"j) the delivery backlog drains within {DRAIN_LIMIT_S:g} s of the load",
                "not within 60 s" if drain_s is None else f"{drain_s:.1f} s",
                drain_s is not None and drain_s <= DRAIN_LIMIT_S,
            ),
        ],
        facts={
            "j) deliveries received": (
                f"{delivered:,} POSTs carrying {distinct:,} distinct event ids, to "
                f"{len(tokens)} endpoints"
            )
        },
        panels=[
            Panel(
                WEBHOOKS,
                "transfers per second (higher is better)",
                [Bar(row.contender, "hexbank", row.ok_per_s) for row in rows],
                [Goal(WEBHOOK_RATIO * off.ok_per_s, f"goal: {WEBHOOK_RATIO:g}x without")],
            )
        ],
    )


def _until_drained(
    bench: Bench,
    endpoints: dict[uuid.UUID, str],
    tokens: dict[uuid.UUID, str],
    since: float,
    within_s: float = 60.0,
) -> float | None:
    """Seconds from `since` until every event written is fanned out and no endpoint has a
    pending delivery (None: not within_s). The fan-out's backlog counts: an event not fanned
    out yet has no delivery to be pending."""
    while time.monotonic() - since < within_s:
        pending = asyncio.run(_not_fanned_out(bench)) or any(
            _call(
                bench,
                "GET",
                f"/api/v1/webhook-endpoints/{endpoint}/deliveries?status=pending&limit=1",
                tokens[owner],
            )["items"]
            for owner, endpoint in endpoints.items()
        )
        if not pending:
            return time.monotonic() - since
        time.sleep(0.25)
    return None


async def _not_fanned_out(bench: Bench) -> bool:
    """Whether an event was written after the webhook fan-out's position."""
    connection = await asyncpg.connect(dsn(bench.database_url))
    try:
        behind: bool = await connection.fetchval(
            "SELECT EXISTS (SELECT FROM events AS e, webhook_fan_out AS f WHERE f.id = 1"
            " AND (e.transaction_id, e.position) > (f.transaction_id, f.position))"
        )
    finally:
        await connection.close()
    return behind


# -- k) overdraft limits and balance monitors ---------------------------------------------


def credit_beside_transfers(bench: Bench) -> Outcome:
    """k) Half the users' accounts get an overdraft limit and one balance monitor each; a)'s
    and b)'s transfers among those accounts against the same among the other half's."""
    say("k) overdraft limits and a monitor on every account: a) and b) with, then without")
    owners = list(_owners(bench.accounts).values())
    half = len(owners) // 2
    credited = [account for accounts in owners[:half] for account in accounts]
    plain = [account for accounts in owners[half:] for account in accounts]
    _grant_credit(bench, credited)
    # Without first: the ratios are "with" over "without".
    many = {
        "no limits, no monitors": transfer_requests(plain, 5000, TRANSFERS, True, bench.rng),
        "limits and monitors": transfer_requests(credited, 5000, TRANSFERS, True, bench.rng),
    }
    hot = {
        "no limits, no monitors": transfer_requests(
            hot_accounts(plain), 2000, TRANSFERS, True, bench.rng
        ),
        "limits and monitors": transfer_requests(
            hot_accounts(credited), 2000, TRANSFERS, True, bench.rng
        ),
    }
    outcome = Outcome([], [])
    for scenario, pools, connections in ((MANY_ACCOUNTS, many, 64), (HOT_SPOT, hot, 32)):
        title = f"k) {scenario}"
        merged, ratios = _alternate(bench, pools, connections)
        without, with_credit = _rows(title, merged)
        ratio = statistics.median(ratios)
        outcome.rows += [with_credit, without]
        outcome.checks.append(
            Check(
                f"k) {scenario.split(')')[0]}) with limits and monitors >= "
                f"{CREDIT_RATIO:g}x without",
                f"{ratio:.2f}x (median of {len(ratios)} back-to-back pairs; "
                f"{with_credit.ok_per_s:,.0f}/s vs {without.ok_per_s:,.0f}/s)",
                ratio >= CREDIT_RATIO,
            )
        )
        outcome.panels.append(
            Panel(
                title,
                "transfers per second (higher is better)",
                [Bar(row.contender, "hexbank", row.ok_per_s) for row in (with_credit, without)],
                [Goal(CREDIT_RATIO * without.ok_per_s, f"goal: {CREDIT_RATIO:g}x without")],
            )
        )
    outcome.facts["k) credited accounts"] = (
        f"{len(credited):,} accounts of {half} users, each with an overdraft limit of 1,000 "
        "and a monitor `available lt 0`"
    )
    return outcome


def _grant_credit(bench: Bench, accounts: list[BenchAccount]) -> None:
    """An overdraft limit straight in the table (as `hexbank set-overdraft` would set it,
    without its event: the bench measures transfers, not the operator), and one monitor per
    account through the API, as its owner."""

    async def limits() -> None:
        connection = await asyncpg.connect(dsn(bench.database_url))
        try:
            await connection.execute(
                "UPDATE accounts SET overdraft_limit = 1000 WHERE id = ANY($1::uuid[])",
                [account.id for account in accounts],
            )
        finally:
            await connection.close()

    asyncio.run(limits())
    monitor = {"field": "available", "op": "lt", "value": 0}
    with ThreadPoolExecutor(16) as pool:
        list(
            pool.map(
                lambda account: _call(
                    bench, "POST", f"/api/v1/accounts/{account.id}/monitors", account.token, monitor
                ),
                accounts,
            )
        )
