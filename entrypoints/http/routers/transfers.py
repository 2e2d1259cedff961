from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Response

from application.use_cases.get_transfer import GetTransfer
from application.use_cases.transfer_funds import TransferFunds, TransferRequest
from entrypoints.http.dependencies import AppMetrics, CurrentUser, IdempotencyKeyHeader, provided
from entrypoints.http.problems import problem_responses
from entrypoints.http.schemas import TransferIn, TransferOut

router = APIRouter(prefix="/api/v1/transfers", tags=["transfers"])


@router.post(
    "",
    status_code=201,
    response_model=TransferOut,
    responses=problem_responses(401, 404, 409, 413, 422, 503),
)
async def transfer_funds(
    body: TransferIn,
    user: CurrentUser,
    response: Response,
    transfer: Annotated[TransferFunds, provided(lambda c: c.transfer_funds)],
    metrics: AppMetrics,
    idempotency_key: IdempotencyKeyHeader = None,
) -> TransferOut:
    request = TransferRequest(
        from_account_id=body.from_account_id,
        to_account_id=body.to_account_id,
        amount=body.amount,
        currency=body.currency,
        description=body.description,
    )
    receipt = await transfer(user.id, request, idempotency_key)
    metrics.money_moved("transfer", receipt)
    if receipt.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return TransferOut.of(receipt.transfer)


@router.get(
    "/{transfer_id}", response_model=TransferOut, responses=problem_responses(401, 404, 422)
)
async def get_transfer(
    transfer_id: UUID,
    user: CurrentUser,
    get_transfer: Annotated[GetTransfer, provided(lambda c: c.get_transfer)],
) -> TransferOut:
    return TransferOut.of(await get_transfer(user.id, transfer_id))
