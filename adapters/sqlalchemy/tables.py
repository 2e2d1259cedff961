"""The schema. Constraints are named, so errors can be told apart by name and migrations
stay reviewable; they are the last guard of every money rule, after the domain's checks."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
)

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
    CheckConstraint("kind IN ('customer', 'funding')", name="kind_known"),
    CheckConstraint("(kind = 'customer') = (owner_id IS NOT NULL)", name="owner_matches_kind"),
    CheckConstraint("kind = 'funding' OR balance >= 0", name="customer_balance_non_negative"),
    CheckConstraint("currency ~ '^[A-Z]{3}$'", name="currency_code"),
    CheckConstraint("entry_count >= 0", name="entry_count_non_negative"),
    Index(None, "owner_id"),
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
    CheckConstraint("amount > 0", name="amount_positive"),
    CheckConstraint("from_account_id <> to_account_id", name="distinct_accounts"),
    CheckConstraint("char_length(description) <= 140", name="description_length"),
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
    # Also the index statements page on, newest first.
    UniqueConstraint("account_id", "sequence"),
    CheckConstraint("amount <> 0", name="amount_non_zero"),
    CheckConstraint("sequence > 0", name="sequence_positive"),
    Index(None, "transfer_id"),
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
