"""The `hexbank` command: serving, migrations and operator tools, over the same container."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Annotated

import typer
import uvicorn

from adapters.sqlalchemy import migrations
from entrypoints.app import create_app
from entrypoints.container import build_container
from entrypoints.database import database_url
from entrypoints.settings import Settings

cli = typer.Typer(help="hexbank: accounts, deposits and transfers.", no_args_is_help=True)


class _Shutdown(Exception):
    """SIGINT or SIGTERM: uvicorn re-raises it after its graceful shutdown."""


def _raise_shutdown(signum: int, _frame: FrameType | None) -> None:
    raise _Shutdown(signum)


@contextmanager
def _stopped_by_signals() -> Iterator[None]:
    """Turn SIGINT/SIGTERM into an exception that unwinds every `with` block, so the engine
    is disposed and the embedded server stopped: no orphan process, exit status 0."""
    previous = {sig: signal.signal(sig, _raise_shutdown) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    except _Shutdown:
        logging.getLogger("hexbank").info("stopped")
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@cli.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Default: HOST or 127.0.0.1.")] = None,
    port: Annotated[int | None, typer.Option(help="Default: PORT or 8000.")] = None,
) -> None:
    """Apply migrations and serve the API until Ctrl-C or SIGTERM."""
    settings = Settings()
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(levelname)s %(name)s %(message)s"
    )
    settings.resolved_jwt_secret()  # refuse to start without a usable secret, not at first login
    with _stopped_by_signals(), database_url(settings) as url:
        migrations.upgrade(url)
        app = create_app(build_container(settings, url))
        # uvicorn turns SIGINT/SIGTERM into a graceful shutdown: in-flight requests finish,
        # the lifespan disposes the engine, then the embedded server stops on the way out.
        uvicorn.run(
            app,
            host=host or settings.host,
            port=port or settings.port,
            log_level=settings.log_level,
            proxy_headers=False,
        )


@cli.command()
def migrate() -> None:
    """Apply every migration to DATABASE_URL (or the embedded database)."""
    with database_url(Settings()) as url:
        migrations.upgrade(url)


@cli.command()
def revision(message: str) -> None:
    """Autogenerate a migration from the difference between the tables and the database."""
    with database_url(Settings()) as url:
        migrations.upgrade(url)
        migrations.autogenerate(url, message)


@cli.command()
def reconcile() -> None:
    """Check the whole ledger; print every difference and exit 1 when there is any."""
    settings = Settings()
    with database_url(settings) as url:
        report = asyncio.run(_reconcile(settings, url))
    typer.echo(f"totals by currency: {report.totals_by_currency}")
    for difference in (
        *report.balance_mismatches,
        *report.broken_chains,
        *report.unbalanced_transfers,
    ):
        typer.echo(f"difference: {difference}")
    if not report.is_clean:
        raise typer.Exit(1)
    typer.echo("the ledger balances")


async def _reconcile(settings: Settings, url: str):  # type: ignore[no-untyped-def]
    container = build_container(settings, url)
    await container.init_resources()  # type: ignore[misc]
    try:
        return await container.reconcile_ledger()()
    finally:
        await container.shutdown_resources()  # type: ignore[misc]


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
