"""The bridge from FastAPI's dependencies to the container, and the caller's identity.

Use cases come from the container of the app serving the request (`app.state.container`),
not from module-level wiring, so two apps with two containers can live in one process.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal, TypeVar
from uuid import UUID

from dependency_injector import providers
from fastapi import Depends, Header, Request
from fastapi.security import OAuth2PasswordBearer

from application.admission import Admission
from application.errors import InvalidToken, RateLimited
from application.key_rate import KeyRate
from application.principal import Principal
from application.use_cases.api_keys import AuthenticateApiKey
from application.use_cases.get_current_user import GetCurrentUser
from application.use_cases.get_transfer import GetTransfer
from domain.api_key import Grant, Scope, is_key_secret
from domain.errors import AccountNotFound, TransferNotFound
from domain.user import User
from entrypoints.container import Container
from entrypoints.http.turns import hold_turn, note_rate
from entrypoints.observability.metrics import Metrics

T = TypeVar("T")

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


def provided(select: Callable[[Container], providers.Provider[T]]) -> Any:
    """`Annotated[RegisterUser, provided(lambda c: c.register_user)]` in a route signature."""

    # async on purpose: FastAPI runs a plain `def` dependency in a worker thread.
    async def dependency(request: Request) -> T:
        return select(request.app.state.container)()

    return Depends(dependency)


async def current_user(
    request: Request, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> User:
    """A route any authenticated caller may use, whatever its scopes (who am I)."""
    return (await authenticated(request, token)).user


async def authenticated(request: Request, token: str | None) -> Principal:
    """Every authenticated route depends on this (through `current_user` or `caller`): the
    use case is taken from the container here rather than through `provided`, since each
    dependency FastAPI solves costs a few microseconds on every request. The bearer scheme
    stays a dependency: it is what puts the OAuth2 flow into the OpenAPI document (Swagger
    UI's Authorize).

    A bearer token is a password login's JWT (every scope) or an API key (`hxk_...`: its
    scopes and accounts), both resolved without a database read on most requests. A key's
    request counts against its rate (per process); its RateLimit-* headers ride on the
    answer, whatever it is (`ReleaseTurn` writes them).

    The request then takes its principal's turn (`Admission`: refused past the in-flight
    cap; a heavy one, see `HEAVY_ROUTES`, waits while the principal's running cap is full).
    `ReleaseTurn`, a middleware, gives it back when the request has ended however it ended.
    Measured against a plain dependency: a `yield` dependency holding the turn cost 29 us
    more CPU per request, this 7 us."""
    known: Principal | None = request.scope.get(_PRINCIPAL)
    if known is not None:
        return known
    if token is None:
        raise InvalidToken("Not authenticated: send `Authorization: Bearer <token>`.")
    container = request.app.state.container
    if is_key_secret(token):
        authenticate: AuthenticateApiKey = container.authenticate_api_key()
        principal = await authenticate(token)
        rate: KeyRate = request.app.state.key_rate
        state = rate.take(principal.id)
        note_rate(request.scope, state.headers())
        if not state.allowed:
            raise RateLimited(
                f"More than {rate.rate:g} requests per second with this API key.",
                retry_after_s=state.retry_after_s,
            )
    else:
        get_current_user: GetCurrentUser = container.get_current_user()
        principal = Principal.logged_in(await get_current_user(token))
    admission: Admission = request.app.state.admission
    heavy = (request.method, getattr(request.scope.get("route"), "path", None)) in HEAVY_ROUTES
    hold_turn(request.scope, await admission.enter(principal.id, gated=heavy))
    request.scope[_PRINCIPAL] = principal
    return principal


_PRINCIPAL = "hexbank.principal"

TransferSide = Literal["from", "to", "either"]


def caller(scope: Scope, *, transfer_side: TransferSide | None = None) -> Any:
    """A route's dependency on a caller holding `scope`; it gives the caller's user.

    An API key restricted to some accounts reaches no other: an `account_id` in the path
    that is not one of them is not found (404, as someone else's account); with
    `transfer_side`, so is a transfer (`transfer_id` in the path) whose account on that
    side (`either`: on one side at least) is not one of them. The body's accounts are the
    route's to check (`require_sees`)."""

    async def dependency(
        request: Request, token: Annotated[str | None, Depends(oauth2_scheme)]
    ) -> User:
        principal = await authenticated(request, token)
        principal.require(scope)
        accounts = principal.grant.account_ids
        if accounts is None:
            return principal.user
        path = request.path_params
        if (account_id := _uuid(path.get("account_id"))) is not None:
            require_sees(request, account_id)
        if transfer_side is not None and (transfer_id := _uuid(path.get("transfer_id"))):
            get_transfer: GetTransfer = request.app.state.container.get_transfer()
            transfer = await get_transfer(principal.user.id, transfer_id)
            sides = {
                "from": (transfer.from_account_id,),
                "to": (transfer.to_account_id,),
                "either": (transfer.from_account_id, transfer.to_account_id),
            }[transfer_side]
            if not any(side in accounts for side in sides):
                raise TransferNotFound(f"Transfer {transfer_id} not found.")
        return principal.user

    return Depends(dependency)


def _uuid(value: object) -> UUID | None:
    """A path's id; None when it is no UUID (the route's own validation answers 422)."""
    if value is None or isinstance(value, UUID):
        return value
    try:
        return UUID(str(value))
    except ValueError:
        return None


def grant_of(request: Request) -> Grant:
    """What the request's caller holds (after `caller` or `current_user` has run)."""
    principal: Principal = request.scope[_PRINCIPAL]
    return principal.grant


def principal_of(request: Request) -> Principal:
    principal: Principal = request.scope[_PRINCIPAL]
    return principal


def require_sees(request: Request, *account_ids: UUID) -> None:
    """A key restricted to some accounts names no other: 404, as someone else's account."""
    grant = grant_of(request)
    for account_id in account_ids:
        if not grant.sees(account_id):
            raise AccountNotFound(f"Account {account_id} not found.")


HEAVY_ROUTES = frozenset(
    {
        ("GET", "/api/v1/accounts"),
        ("GET", "/api/v1/accounts/{account_id}/entries"),
        ("GET", "/api/v1/accounts/{account_id}/summary"),
        ("GET", "/api/v1/accounts/{account_id}/balance"),
        ("GET", "/api/v1/accounts/{account_id}/statement"),
        ("GET", "/api/v1/transfers"),
        ("POST", "/api/v1/transfers/batch"),
        ("GET", "/api/v1/events"),
    }
)
"""Routes whose one request may read or write many rows (lists, searches, the feed, reports,
signed statements, batches): while other users are active, one user's take turns
(HEXBANK_MAX_RUNNING_PER_USER). Single reads and single movements only count in flight: they
are what throughput is made of, and each is small."""


CurrentUser = Annotated[User, Depends(current_user)]
"""Any authenticated caller: routes about the caller itself (who am I)."""
AccountsReader = Annotated[User, caller(Scope.ACCOUNTS_READ)]
AccountsWriter = Annotated[User, caller(Scope.ACCOUNTS_WRITE)]
MoneyWriter = Annotated[User, caller(Scope.MONEY_WRITE)]
TransfersReader = Annotated[User, caller(Scope.TRANSFERS_READ)]
EventsReader = Annotated[User, caller(Scope.EVENTS_READ)]
ApiKeysWriter = Annotated[User, caller(Scope.API_KEYS_WRITE)]
WebhooksWriter = Annotated[User, caller(Scope.WEBHOOKS_WRITE)]

IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        pattern=r"^[\x21-\x7E]+$",
        description="1 to 255 visible ASCII characters; a retry with the same key and body "
        "replays the first answer instead of moving money again.",
    ),
]


IfMatchHeader = Annotated[
    str | None,
    Header(
        alias="If-Match",
        max_length=22,
        pattern=r'^"(0|[1-9][0-9]{0,18})"$',
        description="The debited account's `ETag` from `GET /api/v1/accounts/{id}`, as "
        '`"<sequence>"`: the debit applies only if the account is still at that sequence '
        "when it is locked, else 412 `precondition-failed` (with the current `sequence`) and "
        "nothing moves. A malformed value (anything but one strong ETag of digits) is 422 "
        "`validation-error`. A hold changes no sequence (it writes no entry). With an "
        "Idempotency-Key, a retry replays the first outcome whatever the sequence is now.",
    ),
]


def expected_sequence(if_match: str | None) -> int | None:
    """The sequence an `If-Match` names (its pattern was checked already)."""
    return None if if_match is None else int(if_match.strip('"'))


def client_address(request: Request) -> str | None:
    """The peer's address; behind a proxy listed in HEXBANK_TRUSTED_PROXIES, the client it names."""
    return request.client.host if request.client else None


async def metrics(request: Request) -> Metrics:
    return request.app.state.metrics  # type: ignore[no-any-return]


AppMetrics = Annotated[Metrics, Depends(metrics)]
