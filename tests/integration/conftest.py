"""Fixtures of the integration tests that start `hexbank` processes."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def outside_pytest_tmp() -> Iterator[Path]:
    """A data folder outside /tmp/pytest-of-root: pgserver runs PostgreSQL as another user
    (we are root) and opens the path's folders to it, but any pytest session starting on
    the machine closes pytest-of-root to its owner again, in the middle of an initdb."""
    folder = Path(tempfile.mkdtemp(prefix="hexbank-test-signals-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)
