from enum import StrEnum


class WebhookEndpointEventDataReason(StrEnum):
    FAILING = "failing"
    GONE = "gone"

    def __str__(self) -> str:
        return str(self.value)
