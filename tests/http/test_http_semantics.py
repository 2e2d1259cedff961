"""HTTP as generic clients expect it: 415 for a body that is not JSON, HEAD on every GET,
OPTIONS with `Allow`, CORS only when configured, and gzip for answers of 1 KiB or more."""

from __future__ import annotations

import http.client
import logging
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from entrypoints.app import create_app
from entrypoints.http.compression import Compression, accepts_gzip
from entrypoints.http.docs import ASSETS, ASSETS_URL
from entrypoints.settings import Settings
from tests.conftest import make_settings, serving
from tests.http.helpers import assert_problem, opened, payer_and_payee, signed_up
from tests.in_memory import container_for
from tests.ports import free_port

ORIGIN = "https://app.example.com"
VARYING = {"date", "x-request-id", "hexbank-signature"}
"""Differ from one answer to the next: a statement's signature covers when it was made."""


async def openapi(client: AsyncClient) -> dict[str, Any]:
    document: dict[str, Any] = (await client.get("/openapi.json")).json()
    return document


def concrete(template: str, account: str, transfer: str) -> str:
    return (
        template.replace("{account_id}", account)
        .replace("{transfer_id}", transfer)
        .replace("{endpoint_id}", "00000000-0000-4000-8000-000000000000")
    )


async def a_transfer(client: AsyncClient) -> tuple[dict[str, str], str, str]:
    ada, _, source, destination = await payer_and_payee(client)
    made = await client.post(
        "/api/v1/transfers",
        json={
            "from_account_id": source,
            "to_account_id": destination,
            "amount": 5,
            "currency": "EUR",
            "pending": True,
        },
        headers=ada,
    )
    assert made.status_code == 201, made.text
    return ada, source, made.json()["id"]


# -- 415 ----------------------------------------------------------------------------------


async def test_a_body_that_is_not_json_is_415_on_every_json_route(client: AsyncClient) -> None:
    ada, account, transfer = await a_transfer(client)
    document = await openapi(client)
    checked = 0
    for template, operations in document["paths"].items():
        for method, operation in operations.items():
            if "application/json" not in operation.get("requestBody", {}).get("content", {}):
                continue
            path = concrete(template, account, transfer)
            for content_type in (None, "text/plain", "application/x-www-form-urlencoded"):
                headers = {**ada, **({"Content-Type": content_type} if content_type else {})}
                response = await client.request(
                    method, path, content=b'{"amount": 1}', headers=headers
                )
                problem = assert_problem(response, 415, "unsupported-media-type")
                assert "application/json" in problem["detail"], problem
                accept = "accept-patch" if method == "patch" else "accept-post"
                assert response.headers[accept] == "application/json"
                checked += 1
    assert checked == 15 * 3  # api_keys, conversions, monitors and three webhook routes
    # Nothing moved: the hold is still pending, the balance untouched.
    held = (await client.get(f"/api/v1/transfers/{transfer}", headers=ada)).json()
    assert held["status"] == "pending"
    assert (await client.get(f"/api/v1/accounts/{account}", headers=ada)).json()["balance"] == 1000


async def test_an_optional_body_may_be_left_out_without_a_content_type(
    client: AsyncClient,
) -> None:
    ada, _, transfer = await a_transfer(client)
    posted = await client.post(f"/api/v1/transfers/{transfer}/post", headers=ada)
    assert posted.status_code == 200, posted.text
    assert posted.json()["status"] == "posted"


async def test_json_with_a_json_content_type_is_still_read(client: AsyncClient) -> None:
    ada = await signed_up(client)
    for content_type in ("application/json", "application/json; charset=utf-8"):
        response = await client.post(
            "/api/v1/accounts",
            content=b'{"currency": "EUR"}',
            headers={**ada, "Content-Type": content_type},
        )
        assert response.status_code == 201, response.text


# -- HEAD and OPTIONS ---------------------------------------------------------------------


