from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from application.events import Event
from application.ports.idempotency import StoredRequest
from application.ports.outbox import FeedPosition, StoredEvent
from application.ports.webhooks import WebhookDelivery
from domain.account import Account
from domain.api_key import ApiKey
from domain.conversion import Conversion
from domain.monitor import Monitor
from domain.transfer import LedgerEntry, Transfer
from domain.user import User
from domain.webhook import WebhookEndpoint


@dataclass
class InMemoryStorage:
    """The committed state that every in-memory unit of work reads and commits into."""

    users: dict[UUID, User] = field(default_factory=dict)
    accounts: dict[UUID, Account] = field(default_factory=dict)
    transfers: dict[UUID, Transfer] = field(default_factory=dict)
    entries: dict[UUID, list[LedgerEntry]] = field(default_factory=dict)
    """Per account, in sequence order."""
    requests: dict[tuple[UUID, str], tuple[StoredRequest, datetime]] = field(default_factory=dict)
    claimed_keys: set[tuple[UUID, str]] = field(default_factory=set)
    """Keys held by a unit of work that has not ended yet."""
    events: list[StoredEvent] = field(default_factory=list)
    """Committed events in commit order (one transaction at a time here)."""
    delivered: set[UUID] = field(default_factory=set)
    leases: dict[UUID, datetime] = field(default_factory=dict)
    """Events a relay is publishing, until when."""
    api_keys: dict[UUID, ApiKey] = field(default_factory=dict)
    conversions: dict[UUID, Conversion] = field(default_factory=dict)
    monitors: dict[UUID, Monitor] = field(default_factory=dict)
    commits: int = 0
    webhook_endpoints: dict[UUID, WebhookEndpoint] = field(default_factory=dict)
    webhook_deliveries: dict[int, WebhookDelivery] = field(default_factory=dict)
    """By id, in queueing order."""
    webhook_leases: dict[int, datetime] = field(default_factory=dict)
    webhook_fanned_out: int = 0
    """How many of `events` the webhook fan-out has read."""


@dataclass
class PendingChanges:
    """What one unit of work wrote and has not committed yet."""

    users: dict[UUID, User] = field(default_factory=dict)
    accounts: dict[UUID, Account] = field(default_factory=dict)
    transfers: dict[UUID, Transfer] = field(default_factory=dict)
    entries: list[LedgerEntry] = field(default_factory=list)
    claims: dict[tuple[UUID, str], tuple[StoredRequest, datetime]] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    delivered: set[UUID] = field(default_factory=set)
    leases: dict[UUID, datetime] = field(default_factory=dict)
    released: set[UUID] = field(default_factory=set)
    api_keys: dict[UUID, ApiKey] = field(default_factory=dict)
    webhook_writes: list[Callable[[InMemoryStorage], None]] = field(default_factory=list)
    """Webhook changes, applied in order on commit (reads see committed state only)."""
    conversions: dict[UUID, Conversion] = field(default_factory=dict)
    monitors: dict[UUID, Monitor] = field(default_factory=dict)
    removed_monitors: set[UUID] = field(default_factory=set)

    def apply_to(self, storage: InMemoryStorage) -> None:
        storage.users.update(self.users)
        storage.accounts.update(self.accounts)
        storage.transfers.update(self.transfers)
        storage.api_keys.update(self.api_keys)
        storage.conversions.update(self.conversions)
        storage.monitors.update(self.monitors)
        for monitor_id in self.removed_monitors:
            storage.monitors.pop(monitor_id, None)
        for entry in self.entries:
            storage.entries.setdefault(entry.account_id, []).append(entry)
        storage.requests.update(self.claims)
        storage.commits += 1
        storage.events.extend(
            StoredEvent(event, FeedPosition(storage.commits, n), event.traceparent)
            for n, event in enumerate(self.events, start=1)
        )
        storage.delivered.update(self.delivered)
        storage.leases.update(self.leases)
        for event_id in self.released:
            storage.leases.pop(event_id, None)
        for write in self.webhook_writes:
            write(storage)
        self.release(storage)

    def release(self, storage: InMemoryStorage) -> None:
        """Free the claimed keys and forget every change."""
        storage.claimed_keys.difference_update(self.claims)
        for changes in (self.users, self.accounts, self.transfers, self.claims, self.api_keys):
            changes.clear()
        self.conversions.clear()
        self.monitors.clear()
        self.removed_monitors.clear()
        for added in (self.entries, self.events):
            added.clear()
        for changed in (self.delivered, self.released):
            changed.clear()
        self.leases.clear()
        self.webhook_writes.clear()
