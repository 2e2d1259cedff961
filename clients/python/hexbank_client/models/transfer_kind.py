from enum import StrEnum


class TransferKind(StrEnum):
    CONVERSION = "conversion"
    DEPOSIT = "deposit"
    REVERSAL = "reversal"
    TRANSFER = "transfer"
    WITHDRAWAL = "withdrawal"

    def __str__(self) -> str:
        return str(self.value)