async def test_head_answers_every_get_route_with_gets_headers_and_no_body(
    client: AsyncClient,
) -> None:
    ada, account, transfer = await a_transfer(client)
    document = await openapi(client)
    paths = [
        concrete(template, account, transfer)
        for template, operations in document["paths"].items()
        if "get" in operations
    ]
    paths += ["/", "/openapi.json", "/docs", "/redoc", f"{ASSETS_URL}/swagger/swagger-ui.css"]
    for path in paths:
        for headers in (ada, {**ada, "Accept-Encoding": "gzip"}, {}):
            got = await client.get(path, headers=headers)
            head = await client.head(path, headers=headers)
            assert head.status_code == got.status_code, (path, head.status_code)
            assert head.content == b"", path
            same = {k: v for k, v in got.headers.items() if k not in VARYING}
            assert {k: v for k, v in head.headers.items() if k not in VARYING} == same, path
    assert len(paths) >= 16


@contextmanager
def live(app: FastAPI, implementation: str) -> Iterator[int]:
    """The app behind a real uvicorn on a free loopback port, stopped even if the test fails."""
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, http=implementation, log_config=None, access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            assert thread.is_alive(), "uvicorn stopped before it started"
            assert time.monotonic() < deadline, "uvicorn did not start in 30 s"
            time.sleep(0.02)
        yield port
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@pytest.mark.parametrize("implementation", ["httptools", "h11"])
def test_head_then_get_on_one_connection_of_a_real_server(
    settings: Settings, database_url: str, implementation: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The server sees HEAD while the app answers it as GET: it expects no body, and the
    keep-alive connection serves the next request."""
    app = create_app(container_for(settings, database_url))
    caplog.set_level(logging.ERROR)
    with live(app, implementation) as port:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            for path in ("/health/live", "/openapi.json"):
                connection.request("HEAD", path, headers={"Accept-Encoding": "gzip"})
                head = connection.getresponse()
                assert (head.status, head.read()) == (200, b""), path
                connection.request("GET", path, headers={"Accept-Encoding": "gzip"})
                got = connection.getresponse()
                body = got.read()
                assert got.status == 200, path
                assert len(body) == int(got.headers["Content-Length"]) > 0, path
                assert head.headers["Content-Length"] == got.headers["Content-Length"], path
        finally:
            connection.close()
    # The metrics outside saw HEAD, and the route that served it.
    metrics = app.state.metrics.render().decode()
    counted = [
        line
        for line in metrics.splitlines()
        if line.startswith("hexbank_http_requests_total{")
        and 'method="HEAD"' in line
        and 'route="/health/live"' in line
    ]
    assert len(counted) == 1, counted
    assert counted[0].endswith(" 1.0"), counted
    errors = [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert errors == [], [record.getMessage() for record in errors]


async def test_head_on_a_route_without_get_is_405(client: AsyncClient) -> None:
    response = await client.head("/api/v1/transfers/batch")
    assert response.status_code == 405
    assert response.content == b""
    assert response.headers["allow"] == "OPTIONS, POST"


async def test_options_answers_204_with_allow_on_every_path(client: AsyncClient) -> None:
    _, account, transfer = await a_transfer(client)
    document = await openapi(client)
    for template, operations in document["paths"].items():
        response = await client.options(concrete(template, account, transfer))
        assert response.status_code == 204, (template, response.text)
        assert response.content == b""
        expected = {method.upper() for method in operations} | {"OPTIONS"}
        if "GET" in expected:
            expected.add("HEAD")
        assert set(response.headers["allow"].split(", ")) == expected, template
    assert (await client.options("/api/v1/accounts")).headers["allow"] == (
        "GET, HEAD, OPTIONS, POST"
    )
    assert_problem(await client.options("/nowhere"), 404, "not-found")


async def test_options_on_the_static_files_names_what_they_take(client: AsyncClient) -> None:
    """The mounted static files are no route with methods: their own 405 says GET and HEAD."""
    for name in ("swagger/swagger-ui.css", "swagger/missing.css"):
        response = await client.options(f"{ASSETS_URL}/{name}")
        assert response.status_code == 204, (name, response.text)
        assert response.headers["allow"] == "GET, HEAD, OPTIONS", name
        posted = await client.post(f"{ASSETS_URL}/{name}")
        assert_problem(posted, 405, "method-not-allowed")
        assert posted.headers["allow"] == "GET, HEAD, OPTIONS", name
    assert (await client.get(f"{ASSETS_URL}/swagger/missing.css")).status_code == 404


# -- CORS ---------------------------------------------------------------------------------


def preflight(origin: str, method: str = "POST") -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": "authorization, content-type, idempotency-key",
    }


def cors_headers(headers: Any) -> set[str]:
    return {name for name in headers if name.lower().startswith("access-control-")}


async def test_cors_is_off_by_default(client: AsyncClient) -> None:
    response = await client.options("/api/v1/transfers", headers=preflight(ORIGIN))
    assert response.status_code == 204
    assert response.headers["allow"] == "GET, HEAD, OPTIONS, POST"
    assert cors_headers(response.headers) == set()
    simple = await client.get("/health/live", headers={"Origin": ORIGIN})
    assert cors_headers(simple.headers) == set()


async def test_cors_origins_turn_it_on_for_those_origins_only(
    database_url: str, tmp_path: Path
) -> None:
    settings = make_settings(database_url, tmp_path, cors_origins=[ORIGIN, "http://localhost:5173"])
    async with serving(settings, database_url) as client:
        allowed = await client.options("/api/v1/transfers", headers=preflight(ORIGIN))
        assert allowed.status_code == 200, allowed.text
        assert allowed.headers["access-control-allow-origin"] == ORIGIN
        assert "POST" in allowed.headers["access-control-allow-methods"]
        allowed_headers = allowed.headers["access-control-allow-headers"].lower()
        for header in ("authorization", "content-type", "idempotency-key"):
            assert header in allowed_headers
        assert "access-control-allow-credentials" not in allowed.headers

        ada = await signed_up(client)
        account = await opened(client, ada)
        deposit = await client.post(
            f"/api/v1/accounts/{account}/deposits",
            json={"amount": 10},
            headers={**ada, "Origin": ORIGIN, "Idempotency-Key": "cors-1"},
        )
        assert deposit.status_code == 201
        assert deposit.headers["access-control-allow-origin"] == ORIGIN
        exposed = deposit.headers["access-control-expose-headers"].lower()
        for header in ("idempotent-replayed", "retry-after", "x-request-id", "location"):
            assert header in exposed
        refused = await client.get("/api/v1/users/me", headers={"Origin": ORIGIN})
        assert refused.status_code == 401
        assert refused.headers["access-control-allow-origin"] == ORIGIN

        stranger = await client.options(
            "/api/v1/transfers", headers=preflight("https://evil.example")
        )
        problem = assert_problem(stranger, 400, "cross-origin-refused")
        assert "origin" in problem["detail"]
        assert cors_headers(stranger.headers) == set()
        simple = await client.get("/health/live", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in simple.headers

        bad_method = await client.options(
            "/api/v1/transfers", headers=preflight(ORIGIN, method="DELETE")
        )
        assert "method" in assert_problem(bad_method, 400, "cross-origin-refused")["detail"]
        # An OPTIONS that is no preflight is the plain one, CORS on or off.
        plain = await client.options("/api/v1/transfers")
        assert (plain.status_code, plain.headers["allow"]) == (204, "GET, HEAD, OPTIONS, POST")


# -- gzip ---------------------------------------------------------------------------------


async def test_answers_of_1_kib_or_more_are_gzipped_when_accepted(client: AsyncClient) -> None:
    spec = await client.get("/openapi.json", headers={"Accept-Encoding": "gzip"})
    assert spec.headers["content-encoding"] == "gzip"
    assert int(spec.headers["content-length"]) < len(spec.content) / 4
    assert "Accept-Encoding" in spec.headers["vary"]
    plain = await client.get("/openapi.json", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert plain.json() == spec.json()

    ada = await signed_up(client)
    account = await opened(client, ada)
    small = await client.get(
        f"/api/v1/accounts/{account}", headers={**ada, "Accept-Encoding": "gzip"}
    )
    assert len(small.content) < 1024
    assert "content-encoding" not in small.headers

    # A problem of more than 1 KiB is compressed and reads the same.
    fields = {f"unknown_{n}": n for n in range(40)}
    big = await client.post(
        "/api/v1/accounts",
        json={"currency": "EUR", **fields},
        headers={**ada, "Accept-Encoding": "gzip"},
    )
    assert big.headers["content-encoding"] == "gzip"
    assert len(assert_problem(big, 422, "validation-error")["errors"]) == 40


async def test_a_streamed_file_is_compressed_whole(client: AsyncClient) -> None:
    """Static files are sent in chunks (`more_body`): compressed as a stream, they still
    decompress to the file's bytes."""
    name = "swagger/swagger-ui-bundle.js"
    response = await client.get(f"{ASSETS_URL}/{name}", headers={"Accept-Encoding": "gzip"})
    assert response.headers["content-encoding"] == "gzip"
    assert response.content == (ASSETS / name).read_bytes()  # httpx decompressed it
    assert "content-length" not in response.headers  # compressed as it streamed


async def test_a_stream_of_small_chunks_is_compressed_whole_and_read_back() -> None:
    """Chunks each under the minimum size are still one stream to compress, not 'small'."""

    async def chunks() -> AsyncIterator[bytes]:
        for n in range(200):
            yield f'{{"n": {n}}}\n'.encode()

    async def streamed(scope: Scope, receive: Receive, send: Send) -> None:
        await StreamingResponse(chunks(), media_type="application/x-ndjson")(scope, receive, send)

    app = Compression(streamed, minimum_size=1024, compresslevel=6)
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as http:
        zipped = await http.get("/", headers={"Accept-Encoding": "gzip"})
        plain = await http.get("/", headers={"Accept-Encoding": "identity"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert "content-encoding" not in plain.headers
    expected = b"".join([f'{{"n": {n}}}\n'.encode() for n in range(200)])
    assert zipped.content == plain.content == expected


def raw_answer(status: int, headers: list[tuple[bytes, bytes]], *chunks: bytes) -> Any:
    """An ASGI app that answers with exactly these messages: the chunks as a stream."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": status, "headers": list(headers)})
        for chunk in chunks:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    return app


async def test_no_body_is_ever_compressed() -> None:
    """204 and 304 carry no body, even when an app streams empty chunks for them: a gzip
    stream of nothing would be 20 bytes the client does not expect on the connection."""
    for status in (204, 304):
        app = Compression(raw_answer(status, [], b""), minimum_size=1, compresslevel=6)
        async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as http:
            response = await http.get("/", headers={"Accept-Encoding": "gzip"})
        assert response.status_code == status
        assert "content-encoding" not in response.headers
        assert response.content == b""
    empty = Compression(raw_answer(200, []), minimum_size=1, compresslevel=6)
    async with AsyncClient(transport=ASGITransport(app=empty), base_url="http://t") as http:
        response = await http.get("/", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in response.headers
    assert response.content == b""


def test_the_gzip_minimum_is_at_least_one_byte(database_url: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="gzip_min_bytes"):
        make_settings(database_url, tmp_path, gzip_min_bytes=0)
    with pytest.raises(ValueError, match="empty body"):
        Compression(raw_answer(204, []), minimum_size=0, compresslevel=6)
    assert make_settings(database_url, tmp_path, gzip_min_bytes=1).gzip_min_bytes == 1


@pytest.mark.parametrize(
    ("accept_encoding", "accepted"),
    [
        ("gzip", True),
        ("GZIP", True),
        ("x-gzip", True),
        ("br, gzip;q=0.5", True),
        ("gzip ; q=1.0", True),
        ("*", True),
        ("deflate, *;q=0.1", True),
        ("gzip;q=0", False),
        ("gzip;q=0.000", False),
        ("gzip;q=0, *", False),  # named and refused: `*` is for the codings not named
        ("*;q=0", False),
        ("notgzipreally", False),
        ("gzipped", False),
        ("identity", False),
        ("br, deflate", False),
        ("gzip;q=banana", False),
        ("gzip;q=2", False),
        ("", False),
    ],
)
def test_accept_encoding_is_read_with_its_q_values(accept_encoding: str, accepted: bool) -> None:
    assert accepts_gzip([(b"accept-encoding", accept_encoding.encode())]) is accepted


def test_accept_encoding_may_come_in_several_headers() -> None:
    headers = [(b"accept-encoding", b"br"), (b"accept-encoding", b"gzip;q=0.2")]
    assert accepts_gzip(headers)
    assert not accepts_gzip([(b"accept-encoding", b"gzip;q=0"), (b"accept-encoding", b"*")])


async def test_gzip_refused_with_q_0_is_not_sent(client: AsyncClient) -> None:
    for refusal in ("gzip;q=0", "notgzipreally", "identity, *;q=0"):
        spec = await client.get("/openapi.json", headers={"Accept-Encoding": refusal})
        assert "content-encoding" not in spec.headers, refusal
        assert spec.headers["vary"] == "Accept-Encoding"
        assert spec.json()["openapi"]
    starred = await client.get("/openapi.json", headers={"Accept-Encoding": "*"})
    assert starred.headers["content-encoding"] == "gzip"


async def test_every_answer_that_could_be_compressed_varies_on_accept_encoding(
    client: AsyncClient,
) -> None:
    """Small answers and answers to clients without gzip too: a cache must not give the
    gzipped copy to a client that cannot read it."""
    for headers in ({}, {"Accept-Encoding": "gzip"}, {"Accept-Encoding": "identity"}):
        small = await client.get("/health/live", headers=headers)
        assert "content-encoding" not in small.headers
        assert small.headers.get_list("vary") == ["Accept-Encoding"], headers
        big = await client.get("/openapi.json", headers=headers)
        assert big.headers.get_list("vary") == ["Accept-Encoding"], headers
        refused = await client.get("/api/v1/users/me", headers=headers)
        assert refused.headers.get_list("vary") == ["Accept-Encoding"], headers
    options = await client.options("/api/v1/accounts")
    assert (options.status_code, "vary" in options.headers) == (204, False)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ([], ["Accept-Encoding"]),
        ([b"Origin"], ["Origin, Accept-Encoding"]),
        ([b"accept-encoding"], ["accept-encoding"]),
        ([b"Origin, Accept-Encoding"], ["Origin, Accept-Encoding"]),
        ([b"Origin", b"Accept-Encoding"], ["Origin", "Accept-Encoding"]),
        ([b"*"], ["*"]),
    ],
)
async def test_vary_names_accept_encoding_once(given: list[bytes], expected: list[str]) -> None:
    headers = [(b"content-type", b"application/json"), *((b"vary", value) for value in given)]
    for body, accept in ((b"{}", "gzip"), (b"[" + b"1," * 1000 + b"1]", "gzip"), (b"{}", "br")):
        app = Compression(raw_answer(200, headers, body), minimum_size=1024, compresslevel=6)
        async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as http:
            response = await http.get("/", headers={"Accept-Encoding": accept})
        assert response.headers.get_list("vary") == expected, (given, len(body), accept)


async def test_content_that_is_never_compressed_does_not_vary() -> None:
    for headers in (
        [(b"content-type", b"image/png")],
        [(b"content-type", b"application/json"), (b"content-encoding", b"br")],
    ):
        body = b"x" * 4096
        app = Compression(raw_answer(200, headers, body), minimum_size=1024, compresslevel=6)
        async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as http:
            response = await http.get("/", headers={"Accept-Encoding": "gzip"})
        assert "vary" not in response.headers
        assert response.headers.get("content-encoding") != "gzip"
