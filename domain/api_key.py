"""API keys: long-lived credentials for machines (a payments backend), each holding some scopes,
optionally restricted to some accounts, optionally expiring, revocable.

A key's secret is random, so a fast hash (SHA-256) is as safe to store as a slow password hash
and cheap enough to check on every request; only the hash is kept.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from domain.errors import InvalidApiKey, ScopeEscalation
from domain.ids import new_id

SECRET_MARK = "hxk_"  # noqa: S105  # nosec B105
"""What a key's secret starts with: tells it from a JWT at a glance (and to secret scanners)."""
SECRET_BYTES = 32
PREFIX_LENGTH = 12
"""The secret's first characters, kept in clear: shown to tell keys apart, and the index a
presented secret is looked up by."""
MAX_KEYS_PER_USER = 100
"""Live (neither revoked nor expired) keys of one user, by default; HEXBANK_API_KEYS_PER_USER."""
MAX_KEY_ACCOUNTS = 100
"""Accounts one key may be restricted to."""
NAME_MAX_LENGTH = 80


class Scope(StrEnum):
    ACCOUNTS_READ = "accounts:read"
    ACCOUNTS_WRITE = "accounts:write"
    """Open, rename (PATCH), close."""
    MONEY_WRITE = "money:write"
    """Deposit, withdraw, transfer, hold, post, void, reverse, batch."""
    TRANSFERS_READ = "transfers:read"
    EVENTS_READ = "events:read"
    WEBHOOKS_WRITE = "webhooks:write"
    API_KEYS_WRITE = "api-keys:write"


ALL_SCOPES = frozenset(Scope)


@dataclass(frozen=True, slots=True)
class Grant:
    """What a caller may do: its scopes, the accounts it is restricted to (None: all of its
    user's) and until when (None: no end). A password login holds `FULL_GRANT`."""

    scopes: frozenset[Scope]
    account_ids: frozenset[UUID] | None = None
    expires_at: datetime | None = None

    def sees(self, account_id: UUID) -> bool:
        return self.account_ids is None or account_id in self.account_ids

    def require_covers(
        self,
        scopes: Collection[Scope],
        account_ids: Collection[UUID] | None,
        expires_at: datetime | None,
    ) -> None:
        """A key minted by this grant may hold no more than it: no other scope, no other
        account (an unrestricted key from a restricted one included), no longer life."""
        beyond = set(scopes) - self.scopes
        if beyond:
            names = ", ".join(sorted(beyond))
            raise ScopeEscalation(f"The new key would hold scopes this key does not: {names}.")
        if self.account_ids is not None:
            if account_ids is None:
                raise ScopeEscalation(
                    "This key is restricted to some accounts: a key it creates must be too."
                )
            if not set(account_ids) <= self.account_ids:
                raise ScopeEscalation(
                    "The new key would reach accounts this key is not restricted to."
                )
        if self.expires_at is not None and (expires_at is None or expires_at > self.expires_at):
            raise ScopeEscalation("The new key would outlive this key: give an earlier expires_at.")


FULL_GRANT = Grant(ALL_SCOPES)


def new_secret() -> str:
    """`hxk_` and 32 random bytes in base64url (no padding): 47 characters."""
    return SECRET_MARK + base64.urlsafe_b64encode(os.urandom(SECRET_BYTES)).rstrip(b"=").decode()


def is_key_secret(token: str) -> bool:
    return token.startswith(SECRET_MARK)


def secret_hash(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def secret_prefix(secret: str) -> str:
    return secret[:PREFIX_LENGTH]


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: UUID
    user_id: UUID
    name: str
    prefix: str
    secret_hash: bytes
    scopes: frozenset[Scope]
    account_ids: frozenset[UUID] | None
    """None: every account of its user; otherwise only these."""
    expires_at: datetime | None
    created_at: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None

    @classmethod
    def issue(
        cls,
        *,
        user_id: UUID,
        name: str,
        scopes: Collection[Scope],
        account_ids: Collection[UUID] | None,
        expires_at: datetime | None,
        now: datetime,
    ) -> tuple[ApiKey, str]:
        """A new key and its secret: the secret is given once, here, and never stored."""
        name = name.strip()
        if not 1 <= len(name) <= NAME_MAX_LENGTH:
            raise InvalidApiKey(f"A key's name has 1 to {NAME_MAX_LENGTH} characters.")
        if not scopes:
            raise InvalidApiKey("A key holds at least one scope.")
        if account_ids is not None and not 1 <= len(set(account_ids)) <= MAX_KEY_ACCOUNTS:
            raise InvalidApiKey(f"A key is restricted to 1 to {MAX_KEY_ACCOUNTS} accounts.")
        if expires_at is not None and expires_at <= now:
            raise InvalidApiKey("expires_at is in the past.")
        secret = new_secret()
        key = cls(
            id=new_id(),
            user_id=user_id,
            name=name,
            prefix=secret_prefix(secret),
            secret_hash=secret_hash(secret),
            scopes=frozenset(Scope(scope) for scope in scopes),
            account_ids=None if account_ids is None else frozenset(account_ids),
            expires_at=expires_at,
            created_at=now,
        )
        return key, secret

    def matches(self, secret: str) -> bool:
        """Whether `secret` is this key's, compared in constant time."""
        return hmac.compare_digest(self.secret_hash, secret_hash(secret))

    def is_live(self, now: datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)

    def revoked(self, now: datetime) -> ApiKey:
        """Revoked from `now`; a key revoked already keeps its first revocation."""
        return self if self.revoked_at is not None else replace(self, revoked_at=now)

    @property
    def grant(self) -> Grant:
        return Grant(self.scopes, self.account_ids, self.expires_at)
