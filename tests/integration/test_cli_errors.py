"""What an operator sees when the configuration is wrong: one line naming what to fix, exit
status 2, no traceback, no password, nothing left running."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.fakes import TEST_SECRET
from tests.ports import free_port

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "s3cret-pw-never-shown"


def run_cli(
    *args: str, env: dict[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("HEXBANK_", "DATABASE_URL"))}
    return subprocess.run(
        [sys.executable, "-m", "entrypoints.cli", *args],
        env={**clean, "HEXBANK_LOG_FORMAT": "json", **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def assert_one_line(result: subprocess.CompletedProcess[str], *expected: str) -> str:
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert PASSWORD not in result.stderr + result.stdout
    for text in expected:
        assert text in lines[0], lines[0]
    return lines[0]


def url_with(database_url: str, **parts: object) -> str:
    url = make_url(database_url)
    if "host" in parts:  # a unix-socket URL (the embedded server) names its host in the query
        url = url.set(query={})
    return url.set(**parts).render_as_string(hide_password=False)  # type: ignore[arg-type]


def test_a_shared_database_without_a_jwt_secret(database_url: str, tmp_path: Path) -> None:
    result = run_cli("serve", env={"DATABASE_URL": database_url, "HEXBANK_DATA_DIR": str(tmp_path)})
    assert_one_line(result, "HEXBANK_JWT_SECRET")


@pytest.mark.parametrize(
    ("command", "change", "expected"),
    [
        ("serve", {"host": "127.0.0.1", "port": 1}, ["127.0.0.1:1", "running"]),
        ("reconcile", {"host": "127.0.0.1", "port": 1}, ["127.0.0.1:1", "running"]),
        ("migrate", {"host": "no-such-host.invalid"}, ["no-such-host.invalid", "resolve"]),
        ("migrate", {"database": "no_such_database"}, ["no_such_database", "does not exist"]),
        ("migrate", {"username": "no_such_role", "password": PASSWORD}, ["no_such_role"]),
    ],
)
def test_an_unusable_database_is_one_line(
    database_url: str, tmp_path: Path, command: str, change: dict[str, object], expected: list[str]
) -> None:
    env = {
        "DATABASE_URL": url_with(database_url, **change),
        "HEXBANK_JWT_SECRET": TEST_SECRET,
        "HEXBANK_DATA_DIR": str(tmp_path),
        "HEXBANK_DB_CONNECT_TIMEOUT_S": "3",
    }
    assert_one_line(run_cli(command, env=env), *expected)


def test_a_url_that_is_not_postgresql(tmp_path: Path) -> None:
    env = {
        "DATABASE_URL": f"mysql://root:{PASSWORD}@localhost/db",
        "HEXBANK_DATA_DIR": str(tmp_path),
    }
    assert_one_line(run_cli("migrate", env=env), "DATABASE_URL", "not PostgreSQL")


def test_the_plain_postgresql_form_is_accepted(database_url: str, tmp_path: Path) -> None:
    plain = url_with(database_url, drivername="postgresql")
    env = {
        "DATABASE_URL": plain,
        "HEXBANK_JWT_SECRET": TEST_SECRET,
        "HEXBANK_DATA_DIR": str(tmp_path),
    }
    migrated = run_cli("migrate", env=env)
    assert migrated.returncode == 0, migrated.stderr
    reconciled = run_cli("reconcile", env=env)
    assert reconciled.returncode == 0, reconciled.stderr
    assert "the ledger balances" in reconciled.stdout


def test_an_interrupted_first_start_leaves_nothing_half_made(tmp_path: Path) -> None:
    """Ctrl-C while initdb runs: the terminal signals the whole process group."""
    env = {"HEXBANK_DATA_DIR": str(tmp_path)}
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("HEXBANK_", "DATABASE_URL"))}
    first = subprocess.Popen(
        [sys.executable, "-m", "entrypoints.cli", "migrate"],
        env={**clean, **env},
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    aside = tmp_path / "pg.initializing"
    deadline = time.monotonic() + 30
    while not aside.exists() and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert aside.exists(), "initdb never began"
    os.killpg(first.pid, signal.SIGINT)
    first.wait(timeout=30)
    # The terminal's Ctrl-C ends the whole group; whatever initdb left behind is the next
    # start's to clean up (it may even still be running: the next start stops it).
    assert not (tmp_path / "pg").exists() or (tmp_path / "pg" / "PG_VERSION").exists()

    again = run_cli("migrate", env=env)
    assert again.returncode == 0, again.stderr
    reconciled = run_cli("reconcile", env=env)
    assert reconciled.returncode == 0, reconciled.stderr
    assert not aside.exists()


def test_metrics_open_to_others_without_a_token(database_url: str, tmp_path: Path) -> None:
    env = {
        "DATABASE_URL": database_url,
        "HEXBANK_JWT_SECRET": TEST_SECRET,
        "HEXBANK_DATA_DIR": str(tmp_path),
        "HEXBANK_METRICS_HOST": "0.0.0.0",  # noqa: S104
    }
    assert_one_line(run_cli("serve", env=env), "HEXBANK_METRICS_TOKEN", env["HEXBANK_METRICS_HOST"])


def test_a_metrics_port_that_is_taken(database_url: str, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        env = {
            "DATABASE_URL": database_url,
            "HEXBANK_JWT_SECRET": TEST_SECRET,
            "HEXBANK_DATA_DIR": str(tmp_path),
            "HEXBANK_METRICS_PORT": str(taken.getsockname()[1]),
            "PORT": str(free_port()),
            "HEXBANK_LOG_LEVEL": "warning",
            "HEXBANK_EVENTS": "off",
        }
        assert_one_line(run_cli("serve", env=env), "HEXBANK_METRICS_PORT", "in use")
