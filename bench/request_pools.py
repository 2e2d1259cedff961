"""Pools of pre-rendered requests the load generator replays: transfers, deposits, batches of
transfers, account reads and registrations, built from the seeded accounts with a seeded random generator."""

from __future__ import annotations

import json
import random
import secrets
import uuid

from bench.load import Request
from bench.seed import BenchAccount


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


def deposit_requests(
    accounts: list[BenchAccount], count: int, path: str, rng: random.Random
) -> list[Request]:
    """Deposits of 1..100 into accounts at random, each sent with its owner's token (a user
    deposits into their own accounts); `path` has one `{}` for the account id."""
    requests = []
    for _ in range(count):
        account = rng.choice(accounts)
        body = json.dumps({"amount": rng.randint(1, 100)}).encode()
        headers = {"Authorization": f"Bearer {account.token}"}
        requests.append(Request("POST", path.format(account.id), body, headers))
    return requests


def batch_requests(
    accounts: list[BenchAccount], batches: int, size: int, path: str, rng: random.Random
) -> list[Request]:
    """`batches` non-atomic batches of `size` transfers. A batch may only move money from its
    caller's accounts, so each is one user's (users in turn), sent with that user's token;
    destinations are any other account. Amounts of 1..100 from balances seeded at 10**9 keep
    every item accepted, so a 2xx batch made `size` transfers."""
    by_owner: dict[uuid.UUID, list[BenchAccount]] = {}
    for account in accounts:
        by_owner.setdefault(account.owner_id, []).append(account)
    owners = list(by_owner.values())
    requests = []
    for n in range(batches):
        own = owners[n % len(owners)]
        items = []
        for _ in range(size):
            source = rng.choice(own)
            destination = rng.choice(accounts)
            while destination.id == source.id:
                destination = rng.choice(accounts)
            items.append(
                {
                    "from_account_id": str(source.id),
                    "to_account_id": str(destination.id),
                    "amount": rng.randint(1, 100),
                    "currency": "EUR",
                }
            )
        body = json.dumps({"transfers": items, "atomic": False}).encode()
        requests.append(Request("POST", path, body, {"Authorization": f"Bearer {own[0].token}"}))
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
    """New users only: the run's random tag keeps every email unseen."""
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
