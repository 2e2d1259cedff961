from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote
from uuid import UUID

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.problem_out import ProblemOut
from ...types import Response


def _get_kwargs(
    account_id: UUID,
    monitor_id: UUID,
) -> dict[str, Any]:

    _kwargs: dict[str, Any] = {
        "method": "delete",
        "url": "/api/v1/accounts/{account_id}/monitors/{monitor_id}".format(
            account_id=quote(str(account_id), safe=""),
            monitor_id=quote(str(monitor_id), safe=""),
        ),
    }

    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Any | ProblemOut | None:
    if response.status_code == 204:
        response_204 = cast(Any, None)
        return response_204

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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Any | ProblemOut]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    account_id: UUID,
    monitor_id: UUID,
    *,
    client: AuthenticatedClient,
) -> Response[Any | ProblemOut]:
    """Monitors Delete

     Stop watching: the monitor reports nothing more.

    Args:
        account_id (UUID):
        monitor_id (UUID):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | ProblemOut]
    """

    kwargs = _get_kwargs(
        account_id=account_id,
        monitor_id=monitor_id,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    account_id: UUID,
    monitor_id: UUID,
    *,
    client: AuthenticatedClient,
) -> Any | ProblemOut | None:
    """Monitors Delete

     Stop watching: the monitor reports nothing more.

    Args:
        account_id (UUID):
        monitor_id (UUID):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | ProblemOut
    """

    return sync_detailed(
        account_id=account_id,
        monitor_id=monitor_id,
        client=client,
    ).parsed


async def asyncio_detailed(
    account_id: UUID,
    monitor_id: UUID,
    *,
    client: AuthenticatedClient,
) -> Response[Any | ProblemOut]:
    """Monitors Delete

     Stop watching: the monitor reports nothing more.

    Args:
        account_id (UUID):
        monitor_id (UUID):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | ProblemOut]
    """

    kwargs = _get_kwargs(
        account_id=account_id,
        monitor_id=monitor_id,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    account_id: UUID,
    monitor_id: UUID,
    *,
    client: AuthenticatedClient,
) -> Any | ProblemOut | None:
    """Monitors Delete

     Stop watching: the monitor reports nothing more.

    Args:
        account_id (UUID):
        monitor_id (UUID):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | ProblemOut
    """

    return (
        await asyncio_detailed(
            account_id=account_id,
            monitor_id=monitor_id,
            client=client,
        )
    ).parsed
