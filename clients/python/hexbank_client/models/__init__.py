"""Contains all the data models used in inputs/outputs"""

from .account_event import AccountEvent
from .account_event_type import AccountEventType
from .account_list_out import AccountListOut
from .account_out import AccountOut
from .account_patch_in import AccountPatchIn
from .account_status import AccountStatus
from .account_summary_out import AccountSummaryOut
from .api_key_created_out import ApiKeyCreatedOut
from .api_key_event import ApiKeyEvent
from .api_key_event_data import ApiKeyEventData
from .api_key_event_type import ApiKeyEventType
from .api_key_in import ApiKeyIn
from .api_key_list_out import ApiKeyListOut
from .api_key_out import ApiKeyOut
from .atomic_batch_out import AtomicBatchOut
from .balance_out import BalanceOut
from .batch_in import BatchIn
from .batch_item_out import BatchItemOut
from .batch_out import BatchOut
from .chain_point_out import ChainPointOut
from .conversion_event import ConversionEvent
from .conversion_event_data import ConversionEventData
from .conversion_event_type import ConversionEventType
from .conversion_in import ConversionIn
from .conversion_out import ConversionOut
from .currency import Currency
from .delivery_status import DeliveryStatus
from .deposit_in import DepositIn
from .entry_out import EntryOut
from .event_account import EventAccount
from .event_feed_out import EventFeedOut
from .events_health_out import EventsHealthOut
from .events_list_type_item import EventsListTypeItem
from .health_out import HealthOut
from .metadata import Metadata
from .metadata_patch import MetadataPatch
from .monitor_event import MonitorEvent
from .monitor_event_data import MonitorEventData
from .monitor_event_data_after import MonitorEventDataAfter
from .monitor_event_data_before import MonitorEventDataBefore
from .monitor_event_type import MonitorEventType
from .monitor_field import MonitorField
from .monitor_in import MonitorIn
from .monitor_list_out import MonitorListOut
from .monitor_op import MonitorOp
from .monitor_out import MonitorOut
from .open_account_in import OpenAccountIn
from .post_hold_in import PostHoldIn
from .problem_out import ProblemOut
from .problem_out_errors_type_0_item import ProblemOutErrorsType0Item
from .register_user_in import RegisterUserIn
from .replay_in import ReplayIn
from .replay_out import ReplayOut
from .reversal_in import ReversalIn
from .scope import Scope
from .signed_statement_out import SignedStatementOut
from .statement_entry_out import StatementEntryOut
from .statement_key_out import StatementKeyOut
from .statement_keys_out import StatementKeysOut
from .statement_out import StatementOut
from .statements_export_format import StatementsExportFormat
from .token_form_in import TokenFormIn
from .token_out import TokenOut
from .token_problem_out import TokenProblemOut
from .token_problem_out_error import TokenProblemOutError
from .token_problem_out_errors_type_0_item import TokenProblemOutErrorsType0Item
from .transfer_event import TransferEvent
from .transfer_event_type import TransferEventType
from .transfer_in import TransferIn
from .transfer_kind import TransferKind
from .transfer_list_out import TransferListOut
from .transfer_out import TransferOut
from .transfer_status import TransferStatus
from .transfers_list_metadata import TransfersListMetadata
from .user_event import UserEvent
from .user_event_type import UserEventType
from .user_out import UserOut
from .webhook_delivery_list_out import WebhookDeliveryListOut
from .webhook_delivery_out import WebhookDeliveryOut
from .webhook_endpoint_created_out import WebhookEndpointCreatedOut
from .webhook_endpoint_event import WebhookEndpointEvent
from .webhook_endpoint_event_data import WebhookEndpointEventData
from .webhook_endpoint_event_data_reason import WebhookEndpointEventDataReason
from .webhook_endpoint_event_type import WebhookEndpointEventType
from .webhook_endpoint_in import WebhookEndpointIn
from .webhook_endpoint_list_out import WebhookEndpointListOut
from .webhook_endpoint_out import WebhookEndpointOut
from .webhook_endpoint_patch_in import WebhookEndpointPatchIn
from .webhook_secret_out import WebhookSecretOut
from .withdrawal_in import WithdrawalIn

__all__ = (
    "AccountEvent",
    "AccountEventType",
    "AccountListOut",
    "AccountOut",
    "AccountPatchIn",
    "AccountStatus",
    "AccountSummaryOut",
    "ApiKeyCreatedOut",
    "ApiKeyEvent",
    "ApiKeyEventData",
    "ApiKeyEventType",
    "ApiKeyIn",
    "ApiKeyListOut",
    "ApiKeyOut",
    "AtomicBatchOut",
    "BalanceOut",
    "BatchIn",
    "BatchItemOut",
    "BatchOut",
    "ChainPointOut",
    "ConversionEvent",
    "ConversionEventData",
    "ConversionEventType",
    "ConversionIn",
    "ConversionOut",
    "Currency",
    "DeliveryStatus",
    "DepositIn",
    "EntryOut",
    "EventAccount",
    "EventFeedOut",
    "EventsHealthOut",
    "EventsListTypeItem",
    "HealthOut",
    "Metadata",
    "MetadataPatch",
    "MonitorEvent",
    "MonitorEventData",
    "MonitorEventDataAfter",
    "MonitorEventDataBefore",
    "MonitorEventType",
    "MonitorField",
    "MonitorIn",
    "MonitorListOut",
    "MonitorOp",
    "MonitorOut",
    "OpenAccountIn",
    "PostHoldIn",
    "ProblemOut",
    "ProblemOutErrorsType0Item",
    "RegisterUserIn",
    "ReplayIn",
    "ReplayOut",
    "ReversalIn",
    "Scope",
    "SignedStatementOut",
    "StatementEntryOut",
    "StatementKeyOut",
    "StatementKeysOut",
    "StatementOut",
    "StatementsExportFormat",
    "TokenFormIn",
    "TokenOut",
    "TokenProblemOut",
    "TokenProblemOutError",
    "TokenProblemOutErrorsType0Item",
    "TransferEvent",
    "TransferEventType",
    "TransferIn",
    "TransferKind",
    "TransferListOut",
    "TransferOut",
    "TransfersListMetadata",
    "TransferStatus",
    "UserEvent",
    "UserEventType",
    "UserOut",
    "WebhookDeliveryListOut",
    "WebhookDeliveryOut",
    "WebhookEndpointCreatedOut",
    "WebhookEndpointEvent",
    "WebhookEndpointEventData",
    "WebhookEndpointEventDataReason",
    "WebhookEndpointEventType",
    "WebhookEndpointIn",
    "WebhookEndpointListOut",
    "WebhookEndpointOut",
    "WebhookEndpointPatchIn",
    "WebhookSecretOut",
    "WithdrawalIn",
)
