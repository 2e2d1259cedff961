"""The deployment files, checked with what this machine has: the systemd unit by
`systemd-analyze verify`, the compose file by `docker-compose config` (its schema and its
variables), the Containerfile by hadolint and by reading it. No container runs here."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.fakes import TEST_STATEMENT_KEY

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
VENV_BIN = Path(sys.executable).parent


def tool(name: str) -> str:
    found = shutil.which(name, path=os.pathsep.join([str(VENV_BIN), os.environ.get("PATH", "")]))
    if found is None:
        pytest.skip(f"{name} is not installed (.ci/run installs it)")
    return found


def verify_unit(unit: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [tool("systemd-analyze"), "verify", str(unit)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def installed_here(tmp_path: Path, text: str) -> Path:
    """The unit as if the checkout were /opt/hexbank: verify checks that ExecStart exists."""
    venv = Path(sys.prefix)
    unit = tmp_path / "hexbank.service"
    unit.write_text(
        text.replace("/opt/hexbank/.venv", str(venv)).replace("/opt/hexbank", str(ROOT))
    )
    return unit


def test_the_systemd_unit_verifies_without_a_warning(tmp_path: Path) -> None:
    text = (DEPLOY / "hexbank.service").read_text()
    assert "ExecStart=/opt/hexbank/.venv/bin/hexbank serve" in text
    result = verify_unit(installed_here(tmp_path, text))
    assert result.returncode == 0, result.stderr
    assert result.stdout + result.stderr == ""


def test_verify_does_report_a_broken_unit_here(tmp_path: Path) -> None:
    """So the test above proves something on this machine: a bad line is reported."""
    text = (
        (DEPLOY / "hexbank.service").read_text().replace("Restart=on-failure", "Restart=sometimes")
    )
    result = verify_unit(installed_here(tmp_path, text))
    assert "sometimes" in result.stdout + result.stderr


def compose_config(env_file: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [tool("docker-compose"), "--env-file", str(env_file), "-f", "compose.yaml", "config"],
        cwd=DEPLOY,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_compose_file_is_valid_and_wires_postgres_and_jetstream(tmp_path: Path) -> None:
    env = tmp_path / "compose.env"
    env.write_text(
        "POSTGRES_PASSWORD=pw-for-the-test\nHEXBANK_JWT_SECRET="
        + "s" * 48
        + "\nHEXBANK_STATEMENT_SIGNING_KEY="
        + TEST_STATEMENT_KEY
        + "\n"
    )
    result = compose_config(env)
    assert result.returncode == 0, result.stderr
    config = yaml.safe_load(result.stdout)
    services = config["services"]
    assert set(services) == {"hexbank", "postgres", "nats"}
    hexbank = services["hexbank"]
    assert hexbank["build"]["context"] == str(ROOT)
    assert hexbank["build"]["dockerfile"] == "deploy/Containerfile"
    environment = hexbank["environment"]
    assert (
        environment["DATABASE_URL"] == "postgresql://hexbank:pw-for-the-test@postgres:5432/hexbank"
    )
    assert environment["HEXBANK_NATS_URL"] == "nats://nats:4222"
    assert {name: dep["condition"] for name, dep in hexbank["depends_on"].items()} == {
        "postgres": "service_healthy",
        "nats": "service_healthy",
    }
    assert "--jetstream" in services["nats"]["command"]
    assert hexbank["ports"] == ["127.0.0.1:8000:8000/tcp"]  # the API on this host's loopback only


def test_the_compose_file_refuses_to_start_without_its_secrets(tmp_path: Path) -> None:
    empty = tmp_path / "empty.env"
    empty.write_text("")
    result = compose_config(empty)
    assert result.returncode != 0
    assert "POSTGRES_PASSWORD" in result.stderr or "HEXBANK_JWT_SECRET" in result.stderr


def test_the_containerfile_passes_hadolint() -> None:
    result = subprocess.run(
        [tool("hadolint"), str(DEPLOY / "Containerfile")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_containerfile_is_multi_stage_non_root_runtime_only_with_a_healthcheck() -> None:
    text = (DEPLOY / "Containerfile").read_text()
    instructions = [line for line in text.splitlines() if line and not line.startswith("#")]
    stages = [line for line in instructions if line.startswith("FROM ")]
    assert len(stages) >= 2, "multi-stage: the build tools stay in the build stage"
    final = text[text.rindex("\nFROM ") :]
    users = re.findall(r"^USER (\S+)", final, re.MULTILINE)
    assert users, "the final stage sets a USER"
    assert users[-1].split(":")[0] not in {"0", "root"}
    assert "requirements.lock" in text
    assert "requirements-dev.lock" not in text
    assert "[dev" not in text
    healthcheck = re.search(r"^HEALTHCHECK .*?(?<!\\)$", final, re.MULTILINE | re.DOTALL)
    assert healthcheck, "the final stage has a HEALTHCHECK"
    assert "/health/ready" in healthcheck.group(0)
    assert "curl" not in healthcheck.group(0)
    assert "wget" not in healthcheck.group(0)
