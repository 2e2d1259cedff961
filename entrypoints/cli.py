"""The `hexbank` command: serving, migrations and operator tools, over the same container
and use cases as the HTTP API (no second path to the database)."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar
from uuid import UUID

import httpx
import typer
from prometheus_client import CollectorRegistry, generate_latest

from adapters.ed25519_statement_signer import public_keys_bytes
from adapters.email_normalizer import EmailValidatorNormalizer
from adapters.embedded_nats import EmbeddedNatsError
from adapters.embedded_postgres import EmbeddedPostgresError
from adapters.sqlalchemy import migrations
from adapters.sqlalchemy.preflight import DatabaseUnusable, check_database
from application.errors import ApplicationError, StorageUnavailable, TransientConflict
from application.transfer_requests import TransferRequest
from application.use_cases.api_keys import IssuedApiKey
from application.use_cases.freeze_account import StatusChange
from application.use_cases.register_user import Registration
from domain.api_key import Scope
from domain.errors import DomainError, EmailAlreadyRegistered
from domain.user import normalize_full_name, require_valid_password
from entrypoints import server
from entrypoints.app import create_app
from entrypoints.broker import broker_url
from entrypoints.container import Container, build_container
from entrypoints.database import database_url
from entrypoints.interrupts import Interrupted, handle_stop_signals, raise_if_interrupted
from entrypoints.observability.logging import configure_logging
from entrypoints.observability.multiprocess import metrics_shared_by_workers
from entrypoints.observability.relay_metrics import RelayMetrics
from entrypoints.observability.webhook_metrics import WebhookMetrics
from entrypoints.reconciliation_report import render_report
from entrypoints.relay import RelayLoop
from entrypoints.settings import ConfigurationError, Settings, load_settings
from entrypoints.startup import check_embedded_nats, check_http_port, log_banner
from entrypoints.statement_documents import StatementUnreadable, Verdict, read_statement, verify
from entrypoints.webhooks import webhook_loop as build_webhook_loop

T = TypeVar("T")
cli = typer.Typer(
    help="hexbank: accounts, deposits and transfers.",
    epilog="Exit status: 0 done; 1 refused or not found (reconcile: a difference in the "
    "books); 2 could not run (bad usage or settings, no database).",
    no_args_is_help=True,
    # Markdown joins a docstring's lines into one paragraph and wraps it at the terminal's
    # width; the default ("rich") keeps the source's line breaks in the list of commands.
    rich_markup_mode="markdown",
)


REFUSED = 1
"""Exit status when the command ran and said no: a rule refused it, or what it names does not
exist (and, for `reconcile`, the books disagree)."""
CANNOT_RUN = 2
"""Exit status when a command could not do its work at all (bad usage or settings, no
database)."""


@contextmanager
def _stopped_once_served(served: Callable[[], bool]) -> Iterator[None]:
    """Once it has served, a stop signal is the normal end: uvicorn has shut down gracefully
    and raises it again, every `with` block inside has stopped what it started, exit 0.
    Before that, `main` turns it into exit status 128 + the signal."""
    try:
        yield
    except Interrupted:
        if not served():
            raise
        logging.getLogger("hexbank").info("stopped")


def _cannot_run(reason: str) -> NoReturn:
    """One line that says what to fix, on stderr, and exit status 2: no traceback."""
    typer.echo(f"hexbank: {reason}", err=True)
    sys.exit(CANNOT_RUN)


def _refused(reason: str) -> NoReturn:
    """One line that says what was refused (or not found), on stderr, and exit status 1."""
    typer.echo(f"hexbank: {reason}", err=True)
    sys.exit(REFUSED)


@contextmanager
def _one_line_errors() -> Iterator[None]:
    try:
        yield
    except (
        ConfigurationError,
        DatabaseUnusable,
        EmbeddedPostgresError,
        EmbeddedNatsError,
    ) as error:
        _cannot_run(str(error))


@contextmanager
def _usable_database(settings: Settings) -> Iterator[str]:
    """The database URL, once it is known to answer (embedded: started here), migrated."""
    with database_url(settings) as url:
        asyncio.run(check_database(url, settings.db_connect_timeout_s))
        raise_if_interrupted()
        migrations.upgrade(url)
        raise_if_interrupted()
        yield url


def run_service(main: Coroutine[Any, Any, None]) -> None:
    """A long-running command's event loop: uvloop where it is installed, as `serve`'s
    uvicorn picks it. A webhook delivery process spent a third of its CPU in the standard
    loop's socket writes."""
    try:
        try:
            import uvloop
        except ImportError:  # pragma: no cover - uvicorn[standard] installs it on CPython
            asyncio.run(main)
            return
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            runner.run(main)
    finally:
        # The loop's own handlers are gone (uvloop leaves its closed loop's in place, which
        # ignore Ctrl-C and SIGTERM): ours again, to clean up, on failure too.
        handle_stop_signals()


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
        settings.resolved_statement_signing_key()  # nor without a statement signing key
        settings.resolved_statement_previous_public_keys()
        bind_host, bind_port = host or settings.host, port or settings.port
        # Before the database and the broker start, not after (then stopped again).
        check_http_port(bind_host, bind_port)
        check_embedded_nats(settings)
    if workers > 1:
        if settings.database_url is None:
            raise typer.BadParameter(
                "the embedded PostgreSQL serves one worker: set DATABASE_URL for more",
                param_hint="--workers",
            )
        with _one_line_errors(), _usable_database(settings):
            pass
        serving = False
        with (
            _stopped_once_served(lambda: serving),
            _one_line_errors(),
            broker_url(settings) as nats,
            metrics_shared_by_workers(workers),
        ):
            if nats is not None:  # every worker delivers to the one broker started here
                os.environ["HEXBANK_NATS_URL"] = nats
            log_banner(bind_host, bind_port, nats)
            serving = True  # from here on the workers' start is uvicorn's to stop
            server.serve_workers(settings, workers, bind_host, bind_port)
        return
    app = None
    with (
        _stopped_once_served(lambda: app is not None and getattr(app.state, "started", False)),
        _one_line_errors(),
        _usable_database(settings) as url,
        broker_url(settings) as nats,
        metrics_shared_by_workers(1),
    ):
        app = create_app(build_container(settings, url, nats))
        log_banner(bind_host, bind_port, nats)
        raise_if_interrupted()
        # uvicorn turns SIGINT/SIGTERM into a graceful shutdown: in-flight requests finish,
        # the lifespan stops the relay and disposes the engine, then the embedded servers
        # stop on the way out.
        server.serve(settings, app, bind_host, bind_port)


