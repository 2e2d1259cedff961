import datetime
from http import HTTPStatus
from typing import Any
from uuid import UUID

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.problem_out import ProblemOut
from ...models.transfer_kind import TransferKind
from ...models.transfer_list_out import TransferListOut
from ...models.transfer_status import TransferStatus
from ...models.transfers_list_metadata import TransfersListMetadata
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    account_id: UUID | Unset = UNSET,
    kind: TransferKind | Unset = UNSET,
    status: TransferStatus | Unset = UNSET,
    reference: str | Unset = UNSET,
    conversion_id: UUID | Unset = UNSET,
    created_after: datetime.datetime | Unset = UNSET,
    created_before: datetime.datetime | Unset = UNSET,
    limit: int | Unset = 50,
    cursor: str | Unset = UNSET,
    metadata: TransfersListMetadata | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    json_account_id: str | Unset = UNSET
    if not isinstance(account_id, Unset):
        json_account_id = str(account_id)
    params["account_id"] = json_account_id

    json_kind: str | Unset = UNSET
    if not isinstance(kind, Unset):
        json_kind = kind.value

    params["kind"] = json_kind

    json_status: str | Unset = UNSET
    if not isinstance(status, Unset):
        json_status = status.value

    params["status"] = json_status

    params["reference"] = reference

    json_conversion_id: str | Unset = UNSET
    if not isinstance(conversion_id, Unset):
        json_conversion_id = str(conversion_id)
    params["conversion_id"] = json_conversion_id

    json_created_after: str | Unset = UNSET
    if not isinstance(created_after, Unset):
        json_created_after = created_after.isoformat()
    params["created_after"] = json_created_after

    json_created_before: str | Unset = UNSET
    if not isinstance(created_before, Unset):
        json_created_before = created_before.isoformat()
    params["created_before"] = json_created_before

    params["limit"] = limit

    params["cursor"] = cursor

    json_metadata: dict[str, Any] | Unset = UNSET
    if not isinstance(metadata, Unset):
        json_metadata = metadata.to_dict()
    if not isinstance(json_metadata, Unset):
        params.update(json_metadata)

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/v1/transfers",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ProblemOut | TransferListOut | None:
    if response.status_code == 200:
        response_200 = TransferListOut.from_dict(response.json())

        return response_200

    if response.status_code == 401:
        response_401 = ProblemOut.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = ProblemOut.from_dict(response.json())

        return response_403

    if response.status_code == 404:
        response_404 = ProblemOut.from_dict(response.json())

        return response_404

    if response.status_code == 422:
        response_422 = ProblemOut.from_dict(response.json())

        return response_422

    if response.status_code == 429:
        response_429 = ProblemOut.from_dict(response.json())

        return response_429

    if response.status_code == 431:
        response_431 = ProblemOut.from_dict(response.json())

        return response_431

    if response.status_code == 500:
        response_500 = ProblemOut.from_dict(response.json())

        return response_500

    if response.status_code == 503:
        response_503 = ProblemOut.from_dict(response.json())

        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[ProblemOut | TransferListOut]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    account_id: UUID | Unset = UNSET,
    kind: TransferKind | Unset = UNSET,
    status: TransferStatus | Unset = UNSET,
    reference: str | Unset = UNSET,
    conversion_id: UUID | Unset = UNSET,
    created_after: datetime.datetime | Unset = UNSET,
    created_before: datetime.datetime | Unset = UNSET,
    limit: int | Unset = 50,
    cursor: str | Unset = UNSET,
    metadata: TransfersListMetadata | Unset = UNSET,
) -> Response[ProblemOut | TransferListOut]:
    """Search Transfers

     The transfers touching your accounts, newest first, every filter optional and
    combinable; `metadata[KEY]=VALUE` (repeatable) keeps those whose metadata has that pair.
    Pass `next_cursor` back, with the same filters, for the next page.

    Args:
        account_id (UUID | Unset):
        kind (TransferKind | Unset):
        status (TransferStatus | Unset):
        reference (str | Unset): Your own id for it, 1 to 64 visible ASCII characters, unique
            among the transfers you created.
        conversion_id (UUID | Unset): Only the two legs of this currency conversion.
        created_after (datetime.datetime | Unset):
        created_before (datetime.datetime | Unset):
        limit (int | Unset):  Default: 50.
        cursor (str | Unset):
        metadata (TransfersListMetadata | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ProblemOut | TransferListOut]
    """

    kwargs = _get_kwargs(
        account_id=account_id,
        kind=kind,
        status=status,
        reference=reference,
        conversion_id=conversion_id,
        created_after=created_after,
        created_before=created_before,
        limit=limit,
        cursor=cursor,
        metadata=metadata,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    account_id: UUID | Unset = UNSET,
    kind: TransferKind | Unset = UNSET,
    status: TransferStatus | Unset = UNSET,
    reference: str | Unset = UNSET,
    conversion_id: UUID | Unset = UNSET,
    created_after: datetime.datetime | Unset = UNSET,
    created_before: datetime.datetime | Unset = UNSET,
    limit: int | Unset = 50,
    cursor: str | Unset = UNSET,
    metadata: TransfersListMetadata | Unset = UNSET,
) -> ProblemOut | TransferListOut | None:
    """Search Transfers

     The transfers touching your accounts, newest first, every filter optional and
    combinable; `metadata[KEY]=VALUE` (repeatable) keeps those whose metadata has that pair.
    Pass `next_cursor` back, with the same filters, for the next page.

    Args:
        account_id (UUID | Unset):
        kind (TransferKind | Unset):
        status (TransferStatus | Unset):
        reference (str | Unset): Your own id for it, 1 to 64 visible ASCII characters, unique
            among the transfers you created.
        conversion_id (UUID | Unset): Only the two legs of this currency conversion.
        created_after (datetime.datetime | Unset):
        created_before (datetime.datetime | Unset):
        limit (int | Unset):  Default: 50.
        cursor (str | Unset):
        metadata (TransfersListMetadata | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ProblemOut | TransferListOut
    """

    return sync_detailed(
        client=client,
        account_id=account_id,
        kind=kind,
        status=status,
        reference=reference,
        conversion_id=conversion_id,
        created_after=created_after,
        created_before=created_before,
        limit=limit,
        cursor=cursor,
        metadata=metadata,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    account_id: UUID | Unset = UNSET,
    kind: TransferKind | Unset = UNSET,
    status: TransferStatus | Unset = UNSET,
    reference: str | Unset = UNSET,
    conversion_id: UUID | Unset = UNSET,
    created_after: datetime.datetime | Unset = UNSET,
    created_before: datetime.datetime | Unset = UNSET,
    limit: int | Unset = 50,
    cursor: str | Unset = UNSET,
    metadata: TransfersListMetadata | Unset = UNSET,
) -> Response[ProblemOut | TransferListOut]:
    """Search Transfers

     The transfers touching your accounts, newest first, every filter optional and
    combinable; `metadata[KEY]=VALUE` (repeatable) keeps those whose metadata has that pair.
    Pass `next_cursor` back, with the same filters, for the next page.

    Args:
        account_id (UUID | Unset):
        kind (TransferKind | Unset):
        status (TransferStatus | Unset):
        reference (str | Unset): Your own id for it, 1 to 64 visible ASCII characters, unique
            among the transfers you created.
        conversion_id (UUID | Unset): Only the two legs of this currency conversion.
        created_after (datetime.datetime | Unset):
        created_before (datetime.datetime | Unset):
        limit (int | Unset):  Default: 50.
        cursor (str | Unset):
        metadata (TransfersListMetadata | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ProblemOut | TransferListOut]
    """

    kwargs = _get_kwargs(
        account_id=account_id,
        kind=kind,
        status=status,
        reference=reference,
        conversion_id=conversion_id,
        created_after=created_after,
        created_before=created_before,
        limit=limit,
        cursor=cursor,
        metadata=metadata,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    account_id: UUID | Unset = UNSET,
    kind: TransferKind | Unset = UNSET,
    status: TransferStatus | Unset = UNSET,
    reference: str | Unset = UNSET,
    conversion_id: UUID | Unset = UNSET,
    created_after: datetime.datetime | Unset = UNSET,
    created_before: datetime.datetime | Unset = UNSET,
    limit: int | Unset = 50,
    cursor: str | Unset = UNSET,
    metadata: TransfersListMetadata | Unset = UNSET,
) -> ProblemOut | TransferListOut | None:
    """Search Transfers

     The transfers touching your accounts, newest first, every filter optional and
    combinable; `metadata[KEY]=VALUE` (repeatable) keeps those whose metadata has that pair.
    Pass `next_cursor` back, with the same filters, for the next page.

    Args:
        account_id (UUID | Unset):
        kind (TransferKind | Unset):
        status (TransferStatus | Unset):
        reference (str | Unset): Your own id for it, 1 to 64 visible ASCII characters, unique
            among the transfers you created.
        conversion_id (UUID | Unset): Only the two legs of this currency conversion.
        created_after (datetime.datetime | Unset):
        created_before (datetime.datetime | Unset):
        limit (int | Unset):  Default: 50.
        cursor (str | Unset):
        metadata (TransfersListMetadata | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ProblemOut | TransferListOut
    """

    return (
        await asyncio_detailed(
            client=client,
            account_id=account_id,
            kind=kind,
            status=status,
            reference=reference,
            conversion_id=conversion_id,
            created_after=created_after,
            created_before=created_before,
            limit=limit,
            cursor=cursor,
            metadata=metadata,
        )
    ).parsed
