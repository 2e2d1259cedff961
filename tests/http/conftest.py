"""tests/http runs on the in-memory adapters (tests/in_memory.py), through the real app and
container; a test marked `postgres` runs on PostgreSQL, as does every test with
`--http-backend=postgres` (the suite through PgBouncer, or to prove the fakes right)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.in_memory import in_memory_database


def on_postgres(request: pytest.FixtureRequest) -> bool:
    callspec = getattr(request.node, "callspec", None)
    if callspec is not None and "backend" in callspec.params:  # a test run on each store
        return bool(callspec.params["backend"] == "postgres")
    return (
        request.node.get_closest_marker("postgres") is not None
        or request.config.getoption("http_backend") == "postgres"
    )


@pytest.fixture
def database_url(request: pytest.FixtureRequest) -> Iterator[str]:
    if on_postgres(request):
        yield request.getfixturevalue("postgres_database_url")
        return
    with in_memory_database() as url:
        yield url