@cli.command()
def migrate() -> None:
    """Apply every migration to DATABASE_URL (or the embedded database)."""
    with _one_line_errors():
        settings = load_settings()
        # Not `_usable_database`: this command says which revisions it applied.
        with database_url(settings) as url:
            asyncio.run(check_database(url, settings.db_connect_timeout_s))
            applied = migrations.upgrade(url)
    where = "the embedded database" if settings.database_url is None else "the database"
    head = migrations.head_revision()
    if applied:
        typer.echo(f"applied {_count(len(applied), 'migration')} to {where}: {', '.join(applied)}")
    typer.echo(f"{where} is at migration {head}, the newest")


@cli.command()
def revision(message: str) -> None:
    """Autogenerate a migration from the difference between the tables and the database."""
    with _one_line_errors(), _usable_database(load_settings()) as url:
        written = migrations.autogenerate(url, message)
    typer.echo(f"wrote {written}: read it before you commit it")


@cli.command("create-user")
def create_user(
    email: str,
    full_name: Annotated[
        str | None, typer.Option("--full-name", help="Asked for when not given.")
    ] = None,
    password_stdin: Annotated[
        bool,
        typer.Option(
            "--password-stdin", help="Read the password from the first line of standard input."
        ),
    ] = False,
    password: Annotated[
        str | None,
        typer.Option(help="Seen by anyone who lists processes: prefer --password-stdin."),
    ] = None,
) -> None:
    """Register a user, as POST /api/v1/users does.

    The email and the name are checked before the password is asked for (twice, never
    echoed); `--password-stdin` reads it from a pipe instead.
    """
    _refuse_early(lambda: EmailValidatorNormalizer().normalize(email))
    if full_name is None:
        if password_stdin:
            _cannot_run("give --full-name when the password comes from stdin")
        full_name = typer.prompt("Full name")
    _refuse_early(lambda: normalize_full_name(full_name))
    if password_stdin:
        password = sys.stdin.readline().removesuffix("\n").removesuffix("\r")
    elif password is None:
        if not sys.stdin.isatty():  # getpass would read the terminal anyway, and warn
            _cannot_run("standard input is not a terminal: pipe the password with --password-stdin")
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    chosen = password
    _refuse_early(lambda: require_valid_password(chosen))

    async def register(container: Container) -> str:
        user = await container.register_user()(Registration(email, chosen, full_name))
        return f"created user {user.email} ({user.id})"

    typer.echo(_run(register))


