"""What a webhook transport must do, the recording fake and httpx alike: answer the status the
receiver gave. And what the httpx one does on the wire, to a real receiver on loopback: it
connects to the address it is given (the one the guard checked), never to a new resolution of
the URL's name, which still goes in `Host`; it gives up after its timeout; a refused
connection is an error, not an exception."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import ssl
import time
import warnings
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from adapters.http_webhooks import StreamWebhookTransport
from adapters.in_memory.webhooks import RecordingWebhookTransport
from application.ports.webhooks import WebhookTransport
from tests.webhook_receiver import receiving

HEADERS = {"Content-Type": "application/json", "Hexbank-Event-Id": "e1"}


async def request_read(reader: asyncio.StreamReader) -> bytes:
    """One request off the wire, head and body; its head."""
    head = await reader.readuntil(b"\r\n\r\n")
    await reader.readexactly(int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0]))
    return head


async def listening(
    handler: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]],
) -> tuple[asyncio.Server, str]:
    """A receiver on loopback that answers each connection with `handler`; and its URL."""
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    return server, f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/in"


@pytest.mark.parametrize("kind", ["fake", "stream"])
async def test_a_post_answers_the_receivers_status(kind: str) -> None:
    async with receiving(status=202) as receiver:
        transport: WebhookTransport = (
            RecordingWebhookTransport(202) if kind == "fake" else StreamWebhookTransport()
        )
        try:
            response = await transport.post(receiver.url, "127.0.0.1", b"{}", HEADERS)
        finally:
            await transport.close()
    assert (response.status_code, response.error) == (202, None)


async def test_it_connects_to_the_checked_address_and_names_the_urls_host() -> None:
    transport = StreamWebhookTransport()
    async with receiving() as receiver:
        url = f"http://hooks.invalid:{receiver.port}/in?x=1"  # a name no resolver knows
        try:
            response = await transport.post(url, "127.0.0.1", b'{"a":1}', HEADERS)
        finally:
            await transport.close()
    assert response.status_code == 200
    [received] = receiver.received
    assert received.path == "/in?x=1"
    assert received.headers["host"] == f"hooks.invalid:{receiver.port}"
    assert received.headers["hexbank-event-id"] == "e1"
    assert received.body == b'{"a":1}'


async def test_no_answer_in_time_and_a_refused_connection_are_errors() -> None:
    transport = StreamWebhookTransport(timeout_s=0.3)
    try:
        async with receiving(delay_s=5) as hanging:
            started = time.perf_counter()
            late = await transport.post(hanging.url, "127.0.0.1", b"{}", HEADERS)
            took = time.perf_counter() - started
            hanging.release()
        async with receiving() as gone:
            url = gone.url
        refused = await transport.post(url, "127.0.0.1", b"{}", HEADERS)
    finally:
        await transport.close()
    assert (late.status_code, late.error) == (None, "no answer within 0.3 s")
    assert took < 2
    assert refused.status_code is None
    assert refused.error is not None
    assert refused.error.startswith("ConnectError")


async def test_it_keeps_a_connection_for_the_next_post_and_mends_one_the_receiver_closed() -> None:
    transport = StreamWebhookTransport()
    connections = 0

    async def counted(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        try:
            while True:
                head = await request_read(reader)
                writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
                await writer.drain()
                if connections == 1 and b"close-after" in head:
                    break  # the receiver drops the kept connection
        except asyncio.IncompleteReadError:
            pass
        finally:
            writer.close()

    server, url = await listening(counted)
    try:
        first = await transport.post(url, "127.0.0.1", b"{}", HEADERS)
        second = await transport.post(url, "127.0.0.1", b"{}", {**HEADERS, "X-Mark": "close-after"})
        assert connections == 1  # kept alive
        await asyncio.sleep(0.05)
        third = await transport.post(url, "127.0.0.1", b"{}", HEADERS)  # sent again, on a new one
    finally:
        await transport.close()
        server.close()
    assert [r.status_code for r in (first, second, third)] == [204, 204, 204]
    assert connections == 2


@pytest.mark.parametrize(
    ("answer", "status", "error"),
    [
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 200, None),
        (b"HTTP/1.1 201 OK\r\nContent-Length: 99999999\r\n\r\n", 201, None),
        (
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n",
            202,
            None,
        ),
        (b"SSH-2.0-OpenSSH\r\n\r\n", None, "ValueError"),
        (b"HTTP/1.1 200 OK\r\nX: " + b"a" * 70_000 + b"\r\n\r\n", None, "LimitOverrunError"),
    ],
)
async def test_answers_that_cannot_be_reused_close_and_garbage_is_an_error(
    answer: bytes, status: int | None, error: str | None
) -> None:
    async def answering(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await request_read(reader)
        writer.write(answer)
        await writer.drain()
        await asyncio.sleep(0.2)
        writer.close()

    server, url = await listening(answering)
    transport = StreamWebhookTransport(timeout_s=2)
    try:
        response = await transport.post(url, "127.0.0.1", b"{}", HEADERS)
        kept = sum(len(idle) for idle in transport._idle.values())
    finally:
        await transport.close()
        server.close()
    assert response.status_code == status
    assert (response.error or "").split(":")[0] == (error or "")
    assert kept == (1 if status == 202 else 0)


@pytest.mark.parametrize(
    ("url", "headers"),
    [
        ("http://127.0.0.1:9/in\r\nX-Injected: 1", HEADERS),
        ("http://127.0.0.1:9/in", {"Hexbank-Event-Id": "e1\r\nX-Injected: 1"}),
        ("ftp://127.0.0.1:9/in", HEADERS),
    ],
)
async def test_what_http_cannot_carry_is_never_sent(url: str, headers: dict[str, str]) -> None:
    transport = StreamWebhookTransport()
    response = await transport.post(url, "127.0.0.1", b"{}", headers)
    assert response.status_code is None
    assert (response.error or "").startswith("UnsendableRequest")


async def test_a_cancelled_post_closes_its_connection() -> None:
    """A worker cancelled mid-attempt (shutdown) leaves no connection open behind it."""
    closed = asyncio.Event()

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # until the client closes
        closed.set()
        writer.close()

    server, url = await listening(silent)
    transport = StreamWebhookTransport(timeout_s=5)
    gc.collect()  # what earlier tests left
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ResourceWarning)
            posting = asyncio.create_task(transport.post(url, "127.0.0.1", b"{}", HEADERS))
            await asyncio.sleep(0.1)
            posting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await posting
            await asyncio.wait_for(closed.wait(), 1)
            gc.collect()
    finally:
        await transport.close()
        server.close()
    # Closed by the transport, not left to the garbage collector (which warns, and runs
    # only once nothing holds the cancelled attempt's frame).
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []


@pytest.mark.parametrize(
    "unasked",
    [b"\r\n", b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"],
    ids=["a stray line end", "a second answer"],
)
async def test_a_kept_connection_holding_bytes_no_request_asked_for_is_not_reused(
    unasked: bytes,
) -> None:
    """Bytes that came after an answer (a stray line end, an answer sent ahead) would be read
    as the next request's answer: a 200 the receiver never gave for it, or garbage."""
    requests = 0

    async def answering(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal requests
        try:
            while True:
                await request_read(reader)
                requests += 1
                if requests == 1:
                    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n" + unasked)
                else:
                    writer.write(b"HTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n")
                await writer.drain()
        except asyncio.IncompleteReadError:
            pass
        finally:
            writer.close()

    server, url = await listening(answering)
    transport = StreamWebhookTransport(timeout_s=2)
    try:
        first = await transport.post(url, "127.0.0.1", b"{}", HEADERS)
        await asyncio.sleep(0.05)
        second = await transport.post(url, "127.0.0.1", b"{}", HEADERS)
    finally:
        await transport.close()
        server.close()
    assert (first.status_code, second.status_code) == (200, 500)
    assert requests == 2


async def test_idle_connections_are_closed_when_stale_whichever_origin_is_posted_to(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A connection kept for an endpoint that is no longer posted to (deleted, disabled, or
    behind another kept one) does not hold its socket for the life of the process."""
    import adapters.http_webhooks as http_webhooks

    monkeypatch.setattr(http_webhooks, "IDLE_S", 0.1)
    transport = StreamWebhookTransport(timeout_s=2)
    async with receiving(status=204) as old, receiving(status=204) as new:
        try:
            assert (await transport.post(old.url, "127.0.0.1", b"{}", HEADERS)).status_code == 204
            await asyncio.sleep(0.3)
            assert (await transport.post(new.url, "127.0.0.1", b"{}", HEADERS)).status_code == 204
            kept = {origin[2]: len(idle) for origin, idle in transport._idle.items() if idle}
        finally:
            await transport.close()
    assert kept == {new.port: 1}


async def test_a_path_with_spaces_or_non_ascii_characters_is_sent_percent_encoded() -> None:
    """Such URLs are accepted when saved, and httpx sent them encoded as UTF-8: refusing
    them at every attempt would let the endpoint fail for three days, then disable it."""
    transport = StreamWebhookTransport()
    async with receiving(status=204) as receiver:
        url = f"http://127.0.0.1:{receiver.port}/événements/a b?name=José Ü&x=%41"
        try:
            response = await transport.post(url, "127.0.0.1", b"{}", HEADERS)
        finally:
            await transport.close()
    assert (response.status_code, response.error) == (204, None)
    [received] = receiver.received
    assert received.path == "/%C3%A9v%C3%A9nements/a%20b?name=Jos%C3%A9%20%C3%9C&x=%41"


async def test_an_answer_whose_body_breaks_off_still_counts_and_is_not_sent_again() -> None:
    """The status came: the body is read only to reuse the connection. Taking its end for a
    receiver that closed a kept connection sent the event again, and answered what the copy
    got."""
    requests = 0

    async def answering(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal requests
        try:
            while True:
                await request_read(reader)
                requests += 1
                if requests == 2:
                    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n")
                    await writer.drain()
                    break  # the body never comes
                writer.write(b"HTTP/1.1 503 Busy\r\nContent-Length: 0\r\n\r\n")
                await writer.drain()
        except asyncio.IncompleteReadError:
            pass
        finally:
            writer.close()

    server, url = await listening(answering)
    transport = StreamWebhookTransport(timeout_s=2)
    try:
        first = await transport.post(url, "127.0.0.1", b"{}", HEADERS)
        second = await transport.post(url, "127.0.0.1", b"{}", HEADERS)  # on the kept one
    finally:
        await transport.close()
        server.close()
    assert (first.status_code, second.status_code) == (503, 200)
    assert requests == 2
    assert transport._idle == {}


async def test_a_flood_of_interim_answers_is_an_error_at_once() -> None:
    """Each 1xx is parsed without a pause while the buffer holds more: a receiver that sends
    them endlessly would keep the worker's event loop (the API's, inside serve) busy for the
    whole timeout of every attempt."""

    async def flooding(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        with contextlib.suppress(ConnectionError):
            for _ in range(200):
                writer.write(b"HTTP/1.1 102 Processing\r\n\r\n" * 100)
                await writer.drain()
            await reader.read()  # until the client closes
        writer.close()

    server, url = await listening(flooding)
    transport = StreamWebhookTransport(timeout_s=2)
    try:
        started = time.perf_counter()
        response = await transport.post(url, "127.0.0.1", b"{}", HEADERS)
        took = time.perf_counter() - started
    finally:
        await transport.close()
        server.close()
    assert response.status_code is None
    assert (response.error or "").startswith("ValueError")
    assert took < 1


def _certificate_authority(tmp_path: Path) -> tuple[Path, ssl.SSLContext]:
    """A CA file, and a server context whose certificate (from that CA) names hooks.test."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.now(UTC)

    def certificate(
        name: str,
        key: ec.EllipticCurvePrivateKey,
        issuer: x509.Name,
        signer: ec.EllipticCurvePrivateKey,
        ca: bool,
    ) -> x509.Certificate:
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(issuer)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(hours=1))
            .not_valid_after(now + timedelta(hours=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if not ca:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False
            )
        return builder.sign(signer, hashes.SHA256())

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hexbank test CA")])
    ca = certificate("hexbank test CA", ca_key, ca_name, ca_key, ca=True)
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf = certificate("hooks.test", leaf_key, ca_name, ca_key, ca=False)
    ca_file, chain, key_file = tmp_path / "ca.pem", tmp_path / "chain.pem", tmp_path / "key.pem"
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    chain.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        leaf_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(chain, key_file)
    return ca_file, server


async def test_tls_checks_the_urls_host_sends_it_as_sni_and_connects_to_the_checked_address(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ca_file, server_tls = _certificate_authority(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    names: list[str | None] = []
    server_tls.sni_callback = lambda sock, name, context: names.append(name)

    async def answering(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            await reader.readexactly(
                int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
            )
            writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(answering, "127.0.0.1", 0, ssl=server_tls)
    port = server.sockets[0].getsockname()[1]
    transport = StreamWebhookTransport(timeout_s=5)
    try:
        # Names no resolver knows: the connection goes to the address given.
        good = await transport.post(f"https://hooks.test:{port}/in", "127.0.0.1", b"{}", HEADERS)
        wrong = await transport.post(f"https://other.test:{port}/in", "127.0.0.1", b"{}", HEADERS)
    finally:
        await transport.close()
        server.close()
    assert (good.status_code, good.error) == (204, None)
    assert wrong.status_code is None
    assert (wrong.error or "").startswith("SSLCertVerificationError")
    assert names == ["hooks.test", "other.test"]
