from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from uuid import UUID

from application.cursors import decode_cursor, encode_cursor, uuid_field
from application.errors import InvalidPage
from application.ports.clock import Clock
from application.ports.ledger import TransferQuery
from application.ports.unit_of_work import UnitOfWorkFactory
from application.use_cases.get_account import owned_account
from application.use_cases.get_statement import MAX_PAGE_SIZE
from domain.errors import InvalidMetadata
from domain.metadata import METADATA_MAX_KEYS, require_metadata, require_reference
from domain.transfer import Transfer, TransferKind, TransferStatus


@dataclass(frozen=True, slots=True)
class TransferFilters:
    account_id: UUID | None = None
    kind: TransferKind | None = None
    status: TransferStatus | None = None
    reference: str | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)
    created_after: datetime | None = None
    created_before: datetime | None = None


@dataclass(frozen=True, slots=True)
class TransferPage:
    items: list[Transfer]
    next_cursor: str | None


class SearchTransfers:
    """The transfers touching the caller's accounts, newest first, filtered, a page at a time.

    Pages are keyed on (created_at, id), not an offset: a page never repeats or skips a
    transfer while new ones arrive at the top. A cursor only makes sense with the filters it
    came with; it carries no filter itself, and a foreign one just pages elsewhere in the
    caller's own transfers.
    """

    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow_factory = uow_factory
        self._clock = clock

    async def __call__(
        self,
        user_id: UUID,
        filters: TransferFilters,
        *,
        limit: int = 50,
        cursor: str | None = None,
    ) -> TransferPage:
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise InvalidPage(f"A page holds 1 to {MAX_PAGE_SIZE} transfers.")
        if len(filters.metadata) > METADATA_MAX_KEYS:
            raise InvalidMetadata(f"At most {METADATA_MAX_KEYS} metadata filters.")
        require_metadata(filters.metadata)
        require_reference(filters.reference)
        older_than = None if cursor is None else _decode(cursor)
        now = self._clock.now()
        async with self._uow_factory() as uow:
            if filters.account_id is not None:
                await owned_account(uow, filters.account_id, user_id, at=now)
                account_ids: tuple[UUID, ...] = (filters.account_id,)
            else:
                owned = await uow.accounts.list_owned_by(user_id, at=now)
                account_ids = tuple(account.id for account in owned)
            if not account_ids:
                return TransferPage([], None)
            found = await uow.ledger.search_transfers(
                TransferQuery(
                    account_ids=account_ids,
                    at=now,
                    limit=limit + 1,
                    kind=filters.kind,
                    status=filters.status,
                    reference=filters.reference,
                    metadata=dict(filters.metadata),
                    created_after=filters.created_after,
                    created_before=filters.created_before,
                    older_than=older_than,
                )
            )
        page = [transfer.as_of(now) for transfer in found[:limit]]
        if len(found) <= limit:
            return TransferPage(page, None)
        last = page[-1]
        return TransferPage(
            page, encode_cursor({"t": last.created_at.isoformat(), "i": str(last.id)})
        )


def _decode(cursor: str) -> tuple[datetime, UUID]:
    fields = decode_cursor(cursor)
    moment = fields.get("t")
    if not isinstance(moment, str):
        raise InvalidPage("The cursor is malformed.")
    try:
        created_at = datetime.fromisoformat(moment)
        # Aware, and an instant the store can hold: the calendar's far edges overflow on the
        # way to UTC, and that must be a 422 here, not a failure in the database driver.
        if created_at.tzinfo is None:
            raise ValueError("a cursor's time carries its offset")
        created_at = created_at.astimezone(UTC)
    except (ValueError, OverflowError) as error:
        raise InvalidPage("The cursor is malformed.") from error
    return created_at, uuid_field(fields, "i")
