"""Schemathesis's own CLI, black-box, against a real `hexbank serve` process: the same run a
hostile reviewer would make (`st run <url>/openapi.json`), with every check but
`positive_data_acceptance` and every phase, stateful included. No 5xx; every answer matches the
documented schema, status codes, content types and headers (`Allow` on 405 too); schema-invalid
requests are refused. Seeded and bounded, so it is repeatable and takes seconds."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.integration.test_processes import app_process
from tests.postgres import create_database, drop_database, unique_name, with_database

pytestmark = pytest.mark.postgres  # a `hexbank serve` process, which runs on PostgreSQL

MAX_EXAMPLES = 80
SEED = 20_260_101
PHASES = "examples,coverage,fuzzing,stateful"


@pytest.fixture(scope="module")
def served(
    postgres_url: str, template_database: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str]]:
    """A live server with one registered user: (base URL, bearer token)."""
    name = unique_name("hexbank_fuzz")
    asyncio.run(create_database(postgres_url, name, template=template_database))
    data_dir: Path = tmp_path_factory.mktemp("fuzz")
    try:
        with pytest.MonkeyPatch.context() as env:
            # Login throttling has tests of its own; here it would turn most of the token
            # route's cases into 429s and leave the code behind it untested.
            env.setenv("HEXBANK_LOGIN_FAILURES_PER_EMAIL", "1000000")
            env.setenv("HEXBANK_LOGIN_FAILURES_PER_CLIENT", "1000000")
            with app_process(with_database(postgres_url, name), data_dir) as (_, base):
                user = {"email": "fuzz@example.com", "password": "password1", "full_name": "Fuzz"}
                httpx.post(f"{base}/api/v1/users", json=user).raise_for_status()
                token = httpx.post(
                    f"{base}/api/v1/auth/token",
                    data={
                        "grant_type": "password",
                        "username": user["email"],
                        "password": user["password"],
                    },
                )
                token.raise_for_status()
                yield base, token.json()["access_token"]
    finally:
        asyncio.run(drop_database(postgres_url, name))


def st_run(base: str, token: str, workdir: Path) -> subprocess.CompletedProcess[str]:
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "run",
        f"{base}/openapi.json",
        "--header",
        f"Authorization: Bearer {token}",
        "--checks",
        "all",
        # A money API must refuse some schema-valid requests (insufficient funds, an unknown
        # account, a reused idempotency key): those answer 4xx by design.
        "--exclude-checks",
        "positive_data_acceptance",
        "--phases",
        PHASES,
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        str(SEED),
        # No example database: a run replays nothing from an earlier one.
        "--generation-database",
        "none",
        "--workers",
        "1",
        "--request-timeout",
        "10",
        "--no-color",
    ]
    return subprocess.run(
        command, cwd=workdir, capture_output=True, text=True, timeout=600, check=False
    )


def test_schemathesis_cli_finds_no_failure(served: tuple[str, str], tmp_path: Path) -> None:
    base, token = served
    run = st_run(base, token, tmp_path)
    report = run.stdout + run.stderr
    assert run.returncode == 0, f"schemathesis reported failures:\n{report}"
    tested = re.search(r"Tested:\s+(\d+)", report)
    assert tested is not None, report
    # Every documented operation ran: a route that drops out of the run fails here.
    document = httpx.get(f"{base}/openapi.json").json()
    operations = sum(len(methods) for methods in document["paths"].values())
    assert int(tested.group(1)) == operations, report
    for phase in ("Examples", "Coverage", "Fuzzing", "Stateful"):
        assert re.search(rf"✅ {phase}", report), f"phase {phase} did not pass:\n{report}"
