"""The token endpoint as OAuth2 clients read it (RFC 6749 sections 5.1 and 5.2): every error
carries `error` beside the problem fields, and no answer may be cached."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from authlib.integrations.httpx_client import AsyncOAuth2Client, OAuthError
from httpx import AsyncClient

from tests.conftest import make_settings, serving
from tests.http.helpers import assert_problem, signed_up
from tests.integration.test_processes import app_process

TOKEN = "/api/v1/auth/token"


def assert_not_cached(response: httpx.Response) -> None:
    assert response.headers["cache-control"] == "no-store", response.headers
    assert response.headers["pragma"] == "no-cache", response.headers


async def test_every_answer_of_the_token_endpoint_is_no_store_with_its_oauth2_error(
    database_url: str, tmp_path: Path
) -> None:
    settings = make_settings(database_url, tmp_path, login_failures_per_email=2)
    async with serving(settings, database_url) as client:
        await signed_up(client)
        right = {"grant_type": "password", "username": "ada@example.com", "password": "password1"}
        success = await client.post(TOKEN, data=right)
        assert success.status_code == 200, success.text
        assert_not_cached(success)
        assert success.json()["token_type"] == "bearer"

        cases = [
            ({"data": {**right, "password": "wrong-pass1"}}, 400, "invalid-credentials"),
            (
                {"data": {"grant_type": "password", "username": "ada@example.com"}},
                400,
                "bad-request",
            ),
            ({"data": {**right, "username": "not an email"}}, 400, "invalid-credentials"),
            ({"data": {**right, "password": "x" * 10_000}}, 400, "bad-request"),
            ({"json": right}, 400, "bad-request"),
            ({"content": b"username=ada", "headers": {"Content-Type": "text/plain"}}, 400, None),
            ({"data": {**right, "grant_type": "client_credentials"}}, 400, None),
            ({"data": {**right, "grant_type": ""}}, 400, "bad-request"),
        ]
        expected_error = {
            "invalid-credentials": "invalid_grant",
            "bad-request": "invalid_request",
            "unsupported-grant-type": "unsupported_grant_type",
        }
        for request, status, slug in cases:
            response = await client.post(TOKEN, **request)  # type: ignore[arg-type]
            body = response.json()
            slug = slug or body["type"].rsplit("/", 1)[-1]
            problem = assert_problem(response, status, slug)
            assert problem["error"] == expected_error[slug], (request, problem)
            assert problem["error_description"] == problem["detail"]
            assert_not_cached(response)
        grant = await client.post(TOKEN, data={**right, "grant_type": "client_credentials"})
        assert assert_problem(grant, 400, "unsupported-grant-type")["error"] == (
            "unsupported_grant_type"
        )

        # RFC 6749 section 4.3.2: grant_type is REQUIRED; leaving it out is malformed.
        for missing in (
            {k: v for k, v in right.items() if k != "grant_type"},
            {**right, "grant_type": ""},
        ):
            nameless = await client.post(TOKEN, data=missing)
            problem = assert_problem(nameless, 400, "bad-request")
            assert problem["error"] == "invalid_request"
            assert problem["detail"] == "`grant_type` is required."
            assert [field["loc"] for field in problem["errors"]] == [["body", "grant_type"]]

        # A second wrong password blocks the email: 429, still an OAuth2 error.
        await client.post(TOKEN, data={**right, "password": "wrong-pass2"})
        blocked = await client.post(TOKEN, data=right)
        problem = assert_problem(blocked, 429, "too-many-attempts")
        assert problem["error"] == "temporarily_unavailable"
        assert int(blocked.headers["retry-after"]) > 0
        assert_not_cached(blocked)


async def test_other_routes_are_not_marked_no_store(client: AsyncClient) -> None:
    """The token route's headers come from its own route class, not from the whole app."""
    ada = await signed_up(client)
    me = await client.get("/api/v1/users/me", headers=ada)
    assert me.status_code == 200
    assert "cache-control" not in me.headers
    assert "error" not in (await client.get("/api/v1/users/me")).json()


async def test_the_spec_declares_the_token_errors_with_their_oauth2_error(
    client: AsyncClient,
) -> None:
    document = (await client.get("/openapi.json")).json()
    responses = document["paths"][TOKEN]["post"]["responses"]
    for status in ("400", "429"):
        schema = responses[status]["content"]["application/problem+json"]["schema"]
        assert schema["$ref"].endswith("/TokenProblemOut")
    error = document["components"]["schemas"]["TokenProblemOut"]["properties"]["error"]
    assert {"invalid_grant", "invalid_request", "unsupported_grant_type"} <= set(error["enum"])
    assert "401" not in responses


@pytest.mark.postgres  # a `hexbank serve` process, which runs on PostgreSQL
async def test_authlibs_oauth2_client_against_a_live_server(
    database_url: str, tmp_path: Path
) -> None:
    """A standard OAuth2 client (Authlib) on a real `hexbank serve`: a wrong password raises
    its OAuthError (it no longer takes the problem for a token); the right one yields a token
    that opens the API."""
    with app_process(database_url, tmp_path) as (_, base):
        async with httpx.AsyncClient(base_url=base) as http:
            user = {"email": "ada@example.com", "password": "password1", "full_name": "Ada"}
            (await http.post("/api/v1/users", json=user)).raise_for_status()
        async with AsyncOAuth2Client(base_url=base) as oauth:
            with pytest.raises(OAuthError) as refused:
                await oauth.fetch_token(
                    f"{base}{TOKEN}", username=user["email"], password="wrong-pass1"
                )
            assert refused.value.error == "invalid_grant"
            assert refused.value.description == "Incorrect email or password."

            token = await oauth.fetch_token(
                f"{base}{TOKEN}", username=user["email"], password=user["password"]
            )
            assert token["token_type"] == "bearer"
            accounts = await oauth.get(f"{base}/api/v1/accounts")
            assert accounts.status_code == 200, accounts.text
            assert oauth.token["access_token"] == token["access_token"]
            assert accounts.request.headers["authorization"] == f"Bearer {token['access_token']}"
