from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.conversion_in import ConversionIn
from ...models.conversion_out import ConversionOut
from ...models.problem_out import ProblemOut
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    body: ConversionIn,
    idempotency_key: str | Unset = UNSET,
    if_match: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key

    if not isinstance(if_match, Unset):
        headers["If-Match"] = if_match

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/v1/conversions",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ConversionOut | ProblemOut | None:
    if response.status_code == 201:
        response_201 = ConversionOut.from_dict(response.json())

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

    if response.status_code == 412:
        response_412 = ProblemOut.from_dict(response.json())

        return response_412

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
) -> Response[ConversionOut | ProblemOut]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: ConversionIn,
    idempotency_key: str | Unset = UNSET,
    if_match: str | Unset = UNSET,
) -> Response[ConversionOut | ProblemOut]:
    """Conversions Create

     Convert money from one of your accounts to a customer account of another currency at
    your `rate` (hexbank has no market data), rounded down in the bank's favour: two
    transfers in one transaction, through the bank's FX account of each currency. With
    `If-Match`, only if the source is still at that sequence.

    Args:
        idempotency_key (str | Unset): 1 to 255 visible ASCII characters; a retry with the same
            key and body replays the first answer instead of moving money again.
        if_match (str | Unset): The debited account's `ETag` from `GET /api/v1/accounts/{id}`, as
            `"<sequence>"`: the debit applies only if the account is still at that sequence when it is
            locked, else 412 `precondition-failed` (with the current `sequence`) and nothing moves. A
            malformed value (anything but one strong ETag of digits) is 422 `validation-error`. A hold
            changes no sequence (it writes no entry). With an Idempotency-Key, a retry replays the
            first outcome whatever the sequence is now.
        body (ConversionIn):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ConversionOut | ProblemOut]
    """

    kwargs = _get_kwargs(
        body=body,
        idempotency_key=idempotency_key,
        if_match=if_match,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    body: ConversionIn,
    idempotency_key: str | Unset = UNSET,
    if_match: str | Unset = UNSET,
) -> ConversionOut | ProblemOut | None:
    """Conversions Create

     Convert money from one of your accounts to a customer account of another currency at
    your `rate` (hexbank has no market data), rounded down in the bank's favour: two
    transfers in one transaction, through the bank's FX account of each currency. With
    `If-Match`, only if the source is still at that sequence.

    Args:
        idempotency_key (str | Unset): 1 to 255 visible ASCII characters; a retry with the same
            key and body replays the first answer instead of moving money again.
        if_match (str | Unset): The debited account's `ETag` from `GET /api/v1/accounts/{id}`, as
            `"<sequence>"`: the debit applies only if the account is still at that sequence when it is
            locked, else 412 `precondition-failed` (with the current `sequence`) and nothing moves. A
            malformed value (anything but one strong ETag of digits) is 422 `validation-error`. A hold
            changes no sequence (it writes no entry). With an Idempotency-Key, a retry replays the
            first outcome whatever the sequence is now.
        body (ConversionIn):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ConversionOut | ProblemOut
    """

    return sync_detailed(
        client=client,
        body=body,
        idempotency_key=idempotency_key,
        if_match=if_match,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: ConversionIn,
    idempotency_key: str | Unset = UNSET,
    if_match: str | Unset = UNSET,
) -> Response[ConversionOut | ProblemOut]:
    """Conversions Create

     Convert money from one of your accounts to a customer account of another currency at
    your `rate` (hexbank has no market data), rounded down in the bank's favour: two
    transfers in one transaction, through the bank's FX account of each currency. With
    `If-Match`, only if the source is still at that sequence.

    Args:
        idempotency_key (str | Unset): 1 to 255 visible ASCII characters; a retry with the same
            key and body replays the first answer instead of moving money again.
        if_match (str | Unset): The debited account's `ETag` from `GET /api/v1/accounts/{id}`, as
            `"<sequence>"`: the debit applies only if the account is still at that sequence when it is
            locked, else 412 `precondition-failed` (with the current `sequence`) and nothing moves. A
            malformed value (anything but one strong ETag of digits) is 422 `validation-error`. A hold
            changes no sequence (it writes no entry). With an Idempotency-Key, a retry replays the
            first outcome whatever the sequence is now.
        body (ConversionIn):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ConversionOut | ProblemOut]
    """

    kwargs = _get_kwargs(
        body=body,
        idempotency_key=idempotency_key,
        if_match=if_match,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    body: ConversionIn,
    idempotency_key: str | Unset = UNSET,
    if_match: str | Unset = UNSET,
) -> ConversionOut | ProblemOut | None:
    """Conversions Create

     Convert money from one of your accounts to a customer account of another currency at
    your `rate` (hexbank has no market data), rounded down in the bank's favour: two
    transfers in one transaction, through the bank's FX account of each currency. With
    `If-Match`, only if the source is still at that sequence.

    Args:
        idempotency_key (str | Unset): 1 to 255 visible ASCII characters; a retry with the same
            key and body replays the first answer instead of moving money again.
        if_match (str | Unset): The debited account's `ETag` from `GET /api/v1/accounts/{id}`, as
            `"<sequence>"`: the debit applies only if the account is still at that sequence when it is
            locked, else 412 `precondition-failed` (with the current `sequence`) and nothing moves. A
            malformed value (anything but one strong ETag of digits) is 422 `validation-error`. A hold
            changes no sequence (it writes no entry). With an Idempotency-Key, a retry replays the
            first outcome whatever the sequence is now.
        body (ConversionIn):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ConversionOut | ProblemOut
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
            idempotency_key=idempotency_key,
            if_match=if_match,
        )
    ).parsed
