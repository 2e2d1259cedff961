"""Errors raised when a business rule refuses an operation.

Every error carries a stable `code` (a slug clients can switch on) and a human `detail`.
They take only the detail, so a stored outcome can be turned back into the same error when an
idempotent request is replayed.
"""

from __future__ import annotations

import re
from typing import ClassVar


class DomainError(Exception):
    """A business rule said no; never a bug, never a reason to answer 500."""

    code: ClassVar[str] = "domain-error"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail
        self.replayed = False
        """True when this refusal is the recorded answer to an earlier request with the same
        idempotency key, given again rather than decided again."""

    @classmethod
    def restore(cls, code: str, detail: str) -> DomainError:
        """Rebuild the error recorded under `code`, e.g. for an idempotent replay."""
        pending: list[type[DomainError]] = [DomainError]
        while pending:
            kind = pending.pop()
            if kind.code == code:
                return kind(detail)
            pending.extend(kind.__subclasses__())
        return DomainError(detail)


class InvalidEmail(DomainError):
    code = "invalid-email"


class InvalidPassword(DomainError):
    code = "invalid-password"


class InvalidFullName(DomainError):
    code = "invalid-full-name"


class EmailAlreadyRegistered(DomainError):
    code = "email-already-registered"


class InvalidCurrency(DomainError):
    code = "invalid-currency"


class InvalidAmount(DomainError):
    code = "invalid-amount"


class InvalidDescription(DomainError):
    code = "invalid-description"


class AccountNotFound(DomainError):
    code = "account-not-found"


class TransferNotFound(DomainError):
    code = "transfer-not-found"


class InsufficientFunds(DomainError):
    code = "insufficient-funds"


class SameAccountTransfer(DomainError):
    code = "same-account"


class CurrencyMismatch(DomainError):
    code = "currency-mismatch"


class IdempotencyKeyReused(DomainError):
    code = "idempotency-key-reused"


class IdempotencyKeyInFlight(DomainError):
    code = "idempotency-key-in-flight"


class TransferNotPending(DomainError):
    """Only a pending hold can be posted or voided; a pending one cannot be reversed yet."""

    code = "transfer-not-pending"


class ExceedsPendingAmount(DomainError):
    code = "exceeds-pending-amount"


class NotPayer(DomainError):
    """Only the payer (the source's owner) posts or voids a hold."""

    code = "not-payer"


class NotPayee(DomainError):
    """Only the payee (the destination's owner) reverses a transfer: a refund is theirs."""

    code = "not-payee"


class ExceedsReversibleAmount(DomainError):
    code = "exceeds-reversible-amount"


class NotReversible(DomainError):
    """Deposits, withdrawals, reversals and holds that were never posted are not reversed."""

    code = "not-reversible"


class InvalidHoldTimeout(DomainError):
    code = "invalid-hold-timeout"


class InvalidBatch(DomainError):
    code = "invalid-batch"


class InvalidMetadata(DomainError):
    code = "invalid-metadata"


class InvalidReference(DomainError):
    code = "invalid-reference"


class DuplicateReference(DomainError):
    """A reference names one transfer among all those its user created."""

    code = "duplicate-reference"


class InvalidAccountName(DomainError):
    code = "invalid-account-name"


class AccountClosed(DomainError):
    code = "account-closed"


class AccountFrozen(DomainError):
    code = "account-frozen"


class PayeeUnavailable(DomainError):
    """The payee's account cannot receive money now; the reason is told only to its owner."""

    code = "payee-unavailable"


class InvalidOverdraftLimit(DomainError):
    """An overdraft limit is a whole number of minor units, 0 (none) up to the books' range,
    set on a customer account that is not closed."""

    code = "invalid-overdraft-limit"


class PreconditionFailed(DomainError):
    """`If-Match` named a sequence the debited account is not at when it is locked: nothing
    moved. `sequence` is its current one (its ETag now)."""

    code = "precondition-failed"

    def __init__(self, detail: str, sequence: int | None = None) -> None:
        super().__init__(detail)
        if sequence is None and (found := _AT_SEQUENCE.search(detail)) is not None:
            sequence = int(found.group(1))  # restored for a replay: the detail names it
        self.sequence = sequence


_AT_SEQUENCE = re.compile(r"is at sequence (\d+)")


class SameCurrencyConversion(DomainError):
    """A conversion needs two accounts of different currencies; within one currency, send a
    transfer."""

    code = "same-currency-conversion"


class InvalidRate(DomainError):
    """A conversion rate is a positive decimal string with at most 12 significant digits."""

    code = "invalid-rate"


class AmountTooSmall(DomainError):
    """At this rate the amount converts to less than one minor unit of the target currency."""

    code = "amount-too-small"


class ConversionNotFound(DomainError):
    code = "conversion-not-found"


class InvalidMonitor(DomainError):
    code = "invalid-monitor"


class TooManyMonitors(DomainError):
    """The account has as many balance monitors as allowed (HEXBANK_MAX_MONITORS_PER_ACCOUNT);
    delete one first."""

    code = "too-many-monitors"


class MonitorNotFound(DomainError):
    code = "monitor-not-found"


class AccountNotEmpty(DomainError):
    """An account closes only with a zero balance and no open holds."""

    code = "account-not-empty"


class TooManyAccounts(DomainError):
    """The user already has as many open accounts as one user may (closed ones do not count)."""

    code = "too-many-accounts"


class InvalidApiKey(DomainError):
    """An API key request with a bad name, no scope, an expiry in the past or too many
    accounts."""

    code = "invalid-api-key"


class ApiKeyNotFound(DomainError):
    """No such API key among the caller's own; another user's key does not exist for them."""

    code = "api-key-not-found"


class ScopeEscalation(DomainError):
    """A key may create keys only within what it holds: its scopes, its accounts, its
    lifetime."""

    code = "scope-escalation"


class TooManyApiKeys(DomainError):
    """The user has as many live API keys as allowed; revoke one first."""

    code = "too-many-keys"


class StatementTooLarge(DomainError):
    """The range holds more entries than one signed statement may (HEXBANK_STATEMENT_MAX_ENTRIES):
    ask for a shorter range (consecutive ranges chain, each opening where the last closed)."""

    code = "statement-too-large"


class InvalidStatementRange(DomainError):
    """A statement's `from` is after its `to`."""

    code = "invalid-statement-range"


class InvalidWebhookEndpoint(DomainError):
    """A webhook endpoint with an unknown event type, a description too long or a URL that is
    no absolute http(s) URL."""

    code = "invalid-webhook-endpoint"


class UnsafeWebhookUrl(DomainError):
    """A webhook URL that is not https, or whose host is (or resolves to) a private, loopback,
    link-local or reserved address (HEXBANK_WEBHOOKS_ALLOW_PRIVATE allows them)."""

    code = "unsafe-webhook-url"


class WebhookEndpointNotFound(DomainError):
    """No such webhook endpoint among the caller's own."""

    code = "webhook-endpoint-not-found"


class TooManyWebhookEndpoints(DomainError):
    """The user has as many webhook endpoints as allowed (HEXBANK_WEBHOOK_ENDPOINTS_PER_USER);
    delete one first."""

    code = "too-many-webhook-endpoints"
