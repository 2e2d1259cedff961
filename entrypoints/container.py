"""The composition root: the one place that decides which adapter serves which port."""

from __future__ import annotations

import operator
from datetime import timedelta

from dependency_injector import containers, providers

from adapters.argon2_hasher import Argon2PasswordHasher
from adapters.ed25519_statement_signer import Ed25519StatementSigner
from adapters.email_normalizer import EmailValidatorNormalizer
from adapters.http_webhooks import StreamWebhookTransport, SystemHostResolver
from adapters.jwt_tokens import JwtTokenIssuer
from adapters.nats_publisher import NatsJetStreamPublisher
from adapters.sealed_secrets import SecretSealer
from adapters.sqlalchemy.attempt_limiter import SqlAlchemyAttemptLimiter
from adapters.sqlalchemy.engine import (
    EngineOptions,
    autocommit,
    create_engine,
    disposed_on_shutdown,
    make_session_factory,
    optional_engine,
    reporting_engine,
)
from adapters.sqlalchemy.health import DatabaseHealth
from adapters.sqlalchemy.reconciliation import SqlAlchemyLedgerReconciliation
from adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from adapters.system_clock import SystemClock
from adapters.tenacity_retry import TenacityTransactionRetry
from adapters.trace_context import current_traceparent
from application.admission import Admission
from application.group_commit import GroupCommit
from application.key_rate import KeyRate
from application.ports.attempt_limiter import AttemptPolicy
from application.teller import Teller
from application.throttle import Throttle, ThrottlePolicies
from application.use_cases.api_keys import (
    AuthenticateApiKey,
    CreateApiKey,
    GetApiKey,
    ListApiKeys,
    RevokeApiKey,
)
from application.use_cases.authenticate import Authenticate
from application.use_cases.close_account import CloseAccount
from application.use_cases.convert_currency import ConvertCurrency, GetConversion
from application.use_cases.deliver_webhooks import DeliverWebhooks, DispatchWebhooks
from application.use_cases.deposit import Deposit
from application.use_cases.expire_holds import ExpireHolds
from application.use_cases.export_statement import ExportStatement
from application.use_cases.freeze_account import FreezeAccount, UnfreezeAccount
from application.use_cases.fx_positions import FxPositions
from application.use_cases.get_account import GetAccount
from application.use_cases.get_account_summary import GetAccountSummary
from application.use_cases.get_balance_at import GetBalanceAt
from application.use_cases.get_current_user import GetCurrentUser
from application.use_cases.get_statement import GetStatement
from application.use_cases.get_transfer import GetTransfer
from application.use_cases.list_accounts import ListAccounts
from application.use_cases.list_statement_keys import ListStatementKeys
from application.use_cases.monitors import CreateMonitor, DeleteMonitor, ListMonitors
from application.use_cases.open_account import OpenAccount
from application.use_cases.post_hold import PostHold
from application.use_cases.purge_expired import PurgeExpired
from application.use_cases.read_event_feed import ReadEventFeed
from application.use_cases.reconcile_ledger import ReconcileLedger
from application.use_cases.register_user import RegisterUser
from application.use_cases.relay_events import RelayEvents
from application.use_cases.reverse_transfer import ReverseTransfer
from application.use_cases.search_transfers import SearchTransfers
from application.use_cases.set_overdraft_limit import SetOverdraftLimit
from application.use_cases.transfer_batch import TransferBatch
from application.use_cases.transfer_funds import TransferFunds
from application.use_cases.update_account import UpdateAccount
from application.use_cases.void_hold import VoidHold
from application.use_cases.webhook_endpoints import (
    CreateWebhookEndpoint,
    DeleteWebhookEndpoint,
    GetWebhookEndpoint,
    ListWebhookDeliveries,
    ListWebhookEndpoints,
    ReplayWebhookEvents,
    RotateWebhookSecret,
    UpdateWebhookEndpoint,
)
from application.use_cases.withdraw import Withdraw
from application.webhook_urls import WebhookUrlGuard
from application.write_pipeline import WritePipeline
from entrypoints.settings import Settings


