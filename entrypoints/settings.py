"""Settings from the environment (prefix HEXBANK_) and an optional .env file."""

from __future__ import annotations

import difflib
import ipaddress
import os
import secrets
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

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
from adapters.ed25519_statement_signer import (
    new_private_key_pem,
    private_key_bytes,
    public_keys_bytes,
)
from application.use_cases.list_statement_keys import MAX_STATEMENT_KEYS
from application.use_cases.transfer_batch import MAX_BATCH_SIZE
from domain.api_key import MAX_KEYS_PER_USER
from domain.money import MAX_MINOR_UNITS
from domain.webhook import MAX_ENDPOINTS_PER_USER

MIN_JWT_SECRET_BYTES = 32
MIN_METRICS_TOKEN_BYTES = 16


def is_loopback(host: str) -> bool:
    """Whether only this machine can reach `host`: a loopback address or `localhost`. A
    name is not resolved here; any other name counts as reachable from elsewhere."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


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
    data_dir: Path = Field(
        default=Path(".data"),
        description="Where the embedded PostgreSQL and NATS keep their data, and the generated "
        "JWT secret lives.",
    )
    host: str = Field(
        default="127.0.0.1",
        validation_alias=AliasChoices("HEXBANK_HOST", "HOST"),
        description="The address `hexbank serve` listens on.",
    )
    port: int = Field(
        default=8000,
        ge=1,
        le=65535,
        validation_alias=AliasChoices("HEXBANK_PORT", "PORT"),
        description="The HTTP port.",
    )
    max_header_bytes: int = Field(
        default=16 * 1024,
        ge=1024,
        le=1024 * 1024,
        description="The request line and headers of one request, in all; beyond it the "
        "answer is 431 and the connection is closed, with nothing more read into memory.",
    )
    header_timeout_s: float = Field(
        default=10.0,
        gt=0,
        le=300,
        description="Time for a connection's request line and headers to arrive, counted from "
        "the connection's start and from the first byte of each later request; then it is "
        "closed (408 if part of a request had come).",
    )
    keep_alive_timeout_s: float = Field(
        default=5.0,
        gt=0,
        le=300,
        description="An idle keep-alive connection is closed after this long.",
    )
    worker_healthcheck_s: int = Field(
        default=30,
        ge=1,
        le=3600,
        description="With --workers: a worker that does not answer the supervisor's ping "
        "within this long is killed and replaced (uvicorn's own 5 s kills workers that are "
        "only slow to start on a loaded host).",
    )
    max_connections: int = Field(
        default=4096,
        ge=1,
        le=1_000_000,
        description="Open client connections per server process; beyond it a new connection "
        "gets 503 and is closed at once. The open-file limit is raised to fit it at start.",
    )
    metrics_host: str = Field(
        default="127.0.0.1",
        description="Address of the /metrics listener; one that is not loopback needs "
        "HEXBANK_METRICS_TOKEN.",
    )
    metrics_port: int = Field(
        default=9464,
        ge=0,
        le=65535,
        description="Port of the /metrics listener (not the API's port); 0: any free port, "
        "logged at start.",
    )
    metrics_token: SecretStr | None = Field(
        default=None,
        validate_default=True,
        description="When set, /metrics requires `Authorization: Bearer <token>`.",
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
    log_level: str = Field(
        default="info", description="debug, info, warning or error: the least level logged."
    )
    log_format: Literal["auto", "json", "console"] = Field(
        default="auto", description="auto: readable on a terminal, JSON lines otherwise."
    )

    # Sized by `make bench`: 20 keep 2 cores of PostgreSQL busy; overflow connections would
    # be opened and closed again under sustained load (connection churn), so none by default.
    db_pool_size: int = Field(
        default=20, ge=1, le=1000, description="Connections each process keeps open."
    )
    db_max_overflow: int = Field(
        default=0, ge=0, le=1000, description="Connections opened beyond the pool under load."
    )
    db_pool_timeout_s: float = Field(
        default=5.0,
        gt=0,
        le=600,
        description="How long a request waits for a connection before its 503.",
    )
    db_pool_pre_ping: bool = Field(
        default=False,
        description="Ping each connection at checkout. Off: a dead connection fails one "
        "request with 503 and SQLAlchemy then invalidates the whole pool.",
    )
    db_connect_timeout_s: float = Field(
        default=5.0, gt=0, le=600, description="How long opening a connection may take."
    )
    db_statement_timeout_ms: int = Field(
        default=10_000, ge=1, le=86_400_000, description="PostgreSQL's statement_timeout."
    )
    db_lock_timeout_ms: int = Field(
        default=5_000, ge=1, le=86_400_000, description="PostgreSQL's lock_timeout."
    )
    db_command_timeout_s: float = Field(
        default=15.0,
        gt=0,
        le=86_400,
        description="Client-side limit of one statement, for a network that hangs.",
    )
    # Not REPEATABLE READ: there a debit waiting for an account's lock keeps its first
    # snapshot and misses a hold committed meanwhile, and nothing aborts it (no row changed).
    db_isolation_level: Literal["READ COMMITTED", "SERIALIZABLE"] = Field(
        default="READ COMMITTED",
        description="Isolation of write transactions; under SERIALIZABLE raise "
        "HEXBANK_TRANSFER_RETRY_ATTEMPTS (e.g. 25).",
    )
    db_statement_cache_size: int = Field(
        default=100, ge=0, le=100_000, description="Prepared statements cached per connection."
    )
    db_pgbouncer: bool = Field(
        default=False,
        description="Connect through PgBouncer in transaction pooling mode (see docs/scaling.md).",
    )

    jwt_secret: SecretStr | None = Field(
        default=None,
        description="The HS256 key of access tokens, 32 bytes or more; unset: generated into "
        "data_dir/jwt-secret (embedded database only).",
    )
    statement_signing_key: SecretStr | None = Field(
        default=None,
        description="The Ed25519 private key statements are signed with, PEM (PKCS#8) or "
        "base64 of its 32 raw bytes; unset: generated into data_dir/statement-signing-key.pem "
        "(embedded database only).",
    )
    statement_previous_public_keys: str = Field(
        default="",
        description="Public keys statements were signed with before a rotation (PEM blocks, "
        "or base64 of 32 raw bytes, comma-separated; at most 99): published at "
        "/api/v1/statement-keys so older statements still verify.",
    )
    statement_max_entries: int = Field(
        default=10_000,
        ge=1,
        le=1_000_000,
        description="Entries one signed statement may hold (it is built and signed whole); "
        "a longer range is refused 422 `statement-too-large`.",
    )
    jwt_lifetime_s: int = Field(
        default=3600, ge=1, le=31_536_000, description="Lifetime of an access token."
    )
    auth_recheck_s: float = Field(
        default=5.0,
        ge=0,
        le=3600,
        description="How long a token's user, once found active, is trusted without a "
        "database read; a deactivation takes effect within this window. 0: every request.",
    )
    api_key_rate: float = Field(
        default=200.0,
        gt=0,
        le=1_000_000,
        description="Requests per second one API key may send, per instance (each process "
        "counts on its own), with a burst of twice that; one more is refused 429 "
        "`rate-limited` with Retry-After.",
    )
    api_keys_per_user: int = Field(
        default=MAX_KEYS_PER_USER,
        ge=1,
        le=10_000,
        description="Live API keys (neither revoked nor expired) one user may have; one more "
        "is refused 409 `too-many-keys`.",
    )
    api_key_cache_s: float = Field(
        default=2.0,
        ge=0,
        le=5,
        description="How long an API key, once found live, is trusted without a database "
        "read: a revocation takes effect on every instance within this window (at most 5 s). "
        "0: every request.",
    )
    api_key_touch_s: float = Field(
        default=60.0,
        ge=60,
        le=86_400,
        description="A key's `last_used_at` is written at most once in this many seconds.",
    )

    # OWASP's Argon2id baseline (19 MiB, 2 passes, 1 lane). Above 32 MiB glibc maps and
    # unmaps every hash's memory, and that stalls the event loop's thread for tens of ms.
    argon2_time_cost: int = Field(default=2, ge=1, le=100, description="Argon2id passes.")
    argon2_memory_kib: int = Field(
        default=19456,
        ge=8,
        le=4_194_304,
        description="Argon2id memory per hash, in KiB (at least 8 per lane).",
    )
    argon2_parallelism: int = Field(default=1, ge=1, le=64, description="Argon2id lanes.")
    password_hash_workers: int = Field(
        default_factory=default_workers,
        ge=1,
        le=256,
        description="Threads hashing passwords at once; default: all cores but one.",
    )

    login_failures_per_email: int = Field(
        default=5, ge=1, le=1_000_000, description="Failed logins per email in a window."
    )
    login_failures_per_client: int = Field(
        default=20,
        ge=1,
        le=1_000_000,
        description="Failed logins per client address in a window.",
    )
    login_window_s: int = Field(
        default=15 * 60, ge=1, le=2_592_000, description="The window of failed logins."
    )
    registrations_per_client: int = Field(
        default=20, ge=1, le=1_000_000, description="Registrations per client address in a window."
    )
    registration_window_s: int = Field(
        default=60 * 60, ge=1, le=2_592_000, description="The window of registrations."
    )

    token_attempts_per_client: int = Field(
        default=60,
        ge=1,
        le=1_000_000,
        description="Attempts at POST /api/v1/auth/token per client address and "
        "token_attempts_window_s, successful ones included; past it 429 too-many-attempts.",
    )
    token_attempts_window_s: int = Field(
        default=60, ge=1, le=24 * 60 * 60, description="The window of token attempts."
    )
    token_refusal_delay_s: float = Field(
        default=1.0,
        ge=0,
        le=30,
        description="How long a token request refused as too-many-attempts waits, holding "
        "its address's turn, before it is answered: a loop that ignores Retry-After is held "
        "to about one attempt per delay instead of spinning on cheap refusals.",
    )
    token_in_flight_per_client: int = Field(
        default=64,
        ge=1,
        le=100_000,
        description="Token requests of one client address in flight at once, per process; "
        "past it 429 too-many-requests. While other addresses log in too, they take turns "
        "(max_running_per_user at a time): a storm waits for its answers instead of "
        "queueing password hashes in front of everyone else's.",
    )

    max_in_flight_per_user: int = Field(
        default=16,
        ge=1,
        le=100_000,
        description="Requests of one user in flight at once, per process; past it 429 "
        "too-many-requests.",
    )
    max_running_per_user: int = Field(
        default=1,
        ge=1,
        le=100_000,
        description="While other users are active too, how many of one user's requests in "
        "flight do their work at once, per process; the others wait their turn, so one "
        "user's burst cannot fill the event loop and the pool in front of everyone else. A "
        "user alone runs all it has in flight. At most max_in_flight_per_user.",
    )
    busy_user_pause: float = Field(
        default=1.0,
        ge=0,
        le=100,
        description="While other users are active too, a user with requests waiting their "
        "turn gets it after this many times the running time of their request that just "
        "ended: 1 leaves a busy user about half of the process's time. 0: no pause.",
    )
    read_statement_timeout_ms: int = Field(
        default=2_000,
        ge=1,
        le=3_600_000,
        description="Server-side timeout of each read statement (writes: "
        "db_statement_timeout_ms); a read cut by it answers 503 read-timeout.",
    )
    request_deadline_s: float = Field(
        default=15.0,
        gt=0,
        le=3600,
        description="No request is answered later than this: past it, 503 "
        "deadline-exceeded (a write may still complete; its retry with the same "
        "Idempotency-Key replays it).",
    )

    max_body_bytes: int = Field(
        default=1024 * 1024,
        ge=1024,
        le=1024**3,
        description="Larger request bodies get 413.",
    )
    max_transfer_amount: int = Field(
        default=10**12,
        ge=1,
        le=MAX_MINOR_UNITS,
        description="The largest amount one movement may carry, in minor units.",
    )
    transfer_retry_attempts: int = Field(
        default=10,
        ge=1,
        le=1000,
        description="Attempts of a money movement on serialization failures and deadlocks. "
        "Under SERIALIZABLE each waiter on a hot account fails once and retries: raise it "
        "(25 holds a 24-way hot spot) when running SERIALIZABLE.",
    )
    health_timeout_s: float = Field(
        default=2.0, gt=0, le=60, description="How long /health/ready waits for the database."
    )
    max_accounts_per_user: int = Field(
        default=1_000,
        ge=1,
        le=1_000_000,
        description="Open accounts (active or frozen) one user may have; closed ones do not "
        "count. One more is refused 409 `too-many-accounts`.",
    )
    max_monitors_per_account: int = Field(
        default=20,
        ge=1,
        le=1_000,
        description="Balance monitors one account may have (every movement of the account "
        "reads them). One more is refused 409 `too-many-monitors`.",
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
        description="on: money movements that arrive while a transaction is in flight are "
        "decided and written together, one transaction per group; off: one transaction per "
        "movement.",
    )
    group_commit_slots: int = Field(
        default=2,
        ge=1,
        le=64,
        description="Transactions of money movements in flight at once; a movement that finds "
        "none in flight on its accounts runs at once, alone.",
    )
    group_commit_max_size: int = Field(
        default=MAX_BATCH_SIZE, ge=1, le=MAX_BATCH_SIZE, description="Movements per group, at most."
    )
    group_commit_min_overlap: int = Field(
        default=8,
        ge=1,
        le=MAX_BATCH_SIZE,
        description="Movements that must be waiting for a transaction to start beside one "
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
    nats_port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="The embedded NATS server's port (loopback only); unset: a free one at "
        "every start. Ignored with HEXBANK_NATS_URL.",
    )
    relay_batch_size: int = Field(
        default=100, ge=1, le=10_000, description="Events the relay leases and sends at once."
    )
    relay_idle_s: float = Field(
        default=0.2, gt=0, le=60, description="How long the relay waits when nothing is waiting."
    )
    relay_retry_s: float = Field(
        default=2.0,
        gt=0,
        le=3600,
        description="How long the relay waits after the broker failed.",
    )

    # Webhooks (issue 24; docs/webhooks.md)
    webhooks: Literal["on", "off"] = Field(
        default="on",
        description="off: `hexbank serve` delivers no webhooks (run `hexbank webhooks` apart); "
        "endpoints and their queue stay.",
    )
    webhooks_allow_private: bool = Field(
        default=False,
        description="true allows http and private, loopback, link-local and reserved "
        "addresses as webhook URLs (development and tests only); otherwise they are refused "
        "422 `unsafe-webhook-url`, when saved and on every delivery.",
    )
    webhook_secrets_key: SecretStr | None = Field(
        default=None,
        description="The key webhook endpoints' secrets are sealed with in the database "
        "(AES-256-GCM, key derived by HKDF-SHA256), 32 bytes or more; unset: derived from the "
        "JWT secret, so changing that makes stored webhook secrets unreadable.",
    )
    webhook_retry_hours: float = Field(
        default=72.0,
        gt=0,
        le=720,
        description="How long a webhook delivery is retried (exponential backoff, full "
        "jitter) before it is marked failed; an endpoint whose every delivery failed this "
        "long is disabled.",
    )
    webhook_concurrency: int = Field(
        default=8,
        ge=1,
        le=256,
        description="Deliveries in flight per endpoint, per process (one while the endpoint "
        "is failing).",
    )
    webhook_endpoints_per_user: int = Field(
        default=MAX_ENDPOINTS_PER_USER,
        ge=1,
        le=1000,
        description="Webhook endpoints one user may have; one more is refused 409 "
        "`too-many-webhook-endpoints`.",
    )
    webhook_batch_size: int = Field(
        default=100,
        ge=1,
        le=10_000,
        description="Deliveries leased per webhook pass (and fresh ones a worker keeps waiting).",
    )
    webhook_fan_out_size: int = Field(
        default=1_000,
        ge=1,
        le=10_000,
        description="Events fanned out into deliveries per webhook pass; after a full one "
        "the next pass starts at once, so the fan-out keeps up with the money path's events.",
    )
    webhook_idle_s: float = Field(
        default=0.2,
        gt=0,
        le=60,
        description="How long webhook delivery waits when nothing is due.",
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

    @field_validator("argon2_parallelism")
    @classmethod
    def _memory_for_every_lane(cls, value: int, info: ValidationInfo) -> int:
        memory = info.data.get("argon2_memory_kib")
        if memory is not None and memory < 8 * value:
            raise ValueError(
                f"Argon2 needs 8 KiB per lane: HEXBANK_ARGON2_MEMORY_KIB ({memory}) allows "
                f"at most {memory // 8}"
            )
        return value

    @field_validator("metrics_token")
    @classmethod
    def _token_off_loopback(cls, token: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        """Metrics show the money moved: a listener others can reach must ask for a token."""
        if token is not None and len(token.get_secret_value().encode()) < MIN_METRICS_TOKEN_BYTES:
            raise ValueError(f"at least {MIN_METRICS_TOKEN_BYTES} bytes")
        host = info.data.get("metrics_host")
        if token is None and host is not None and not is_loopback(host):
            raise ValueError(
                f"required when HEXBANK_METRICS_HOST ({host}) is not a loopback address: "
                "set it, or listen on 127.0.0.1"
            )
        return token

    @field_validator("max_running_per_user")
    @classmethod
    def _within_in_flight(cls, value: int, info: ValidationInfo) -> int:
        for name in ("max_in_flight_per_user", "token_in_flight_per_client"):
            in_flight = info.data.get(name)
            if in_flight is not None and value > in_flight:
                raise ValueError(f"at most HEXBANK_{name.upper()} ({in_flight})")
        return value

    @field_validator("jwt_secret", "webhook_secrets_key")
    @classmethod
    def _long_enough(cls, secret: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        if secret is not None and len(secret.get_secret_value().encode()) < MIN_JWT_SECRET_BYTES:
            name = f"HEXBANK_{(info.field_name or '').upper()}"
            raise ValueError(f"{name} must be at least {MIN_JWT_SECRET_BYTES} bytes.")
        return secret

    def webhook_sealing_key(self) -> str:
        """What webhook secrets are sealed with: HEXBANK_WEBHOOK_SECRETS_KEY, else the JWT
        secret (resolved as for tokens)."""
        if self.webhook_secrets_key is not None:
            return self.webhook_secrets_key.get_secret_value()
        return self.resolved_jwt_secret()

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

    def resolved_statement_signing_key(self) -> bytes:
        """The 32 raw bytes of the configured key; with the embedded database, one generated
        once and kept under data_dir. A shared database with no key is refused: instances
        would each sign with their own key, and publish only theirs."""
        if self.statement_signing_key is not None:
            text = self.statement_signing_key.get_secret_value()
        elif self.database_url is not None:
            raise ConfigurationError(
                "set HEXBANK_STATEMENT_SIGNING_KEY (an Ed25519 private key, PEM or base64): "
                "every instance on a shared database (DATABASE_URL) must sign statements "
                "with the same key"
            )
        else:
            path = self.data_dir / "statement-signing-key.pem"
            if not path.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
                path.touch(mode=0o600)
                path.write_bytes(new_private_key_pem())
            text = path.read_text()
        try:
            return private_key_bytes(text)
        except ValueError as error:
            raise ConfigurationError(f"HEXBANK_STATEMENT_SIGNING_KEY: {error}") from None

    def resolved_statement_previous_public_keys(self) -> list[bytes]:
        try:
            keys = public_keys_bytes(self.statement_previous_public_keys)
        except ValueError as error:
            raise ConfigurationError(f"HEXBANK_STATEMENT_PREVIOUS_PUBLIC_KEYS: {error}") from None
        if len(set(keys)) > MAX_STATEMENT_KEYS - 1:  # the current key is published too
            raise ConfigurationError(
                f"HEXBANK_STATEMENT_PREVIOUS_PUBLIC_KEYS: at most {MAX_STATEMENT_KEYS - 1} keys"
                f" (GET /api/v1/statement-keys lists {MAX_STATEMENT_KEYS} with the current one),"
                f" {len(set(keys))} given"
            )
        return keys


ENV_PREFIX = "HEXBANK_"
# Their values are never repeated in a message: they may carry a password or a key.
_SECRET_FIELDS = frozenset(
    {
        "database_url",
        "read_replica_url",
        "jwt_secret",
        "nats_url",
        "metrics_token",
        "statement_signing_key",
        "webhook_secrets_key",
    }
)


def load_settings() -> Settings:
    """Settings from the environment, or `ConfigurationError` naming the first bad one in one
    line: the variable, the value and the range it must be in. An unknown `HEXBANK_*`
    variable is not an error (it may belong to a newer version) but is pointed out on stderr,
    with the known setting it most resembles."""
    for warning in unknown_variables(os.environ):
        print(f"hexbank: warning: {warning}", file=sys.stderr)
    try:
        return Settings()
    except ValidationError as error:
        raise ConfigurationError(_describe(error.errors()[0])) from None


def variable_names(field: str) -> list[str]:
    """The environment variables that set `field`, the HEXBANK_ one first."""
    alias = Settings.model_fields[field].validation_alias
    if isinstance(alias, AliasChoices):
        return [str(choice) for choice in alias.choices]
    return [ENV_PREFIX + field.upper()]


def known_variables() -> set[str]:
    return {name for field in Settings.model_fields for name in variable_names(field)}


def unknown_variables(environ: Mapping[str, str]) -> list[str]:
    """One line per `HEXBANK_*` variable that sets nothing, naming the closest setting."""
    known = sorted(name for name in known_variables() if name.startswith(ENV_PREFIX))
    lines = []
    for name in sorted(environ):
        if name.startswith(ENV_PREFIX) and name not in known:
            closest = difflib.get_close_matches(name, known, n=1, cutoff=0.0)
            hint = f"; did you mean {closest[0]}?" if closest else ""
            lines.append(f"{name} is not a setting and is ignored{hint}")
    return lines


def allowed_range(field: str) -> str:
    """The field's bounds as `1 <= value <= 1000`; empty when it has none."""
    low, high = "", ""
    for rule in Settings.model_fields[field].metadata:
        if (bound := getattr(rule, "ge", None)) is not None:
            low = f"{bound} <= "
        elif (bound := getattr(rule, "gt", None)) is not None:
            low = f"{bound} < "
        elif (bound := getattr(rule, "le", None)) is not None:
            high = f" <= {bound}"
        elif (bound := getattr(rule, "lt", None)) is not None:
            high = f" < {bound}"
    return f"{low}value{high}" if low or high else ""


_OUT_OF_RANGE = frozenset({"greater_than", "greater_than_equal", "less_than", "less_than_equal"})


def _describe(error: Mapping[str, Any]) -> str:
    location = str(error["loc"][0])
    field = location if location in Settings.model_fields else None
    if field is None:  # reported under an alias (HEXBANK_PORT, DATABASE_URL...)
        field = next(
            (f for f in Settings.model_fields if location.upper() in variable_names(f)), None
        )
    if field is None:
        return f"{location}: {error['msg']}"
    names = variable_names(field)
    name = next((n for n in names if n in os.environ), names[0])  # the one that was set
    message = str(error["msg"]).removeprefix("Value error, ")
    if field in _SECRET_FIELDS:
        return f"{name}: {message}"
    bounds = allowed_range(field)
    if error["type"] in _OUT_OF_RANGE:
        return f"{name}={error['input']} is out of range (allowed: {bounds})"
    within = f" (allowed: {bounds})" if bounds else ""
    return f"{name}={error['input']}: {message}{within}"
