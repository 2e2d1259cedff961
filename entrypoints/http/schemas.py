"""What the API accepts and returns. Money fields are strict JSON integers of minor units.

The limits come from the domain's own constants, so the OpenAPI document states the rules the
service enforces and a client generating data from it is not refused for reasons it could not
see. `explain` turns a refused field into a sentence built from the same constants.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated, Literal, NotRequired
from uuid import UUID

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    StrictBool,
    StrictStr,
    StringConstraints,
    with_config,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema
from typing_extensions import TypedDict

from application.use_cases.get_account_summary import AccountSummary
from application.use_cases.get_statement import MAX_PAGE_SIZE
from application.use_cases.list_accounts import MAX_ACCOUNTS_PAGE
from application.use_cases.list_statement_keys import MAX_STATEMENT_KEYS
from application.use_cases.transfer_batch import MAX_BATCH_SIZE
from domain.account import ACCOUNT_NAME_MAX_LENGTH, Account, AccountStatus
from domain.conversion import MAX_RATE_DIGITS, Conversion
from domain.currency import MINOR_UNITS
from domain.metadata import (
    METADATA_KEY_MAX_LENGTH,
    METADATA_KEY_PATTERN,
    METADATA_MAX_KEYS,
    METADATA_VALUE_MAX_LENGTH,
    REFERENCE_MAX_LENGTH,
    REFERENCE_PATTERN,
)
from domain.money import MAX_MINOR_UNITS
from domain.monitor import Monitor, MonitorField, MonitorOp
from domain.transfer import (
    DESCRIPTION_MAX_LENGTH,
    MAX_HOLD_TIMEOUT,
    LedgerEntry,
    Transfer,
    TransferKind,
    TransferStatus,
)
from domain.user import (
    EMAIL_MAX_LENGTH,
    FULL_NAME_MAX_LENGTH,
    PASSWORD_MAX_LENGTH,
    PASSWORD_MIN_LENGTH,
    User,
)

EMAIL_MIN_LENGTH = 3  # "a@b": anything shorter cannot be an address
IDEMPOTENCY_KEY_MAX_LENGTH = 255

NO_NUL = r"^[^\x00]*$"
NO_CONTROL_CHARACTERS = r"^[^\x00-\x1F\x7F-\x9F]*$"
"""Unicode's control characters (category Cc) are exactly these two ranges; the domain refuses
them in names and descriptions, so the schema says so."""


def _encodable(text: str) -> str:
    """JSON may carry lone surrogates ("\\ud800") that no database or hash can take."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise ValueError("Text must be valid Unicode, with no lone surrogates.") from error
    if "\x00" in text:
        raise ValueError("Text cannot contain NUL characters.")
    return text


# Length and pattern come before the Unicode check so their errors are the plain string ones.
Email = Annotated[
    str,
    StringConstraints(min_length=EMAIL_MIN_LENGTH, max_length=EMAIL_MAX_LENGTH),
    AfterValidator(_encodable),
    # Documented, not checked here: the email normalizer is the judge (422 `invalid-email`).
    Field(json_schema_extra={"format": "email"}, examples=["ada@example.com"]),
]
Password = Annotated[
    str,
    StringConstraints(
        min_length=PASSWORD_MIN_LENGTH, max_length=PASSWORD_MAX_LENGTH, pattern=NO_NUL
    ),
    AfterValidator(_encodable),
]
FullName = Annotated[
    str,
    StringConstraints(min_length=1, max_length=FULL_NAME_MAX_LENGTH, pattern=NO_CONTROL_CHARACTERS),
    AfterValidator(_encodable),
    Field(examples=["Ada Lovelace"]),
]
Description = Annotated[
    str,
    StringConstraints(max_length=DESCRIPTION_MAX_LENGTH, pattern=NO_CONTROL_CHARACTERS),
    AfterValidator(_encodable),
    Field(examples=["rent"]),
]
# `lt`, not `le`: FastAPI's OpenAPI model holds bounds as floats, where 2**63 - 1 would come
# out as 2**63; 2**63 itself is exact in a float, so the document states the bound exactly.
Amount = Annotated[
    int,
    Field(strict=True, gt=0, lt=MAX_MINOR_UNITS + 1, description="Minor units, e.g. cents."),
]
HoldTimeout = Annotated[
    int,
    Field(
        strict=True,
        ge=1,
        le=int(MAX_HOLD_TIMEOUT.total_seconds()),
        description="Seconds until the hold expires; absent: it never does. Only with "
        "`pending: true`.",
    ),
]


