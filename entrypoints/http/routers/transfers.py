from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Body, Query, Request, Response
from pydantic_core import to_json

from application.receipts import ItemResult
from application.transfer_requests import TransferRequest
from application.turns import chunks_in_turns, map_in_turns
from application.use_cases.get_statement import MAX_PAGE_SIZE
from application.use_cases.get_transfer import GetTransfer
from application.use_cases.post_hold import PostHold
from application.use_cases.reverse_transfer import ReverseTransfer
from application.use_cases.search_transfers import SearchTransfers, TransferFilters
from application.use_cases.transfer_batch import TransferBatch
from application.use_cases.transfer_funds import TransferFunds
from application.use_cases.void_hold import VoidHold
from domain.api_key import Scope
from domain.transfer import TransferKind, TransferStatus
from domain.user import User
from entrypoints.http.dependencies import (
    AppMetrics,
    IdempotencyKeyHeader,
    IfMatchHeader,
    MoneyWriter,
    TransfersReader,
    caller,
    expected_sequence,
    grant_of,
    provided,
    require_sees,
)
from entrypoints.http.problems import problem_responses, refusal_details
from entrypoints.http.receipts import REPLAYED, note_receipt
from entrypoints.http.schemas import (
    AtomicBatchOut,
    BatchIn,
    BatchOut,
    Moment,
    PostHoldIn,
    Reference,
    ReversalIn,
    TransferFields,
    TransferIn,
    TransferListOut,
    TransferOut,
    transfer_fields,
)

router = APIRouter(
    prefix="/api/v1/transfers",
    tags=["transfers"],
    # Every route: 429 past its user's (or address's) cap, 503 past the request deadline;
    # 403 `insufficient-scope` to an API key without the route's scope.
    responses=problem_responses(403, 429, 503),
)


def _request(body: TransferIn, if_match: str | None = None) -> TransferRequest:
    return TransferRequest(
        from_account_id=body.from_account_id,
        to_account_id=body.to_account_id,
        amount=body.amount,
        currency=body.currency,
        description=body.description,
        pending=body.pending,
        timeout_seconds=body.timeout_seconds,
        reference=body.reference,
        metadata=body.metadata,
        expected_sequence=expected_sequence(if_match),
    )


@router.post(
    "",
    status_code=201,
    response_model=TransferOut,
    responses=problem_responses(401, 404, 409, 412, 413, 422, 503),
)
async def transfer_funds(
    body: TransferIn,
    request: Request,
    user: MoneyWriter,
    response: Response,
    transfer: Annotated[TransferFunds, provided(lambda c: c.transfer_funds)],
    metrics: AppMetrics,
    idempotency_key: IdempotencyKeyHeader = None,
    if_match: IfMatchHeader = None,
) -> TransferOut:
    """Move money now, or with `pending: true` place a hold (a two-phase transfer): the
    amount is reserved on the source until the hold is posted, voided or expires. With
    `If-Match`, only if the source is still at that sequence."""
    require_sees(request, body.from_account_id)
    receipt = await transfer(user.id, _request(body, if_match), idempotency_key)
    note_receipt(receipt, response, metrics, created=True)
    return TransferOut.of(receipt.transfer)


