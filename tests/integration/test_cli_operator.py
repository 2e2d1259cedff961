"""The operator's commands over a real database: freezing, unfreezing (a no-op when the account
already has that status), sweeping holds."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from application.transfer_requests import TransferRequest
from application.use_cases.convert_currency import ConversionRequest
from application.use_cases.register_user import Registration
from domain.account import AccountStatus
from entrypoints.container import Container
from tests.integration.test_cli import hexbank

pytestmark = pytest.mark.integration


async def test_an_operator_freezes_unfreezes_and_sweeps(
    database_url: str, tmp_path: Path, container: Container
) -> None:
    user = await container.register_user()(Registration("op@example.com", "password1", "Op"))
    account = await container.open_account()(user.id, "EUR")
    other = await container.open_account()(user.id, "EUR")
    await container.deposit()(user.id, account.id, 100)
    await container.transfer_funds()(
        user.id, TransferRequest(account.id, other.id, 10, "EUR", pending=True, timeout_seconds=1)
    )

    frozen = hexbank(database_url, tmp_path, "freeze-account", str(account.id))
    assert frozen.returncode == 0, frozen.stderr
    assert f"account {account.id} is frozen" in frozen.stdout
    assert (await container.get_account()(user.id, account.id)).status is AccountStatus.FROZEN
    unfrozen = hexbank(database_url, tmp_path, "unfreeze-account", str(account.id))
    assert unfrozen.returncode == 0, unfrozen.stderr
    assert (await container.get_account()(user.id, account.id)).status is AccountStatus.ACTIVE
    assert await _lifecycle_events(container) == ["account.frozen", "account.unfrozen"]

    unknown = hexbank(
        database_url, tmp_path, "freeze-account", "00000000-0000-0000-0000-000000000000"
    )
    assert unknown.returncode == 1  # not found: refused, not "could not run"
    assert unknown.stderr.strip() == (
        "hexbank: Account 00000000-0000-0000-0000-000000000000 not found."
    )

    swept = hexbank(database_url, tmp_path, "expire-holds")
    assert swept.returncode == 0, swept.stderr
    assert swept.stdout.strip() in {"expired 0 holds", "expired 1 hold"}
    report = hexbank(database_url, tmp_path, "reconcile")
    assert report.returncode == 0, report.stdout


async def test_freezing_what_is_frozen_or_unfreezing_what_is_active_is_a_no_op(
    database_url: str, tmp_path: Path, container: Container
) -> None:
    user = await container.register_user()(Registration("op@example.com", "password1", "Op"))
    account = await container.open_account()(user.id, "EUR")

    active = hexbank(database_url, tmp_path, "unfreeze-account", str(account.id))
    assert active.returncode == 0, active.stderr
    assert active.stdout.splitlines() == [
        f"account {account.id} was already active; nothing changed"
    ]
    assert hexbank(database_url, tmp_path, "freeze-account", str(account.id)).returncode == 0
    again = hexbank(database_url, tmp_path, "freeze-account", str(account.id))
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines() == [
        f"account {account.id} was already frozen; nothing changed"
    ]
    assert (await container.get_account()(user.id, account.id)).status is AccountStatus.FROZEN
    assert await _lifecycle_events(container) == ["account.frozen"]  # once


async def _lifecycle_events(container: Container) -> list[str]:
    async with container.engine().connect() as connection:
        rows = await connection.execute(
            text(
                "SELECT type FROM events WHERE type IN ('account.frozen', 'account.unfrozen')"
                " ORDER BY transaction_id, position"
            )
        )
        return [row.type for row in rows]


def test_relay_needs_events_on(database_url: str, tmp_path: Path) -> None:
    result = hexbank(database_url, tmp_path, "relay")  # the suite runs with HEXBANK_EVENTS=off
    assert result.returncode == 2
    assert "HEXBANK_EVENTS is off" in result.stderr


async def test_an_operator_creates_an_api_key_that_works_and_revokes_it(
    database_url: str, tmp_path: Path, container: Container
) -> None:
    user = await container.register_user()(Registration("key@example.com", "password1", "Key"))
    account = await container.open_account()(user.id, "EUR")
    created = hexbank(
        database_url,
        tmp_path,
        "create-api-key",
        "KEY@example.com",
        "--name",
        "payments",
        "--scope",
        "accounts:read",
        "--scope",
        "money:write",
        "--account",
        str(account.id),
    )
    assert created.returncode == 0, created.stderr
    secret = created.stdout.strip()
    assert secret.startswith("hxk_")
    assert secret not in created.stderr  # printed once
    assert "shown this once" in created.stderr
    principal = await container.authenticate_api_key()(secret)
    assert principal.user.id == user.id
    assert {scope.value for scope in principal.grant.scopes} == {"accounts:read", "money:write"}
    assert principal.grant.account_ids == frozenset({account.id})
    key_id = principal.api_key_id

    revoked = hexbank(database_url, tmp_path, "revoke-api-key", str(key_id))
    assert revoked.returncode == 0, revoked.stderr
    assert revoked.stdout.strip() == f"API key {key_id} is revoked"
    assert await container.list_api_keys()(user.id) == []

    unknown = hexbank(
        database_url, tmp_path, "create-api-key", "nobody@example.com", "--name", "n",
        "--scope", "accounts:read",
    )  # fmt: skip
    assert unknown.returncode == 1
    assert "no user has the email nobody@example.com" in unknown.stderr
    bad_scope = hexbank(
        database_url, tmp_path, "create-api-key", "key@example.com", "--name", "n",
        "--scope", "root",
    )  # fmt: skip
    assert bad_scope.returncode == 2
    missing = hexbank(database_url, tmp_path, "revoke-api-key", str(user.id))
    assert missing.returncode == 1
    assert f"API key {user.id} not found." in missing.stderr


async def test_an_operator_sets_and_removes_an_overdraft_limit(
    database_url: str, tmp_path: Path, container: Container
) -> None:
    user = await container.register_user()(Registration("op@example.com", "password1", "Op"))
    account = await container.open_account()(user.id, "EUR")

    granted = hexbank(database_url, tmp_path, "set-overdraft", str(account.id), "5000")
    assert granted.returncode == 0, granted.stderr
    assert granted.stdout.splitlines() == [f"account {account.id} has an overdraft limit of 5000"]
    shown = await container.get_account()(user.id, account.id)
    assert (shown.overdraft_limit, shown.available) == (5000, 5000)
    same = hexbank(database_url, tmp_path, "set-overdraft", str(account.id), "5000")
    assert same.stdout.splitlines() == [
        f"account {account.id} already had an overdraft limit of 5000; nothing changed"
    ]
    negative = hexbank(database_url, tmp_path, "set-overdraft", str(account.id), "--", "-1")
    assert negative.returncode == 1
    assert "overdraft limit is 0 to" in negative.stderr
    removed = hexbank(database_url, tmp_path, "set-overdraft", str(account.id), "0")
    assert removed.returncode == 0, removed.stderr
    assert (await container.get_account()(user.id, account.id)).overdraft_limit == 0
    async with container.engine().connect() as connection:
        limits = await connection.scalars(
            text(
                "SELECT (data ->> 'overdraft_limit')::bigint FROM events"
                " WHERE type = 'account.updated' ORDER BY transaction_id, position"
            )
        )
        assert list(limits) == [5000, 0]


async def test_fx_positions_prints_the_banks_position_in_each_currency(
    database_url: str, tmp_path: Path, container: Container
) -> None:
    none = hexbank(database_url, tmp_path, "fx-positions")
    assert none.returncode == 0, none.stderr
    assert none.stdout.splitlines() == ["no FX positions: no conversion yet"]
    user = await container.register_user()(Registration("op@example.com", "password1", "Op"))
    euros = await container.open_account()(user.id, "EUR")
    yen = await container.open_account()(user.id, "JPY")
    await container.deposit()(user.id, euros.id, 1_000)
    await container.convert_currency()(
        user.id, ConversionRequest(euros.id, yen.id, amount=1_000, rate="163.95")
    )
    printed = hexbank(database_url, tmp_path, "fx-positions")
    assert printed.returncode == 0, printed.stderr
    assert printed.stdout.splitlines() == ["EUR 1000", "JPY -1639"]  # 1639.5 yen, floored
    report = hexbank(database_url, tmp_path, "reconcile")
    assert report.returncode == 0, report.stdout
