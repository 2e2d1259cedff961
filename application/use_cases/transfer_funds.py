from __future__ import annotations

from uuid import UUID

from application.group_commit import GroupCommit
from application.money_movement import TransferReceipt
from application.transfer_requests import TransferRequest, check_transfer
from domain.money import MAX_MINOR_UNITS


class TransferFunds:
    """Move money from one of the caller's accounts to any customer account, or place a
    hold on it (`pending`) to be posted or voided later. Transfers arriving together are
    written together (`GroupCommit`); each still gets its own answer."""

    def __init__(self, group_commit: GroupCommit, max_amount: int = MAX_MINOR_UNITS) -> None:
        self._group_commit = group_commit
        self._max_amount = max_amount

    async def __call__(
        self, user_id: UUID, request: TransferRequest, idempotency_key: str | None = None
    ) -> TransferReceipt:
        checked = check_transfer(request, self._max_amount)
        return await self._group_commit.transfer(user_id, checked, idempotency_key)
