from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from httpx import ASGITransport, AsyncClient

from adapters.sqlalchemy import migrations
from entrypoints.app import create_app
from entrypoints.container import Container
from entrypoints.settings import Settings
from tests.fakes import TEST_SECRET, TEST_STATEMENT_KEY, InMemoryBank
from tests.in_memory import container_for
from tests.postgres import (
    app_facing,
    create_database,
    drop_database,
    postgres_server,
    unique_name,
    with_database,
)

# The suite's apps and `hexbank` processes write events to the outbox but deliver none, unless
# a test says otherwise: no broker is started behind every test.
os.environ.setdefault("HEXBANK_EVENTS", "off")
# Every `hexbank serve` a test starts listens for /metrics on a port of the OS's choosing, so
# servers started side by side (or by other runs on the machine) never contend for the
# default one; a test that scrapes names its own port.
os.environ.setdefault("HEXBANK_METRICS_PORT", "0")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--no-postgres",
        action="store_true",
        help="fail any test that asks for PostgreSQL (make test-fast: no database at all)",
    )
    parser.addoption(
        "--http-backend",
        choices=("in_memory", "postgres"),
        default="in_memory",
        help="what tests/http runs on, besides the tests marked postgres (default: in_memory)",
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that needs the PostgreSQL server or the NATS one (through any fixture) is
    marked `postgres` or `nats`, so `-m "not postgres"` leaves it out without anyone having
    to remember to mark it."""
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        if "postgres_url" in fixtures:
            item.add_marker(pytest.mark.postgres)
        if "nats_server" in fixtures:
            item.add_marker(pytest.mark.nats)


@pytest.fixture
def bank() -> InMemoryBank:
    return InMemoryBank()


# -- real PostgreSQL: one server per session, one fresh database per test ------------------


@pytest.fixture(scope="session")
def postgres_url(request: pytest.FixtureRequest) -> Iterator[str]:
    if request.config.getoption("no_postgres"):
        pytest.fail(
            "this test asks for PostgreSQL under --no-postgres: mark it postgres, "
            "or run it on the in-memory adapters"
        )
    with postgres_server() as url:
        yield url


@pytest.fixture(scope="session")
def template_database(postgres_url: str) -> Iterator[str]:
    """Migrated once; every test's database is a copy of it, so tests cannot see each other."""
    name = unique_name("hexbank_template")
    asyncio.run(create_database(postgres_url, name))
    migrations.upgrade(with_database(postgres_url, name))
    yield name
    asyncio.run(drop_database(postgres_url, name))


@pytest.fixture
async def postgres_database_url(postgres_url: str, template_database: str) -> AsyncIterator[str]:
    name = unique_name("hexbank_test")
    await create_database(postgres_url, name, template=template_database)
    yield app_facing(with_database(postgres_url, name))
    await drop_database(postgres_url, name)


@pytest.fixture
def database_url(postgres_database_url: str) -> str:
    """The test's database; tests/http serves it from memory unless a test needs PostgreSQL."""
    return postgres_database_url


def make_settings(database_url: str, data_dir: Path, **overrides: object) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "data_dir": data_dir,
        "jwt_secret": TEST_SECRET,
        "statement_signing_key": TEST_STATEMENT_KEY,
        "argon2_time_cost": 1,
        "argon2_memory_kib": 64,
        "argon2_parallelism": 1,
        "db_pool_size": 20,
        "db_max_overflow": 20,
        # The suite registers and logs in from one address all the time; the limits get
        # tests of their own.
        "login_failures_per_client": 10_000,
        "registrations_per_client": 10_000,
        "token_attempts_per_client": 10_000,
        # Tests drive many concurrent requests of one user; the caps get tests of their own.
        "max_in_flight_per_user": 10_000,
        "token_in_flight_per_client": 10_000,
        "token_refusal_delay_s": 0,
        "max_running_per_user": 10_000,
        # Webhook delivery runs where a test starts it (tests/*/test_webhooks*.py).
        "webhooks": "off",
        **overrides,
    }
    # Environment variables still apply below these (e.g. HEXBANK_DB_PGBOUNCER); .env does not.
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(database_url, tmp_path)


@pytest.fixture
async def container(settings: Settings, database_url: str) -> AsyncIterator[Container]:
    container = container_for(settings, database_url)
    await container.init_resources()  # type: ignore[misc]
    yield container
    await container.shutdown_resources()  # type: ignore[misc]


@asynccontextmanager
async def serving(settings: Settings, database_url: str) -> AsyncIterator[AsyncClient]:
    """An HTTP client on the app built by the real container, lifespan included (on the
    in-memory adapters when `database_url` names an in-memory database)."""
    app = create_app(container_for(settings, database_url))
    async with (
        app.router.lifespan_context(app),
        AsyncClient(transport=ASGITransport(app=app), base_url="http://hexbank.test") as client,
    ):
        yield client


@pytest.fixture
async def client(settings: Settings, database_url: str) -> AsyncIterator[AsyncClient]:
    async with serving(settings, database_url) as client:
        yield client
