"""Settings from the environment (prefix HEXBANK_) and an optional .env file."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    AliasChoices,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url

from adapters.argon2_hasher import default_workers
from application.use_cases.transfer_batch import MAX_BATCH_SIZE
from domain.money import MAX_MINOR_UNITS

MIN_JWT_SECRET_BYTES = 32


class ConfigurationError(Exception):
    """The settings cannot work as given; the message names what to set."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="HEXBANK_", env_file=".env", extra="ignore", populate_by_name=True
    )

    database_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("HEXBANK_DATABASE_URL", "DATABASE_URL"),
        description="postgresql://... (the asyncpg driver is used whatever the URL names); "
        "unset means the embedded server under data_dir.",
    )
    read_replica_url: str | None = Field(
        default=None,
        description="A streaming replica for statement and summary reads; unset: the primary.",
    )
    data_dir: Path = Path(".data")
    host: str = Field(default="127.0.0.1", validation_alias=AliasChoices("HEXBANK_HOST", "HOST"))
    port: int = Field(
        default=8000, ge=0, le=65535, validation_alias=AliasChoices("HEXBANK_PORT", "PORT")
    )
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Addresses of the reverse proxies whose X-Forwarded-For / X-Forwarded-Proto "
        "are believed (comma-separated; `*` trusts any peer). Empty: the peer's own address "
        "is the client, whatever headers it sends, so no client can pick its throttle key.",
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Browser origins allowed to call the API cross-origin (comma-separated, "
        "such as `https://app.example.com`). Empty: CORS is off and browsers keep to the "
        "same origin.",
    )
    gzip_min_bytes: int = Field(
        default=1024,
        ge=1,  # an empty body is never compressed
        le=1 << 30,
        description="Answers of at least this many bytes are gzip-compressed for clients "
        "that accept it; smaller ones cost more to compress than they save.",
    )
    log_level: str = "info"
    log_format: Literal["auto", "json", "console"] = Field(
        default="auto", description="auto: readable on a terminal, JSON lines otherwise."
    )

    # Sized by `make bench`: 20 keep 2 cores of PostgreSQL busy; overflow connections would
    # be opened and closed again under sustained load (connection churn), so none by default.
    db_pool_size: int = 20
    db_max_overflow: int = 0
    db_pool_timeout_s: float = 5.0
    db_pool_pre_ping: bool = Field(
        default=False,
        description="Ping each connection at checkout. Off: a dead connection fails one "
        "request with 503 and SQLAlchemy then invalidates the whole pool.",
    )
    db_connect_timeout_s: float = 5.0
    db_statement_timeout_ms: int = 10_000
    db_lock_timeout_ms: int = 5_000
    db_command_timeout_s: float = 15.0
    # Not REPEATABLE READ: there a debit waiting for an account's lock keeps its first
    # snapshot and misses a hold committed meanwhile, and nothing aborts it (no row changed).
    db_isolation_level: Literal["READ COMMITTED", "SERIALIZABLE"] = "READ COMMITTED"
    db_statement_cache_size: int = Field(
        default=100, description="Prepared statements cached per connection."
    )
    db_pgbouncer: bool = Field(
        default=False,
        description="Connect through PgBouncer in transaction pooling mode (see docs/scaling.md).",
    )

    jwt_secret: SecretStr | None = None
    jwt_lifetime_s: int = 3600
    auth_recheck_s: float = Field(
        default=5.0,
        description="How long a token's user, once found active, is trusted without a "
        "database read; a deactivation takes effect within this window. 0: every request.",
    )

    # OWASP's Argon2id baseline (19 MiB, 2 passes, 1 lane). Above 32 MiB glibc maps and
    # unmaps every hash's memory, and that stalls the event loop's thread for tens of ms.
    argon2_time_cost: int = 2
    argon2_memory_kib: int = 19456
    argon2_parallelism: int = 1
    password_hash_workers: int = Field(
        default_factory=default_workers,
        description="Threads hashing passwords at once; default: all cores but one.",
    )

    login_failures_per_email: int = 5
    login_failures_per_client: int = 20
    login_window_s: int = 15 * 60
    registrations_per_client: int = 20
    registration_window_s: int = 60 * 60

    max_body_bytes: int = 1024 * 1024
    max_transfer_amount: int = Field(
        default=10**12,
        ge=1,
        le=MAX_MINOR_UNITS,
        description="The largest amount one movement may carry, in minor units.",
    )
    transfer_retry_attempts: int = Field(
        default=10,
        description="Attempts of a money movement on serialization failures and deadlocks. "
        "Under SERIALIZABLE each waiter on a hot account fails once and retries: raise it "
        "(25 holds a 24-way hot spot) when running SERIALIZABLE.",
    )
    health_timeout_s: float = 2.0
    max_accounts_per_user: int = Field(
        default=1_000,
        ge=1,
        le=1_000_000,
        description="Open accounts (active or frozen) one user may have; closed ones do not "
        "count. One more is refused 409 `too-many-accounts`.",
    )
    max_page_bytes: int = Field(
        default=256 * 1024,
        ge=16 * 1024,
        le=4 * 1024 * 1024,
        description="The JSON a page of a list (accounts, transfer search, event feed) may "
        "reach, estimated from its items' text: a page stops early, with a cursor, rather "
        "than pass it (a page's first item always counts).",
    )

    group_commit: Literal["on", "off"] = Field(
        default="on",
        description="on: transfers that arrive while a transaction is in flight are decided "
        "and written together, one transaction per group; off: one transaction per transfer.",
    )
    group_commit_slots: int = Field(
        default=2,
        ge=1,
        le=64,
        description="Transactions of transfers in flight at once; a transfer that finds none "
        "in flight runs at once, alone.",
    )
    group_commit_max_size: int = Field(
        default=MAX_BATCH_SIZE, ge=1, le=MAX_BATCH_SIZE, description="Transfers per group, at most."
    )
    group_commit_min_overlap: int = Field(
        default=8,
        ge=1,
        le=MAX_BATCH_SIZE,
        description="Transfers that must be waiting for a transaction to start beside one "
        "already in flight; fewer wait for it to end (with nothing in flight, one goes at once).",
    )

    events: Literal["on", "off"] = Field(
        default="on",
        description="off: no delivery to a broker (the outbox and the feed stay).",
    )
    nats_url: str | None = Field(
        default=None,
        description="nats://host:port of a NATS server with JetStream; unset: an embedded "
        "nats-server under data_dir/nats.",
    )
    relay_batch_size: int = Field(default=100, ge=1, le=10_000)
    relay_idle_s: float = Field(
        default=0.2, gt=0, description="How long the relay waits when nothing is waiting."
    )
    relay_retry_s: float = Field(
        default=2.0, gt=0, description="How long the relay waits after the broker failed."
    )

    @field_validator("trusted_proxies", "cors_origins", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("database_url", "read_replica_url")
    @classmethod
    def _asyncpg_driver(cls, url: str | None) -> str | None:
        """Accept the plain `postgresql://` form every other tool prints; hexbank always
        talks to PostgreSQL through asyncpg."""
        if url is None:
            return None
        try:
            parsed = make_url(url)
        except Exception as error:  # SQLAlchemy raises ArgumentError with a long text
            raise ValueError("not a database URL (expected postgresql://user@host/db)") from error
        if parsed.get_backend_name() not in ("postgresql", "postgres"):
            raise ValueError(f"{parsed.drivername}:// is not PostgreSQL (expected postgresql://)")
        return parsed.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)

    @field_validator("group_commit_min_overlap")
    @classmethod
    def _within_a_group(cls, value: int, info: ValidationInfo) -> int:
        largest = info.data.get("group_commit_max_size")
        if largest is not None and value > largest:
            raise ValueError(
                f"at most HEXBANK_GROUP_COMMIT_MAX_SIZE ({largest}): no group could start "
                "beside another"
            )
        return value

    @field_validator("jwt_secret")
    @classmethod
    def _long_enough(cls, secret: SecretStr | None) -> SecretStr | None:
        if secret is not None and len(secret.get_secret_value().encode()) < MIN_JWT_SECRET_BYTES:
            raise ValueError(f"HEXBANK_JWT_SECRET must be at least {MIN_JWT_SECRET_BYTES} bytes.")
        return secret

    def resolved_jwt_secret(self) -> str:
        """The configured secret; with the embedded database, one generated once and kept
        under data_dir. A shared database with no secret is refused: instances would each
        sign with their own key."""
        if self.jwt_secret is not None:
            return self.jwt_secret.get_secret_value()
        if self.database_url is not None:
            raise ConfigurationError(
                "set HEXBANK_JWT_SECRET (32 bytes or more): every instance on a shared "
                "database (DATABASE_URL) must sign tokens with the same key"
            )
        path = self.data_dir / "jwt-secret"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch(mode=0o600)
            path.write_text(secrets.token_urlsafe(48))
        return path.read_text().strip()


def load_settings() -> Settings:
    """Settings from the environment, or `ConfigurationError` naming the first bad one."""
    try:
        return Settings()
    except ValidationError as error:
        first = error.errors()[0]
        name = "HEXBANK_" + "_".join(str(part) for part in first["loc"]).upper()
        message = str(first["msg"]).removeprefix("Value error, ")
        raise ConfigurationError(f"{name}: {message}") from None
