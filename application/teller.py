"""Where use cases hand in money commands: through group commit to the write pipeline."""

from __future__ import annotations

from collections.abc import Hashable
from uuid import UUID

from application.commands import ActsOnTransfer, BatchItem, MoneyCommand
from application.group_commit import GroupCommit
from application.ports.unit_of_work import UnitOfWorkFactory
from application.receipts import BatchReceipt, TransferReceipt
from application.write_pipeline import Receipt, Submission, batch, single


class Teller:
    """Takes one caller's command, or batch, and answers with its receipt (or raises its
    refusal). Every money movement passes here, so every one is gated and grouped alike."""

    def __init__(
        self, group_commit: GroupCommit[Submission, Receipt], uow_factory: UnitOfWorkFactory
    ) -> None:
        self._group_commit = group_commit
        self._uow_factory = uow_factory

    async def move(
        self,
        command: MoneyCommand,
        *,
        user_id: UUID | None,
        idempotency_key: str | None,
        parties: tuple[UUID, UUID] | None = None,
    ) -> TransferReceipt:
        """`parties`: the accounts of the transfer a command acts on, when the caller knows."""
        gates: frozenset[Hashable] | None = None if parties is None else frozenset(parties)
        if gates is None and isinstance(command, ActsOnTransfer):
            gates = await self._parties(command)
        submission = single(command, user_id=user_id, idempotency_key=idempotency_key, gates=gates)
        receipt = await self._group_commit.submit(submission)
        if not isinstance(receipt, TransferReceipt):
            raise TypeError(f"a single command answered {receipt!r}")
        return receipt

    async def move_batch(
        self,
        items: tuple[BatchItem, ...],
        *,
        user_id: UUID,
        atomic: bool,
        idempotency_key: str | None,
    ) -> BatchReceipt:
        submission = batch(items, user_id=user_id, atomic=atomic, idempotency_key=idempotency_key)
        receipt = await self._group_commit.submit(submission)
        if not isinstance(receipt, BatchReceipt):
            raise TypeError(f"a batch answered {receipt!r}")
        return receipt

    async def _parties(self, command: ActsOnTransfer) -> frozenset[Hashable] | None:
        """The accounts of the transfer acted on (they never change), so the command is
        gated like any other on them; unknown: gated on the transfer alone, and the pipeline
        refuses it."""
        async with self._uow_factory() as uow:
            transfer = await uow.ledger.get_transfer(command.transfer_id)
        if transfer is None:
            return None
        return frozenset((transfer.from_account_id, transfer.to_account_id))
