from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.problem_out import ProblemOut
from ...models.statement_keys_out import StatementKeysOut
from ...types import Response


def _get_kwargs() -> dict[str, Any]:

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/v1/statement-keys",
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ProblemOut | StatementKeysOut | None:
    if response.status_code == 200:
        response_200 = StatementKeysOut.from_dict(response.json())

        return response_200

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
) -> Response[ProblemOut | StatementKeysOut]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
) -> Response[ProblemOut | StatementKeysOut]:
    """List Statement Keys

     The public keys signed statements verify with, the current one first, then those
    kept from before a rotation. No authentication: an auditor needs only the file and
    these (`hexbank verify-statement FILE --keys-url .../api/v1/statement-keys`).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ProblemOut | StatementKeysOut]
    """

    kwargs = _get_kwargs()

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
) -> ProblemOut | StatementKeysOut | None:
    """List Statement Keys

     The public keys signed statements verify with, the current one first, then those
    kept from before a rotation. No authentication: an auditor needs only the file and
    these (`hexbank verify-statement FILE --keys-url .../api/v1/statement-keys`).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ProblemOut | StatementKeysOut
    """

    return sync_detailed(
        client=client,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
) -> Response[ProblemOut | StatementKeysOut]:
    """List Statement Keys

     The public keys signed statements verify with, the current one first, then those
    kept from before a rotation. No authentication: an auditor needs only the file and
    these (`hexbank verify-statement FILE --keys-url .../api/v1/statement-keys`).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ProblemOut | StatementKeysOut]
    """

    kwargs = _get_kwargs()

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
) -> ProblemOut | StatementKeysOut | None:
    """List Statement Keys

     The public keys signed statements verify with, the current one first, then those
    kept from before a rotation. No authentication: an auditor needs only the file and
    these (`hexbank verify-statement FILE --keys-url .../api/v1/statement-keys`).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ProblemOut | StatementKeysOut
    """

    return (
        await asyncio_detailed(
            client=client,
        )
    ).parsed
