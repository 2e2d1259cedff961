"""The schema. Constraints are named, so errors can be told apart by name and migrations
stay reviewable; they are the last guard of every money rule, after the domain's checks."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
    cast,
    func,
    literal_column,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSON, JSONB
from sqlalchemy.sql.elements import ColumnElement


def written_in(value: str) -> ColumnElement[Any]:
    """A constant written into the SQL, not bound. A prepared statement runs on a generic
    plan from its sixth execution, and a generic plan cannot match a partial index (`WHERE
    status = 'pending'`) to `status = $1`: it would read an account's whole history instead."""
    if not value.isidentifier():
        raise ValueError(f"{value!r} is not a constant of the schema")
    return literal_column(f"'{value}'")


def sum_as_bigint(expression: Any, where: Any = None) -> Any:
    """SUM as a BIGINT, 0 over no rows; PostgreSQL's SUM(bigint) is NUMERIC otherwise."""
    total = func.sum(expression) if where is None else func.sum(expression).filter(where)
    return cast(func.coalesce(total, 0), BigInteger)


GENESIS_HASH_SQL = text("decode(repeat('00', 32), 'hex')")
"""32 zero bytes: the head hash of an account without entries (domain/chain.py)."""

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

Timestamp = DateTime(timezone=True)

users = Table(
    "users",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("email", Text, nullable=False),
    Column("full_name", Text, nullable=False),
    Column("password_hash", Text, nullable=False),
    Column("is_active", Boolean, nullable=False),
    Column("created_at", Timestamp, nullable=False),
    UniqueConstraint("email"),
)

