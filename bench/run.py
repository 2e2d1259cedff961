"""`make bench` / `make bench-quick`: every scenario, every contender, one run, one report.

Contenders run one after another on the same database, settings and data, so the ratios hold
on a noisy machine. A run writes report.md, chart.png and every process's log into its own
git-ignored folder (.data/bench/runs/<UTC time>-<full|quick>/) and prints only progress and
those paths. `--publish` copies the newest full run to the tracked bench/results/latest.md and
latest.png: no run writes there by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import secrets
import signal
import sys
from collections.abc import Mapping
from pathlib import Path

from bench.chart import chart
from bench.database import (
    bench_database,
    database_facts,
    dsn,
    ledger_after_the_run,
    outbox_after_the_run,
    settle,
)
from bench.feature_costs import credit_beside_transfers, webhooks_beside_transfers
from bench.measure import FULL, QUICK, Profile
from bench.progress import say
from bench.report import Report, machine_facts, markdown
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
from bench.scenarios import (
    Bench,
    account_reads,
    batched_transfers,
    cheap_request_during_registration_storm,
    deposits_over_many_accounts,
    fairness,
    hot_spot_transfers,
    memory_over_soak,
    transfer_latency,
    transfers_at_the_database_limit,
    transfers_over_many_accounts,
)
from bench.seed import seed
from bench.servers import CONTENDERS, PORT_ENV, choose_ports, servers

REPORT, CHART = "report.md", "chart.png"
# Issue 13's f) is a statement, not a measurement: the numbers are those of the whole path.
FULL_FEATURED_PATH = (
    "hexbank serve, 1 worker, its defaults: events on (every money transaction writes its "
    "outbox rows; hexbank's relay delivers them to its embedded NATS), and every account lock "
    "reads the account's held sum of open holds; `hexbank, group commit off` is the same "
    "command with HEXBANK_GROUP_COMMIT=off, writing the same outbox rows, without a relay of "
    "its own (one relay per outbox: hexbank's delivers both servers' events)"
)
PUBLISHED = {REPORT: RESULTS / "latest.md", CHART: RESULTS / "latest.png"}
SCENARIOS = frozenset("abcdefghijk")
NEEDS_A = frozenset("ei")


def run(
    profile: Profile, ports: Mapping[str, int], folder: RunFolder, only: frozenset[str] = SCENARIOS
) -> Report:
    """Seed, measure the database limit, then every scenario (or those in `only`) against the
    started servers. e) and i) are judged against a)'s rows, so they bring a) with them."""
    report = Report(facts=machine_facts(profile.name))
    secret = secrets.token_urlsafe(48)
    accounts_total = profile.users * profile.accounts_per_user
    say(f"database: a fresh hexbank_bench, migrated, {accounts_total:,} accounts seeded")
    with bench_database() as database_url:
        report.facts.update(database_facts(database_url))
        accounts = asyncio.run(
            seed(dsn(database_url), secret, profile.users, profile.accounts_per_user, 10**9)
        )
        report.facts["data"] = (
            f"{len(accounts)} accounts of {profile.users} users, seeded through real deposits"
        )
        report.facts["full-featured path"] = FULL_FEATURED_PATH
        say("database: VACUUM ANALYZE and CHECKPOINT after the seed")
        settle(database_url)
        if only & {"a", "b"}:
            limits = transfers_at_the_database_limit(
                database_url, accounts, profile, folder.log("db-limit")
            )
        say("database: VACUUM ANALYZE and CHECKPOINT before the servers start")
        settle(database_url)
        say("servers: " + ", ".join(f"{name} on {port}" for name, port in ports.items()))
        with servers(database_url, secret, ports, folder.logs) as running:
            bench = Bench(running, accounts, profile, random.Random(2026), database_url)
            if "a" in only:
                many_accounts = transfers_over_many_accounts(bench, limits.many_accounts)
                report.add(many_accounts)
            if "i" in only:
                # Judged against a)'s transfers, so it runs next to them, on the same data.
                deposits = deposits_over_many_accounts(bench, many_accounts.rows)
            if "b" in only:
                report.add(hot_spot_transfers(bench, limits.hot_spot, limits.minimal_hot_spot))
            if "c" in only:
                report.add(batched_transfers(bench))
            if "d" in only:
                report.add(account_reads(bench))
            if "e" in only:
                report.add(transfer_latency(bench, many_accounts.rows))
            if "f" in only:
                report.add(cheap_request_during_registration_storm(bench))
            if "g" in only:
                report.add(memory_over_soak(bench))
            if "h" in only:
                report.add(fairness(bench))
            if "i" in only:
                report.add(deposits)
            # Last: each leaves the server with more to do (monitors on half the accounts).
            if "j" in only:
                report.add(webhooks_beside_transfers(bench))
            if "k" in only:
                report.add(credit_beside_transfers(bench))
        say("ledger: hexbank reconcile over everything the run wrote")
        report.facts["events outbox after the run"] = outbox_after_the_run(database_url)
        report.facts["ledger after the run"] = ledger_after_the_run(
            database_url, folder.log("reconcile")
        )
    return report


