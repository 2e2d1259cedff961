"""The composition root: the one place that decides which adapter serves which port."""

from __future__ import annotations

from datetime import timedelta

from dependency_injector import containers, providers

from adapters.argon2_hasher import Argon2PasswordHasher
from adapters.email_normalizer import EmailValidatorNormalizer
from adapters.jwt_tokens import JwtTokenIssuer
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
from adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from adapters.system_clock import SystemClock
from adapters.tenacity_retry import TenacityTransactionRetry
from application.money_movement import MoneyMovement
from application.ports.attempt_limiter import AttemptPolicy
from application.throttle import Throttle, ThrottlePolicies
from application.use_cases.authenticate import Authenticate
from application.use_cases.deposit import Deposit
from application.use_cases.get_account import GetAccount
from application.use_cases.get_account_summary import GetAccountSummary
from application.use_cases.get_current_user import GetCurrentUser
from application.use_cases.get_statement import GetStatement
from application.use_cases.get_transfer import GetTransfer
from application.use_cases.list_accounts import ListAccounts
from application.use_cases.open_account import OpenAccount
from application.use_cases.purge_expired import PurgeExpired
from application.use_cases.reconcile_ledger import ReconcileLedger
from application.use_cases.register_user import RegisterUser
from application.use_cases.transfer_funds import TransferFunds
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
    )


class Container(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)
    database_url = providers.Dependency(instance_of=str)
    # Resolved on first use: commands that issue no token (migrate, reconcile) need no secret.
    jwt_secret = providers.Singleton(Settings.resolved_jwt_secret, settings)

    clock = providers.Singleton(SystemClock)

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
    engine = providers.Singleton(create_engine, database_url, engine_options)
    engine_lifetime = providers.Resource(disposed_on_shutdown, engine)
    replica_engine = providers.Singleton(
        optional_engine, settings.provided.read_replica_url, engine_options
    )
    replica_lifetime = providers.Resource(disposed_on_shutdown, replica_engine)

    # Writes: one transaction per unit of work.
    session_factory = providers.Singleton(make_session_factory, engine)
    unit_of_work = providers.Factory(SqlAlchemyUnitOfWork, session_factory)
    # Reads that need no transaction: autocommit on the primary, no BEGIN/ROLLBACK.
    autocommit_engine = providers.Singleton(autocommit, engine, settings.provided.db_pgbouncer)
    read_session_factory = providers.Singleton(make_session_factory, autocommit_engine)
    read_unit_of_work = providers.Factory(SqlAlchemyUnitOfWork, read_session_factory)
    # Statements and summaries tolerate replica lag; every other read uses the primary.
    report_session_factory = providers.Singleton(
        make_session_factory,
        providers.Singleton(reporting_engine, autocommit_engine, replica_engine),
    )
    report_unit_of_work = providers.Factory(SqlAlchemyUnitOfWork, report_session_factory)
    database_health = providers.Singleton(
        DatabaseHealth, engine, timeout_s=settings.provided.health_timeout_s
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
    money_movement = providers.Singleton(
        MoneyMovement, unit_of_work.provider, clock, transaction_retry
    )

    throttle = providers.Singleton(
        Throttle,
        providers.Singleton(SqlAlchemyAttemptLimiter, autocommit_engine),
        clock,
        providers.Factory(throttle_policies, settings),
    )

    register_user = providers.Singleton(
        RegisterUser,
        unit_of_work.provider,
        password_hasher,
        email_normalizer,
        clock,
        transaction_retry,
        throttle,
    )
    authenticate = providers.Singleton(
        Authenticate,
        read_unit_of_work.provider,
        password_hasher,
        email_normalizer,
        token_issuer,
        throttle,
    )
    get_current_user = providers.Singleton(
        GetCurrentUser,
        read_unit_of_work.provider,
        token_issuer,
        clock,
        recheck_after=providers.Factory(timedelta, seconds=settings.provided.auth_recheck_s),
    )
    open_account = providers.Singleton(OpenAccount, unit_of_work.provider, clock)
    get_account = providers.Singleton(GetAccount, read_unit_of_work.provider)
    list_accounts = providers.Singleton(ListAccounts, read_unit_of_work.provider)
    get_account_summary = providers.Singleton(GetAccountSummary, report_unit_of_work.provider)
    get_statement = providers.Singleton(GetStatement, report_unit_of_work.provider)
    get_transfer = providers.Singleton(GetTransfer, read_unit_of_work.provider)
    deposit = providers.Singleton(
        Deposit, money_movement, max_amount=settings.provided.max_transfer_amount
    )
    transfer_funds = providers.Singleton(
        TransferFunds, money_movement, max_amount=settings.provided.max_transfer_amount
    )
    reconcile_ledger = providers.Singleton(ReconcileLedger, unit_of_work.provider)
    purge_expired = providers.Singleton(PurgeExpired, unit_of_work.provider, throttle, clock)


def build_container(settings: Settings, database_url: str) -> Container:
    """A container for one database; nothing is built or connected until first asked for."""
    return Container(settings=settings, database_url=database_url)
