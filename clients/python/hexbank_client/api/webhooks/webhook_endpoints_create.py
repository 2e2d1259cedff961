from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.problem_out import ProblemOut
from ...models.webhook_endpoint_created_out import WebhookEndpointCreatedOut
from ...models.webhook_endpoint_in import WebhookEndpointIn
from ...types import Response


def _get_kwargs(
    *,
    body: WebhookEndpointIn,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/v1/webhook-endpoints",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ProblemOut | WebhookEndpointCreatedOut | None:
    if response.status_code == 201:
        response_201 = WebhookEndpointCreatedOut.from_dict(response.json())

        return response_201

    if response.status_code == 401:
        response_401 = ProblemOut.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = ProblemOut.from_dict(response.json())

        return response_403

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
) -> Response[ProblemOut | WebhookEndpointCreatedOut]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: WebhookEndpointIn,
) -> Response[ProblemOut | WebhookEndpointCreatedOut]:
    """Create Webhook Endpoint

     Register an endpoint: 422 `unsafe-webhook-url` for http or a host that is (or
    resolves to) a private, loopback, link-local or reserved address; at most
    HEXBANK_WEBHOOK_ENDPOINTS_PER_USER (409 `too-many-webhook-endpoints`).

    Args:
        body (WebhookEndpointIn):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ProblemOut | WebhookEndpointCreatedOut]
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
    client: AuthenticatedClient,
    body: WebhookEndpointIn,
) -> ProblemOut | WebhookEndpointCreatedOut | None:
    """Create Webhook Endpoint

     Register an endpoint: 422 `unsafe-webhook-url` for http or a host that is (or
    resolves to) a private, loopback, link-local or reserved address; at most
    HEXBANK_WEBHOOK_ENDPOINTS_PER_USER (409 `too-many-webhook-endpoints`).

    Args:
        body (WebhookEndpointIn):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ProblemOut | WebhookEndpointCreatedOut
    """

    return sync_detailed(
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: WebhookEndpointIn,
) -> Response[ProblemOut | WebhookEndpointCreatedOut]:
    """Create Webhook Endpoint

     Register an endpoint: 422 `unsafe-webhook-url` for http or a host that is (or
    resolves to) a private, loopback, link-local or reserved address; at most
    HEXBANK_WEBHOOK_ENDPOINTS_PER_USER (409 `too-many-webhook-endpoints`).

    Args:
        body (WebhookEndpointIn):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ProblemOut | WebhookEndpointCreatedOut]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    body: WebhookEndpointIn,
) -> ProblemOut | WebhookEndpointCreatedOut | None:
    """Create Webhook Endpoint

     Register an endpoint: 422 `unsafe-webhook-url` for http or a host that is (or
    resolves to) a private, loopback, link-local or reserved address; at most
    HEXBANK_WEBHOOK_ENDPOINTS_PER_USER (409 `too-many-webhook-endpoints`).

    Args:
        body (WebhookEndpointIn):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ProblemOut | WebhookEndpointCreatedOut
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
        )
    ).parsed
