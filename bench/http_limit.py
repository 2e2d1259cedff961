"""The HTTP limit: the same request body validated by the same schema, no database."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

from fastapi import FastAPI

from domain.transfer import Transfer
from entrypoints.http.schemas import TransferIn, TransferOut

app = FastAPI()


@app.post("/api/v1/transfers", status_code=201, response_model=TransferOut)
async def transfer(body: TransferIn) -> TransferOut:
    return TransferOut.of(
        Transfer(
            id=uuid4(),
            from_account_id=body.from_account_id,
            to_account_id=body.to_account_id,
            amount=body.amount,
            currency=body.currency,
            description=body.description,
            created_at=datetime.now(UTC),
            posted_amount=body.amount,
        )
    )
