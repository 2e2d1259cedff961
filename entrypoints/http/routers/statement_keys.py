from __future__ import annotations

import base64
from typing import Annotated

from fastapi import APIRouter

from adapters.ed25519_statement_signer import public_key_pem
from application.use_cases.list_statement_keys import ListStatementKeys
from entrypoints.http.dependencies import provided
from entrypoints.http.problems import problem_responses
from entrypoints.http.schemas import StatementKeyOut, StatementKeysOut

router = APIRouter(
    prefix="/api/v1/statement-keys",
    tags=["statements"],
    responses=problem_responses(429, 503),
)


@router.get("", response_model=StatementKeysOut)
async def list_statement_keys(
    keys: Annotated[ListStatementKeys, provided(lambda c: c.list_statement_keys)],
) -> StatementKeysOut:
    """The public keys signed statements verify with, the current one first, then those
    kept from before a rotation. No authentication: an auditor needs only the file and
    these (`hexbank verify-statement FILE --keys-url .../api/v1/statement-keys`)."""
    return StatementKeysOut(
        keys=[
            StatementKeyOut(
                key_id=key.key_id,
                algorithm="Ed25519",
                public_key=base64.b64encode(key.public_key).decode(),
                public_key_pem=public_key_pem(key.public_key),
                current=key.current,
            )
            for key in keys()
        ]
    )
