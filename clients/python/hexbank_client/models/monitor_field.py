from enum import StrEnum


class MonitorField(StrEnum):
    AVAILABLE = "available"
    BALANCE = "balance"

    def __str__(self) -> str:
        return str(self.value)
