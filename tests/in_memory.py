"""The app on the in-memory adapters: the real container, its storage providers overridden.

A test names its in-memory database by a URL, as it names a PostgreSQL one: every app and
container built for that URL share one store (two instances of the service, a container a
test drives beside the app). The URL's server is port 1 of loopback, where nothing listens:
the settings need a PostgreSQL URL, and should anything try to reach it, it fails at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from dependency_injector import providers

from adapters.http_webhooks import SystemHostResolver
from adapters.in_memory.attempt_limiter import InMemoryAttemptLimiter
from adapters.in_memory.reconciliation import InMemoryLedgerReconciliation
from adapters.in_memory.storage import InMemoryStorage
from adapters.in_memory.unit_of_work import InMemoryUnitOfWork
from adapters.in_memory.webhooks import RecordingWebhookTransport, StaticHostResolver
from application.throttle import Throttle
from entrypoints.container import Container, build_container, throttle_policies
from entrypoints.settings import Settings
from tests.postgres import unique_name


@dataclass
class InMemoryDatabase:
    """What a PostgreSQL database holds for the app: the books and the attempt counts."""

    storage: InMemoryStorage = field(default_factory=InMemoryStorage)
    limiter: InMemoryAttemptLimiter = field(default_factory=InMemoryAttemptLimiter)


class AlwaysReady:
    """Readiness of a store that lives in the process: it answers while the process does."""

    async def is_ready(self) -> bool:
        return True


_databases: dict[str, InMemoryDatabase] = {}
PUBLIC_HOSTS = {"hooks.example.com": ["93.184.216.34"]}
"""What the fake resolver answers besides `localhost` (to loopback)."""


@contextmanager
def in_memory_database() -> Iterator[str]:
    """A fresh in-memory database for one test, by its URL; forgotten afterwards."""
    url = f"postgresql+asyncpg://in-memory@127.0.0.1:1/{unique_name('hexbank_memory')}"
    _databases[url] = InMemoryDatabase()
    try:
        yield url
    finally:
        del _databases[url]


def in_memory_container(
    settings: Settings, database_url: str, database: InMemoryDatabase
) -> Container:
    """The composition root with every port that reaches PostgreSQL served from `database`."""
    container = build_container(settings, database_url)
    storage = database.storage
    uow = providers.Factory(InMemoryUnitOfWork, storage)
    # The three kinds of unit of work differ on PostgreSQL only (pool, autocommit, replica).
    container.unit_of_work.override(uow)
    container.read_unit_of_work.override(uow)
    container.report_unit_of_work.override(uow)
    container.ledger_reconciliation.override(
        providers.Singleton(InMemoryLedgerReconciliation, storage)
    )
    container.database_health.override(providers.Singleton(AlwaysReady))
    container.throttle.override(
        providers.Singleton(
            Throttle,
            limiter=providers.Object(database.limiter),
            clock=container.clock,
            policies=providers.Factory(throttle_policies, settings=container.settings),
        )
    )
    # No DNS and no network: one public name, and every POST answered 200 and kept.
    container.host_resolver.override(providers.Singleton(StaticHostResolver, PUBLIC_HOSTS))
    container.webhook_transport.override(providers.Singleton(RecordingWebhookTransport))
    return container


class PublicNamesThenSystem(SystemHostResolver):
    """The tests' public names from the table (this machine has no DNS beyond itself), every
    other name from the system resolver, so `localhost` really resolves to loopback."""

    async def resolve(self, host: str, port: int) -> list[str]:
        if host.lower() in PUBLIC_HOSTS:
            return list(PUBLIC_HOSTS[host.lower()])
        return await super().resolve(host, port)


def container_for(settings: Settings, database_url: str) -> Container:
    """The container a test's app runs on: on the in-memory database `database_url` names,
    if it names one, else on PostgreSQL."""
    database = _databases.get(database_url)
    if database is None:
        container = build_container(settings, database_url)
        container.host_resolver.override(providers.Singleton(PublicNamesThenSystem))
        return container
    return in_memory_container(settings, database_url, database)