def throttle_policies(settings: Settings) -> ThrottlePolicies:
    window = timedelta(seconds=settings.login_window_s)
    registration_window = timedelta(seconds=settings.registration_window_s)
    return ThrottlePolicies(
        login_per_email=AttemptPolicy(settings.login_failures_per_email, window, window),
        login_per_client=AttemptPolicy(settings.login_failures_per_client, window, window),
        registration_per_client=AttemptPolicy(
            settings.registrations_per_client, registration_window, registration_window
        ),
        token_per_client=AttemptPolicy(
            settings.token_attempts_per_client,
            timedelta(seconds=settings.token_attempts_window_s),
            timedelta(seconds=settings.token_attempts_window_s),
        ),
    )


def session_setting(value: int, pgbouncer: bool) -> int | None:
    return None if pgbouncer else value


class Container(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)
    database_url = providers.Dependency(instance_of=str)
    nats_url: providers.Object[str | None] = providers.Object(None)
    """The broker events are delivered to; None: no delivery (the outbox and feed stay)."""
    # Resolved on first use: commands that issue no token (migrate, reconcile) need no secret.
    jwt_secret = providers.Singleton(Settings.resolved_jwt_secret, settings)
    statement_signer = providers.Singleton(
        Ed25519StatementSigner,
        private_key=providers.Callable(Settings.resolved_statement_signing_key, settings),
        previous_public_keys=providers.Callable(
            Settings.resolved_statement_previous_public_keys, settings
        ),
    )

    clock = providers.Singleton(SystemClock)
    admission = providers.Singleton(
        Admission,
        max_in_flight=settings.provided.max_in_flight_per_user,
        max_running=settings.provided.max_running_per_user,
        pause=settings.provided.busy_user_pause,
    )
    # Token requests: before a user is known, the client address is the principal.
    client_admission = providers.Singleton(
        Admission,
        max_in_flight=settings.provided.token_in_flight_per_client,
        max_running=settings.provided.max_running_per_user,
        pause=settings.provided.busy_user_pause,
    )

    # Engines are built lazily and synchronously (no connection at import or build time);
    # Resources own their lifetimes, so `shutdown_resources()` disposes the pools.
    engine_options = providers.Factory(
        EngineOptions,
        pool_size=settings.provided.db_pool_size,
        max_overflow=settings.provided.db_max_overflow,
        pool_timeout=settings.provided.db_pool_timeout_s,
        pool_pre_ping=settings.provided.db_pool_pre_ping,
        connect_timeout=settings.provided.db_connect_timeout_s,
        statement_timeout_ms=settings.provided.db_statement_timeout_ms,
        lock_timeout_ms=settings.provided.db_lock_timeout_ms,
        command_timeout=settings.provided.db_command_timeout_s,
        isolation_level=settings.provided.db_isolation_level,
        statement_cache_size=settings.provided.db_statement_cache_size,
        pgbouncer=settings.provided.db_pgbouncer,
    )
    engine = providers.Singleton(create_engine, url=database_url, options=engine_options)
    engine_lifetime = providers.Resource(disposed_on_shutdown, engine=engine)
    replica_engine = providers.Singleton(
        optional_engine, url=settings.provided.read_replica_url, options=engine_options
    )
    replica_lifetime = providers.Resource(disposed_on_shutdown, engine=replica_engine)

    # Writes: one transaction per unit of work, on a pooled connection (no ORM Session).
    # Each statement_timeout is kept per connection, except behind PgBouncer (set it on the
    # role there: a session setting would follow the server connection to another client).
    write_timeout_ms = providers.Singleton(
        session_setting, settings.provided.db_statement_timeout_ms, settings.provided.db_pgbouncer
    )
    read_timeout_ms = providers.Singleton(
        session_setting, settings.provided.read_statement_timeout_ms, settings.provided.db_pgbouncer
    )
    # Webhook secrets are sealed with a key derived on first use (adapters/sealed_secrets).
    webhook_sealer = providers.Singleton(
        SecretSealer, key_material=settings.provided.webhook_sealing_key
    )
    unit_of_work = providers.Factory(
        SqlAlchemyUnitOfWork,
        engine=engine,
        statement_timeout_ms=write_timeout_ms,
        sealer=webhook_sealer,
    )
    # Reads that need no transaction: autocommit on the primary, no BEGIN/ROLLBACK.
    autocommit_engine = providers.Singleton(
        autocommit, engine=engine, pgbouncer=settings.provided.db_pgbouncer
    )
    # Autocommit per connection (see SqlAlchemyUnitOfWork), unless behind PgBouncer.
    read_unit_of_work = providers.Factory(
        SqlAlchemyUnitOfWork,
        engine=engine,
        autocommit=providers.Callable(operator.not_, settings.provided.db_pgbouncer),
        statement_timeout_ms=read_timeout_ms,
        reading=True,
        sealer=webhook_sealer,
    )
    # Statements and summaries tolerate replica lag; every other read uses the primary.
    report_unit_of_work = providers.Factory(
        SqlAlchemyUnitOfWork,
        engine=providers.Singleton(
            reporting_engine,
            read_engine=autocommit_engine,
            replica=replica_engine,
            pgbouncer=settings.provided.db_pgbouncer,
        ),
        statement_timeout_ms=read_timeout_ms,
        reading=True,
        sealer=webhook_sealer,
    )
    session_factory = providers.Singleton(make_session_factory, engine=engine)
    ledger_reconciliation = providers.Singleton(
        SqlAlchemyLedgerReconciliation, session_factory=session_factory
    )
    database_health = providers.Singleton(
        DatabaseHealth, engine=engine, timeout_s=settings.provided.health_timeout_s
    )

    password_hasher = providers.Singleton(
        Argon2PasswordHasher,
        time_cost=settings.provided.argon2_time_cost,
        memory_cost_kib=settings.provided.argon2_memory_kib,
        parallelism=settings.provided.argon2_parallelism,
        workers=settings.provided.password_hash_workers,
    )
    email_normalizer = providers.Singleton(EmailValidatorNormalizer)
    token_lifetime = providers.Factory(timedelta, seconds=settings.provided.jwt_lifetime_s)
    token_issuer = providers.Singleton(
        JwtTokenIssuer, secret=jwt_secret, lifetime=token_lifetime, clock=clock
    )
    transaction_retry = providers.Singleton(
        TenacityTransactionRetry, attempts=settings.provided.transfer_retry_attempts
    )
    # Read where events are built: each carries the trace of the request it reports.
    trace = providers.Object(current_traceparent)
    write_pipeline = providers.Singleton(
        WritePipeline,
        uow_factory=unit_of_work.provider,
        clock=clock,
        retry=transaction_retry,
        current_trace=trace,
    )
    group_commit = providers.Singleton(
        GroupCommit,
        runner=write_pipeline,
        enabled=providers.Callable(lambda mode: mode == "on", settings.provided.group_commit),
        slots=settings.provided.group_commit_slots,
        max_group=settings.provided.group_commit_max_size,
        min_overlap=settings.provided.group_commit_min_overlap,
    )
    teller = providers.Singleton(
        Teller, group_commit=group_commit, uow_factory=read_unit_of_work.provider
    )

    throttle = providers.Singleton(
        Throttle,
        limiter=providers.Singleton(SqlAlchemyAttemptLimiter, engine=autocommit_engine),
        clock=clock,
        policies=providers.Factory(throttle_policies, settings=settings),
    )

    register_user = providers.Singleton(
        RegisterUser,
        uow_factory=unit_of_work.provider,
        hasher=password_hasher,
        emails=email_normalizer,
        clock=clock,
        retry=transaction_retry,
        throttle=throttle,
        trace=trace,
    )
    authenticate = providers.Singleton(
        Authenticate,
        uow_factory=read_unit_of_work.provider,
        hasher=password_hasher,
        emails=email_normalizer,
        tokens=token_issuer,
        throttle=throttle,
    )
    get_current_user = providers.Singleton(
        GetCurrentUser,
        uow_factory=read_unit_of_work.provider,
        tokens=token_issuer,
        clock=clock,
        recheck_after=providers.Factory(timedelta, seconds=settings.provided.auth_recheck_s),
    )
    authenticate_api_key = providers.Singleton(
        AuthenticateApiKey,
        uow_factory=read_unit_of_work.provider,
        touch_uow_factory=unit_of_work.provider,
        clock=clock,
        cache_for=providers.Factory(timedelta, seconds=settings.provided.api_key_cache_s),
        touch_every=providers.Factory(timedelta, seconds=settings.provided.api_key_touch_s),
    )
    # Per process: with several instances a key's effective rate is this times their number.
    key_rate = providers.Singleton(KeyRate, rate=settings.provided.api_key_rate)
    create_api_key = providers.Singleton(
        CreateApiKey,
        uow_factory=unit_of_work.provider,
        clock=clock,
        retry=transaction_retry,
        max_keys=settings.provided.api_keys_per_user,
        trace=trace,
    )
    list_api_keys = providers.Singleton(
        ListApiKeys, uow_factory=read_unit_of_work.provider, clock=clock
    )
    get_api_key = providers.Singleton(GetApiKey, uow_factory=read_unit_of_work.provider)
    revoke_api_key = providers.Singleton(
        RevokeApiKey,
        uow_factory=unit_of_work.provider,
        clock=clock,
        forget=authenticate_api_key.provided.forget,
        trace=trace,
    )
    open_account = providers.Singleton(
        OpenAccount,
        uow_factory=unit_of_work.provider,
        clock=clock,
        retry=transaction_retry,
        max_open_accounts=settings.provided.max_accounts_per_user,
        trace=trace,
    )
    get_account = providers.Singleton(
        GetAccount, uow_factory=read_unit_of_work.provider, clock=clock
    )
    list_accounts = providers.Singleton(
        ListAccounts,
        uow_factory=read_unit_of_work.provider,
        clock=clock,
        max_page_bytes=settings.provided.max_page_bytes,
    )
    get_account_summary = providers.Singleton(
        GetAccountSummary, uow_factory=report_unit_of_work.provider, clock=clock
    )
    get_statement = providers.Singleton(
        GetStatement, uow_factory=report_unit_of_work.provider, clock=clock
    )
    get_transfer = providers.Singleton(
        GetTransfer, uow_factory=read_unit_of_work.provider, clock=clock
    )
    deposit = providers.Singleton(
        Deposit, teller=teller, max_amount=settings.provided.max_transfer_amount
    )
    transfer_funds = providers.Singleton(
        TransferFunds,
        teller=teller,
        max_amount=settings.provided.max_transfer_amount,
    )
    withdraw = providers.Singleton(
        Withdraw, teller=teller, max_amount=settings.provided.max_transfer_amount
    )
    transfer_batch = providers.Singleton(
        TransferBatch, teller=teller, max_amount=settings.provided.max_transfer_amount
    )
    convert_currency = providers.Singleton(
        ConvertCurrency,
        teller=teller,
        uow_factory=unit_of_work.provider,
        max_amount=settings.provided.max_transfer_amount,
    )
    get_conversion = providers.Singleton(GetConversion, uow_factory=read_unit_of_work.provider)
    create_monitor = providers.Singleton(
        CreateMonitor,
        uow_factory=unit_of_work.provider,
        clock=clock,
        max_monitors=settings.provided.max_monitors_per_account,
    )
    list_monitors = providers.Singleton(
        ListMonitors, uow_factory=read_unit_of_work.provider, clock=clock
    )
    delete_monitor = providers.Singleton(
        DeleteMonitor, uow_factory=unit_of_work.provider, clock=clock
    )
    fx_positions = providers.Singleton(
        FxPositions, uow_factory=report_unit_of_work.provider, clock=clock
    )
    post_hold = providers.Singleton(PostHold, teller=teller)
    void_hold = providers.Singleton(VoidHold, teller=teller)
    reverse_transfer = providers.Singleton(ReverseTransfer, teller=teller)
    update_account = providers.Singleton(
        UpdateAccount, uow_factory=unit_of_work.provider, clock=clock, trace=trace
    )
    close_account = providers.Singleton(
        CloseAccount, uow_factory=unit_of_work.provider, clock=clock, trace=trace
    )
    freeze_account = providers.Singleton(
        FreezeAccount, uow_factory=unit_of_work.provider, clock=clock, trace=trace
    )
    unfreeze_account = providers.Singleton(
        UnfreezeAccount, uow_factory=unit_of_work.provider, clock=clock, trace=trace
    )
    set_overdraft_limit = providers.Singleton(
        SetOverdraftLimit, uow_factory=unit_of_work.provider, clock=clock, trace=trace
    )
    search_transfers = providers.Singleton(
        SearchTransfers,
        uow_factory=read_unit_of_work.provider,
        clock=clock,
        max_page_bytes=settings.provided.max_page_bytes,
    )
    get_balance_at = providers.Singleton(
        GetBalanceAt, uow_factory=report_unit_of_work.provider, clock=clock
    )
    export_statement = providers.Singleton(
        ExportStatement,
        uow_factory=report_unit_of_work.provider,
        clock=clock,
        max_entries=settings.provided.statement_max_entries,
    )
    list_statement_keys = providers.Singleton(ListStatementKeys, signer=statement_signer)
    read_event_feed = providers.Singleton(
        ReadEventFeed,
        uow_factory=read_unit_of_work.provider,
        clock=clock,
        max_page_bytes=settings.provided.max_page_bytes,
    )
    event_publisher = providers.Singleton(NatsJetStreamPublisher, url=nats_url)
    relay_events = providers.Singleton(
        RelayEvents,
        uow_factory=unit_of_work.provider,
        publisher=event_publisher,
        clock=clock,
        batch_size=settings.provided.relay_batch_size,
    )
    expire_holds = providers.Singleton(
        ExpireHolds, uow_factory=unit_of_work.provider, clock=clock, teller=teller
    )
    reconcile_ledger = providers.Singleton(
        ReconcileLedger, reconciliation=ledger_reconciliation, clock=clock
    )
    purge_expired = providers.Singleton(
        PurgeExpired, uow_factory=unit_of_work.provider, throttle=throttle, clock=clock
    )

    # Webhooks (issue 24): endpoints, and their delivery off the money path.
    host_resolver = providers.Singleton(SystemHostResolver)
    webhook_transport = providers.Singleton(StreamWebhookTransport)
    webhook_url_guard = providers.Singleton(
        WebhookUrlGuard,
        resolver=host_resolver,
        allow_private=settings.provided.webhooks_allow_private,
    )
    create_webhook_endpoint = providers.Singleton(
        CreateWebhookEndpoint,
        uow_factory=unit_of_work.provider,
        clock=clock,
        retry=transaction_retry,
        guard=webhook_url_guard,
        max_endpoints=settings.provided.webhook_endpoints_per_user,
    )
    list_webhook_endpoints = providers.Singleton(
        ListWebhookEndpoints, uow_factory=read_unit_of_work.provider
    )
    get_webhook_endpoint = providers.Singleton(
        GetWebhookEndpoint, uow_factory=read_unit_of_work.provider
    )
    update_webhook_endpoint = providers.Singleton(
        UpdateWebhookEndpoint,
        uow_factory=unit_of_work.provider,
        retry=transaction_retry,
        guard=webhook_url_guard,
    )
    delete_webhook_endpoint = providers.Singleton(
        DeleteWebhookEndpoint, uow_factory=unit_of_work.provider
    )
    rotate_webhook_secret = providers.Singleton(
        RotateWebhookSecret, uow_factory=unit_of_work.provider, clock=clock
    )
    list_webhook_deliveries = providers.Singleton(
        ListWebhookDeliveries, uow_factory=read_unit_of_work.provider
    )
    replay_webhook_events = providers.Singleton(
        ReplayWebhookEvents, uow_factory=unit_of_work.provider, clock=clock
    )
    dispatch_webhooks = providers.Singleton(
        DispatchWebhooks,
        uow_factory=unit_of_work.provider,
        clock=clock,
        batch_size=settings.provided.webhook_fan_out_size,
    )
    # A Factory: each delivery loop keeps its own attempts in flight.
    deliver_webhooks = providers.Factory(
        DeliverWebhooks,
        uow_factory=unit_of_work.provider,
        clock=clock,
        guard=webhook_url_guard,
        transport=webhook_transport,
        retry_window=providers.Factory(timedelta, hours=settings.provided.webhook_retry_hours),
        concurrency=settings.provided.webhook_concurrency,
        batch_size=settings.provided.webhook_batch_size,
    )


def build_container(
    settings: Settings, database_url: str, nats_url: str | None = None
) -> Container:
    """A container for one database (and a broker, if events are delivered); nothing is
    built or connected until first asked for."""
    container = Container(settings=settings, database_url=database_url)
    container.nats_url.override(providers.Object(nats_url))
    return container
