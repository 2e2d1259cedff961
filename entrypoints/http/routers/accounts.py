from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response

from application.ports.statement_signer import StatementSigner
from application.use_cases.close_account import CloseAccount
from application.use_cases.deposit import Deposit
from application.use_cases.export_statement import ExportStatement
from application.use_cases.get_account import GetAccount
from application.use_cases.get_account_summary import GetAccountSummary
from application.use_cases.get_balance_at import GetBalanceAt
from application.use_cases.get_statement import MAX_PAGE_SIZE, GetStatement
from application.use_cases.list_accounts import MAX_ACCOUNTS_PAGE, ListAccounts
from application.use_cases.monitors import CreateMonitor, DeleteMonitor, ListMonitors
from application.use_cases.open_account import OpenAccount
from application.use_cases.update_account import AccountChanges, UpdateAccount
from application.use_cases.withdraw import Withdraw
from entrypoints.http.dependencies import (
    AccountsReader,
    AccountsWriter,
    AppMetrics,
    IdempotencyKeyHeader,
    IfMatchHeader,
    MoneyWriter,
    expected_sequence,
    grant_of,
    provided,
)
from entrypoints.http.problems import problem_responses
from entrypoints.http.receipts import note_receipt
from entrypoints.http.schemas import (
    AccountListOut,
    AccountOut,
    AccountPatchIn,
    AccountSummaryOut,
    BalanceOut,
    DepositIn,
    EntryOut,
    Moment,
    MonitorIn,
    MonitorListOut,
    MonitorOut,
    OpenAccountIn,
    SignedStatementOut,
    StatementOut,
    TransferOut,
    WithdrawalIn,
)
from entrypoints.statement_documents import (
    SIGNATURE_HEADER,
    render_csv,
    render_json,
    signature_header,
)

router = APIRouter(
    prefix="/api/v1/accounts",
    tags=["accounts"],
    # Every route: 429 past its user's (or address's) cap, 503 past the request deadline;
    # 403 `insufficient-scope` to an API key without the route's scope.
    responses=problem_responses(403, 429, 503),
)


@router.post(
    "", status_code=201, response_model=AccountOut, responses=problem_responses(401, 409, 413, 422)
)
async def open_account(
    body: OpenAccountIn,
    user: AccountsWriter,
    response: Response,
    open_account: Annotated[OpenAccount, provided(lambda c: c.open_account)],
) -> AccountOut:
    """Open an account of yours in one currency, with a zero balance."""
    account = await open_account(user.id, body.currency, name=body.name, metadata=body.metadata)
    response.headers["Location"] = f"/api/v1/accounts/{account.id}"
    return AccountOut.of(account)


