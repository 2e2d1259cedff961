from enum import StrEnum


class TransferEventType(StrEnum):
    DEPOSIT_POSTED = "deposit.posted"
    TRANSFER_EXPIRED = "transfer.expired"
    TRANSFER_PENDING = "transfer.pending"
    TRANSFER_POSTED = "transfer.posted"
    TRANSFER_REVERSED = "transfer.reversed"
    TRANSFER_VOIDED = "transfer.voided"
    WITHDRAWAL_POSTED = "withdrawal.posted"

    def __str__(self) -> str:
        return str(self.value)