accounts = Table(
    "accounts",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("owner_id", Uuid, ForeignKey("users.id"), nullable=True),
    Column("kind", Text, nullable=False),
    Column("currency", Text, nullable=False),
    Column("balance", BigInteger, nullable=False),
    Column("entry_count", BigInteger, nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Column("status", Text, nullable=False, server_default="active"),
    Column("name", Text, nullable=True),
    Column("metadata", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("last_entry_at", Timestamp, nullable=True),
    # Its newest entry's entry_hash (32 zero bytes before the first): what the next chains from.
    Column("head_hash", LargeBinary, nullable=False, server_default=GENESIS_HASH_SQL),
    Column("overdraft_limit", BigInteger, nullable=False, server_default="0"),
    # The debt an operator's lowered limit left beyond the new limit, shrinking as it is
    # repaid: the CHECK below allows that much and no more (see migration 0013).
    Column("debt_above_limit", BigInteger, nullable=False, server_default="0"),
    # How many balance_monitors rows name it (0014): the write path reads monitors only then.
    Column("monitor_count", Integer, nullable=False, server_default="0"),
    CheckConstraint("kind IN ('customer', 'funding', 'fx')", name="kind_known"),
    CheckConstraint("status IN ('active', 'frozen', 'closed')", name="status_known"),
    CheckConstraint("char_length(name) BETWEEN 1 AND 80", name="name_length"),
    CheckConstraint("jsonb_typeof(metadata) = 'object'", name="metadata_object"),
    CheckConstraint("(kind = 'customer') = (owner_id IS NOT NULL)", name="owner_matches_kind"),
    CheckConstraint(
        "kind <> 'customer' OR balance >= -(overdraft_limit + debt_above_limit)",
        name="customer_balance_within_overdraft",
    ),
    CheckConstraint("overdraft_limit >= 0", name="overdraft_limit_non_negative"),
    CheckConstraint("debt_above_limit >= 0", name="debt_above_limit_non_negative"),
    CheckConstraint("monitor_count >= 0", name="monitor_count_non_negative"),
    CheckConstraint("currency ~ '^[A-Z]{3}$'", name="currency_code"),
    CheckConstraint("entry_count >= 0", name="entry_count_non_negative"),
    CheckConstraint("octet_length(head_hash) = 32", name="head_hash_sha256"),
    # An owner's accounts, keyset-paged in creation order (and counted when one is opened).
    Index("ix_accounts_owner_id_created_at", "owner_id", "created_at", "id"),
)

transfers = Table(
    "transfers",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("from_account_id", Uuid, ForeignKey("accounts.id"), nullable=False),
    Column("to_account_id", Uuid, ForeignKey("accounts.id"), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("currency", Text, nullable=False),
    Column("description", Text, nullable=True),
    Column("created_at", Timestamp, nullable=False),
    Column("kind", Text, nullable=False, server_default="transfer"),
    Column("status", Text, nullable=False, server_default="posted"),
    Column("expires_at", Timestamp, nullable=True),
    Column("posted_amount", BigInteger, nullable=True),
    Column("reversed_amount", BigInteger, nullable=False, server_default="0"),
    Column("reversal_of", Uuid, ForeignKey("transfers.id"), nullable=True),
    Column("reference", Text, nullable=True),
    Column("metadata", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("created_by", Uuid, ForeignKey("users.id"), nullable=True),
    Column("conversion_id", Uuid, nullable=True),
    CheckConstraint("amount > 0", name="amount_positive"),
    CheckConstraint("reference ~ '^[\\x21-\\x7E]{1,64}$'", name="reference_visible_ascii"),
    CheckConstraint("jsonb_typeof(metadata) = 'object'", name="metadata_object"),
    CheckConstraint("from_account_id <> to_account_id", name="distinct_accounts"),
    CheckConstraint("char_length(description) <= 140", name="description_length"),
    CheckConstraint(
        "kind IN ('transfer', 'deposit', 'withdrawal', 'reversal', 'conversion')",
        name="kind_known",
    ),
    CheckConstraint(
        "(kind = 'conversion') = (conversion_id IS NOT NULL)", name="conversion_legs_named"
    ),
    CheckConstraint("status IN ('posted', 'pending', 'voided', 'expired')", name="status_known"),
    CheckConstraint(
        "(status = 'posted') = (posted_amount IS NOT NULL)", name="posted_amount_when_posted"
    ),
    CheckConstraint(
        "posted_amount > 0 AND posted_amount <= amount", name="posted_amount_within_amount"
    ),
    CheckConstraint(
        "reversed_amount >= 0 AND reversed_amount <= coalesce(posted_amount, 0)",
        name="reversed_within_posted",
    ),
    CheckConstraint(
        "(kind = 'reversal') = (reversal_of IS NOT NULL)", name="reversal_names_original"
    ),
    CheckConstraint("expires_at IS NULL OR kind = 'transfer'", name="only_holds_expire"),
    # The holds debiting an account, summed whenever it is read or locked: held, available.
    Index(
        "ix_transfers_pending_from_account_id",
        "from_account_id",
        postgresql_where=text("status = 'pending'"),
        postgresql_include=["amount", "expires_at"],
    ),
    Index(
        "ix_transfers_pending_expires_at",
        "expires_at",
        postgresql_where=text("status = 'pending' AND expires_at IS NOT NULL"),
    ),
    Index(None, "reversal_of", postgresql_where=text("reversal_of IS NOT NULL")),
    # A reference names one transfer among those its user created (and is found by it).
    Index(
        "uq_transfers_created_by_reference",
        "created_by",
        "reference",
        unique=True,
        postgresql_where=text("reference IS NOT NULL"),
    ),
    Index("ix_transfers_reference", "reference", postgresql_where=text("reference IS NOT NULL")),
    # A conversion's two legs, found by it (and by the search's `conversion_id` filter).
    Index(
        "ix_transfers_conversion_id",
        "conversion_id",
        postgresql_where=text("conversion_id IS NOT NULL"),
    ),
    # Searching: newest first among the transfers touching an account, from either side.
    Index("ix_transfers_from_account_id_created_at", "from_account_id", "created_at", "id"),
    Index("ix_transfers_to_account_id_created_at", "to_account_id", "created_at", "id"),
    # A kind or status filter reads its matches in order and stops at the page size: without
    # these, one that matched nothing read the account's whole history to say so.
    *(
        Index(
            f"ix_transfers_{side}_account_id_{column}_created_at",
            f"{side}_account_id",
            column,
            "created_at",
            "id",
        )
        for side in ("from", "to")
        for column in ("kind", "status")
    ),
    Index(
        "ix_transfers_metadata",
        "metadata",
        postgresql_using="gin",
        postgresql_ops={"metadata": "jsonb_path_ops"},
        # Transfers without metadata (most) cost this index nothing on insert.
        postgresql_where=text("metadata <> '{}'::jsonb"),
    ),
)

ledger_entries = Table(
    "ledger_entries",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("account_id", Uuid, ForeignKey("accounts.id"), nullable=False),
    Column("transfer_id", Uuid, ForeignKey("transfers.id"), nullable=False),
    Column("sequence", BigInteger, nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("balance_after", BigInteger, nullable=False),
    Column("created_at", Timestamp, nullable=False),
    # SHA-256(previous entry_hash of the account || this entry), domain/chain.py.
    Column("entry_hash", LargeBinary, nullable=False),
    # Also the index statements page on, newest first.
    UniqueConstraint("account_id", "sequence"),
    CheckConstraint("amount <> 0", name="amount_non_zero"),
    CheckConstraint("octet_length(entry_hash) = 32", name="entry_hash_sha256"),
    CheckConstraint("sequence > 0", name="sequence_positive"),
    Index(None, "transfer_id"),
    # Balance at a moment, statements between two moments: entries are in time order along
    # their sequence, so the time index reads the same rows in the same order.
    Index(None, "account_id", "created_at"),
)

conversions = Table(
    "conversions",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("from_account_id", Uuid, ForeignKey("accounts.id"), nullable=False),
    Column("to_account_id", Uuid, ForeignKey("accounts.id"), nullable=False),
    Column("source_amount", BigInteger, nullable=False),
    Column("source_currency", Text, nullable=False),
    Column("target_amount", BigInteger, nullable=False),
    Column("target_currency", Text, nullable=False),
    Column("rate", Text, nullable=False),
    Column("debit_transfer_id", Uuid, ForeignKey("transfers.id"), nullable=False),
    Column("credit_transfer_id", Uuid, ForeignKey("transfers.id"), nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Column("created_by", Uuid, ForeignKey("users.id"), nullable=True),
    Column("reference", Text, nullable=True),
    Column("metadata", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    CheckConstraint("source_amount > 0", name="source_amount_positive"),
    CheckConstraint("target_amount > 0", name="target_amount_positive"),
    CheckConstraint("source_currency <> target_currency", name="currencies_differ"),
    CheckConstraint("rate ~ '^(0|[1-9][0-9]*)([.][0-9]+)?$'", name="rate_decimal"),
    CheckConstraint("jsonb_typeof(metadata) = 'object'", name="metadata_object"),
)

balance_monitors = Table(
    "balance_monitors",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("account_id", Uuid, ForeignKey("accounts.id"), nullable=False),
    Column("field", Text, nullable=False),
    Column("op", Text, nullable=False),
    Column("value", BigInteger, nullable=False),
    Column("description", Text, nullable=True),
    Column("created_at", Timestamp, nullable=False),
    CheckConstraint("field IN ('balance', 'available')", name="field_known"),
    CheckConstraint("op IN ('lt', 'lte', 'gt', 'gte', 'eq')", name="op_known"),
    CheckConstraint("char_length(description) <= 140", name="description_length"),
    # An account's monitors, read by every movement of it and listed in creation order.
    Index("ix_balance_monitors_account_id_created_at", "account_id", "created_at", "id"),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("user_id", Uuid, ForeignKey("users.id"), nullable=False),
    Column("key", Text, nullable=False),
    Column("fingerprint", Text, nullable=False),
    Column("transfer_id", Uuid, ForeignKey("transfers.id"), nullable=True),
    Column("error_code", Text, nullable=True),
    Column("error_detail", Text, nullable=True),
    Column("error_index", Integer, nullable=True),
    Column("items", JSONB, nullable=True),
    Column("created_at", Timestamp, nullable=False),
    PrimaryKeyConstraint("user_id", "key"),
    CheckConstraint("char_length(key) BETWEEN 1 AND 255", name="key_length"),
    Index(None, "created_at"),
)

attempt_counters = Table(
    "attempt_counters",
    metadata,
    Column("key", Text, primary_key=True),
    Column("count", BigInteger, nullable=False),
    Column("window_started_at", Timestamp, nullable=False),
    Column("blocked_until", Timestamp, nullable=True),
    CheckConstraint("count > 0", name="count_positive"),
)

events = Table(
    "events",
    metadata,
    # Commit order for readers: the writing transaction's id, then the order within it. A
    # reader reads only below the oldest transaction still running (see the outbox adapter).
    Column("position", BigInteger, Identity(), primary_key=True),
    Column(
        "transaction_id",
        BigInteger,
        nullable=False,
        server_default=text("(pg_current_xact_id()::text)::bigint"),
    ),
    Column("id", Uuid, nullable=False),
    Column("type", Text, nullable=False),
    Column("occurred_at", Timestamp, nullable=False),
    Column("schema_version", Integer, nullable=False),
    # json, not jsonb: written once, read whole, never searched inside (migration 0009).
    Column("data", JSON, nullable=False),
    Column("accounts", JSON, nullable=False),
    Column("user_ids", ARRAY(Uuid), nullable=False),
    Column("traceparent", Text, nullable=True),
    UniqueConstraint("id"),
    Index("ix_events_user_ids", "user_ids", postgresql_using="gin"),
    Index("ix_events_transaction_id_position", "transaction_id", "position"),
)

# What the relay has still to deliver: a trigger on events adds a row in the statement that
# writes the event (migration 0007), the relay deletes it once the broker has it. Events
# themselves are never updated.
event_deliveries = Table(
    "event_deliveries",
    metadata,
    Column("position", BigInteger, primary_key=True, autoincrement=False),
    Column("transaction_id", BigInteger, nullable=False),
    # The event's own time, copied (migration 0015): the backlog's age reads the queue alone.
    Column("occurred_at", Timestamp, nullable=False),
    # A relay is publishing it until then: a lease, so a crashed relay's events come back.
    Column("claimed_until", Timestamp, nullable=True),
    Index("ix_event_deliveries_transaction_id_position", "transaction_id", "position"),
)

# API keys: only the SHA-256 of a secret is kept; `prefix` (its first characters, in clear) is
# what a presented secret is looked up by. Rows are never deleted: a revoked key keeps its row.
api_keys = Table(
    "api_keys",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("user_id", Uuid, ForeignKey("users.id"), nullable=False),
    Column("name", Text, nullable=False),
    Column("prefix", Text, nullable=False),
    Column("secret_hash", LargeBinary, nullable=False),
    Column("scopes", ARRAY(Text), nullable=False),
    Column("account_ids", ARRAY(Uuid), nullable=True),
    Column("expires_at", Timestamp, nullable=True),
    Column("created_at", Timestamp, nullable=False),
    Column("last_used_at", Timestamp, nullable=True),
    Column("revoked_at", Timestamp, nullable=True),
    UniqueConstraint("secret_hash"),
    CheckConstraint("octet_length(secret_hash) = 32", name="secret_hash_sha256"),
    CheckConstraint("char_length(name) BETWEEN 1 AND 80", name="name_length"),
    CheckConstraint("cardinality(scopes) >= 1", name="scopes_present"),
    CheckConstraint(
        "account_ids IS NULL OR cardinality(account_ids) BETWEEN 1 AND 100",
        name="account_ids_count",
    ),
    Index("ix_api_keys_prefix", "prefix"),
    # A user's keys not revoked, in creation order: listed and counted against the limit.
    Index(
        "ix_api_keys_user_id_created_at",
        "user_id",
        "created_at",
        postgresql_where=text("revoked_at IS NULL"),
    ),
)

# Webhooks (issue 24): endpoints, the deliveries owed to them, and where the fan-out stands.
webhook_endpoints = Table(
    "webhook_endpoints",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("user_id", Uuid, ForeignKey("users.id"), nullable=False),
    Column("url", Text, nullable=False),
    Column("event_types", ARRAY(Text), nullable=True),
    Column("description", Text, nullable=True),
    Column("enabled", Boolean, nullable=False),
    Column("secret", Text, nullable=False),
    Column("previous_secret", Text, nullable=True),
    Column("previous_secret_until", Timestamp, nullable=True),
    Column("failing_since", Timestamp, nullable=True),
    Column("created_at", Timestamp, nullable=False),
    CheckConstraint("char_length(url) BETWEEN 1 AND 2048", name="url_length"),
    Index("ix_webhook_endpoints_user_id_created_at", "user_id", "created_at"),
)
webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column(
        "endpoint_id",
        Uuid,
        ForeignKey("webhook_endpoints.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("event_id", Uuid, nullable=False),
    Column("status", Text, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", Timestamp, nullable=True),
    Column("claimed_until", Timestamp, nullable=True),
    Column("last_status_code", Integer, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("queued_at", Timestamp, nullable=False),
    UniqueConstraint("endpoint_id", "event_id"),
    CheckConstraint("status IN ('pending', 'delivered', 'failed')", name="status_known"),
    # The log: an endpoint's deliveries, newest first.
    Index("ix_webhook_deliveries_endpoint_id_id", "endpoint_id", "id"),
    # What the workers lease, and the backlog: pending deliveries only; by due time, and by
    # endpoint then due time (a lease takes a few of each endpoint's).
    Index(
        "ix_webhook_deliveries_due",
        "next_attempt_at",
        "id",
        postgresql_where=text("status = 'pending'"),
    ),
    Index(
        "ix_webhook_deliveries_endpoint_due",
        "endpoint_id",
        "next_attempt_at",
        "id",
        postgresql_where=text("status = 'pending'"),
    ),
)
webhook_fan_out = Table(
    "webhook_fan_out",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("transaction_id", BigInteger, nullable=False),
    Column("position", BigInteger, nullable=False),
    CheckConstraint("id = 1", name="single_row"),
)