@router.get("", response_model=AccountListOut, responses=problem_responses(401, 422))
async def list_accounts(
    request: Request,
    user: AccountsReader,
    list_accounts: Annotated[ListAccounts, provided(lambda c: c.list_accounts)],
    limit: Annotated[int, Query(ge=1, le=MAX_ACCOUNTS_PAGE)] = 100,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> AccountListOut:
    """Your accounts, oldest first; pass `next_cursor` back as `cursor` for the next page. A
    page may hold fewer than `limit` accounts (large names and metadata fill it sooner);
    only a null `next_cursor` means the end."""
    page = await list_accounts(
        user.id, limit=limit, cursor=cursor, among=grant_of(request).account_ids
    )
    return AccountListOut(
        items=[AccountOut.of(account) for account in page.items], next_cursor=page.next_cursor
    )


@router.get(
    "/{account_id}",
    response_model=AccountOut,
    responses={
        200: {"headers": {"ETag": {"$ref": "#/components/headers/ETag"}}},
        **problem_responses(401, 404, 422),
    },
)
async def get_account(
    account_id: UUID,
    user: AccountsReader,
    response: Response,
    get_account: Annotated[GetAccount, provided(lambda c: c.get_account)],
) -> AccountOut:
    """One of your accounts, with its balance, held and available amounts; its `ETag` is
    its sequence, for a conditional debit's `If-Match`."""
    account = await get_account(user.id, account_id)
    response.headers["ETag"] = f'"{account.entry_count}"'
    return AccountOut.of(account)


@router.patch(
    "/{account_id}", response_model=AccountOut, responses=problem_responses(401, 404, 413, 422)
)
async def update_account(
    account_id: UUID,
    body: AccountPatchIn,
    user: AccountsWriter,
    update: Annotated[UpdateAccount, provided(lambda c: c.update_account)],
) -> AccountOut:
    """Change the name and the metadata only (merge: a key set to null is removed); money
    fields are not accepted here."""
    given = body.model_fields_set
    changes = AccountChanges(
        **({"name": body.name} if "name" in given else {}),
        metadata=body.metadata if "metadata" in given else None,
    )
    return AccountOut.of(await update(user.id, account_id, changes))


@router.post(
    "/{account_id}/close",
    response_model=AccountOut,
    responses=problem_responses(401, 404, 409, 422),
)
async def close_account(
    account_id: UUID,
    user: AccountsWriter,
    close: Annotated[CloseAccount, provided(lambda c: c.close_account)],
) -> AccountOut:
    """Close an account with a zero balance and no open holds; it refuses every movement
    afterwards (422 `account-closed`) and stays readable with its history."""
    return AccountOut.of(await close(user.id, account_id))


@router.get(
    "/{account_id}/balance", response_model=BalanceOut, responses=problem_responses(401, 404, 422)
)
async def balance_at(
    account_id: UUID,
    user: AccountsReader,
    balance_at: Annotated[GetBalanceAt, provided(lambda c: c.get_balance_at)],
    at: Annotated[
        Moment | None,
        Query(
            description="RFC 3339 instant with its offset (`Z` for UTC): one without an offset "
            "is refused (422), not guessed. Default: now."
        ),
    ] = None,
) -> BalanceOut:
    """The posted balance after the account's last entry at or before `at`."""
    found = await balance_at(user.id, account_id, at)
    return BalanceOut(
        balance=found.balance,
        at=found.at,
        sequence=found.sequence,
        entry_hash=found.entry_hash.hex(),
    )


@router.get(
    "/{account_id}/summary",
    response_model=AccountSummaryOut,
    responses=problem_responses(401, 404, 422),
)
async def get_account_summary(
    account_id: UUID,
    user: AccountsReader,
    summarize: Annotated[GetAccountSummary, provided(lambda c: c.get_account_summary)],
) -> AccountSummaryOut:
    """The account's totals in and out, and how many movements made them."""
    return AccountSummaryOut.of(await summarize(user.id, account_id))


@router.post(
    "/{account_id}/deposits",
    status_code=201,
    response_model=TransferOut,
    responses=problem_responses(401, 404, 409, 413, 422, 503),
)
async def deposit(
    account_id: UUID,
    body: DepositIn,
    user: MoneyWriter,
    response: Response,
    deposit: Annotated[Deposit, provided(lambda c: c.deposit)],
    metrics: AppMetrics,
    idempotency_key: IdempotencyKeyHeader = None,
) -> TransferOut:
    """Money enters the bank: a transfer of kind `deposit` from the funding account of the
    currency, answered in the same shape as a withdrawal and every other transfer."""
    receipt = await deposit(
        user.id,
        account_id,
        body.amount,
        idempotency_key,
        reference=body.reference,
        metadata=body.metadata,
    )
    note_receipt(receipt, response, metrics, created=True)
    return TransferOut.of(receipt.transfer)


@router.post(
    "/{account_id}/withdrawals",
    status_code=201,
    response_model=TransferOut,
    responses=problem_responses(401, 404, 409, 412, 413, 422, 503),
)
async def withdraw(
    account_id: UUID,
    body: WithdrawalIn,
    user: MoneyWriter,
    response: Response,
    withdraw: Annotated[Withdraw, provided(lambda c: c.withdraw)],
    metrics: AppMetrics,
    idempotency_key: IdempotencyKeyHeader = None,
    if_match: IfMatchHeader = None,
) -> TransferOut:
    """Money leaves the bank: it goes back to the funding account of the currency. With
    `If-Match`, only if the account is still at that sequence."""
    receipt = await withdraw(
        user.id,
        account_id,
        body.amount,
        body.description,
        idempotency_key,
        reference=body.reference,
        metadata=body.metadata,
        expected_sequence=expected_sequence(if_match),
    )
    note_receipt(receipt, response, metrics, created=True)
    return TransferOut.of(receipt.transfer)


@router.get(
    "/{account_id}/entries",
    response_model=StatementOut,
    responses=problem_responses(401, 404, 422),
)
async def list_entries(
    account_id: UUID,
    user: AccountsReader,
    get_statement: Annotated[GetStatement, provided(lambda c: c.get_statement)],
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    since: Annotated[
        Moment | None, Query(alias="from", description="RFC 3339; entries at or after it.")
    ] = None,
    until: Annotated[
        Moment | None, Query(alias="to", description="RFC 3339; entries before it.")
    ] = None,
) -> StatementOut:
    """The account's ledger entries, newest first; pass `next_cursor` back for the next page
    (with the same `from` and `to`)."""
    page = await get_statement(
        user.id, account_id, limit=limit, cursor=cursor, since=since, until=until
    )
    return StatementOut(
        items=[EntryOut.of(entry) for entry in page.entries], next_cursor=page.next_cursor
    )


_STATEMENT_MEDIA = {"json": "application/json", "csv": "text/csv; charset=utf-8"}


@router.get(
    "/{account_id}/statement",
    response_model=SignedStatementOut,
    response_class=Response,
    responses={
        **problem_responses(401, 404, 422),
        200: {
            "description": "The signed statement, as JSON or as CSV (`format`).",
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/SignedStatementOut"}},
                "text/csv": {
                    "schema": {
                        "type": "string",
                        "maxLength": 1_000_000_000,
                        "pattern": "^# format: hexbank-statement/1\n",
                    }
                },
            },
            "headers": {
                SIGNATURE_HEADER: {
                    "description": 'key_id="<id>", signature="<Ed25519, base64>"',
                    "schema": {
                        "type": "string",
                        "maxLength": 200,
                        "pattern": '^key_id="[0-9a-f]{16}", signature="[A-Za-z0-9+/]{86}=="$',
                    },
                }
            },
        },
    },
)
async def export_statement(
    account_id: UUID,
    user: AccountsReader,
    export: Annotated[ExportStatement, provided(lambda c: c.export_statement)],
    signer: Annotated[StatementSigner, provided(lambda c: c.statement_signer)],
    since: Annotated[
        Moment | None,
        Query(alias="from", description="RFC 3339; entries at or after it (unset: all)."),
    ] = None,
    until: Annotated[
        Moment | None,
        Query(
            alias="to",
            description="RFC 3339; entries before it (unset, or still to come: the moment the"
            " statement is generated, which its `to` then says).",
        ),
    ] = None,
    format: Annotated[Literal["json", "csv"], Query(description="The file's format.")] = "json",
) -> Response:
    """Every entry of the range, oldest first, with `opening` and `closing` (balance,
    sequence, hash), signed with Ed25519 so it verifies offline (`hexbank verify-statement`,
    docs/statements.md). A range of more than HEXBANK_STATEMENT_MAX_ENTRIES entries is
    refused 422 `statement-too-large`."""
    statement = await export(user.id, account_id, since=since, until=until)
    render = render_csv if format == "csv" else render_json
    content, signature = render(statement, signer)
    return Response(
        content,
        media_type=_STATEMENT_MEDIA[format],
        headers={SIGNATURE_HEADER: signature_header(signature)},
    )


