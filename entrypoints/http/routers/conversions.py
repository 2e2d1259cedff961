from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Request, Response

from application.use_cases.convert_currency import (
    ConversionRequest,
    ConvertCurrency,
    GetConversion,
)
from domain.errors import ConversionNotFound
from entrypoints.http.dependencies import (
    IdempotencyKeyHeader,
    IfMatchHeader,
    MoneyWriter,
    TransfersReader,
    expected_sequence,
    grant_of,
    provided,
    require_sees,
)
from entrypoints.http.problems import problem_responses
from entrypoints.http.receipts import REPLAYED
from entrypoints.http.schemas import ConversionIn, ConversionOut

router = APIRouter(
    prefix="/api/v1/conversions",
    tags=["conversions"],
    # Every route: 429 past its user's (or address's) cap, 503 past the request deadline;
    # 403 `insufficient-scope` to an API key without the route's scope.
    responses=problem_responses(403, 429, 503),
)


@router.post(
    "",
    status_code=201,
    response_model=ConversionOut,
    responses=problem_responses(401, 404, 409, 412, 413, 422, 503),
)
async def conversions_create(
    body: ConversionIn,
    request: Request,
    user: MoneyWriter,
    response: Response,
    convert: Annotated[ConvertCurrency, provided(lambda c: c.convert_currency)],
    idempotency_key: IdempotencyKeyHeader = None,
    if_match: IfMatchHeader = None,
) -> ConversionOut:
    """Convert money from one of your accounts to a customer account of another currency at
    your `rate` (hexbank has no market data), rounded down in the bank's favour: two
    transfers in one transaction, through the bank's FX account of each currency. With
    `If-Match`, only if the source is still at that sequence."""
    require_sees(request, body.from_account_id)
    receipt = await convert(
        user.id,
        ConversionRequest(
            from_account_id=body.from_account_id,
            to_account_id=body.to_account_id,
            amount=body.amount,
            rate=body.rate,
            description=body.description,
            reference=body.reference,
            metadata=body.metadata,
            expected_sequence=expected_sequence(if_match),
        ),
        idempotency_key,
    )
    if receipt.replayed:
        response.headers[REPLAYED] = "true"
    response.headers["Location"] = f"/api/v1/conversions/{receipt.conversion.id}"
    return ConversionOut.of(receipt.conversion)


@router.get(
    "/{conversion_id}", response_model=ConversionOut, responses=problem_responses(401, 404, 422)
)
async def conversions_get(
    conversion_id: UUID,
    request: Request,
    user: TransfersReader,
    get_conversion: Annotated[GetConversion, provided(lambda c: c.get_conversion)],
) -> ConversionOut:
    """A conversion of yours (you own the payer's or the payee's account)."""
    conversion = await get_conversion(user.id, conversion_id)
    grant = grant_of(request)
    if not (grant.sees(conversion.from_account_id) or grant.sees(conversion.to_account_id)):
        raise ConversionNotFound(f"Conversion {conversion_id} not found.")
    return ConversionOut.of(conversion)
