"""What every API key repository must do, fake or PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID, uuid4

from application.events import AccountState, Event, api_key_event
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.api_key import ApiKey, Scope
from domain.ids import new_id
from domain.user import User
from tests.contract.test_persistence_contract import NOW, saved_account, saved_user


async def saved_key(
    uow_factory: UnitOfWorkFactory, user: User, **fields: object
) -> tuple[ApiKey, str]:
    values: dict[str, object] = {
        "user_id": user.id,
        "name": "backend",
        "scopes": [Scope.ACCOUNTS_READ, Scope.MONEY_WRITE],
        "account_ids": None,
        "expires_at": None,
        "now": NOW,
        **fields,
    }
    key, secret = ApiKey.issue(**values)  # type: ignore[arg-type]
    async with uow_factory() as uow:
        await uow.api_keys.add(key)
        await uow.commit()
    return key, secret


async def test_a_key_round_trips_and_is_found_by_its_prefix(
    uow_factory: UnitOfWorkFactory,
) -> None:
    user = await saved_user(uow_factory)
    account = await saved_account(uow_factory, user)
    key, secret = await saved_key(
        uow_factory, user, account_ids=[account.id], expires_at=NOW + timedelta(days=1)
    )
    async with uow_factory() as uow:
        assert await uow.api_keys.get(key.id) == key
        assert await uow.api_keys.get(uuid4()) is None
        found = await uow.api_keys.with_prefix(secret[:12])
        assert found == [key]
        assert found[0].matches(secret)
        assert await uow.api_keys.with_prefix("hxk_nothing0") == []


async def test_live_keys_are_listed_and_counted_revoked_and_expired_ones_not(
    uow_factory: UnitOfWorkFactory,
) -> None:
    user = await saved_user(uow_factory)
    other = await saved_user(uow_factory, "bob@example.com")
    first, _ = await saved_key(uow_factory, user)
    expiring, _ = await saved_key(
        uow_factory, user, now=NOW + timedelta(seconds=1), expires_at=NOW + timedelta(hours=1)
    )
    revoked, _ = await saved_key(uow_factory, user, now=NOW + timedelta(seconds=2))
    await saved_key(uow_factory, other)
    async with uow_factory() as uow:
        await uow.api_keys.revoke(revoked.id, at=NOW + timedelta(minutes=1))
        await uow.commit()
    async with uow_factory() as uow:
        await uow.api_keys.revoke(revoked.id, at=NOW + timedelta(minutes=2))  # kept: the first
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.api_keys.live_of(user.id, at=NOW) == [first, expiring]
        assert await uow.api_keys.lock_user_and_count_live(user.id, at=NOW) == 2
        later = NOW + timedelta(hours=2)
        assert await uow.api_keys.live_of(user.id, at=later) == [first]
        assert await uow.api_keys.lock_user_and_count_live(user.id, at=later) == 1
        stored = await uow.api_keys.get(revoked.id)
        assert stored is not None
        assert stored.revoked_at == NOW + timedelta(minutes=1)


async def test_last_used_is_written_only_past_the_interval(
    uow_factory: UnitOfWorkFactory,
) -> None:
    user = await saved_user(uow_factory)
    key, _ = await saved_key(uow_factory, user)
    minute = timedelta(minutes=1)
    for at in (NOW, NOW + timedelta(seconds=30), NOW + timedelta(seconds=61)):
        async with uow_factory() as uow:
            await uow.api_keys.touch(key.id, at=at, unless_since=at - minute)
            await uow.commit()
        async with uow_factory() as uow:
            stored = await uow.api_keys.get(key.id)
            assert stored is not None
            # 30 s after the first write: within the interval, so not written.
            assert stored.last_used_at == (NOW if at == NOW + timedelta(seconds=30) else at)


async def test_an_uncommitted_key_does_not_exist(uow_factory: UnitOfWorkFactory) -> None:
    user = await saved_user(uow_factory)
    key, _ = ApiKey.issue(
        user_id=user.id,
        name="k",
        scopes=[Scope.ACCOUNTS_READ],
        account_ids=None,
        expires_at=None,
        now=NOW,
    )
    async with uow_factory() as uow:
        await uow.api_keys.add(key)
        await uow.outbox.add([api_key_event("created", key, NOW, traceparent=None)])
    async with uow_factory() as uow:
        assert await uow.api_keys.get(key.id) is None


async def test_the_feed_of_a_restricted_key_holds_only_events_touching_its_accounts(
    uow_factory: UnitOfWorkFactory,
) -> None:
    user = await saved_user(uow_factory)
    mine = await saved_account(uow_factory, user)
    other = await saved_account(uow_factory, user)
    key, _ = await saved_key(uow_factory, user)

    def touching(*accounts: UUID) -> Event:
        states = tuple(AccountState(account, 1, 0, 0, user.id, bytes(32)) for account in accounts)
        return Event(new_id(), "account.updated", NOW, {}, states, (user.id,))

    events = [touching(mine.id), touching(other.id), touching(other.id, mine.id)]
    async with uow_factory() as uow:
        await uow.outbox.add([*events, api_key_event("created", key, NOW, traceparent=None)])
        await uow.commit()
    async with uow_factory() as uow:
        everything = await uow.outbox.feed(user.id, after=None, types=(), limit=10)
        restricted = await uow.outbox.feed(
            user.id, after=None, types=(), limit=10, accounts=[mine.id]
        )
        none = await uow.outbox.feed(user.id, after=None, types=(), limit=10, accounts=[uuid4()])
    assert len(everything) == 4
    assert [stored.event.id for stored in restricted] == [events[0].id, events[2].id]
    assert none == []
