"""API keys without HTTP: the secret's form, the escalation rule, recognising a key without a
database read per request, `last_used_at` at most once a minute, the per-key rate."""

from __future__ import annotations

import base64
import hmac
from datetime import timedelta
from uuid import UUID

import pytest

from adapters.in_memory.storage import InMemoryStorage
from adapters.in_memory.unit_of_work import InMemoryUnitOfWork
from application.errors import InsufficientScope, InvalidToken
from application.key_rate import KeyRate
from application.principal import Principal
from application.use_cases.api_keys import AuthenticateApiKey, CreateApiKey, RevokeApiKey
from domain.api_key import FULL_GRANT, ApiKey, Grant, Scope, new_secret
from domain.errors import InvalidApiKey, ScopeEscalation, TooManyApiKeys
from domain.ids import new_id
from domain.user import User
from tests.fakes import ManualClock


class _NoRetry:
    async def run(self, attempt):  # type: ignore[no-untyped-def]
        return await attempt()


class CountingUnitsOfWork:
    def __init__(self, storage: InMemoryStorage) -> None:
        self.storage = storage
        self.opened = 0

    def __call__(self) -> InMemoryUnitOfWork:
        self.opened += 1
        return InMemoryUnitOfWork(self.storage)


def _user(clock: ManualClock) -> User:
    return User(new_id(), "ada@example.com", "Ada", "hash", clock.now())


async def _stored_user(storage: InMemoryStorage, clock: ManualClock) -> User:
    user = _user(clock)
    async with InMemoryUnitOfWork(storage) as uow:
        await uow.users.add(user)
        await uow.commit()
    return user


def test_a_secret_is_the_mark_and_32_random_bytes_in_base64url() -> None:
    secret = new_secret()
    assert secret.startswith("hxk_")
    raw = base64.urlsafe_b64decode(secret[4:] + "=" * (-len(secret[4:]) % 4))
    assert len(raw) == 32
    assert new_secret() != secret


def test_a_key_keeps_only_the_hash_and_compares_it_in_constant_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = ManualClock()
    key, secret = ApiKey.issue(
        user_id=new_id(),
        name="k",
        scopes=[Scope.ACCOUNTS_READ],
        account_ids=None,
        expires_at=None,
        now=clock.now(),
    )
    assert secret not in repr(key)
    assert key.prefix == secret[:12]
    compared: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr("domain.api_key.hmac.compare_digest", spy)
    assert key.matches(secret)
    assert not key.matches(secret[:-1] + "x")
    assert len(compared) == 2
    assert all(len(a) == len(b) == 32 for a, b in compared)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": " "}, "name"),
        ({"scopes": []}, "scope"),
        ({"account_ids": [new_id() for _ in range(101)]}, "accounts"),
        ({"expires_at": "past"}, "past"),
    ],
)
def test_a_key_is_refused_with_bad_fields(fields: dict[str, object], message: str) -> None:
    clock = ManualClock()
    values: dict[str, object] = {
        "user_id": new_id(),
        "name": "k",
        "scopes": [Scope.ACCOUNTS_READ],
        "account_ids": None,
        "expires_at": None,
        "now": clock.now(),
        **fields,
    }
    if values["expires_at"] == "past":
        values["expires_at"] = clock.now()
    with pytest.raises(InvalidApiKey, match=message):
        ApiKey.issue(**values)  # type: ignore[arg-type]


def test_a_grant_covers_only_what_it_holds() -> None:
    clock = ManualClock()
    mine, other = new_id(), new_id()
    until = clock.now() + timedelta(hours=1)
    grant = Grant(frozenset({Scope.ACCOUNTS_READ}), frozenset({mine}), until)
    grant.require_covers([Scope.ACCOUNTS_READ], [mine], until)
    for scopes, accounts, expires in (
        ([Scope.MONEY_WRITE], [mine], until),  # a scope it lacks
        ([Scope.ACCOUNTS_READ], None, until),  # every account
        ([Scope.ACCOUNTS_READ], [mine, other], until),  # another account
        ([Scope.ACCOUNTS_READ], [mine], None),  # no end
        ([Scope.ACCOUNTS_READ], [mine], until + timedelta(seconds=1)),  # a later end
    ):
        with pytest.raises(ScopeEscalation):
            grant.require_covers(scopes, accounts, expires)
    FULL_GRANT.require_covers(list(Scope), None, None)


