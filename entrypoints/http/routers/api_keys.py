"""API keys for machines: created, listed and revoked by their user (or by a key holding
`api-keys:write`, within what it holds itself)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from application.use_cases.api_keys import CreateApiKey, GetApiKey, ListApiKeys, RevokeApiKey
from domain.api_key import MAX_KEY_ACCOUNTS, NAME_MAX_LENGTH, ApiKey, Scope
from entrypoints.http.dependencies import ApiKeysWriter, principal_of, provided
from entrypoints.http.problems import problem_responses
from entrypoints.http.schemas import NO_CONTROL_CHARACTERS, Moment

router = APIRouter(
    prefix="/api/v1/api-keys",
    tags=["api-keys"],
    # Every route: 429 past its user's (or address's, or key's) cap, 503 past the deadline.
    responses=problem_responses(429, 503),
)


class ApiKeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=NAME_MAX_LENGTH, pattern=NO_CONTROL_CHARACTERS)
    scopes: list[Scope] = Field(
        min_length=1, max_length=len(Scope), description="What the key may do."
    )
    account_ids: list[UUID] | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_KEY_ACCOUNTS,
        description="Your accounts the key is restricted to; absent or null: all of them.",
    )
    expires_at: Moment | None = Field(
        default=None, description="RFC 3339, in the future; absent or null: no expiry."
    )


class ApiKeyOut(BaseModel):
    id: UUID
    name: str
    prefix: str = Field(description="The secret's first 12 characters, to tell keys apart.")
    scopes: list[Scope]
    account_ids: list[UUID] | None
    expires_at: datetime | None
    created_at: datetime
    last_used_at: datetime | None = Field(description="Written at most once a minute.")

    @classmethod
    def of(cls, key: ApiKey) -> ApiKeyOut:
        return cls(
            id=key.id,
            name=key.name,
            prefix=key.prefix,
            scopes=sorted(key.scopes),
            account_ids=None if key.account_ids is None else sorted(key.account_ids),
            expires_at=key.expires_at,
            created_at=key.created_at,
            last_used_at=key.last_used_at,
        )


class ApiKeyCreatedOut(ApiKeyOut):
    secret: str = Field(
        description="`hxk_` and 32 random bytes in base64url: shown in this answer only. "
        "Send it as `Authorization: Bearer <secret>`."
    )


class ApiKeyListOut(BaseModel):
    items: list[ApiKeyOut] = Field(description="Your live keys, oldest first, without secrets.")


@router.post(
    "",
    status_code=201,
    response_model=ApiKeyCreatedOut,
    responses=problem_responses(401, 403, 404, 409, 413, 422),
)
async def create_api_key(
    body: ApiKeyIn,
    request: Request,
    response: Response,
    user: ApiKeysWriter,
    create: Annotated[CreateApiKey, provided(lambda c: c.create_api_key)],
) -> ApiKeyCreatedOut:
    """A key for machines. A key creating a key gives it no scope, account or lifetime
    beyond its own (403 `scope-escalation`); at most HEXBANK_API_KEYS_PER_USER live keys
    (409 `too-many-keys`)."""
    issued = await create(
        principal_of(request),
        name=body.name,
        scopes=body.scopes,
        account_ids=body.account_ids,
        expires_at=body.expires_at,
    )
    response.headers["Location"] = f"/api/v1/api-keys/{issued.key.id}"
    return ApiKeyCreatedOut(**ApiKeyOut.of(issued.key).model_dump(), secret=issued.secret)


@router.get("", response_model=ApiKeyListOut, responses=problem_responses(401, 403))
async def list_api_keys(
    user: ApiKeysWriter,
    list_keys: Annotated[ListApiKeys, provided(lambda c: c.list_api_keys)],
) -> ApiKeyListOut:
    """Your keys neither revoked nor expired; never a secret."""
    return ApiKeyListOut(items=[ApiKeyOut.of(key) for key in await list_keys(user.id)])


@router.get("/{key_id}", response_model=ApiKeyOut, responses=problem_responses(401, 403, 404, 422))
async def get_api_key(
    key_id: UUID,
    user: ApiKeysWriter,
    get: Annotated[GetApiKey, provided(lambda c: c.get_api_key)],
) -> ApiKeyOut:
    """One of your keys (revoked or expired ones too), never its secret; another user's is
    404."""
    return ApiKeyOut.of(await get(user.id, key_id))


@router.delete(
    "/{key_id}",
    status_code=204,
    response_class=Response,
    responses=problem_responses(401, 403, 404, 422),
)
async def revoke_api_key(
    key_id: UUID,
    user: ApiKeysWriter,
    revoke: Annotated[RevokeApiKey, provided(lambda c: c.revoke_api_key)],
) -> Response:
    """Revoke one of your keys: every instance refuses it within HEXBANK_API_KEY_CACHE_S.
    Revoking it again is 204 too; another user's key is 404."""
    await revoke(user.id, key_id)
    return Response(status_code=204)
