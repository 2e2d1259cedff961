"""Inputs built to break parsers and stores: never a 500, never a partial write."""

from __future__ import annotations

from httpx import AsyncClient

from tests.http.helpers import assert_problem, opened, signed_up

LONE_SURROGATE = '"Ada \\ud800 Lovelace"'  # valid JSON text, invalid Unicode


async def test_lone_surrogates_and_nul_characters_are_422(client: AsyncClient) -> None:
    for field, value in [
        ("full_name", LONE_SURROGATE),
        ("email", '"a\\ud800@example.com"'),
        ("password", '"pass\\udfffword"'),
        ("full_name", '"Ada\\u0000"'),
    ]:
        body = {
            "email": '"x@example.com"',
            "password": '"password1"',
            "full_name": '"X"',
            field: value,
        }
        raw = "{" + ", ".join(f'"{k}": {v}' for k, v in body.items()) + "}"
        response = await client.post(
            "/api/v1/users", content=raw, headers={"Content-Type": "application/json"}
        )
        assert_problem(response, 422, "validation-error")


async def test_deeply_nested_json_is_refused_cleanly(client: AsyncClient) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    response = await client.post(
        "/api/v1/users", content=deep, headers={"Content-Type": "application/json"}
    )
    assert response.status_code in (400, 422)
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_malformed_bodies_and_headers_are_problems(client: AsyncClient) -> None:
    broken = await client.post(
        "/api/v1/users", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert_problem(broken, 422, "validation-error")
    bad_length = await client.post(
        "/api/v1/users",
        content=b"{}",
        headers={"Content-Type": "application/json", "Content-Length": "abc"},
    )
    assert bad_length.status_code == 400
    huge_header = await client.get(
        "/api/v1/users/me", headers={"Authorization": "Bearer " + "x" * 20_000}
    )
    assert_problem(huge_header, 401, "invalid-token")


async def test_unicode_emails_and_names_are_normalized(client: AsyncClient) -> None:
    # "é" precomposed and decomposed are one name; a zero-width space in an email is refused.
    decomposed = "Rene\u0301 D"
    created = await client.post(
        "/api/v1/users",
        json={"email": "rene@example.com", "password": "password1", "full_name": decomposed},
    )
    assert created.json()["full_name"] == "Ren\u00e9 D"
    zero_width = await client.post(
        "/api/v1/users",
        json={"email": "ad\u200ba@example.com", "password": "password1", "full_name": "A"},
    )
    assert_problem(zero_width, 422, "invalid-email")
    only_invisible = await client.post(
        "/api/v1/users",
        json={"email": "z@example.com", "password": "password1", "full_name": "\u200b\u2060"},
    )
    assert_problem(only_invisible, 422, "invalid-full-name")
    internationalized = await client.post(
        "/api/v1/users",
        json={"email": "Jörg@Bücher.example", "password": "password1", "full_name": "Jörg"},
    )
    assert internationalized.status_code == 201
    duplicate = await client.post(
        "/api/v1/users",
        json={"email": "JÖRG@bücher.example", "password": "password1", "full_name": "J"},
    )
    assert_problem(duplicate, 409, "email-already-registered")


async def test_money_fields_accept_json_integers_only(client: AsyncClient) -> None:
    ada = await signed_up(client)
    account = await opened(client, ada)
    for raw in (
        '{"amount": 1e2}',
        '{"amount": "100"}',
        '{"amount": 100.0}',
        '{"amount": true}',
        '{"amount": 99999999999999999999999999}',
        '{"amount": [100]}',
        '{"amount": null}',
        '{"amount": 100, "extra": 1}',
    ):
        response = await client.post(
            f"/api/v1/accounts/{account}/deposits",
            content=raw,
            headers={**ada, "Content-Type": "application/json"},
        )
        assert response.status_code == 422, raw
    assert (await client.get(f"/api/v1/accounts/{account}", headers=ada)).json()["balance"] == 0
