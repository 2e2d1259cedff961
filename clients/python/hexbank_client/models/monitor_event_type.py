from enum import StrEnum


class MonitorEventType(StrEnum):
    ACCOUNT_MONITOR_CLEARED = "account.monitor.cleared"
    ACCOUNT_MONITOR_TRIGGERED = "account.monitor.triggered"

    def __str__(self) -> str:
        return str(self.value)
