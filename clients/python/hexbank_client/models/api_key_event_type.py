from enum import StrEnum


class ApiKeyEventType(StrEnum):
    API_KEY_CREATED = "api_key.created"
    API_KEY_REVOKED = "api_key.revoked"

    def __str__(self) -> str:
        return str(self.value)