@router.post(
    "/{account_id}/monitors",
    status_code=201,
    response_model=MonitorOut,
    responses=problem_responses(401, 404, 409, 413, 422),
)
async def monitors_create(
    account_id: UUID,
    body: MonitorIn,
    user: AccountsWriter,
    response: Response,
    create: Annotated[CreateMonitor, provided(lambda c: c.create_monitor)],
) -> MonitorOut:
    """Watch one of your accounts: from now on, every movement of it that makes the
    condition true writes `account.monitor.triggered`, and one that makes it false again
    `account.monitor.cleared` (edge-triggered: nothing while it merely stays true; a
    monitor created while its condition holds reports nothing until it changes). At most
    HEXBANK_MAX_MONITORS_PER_ACCOUNT per account (409 `too-many-monitors`)."""
    monitor = await create(
        user.id,
        account_id,
        field=body.field,
        op=body.op,
        value=body.value,
        description=body.description,
    )
    response.headers["Location"] = f"/api/v1/accounts/{account_id}/monitors"
    return MonitorOut.of(monitor)


@router.get(
    "/{account_id}/monitors",
    response_model=MonitorListOut,
    responses=problem_responses(401, 404, 422),
)
async def monitors_list(
    account_id: UUID,
    user: AccountsReader,
    list_monitors: Annotated[ListMonitors, provided(lambda c: c.list_monitors)],
) -> MonitorListOut:
    """The account's monitors, oldest first."""
    monitors = await list_monitors(user.id, account_id)
    return MonitorListOut(items=[MonitorOut.of(monitor) for monitor in monitors])


@router.delete(
    "/{account_id}/monitors/{monitor_id}",
    status_code=204,
    response_class=Response,
    responses=problem_responses(401, 404, 422),
)
async def monitors_delete(
    account_id: UUID,
    monitor_id: UUID,
    user: AccountsWriter,
    delete: Annotated[DeleteMonitor, provided(lambda c: c.delete_monitor)],
) -> Response:
    """Stop watching: the monitor reports nothing more."""
    await delete(user.id, account_id, monitor_id)
    return Response(status_code=204)
