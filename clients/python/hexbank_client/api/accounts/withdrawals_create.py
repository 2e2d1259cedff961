from http import HTTPStatus
from typing import Any
from urllib.parse import quote
from uuid import UUID

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.problem_out import ProblemOut
from ...models.transfer_out import TransferOut
from ...models.withdrawal_in import WithdrawalIn
from ...types import UNSET, Response, Unset


def _get_kwargs(
    account_id: UUID,
    *,
    body: WithdrawalIn,
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
        "url": "/api/v1/accounts/{account_id}/withdrawals".format(
            account_id=quote(str(account_id), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ProblemOut | TransferOut | None:
    if response.status_code == 201:
        response_201 = TransferOut.from_dict(response.json())

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
) -> Response[ProblemOut | TransferOut]:
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
    body: WithdrawalIn,
    idempotency_key: str | Unset = UNSET,
    if_match: str | Unset = UNSET,
) -> Response[ProblemOut | TransferOut]:
    """Withdraw

     Money leaves the bank: it goes back to the funding account of the currency. With
    `If-Match`, only if the account is still at that sequence.

    Args:
        account_id (UUID):
        idempotency_key (str | Unset): 1 to 255 visible ASCII characters; a retry with the same
            key and body replays the first answer instead of moving money again.
        if_match (str | Unset): The debited account's `ETag` from `GET /api/v1/accounts/{id}`, as
            `"<sequence>"`: the debit applies only if the account is still at that sequence when it is
            locked, else 412 `precondition-failed` (with the current `sequence`) and nothing moves. A
            malformed value (anything but one strong ETag of digits) is 422 `validation-error`. A hold
            changes no sequence (it writes no entry). With an Idempotency-Key, a retry replays the
            first outcome whatever the sequence is now.
        body (WithdrawalIn):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ProblemOut | TransferOut]
    """

    kwargs = _get_kwargs(
        account_id=account_id,
        body=body,
        idempotency_key=idempotency_key,
        if_match=if_match,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    account_id: UUID,
    *,
    client: AuthenticatedClient,
    body: WithdrawalIn,
    idempotency_key: str | Unset = UNSET,
    if_match: str | Unset = UNSET,
) -> ProblemOut | TransferOut | None:
    """Withdraw

     Money leaves the bank: it goes back to the funding account of the currency. With
    `If-Match`, only if the account is still at that sequence.

    Args:
        account_id (UUID):
        idempotency_key (str | Unset): 1 to 255 visible ASCII characters; a retry with the same
            key and body replays the first answer instead of moving money again.
        if_match (str | Unset): The debited account's `ETag` from `GET /api/v1/accounts/{id}`, as
            `"<sequence>"`: the debit applies only if the account is still at that sequence when it is
            locked, else 412 `precondition-failed` (with the current `sequence`) and nothing moves. A
            malformed value (anything but one strong ETag of digits) is 422 `validation-error`. A hold
            changes no sequence (it writes no entry). With an Idempotency-Key, a retry replays the
            first outcome whatever the sequence is now.
        body (WithdrawalIn):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ProblemOut | TransferOut
    """

    return sync_detailed(
        account_id=account_id,
        client=client,
        body=body,
        idempotency_key=idempotency_key,
        if_match=if_match,
    ).parsed


async def asyncio_detailed(
    account_id: UUID,
    *,
    client: AuthenticatedClient,
    body: WithdrawalIn,
    idempotency_key: str | Unset = UNSET,
    if_match: str | Unset = UNSET,
) -> Response[ProblemOut | TransferOut]:
    """Withdraw

     Money leaves the bank: it goes back to the funding account of the currency. With
    `If-Match`, only if the account is still at that sequence.

    Args:
        account_id (UUID):
        idempotency_key (str | Unset): 1 to 255 visible ASCII characters; a retry with the same
            key and body replays the first answer instead of moving money again.
        if_match (str | Unset): The debited account's `ETag` from `GET /api/v1/accounts/{id}`, as
            `"<sequence>"`: the debit applies only if the account is still at that sequence when it is
            locked, else 412 `precondition-failed` (with the current `sequence`) and nothing moves. A
            malformed value (anything but one strong ETag of digits) is 422 `validation-error`. A hold
            changes no sequence (it writes no entry). With an Idempotency-Key, a retry replays the
            first outcome whatever the sequence is now.
        body (WithdrawalIn):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ProblemOut | TransferOut]
    """

    kwargs = _get_kwargs(
        account_id=account_id,
        body=body,
        idempotency_key=idempotency_key,
        if_match=if_match,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    account_id: UUID,
    *,
    client: AuthenticatedClient,
    body: WithdrawalIn,
    idempotency_key: str | Unset = UNSET,
    if_match: str | Unset = UNSET,
) -> ProblemOut | TransferOut | None:
    """Withdraw

     Money leaves the bank: it goes back to the funding account of the currency. With
    `If-Match`, only if the account is still at that sequence.

    Args:
        account_id (UUID):
        idempotency_key (str | Unset): 1 to 255 visible ASCII characters; a retry with the same
            key and body replays the first answer instead of moving money again.
        if_match (str | Unset): The debited account's `ETag` from `GET /api/v1/accounts/{id}`, as
            `"<sequence>"`: the debit applies only if the account is still at that sequence when it is
            locked, else 412 `precondition-failed` (with the current `sequence`) and nothing moves. A
            malformed value (anything but one strong ETag of digits) is 422 `validation-error`. A hold
            changes no sequence (it writes no entry). With an Idempotency-Key, a retry replays the
            first outcome whatever the sequence is now.
        body (WithdrawalIn):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ProblemOut | TransferOut
    """

    return (
        await asyncio_detailed(
            account_id=account_id,
            client=client,
            body=body,
            idempotency_key=idempotency_key,
            if_match=if_match,
        )
    ).parsed
