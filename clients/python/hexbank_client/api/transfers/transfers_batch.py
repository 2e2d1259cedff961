from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.atomic_batch_out import AtomicBatchOut
from ...models.batch_in import BatchIn
from ...models.batch_out import BatchOut
from ...models.problem_out import ProblemOut
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    body: BatchIn,
    idempotency_key: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/v1/transfers/batch",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> AtomicBatchOut | AtomicBatchOut | BatchOut | ProblemOut | None:
    if response.status_code == 200:

        def _parse_response_200(data: object) -> AtomicBatchOut | BatchOut:
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                response_200_type_0 = BatchOut.from_dict(data)

                return response_200_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            if not isinstance(data, dict):
                raise TypeError()
            response_200_type_1 = AtomicBatchOut.from_dict(data)

            return response_200_type_1

        response_200 = _parse_response_200(response.json())

        return response_200

    if response.status_code == 201:
        response_201 = AtomicBatchOut.from_dict(response.json())

        return response_201

    if response.status_code == 401:
        response_401 = ProblemOut.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = ProblemOut.from_dict(response.json())

        return response_403

    if response.status_code == 404:
        response_404 = ProblemOut.from_dict(response.json())

        return response_404

    if response.status_code == 409:
        response_409 = ProblemOut.from_dict(response.json())

        return response_409

    if response.status_code == 413:
        response_413 = ProblemOut.from_dict(response.json())

        return response_413

    if response.status_code == 415:
        response_415 = ProblemOut.from_dict(response.json())

        return response_415

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
) -> Response[AtomicBatchOut | AtomicBatchOut | BatchOut | ProblemOut]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: BatchIn,
    idempotency_key: str | Unset = UNSET,
) -> Response[AtomicBatchOut | AtomicBatchOut | BatchOut | ProblemOut]:
    """Transfer Batch

     Up to 1000 transfers in one database transaction, applied in order. Not atomic: 200
    with one result per item. Atomic: 201 with every transfer, or the first refused item's
    problem with its `index`, and nothing moved. An API key restricted to some accounts
    pays from those only: an item paying from another makes the whole batch 404.

    Args:
        idempotency_key (str | Unset): 1 to 255 visible ASCII characters; a retry with the same
            key and body replays the first answer instead of moving money again.
        body (BatchIn):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[AtomicBatchOut | AtomicBatchOut | BatchOut | ProblemOut]
    """

    kwargs = _get_kwargs(
        body=body,
        idempotency_key=idempotency_key,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    body: BatchIn,
    idempotency_key: str | Unset = UNSET,
) -> AtomicBatchOut | AtomicBatchOut | BatchOut | ProblemOut | None:
    """Transfer Batch

     Up to 1000 transfers in one database transaction, applied in order. Not atomic: 200
    with one result per item. Atomic: 201 with every transfer, or the first refused item's
    problem with its `index`, and nothing moved. An API key restricted to some accounts
    pays from those only: an item paying from another makes the whole batch 404.

    Args:
        idempotency_key (str | Unset): 1 to 255 visible ASCII characters; a retry with the same
            key and body replays the first answer instead of moving money again.
        body (BatchIn):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        AtomicBatchOut | AtomicBatchOut | BatchOut | ProblemOut
    """

    return sync_detailed(
        client=client,
        body=body,
        idempotency_key=idempotency_key,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: BatchIn,
    idempotency_key: str | Unset = UNSET,
) -> Response[AtomicBatchOut | AtomicBatchOut | BatchOut | ProblemOut]:
    """Transfer Batch

     Up to 1000 transfers in one database transaction, applied in order. Not atomic: 200
    with one result per item. Atomic: 201 with every transfer, or the first refused item's
    problem with its `index`, and nothing moved. An API key restricted to some accounts
    pays from those only: an item paying from another makes the whole batch 404.

    Args:
        idempotency_key (str | Unset): 1 to 255 visible ASCII characters; a retry with the same
            key and body replays the first answer instead of moving money again.
        body (BatchIn):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[AtomicBatchOut | AtomicBatchOut | BatchOut | ProblemOut]
    """

    kwargs = _get_kwargs(
        body=body,
        idempotency_key=idempotency_key,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    body: BatchIn,
    idempotency_key: str | Unset = UNSET,
) -> AtomicBatchOut | AtomicBatchOut | BatchOut | ProblemOut | None:
    """Transfer Batch

     Up to 1000 transfers in one database transaction, applied in order. Not atomic: 200
    with one result per item. Atomic: 201 with every transfer, or the first refused item's
    problem with its `index`, and nothing moved. An API key restricted to some accounts
    pays from those only: an item paying from another makes the whole batch 404.

    Args:
        idempotency_key (str | Unset): 1 to 255 visible ASCII characters; a retry with the same
            key and body replays the first answer instead of moving money again.
        body (BatchIn):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        AtomicBatchOut | AtomicBatchOut | BatchOut | ProblemOut
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
            idempotency_key=idempotency_key,
        )
    ).parsed