@cli.command("create-api-key")
def create_api_key(
    email: str,
    name: Annotated[str, typer.Option("--name", help="What the key is for.")],
    scope: Annotated[
        list[Scope],
        typer.Option(
            "--scope",
            metavar="SCOPE",
            help="Repeat for several: " + ", ".join(scope.value for scope in Scope) + ".",
        ),
    ],
    account: Annotated[
        list[UUID] | None,
        typer.Option(
            "--account", metavar="ID", help="Restrict the key to this account (repeatable)."
        ),
    ] = None,
    expires_at: Annotated[
        datetime | None,
        typer.Option(
            "--expires-at",
            formats=["%Y-%m-%dT%H:%M:%S%z"],
            metavar="TIME",
            help="When the key stops working, e.g. 2027-01-01T00:00:00+00:00.",
        ),
    ] = None,
) -> None:
    """Create an API key for a user, as POST /api/v1/api-keys does. The secret is printed
    once, alone on standard output; only its hash is kept."""
    _refuse_early(lambda: EmailValidatorNormalizer().normalize(email))
    normalized = EmailValidatorNormalizer().normalize(email)

    async def create(container: Container) -> IssuedApiKey | None:
        return await container.create_api_key().by_operator(
            normalized, name=name, scopes=scope, account_ids=account or None, expires_at=expires_at
        )

    issued = _run(create)
    if issued is None:
        _refused(f"no user has the email {normalized}")
    key = issued.key
    typer.echo(
        f"created API key {key.id} ({key.prefix}...) for {normalized}; the secret below is "
        "shown this once",
        err=True,
    )
    typer.echo(issued.secret)


@cli.command("revoke-api-key")
def revoke_api_key(key_id: UUID) -> None:
    """Revoke an API key, whoever it belongs to: refused everywhere within
    HEXBANK_API_KEY_CACHE_S. Revoking it again changes nothing (exit 0)."""

    async def revoke(container: Container) -> str:
        key = await container.revoke_api_key()(None, key_id)
        return f"API key {key.id} is revoked"

    typer.echo(_run(revoke))


def _refuse_early(check: Callable[[], object]) -> None:
    """Apply a domain rule before the database starts (and before a prompt asks for more)."""
    try:
        check()
    except DomainError as refusal:
        _refused(refusal.detail)


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
    """Check the whole ledger in one snapshot and print what each check found.

    Exit status 1 when the books disagree anywhere (every difference is listed), 2 when the
    check could not run at all.
    """
    report = _run(lambda container: container.reconcile_ledger()())
    typer.echo(render_report(report))
    if not report.is_clean:
        raise typer.Exit(REFUSED)


