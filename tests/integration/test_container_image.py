"""deploy/Containerfile built and run with podman: the image serves, its HEALTHCHECK passes, it
runs as uid 10001, and SIGTERM stops it with status 0.

No registry is reachable here, so the base image must already be in podman's storage
(`.ci/stand-in-python-image` builds a stand-in from Debian's packages); otherwise this is
skipped. The build reaches PyPI as this machine does: the host's network, and its pip
configuration and CA bundle when it has them (a proxy may sit between it and PyPI)."""

from __future__ import annotations

import resource
import shutil
import subprocess
import uuid
from pathlib import Path

import httpx
import pytest

from tests.ports import free_port
from tests.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]
BASE = "docker.io/library/python:3.11-slim-bookworm"
IMAGE = "localhost/hexbank:test"


def limits() -> list[str]:
    """podman's default limits (1048576 open files, 4194304 processes) are above what a
    process may set here without CAP_SYS_RESOURCE, and runc then fails every container with
    `setrlimit ... operation not permitted`: ask for what this process has instead."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    return [f"--ulimit=nofile={soft}:{hard}", "--ulimit=nproc=32768:32768"]


def podman(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    executable = shutil.which("podman")
    if executable is None:
        pytest.skip("podman is not installed (.ci/run installs it)")
    return subprocess.run(
        [executable, *args], capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.fixture(scope="module")
def image() -> str:
    if podman("image", "exists", BASE).returncode != 0:
        pytest.skip(f"{BASE} is not in podman's storage (.ci/stand-in-python-image builds one)")
    mounts = [
        f"--volume={path}:{path}:ro"
        for path in ("/etc/pip.conf", "/etc/ssl/certs/ca-certificates.crt")
        if Path(path).is_file()
    ]
    built = podman(
        "build", "--format=docker", "--network=host", *limits(), *mounts,
        "--file=deploy/Containerfile", f"--tag={IMAGE}", str(ROOT),
        timeout=1200,
    )  # fmt: skip
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    return IMAGE


def test_the_image_serves_passes_its_healthcheck_runs_unprivileged_and_stops_cleanly(
    image: str,
) -> None:
    port = free_port()
    name = f"hexbank-test-{uuid.uuid4().hex[:8]}"
    started = podman(
        "run", "--detach", f"--name={name}", "--network=host", *limits(),
        f"--env=PORT={port}", image,
    )  # fmt: skip
    assert started.returncode == 0, started.stderr
    base = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        state = podman("inspect", "--format={{.State.Running}}", name).stdout.strip()
        assert state == "true", podman("logs", name).stderr[-3000:]
        try:
            return httpx.get(f"{base}/health/ready", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    try:
        wait_until(ready, f"the container to answer {base}/health/ready", within_s=120)
        health = podman("healthcheck", "run", name)
        assert health.returncode == 0, health.stdout + health.stderr
        assert podman("exec", name, "id", "-u").stdout.strip() == "10001"
        reconciled = podman("exec", name, "hexbank", "reconcile")
        assert reconciled.returncode == 0, reconciled.stderr
        assert "the ledger balances" in reconciled.stdout
        stopped = podman("stop", "--time=30", name, timeout=60)
        assert stopped.returncode == 0, stopped.stderr
        status = podman("inspect", "--format={{.State.ExitCode}}", name).stdout.strip()
        assert status == "0", podman("logs", name).stderr[-3000:]
    finally:
        podman("rm", "--force", "--volumes", name)
