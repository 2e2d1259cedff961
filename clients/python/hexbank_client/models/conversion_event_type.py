from enum import StrEnum


class ConversionEventType(StrEnum):
    CONVERSION_POSTED = "conversion.posted"

    def __str__(self) -> str:
        return str(self.value)
