from enum import StrEnum


class UserEventType(StrEnum):
    USER_REGISTERED = "user.registered"

    def __str__(self) -> str:
        return str(self.value)