@cli.command("verify-statement")
def verify_statement(
    file: Annotated[Path, typer.Argument(help="A statement exported as JSON or CSV.")],
    public_key: Annotated[
        str | None,
        typer.Option(
            help="A file holding the Ed25519 public key (PEM, or base64 of its 32 bytes), or "
            "the key itself."
        ),
    ] = None,
    keys_url: Annotated[
        str | None, typer.Option(help="Where the bank lists its keys: .../api/v1/statement-keys.")
    ] = None,
) -> None:
    """Check a signed statement offline: its signature, contiguous sequences, each balance
    the previous plus the amount, the hash chain from the opening hash to the closing hash.

    Prints one line, OK or the first thing that fails. Exit status 0 OK, 1 it fails (a file
    that does not read as a statement fails too), 2 it could not be checked (no file, no
    usable key). With --public-key it needs no server and no database.
    """
    try:
        content = file.read_bytes()
    except OSError as error:
        _cannot_run(f"cannot read {file}: {error.strerror}")
    if public_key is None and keys_url is None:
        _cannot_run("give the bank's public key (--public-key) or where it lists them (--keys-url)")
    keys: list[bytes] = []
    try:
        if public_key is not None:
            keys += public_keys_bytes(_key_text(public_key))
        if keys_url is not None:
            keys += _published_keys(keys_url)
    except (ValueError, KeyError, TypeError, httpx.HTTPError, httpx.InvalidURL) as error:
        _cannot_run(f"no usable public key: {error}")
    if not keys:
        _cannot_run("no usable public key: none was given")
    try:
        verdict = verify(read_statement(content), keys)
    except StatementUnreadable as error:
        verdict = Verdict(False, f"FAILED: {error}")
    typer.echo(verdict.line)
    if not verdict.ok:
        raise typer.Exit(REFUSED)


def _key_text(value: str) -> str:
    path = Path(value)
    try:
        return path.read_text() if path.is_file() else value
    except OSError as error:
        _cannot_run(f"cannot read {value}: {error.strerror}")


def _published_keys(url: str) -> list[bytes]:
    answer = httpx.get(url, timeout=10.0, follow_redirects=True)
    if answer.status_code != 200:  # httpx's own message runs over two lines
        raise ValueError(f"{url} answered {answer.status_code}")
    listed = answer.json()["keys"]
    return public_keys_bytes(",".join(key["public_key"] for key in listed))


@cli.command("expire-holds")
def expire_holds() -> None:
    """Write `expired` (and its event) on every hold past its expiry; reads already say so."""
    expired = _run(lambda container: container.expire_holds()())
    typer.echo(f"expired {_count(len(expired), 'hold')}")


@cli.command("freeze-account")
def freeze_account(account_id: UUID) -> None:
    """Freeze an account: it takes no debit and no credit until unfrozen."""
    _echo_status_change(_run(lambda container: container.freeze_account()(account_id)))


@cli.command("unfreeze-account")
def unfreeze_account(account_id: UUID) -> None:
    """Lift a freeze: the account takes debits and credits again."""
    _echo_status_change(_run(lambda container: container.unfreeze_account()(account_id)))


@cli.command("set-overdraft")
def set_overdraft(
    account_id: UUID,
    limit: Annotated[int, typer.Argument(help="In minor units; 0 removes the overdraft.")],
) -> None:
    """Let an account's balance go down to -LIMIT (every debit, holds included, checks
    balance - held + limit). A limit below the current debt is allowed: further debits are
    refused until it is repaid."""
    change = _run(lambda container: container.set_overdraft_limit()(account_id, limit))
    account = change.account
    if change.changed:
        typer.echo(f"account {account.id} has an overdraft limit of {account.overdraft_limit}")
    else:
        typer.echo(
            f"account {account.id} already had an overdraft limit of {account.overdraft_limit};"
            " nothing changed"
        )