def write(report: Report, folder: RunFolder) -> list[Path]:
    """The chart, then the report: a folder with report.md holds a finished run."""
    chart(report, folder.path / CHART)
    (folder.path / REPORT).write_text(markdown(report))
    return [folder.path / REPORT, folder.path / CHART]


def publish_run(root: Path, chosen: str) -> None:
    """Copy a full run (the newest one unless `chosen` names its folder) to bench/results/."""
    folder = (
        RunFolder(Path(chosen).resolve()) if chosen else newest_run(root, "full", (REPORT, CHART))
    )
    if folder is None:
        raise SystemExit(f"no finished full run in {shown(root)}: run `make bench` first")
    if folder.kind != "full":
        raise SystemExit(
            f"{shown(folder.path)} is a {folder.kind} run: only full runs are published"
        )
    missing = [name for name in PUBLISHED if not (folder.path / name).is_file()]
    if missing:
        raise SystemExit(f"{shown(folder.path)} has no {', '.join(missing)}: it did not finish")
    targets = publish({folder.path / name: target for name, target in PUBLISHED.items()})
    say(f"published {shown(folder.path)}:")
    for target in targets:
        say(f"  {shown(target)}")


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.run",
        description="The side-by-side benchmark. Each run writes into its own folder under the "
        "runs directory and prints the paths; --publish copies a full run to bench/results/.",
    )
    parser.add_argument("--quick", action="store_true", help="about a minute, smaller numbers")
    for name in CONTENDERS:
        parser.add_argument(
            f"--{name}-port",
            type=int,
            metavar="PORT",
            help=f"{name}'s port; default: {PORT_ENV[name]}, else a free port",
        )
    parser.add_argument(
        "--runs-dir",
        metavar="DIR",
        help="where run folders go; default: BENCH_RUNS_DIR, else .data/bench/runs",
    )
    parser.add_argument(
        "--publish",
        nargs="?",
        const="",
        metavar="RUN",
        help="run nothing: copy the newest full run (or the run folder RUN) to "
        "bench/results/latest.md and latest.png",
    )
    parser.add_argument(
        "--only",
        metavar="LETTERS",
        help="run only these scenarios, e.g. `ac` (e and i bring a); a run with --only is "
        "never published",
    )
    args = parser.parse_args(argv)
    if args.only is not None and not set(args.only) <= SCENARIOS:
        parser.error(f"--only takes letters of {''.join(sorted(SCENARIOS))}")
    if args.publish is not None and args.only is not None:
        parser.error("--publish runs nothing")
    if args.publish is not None and args.quick:
        parser.error("--publish runs nothing, and only full runs are published")
    return args


def main(argv: list[str] | None = None) -> None:
    # SIGTERM unwinds like Ctrl-C, so servers and the embedded database are stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    args = _arguments(argv)
    root = runs_root(args.runs_dir)
    if args.publish is not None:
        publish_run(root, args.publish)
        return
    profile = QUICK if args.quick else FULL
    ports = choose_ports(
        {name: getattr(args, f"{name.replace('-', '_')}_port") for name in CONTENDERS}
    )
    # A partial run's kind is not `full`, so --publish never picks it.
    folder = new_run(root, profile.name + ("" if args.only is None else f"_{args.only}"))
    log_this_process(folder.log("bench"))
    say(f"hexbank bench, {profile.name} profile, writing to {shown(folder.path)}")
    try:
        only = SCENARIOS if args.only is None else frozenset(args.only)
        report = run(profile, ports, folder, only | ({"a"} if only & NEEDS_A else set()))
        written = write(report, folder)
    except Exception as error:
        logging.getLogger("bench").exception("the run failed")
        say(f"failed: {error}")
        say(
            f"traceback in {shown(folder.log('bench'))}; every process's output in {shown(folder.logs)}"
        )
        raise SystemExit(1) from None
    met = sum(check.met for check in report.checks)
    say(f"targets met: {met} of {len(report.checks)}")
    for check in report.checks:
        say(f"  {'met    ' if check.met else 'NOT met'}  {check.target}: {check.measured}")
    say("written:")
    for path in [*written, folder.logs]:
        say(f"  {shown(path)}")
    if profile is FULL and args.only is None:
        say(
            "to publish it as bench/results/latest.md and latest.png: python -m bench.run --publish"
        )


if __name__ == "__main__":
    main()