@router.post(
    "/batch",
    status_code=200,
    response_model=BatchOut | AtomicBatchOut,
    responses={
        201: {"model": AtomicBatchOut, "description": "`atomic: true`: every transfer made"},
        **problem_responses(401, 403, 404, 409, 413, 422, 503),
    },
)
async def transfer_batch(
    body: BatchIn,
    request: Request,
    user: MoneyWriter,
    batch: Annotated[TransferBatch, provided(lambda c: c.transfer_batch)],
    metrics: AppMetrics,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Response:
    """Up to 1000 transfers in one database transaction, applied in order. Not atomic: 200
    with one result per item. Atomic: 201 with every transfer, or the first refused item's
    problem with its `index`, and nothing moved. An API key restricted to some accounts
    pays from those only: an item paying from another makes the whole batch 404."""
    if grant_of(request).account_ids is not None:
        require_sees(request, *(item["from_account_id"] for item in body.transfers))
    receipt = await batch(
        user.id,
        await _requests(body.transfers),
        atomic=body.atomic,
        idempotency_key=idempotency_key,
    )
    headers = {REPLAYED: "true"} if receipt.replayed else {}
    if not receipt.replayed:
        metrics.posted(*(result.transfer for result in receipt.results if result.transfer))
    if body.atomic:
        answer, status = await atomic_batch_answer(receipt.results), 201
    else:
        answer, status = await batch_answer(receipt.results), 200
    return Response(answer, status_code=status, media_type="application/json", headers=headers)


async def _requests(items: Sequence[TransferFields]) -> list[TransferRequest]:
    return await map_in_turns(lambda item: TransferRequest(**item), items)


async def batch_answer(results: Sequence[ItemResult]) -> bytes:
    """`BatchOut` as JSON, written from plain dicts a chunk at a time: the route's
    `response_model` documents it, and a test holds the bytes to the model's."""

    def chunk_answer(start: int, chunk: Sequence[ItemResult]) -> bytes:
        answers = (_item_answer(index, result) for index, result in enumerate(chunk, start))
        return _elements([answer for answer in answers if answer is not None])

    chunks = await chunks_in_turns(chunk_answer, results)
    return b'{"results":[' + b",".join(chunk for chunk in chunks if chunk) + b"]}"


def _item_answer(index: int, result: ItemResult) -> dict[str, object] | None:
    if result.transfer is not None:
        return {
            "index": index,
            "status": 201,
            "transfer": transfer_fields(result.transfer),
            "problem": None,
        }
    if result.refusal is not None:
        status, problem = refusal_details(result.refusal)
        return {"index": index, "status": status, "transfer": None, "problem": problem}
    return None


async def atomic_batch_answer(results: Sequence[ItemResult]) -> bytes:
    """`AtomicBatchOut` as JSON, written as `batch_answer` writes `BatchOut`."""
    chunks = await chunks_in_turns(
        lambda _, made: _elements([transfer_fields(r.transfer) for r in made if r.transfer]),
        results,
    )
    return b'{"transfers":[' + b",".join(chunk for chunk in chunks if chunk) + b"]}"


def _elements(values: list[dict[str, object]]) -> bytes:
    """The JSON of a list's elements, without its brackets: chunks joined by commas."""
    return to_json(values)[1:-1]


@router.get("", response_model=TransferListOut, responses=problem_responses(401, 404, 422))
async def search_transfers(
    request: Request,
    user: TransfersReader,
    search: Annotated[SearchTransfers, provided(lambda c: c.search_transfers)],
    account_id: UUID | None = None,
    kind: TransferKind | None = None,
    status: TransferStatus | None = None,
    reference: Annotated[Reference | None, Query()] = None,
    conversion_id: Annotated[
        UUID | None, Query(description="Only the two legs of this currency conversion.")
    ] = None,
    created_after: Annotated[Moment | None, Query()] = None,
    created_before: Annotated[Moment | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> TransferListOut:
    """The transfers touching your accounts, newest first, every filter optional and
    combinable; `metadata[KEY]=VALUE` (repeatable) keeps those whose metadata has that pair.
    Pass `next_cursor` back, with the same filters, for the next page."""
    filters = TransferFilters(
        account_id=account_id,
        kind=kind,
        status=status,
        reference=reference,
        conversion_id=conversion_id,
        metadata=metadata_filters(request),
        created_after=created_after,
        created_before=created_before,
    )
    accounts = grant_of(request).account_ids
    page = await search(user.id, filters, limit=limit, cursor=cursor, accounts=accounts)
    return TransferListOut(
        items=[TransferOut.of(transfer) for transfer in page.items], next_cursor=page.next_cursor
    )


def metadata_filters(request: Request) -> dict[str, str]:
    """`metadata[KEY]=VALUE` query parameters (OpenAPI has no name for such a family)."""
    filters = {}
    for name, value in request.query_params.multi_items():
        if name.startswith("metadata[") and name.endswith("]"):
            filters[name[len("metadata[") : -1]] = value
    return filters


@router.get(
    "/{transfer_id:uuid}", response_model=TransferOut, responses=problem_responses(401, 404, 422)
)
async def get_transfer(
    transfer_id: UUID,
    user: Annotated[User, caller(Scope.TRANSFERS_READ, transfer_side="either")],
    get_transfer: Annotated[GetTransfer, provided(lambda c: c.get_transfer)],
) -> TransferOut:
    """One transfer touching one of your accounts."""
    return TransferOut.of(await get_transfer(user.id, transfer_id))


@router.post(
    "/{transfer_id:uuid}/post",
    response_model=TransferOut,
    responses=problem_responses(401, 403, 404, 409, 413, 422, 503),
)
async def post_hold(
    transfer_id: UUID,
    user: Annotated[User, caller(Scope.MONEY_WRITE, transfer_side="from")],
    response: Response,
    post: Annotated[PostHold, provided(lambda c: c.post_hold)],
    metrics: AppMetrics,
    body: Annotated[PostHoldIn | None, Body()] = None,
    idempotency_key: IdempotencyKeyHeader = None,
) -> TransferOut:
    """The payer posts a pending hold, all of it or `amount`; the rest is released."""
    amount = None if body is None else body.amount
    receipt = await post(user.id, transfer_id, amount, idempotency_key)
    note_receipt(receipt, response, metrics)
    return TransferOut.of(receipt.transfer)


@router.post(
    "/{transfer_id:uuid}/void",
    response_model=TransferOut,
    responses=problem_responses(401, 403, 404, 409, 422, 503),
)
async def void_hold(
    transfer_id: UUID,
    user: Annotated[User, caller(Scope.MONEY_WRITE, transfer_side="from")],
    response: Response,
    void: Annotated[VoidHold, provided(lambda c: c.void_hold)],
    metrics: AppMetrics,
    idempotency_key: IdempotencyKeyHeader = None,
) -> TransferOut:
    """The payer cancels a pending hold: the whole amount is available again."""
    receipt = await void(user.id, transfer_id, idempotency_key)
    note_receipt(receipt, response, metrics)
    return TransferOut.of(receipt.transfer)


@router.post(
    "/{transfer_id:uuid}/reversals",
    status_code=201,
    response_model=TransferOut,
    responses=problem_responses(401, 403, 404, 409, 413, 422, 503),
)
async def reverse_transfer(
    transfer_id: UUID,
    user: Annotated[User, caller(Scope.MONEY_WRITE, transfer_side="to")],
    response: Response,
    reverse: Annotated[ReverseTransfer, provided(lambda c: c.reverse_transfer)],
    metrics: AppMetrics,
    body: Annotated[ReversalIn | None, Body()] = None,
    idempotency_key: IdempotencyKeyHeader = None,
) -> TransferOut:
    """The payee sends back all (default) or part of a posted transfer: a new transfer of
    kind `reversal`; the original's `reversed_amount` grows."""
    body = body or ReversalIn()
    receipt = await reverse(
        user.id,
        transfer_id,
        body.amount,
        body.description,
        idempotency_key,
        reference=body.reference,
        metadata=body.metadata,
    )
    note_receipt(receipt, response, metrics, created=True)
    return TransferOut.of(receipt.transfer)