@cli.command("fx-positions")
def fx_positions() -> None:
    """Print the bank's position in each currency conversions touched: its FX account's
    balance (positive: held by the bank; negative: paid out beyond what came in)."""
    positions = _run(lambda container: container.fx_positions()())
    if not positions:
        typer.echo("no FX positions: no conversion yet")
    for position in positions:
        typer.echo(f"{position.currency} {position.balance}")


def _echo_status_change(change: StatusChange) -> None:
    """One line. A status the account already had is no error (exit 0): nothing was written."""
    account = change.account
    if change.changed:
        typer.echo(f"account {account.id} is {account.status.value}")
    else:
        typer.echo(f"account {account.id} was already {account.status.value}; nothing changed")


@cli.command()
def relay() -> None:
    """Deliver outbox events to NATS JetStream until Ctrl-C or SIGTERM (besides, or instead
    of, the relay inside each `hexbank serve`)."""
    with _one_line_errors():
        settings = load_settings()
        configure_logging(settings.log_level, settings.log_format)
        if settings.events == "off":
            _cannot_run("HEXBANK_EVENTS is off: there is nothing to relay")
        check_embedded_nats(settings)

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
            typer.echo(f"relaying events to {nats} until Ctrl-C or SIGTERM")
            run_service(deliver(url, nats))
            typer.echo("relay stopped")


@cli.command()
def webhooks(
    metrics_port: Annotated[
        int | None,
        typer.Option(
            help="Serve this process's /metrics on HEXBANK_METRICS_HOST at this port (0: any "
            "free one, logged); default: not served."
        ),
    ] = None,
) -> None:
    """Deliver webhooks until Ctrl-C or SIGTERM (besides, or instead of, the delivery inside
    each `hexbank serve`; HEXBANK_WEBHOOKS=off leaves it to this one)."""
    with _one_line_errors():
        settings = load_settings()
        configure_logging(settings.log_level, settings.log_format)
    registry = CollectorRegistry()
    metrics = WebhookMetrics(registry)

    async def deliver(url: str) -> None:
        container = build_container(settings, url)
        await container.init_resources()  # type: ignore[misc]
        webhook_loop = build_webhook_loop(container, metrics)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            loop.add_signal_handler(sig, webhook_loop.stop)
        try:
            await webhook_loop.run()
        finally:
            await container.webhook_transport().close()
            await container.shutdown_resources()  # type: ignore[misc]

    with _one_line_errors(), _usable_database(settings) as url, ExitStack() as serving_metrics:
        if metrics_port is not None:
            port = serving_metrics.enter_context(
                server.metrics_listener(
                    settings.model_copy(update={"metrics_port": metrics_port}),
                    lambda: generate_latest(registry),
                )
            )
            typer.echo(f"metrics on http://{settings.metrics_host}:{port}/metrics")
        typer.echo("delivering webhooks until Ctrl-C or SIGTERM")
        run_service(deliver(url))
        typer.echo("webhook delivery stopped")


@cli.command()
def purge() -> None:
    """Forget idempotency keys older than 24 hours and stale login/registration counts."""
    purged = _run(lambda container: container.purge_expired()())
    typer.echo(
        f"purged {_count(purged.idempotency_keys, 'idempotency key')} and "
        f"{_count(purged.attempt_counters, 'attempt counter')}"
    )


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _run(work: Callable[[Container], Awaitable[T]]) -> T:
    """Run one piece of work on a container for DATABASE_URL (or the embedded database).

    One line ends the command: with status 1 for a refusal (a rule, something not found),
    2 for a database that stops answering.
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
                _refused(refusal.detail)
            except (StorageUnavailable, TransientConflict) as failure:
                _cannot_run(failure.detail)
            except ApplicationError as refusal:
                _refused(refusal.detail)


def main() -> None:
    handle_stop_signals()
    try:
        cli()
    except Interrupted as stop:
        typer.echo(f"hexbank: stopped by {stop}", err=True)
        raise


if __name__ == "__main__":
    main()