MetadataKey = Annotated[str, StringConstraints(pattern=METADATA_KEY_PATTERN)]
MetadataValue = Annotated[
    str,
    StringConstraints(max_length=METADATA_VALUE_MAX_LENGTH, pattern=NO_CONTROL_CHARACTERS),
    AfterValidator(_encodable),
]
MetadataIn = Annotated[
    dict[MetadataKey, MetadataValue],
    Field(
        max_length=METADATA_MAX_KEYS,
        description=f"Your own labels: at most {METADATA_MAX_KEYS} keys of 1 to "
        f"{METADATA_KEY_MAX_LENGTH} characters (A-Z a-z 0-9 _ . -), text values of at most "
        f"{METADATA_VALUE_MAX_LENGTH} characters. Returned exactly as given.",
        examples=[{"order_id": "A-1042"}],
    ),
]
MetadataPatch = Annotated[
    dict[MetadataKey, MetadataValue | None],
    Field(
        max_length=METADATA_MAX_KEYS,
        description="Merged into the metadata: a key with a value sets it, with null removes it.",
    ),
]
Reference = Annotated[
    str,
    StringConstraints(max_length=REFERENCE_MAX_LENGTH, pattern=REFERENCE_PATTERN),
    Field(
        description=f"Your own id for it, 1 to {REFERENCE_MAX_LENGTH} visible ASCII characters, "
        "unique among the transfers you created.",
        examples=["invoice-2026-0042"],
    ),
]
AccountName = Annotated[
    str,
    StringConstraints(
        min_length=1, max_length=ACCOUNT_NAME_MAX_LENGTH, pattern=NO_CONTROL_CHARACTERS
    ),
    AfterValidator(_encodable),
    Field(examples=["Rent"]),
]


def _storable(moment: datetime) -> datetime:
    """Any instant the database stores; the far edges of the calendar would overflow on the
    way to UTC."""
    try:
        return moment.astimezone(UTC)
    except OverflowError as error:
        raise ValueError("The time is out of range.") from error


_RFC_3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,6})?([Zz]|[+-]\d{2}:\d{2})$"
)


TIME_RULE = (
    "A time is an RFC 3339 instant with its offset, such as 2026-01-01T00:00:00Z: add an "
    "offset (Z for UTC) to a time without one."
)
"""A time without an offset is refused, not read as UTC: which zone the client meant is not
known, and a guess would move a balance-at or a statement's edge by hours."""


def _rfc_3339(value: object) -> object:
    """Only the RFC 3339 form, with its offset: not a bare number of seconds, not a date."""
    if not isinstance(value, str) or not _RFC_3339.fullmatch(value):
        raise ValueError(TIME_RULE)
    return value


Moment = Annotated[AwareDatetime, BeforeValidator(_rfc_3339), AfterValidator(_storable)]


def _active_currency(code: str) -> str:
    if code not in MINOR_UNITS:
        raise ValueError(f"{code!r} is not an active ISO 4217 currency code.")
    return code


CurrencyCode = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Z]{3}$"),
    AfterValidator(_active_currency),
    # The schema lists exactly the codes the service takes, so no schema-valid code is refused.
    Field(examples=["EUR"], json_schema_extra={"enum": sorted(MINOR_UNITS)}),
]

