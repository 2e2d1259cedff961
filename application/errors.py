"""Errors of the application layer: refusals that are not business rules of the domain."""

from __future__ import annotations

from typing import ClassVar


class ApplicationError(Exception):
    code: ClassVar[str] = "application-error"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class InvalidCredentials(ApplicationError):
    """One error for unknown email and wrong password, so neither can be told apart."""

    code = "invalid-credentials"


class InvalidToken(ApplicationError):
    """The bearer token is missing, malformed or expired, or an API key that is unknown,
    revoked or expired: one answer for all, so none can be told from another."""

    code = "invalid-token"


class InvalidPage(ApplicationError):
    """A statement page request with a bad size or a cursor that is malformed or foreign."""

    code = "invalid-page"


class TransientConflict(ApplicationError):
    """The database gave up on a transaction that may succeed if run again (40001, 40P01)."""

    code = "transient-conflict"


class StorageUnavailable(ApplicationError):
    """The database cannot be reached or did not answer in time; the request may be retried."""

    code = "storage-unavailable"


class TooManyAttempts(ApplicationError):
    """Too many attempts from one email or one client address; try again later."""

    code = "too-many-attempts"

    def __init__(self, detail: str, retry_after_s: int) -> None:
        super().__init__(detail)
        self.retry_after_s = retry_after_s


class TooManyRequests(ApplicationError):
    """Too many requests of one user (at the token endpoint, of one client address) in flight
    at once; retry once one of them has ended. `limit`: how many may be in flight."""

    code = "too-many-requests"

    def __init__(self, detail: str, limit: int | None = None) -> None:
        super().__init__(detail)
        self.limit = limit


class InsufficientScope(ApplicationError):
    """The API key does not hold the scope this route needs (`required_scope`)."""

    code = "insufficient-scope"

    def __init__(self, detail: str, required_scope: str) -> None:
        super().__init__(detail)
        self.required_scope = required_scope


class RateLimited(ApplicationError):
    """The API key sent more requests than HEXBANK_API_KEY_RATE per second (with a burst of
    twice that) on this instance; retry after `Retry-After` seconds."""

    code = "rate-limited"

    def __init__(self, detail: str, retry_after_s: int) -> None:
        super().__init__(detail)
        self.retry_after_s = retry_after_s


class ReadTimedOut(ApplicationError):
    """A read ran past HEXBANK_READ_STATEMENT_TIMEOUT_MS; narrow its filters and retry."""

    code = "read-timeout"


class CommitFateUnknown(Exception):
    """COMMIT failed without saying whether it happened; `error` is what a caller hears.
    Not an answer in itself: running the work again could move the money twice."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error
