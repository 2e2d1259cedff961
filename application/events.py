"""The events the bank emits when state that matters changes, built in the same unit of work
as the change (the outbox): no event without its change, no change without its event.

An event's `data` is the resource as the API shows it; money events also carry, for every
account they touched, its sequence, balance and available after the change, so a consumer can
order and de-duplicate per account without asking back.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from domain.account import Account
from domain.api_key import ApiKey
from domain.conversion import Conversion
from domain.ids import new_id
from domain.ledger import (
    Balance,
    Converted,
    HoldExpired,
    HoldPlaced,
    HoldPosted,
    HoldVoided,
    Moved,
    Posting,
    Reversed,
)
from domain.monitor import Crossing, Figures, Monitor
from domain.transfer import Transfer, TransferKind
from domain.user import User

SCHEMA_VERSION = 1
TraceContext = Callable[[], str | None]
"""The W3C `traceparent` of the request under way (None: untraced), read where its events are
built: a use case is given one at construction (the entrypoint's reads OpenTelemetry)."""


def untraced() -> str | None:
    return None


EVENT_TYPES = frozenset(
    {
        "transfer.posted",
        "transfer.pending",
        "transfer.voided",
        "transfer.expired",
        "transfer.reversed",
        "deposit.posted",
        "withdrawal.posted",
        "account.opened",
        "account.updated",
        "account.frozen",
        "account.unfrozen",
        "account.closed",
        "user.registered",
        "api_key.created",
        "api_key.revoked",
        # webhooks (issue 24)
        "webhook_endpoint.disabled",
        # Credit and currencies (issue 25)
        "conversion.posted",
        "account.monitor.triggered",
        "account.monitor.cleared",
    }
)


@dataclass(frozen=True, slots=True)
class AccountState:
    """An account right after the change; `owner_id` decides whose feed may show it."""

    id: UUID
    sequence: int
    balance: int
    available: int
    owner_id: UUID | None
    entry_hash: bytes | None
    """The hash of its entry `sequence` (docs/statements.md), the chain a consumer can follow;
    None in events stored before entries were chained."""
    previous_sequence: int | None = None
    """The sequence of the account's previous event: its sequence before this change (every
    change of an account's sequence is an entry, and every entry comes with an event). None
    only on events stored before it was recorded."""

    @classmethod
    def of(cls, account: Account) -> AccountState:
        return cls(
            account.id,
            account.entry_count,
            account.balance,
            account.available,
            account.owner_id,
            account.head_hash,
            account.entry_count,
        )

    @classmethod
    def after(cls, balance: Balance, owner_id: UUID | None, *, entries: int) -> AccountState:
        """`entries`: how many entries the change wrote on this account (its sequence went
        up by that many), which gives `previous_sequence`."""
        return cls(
            balance.account_id,
            balance.sequence,
            balance.balance,
            balance.available,
            owner_id,
            balance.head_hash,
            balance.sequence - entries,
        )

    def document(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "sequence": self.sequence,
            "entry_hash": None if self.entry_hash is None else self.entry_hash.hex(),
            "previous_sequence": self.previous_sequence,
            "balance": self.balance,
            "available": self.available,
        }


def timestamp(moment: datetime) -> str:
    """A time as the API writes it: ISO 8601, UTC as `Z` (not `+00:00`)."""
    text = moment.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


@dataclass(frozen=True, slots=True)
class Event:
    id: UUID
    type: str
    occurred_at: datetime
    data: dict[str, Any]
    accounts: tuple[AccountState, ...]
    user_ids: tuple[UUID, ...]
    """The users whose feed shows it: the owners of the accounts it touched, its author."""
    schema_version: int = SCHEMA_VERSION
    traceparent: str | None = None
    """The trace of the request it reports (None: untraced), set where it is built: a group
    commit writes many requests' events, each with its own."""

    def document(self, visible_accounts: Collection[UUID] | None = None) -> dict[str, Any]:
        """The event as consumers read it; with `visible_accounts`, a customer's view that
        names only those accounts (a payee never learns the payer's balance)."""
        accounts = [
            state.document()
            for state in self.accounts
            if visible_accounts is None or state.id in visible_accounts
        ]
        return {
            "id": str(self.id),
            "type": self.type,
            "occurred_at": timestamp(self.occurred_at),
            "schema_version": self.schema_version,
            "data": self.data,
            "accounts": accounts,
        }


def transfer_document(transfer: Transfer) -> dict[str, Any]:
    """A transfer as the API shows it (the HTTP schema is built from this)."""
    return {
        "id": str(transfer.id),
        "from_account_id": str(transfer.from_account_id),
        "to_account_id": str(transfer.to_account_id),
        "amount": transfer.amount,
        "currency": transfer.currency,
        "description": transfer.description,
        "kind": transfer.kind.value,
        "status": transfer.status.value,
        "expires_at": None if transfer.expires_at is None else timestamp(transfer.expires_at),
        "posted_amount": transfer.posted_amount,
        "reversed_amount": transfer.reversed_amount,
        "reversal_of": None if transfer.reversal_of is None else str(transfer.reversal_of),
        "reference": transfer.reference,
        "metadata": dict(transfer.metadata),
        "conversion_id": None if transfer.conversion_id is None else str(transfer.conversion_id),
        "created_at": timestamp(transfer.created_at),
    }


def conversion_document(conversion: Conversion) -> dict[str, Any]:
    """A conversion as the API shows it (the HTTP schema is built from this)."""
    return {
        "id": str(conversion.id),
        "from_account_id": str(conversion.from_account_id),
        "to_account_id": str(conversion.to_account_id),
        "source_amount": conversion.source_amount,
        "source_currency": conversion.source_currency,
        "target_amount": conversion.target_amount,
        "target_currency": conversion.target_currency,
        "rate": conversion.rate,
        "transfer_ids": [str(conversion.debit_transfer_id), str(conversion.credit_transfer_id)],
        "created_at": timestamp(conversion.created_at),
        "reference": conversion.reference,
        "metadata": dict(conversion.metadata),
    }


def account_document(account: Account) -> dict[str, Any]:
    """A customer account as the API shows it."""
    return {
        "id": str(account.id),
        "owner_id": str(account.owner_id),
        "currency": account.currency,
        "balance": account.balance,
        "held": account.held,
        "available": account.available,
        "overdraft_limit": account.overdraft_limit,
        "status": account.status.value,
        "name": account.name,
        "metadata": dict(account.metadata),
        "created_at": timestamp(account.created_at),
        "sequence": account.entry_count,
        "head_hash": account.head_hash.hex(),
    }


def posting_events(posting: Posting, now: datetime, *, traceparent: str | None) -> list[Event]:
    """What a posting tells the world: the transfer's new state, and a reversed original.
    Both accounts are reported as the posting left them, whatever was decided after it."""
    transfer = posting.transfer
    # A movement writes one entry on each side (a conversion one on the payer's and one on
    # the payee's); a hold placed, voided or expired writes none.
    entries = 1 if isinstance(posting, Moved | Reversed | HoldPosted | Converted) else 0
    accounts = (
        AccountState.after(posting.source_after, posting.source.owner_id, entries=entries),
        AccountState.after(
            posting.destination_after, posting.destination.owner_id, entries=entries
        ),
    )
    users = _users(accounts, transfer.created_by)

    def event(kind: str, about: Transfer) -> Event:
        return Event(
            new_id(), kind, now, transfer_document(about), accounts, users, traceparent=traceparent
        )

    if isinstance(posting, Converted):
        # One event for both legs, each as the API shows a transfer.
        data = conversion_document(posting.conversion) | {
            "transfers": [
                transfer_document(posting.debit_leg.transfer),
                transfer_document(posting.credit_leg.transfer),
            ]
        }
        return [
            Event(
                new_id(), "conversion.posted", now, data, accounts, users, traceparent=traceparent
            )
        ]
    events = [event(_type_of(posting), transfer)]
    if isinstance(posting, Reversed):
        events.append(event("transfer.reversed", posting.original))
    return events


def account_event(kind: str, account: Account, now: datetime, *, traceparent: str | None) -> Event:
    """`account.opened`, `.updated`, `.frozen`, `.unfrozen`, `.closed`."""
    state = AccountState.of(account)
    users = () if account.owner_id is None else (account.owner_id,)
    document = account_document(account)
    return Event(
        new_id(), f"account.{kind}", now, document, (state,), users, traceparent=traceparent
    )


def user_registered(user: User, now: datetime, *, traceparent: str | None) -> Event:
    data = {
        "id": str(user.id),
        "email": user.email,
        "full_name": user.full_name,
        "created_at": timestamp(user.created_at),
    }
    return Event(new_id(), "user.registered", now, data, (), (user.id,), traceparent=traceparent)


def api_key_document(key: ApiKey) -> dict[str, Any]:
    """An API key as the API lists it: never its secret, nor the secret's hash."""
    return {
        "id": str(key.id),
        "name": key.name,
        "prefix": key.prefix,
        "scopes": sorted(key.scopes),
        "account_ids": None if key.account_ids is None else sorted(map(str, key.account_ids)),
        "expires_at": None if key.expires_at is None else timestamp(key.expires_at),
        "created_at": timestamp(key.created_at),
        "last_used_at": None if key.last_used_at is None else timestamp(key.last_used_at),
    }


def api_key_event(kind: str, key: ApiKey, now: datetime, *, traceparent: str | None) -> Event:
    """`api_key.created`, `api_key.revoked`: in its user's feed, touching no account."""
    data = api_key_document(key)
    if kind == "revoked":
        data["revoked_at"] = timestamp(now)
    return Event(
        new_id(), f"api_key.{kind}", now, data, (), (key.user_id,), traceparent=traceparent
    )


def _type_of(posting: Posting) -> str:
    match posting:
        case HoldPlaced():
            return "transfer.pending"
        case HoldVoided():
            return "transfer.voided"
        case HoldExpired():
            return "transfer.expired"
        case Moved(transfer=Transfer(kind=TransferKind.DEPOSIT)):
            return "deposit.posted"
        case Moved(transfer=Transfer(kind=TransferKind.WITHDRAWAL)):
            return "withdrawal.posted"
        case Moved() | Reversed() | HoldPosted():
            return "transfer.posted"
        case Converted():
            return "conversion.posted"


def _users(accounts: Iterable[AccountState], author: UUID | None) -> tuple[UUID, ...]:
    owners = [state.owner_id for state in accounts if state.owner_id is not None]
    if author is not None:
        owners.append(author)
    return tuple(dict.fromkeys(owners))


# webhooks (issue 24)
def webhook_endpoint_disabled(
    endpoint_id: UUID, user_id: UUID, url: str, reason: str, now: datetime
) -> Event:
    """An endpoint the bank disabled: it answered 410, or every delivery failed for the whole
    retry window. In its user's feed, touching no account."""
    data = {"id": str(endpoint_id), "url": url, "reason": reason, "disabled_at": timestamp(now)}
    return Event(new_id(), "webhook_endpoint.disabled", now, data, (), (user_id,))


def monitor_document(monitor: Monitor) -> dict[str, Any]:
    """A balance monitor as the API shows it."""
    return {
        "id": str(monitor.id),
        "account_id": str(monitor.account_id),
        "field": monitor.field.value,
        "op": monitor.op.value,
        "value": monitor.value,
        "description": monitor.description,
        "created_at": timestamp(monitor.created_at),
    }


def _figures(figures: Figures) -> dict[str, int]:
    return {"balance": figures.balance, "available": figures.available}


def monitor_event(
    crossing: Crossing, owner_id: UUID | None, now: datetime, *, traceparent: str | None
) -> Event:
    """`account.monitor.triggered` (its condition became true) or `.cleared` (false again),
    in the owner's feed: the monitor, the account's sequence and its figures before and
    after the movement."""
    kind = "triggered" if crossing.triggered else "cleared"
    data = {
        "monitor": monitor_document(crossing.monitor),
        "account_id": str(crossing.monitor.account_id),
        "sequence": crossing.sequence,
        "before": _figures(crossing.before),
        "after": _figures(crossing.after),
    }
    # It writes no entry of its own: its previous_sequence is its sequence (a consumer still
    # at the one before learns it has the movement to fetch).
    state = AccountState(
        crossing.monitor.account_id,
        crossing.sequence,
        crossing.after.balance,
        crossing.after.available,
        owner_id,
        crossing.entry_hash,
        crossing.sequence,
    )
    users = () if owner_id is None else (owner_id,)
    return Event(
        new_id(), f"account.monitor.{kind}", now, data, (state,), users, traceparent=traceparent
    )