_FIELD_RULES: dict[str, str] = {
    "email": f"An email address must be {EMAIL_MIN_LENGTH} to {EMAIL_MAX_LENGTH} characters "
    "long, such as ada@example.com.",
    "username": f"The username is your email address, {EMAIL_MIN_LENGTH} to {EMAIL_MAX_LENGTH} "
    "characters long.",
    "password": f"A password must be {PASSWORD_MIN_LENGTH} to {PASSWORD_MAX_LENGTH} characters "
    "long, with no NUL characters or lone surrogates.",
    "full_name": f"A full name must be 1 to {FULL_NAME_MAX_LENGTH} characters long, with no "
    "control characters or lone surrogates.",
    "description": f"A description is at most {DESCRIPTION_MAX_LENGTH} characters long, with no "
    "control characters or lone surrogates.",
    "amount": f"An amount must be a whole number of minor units (cents) from 1 to "
    f"{MAX_MINOR_UNITS}.",
    "currency": "A currency is a three-letter ISO 4217 code in capitals, such as EUR.",
    "timeout_seconds": f"A hold's timeout is a whole number of seconds from 1 to "
    f"{int(MAX_HOLD_TIMEOUT.total_seconds())}.",
    "pending": "`pending` is true (a hold) or false.",
    "atomic": "`atomic` is true (all or nothing) or false.",
    "transfers": f"A batch holds 1 to {MAX_BATCH_SIZE} transfers.",
    "metadata": f"Metadata is an object of at most {METADATA_MAX_KEYS} keys of 1 to "
    f"{METADATA_KEY_MAX_LENGTH} characters (A-Z a-z 0-9 _ . -) with text values of at most "
    f"{METADATA_VALUE_MAX_LENGTH} characters and no control characters.",
    "reference": f"A reference is 1 to {REFERENCE_MAX_LENGTH} visible ASCII characters, "
    "with no spaces.",
    "name": f"An account name is 1 to {ACCOUNT_NAME_MAX_LENGTH} characters long, with no "
    "control characters.",
    "at": TIME_RULE,
    "from": TIME_RULE,
    "to": TIME_RULE,
    "created_after": TIME_RULE,
    "created_before": TIME_RULE,
    "kind": "A kind is one of transfer, deposit, withdrawal, reversal.",
    "status": "A status is one of posted, pending, voided, expired.",
    "account_id": "An account id is a UUID.",
    "from_account_id": "An account id is a UUID.",
    "to_account_id": "An account id is a UUID.",
    "transfer_id": "A transfer id is a UUID.",
    "limit": f"A page holds 1 to {MAX_PAGE_SIZE} items, or 1 to {MAX_ACCOUNTS_PAGE} accounts.",
    "cursor": "A cursor is the `next_cursor` of an earlier page.",
    "Idempotency-Key": f"An Idempotency-Key is 1 to {IDEMPOTENCY_KEY_MAX_LENGTH} visible ASCII "
    "characters, with no spaces.",
    "grant_type": "The only grant type is `password`.",
}
"""One sentence per field, saying every rule the field has; used for any broken rule."""

_BODY_NOT_AN_OBJECT = {"model_attributes_type", "dict_type", "model_type"}
_OUR_VALIDATOR = "Value error, "  # Pydantic's prefix to the sentence a validator of ours raised


def explain(loc: Sequence[str | int], kind: str, fallback: str) -> str:
    """A refused input in the user's words; Pydantic's own message for what we do not know."""
    field = loc[-1] if len(loc) > 1 else None
    if kind == "missing":
        return "A request body is required." if field is None else f"`{field}` is required."
    if kind == "extra_forbidden":
        return f"`{field}` is not a field of this request."
    if kind == "json_invalid":
        return "The body is not valid JSON."
    if kind == "value_error" and fallback.startswith(_OUR_VALIDATOR):
        return fallback.removeprefix(_OUR_VALIDATOR)
    if field is None and kind in _BODY_NOT_AN_OBJECT:
        return "The body must be a JSON object."
    if "metadata" in loc[1:]:  # a key or a value inside metadata: the keys are the user's
        return _FIELD_RULES["metadata"]
    if isinstance(field, str) and field in _FIELD_RULES:
        return _FIELD_RULES[field]
    return fallback


LOGIN_FORM_HINT = (
    "Send the credentials as form fields, not JSON: `username` (your email) and `password`, "
    "as application/x-www-form-urlencoded."
)


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RegisterUserIn(Request):
    email: Email
    password: Password
    full_name: FullName


