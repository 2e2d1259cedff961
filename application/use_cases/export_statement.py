from __future__ import annotations

from datetime import datetime
from uuid import UUID

from application.ports.clock import Clock
from application.ports.unit_of_work import UnitOfWorkFactory
from application.use_cases.get_account import owned_account
from domain.chain import ChainStart
from domain.statement import Statement, require_statement_range, require_statement_size
from domain.transfer import chained


class ExportStatement:
    """Every entry of an account over a range, oldest first, with where the chain opens and
    closes: what a signed statement says (the entrypoint renders and signs it). At most
    `max_entries` entries, read at once, so one export cannot exhaust memory. A `to` still to
    come is the statement's own time: what it signs as the whole range is over."""

    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock, max_entries: int) -> None:
        self._uow_factory = uow_factory
        self._clock = clock
        self._max_entries = max_entries

    async def __call__(
        self,
        owner_id: UUID,
        account_id: UUID,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> Statement:
        now = self._clock.now()
        require_statement_range(since, until)
        if until is not None and until > now:
            # A range not over yet cannot be signed as whole: entries still to come would be
            # in it. It closes when the statement is generated, so the next range opens there.
            until = now if since is None else max(since, now)
        async with self._uow_factory() as uow:
            account = await owned_account(uow, account_id, owner_id, at=now)
            newest_first = await uow.ledger.entries(
                account_id,
                before_sequence=None,
                limit=self._max_entries + 1,
                since=since,
                until=until,
            )
            require_statement_size(len(newest_first), self._max_entries)
            before = []  # no `from`: the chain opens at the account's first entry
            if since is not None and newest_first:
                # The entry the range's first chains from, found by its sequence after the
                # range was read: entries are never rewritten, so whatever was written between
                # the two reads, the opening and the entries agree.
                before = await uow.ledger.entries(
                    account_id, before_sequence=newest_first[-1].sequence, limit=1
                )
            elif since is not None:
                before = await uow.ledger.entries(
                    account_id, before_sequence=None, limit=1, until=since
                )
            opening = (
                ChainStart(before[0].balance_after, before[0].sequence, before[0].entry_hash)
                if before
                else ChainStart()
            )
            transfers = await uow.ledger.get_transfers({e.transfer_id for e in newest_first})
        entries = tuple(
            chained(entry, account.currency, transfers[entry.transfer_id].kind)
            for entry in reversed(newest_first)
        )
        return Statement(account_id, account.currency, since, until, now, opening, entries)
