"""The README's "Try it" block, run as written by bash against `hexbank serve` on a free port
(`PORT`, as a reader would set it), twice: every answer it prints is one line of JSON, and
none is a problem."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tests.integration.test_processes import app_process

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
BASH = shutil.which("bash") or "/bin/bash"


def try_it_block() -> str:
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Try it\n") :]
    found = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    assert found, "README.md's Try it section has no ```sh block"
    return found.group(1)


def test_the_try_it_walkthrough_runs_twice_one_json_answer_per_line(
    database_url: str, tmp_path: Path
) -> None:
    script = try_it_block()
    assert "localhost:8000" not in script
    printing = len(re.findall(r"^curl -s -w '\\n' ", script, re.MULTILINE))
    with app_process(database_url, tmp_path) as (_, base):
        port = base.rsplit(":", 1)[1]
        env = {k: v for k, v in os.environ.items() if k != "BASE"} | {"PORT": port}
        for run in range(2):
            if run:
                time.sleep(1.1)  # the block names its user and keys after the current second
            result = subprocess.run(
                [BASH, "-euo", "pipefail", "-c", script],
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert result.returncode == 0, result.stderr
            assert result.stderr == ""
            answers = result.stdout.splitlines()
            assert len(answers) == printing, result.stdout
            for answer in answers:
                body = json.loads(answer)
                assert not {"type", "title"} <= body.keys(), answer  # not problem+json
