"""What a webhook transport must do, the recording fake and httpx alike: answer the status the
receiver gave. And what the httpx one does on the wire, to a real receiver on loopback: it
connects to the address it is given (the one the guard checked), never to a new resolution of
the URL's name, which still goes in `Host`; it gives up after its timeout; a refused
connection is an error, not an exception."""

from __future__ import annotations

import time

import pytest

from adapters.httpx_webhooks import HttpxWebhookTransport
from adapters.in_memory.webhooks import RecordingWebhookTransport
from application.ports.webhooks import WebhookTransport
from tests.webhook_receiver import receiving

HEADERS = {"Content-Type": "application/json", "Hexbank-Event-Id": "e1"}


@pytest.mark.parametrize("kind", ["fake", "httpx"])
async def test_a_post_answers_the_receivers_status(kind: str) -> None:
    async with receiving(status=202) as receiver:
        transport: WebhookTransport = (
            RecordingWebhookTransport(202) if kind == "fake" else HttpxWebhookTransport()
        )
        try:
            response = await transport.post(receiver.url, "127.0.0.1", b"{}", HEADERS)
        finally:
            await transport.close()
    assert (response.status_code, response.error) == (202, None)


async def test_it_connects_to_the_checked_address_and_names_the_urls_host() -> None:
    transport = HttpxWebhookTransport()
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
    transport = HttpxWebhookTransport(timeout_s=0.3)
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
