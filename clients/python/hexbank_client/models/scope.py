from enum import StrEnum


class Scope(StrEnum):
    ACCOUNTSREAD = "accounts:read"
    ACCOUNTSWRITE = "accounts:write"
    API_KEYSWRITE = "api-keys:write"
    EVENTSREAD = "events:read"
    MONEYWRITE = "money:write"
    TRANSFERSREAD = "transfers:read"
    WEBHOOKSWRITE = "webhooks:write"

    def __str__(self) -> str:
        return str(self.value)
