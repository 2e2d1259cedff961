from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest
from httpx import AsyncClient

from tests.fakes import TEST_SECRET
from tests.http.helpers import assert_problem, signed_up


async def test_register_login_and_read_yourself(client: AsyncClient) -> None:
    created = await client.post(
        "/api/v1/users",
        json={"email": "Ada@Example.com", "password": "password1", "full_name": " Ada "},
    )
    assert created.status_code == 201
    body = created.json()
    assert set(body) == {"id", "email", "full_name", "created_at"}
    assert (body["email"], body["full_name"]) == ("ada@example.com", "Ada")

    token = await client.post(
        "/api/v1/auth/token",
        data={"grant_type": "password", "username": "ADA@example.com", "password": "password1"},
    )
    assert token.status_code == 200
    assert token.json()["token_type"] == "bearer"
    assert token.json()["expires_in"] == 3600

    me = await client.get(
        "/api/v1/users/me", headers={"Authorization": f"Bearer {token.json()['access_token']}"}
    )
    assert me.status_code == 200
    assert me.json() == body


async def test_a_duplicate_email_in_any_case_is_a_conflict(client: AsyncClient) -> None:
    await signed_up(client, "ada@example.com")
    again = await client.post(
        "/api/v1/users",
        json={"email": "ADA@EXAMPLE.COM", "password": "password2", "full_name": "Ada 2"},
    )
    assert_problem(again, 409, "email-already-registered")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "nope", "password": "password1", "full_name": "Ada"}, None),
        ({"email": "a@example.com", "password": "short", "full_name": "Ada"}, "password"),
        ({"email": "a@example.com", "password": "x" * 129, "full_name": "Ada"}, "password"),
        ({"email": "a@example.com", "password": "password1", "full_name": ""}, "full_name"),
        ({"email": "a@example.com", "password": "password1", "full_name": "   "}, None),
        ({"email": "a@example.com", "password": "password1"}, "full_name"),
        ({"email": "a@example.com", "password": 12345678, "full_name": "Ada"}, "password"),
    ],
)
async def test_invalid_registrations_are_422_problems(
    client: AsyncClient, body: dict[str, object], field: str | None
) -> None:
    problem = assert_problem(
        await client.post("/api/v1/users", json=body),
        422,
        "validation-error" if field else problem_slug(body),
    )
    if field:
        assert any(field in error["loc"] for error in problem["errors"])


def problem_slug(body: dict[str, object]) -> str:
    return "invalid-email" if body["email"] == "nope" else "invalid-full-name"


async def test_bad_credentials_are_400_invalid_grant_alike(client: AsyncClient) -> None:
    """RFC 6749 section 5.2: a wrong resource owner password is 400 `invalid_grant` (401 is
    for a client that failed to authenticate, and hexbank has no OAuth2 clients)."""
    await signed_up(client)
    wrong = await client.post(
        "/api/v1/auth/token",
        data={"grant_type": "password", "username": "ada@example.com", "password": "wrong-pass"},
    )
    unknown = await client.post(
        "/api/v1/auth/token",
        data={"grant_type": "password", "username": "bob@example.com", "password": "password1"},
    )
    problem = assert_problem(wrong, 400, "invalid-credentials")
    assert problem == assert_problem(unknown, 400, "invalid-credentials")
    assert (problem["error"], problem["error_description"]) == ("invalid_grant", problem["detail"])
    assert "www-authenticate" not in wrong.headers


@pytest.mark.parametrize(
    "authorization", [None, "Bearer", "Bearer not-a-token", "Basic YWRhOnBhc3N3b3Jk"]
)
async def test_me_without_a_valid_token_is_401(
    client: AsyncClient, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = await client.get("/api/v1/users/me", headers=headers)
    assert_problem(response, 401, "invalid-token")
    assert response.headers["www-authenticate"] == "Bearer"


async def test_no_response_or_log_line_carries_the_password(
    client: AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secret = "hunter2-very-secret"
    created = await client.post(
        "/api/v1/users", json={"email": "s@example.com", "password": secret, "full_name": "S"}
    )
    failed = await client.post(
        "/api/v1/auth/token",
        data={"grant_type": "password", "username": "s@example.com", "password": secret + "x"},
    )
    invalid = await client.post(
        "/api/v1/users", json={"email": "bad", "password": secret, "full_name": "S"}
    )
    logged_in = await client.post(
        "/api/v1/auth/token",
        data={"grant_type": "password", "username": "s@example.com", "password": secret},
    )
    token = logged_in.json()["access_token"]
    await client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}x"})
    for response in (created, failed, invalid):
        assert secret not in response.text
        assert "argon2" not in response.text
    for leak in (secret, "$argon2", token, TEST_SECRET):
        assert leak not in caplog.text


async def test_health(client: AsyncClient) -> None:
    assert (await client.get("/health/live")).json() == {"status": "ok"}
    assert (await client.get("/health/ready")).status_code == 200


async def test_oversized_bodies_are_refused_before_parsing(client: AsyncClient) -> None:
    big = b'{"email": "' + b"a" * (1024 * 1024) + b'"}'
    response = await client.post(
        "/api/v1/users", content=big, headers={"Content-Type": "application/json"}
    )
    assert_problem(response, 413, "payload-too-large")

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(20):
            yield b"x" * 65536

    streamed = await client.post(
        "/api/v1/users", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert_problem(streamed, 413, "payload-too-large")


async def test_unknown_routes_and_methods_are_problems_too(client: AsyncClient) -> None:
    assert_problem(await client.get("/api/v1/nothing-here"), 404, "not-found")
    assert_problem(await client.delete("/api/v1/users/me"), 405, "method-not-allowed")


async def test_the_openapi_document_declares_problem_responses(client: AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    register = document["paths"]["/api/v1/users"]["post"]["responses"]
    assert "application/problem+json" in register["409"]["content"]
    assert (await client.get("/docs")).status_code == 200
