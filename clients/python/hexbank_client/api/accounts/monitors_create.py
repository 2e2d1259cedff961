from http import HTTPStatus
from typing import Any
from urllib.parse import quote
from uuid import UUID

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.monitor_in import MonitorIn
from ...models.monitor_out import MonitorOut
from ...models.problem_out import ProblemOut
from ...types import Response


def _get_kwargs(
    account_id: UUID,
    *,
    body: MonitorIn,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/v1/accounts/{account_id}/monitors".format(
            account_id=quote(str(account_id), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> MonitorOut | ProblemOut | None:
    if response.status_code == 201:
        response_201 = MonitorOut.from_dict(response.json())

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
) -> Response[MonitorOut | ProblemOut]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    account_id: UUID,
    *,
    client: AuthenticatedClient,
    body: MonitorIn,
) -> Response[MonitorOut | ProblemOut]:
    """Monitors Create

     Watch one of your accounts: from now on, every movement of it that makes the
    condition true writes `account.monitor.triggered`, and one that makes it false again
    `account.monitor.cleared` (edge-triggered: nothing while it merely stays true; a
    monitor created while its condition holds reports nothing until it changes). At most
    HEXBANK_MAX_MONITORS_PER_ACCOUNT per account (409 `too-many-monitors`).

    Args:
        account_id (UUID):
        body (MonitorIn):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[MonitorOut | ProblemOut]
    """

    kwargs = _get_kwargs(
        account_id=account_id,
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    account_id: UUID,
    *,
    client: AuthenticatedClient,
    body: MonitorIn,
) -> MonitorOut | ProblemOut | None:
    """Monitors Create

     Watch one of your accounts: from now on, every movement of it that makes the
    condition true writes `account.monitor.triggered`, and one that makes it false again
    `account.monitor.cleared` (edge-triggered: nothing while it merely stays true; a
    monitor created while its condition holds reports nothing until it changes). At most
    HEXBANK_MAX_MONITORS_PER_ACCOUNT per account (409 `too-many-monitors`).

    Args:
        account_id (UUID):
        body (MonitorIn):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        MonitorOut | ProblemOut
    """

    return sync_detailed(
        account_id=account_id,
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    account_id: UUID,
    *,
    client: AuthenticatedClient,
    body: MonitorIn,
) -> Response[MonitorOut | ProblemOut]:
    """Monitors Create

     Watch one of your accounts: from now on, every movement of it that makes the
    condition true writes `account.monitor.triggered`, and one that makes it false again
    `account.monitor.cleared` (edge-triggered: nothing while it merely stays true; a
    monitor created while its condition holds reports nothing until it changes). At most
    HEXBANK_MAX_MONITORS_PER_ACCOUNT per account (409 `too-many-monitors`).

    Args:
        account_id (UUID):
        body (MonitorIn):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[MonitorOut | ProblemOut]
    """

    kwargs = _get_kwargs(
        account_id=account_id,
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    account_id: UUID,
    *,
    client: AuthenticatedClient,
    body: MonitorIn,
) -> MonitorOut | ProblemOut | None:
    """Monitors Create

     Watch one of your accounts: from now on, every movement of it that makes the
    condition true writes `account.monitor.triggered`, and one that makes it false again
    `account.monitor.cleared` (edge-triggered: nothing while it merely stays true; a
    monitor created while its condition holds reports nothing until it changes). At most
    HEXBANK_MAX_MONITORS_PER_ACCOUNT per account (409 `too-many-monitors`).

    Args:
        account_id (UUID):
        body (MonitorIn):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        MonitorOut | ProblemOut
    """

    return (
        await asyncio_detailed(
            account_id=account_id,
            client=client,
            body=body,
        )
    ).parsed
