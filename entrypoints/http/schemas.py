"""What the API accepts and returns. Money fields are strict JSON integers of minor units."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from application.money_movement import TransferReceipt
from application.use_cases.get_account_summary import AccountSummary
from domain.account import Account
from domain.transfer import LedgerEntry, Transfer
from domain.user import User


def _encodable(text: str) -> str:
    """JSON may carry lone surrogates ("\\ud800") that no database or hash can take."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise ValueError("text must be valid Unicode (no lone surrogates)") from error
    if "\x00" in text:
        raise ValueError("text must not contain NUL characters")
    return text


Text = Annotated[str, AfterValidator(_encodable)]
Amount = Annotated[int, Field(strict=True, gt=0, description="Minor units, e.g. cents.")]
CurrencyCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$"), Field(examples=["EUR"])]


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RegisterUserIn(Request):
    email: Annotated[Text, StringConstraints(min_length=3, max_length=254)] = Field(
        examples=["ada@example.com"]
    )
    password: Annotated[Text, StringConstraints(min_length=8, max_length=128)]
    full_name: Annotated[Text, StringConstraints(min_length=1, max_length=200)] = Field(
        examples=["Ada Lovelace"]
    )


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


class OpenAccountIn(Request):
    currency: CurrencyCode


class AccountOut(BaseModel):
    id: UUID
    owner_id: UUID
    currency: str
    balance: int
    created_at: datetime

    @classmethod
    def of(cls, account: Account) -> AccountOut:
        if account.owner_id is None:  # the bank's funding accounts are never served
            raise ValueError(f"account {account.id} has no customer owner")
        return cls(
            id=account.id,
            owner_id=account.owner_id,
            currency=account.currency,
            balance=account.balance,
            created_at=account.created_at,
        )


class AccountListOut(BaseModel):
    items: list[AccountOut]


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


class DepositOut(BaseModel):
    id: UUID
    account_id: UUID
    amount: int
    currency: str
    created_at: datetime

    @classmethod
    def of(cls, receipt: TransferReceipt) -> DepositOut:
        transfer = receipt.transfer
        return cls(
            id=transfer.id,
            account_id=transfer.to_account_id,
            amount=transfer.amount,
            currency=transfer.currency,
            created_at=transfer.created_at,
        )


class TransferIn(Request):
    from_account_id: UUID
    to_account_id: UUID
    amount: Amount
    currency: CurrencyCode
    description: Annotated[Text, StringConstraints(max_length=140)] | None = None


class TransferOut(BaseModel):
    id: UUID
    from_account_id: UUID
    to_account_id: UUID
    amount: int
    currency: str
    description: str | None
    created_at: datetime

    @classmethod
    def of(cls, transfer: Transfer) -> TransferOut:
        return cls(
            id=transfer.id,
            from_account_id=transfer.from_account_id,
            to_account_id=transfer.to_account_id,
            amount=transfer.amount,
            currency=transfer.currency,
            description=transfer.description,
            created_at=transfer.created_at,
        )


class EntryOut(BaseModel):
    id: UUID
    transfer_id: UUID
    amount: int
    balance_after: int
    created_at: datetime

    @classmethod
    def of(cls, entry: LedgerEntry) -> EntryOut:
        return cls(
            id=entry.id,
            transfer_id=entry.transfer_id,
            amount=entry.amount,
            balance_after=entry.balance_after,
            created_at=entry.created_at,
        )


class StatementOut(BaseModel):
    items: list[EntryOut]
    next_cursor: str | None


class ProblemOut(BaseModel):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[dict[str, object]] | None = None
    request_id: str | None = None


class HealthOut(BaseModel):
    status: str