def test_a_principal_names_the_scope_it_lacks() -> None:
    principal = Principal(_user(ManualClock()), Grant(frozenset({Scope.ACCOUNTS_READ})), new_id())
    principal.require(Scope.ACCOUNTS_READ)
    with pytest.raises(InsufficientScope) as refused:
        principal.require(Scope.MONEY_WRITE)
    assert refused.value.required_scope == "money:write"


async def test_a_key_is_recognised_without_a_read_per_request_and_touched_once_a_minute() -> None:
    storage, clock = InMemoryStorage(), ManualClock()
    user = await _stored_user(storage, clock)
    units = CountingUnitsOfWork(storage)
    create = CreateApiKey(units, clock, _NoRetry(), max_keys=100)
    issued = await create(Principal.logged_in(user), name="k", scopes=[Scope.ACCOUNTS_READ])
    authenticate = AuthenticateApiKey(
        units, clock, cache_for=timedelta(seconds=2), touch_every=timedelta(seconds=60)
    )
    units.opened = 0

    first = await authenticate(issued.secret)
    assert first.api_key_id == issued.key.id
    assert first.user.id == user.id
    assert first.grant.scopes == {Scope.ACCOUNTS_READ}
    assert units.opened == 2  # the lookup, and last_used_at written
    for _ in range(100):
        await authenticate(issued.secret)
    assert units.opened == 2  # no database at all while the key is remembered

    clock.advance(seconds=30)
    await authenticate(issued.secret)
    assert units.opened == 3  # looked up again (the cache ran out); not touched again
    assert storage.api_keys[issued.key.id].last_used_at == clock.now() - timedelta(seconds=30)
    clock.advance(seconds=31)
    await authenticate(issued.secret)
    assert storage.api_keys[issued.key.id].last_used_at == clock.now()


async def test_a_revoked_or_expired_key_is_refused_as_an_unknown_one() -> None:
    storage, clock = InMemoryStorage(), ManualClock()
    user = await _stored_user(storage, clock)
    units = CountingUnitsOfWork(storage)
    create = CreateApiKey(units, clock, _NoRetry(), max_keys=100)
    authenticate = AuthenticateApiKey(
        units, clock, cache_for=timedelta(seconds=2), touch_every=timedelta(seconds=60)
    )
    revoke = RevokeApiKey(units, clock, forget=authenticate.forget)
    kept = await create(Principal.logged_in(user), name="k", scopes=[Scope.ACCOUNTS_READ])
    expiring = await create(
        Principal.logged_in(user),
        name="e",
        scopes=[Scope.ACCOUNTS_READ],
        expires_at=clock.now() + timedelta(seconds=1),
    )
    await authenticate(kept.secret)
    await authenticate(expiring.secret)
    await revoke(user.id, kept.key.id)
    clock.advance(seconds=1)
    messages = set()
    for secret in (kept.secret, expiring.secret, new_secret()):
        with pytest.raises(InvalidToken) as refused:
            await authenticate(secret)
        messages.add(refused.value.detail)
    assert len(messages) == 1


async def test_a_users_live_keys_are_limited() -> None:
    storage, clock = InMemoryStorage(), ManualClock()
    user = await _stored_user(storage, clock)
    create = CreateApiKey(lambda: InMemoryUnitOfWork(storage), clock, _NoRetry(), max_keys=2)
    caller = Principal.logged_in(user)
    await create(caller, name="a", scopes=[Scope.ACCOUNTS_READ])
    await create(
        caller, name="b", scopes=[Scope.ACCOUNTS_READ], expires_at=clock.now() + timedelta(1)
    )
    with pytest.raises(TooManyApiKeys):
        await create(caller, name="c", scopes=[Scope.ACCOUNTS_READ])
    clock.advance(days=2)  # an expired key no longer counts
    await create(caller, name="c", scopes=[Scope.ACCOUNTS_READ])


def test_the_rate_allows_a_burst_of_twice_the_rate_then_refills() -> None:
    now = [0.0]
    rate = KeyRate(10, monotonic=lambda: now[0])
    key = UUID(int=1)
    states = [rate.take(key) for _ in range(21)]
    assert [state.allowed for state in states] == [True] * 20 + [False]
    assert states[0].limit == 20
    assert states[0].remaining == 19
    assert states[19].remaining == 0
    assert states[20].retry_after_s == 1
    assert rate.take(UUID(int=2)).allowed  # another key has its own bucket
    now[0] += 0.1
    assert rate.take(key).allowed
    assert not rate.take(key).allowed
    now[0] += 10
    assert rate.take(key).remaining == 19
