from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from uuid import UUID

from application.cursors import decode_keyset, encode_keyset
from application.errors import InvalidPage
from application.page_budget import fill_page, mapping_bytes, text_bytes
from application.ports.clock import Clock
from application.ports.ledger import TransferQuery
from application.ports.unit_of_work import UnitOfWorkFactory
from application.use_cases.get_account import owned_account
from application.use_cases.get_statement import MAX_PAGE_SIZE
from domain.errors import AccountNotFound, InvalidMetadata
from domain.metadata import METADATA_MAX_KEYS, require_metadata, require_reference
from domain.transfer import Transfer, TransferKind, TransferStatus

_TRANSFER_BYTES = 600
"""A transfer's JSON besides its description, reference and metadata: ids, figures, times."""


def transfer_bytes(transfer: Transfer) -> int:
    return (
        _TRANSFER_BYTES
        + text_bytes(transfer.description)
        + text_bytes(transfer.reference)
        + mapping_bytes(transfer.metadata)
    )


@dataclass(frozen=True, slots=True)
class TransferFilters:
    account_id: UUID | None = None
    kind: TransferKind | None = None
    status: TransferStatus | None = None
    reference: str | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)
    conversion_id: UUID | None = None
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
    caller's own transfers. Without an account, the store finds the caller's accounts itself
    (none are loaded here). A page stops early (with a cursor) at the byte budget.

    With `accounts` (an API key restricted to some accounts), only transfers touching those
    of the caller's accounts; any other account asked for is not found, as a stranger's.
    """

    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock, max_page_bytes: int) -> None:
        self._uow_factory = uow_factory
        self._clock = clock
        self._max_page_bytes = max_page_bytes

    async def __call__(
        self,
        user_id: UUID,
        filters: TransferFilters,
        *,
        limit: int = 50,
        cursor: str | None = None,
        accounts: Collection[UUID] | None = None,
    ) -> TransferPage:
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise InvalidPage(f"A page holds 1 to {MAX_PAGE_SIZE} transfers.")
        if len(filters.metadata) > METADATA_MAX_KEYS:
            raise InvalidMetadata(f"At most {METADATA_MAX_KEYS} metadata filters.")
        require_metadata(filters.metadata)
        require_reference(filters.reference)
        older_than = None if cursor is None else decode_keyset(cursor)
        now = self._clock.now()
        query = TransferQuery(
            account_ids=() if filters.account_id is None else (filters.account_id,),
            owner_id=user_id if filters.account_id is None else None,
            at=now,
            limit=limit + 1,
            kind=filters.kind,
            status=filters.status,
            reference=filters.reference,
            conversion_id=filters.conversion_id,
            metadata=dict(filters.metadata),
            created_after=filters.created_after,
            created_before=filters.created_before,
        )
        account_id = filters.account_id
        if accounts is not None and account_id is not None and account_id not in accounts:
            raise AccountNotFound(f"Account {filters.account_id} not found.")
        async with self._uow_factory() as uow:
            if filters.account_id is not None:
                await owned_account(uow, filters.account_id, user_id, at=now)
            elif accounts is not None:
                visible = await uow.accounts.owned_among(user_id, accounts)
                if not visible:
                    return TransferPage([], None)
                query = replace(query, account_ids=tuple(sorted(visible)), owner_id=None)

            async def fetch(after: Transfer | None, count: int) -> list[Transfer]:
                key = older_than if after is None else (after.created_at, after.id)
                return await uow.ledger.search_transfers(
                    replace(query, limit=count, older_than=key)
                )

            page = await fill_page(
                fetch, limit=limit, max_bytes=self._max_page_bytes, size_of=transfer_bytes
            )
        items = [transfer.as_of(now) for transfer in page.items]
        last = items[-1] if items else None
        next_cursor = encode_keyset(last.created_at, last.id) if page.more and last else None
        return TransferPage(items, next_cursor)
