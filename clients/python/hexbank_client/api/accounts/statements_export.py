import datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import quote
from uuid import UUID

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.problem_out import ProblemOut
from ...models.signed_statement_out import SignedStatementOut
from ...models.statements_export_format import StatementsExportFormat
from ...types import UNSET, Response, Unset


def _get_kwargs(
    account_id: UUID,
    *,
    from_: datetime.datetime | Unset = UNSET,
    to: datetime.datetime | Unset = UNSET,
    format_: StatementsExportFormat | Unset = StatementsExportFormat.JSON,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    json_from_: str | Unset = UNSET
    if not isinstance(from_, Unset):
        json_from_ = from_.isoformat()
    params["from"] = json_from_

    json_to: str | Unset = UNSET
    if not isinstance(to, Unset):
        json_to = to.isoformat()
    params["to"] = json_to

    json_format_: str | Unset = UNSET
    if not isinstance(format_, Unset):
        json_format_ = format_.value

    params["format"] = json_format_

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/v1/accounts/{account_id}/statement".format(
            account_id=quote(str(account_id), safe=""),
        ),
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ProblemOut | SignedStatementOut | None:
    if response.status_code == 200:
        response_200 = SignedStatementOut.from_dict(response.json())

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
) -> Response[ProblemOut | SignedStatementOut]:
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
    from_: datetime.datetime | Unset = UNSET,
    to: datetime.datetime | Unset = UNSET,
    format_: StatementsExportFormat | Unset = StatementsExportFormat.JSON,
) -> Response[ProblemOut | SignedStatementOut]:
    """Export Statement

     Every entry of the range, oldest first, with `opening` and `closing` (balance,
    sequence, hash), signed with Ed25519 so it verifies offline (`hexbank verify-statement`,
    docs/statements.md). A range of more than HEXBANK_STATEMENT_MAX_ENTRIES entries is
    refused 422 `statement-too-large`.

    Args:
        account_id (UUID):
        from_ (datetime.datetime | Unset): RFC 3339; entries at or after it (unset: all).
        to (datetime.datetime | Unset): RFC 3339; entries before it (unset, or still to come: the
            moment the statement is generated, which its `to` then says).
        format_ (StatementsExportFormat | Unset): The file's format. Default:
            StatementsExportFormat.JSON.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ProblemOut | SignedStatementOut]
    """

    kwargs = _get_kwargs(
        account_id=account_id,
        from_=from_,
        to=to,
        format_=format_,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    account_id: UUID,
    *,
    client: AuthenticatedClient,
    from_: datetime.datetime | Unset = UNSET,
    to: datetime.datetime | Unset = UNSET,
    format_: StatementsExportFormat | Unset = StatementsExportFormat.JSON,
) -> ProblemOut | SignedStatementOut | None:
    """Export Statement

     Every entry of the range, oldest first, with `opening` and `closing` (balance,
    sequence, hash), signed with Ed25519 so it verifies offline (`hexbank verify-statement`,
    docs/statements.md). A range of more than HEXBANK_STATEMENT_MAX_ENTRIES entries is
    refused 422 `statement-too-large`.

    Args:
        account_id (UUID):
        from_ (datetime.datetime | Unset): RFC 3339; entries at or after it (unset: all).
        to (datetime.datetime | Unset): RFC 3339; entries before it (unset, or still to come: the
            moment the statement is generated, which its `to` then says).
        format_ (StatementsExportFormat | Unset): The file's format. Default:
            StatementsExportFormat.JSON.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ProblemOut | SignedStatementOut
    """

    return sync_detailed(
        account_id=account_id,
        client=client,
        from_=from_,
        to=to,
        format_=format_,
    ).parsed


async def asyncio_detailed(
    account_id: UUID,
    *,
    client: AuthenticatedClient,
    from_: datetime.datetime | Unset = UNSET,
    to: datetime.datetime | Unset = UNSET,
    format_: StatementsExportFormat | Unset = StatementsExportFormat.JSON,
) -> Response[ProblemOut | SignedStatementOut]:
    """Export Statement

     Every entry of the range, oldest first, with `opening` and `closing` (balance,
    sequence, hash), signed with Ed25519 so it verifies offline (`hexbank verify-statement`,
    docs/statements.md). A range of more than HEXBANK_STATEMENT_MAX_ENTRIES entries is
    refused 422 `statement-too-large`.

    Args:
        account_id (UUID):
        from_ (datetime.datetime | Unset): RFC 3339; entries at or after it (unset: all).
        to (datetime.datetime | Unset): RFC 3339; entries before it (unset, or still to come: the
            moment the statement is generated, which its `to` then says).
        format_ (StatementsExportFormat | Unset): The file's format. Default:
            StatementsExportFormat.JSON.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ProblemOut | SignedStatementOut]
    """

    kwargs = _get_kwargs(
        account_id=account_id,
        from_=from_,
        to=to,
        format_=format_,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    account_id: UUID,
    *,
    client: AuthenticatedClient,
    from_: datetime.datetime | Unset = UNSET,
    to: datetime.datetime | Unset = UNSET,
    format_: StatementsExportFormat | Unset = StatementsExportFormat.JSON,
) -> ProblemOut | SignedStatementOut | None:
    """Export Statement

     Every entry of the range, oldest first, with `opening` and `closing` (balance,
    sequence, hash), signed with Ed25519 so it verifies offline (`hexbank verify-statement`,
    docs/statements.md). A range of more than HEXBANK_STATEMENT_MAX_ENTRIES entries is
    refused 422 `statement-too-large`.

    Args:
        account_id (UUID):
        from_ (datetime.datetime | Unset): RFC 3339; entries at or after it (unset: all).
        to (datetime.datetime | Unset): RFC 3339; entries before it (unset, or still to come: the
            moment the statement is generated, which its `to` then says).
        format_ (StatementsExportFormat | Unset): The file's format. Default:
            StatementsExportFormat.JSON.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ProblemOut | SignedStatementOut
    """

    return (
        await asyncio_detailed(
            account_id=account_id,
            client=client,
            from_=from_,
            to=to,
            format_=format_,
        )
    ).parsed