class TokenFormIn(BaseModel):
    """OAuth2's password grant (RFC 6749 section 4.3.2), as Swagger UI's Authorize sends it.
    `grant_type` is REQUIRED there; other fields (`client_id`, ...) are ignored, as the RFC
    asks of unknown parameters."""

    # FastAPI reads an empty form field as an absent one: "" is as missing as no field at all.
    grant_type: Annotated[str, StringConstraints(max_length=8, pattern=r"^password$")]
    username: Email
    password: Password
    # RFC 6749 section 3.3: space-delimited scopes of visible ASCII (none are defined here).
    scope: Annotated[str, StringConstraints(max_length=1000, pattern=r"^[\x20-\x7E]*$")] = ""


class UserOut(BaseModel):
    id: UUID
    email: str
    full_name: str
    created_at: datetime

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(
            id=user.id, email=user.email, full_name=user.full_name, created_at=user.created_at
        )


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105  (the OAuth2 token type, not a secret)
    expires_in: int


Hash = Annotated[
    str,
    Field(min_length=64, max_length=64, pattern="^[0-9a-f]{64}$", description="SHA-256, hex."),
]
KeyId = Annotated[
    str,
    Field(
        min_length=16,
        max_length=16,
        pattern="^[0-9a-f]{16}$",
        description="The first 16 hex digits of SHA-256 of the raw public key.",
    ),
]


class OpenAccountIn(Request):
    currency: CurrencyCode
    name: AccountName | None = None
    metadata: MetadataIn | None = None


class AccountPatchIn(Request):
    """Only the name and the metadata change; money fields are not accepted here."""

    name: AccountName | None = Field(default=None, description="null removes the name.")
    metadata: MetadataPatch | None = None


class AccountOut(BaseModel):
    id: UUID
    owner_id: UUID
    currency: str
    balance: int = Field(description="The posted balance, in minor units.")
    held: int = Field(description="Reserved by open holds on this account.")
    available: int = Field(description="What may be spent: balance - held + overdraft_limit.")
    overdraft_limit: int = Field(
        description="How far below zero the balance may go, in minor units; set by an "
        "operator only (`hexbank set-overdraft`), 0: no overdraft."
    )
    status: AccountStatus
    name: str | None
    metadata: dict[str, str]
    created_at: datetime
    sequence: int = Field(description="Its newest entry's sequence: its number of entries.")
    head_hash: Hash = Field(
        description="Its newest entry's `entry_hash`, hex; 64 zeros before its first entry"
        " (docs/statements.md)."
    )

    @classmethod
    def of(cls, account: Account) -> AccountOut:
        if account.owner_id is None:  # the bank's funding accounts are never served
            raise ValueError(f"account {account.id} has no customer owner")
        return cls(
            id=account.id,
            owner_id=account.owner_id,
            currency=account.currency,
            balance=account.balance,
            held=account.held,
            available=account.available,
            overdraft_limit=account.overdraft_limit,
            status=account.status,
            name=account.name,
            metadata=account.metadata,
            created_at=account.created_at,
            sequence=account.entry_count,
            head_hash=account.head_hash.hex(),
        )


class AccountListOut(BaseModel):
    items: list[AccountOut]
    next_cursor: str | None = Field(
        description="Pass it back as `cursor` for the next page; null on the last page."
    )


class AccountSummaryOut(BaseModel):
    account_id: UUID
    currency: str
    balance: int
    total_in: int
    total_out: int
    count_in: int
    count_out: int

    @classmethod
    def of(cls, summary: AccountSummary) -> AccountSummaryOut:
        totals = summary.totals
        return cls(
            account_id=summary.account.id,
            currency=summary.account.currency,
            balance=totals.balance,
            total_in=totals.total_in,
            total_out=totals.total_out,
            count_in=totals.count_in,
            count_out=totals.count_out,
        )


class DepositIn(Request):
    amount: Amount
    reference: Reference | None = None
    metadata: MetadataIn | None = None


class WithdrawalIn(Request):
    amount: Amount
    description: Description | None = None
    reference: Reference | None = None
    metadata: MetadataIn | None = None


