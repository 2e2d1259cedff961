"""The `hexbank` command: serving, migrations and operator tools, over the same container
and use cases as the HTTP API (no second path to the database)."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Annotated, NoReturn, TypeVar
from uuid import UUID

import typer
from prometheus_client import CollectorRegistry

from adapters.embedded_postgres import EmbeddedPostgresError
from adapters.sqlalchemy import migrations
from adapters.sqlalchemy.preflight import DatabaseUnusable, check_database
from application.errors import ApplicationError
from application.transfer_requests import TransferRequest
from application.use_cases.register_user import Registration
from domain.errors import DomainError, EmailAlreadyRegistered
from entrypoints import server
from entrypoints.app import create_app
from entrypoints.broker import broker_url
from entrypoints.container import Container, build_container
from entrypoints.database import database_url
from entrypoints.observability.logging import configure_logging
from entrypoints.observability.multiprocess import metrics_shared_by_workers
from entrypoints.observability.relay_metrics import RelayMetrics
from entrypoints.relay import RelayLoop
from entrypoints.settings import ConfigurationError, Settings, load_settings

T = TypeVar("T")
cli = typer.Typer(help="hexbank: accounts, deposits and transfers.", no_args_is_help=True)


CANNOT_RUN = 2
"""Exit status when a command could not do its work at all (bad settings, no database)."""


class _Shutdown(Exception):
    """SIGINT or SIGTERM: uvicorn re-raises it after its graceful shutdown."""


def _raise_shutdown(signum: int, _frame: FrameType | None) -> None:
    raise _Shutdown(signum)


def _hangup_is_terminate(_signum: int, _frame: FrameType | None) -> None:
    """A closed terminal (SIGHUP) stops the service the way SIGTERM does: uvicorn handles
    SIGTERM gracefully while it serves, and `_raise_shutdown` does before and after."""
    os.kill(os.getpid(), signal.SIGTERM)


@contextmanager
def _stopped_by_signals() -> Iterator[None]:
    """Turn SIGINT/SIGTERM/SIGHUP into an exception that unwinds every `with` block, so the
    engine is disposed and the embedded server stopped: no orphan process, exit status 0."""
    handlers = {
        signal.SIGINT: _raise_shutdown,
        signal.SIGTERM: _raise_shutdown,
        signal.SIGHUP: _hangup_is_terminate,
    }
    previous = {sig: signal.signal(sig, handler) for sig, handler in handlers.items()}
    try:
        yield
    except _Shutdown:
        logging.getLogger("hexbank").info("stopped")
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _cannot_run(reason: str) -> NoReturn:
    """One line that says what to fix, on stderr, and exit status 2: no traceback."""
    typer.echo(f"hexbank: {reason}", err=True)
    sys.exit(CANNOT_RUN)


@contextmanager
def _one_line_errors() -> Iterator[None]:
    try:
        yield
    except (ConfigurationError, DatabaseUnusable, EmbeddedPostgresError) as error:
        _cannot_run(str(error))


@contextmanager
def _usable_database(settings: Settings) -> Iterator[str]:
    """The database URL, once it is known to answer (embedded: started here), migrated."""
    with database_url(settings) as url:
        asyncio.run(check_database(url, settings.db_connect_timeout_s))
        migrations.upgrade(url)
        yield url


@cli.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Default: HOST or 127.0.0.1.")] = None,
    port: Annotated[int | None, typer.Option(help="Default: PORT or 8000.")] = None,
    workers: Annotated[
        int, typer.Option(min=1, help="Worker processes; >1 needs DATABASE_URL.")
    ] = 1,
) -> None:
    """Apply migrations and serve the API until Ctrl-C, SIGTERM or SIGHUP."""
    with _one_line_errors():
        settings = load_settings()
        configure_logging(settings.log_level, settings.log_format)
        settings.resolved_jwt_secret()  # refuse to start without a usable secret
    bind_host, bind_port = host or settings.host, port or settings.port
    if workers > 1:
        if settings.database_url is None:
            raise typer.BadParameter(
                "the embedded PostgreSQL serves one worker: set DATABASE_URL for more",
                param_hint="--workers",
            )
        with _one_line_errors(), _usable_database(settings):
            pass
        with (
            _stopped_by_signals(),
            _one_line_errors(),
            broker_url(settings) as nats,
            metrics_shared_by_workers(workers),
        ):
            if nats is not None:  # every worker delivers to the one broker started here
                os.environ["HEXBANK_NATS_URL"] = nats
            server.serve_workers(settings, workers, bind_host, bind_port)
        return
    with (
        _stopped_by_signals(),
        _one_line_errors(),
        _usable_database(settings) as url,
        broker_url(settings) as nats,
        metrics_shared_by_workers(1),
    ):
        app = create_app(build_container(settings, url, nats))
        # uvicorn turns SIGINT/SIGTERM into a graceful shutdown: in-flight requests finish,
        # the lifespan stops the relay and disposes the engine, then the embedded servers
        # stop on the way out.
        server.serve(settings, app, bind_host, bind_port)


@cli.command()
def migrate() -> None:
    """Apply every migration to DATABASE_URL (or the embedded database)."""
    with _one_line_errors(), _usable_database(load_settings()):
        pass


@cli.command()
def revision(message: str) -> None:
    """Autogenerate a migration from the difference between the tables and the database."""
    with _one_line_errors(), _usable_database(load_settings()) as url:
        migrations.autogenerate(url, message)


@cli.command("create-user")
def create_user(
    email: str,
    full_name: Annotated[str, typer.Option("--full-name", prompt=True)],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)],
) -> None:
    """Register a user, as POST /api/v1/users does (the password is asked, never echoed)."""

    async def register(container: Container) -> str:
        user = await container.register_user()(Registration(email, password, full_name))
        return f"created {user.email} ({user.id})"

    typer.echo(_run(register))


# Published on purpose: the demo users' password, printed by seed-demo and in the README.
DEMO_PASSWORD = "demo-password"  # noqa: S105  # nosec B105


@cli.command("seed-demo")
def seed_demo() -> None:
    """A few users, accounts and transfers, so a new user sees a living system."""

    async def seed(container: Container) -> str:
        people = {}
        for email, name in (
            # Not the README walkthrough's addresses: both can be run on one database.
            ("ada@demo.hexbank.example", "Ada Lovelace"),
            ("grace@demo.hexbank.example", "Grace Hopper"),
            ("alan@demo.hexbank.example", "Alan Turing"),
        ):
            try:
                user = await container.register_user()(Registration(email, DEMO_PASSWORD, name))
            except EmailAlreadyRegistered:
                return "the demo data is there already"
            account = await container.open_account()(user.id, "EUR")
            await container.deposit()(user.id, account.id, 100_000, f"seed-{email}")
            people[email] = (user.id, account.id)
        ada, grace, alan = people.values()
        for (payer, source), (_, destination), amount, note in (
            (ada, grace, 2_500, "lunch"),
            (grace, alan, 10_000, "books"),
            (alan, ada, 4_200, "train tickets"),
        ):
            await container.transfer_funds()(
                payer, TransferRequest(source, destination, amount, "EUR", note)
            )
        return f"3 users (password {DEMO_PASSWORD!r}), 3 accounts, 3 deposits, 3 transfers"

    typer.echo(_run(seed))


@cli.command()
def reconcile() -> None:
    """Check the whole ledger; print every difference and exit 1 when there is any (2 when
    the check could not run at all)."""
    report = _run(lambda container: container.reconcile_ledger()())
    typer.echo(f"totals by currency: {report.totals_by_currency}")
    for difference in report.differences:
        typer.echo(f"difference: {difference}")
    if not report.is_clean:
        raise typer.Exit(1)
    typer.echo("the ledger balances")


@cli.command("expire-holds")
def expire_holds() -> None:
    """Write `expired` (and its event) on every hold past its expiry; reads already say so."""
    expired = _run(lambda container: container.expire_holds()())
    typer.echo(f"expired {len(expired)} holds")


@cli.command("freeze-account")
def freeze_account(account_id: UUID) -> None:
    """Freeze an account: it takes no debit and no credit until unfrozen."""
    account = _run(lambda container: container.freeze_account()(account_id))
    typer.echo(f"account {account.id} is {account.status.value}")


@cli.command("unfreeze-account")
def unfreeze_account(account_id: UUID) -> None:
    """Lift a freeze: the account takes debits and credits again."""
    account = _run(lambda container: container.unfreeze_account()(account_id))
    typer.echo(f"account {account.id} is {account.status.value}")


@cli.command()
def relay() -> None:
    """Deliver outbox events to NATS JetStream until Ctrl-C or SIGTERM (besides, or instead
    of, the relay inside each `hexbank serve`)."""
    with _one_line_errors():
        settings = load_settings()
        configure_logging(settings.log_level, settings.log_format)
    if settings.events == "off":
        _cannot_run("HEXBANK_EVENTS is off: there is nothing to relay")

    async def deliver(url: str, nats: str) -> None:
        container = build_container(settings, url, nats)
        await container.init_resources()  # type: ignore[misc]
        relay_loop = RelayLoop(
            container.relay_events(),
            RelayMetrics(CollectorRegistry()),
            container.clock(),
            idle_s=settings.relay_idle_s,
            retry_s=settings.relay_retry_s,
            sweep=container.expire_holds(),
        )
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            loop.add_signal_handler(sig, relay_loop.stop)
        try:
            await relay_loop.run()
        finally:
            await container.event_publisher().close()
            await container.shutdown_resources()  # type: ignore[misc]

    with _one_line_errors(), _usable_database(settings) as url, broker_url(settings) as nats:
        if nats is not None:
            asyncio.run(deliver(url, nats))


@cli.command()
def purge() -> None:
    """Forget idempotency keys older than 24 hours and stale login/registration counts."""
    purged = _run(lambda container: container.purge_expired()())
    typer.echo(
        f"purged {purged.idempotency_keys} idempotency keys, "
        f"{purged.attempt_counters} attempt counters"
    )


def _run(work: Callable[[Container], Awaitable[T]]) -> T:
    """Run one piece of work on a container for DATABASE_URL (or the embedded database).

    A refusal or a database that stops answering ends the command with status 2 and one line.
    """

    async def run(settings: Settings, url: str) -> T:
        container = build_container(settings, url)
        await container.init_resources()  # type: ignore[misc]
        try:
            return await work(container)
        finally:
            await container.shutdown_resources()  # type: ignore[misc]

    with _one_line_errors():
        settings = load_settings()
        with _usable_database(settings) as url:
            try:
                return asyncio.run(run(settings, url))
            except DomainError as refusal:
                _cannot_run(f"refused: {refusal.detail}")
            except ApplicationError as failure:
                _cannot_run(failure.detail)


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
