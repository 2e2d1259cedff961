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

from tests.fakes import TEST_SECRET, TEST_STATEMENT_KEY
from tests.integration.test_processes import answers_ready
from tests.ports import free_port
from tests.waiting import wait_until

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


def test_a_shared_database_without_a_statement_signing_key(
    database_url: str, tmp_path: Path
) -> None:
    env = {
        "DATABASE_URL": database_url,
        "HEXBANK_JWT_SECRET": TEST_SECRET,
        "HEXBANK_DATA_DIR": str(tmp_path),
    }
    assert_one_line(run_cli("serve", env=env), "HEXBANK_STATEMENT_SIGNING_KEY")


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
        "HEXBANK_STATEMENT_SIGNING_KEY": TEST_STATEMENT_KEY,
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
        "HEXBANK_STATEMENT_SIGNING_KEY": TEST_STATEMENT_KEY,
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


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("HEXBANK_DB_POOL_SIZE", "-1", "1 <= value <= 1000"),
        ("HEXBANK_DB_POOL_SIZE", "0", "1 <= value <= 1000"),
        ("HEXBANK_JWT_LIFETIME_S", "-1", "1 <= value <= 31536000"),
        ("HEXBANK_DB_POOL_TIMEOUT_S", "-5", "0 < value <= 600"),
        ("HEXBANK_NATS_PORT", "70000", "1 <= value <= 65535"),
        ("PORT", "abc", "1 <= value <= 65535"),
    ],
)
def test_an_impossible_setting_is_one_line_before_anything_starts(
    tmp_path: Path, variable: str, value: str, expected: str
) -> None:
    result = run_cli("serve", env={"HEXBANK_DATA_DIR": str(tmp_path / "data"), variable: value})
    assert_one_line(result, f"{variable}={value}", expected)
    assert not (tmp_path / "data").exists()  # no database, no broker, not even the folder


@pytest.mark.parametrize(
    ("variable", "expected"), [("HEXBANK_DATABASE_URL", "HEXBANK_DATABASE_URL: mysql://")]
)
def test_an_aliased_setting_is_named_once_prefixed(
    tmp_path: Path, variable: str, expected: str
) -> None:
    env = {"HEXBANK_DATA_DIR": str(tmp_path), variable: f"mysql://root:{PASSWORD}@h/db"}
    line = assert_one_line(run_cli("migrate", env=env), expected)
    assert "HEXBANK_HEXBANK" not in line


def listening(port: int) -> socket.socket:
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen()
    return listener


def test_an_unknown_variable_is_one_warning_naming_the_closest_setting(tmp_path: Path) -> None:
    port = free_port()
    with listening(port):  # then serve stops at once, after the warning
        result = run_cli(
            "serve",
            env={"HEXBANK_DATA_DIR": str(tmp_path), "PORT": str(port), "HEXBANK_POOL_SIZE": "5"},
        )
    assert result.returncode == 2, result.stderr
    warning, error = result.stderr.splitlines()
    assert "HEXBANK_POOL_SIZE" in warning
    assert "did you mean HEXBANK_DB_POOL_SIZE?" in warning
    assert f"127.0.0.1:{port} is in use" in error


def test_a_port_in_use_is_one_line_before_anything_starts(tmp_path: Path) -> None:
    port = free_port()
    with listening(port):
        result = run_cli("serve", env={"HEXBANK_DATA_DIR": str(tmp_path), "PORT": str(port)})
    assert_one_line(result, f"127.0.0.1:{port} is in use", "PORT")
    assert not (tmp_path / "pg").exists()


def test_a_pinned_nats_port_in_use_is_one_line_before_anything_starts(tmp_path: Path) -> None:
    nats_port = free_port()
    with listening(nats_port):
        result = run_cli(
            "serve",
            env={
                "HEXBANK_DATA_DIR": str(tmp_path),
                "PORT": str(free_port()),
                "HEXBANK_NATS_PORT": str(nats_port),
            },
        )
    assert_one_line(result, f"HEXBANK_NATS_PORT={nats_port}", "in use")
    assert not (tmp_path / "pg").exists()


def test_a_data_directory_in_use_is_one_line_for_a_second_serve_and_a_relay(
    outside_pytest_tmp: Path,
) -> None:
    """A second `make run` in the same checkout (on another port), or `hexbank relay` beside
    it: the embedded NATS store belongs to the first."""
    tmp_path = outside_pytest_tmp
    data, port = tmp_path / "data", free_port()
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("HEXBANK_", "DATABASE_URL"))}
    log = tmp_path / "first.log"
    with log.open("wb") as output:
        first = subprocess.Popen(
            [sys.executable, "-m", "entrypoints.cli", "serve"],
            env={**clean, "HEXBANK_DATA_DIR": str(data), "PORT": str(port)},
            cwd=ROOT,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until(
            lambda: answers_ready(first, f"http://127.0.0.1:{port}"),
            lambda: f"the first serve to be ready:\n{log.read_text()[-3000:]}",
            within_s=60,
        )
        env = {"HEXBANK_DATA_DIR": str(data), "PORT": str(free_port())}
        for command in ("serve", "relay"):
            assert_one_line(run_cli(command, env=env), f"in use by process {first.pid}")
        assert answers_ready(first, f"http://127.0.0.1:{port}")  # the first one is untouched
    finally:
        first.send_signal(signal.SIGTERM)
        first.wait(timeout=30)


def test_metrics_open_to_others_without_a_token(database_url: str, tmp_path: Path) -> None:
    env = {
        "DATABASE_URL": database_url,
        "HEXBANK_JWT_SECRET": TEST_SECRET,
        "HEXBANK_STATEMENT_SIGNING_KEY": TEST_STATEMENT_KEY,
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
            "HEXBANK_STATEMENT_SIGNING_KEY": TEST_STATEMENT_KEY,
            "HEXBANK_DATA_DIR": str(tmp_path),
            "HEXBANK_METRICS_PORT": str(taken.getsockname()[1]),
            "PORT": str(free_port()),
            "HEXBANK_LOG_LEVEL": "warning",
            "HEXBANK_EVENTS": "off",
        }
        assert_one_line(run_cli("serve", env=env), "HEXBANK_METRICS_PORT", "in use")