class TransferIn(Request):
    from_account_id: UUID
    to_account_id: UUID
    amount: Amount
    currency: CurrencyCode
    description: Description | None = None
    pending: StrictBool = Field(
        default=False, description="Place a hold: reserve the amount, post or void it later."
    )
    timeout_seconds: HoldTimeout | None = None
    reference: Reference | None = None
    metadata: MetadataIn | None = None


class MonitorIn(Request):
    field: MonitorField = Field(description="What is watched: `balance` or `available`.")
    op: MonitorOp = Field(description="How it compares to `value`: lt, lte, gt, gte or eq.")
    value: int = Field(strict=True, gt=-MAX_MINOR_UNITS - 1, lt=MAX_MINOR_UNITS + 1)
    description: Description | None = None


class MonitorOut(BaseModel):
    id: UUID
    account_id: UUID
    field: MonitorField
    op: MonitorOp
    value: int
    description: str | None
    created_at: datetime

    @classmethod
    def of(cls, monitor: Monitor) -> MonitorOut:
        return cls.model_validate(monitor, from_attributes=True)


class MonitorListOut(BaseModel):
    items: list[MonitorOut] = Field(description="Oldest first; at most the account's limit.")


class ConversionIn(Request):
    from_account_id: UUID = Field(description="One of your accounts: it pays `amount`.")
    to_account_id: UUID = Field(description="Any customer account, of another currency.")
    amount: Amount = Field(description="In the source account's minor units.")
    rate: StrictStr = Field(
        max_length=256,
        pattern=NO_CONTROL_CHARACTERS,
        description=f'Target per source currency unit, a decimal string (`"1.0845"`): '
        f"positive, at most {MAX_RATE_DIGITS} significant digits, no sign, no exponent; "
        "otherwise 422 `invalid-rate`. The caller's: hexbank has no market data.",
        examples=["1.0845"],
    )
    description: Description | None = None
    reference: Reference | None = None
    metadata: MetadataIn | None = None


class ConversionOut(BaseModel):
    id: UUID
    from_account_id: UUID
    to_account_id: UUID
    source_amount: int = Field(description="Paid by the payer, in its minor units.")
    source_currency: str
    target_amount: int = Field(
        description="Received by the payee: floor(source_amount x rate x 10^(target exponent "
        "- source exponent)), rounded down, in favour of the bank."
    )
    target_currency: str
    rate: str
    transfer_ids: list[UUID] = Field(
        description="The debit leg (payer to the bank's FX account of the source currency), "
        "then the credit leg (the bank's FX account of the target currency to the payee)."
    )
    created_at: datetime
    reference: str | None
    metadata: dict[str, str]

    @classmethod
    def of(cls, conversion: Conversion) -> ConversionOut:
        return cls(
            id=conversion.id,
            from_account_id=conversion.from_account_id,
            to_account_id=conversion.to_account_id,
            source_amount=conversion.source_amount,
            source_currency=conversion.source_currency,
            target_amount=conversion.target_amount,
            target_currency=conversion.target_currency,
            rate=conversion.rate,
            transfer_ids=[conversion.debit_transfer_id, conversion.credit_transfer_id],
            created_at=conversion.created_at,
            reference=conversion.reference,
            metadata=dict(conversion.metadata),
        )


class PostHoldIn(Request):
    amount: Amount | None = Field(default=None, description="Default: the whole hold.")


class ReversalIn(Request):
    amount: Amount | None = Field(default=None, description="Default: all still reversible.")
    description: Description | None = None
    reference: Reference | None = None
    metadata: MetadataIn | None = None


@with_config(ConfigDict(extra="forbid"))
class TransferFields(TypedDict):
    """`TransferIn`'s fields and rules, checked into a plain dict: a batch of 1000 items
    builds no model per item. A test holds the two to the same outcome for every input."""

    from_account_id: UUID
    to_account_id: UUID
    amount: Amount
    currency: CurrencyCode
    description: NotRequired[Description | None]
    pending: NotRequired[StrictBool]
    timeout_seconds: NotRequired[HoldTimeout | None]
    reference: NotRequired[Reference | None]
    metadata: NotRequired[MetadataIn | None]


