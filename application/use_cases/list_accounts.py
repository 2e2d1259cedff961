from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from application.cursors import decode_keyset, encode_keyset
from application.errors import InvalidPage
from application.page_budget import fill_page, mapping_bytes, text_bytes
from application.ports.clock import Clock
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.account import Account

MAX_ACCOUNTS_PAGE = 500
_ACCOUNT_BYTES = 400
"""An account's JSON besides its name and metadata: ids, figures, status, time, keys."""


@dataclass(frozen=True, slots=True)
class AccountPage:
    items: list[Account]
    next_cursor: str | None


def account_bytes(account: Account) -> int:
    return _ACCOUNT_BYTES + text_bytes(account.name) + mapping_bytes(account.metadata)


class ListAccounts:
    """The caller's accounts, oldest first, a page at a time: keyed on (created_at, id), so a
    page never repeats or skips an account while new ones are opened. A page stops early
    (with a cursor) once its accounts reach the byte budget. With `among` (an API key
    restricted to some accounts, at most a hundred), only those of the caller's accounts."""

    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock, max_page_bytes: int) -> None:
        self._uow_factory = uow_factory
        self._clock = clock
        self._max_page_bytes = max_page_bytes

    async def __call__(
        self,
        owner_id: UUID,
        *,
        limit: int = 100,
        cursor: str | None = None,
        among: Collection[UUID] | None = None,
    ) -> AccountPage:
        if not 1 <= limit <= MAX_ACCOUNTS_PAGE:
            raise InvalidPage(f"A page holds 1 to {MAX_ACCOUNTS_PAGE} accounts.")
        start = None if cursor is None else decode_keyset(cursor)
        now = self._clock.now()
        async with self._uow_factory() as uow:
            chosen: list[Account] | None = None
            if among is not None:
                found = await uow.accounts.get_many(among, at=now)
                chosen = sorted(
                    (account for account in found.values() if account.is_owned_by(owner_id)),
                    key=_order,
                )

            async def fetch(after: Account | None, count: int) -> list[Account]:
                key = start if after is None else (after.created_at, after.id)
                if chosen is not None:
                    return [a for a in chosen if key is None or _order(a) > key][:count]
                return await uow.accounts.list_owned_by(owner_id, at=now, limit=count, after=key)

            page = await fill_page(
                fetch, limit=limit, max_bytes=self._max_page_bytes, size_of=account_bytes
            )
        last = page.items[-1] if page.items else None
        next_cursor = encode_keyset(last.created_at, last.id) if page.more and last else None
        return AccountPage(page.items, next_cursor)


def _order(account: Account) -> tuple[datetime, UUID]:
    return account.created_at, account.id
