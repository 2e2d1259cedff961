from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.problem_out import ProblemOut
from ...models.token_form_in import TokenFormIn
from ...models.token_out import TokenOut
from ...models.token_problem_out import TokenProblemOut
from ...types import Response


def _get_kwargs(
    *,
    body: TokenFormIn,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/v1/auth/token",
    }

    _kwargs["data"] = body.to_dict()
    headers["Content-Type"] = "application/x-www-form-urlencoded"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ProblemOut | TokenOut | TokenProblemOut | None:
    if response.status_code == 200:
        response_200 = TokenOut.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = TokenProblemOut.from_dict(response.json())

        return response_400

    if response.status_code == 413:
        response_413 = ProblemOut.from_dict(response.json())

        return response_413

    if response.status_code == 429:
        response_429 = TokenProblemOut.from_dict(response.json())

        return response_429

    if response.status_code == 431:
        response_431 = ProblemOut.from_dict(response.json())

        return response_431

    if response.status_code == 500:
        response_500 = ProblemOut.from_dict(response.json())

        return response_500

    if response.status_code == 503:
        response_503 = TokenProblemOut.from_dict(response.json())

        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[ProblemOut | TokenOut | TokenProblemOut]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: TokenFormIn,
) -> Response[ProblemOut | TokenOut | TokenProblemOut]:
    """Issue Token

     OAuth2 password flow: `username` is the email. Works with Swagger UI's Authorize.

    Args:
        body (TokenFormIn): OAuth2's password grant (RFC 6749 section 4.3.2), as Swagger UI's
            Authorize sends it.
            `grant_type` is REQUIRED there; other fields (`client_id`, ...) are ignored, as the RFC
            asks of unknown parameters.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ProblemOut | TokenOut | TokenProblemOut]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    body: TokenFormIn,
) -> ProblemOut | TokenOut | TokenProblemOut | None:
    """Issue Token

     OAuth2 password flow: `username` is the email. Works with Swagger UI's Authorize.

    Args:
        body (TokenFormIn): OAuth2's password grant (RFC 6749 section 4.3.2), as Swagger UI's
            Authorize sends it.
            `grant_type` is REQUIRED there; other fields (`client_id`, ...) are ignored, as the RFC
            asks of unknown parameters.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ProblemOut | TokenOut | TokenProblemOut
    """

    return sync_detailed(
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: TokenFormIn,
) -> Response[ProblemOut | TokenOut | TokenProblemOut]:
    """Issue Token

     OAuth2 password flow: `username` is the email. Works with Swagger UI's Authorize.

    Args:
        body (TokenFormIn): OAuth2's password grant (RFC 6749 section 4.3.2), as Swagger UI's
            Authorize sends it.
            `grant_type` is REQUIRED there; other fields (`client_id`, ...) are ignored, as the RFC
            asks of unknown parameters.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ProblemOut | TokenOut | TokenProblemOut]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    body: TokenFormIn,
) -> ProblemOut | TokenOut | TokenProblemOut | None:
    """Issue Token

     OAuth2 password flow: `username` is the email. Works with Swagger UI's Authorize.

    Args:
        body (TokenFormIn): OAuth2's password grant (RFC 6749 section 4.3.2), as Swagger UI's
            Authorize sends it.
            `grant_type` is REQUIRED there; other fields (`client_id`, ...) are ignored, as the RFC
            asks of unknown parameters.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ProblemOut | TokenOut | TokenProblemOut
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
        )
    ).parsed
