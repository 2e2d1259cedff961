from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from application.cursors import decode_cursor, encode_cursor, int_field, uuid_field
from application.errors import InvalidPage
from application.ports.clock import Clock
from application.ports.unit_of_work import UnitOfWorkFactory
from application.use_cases.get_account import owned_account
from domain.transfer import MAX_SEQUENCE, LedgerEntry

MAX_PAGE_SIZE = 100


@dataclass(frozen=True, slots=True)
class StatementPage:
    entries: list[LedgerEntry]
    next_cursor: str | None


class GetStatement:
    """An account's ledger entries, newest first, a page at a time.

    Pages are keyed on the entry's per-account sequence, not an offset, so a page never
    repeats or skips an entry while new entries arrive at the top.
    """

    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow_factory = uow_factory
        self._clock = clock

    async def __call__(
        self,
        owner_id: UUID,
        account_id: UUID,
        *,
        limit: int = 50,
        cursor: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> StatementPage:
        """`since` inclusive, `until` exclusive: consecutive windows never share an entry."""
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise InvalidPage(f"A page holds 1 to {MAX_PAGE_SIZE} entries.")
        before = None if cursor is None else _decode(cursor, account_id)
        async with self._uow_factory() as uow:
            await owned_account(uow, account_id, owner_id, at=self._clock.now())
            entries = await uow.ledger.entries(
                account_id, before_sequence=before, limit=limit + 1, since=since, until=until
            )
        if len(entries) <= limit:
            return StatementPage(entries, None)
        page = entries[:limit]
        return StatementPage(page, _encode(account_id, page[-1].sequence))


def _encode(account_id: UUID, before_sequence: int) -> str:
    return encode_cursor({"a": str(account_id), "s": before_sequence})


def _decode(cursor: str, account_id: UUID) -> int:
    """The sequence a cursor points below; refuse one that is malformed or for another account."""
    fields = decode_cursor(cursor)
    if uuid_field(fields, "a") != account_id:
        raise InvalidPage("The cursor belongs to another account.")
    return int_field(fields, "s", low=1, high=MAX_SEQUENCE)
