"""The API keeps the promises of its own OpenAPI document: every invalid body is a 422
problem, 405 names every method of the resource, the schema states the limits the service
enforces (from the same constants), and refusals speak in the user's words."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient

from application.use_cases.get_statement import MAX_PAGE_SIZE
from application.use_cases.list_accounts import MAX_ACCOUNTS_PAGE
from domain.currency import MINOR_UNITS
from domain.errors import InsufficientFunds
from domain.money import MAX_MINOR_UNITS
from domain.transfer import DESCRIPTION_MAX_LENGTH
from domain.user import (
    EMAIL_MAX_LENGTH,
    FULL_NAME_MAX_LENGTH,
    PASSWORD_MAX_LENGTH,
    PASSWORD_MIN_LENGTH,
)
from entrypoints.http.problems import _SLUG_BY_STATUS, install_problem_handlers, problem_catalogue
from entrypoints.http.schemas import explain
from entrypoints.observability.metrics import Metrics
from tests.conftest import make_settings, serving
from tests.http.helpers import PROBLEM, assert_problem, opened, payer_and_payee, signed_up

PASSWORD_RULE = f"A password must be {PASSWORD_MIN_LENGTH} to {PASSWORD_MAX_LENGTH} characters long"
PYDANTIC_WORDS = ("should have", "String should", "Value should", "Input should", "items")
NOT_UTF8 = b'{"amount": "\xff\xfe\xfa"}'


async def openapi(client: AsyncClient) -> dict[str, Any]:
    document: dict[str, Any] = (await client.get("/openapi.json")).json()
    return document


def component(document: dict[str, Any], name: str) -> dict[str, Any]:
    schema: dict[str, Any] = document["components"]["schemas"][name]
    return schema


# -- (a) bodies that do not decode ----------------------------------------------------------


async def test_a_body_that_is_not_utf8_is_a_422_on_every_json_route(client: AsyncClient) -> None:
    ada = await signed_up(client)
    account = await opened(client, ada)
    for path in (
        "/api/v1/users",
        "/api/v1/accounts",
        f"/api/v1/accounts/{account}/deposits",
        "/api/v1/transfers",
    ):
        response = await client.post(
            path, content=NOT_UTF8, headers={**ada, "Content-Type": "application/json"}
        )
        problem = assert_problem(response, 422, "validation-error")
        assert problem["detail"] == "The body is not valid UTF-8."
        assert problem["errors"] == [
            {"loc": ["body"], "msg": "The body is not valid UTF-8.", "type": "json_invalid"}
        ]


async def test_a_broken_form_is_a_400_invalid_request_on_the_token_route(
    client: AsyncClient,
) -> None:
    response = await client.post(
        "/api/v1/auth/token",
        content=b"username=a",
        headers={"Content-Type": "multipart/form-data"},  # no boundary
    )
    problem = assert_problem(response, 400, "bad-request")
    assert problem["detail"].startswith("The form could not be read")
    assert problem["error"] == "invalid_request"


async def test_json_nested_too_deep_for_the_parser_is_a_422(client: AsyncClient) -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    response = await client.post(
        "/api/v1/users", content=deep, headers={"Content-Type": "application/json"}
    )
    assert_problem(response, 422, "validation-error")


# -- (b) 405 and Allow ---------------------------------------------------------------------


async def test_405_allows_exactly_the_documented_methods_of_every_path(
    client: AsyncClient,
) -> None:
    ada = await signed_up(client)
    account = await opened(client, ada)
    document = await openapi(client)
    checked = 0
    for template, operations in document["paths"].items():
        path = template.replace("{account_id}", account).replace("{transfer_id}", account)
        documented = {method.upper() for method in operations}
        # HEAD comes with GET, and OPTIONS is answered everywhere (test_http_semantics.py).
        expected = documented | {"OPTIONS"} | ({"HEAD"} if "GET" in documented else set())
        for method in {"GET", "POST", "PUT", "PATCH", "DELETE"} - documented:
            response = await client.request(method, path, headers=ada)
            assert_problem(response, 405, "method-not-allowed")
            allowed = {name.strip() for name in response.headers["allow"].split(",")}
            assert allowed == expected, (method, template, response.headers["allow"])
            checked += 1
    assert checked >= 40


async def test_405_on_a_path_served_by_two_routes_names_both(client: AsyncClient) -> None:
    response = await client.delete("/api/v1/accounts")
    problem = assert_problem(response, 405, "method-not-allowed")
    assert response.headers["allow"] == "GET, HEAD, OPTIONS, POST"
    assert problem["detail"] == (
        "DELETE is not allowed here; this resource takes GET, HEAD, OPTIONS, POST."
    )


# -- (c) the schema states the real limits ------------------------------------------------


async def test_the_schema_takes_its_limits_from_the_domain(client: AsyncClient) -> None:
    document = await openapi(client)
    user = component(document, "RegisterUserIn")["properties"]
    assert user["email"]["format"] == "email"
    assert user["email"]["maxLength"] == EMAIL_MAX_LENGTH
    assert (user["password"]["minLength"], user["password"]["maxLength"]) == (
        PASSWORD_MIN_LENGTH,
        PASSWORD_MAX_LENGTH,
    )
    assert "pattern" in user["password"]
    assert user["full_name"]["maxLength"] == FULL_NAME_MAX_LENGTH
    assert user["full_name"]["pattern"] == r"^[^\x00-\x1F\x7F-\x9F]*$"

    transfer = component(document, "TransferIn")["properties"]
    description = transfer["description"]["anyOf"][0]
    assert description["maxLength"] == DESCRIPTION_MAX_LENGTH
    assert description["pattern"] == user["full_name"]["pattern"]
    assert transfer["currency"] == {"$ref": "#/components/schemas/Currency"}
    assert component(document, "Currency")["enum"] == sorted(MINOR_UNITS)
    for name in ("TransferIn", "DepositIn"):
        amount = component(document, name)["properties"]["amount"]
        # Integer bounds, exact (not FastAPI's float 9.223372036854776e+18).
        assert (amount["minimum"], amount["maximum"]) == (1, MAX_MINOR_UNITS)
        assert amount["format"] == "int64"

    token_form = document["paths"]["/api/v1/auth/token"]["post"]["requestBody"]["content"]
    form_ref = token_form["application/x-www-form-urlencoded"]["schema"]["$ref"]
    form_schema = component(document, form_ref.rsplit("/", 1)[-1])
    assert set(form_schema["required"]) == {"grant_type", "username", "password"}
    form = form_schema["properties"]
    assert form["grant_type"]["pattern"] == "^password$"
    assert form["username"]["format"] == "email"
    assert form["password"]["maxLength"] == PASSWORD_MAX_LENGTH

    entries = document["paths"]["/api/v1/accounts/{account_id}/entries"]["get"]
    limit = next(p for p in entries["parameters"] if p["name"] == "limit")
    assert limit["schema"]["maximum"] == MAX_PAGE_SIZE


async def test_an_amount_past_the_books_range_is_refused_before_the_database(
    client: AsyncClient,
) -> None:
    ada, _, source, destination = await payer_and_payee(client)
    for amount in (MAX_MINOR_UNITS + 1, 2**64, 10**30):
        deposit = await client.post(
            f"/api/v1/accounts/{source}/deposits", json={"amount": amount}, headers=ada
        )
        problem = assert_problem(deposit, 422, "validation-error")
        assert problem["errors"][0]["loc"] == ["body", "amount"]
        assert str(MAX_MINOR_UNITS) in problem["detail"]
        transfer = await client.post(
            "/api/v1/transfers",
            json={
                "from_account_id": source,
                "to_account_id": destination,
                "amount": amount,
                "currency": "EUR",
            },
            headers=ada,
        )
        assert_problem(transfer, 422, "validation-error")


async def test_the_largest_amount_the_schema_allows_is_served(
    database_url: str, tmp_path: Path
) -> None:
    settings = make_settings(database_url, tmp_path, max_transfer_amount=MAX_MINOR_UNITS)
    async with serving(settings, database_url) as client:
        ada = await signed_up(client)
        account = await opened(client, ada)
        deposit = await client.post(
            f"/api/v1/accounts/{account}/deposits", json={"amount": MAX_MINOR_UNITS}, headers=ada
        )
        assert deposit.status_code == 201, deposit.text
        balance = (await client.get(f"/api/v1/accounts/{account}", headers=ada)).json()
        assert balance["balance"] == MAX_MINOR_UNITS


async def test_data_at_the_documented_limits_is_accepted(client: AsyncClient) -> None:
    created = await client.post(
        "/api/v1/users",
        json={
            "email": "limits@example.com",
            "password": "ü" * PASSWORD_MAX_LENGTH,
            "full_name": "Ä" * FULL_NAME_MAX_LENGTH,
        },
    )
    assert created.status_code == 201, created.text
    token = await client.post(
        "/api/v1/auth/token",
        data={
            "grant_type": "password",
            "username": "limits@example.com",
            "password": "ü" * PASSWORD_MAX_LENGTH,
        },
    )
    assert token.status_code == 200, token.text
    ada, _, source, destination = await payer_and_payee(client)
    transfer = await client.post(
        "/api/v1/transfers",
        json={
            "from_account_id": source,
            "to_account_id": destination,
            "amount": 1,
            "currency": "EUR",
            "description": "é" * DESCRIPTION_MAX_LENGTH,
        },
        headers=ada,
    )
    assert transfer.status_code == 201, transfer.text


async def test_control_characters_are_refused_by_the_schema(client: AsyncClient) -> None:
    for field, value in [
        ("full_name", "Ada\x07"),
        ("full_name", "Ada\x85"),
        ("password", "a\x00" * 5),
    ]:
        body = {"email": "c@example.com", "password": "password1", "full_name": "Ada", field: value}
        problem = assert_problem(
            await client.post("/api/v1/users", json=body), 422, "validation-error"
        )
        assert problem["errors"][0]["loc"] == ["body", field]
    nul_email = {"email": "a\x00@example.com", "password": "password1", "full_name": "Ada"}
    problem = assert_problem(
        await client.post("/api/v1/users", json=nul_email), 422, "validation-error"
    )
    assert problem["detail"] == "Text cannot contain NUL characters."
    ada, _, source, destination = await payer_and_payee(client)
    transfer = await client.post(
        "/api/v1/transfers",
        json={
            "from_account_id": source,
            "to_account_id": destination,
            "amount": 1,
            "currency": "EUR",
            "description": "rent\r\nX-Injected: yes",
        },
        headers=ada,
    )
    problem = assert_problem(transfer, 422, "validation-error")
    assert problem["detail"] == (
        f"A description is at most {DESCRIPTION_MAX_LENGTH} characters long, "
        "with no control characters or lone surrogates."
    )


async def test_a_swagger_ui_login_with_its_extra_fields_is_served(client: AsyncClient) -> None:
    await signed_up(client, "ada@example.com")
    token = await client.post(
        "/api/v1/auth/token",
        data={
            "grant_type": "password",
            "username": "ada@example.com",
            "password": "password1",
            "scope": "",
            "client_id": "swagger",
        },
    )
    assert token.status_code == 200, token.text
    wrong_grant = await client.post(
        "/api/v1/auth/token",
        data={
            "grant_type": "client_credentials",
            "username": "ada@example.com",
            "password": "x" * 8,
        },
    )
    problem = assert_problem(wrong_grant, 400, "unsupported-grant-type")
    assert problem["detail"] == "The only grant type is `password`."
    assert problem["error"] == "unsupported_grant_type"


# -- messages in the user's words ---------------------------------------------------------


async def test_a_single_refused_field_is_the_detail_in_plain_words(client: AsyncClient) -> None:
    for password in ("short", "x" * (PASSWORD_MAX_LENGTH + 1)):
        response = await client.post(
            "/api/v1/users",
            json={"email": "a@example.com", "password": password, "full_name": "Ada"},
        )
        problem = assert_problem(response, 422, "validation-error")
        assert problem["detail"].startswith(PASSWORD_RULE)
        assert problem["errors"] == [
            {
                "loc": ["body", "password"],
                "msg": problem["detail"],
                "type": "string_too_short" if password == "short" else "string_too_long",
            }
        ]
        assert not any(words in response.text for words in PYDANTIC_WORDS)


async def test_several_refused_fields_each_get_a_sentence(client: AsyncClient) -> None:
    response = await client.post(
        "/api/v1/users", json={"email": "a@example.com", "password": "short", "surname": "L"}
    )
    problem = assert_problem(response, 422, "validation-error")
    assert problem["detail"] == "The request is not valid; see `errors`."
    messages = {tuple(error["loc"]): error["msg"] for error in problem["errors"]}
    assert messages[("body", "password")].startswith(PASSWORD_RULE)
    assert messages[("body", "full_name")] == "`full_name` is required."
    assert messages[("body", "surname")] == "`surname` is not a field of this request."
    assert not any(words in response.text for words in PYDANTIC_WORDS)


async def test_query_header_and_path_refusals_are_in_plain_words(client: AsyncClient) -> None:
    ada = await signed_up(client)
    account = await opened(client, ada)
    page = await client.get(f"/api/v1/accounts/{account}/entries", params={"limit": 0}, headers=ada)
    assert assert_problem(page, 422, "validation-error")["detail"] == (
        f"A page holds 1 to {MAX_PAGE_SIZE} items, or 1 to {MAX_ACCOUNTS_PAGE} accounts."
    )
    key = await client.post(
        f"/api/v1/accounts/{account}/deposits",
        json={"amount": 1},
        headers={**ada, "Idempotency-Key": "with space"},
    )
    assert (
        "Idempotency-Key is 1 to 255 visible ASCII characters"
        in (assert_problem(key, 422, "validation-error")["detail"])
    )
    path = await client.get("/api/v1/accounts/not-a-uuid", headers=ada)
    assert assert_problem(path, 422, "validation-error")["detail"] == "An account id is a UUID."
    not_an_object = await client.post("/api/v1/accounts", json=["EUR"], headers=ada)
    assert assert_problem(not_an_object, 422, "validation-error")["detail"] == (
        "The body must be a JSON object."
    )


def test_explain_keeps_pydantic_words_only_for_what_it_does_not_know() -> None:
    assert explain(("body", "amount"), "less_than_equal", "x").endswith(f"{MAX_MINOR_UNITS}.")
    assert explain(("body", "email"), "string_too_long", "x") == (
        f"An email address must be 3 to {EMAIL_MAX_LENGTH} characters long, "
        "such as ada@example.com."
    )
    assert explain(("body",), "missing", "x") == "A request body is required."
    assert explain(("body", "email"), "value_error", "Value error, Text cannot contain NUL.") == (
        "Text cannot contain NUL."
    )
    assert explain(("body", 3), "json_invalid", "x") == "The body is not valid JSON."
    assert explain(("query", "unheard_of"), "int_parsing", "Pydantic's words") == (
        "Pydantic's words"
    )


async def test_json_sent_to_the_token_route_is_told_to_send_form_fields(
    client: AsyncClient,
) -> None:
    await signed_up(client)
    response = await client.post(
        "/api/v1/auth/token",
        json={"grant_type": "password", "username": "ada@example.com", "password": "password1"},
    )
    problem = assert_problem(response, 400, "bad-request")
    assert (problem["error"], problem["error_description"]) == (
        "invalid_request",
        problem["detail"],
    )
    for hint in ("form", "`username`", "`password`", "application/x-www-form-urlencoded"):
        assert hint in problem["detail"]


# -- replayed refusals ---------------------------------------------------------------------


async def refusal(replayed: bool | None) -> tuple[int, dict[str, str], dict[str, Any]]:
    """A bare app with our problem handlers, whose one route refuses."""
    app = FastAPI()
    app.state.metrics = Metrics()
    install_problem_handlers(app)

    @app.post("/refuse")
    async def refuse() -> None:
        error = InsufficientFunds("Not enough money.")
        if replayed is not None:
            error.replayed = replayed
        raise error

    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as http:
        response = await http.post("/refuse")
    assert response.headers["content-type"].startswith(PROBLEM)
    return response.status_code, dict(response.headers), response.json()


async def test_a_replayed_refusal_carries_idempotent_replayed() -> None:
    status, headers, body = await refusal(replayed=True)
    assert (status, headers["idempotent-replayed"]) == (422, "true")
    assert body["type"].endswith("/insufficient-funds")
    for fresh in (False, None):
        status, headers, _ = await refusal(replayed=fresh)
        assert status == 422
        assert "idempotent-replayed" not in headers


async def test_every_problem_type_is_declared_in_the_spec(client: AsyncClient) -> None:
    """The spec lists each slug the service can answer with its status: a client can switch
    on `type` knowing every value it may meet."""
    document = await openapi(client)
    declared = document["x-problem-types"]
    assert declared == {
        slug: {"status": status, "meaning": meaning}
        for slug, (status, meaning) in problem_catalogue().items()
    }
    for status, slug in _SLUG_BY_STATUS.items():
        assert declared[slug]["status"] == status
    assert "| `insufficient-funds` | 422 |" in document["info"]["description"]
