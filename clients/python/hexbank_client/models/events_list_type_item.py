from enum import StrEnum


class EventsListTypeItem(StrEnum):
    ACCOUNT_CLOSED = "account.closed"
    ACCOUNT_FROZEN = "account.frozen"
    ACCOUNT_MONITOR_CLEARED = "account.monitor.cleared"
    ACCOUNT_MONITOR_TRIGGERED = "account.monitor.triggered"
    ACCOUNT_OPENED = "account.opened"
    ACCOUNT_UNFROZEN = "account.unfrozen"
    ACCOUNT_UPDATED = "account.updated"
    API_KEY_CREATED = "api_key.created"
    API_KEY_REVOKED = "api_key.revoked"
    CONVERSION_POSTED = "conversion.posted"
    DEPOSIT_POSTED = "deposit.posted"
    TRANSFER_EXPIRED = "transfer.expired"
    TRANSFER_PENDING = "transfer.pending"
    TRANSFER_POSTED = "transfer.posted"
    TRANSFER_REVERSED = "transfer.reversed"
    TRANSFER_VOIDED = "transfer.voided"
    USER_REGISTERED = "user.registered"
    WEBHOOK_ENDPOINT_DISABLED = "webhook_endpoint.disabled"
    WITHDRAWAL_POSTED = "withdrawal.posted"

    def __str__(self) -> str:
        return str(self.value)
