"""PgBouncer in transaction pooling mode in front of PostgreSQL: the HTTP and concurrency
tests run again through it. Skipped, saying why, where no pgbouncer binary is installed
(.ci/run installs Debian's package)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.ports import free_port

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def _target(server_url: str) -> tuple[str, str]:
    """pgbouncer's `host=... port=...` for the session's server, and the user to run as."""
    url = make_url(server_url)
    if socket_dir := url.query.get("host"):
        return f"host={socket_dir} port={url.port or 5432}", "pgserver"
    return f"host={url.host or '127.0.0.1'} port={url.port or 5432}", "nobody"


def test_http_and_concurrency_suites_pass_through_pgbouncer(postgres_url: str) -> None:
    binary = shutil.which("pgbouncer") or next(
        (p for p in ("/usr/sbin/pgbouncer", "/usr/bin/pgbouncer") if os.path.exists(p)), None
    )
    if binary is None:
        pytest.skip(
            "pgbouncer is not installed (Debian: apt-get install pgbouncer); .ci/run installs it"
        )
    if os.environ.get("TEST_PGBOUNCER"):
        pytest.skip("already running through PgBouncer")
    target, run_as = _target(postgres_url)
    port = free_port()
    user = make_url(postgres_url).username or "postgres"
    folder = Path(tempfile.mkdtemp(prefix="hexbank-pgbouncer-"))
    folder.chmod(0o755)
    (folder / "users.txt").write_text(f'"{user}" ""\n')
    (folder / "pgbouncer.ini").write_text(
        f"""[databases]
* = {target}
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {folder}/users.txt
pool_mode = transaction
max_client_conn = 1000
default_pool_size = 40
ignore_startup_parameters = extra_float_digits
logfile = {folder}/pgbouncer.log
pidfile = {folder}/pgbouncer.pid
"""
    )
    command = [binary, str(folder / "pgbouncer.ini")]
    if os.geteuid() == 0:  # PgBouncer refuses to run as root; it writes its log and pid here
        for item in (folder, *folder.iterdir()):
            shutil.chown(item, user=run_as)
        command = [binary, "-u", run_as, str(folder / "pgbouncer.ini")]
    bouncer = subprocess.Popen(command)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                assert bouncer.poll() is None, (folder / "pgbouncer.log").read_text()
                assert time.monotonic() < deadline, "pgbouncer did not start"
                time.sleep(0.1)
        env = {
            **os.environ,
            "TEST_DATABASE_URL": postgres_url,
            "TEST_PGBOUNCER": f"127.0.0.1:{port}",
            "HEXBANK_DB_PGBOUNCER": "true",
        }
        inner = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "-q",
                "-p",
                "no:cacheprovider",
                "tests/http",
                "--http-backend=postgres",  # every HTTP test, not only the ones marked postgres
                "tests/integration/test_concurrency.py",
            ],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert inner.returncode == 0, inner.stdout[-6000:] + inner.stderr[-3000:]
        assert " passed" in inner.stdout
    finally:
        bouncer.send_signal(signal.SIGTERM)
        bouncer.wait(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)
