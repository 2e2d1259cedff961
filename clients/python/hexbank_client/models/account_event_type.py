from enum import StrEnum


class AccountEventType(StrEnum):
    ACCOUNT_CLOSED = "account.closed"
    ACCOUNT_FROZEN = "account.frozen"
    ACCOUNT_OPENED = "account.opened"
    ACCOUNT_UNFROZEN = "account.unfrozen"
    ACCOUNT_UPDATED = "account.updated"

    def __str__(self) -> str:
        return str(self.value)
