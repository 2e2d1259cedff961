"""hexbank's wheel runs anywhere: built from the sources, installed into a fresh virtualenv
outside the checkout, it migrates a fresh database and serves it (its migrations travel inside
the wheel; no pyproject.toml or alembic.ini is looked for)."""

from __future__ import annotations

import asyncio
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from adapters.sqlalchemy import migrations
from tests.integration.test_processes import answers_ready, serve_env
from tests.ports import free_port
from tests.postgres import app_facing, create_database, drop_database, unique_name, with_database
from tests.waiting import wait_until

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("pyproject.toml", "README.md", "domain", "application", "adapters", "entrypoints")
"""What the wheel is built from, besides the migrations: the project's own layout."""
PIP_TIMEOUT_S = 900
"""Generous: one pip run downloads and installs every runtime dependency on a shared machine."""
OFFLINE = re.compile(
    r"NewConnectionError|ConnectTimeoutError|Failed to establish a new connection"
    r"|Temporary failure in name resolution|Network is unreachable"
)
"""What pip prints when no index can be reached: then the test cannot run here, it did not
fail."""


def pip(venv: Path, *args: str) -> None:
    """One pip run in the new virtualenv; skip (one line) when the network is missing."""
    done = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "--disable-pip-version-check", *args],
        capture_output=True,
        text=True,
        timeout=PIP_TIMEOUT_S,
    )
    if done.returncode != 0:
        output = done.stdout + done.stderr
        if OFFLINE.search(output):
            pytest.skip(f"pip {args[0]} needs a package index, and none answers here")
        raise AssertionError(f"pip {args[0]} failed:\n{output[-4000:]}")


def installed_hexbank(outside: Path) -> Path:
    """A virtualenv holding the wheel built from this checkout and the runtime lock, no more.

    The wheel is built from a copy of the sources, so the build leaves no build/ or egg-info
    behind in the checkout."""
    sources = outside / "sources"
    sources.mkdir()
    for name in (*SOURCES, "migrations"):
        if (ROOT / name).is_dir():
            shutil.copytree(
                ROOT / name, sources / name, ignore=shutil.ignore_patterns("__pycache__")
            )
        else:
            shutil.copy2(ROOT / name, sources / name)
    venv = outside / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    wheels = outside / "wheels"
    pip(venv, "wheel", "--quiet", "--no-deps", "--wheel-dir", str(wheels), str(sources))
    (wheel,) = wheels.glob("hexbank-*.whl")
    requirements = str(ROOT / "requirements.lock")
    pip(venv, "install", "--quiet", "--no-compile", "--requirement", requirements, str(wheel))
    return venv


def outside_env(database_url: str, data_dir: Path) -> dict[str, str]:
    """serve_env without anything that could lead Python back to the checkout."""
    env = serve_env(database_url, data_dir)
    for name in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME", "PYTHONSTARTUP"):
        env.pop(name, None)
    return env


@contextmanager
def fresh_database(postgres_url: str) -> Iterator[str]:
    """An empty database (not copied from the migrated template): the wheel migrates it."""
    name = unique_name("hexbank_wheel")
    asyncio.run(create_database(postgres_url, name))
    try:
        yield app_facing(with_database(postgres_url, name))
    finally:
        asyncio.run(drop_database(postgres_url, name))


@contextmanager
def serving(hexbank: Path, env: dict[str, str], cwd: Path) -> Iterator[str]:
    """`hexbank serve` from the virtualenv on a free port, stopped (SIGTERM) whatever happens."""
    port = free_port()
    process = subprocess.Popen([str(hexbank), "serve", "--port", str(port)], env=env, cwd=cwd)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(
            lambda: answers_ready(process, base),
            f"the installed `hexbank serve` to be ready on {base}",
            within_s=120,
        )
        yield base
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    assert process.returncode == 0, f"SIGTERM ended the server with {process.returncode}"


def test_the_wheel_installed_outside_the_checkout_migrates_and_serves(
    postgres_url: str, tmp_path: Path
) -> None:
    assert not tmp_path.resolve().is_relative_to(ROOT)
    venv = installed_hexbank(tmp_path)
    elsewhere = tmp_path / "elsewhere"  # the processes' working folder, and their data folder
    elsewhere.mkdir()

    with fresh_database(postgres_url) as url:
        env = outside_env(url, elsewhere)
        found = subprocess.run(
            [str(venv / "bin" / "python"), "-c", "import migrations; print(migrations.__file__)"],
            env=env,
            cwd=elsewhere,
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout.strip()
        assert Path(found).is_relative_to(venv), f"the migrations came from {found}"

        migrated = subprocess.run(
            [str(venv / "bin" / "hexbank"), "migrate"],
            env=env,
            cwd=elsewhere,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert migrated.returncode == 0, migrated.stderr
        applied, at_head = migrated.stdout.splitlines()
        head = migrations.head_revision()  # the checkout's newest: the wheel carries them all
        assert applied.startswith("applied "), migrated.stdout
        revisions = applied.split(": ", 1)[1].split(", ")
        assert (revisions[0], revisions[-1]) == ("0001", head), applied
        assert at_head == f"the database is at migration {head}, the newest"

        with (
            serving(venv / "bin" / "hexbank", env, elsewhere) as base,
            httpx.Client(base_url=base, timeout=30) as http,
        ):
            registered = http.post(
                "/api/v1/users",
                json={"email": "ada@example.com", "password": "password1", "full_name": "Ada"},
            )
            assert registered.status_code == 201, registered.text
            token = http.post(
                "/api/v1/auth/token",
                data={
                    "grant_type": "password",
                    "username": "ada@example.com",
                    "password": "password1",
                },
            )
            assert token.status_code == 200, token.text
            auth = {"Authorization": f"Bearer {token.json()['access_token']}"}
            opened = [
                http.post("/api/v1/accounts", json={"currency": "EUR"}, headers=auth)
                for _ in range(2)
            ]
            assert [answer.status_code for answer in opened] == [201, 201]
            payer, payee = (answer.json()["id"] for answer in opened)
            deposited = http.post(
                f"/api/v1/accounts/{payer}/deposits",
                json={"amount": 10_000},
                headers={**auth, "Idempotency-Key": "wheel-deposit"},
            )
            assert deposited.status_code == 201, deposited.text
            transferred = http.post(
                "/api/v1/transfers",
                json={
                    "from_account_id": payer,
                    "to_account_id": payee,
                    "amount": 2_500,
                    "currency": "EUR",
                    "description": "rent",
                },
                headers={**auth, "Idempotency-Key": "wheel-rent"},
            )
            assert transferred.status_code == 201, transferred.text
            balances = [
                http.get(f"/api/v1/accounts/{account}", headers=auth).json()["balance"]
                for account in (payer, payee)
            ]
            assert balances == [7_500, 2_500]