def _an_object(item: object) -> object:
    """A non-object item gets the error a `TransferIn` gives it (FastAPI validates with
    `from_attributes`), not the plainer one of a dict."""
    if not isinstance(item, dict):
        raise PydanticCustomError(
            "model_attributes_type",
            "Input should be a valid dictionary or object to extract fields from",
        )
    return item


class _DocumentedAs:
    """Validated as one type, documented as a model with the same rules, under that model's
    name: the OpenAPI document keeps one schema of a transfer request."""

    def __init__(self, model: type[BaseModel]) -> None:
        self.model = model

    def __get_pydantic_json_schema__(
        self, _: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        # As a list's items, the model is a `$ref` to its one definition; given alone, the
        # handler would inline it.
        listed = handler(core_schema.list_schema(self.model.__pydantic_core_schema__))
        items: JsonSchemaValue = listed["items"]
        return items


TransferItem = Annotated[TransferFields, BeforeValidator(_an_object), _DocumentedAs(TransferIn)]


class BatchIn(Request):
    transfers: Annotated[list[TransferItem], Field(min_length=1, max_length=MAX_BATCH_SIZE)]
    atomic: StrictBool = Field(
        default=False, description="All or nothing: the first refusal refuses the batch."
    )


class TransferOut(BaseModel):
    id: UUID
    from_account_id: UUID
    to_account_id: UUID
    amount: int
    currency: str
    description: str | None
    kind: TransferKind
    status: TransferStatus
    expires_at: datetime | None = Field(description="When a pending hold expires; null: never.")
    posted_amount: int | None = Field(description="What was posted; null until posted.")
    reversed_amount: int = Field(description="What has been reversed of it so far.")
    reversal_of: UUID | None = Field(description="For a reversal: the transfer it reverses.")
    reference: str | None
    metadata: dict[str, str]
    conversion_id: UUID | None = Field(
        description="For a leg of a currency conversion: the conversion."
    )
    created_at: datetime

    @classmethod
    def of(cls, transfer: Transfer) -> TransferOut:
        """Read from the domain object, field by field of the same name: the shape is stated
        once, here (what the transfer keeps besides, such as its author, stays out)."""
        return cls.model_validate(transfer, from_attributes=True)


_KIND_TEXT = {kind: kind.value for kind in TransferKind}
_STATUS_TEXT = {status: status.value for status in TransferStatus}
"""Plain strings: to_json takes microseconds to write an enum member, `.value` is slow too."""


def transfer_fields(transfer: Transfer) -> dict[str, object]:
    """`TransferOut.of(transfer)`'s fields, in its order and unchecked, for
    `pydantic_core.to_json`, which writes them as the model would: a batch's answer of 1000
    transfers builds no model per item. A test holds the two to the same bytes."""
    fields = {name: getattr(transfer, name) for name in _TRANSFER_OUT_FIELDS}
    fields["kind"] = _KIND_TEXT[transfer.kind]
    fields["status"] = _STATUS_TEXT[transfer.status]
    return fields


_TRANSFER_OUT_FIELDS = tuple(TransferOut.model_fields)


class BatchItemOut(BaseModel):
    index: int
    status: int = Field(description="The HTTP status this item would have had on its own.")
    transfer: TransferOut | None = None
    problem: ProblemOut | None = Field(
        default=None, description="RFC 9457 problem details of a refused item."
    )


class BatchOut(BaseModel):
    """`atomic: false`: one result per item, in input order."""

    results: list[BatchItemOut]


class AtomicBatchOut(BaseModel):
    """`atomic: true`: every transfer, in input order."""

    transfers: list[TransferOut]


class EntryOut(BaseModel):
    id: UUID
    transfer_id: UUID
    amount: int
    balance_after: int
    created_at: datetime
    sequence: int = Field(description="Its place among the account's entries, from 1, no gaps.")
    entry_hash: Hash = Field(
        description="SHA-256 of the previous entry's hash and this entry, hex (docs/statements.md)."
    )

    @classmethod
    def of(cls, entry: LedgerEntry) -> EntryOut:
        return cls(
            id=entry.id,
            transfer_id=entry.transfer_id,
            amount=entry.amount,
            balance_after=entry.balance_after,
            created_at=entry.created_at,
            sequence=entry.sequence,
            entry_hash=entry.entry_hash.hex(),
        )


class StatementOut(BaseModel):
    items: list[EntryOut]
    next_cursor: str | None


class TransferListOut(BaseModel):
    items: list[TransferOut]
    next_cursor: str | None


class BalanceOut(BaseModel):
    balance: int = Field(description="The posted balance after the last entry at or before `at`.")
    at: datetime
    sequence: int = Field(description="That entry's sequence; 0 before the first entry.")
    entry_hash: Hash = Field(
        description="That entry's hash, hex; 64 zeros before the first entry (docs/statements.md)."
    )


class ChainPointOut(BaseModel):
    """The account right after one entry: where a statement's chain opens or closes."""

    balance: int
    sequence: int = Field(description="That entry's sequence; 0 before the account's first.")
    hash: Hash


class StatementEntryOut(BaseModel):
    sequence: int
    transfer_id: UUID
    transfer_kind: TransferKind
    amount: int
    balance_after: int
    created_at: datetime = Field(description="UTC, to the microsecond the hash covers.")
    entry_hash: Hash


class SignedStatementOut(BaseModel):
    """Every entry of the range, oldest first, between `opening` and `closing`, signed with
    Ed25519: `signature` (base64) covers the file's bytes with `signature` empty
    (docs/statements.md). `hexbank verify-statement FILE` checks it offline."""

    format: Literal["hexbank-statement/1"]
    account_id: UUID
    currency: str
    from_: datetime | None = Field(alias="from", description="Entries at or after it; null: all.")
    to: datetime | None = Field(description="Entries before it; null: all, up to `generated_at`.")
    generated_at: datetime
    opening: ChainPointOut
    closing: ChainPointOut
    entries: list[StatementEntryOut] = Field(
        max_length=1_000_000, description="At most HEXBANK_STATEMENT_MAX_ENTRIES."
    )
    key_id: KeyId
    signature: str = Field(
        min_length=88,
        max_length=88,
        pattern="^[A-Za-z0-9+/]{86}==$",
        description="Ed25519 (64 bytes), base64.",
    )


class StatementKeyOut(BaseModel):
    key_id: KeyId
    algorithm: Literal["Ed25519"]
    public_key: str = Field(
        min_length=44,
        max_length=44,
        pattern="^[A-Za-z0-9+/]{43}=$",
        description="The 32 raw bytes of the key, base64.",
    )
    public_key_pem: str = Field(
        max_length=200,
        pattern="^-----BEGIN PUBLIC KEY-----",
        description="The same key as PEM (SubjectPublicKeyInfo).",
    )
    current: bool = Field(description="Signs new statements; the others verify older ones.")


class StatementKeysOut(BaseModel):
    keys: list[StatementKeyOut] = Field(max_length=MAX_STATEMENT_KEYS)


class ProblemOut(BaseModel):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[dict[str, object]] | None = None
    index: int | None = Field(
        default=None, description="For an atomic batch: the item that refused it."
    )
    sequence: int | None = Field(
        default=None,
        description="For `precondition-failed`: the debited account's current sequence (its "
        "ETag now).",
    )
    request_id: str | None = None


class EventsHealthOut(BaseModel):
    """The outbox, and where its events are delivered."""

    backlog: float = Field(description="Events waiting for the broker.")
    oldest_undelivered_s: float = Field(description="Age of the oldest of them, in seconds.")
    nats_url: str | None = Field(
        default=None, description="The NATS server events go to; null with HEXBANK_EVENTS=off."
    )
    stream: str | None = Field(default=None, description="The JetStream stream that keeps them.")
    subjects: str | None = Field(
        default=None, description="Their subjects, `hexbank.events.<type>`, as one filter."
    )


class HealthOut(BaseModel):
    status: str
    events: EventsHealthOut | None = Field(
        default=None,
        description="The outbox: events waiting for the broker, the oldest's age (s), and the "
        "broker, stream and subjects a consumer subscribes to.",
    )
