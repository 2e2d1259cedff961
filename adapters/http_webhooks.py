"""Webhook delivery as HTTP/1.1 on asyncio streams, and host names resolved by the system
resolver.

Why not httpx: a delivery is one small POST whose answer matters only by its status, sent
thousands of times a second beside the money path. httpx (through httpcore and anyio) spent
about 40 times the CPU of this module per POST (docs/webhooks.md, "What a delivery costs").
What an HTTP library would add is not needed: no redirects (a redirect is an answer that is
no 2xx), no cookies, no proxies, no decoding of the body (never read but to reuse the
connection).

The POST connects to the address the guard checked, never to a second resolution of the name
(which could answer differently: DNS rebinding), while TLS still verifies the certificate
against the URL's host name (SNI) and `Host` carries it. Connections are kept per (scheme,
address, port, host) and reused only after an answer whose end is certain."""

from __future__ import annotations

import asyncio
import re
import socket
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from application.ports.webhooks import HostResolver, WebhookResponse, WebhookTransport
from domain.webhook import DELIVERY_TIMEOUT_S

RESOLVE_TIMEOUT_S = 5.0
"""A name that has not resolved in this long does not resolve (a request waits no longer)."""
MAX_ANSWER_HEAD = 16 * 1024
"""An answer's status line and headers; a longer head is an error (the connection is closed)."""
MAX_KEPT_BODY = 64 * 1024
"""An answer's body is read (and dropped) to reuse the connection up to this size; a larger
one, or one without a length, closes the connection instead."""
MAX_INTERIM = 10
"""Interim (1xx) answers skipped before the answer; more are an error (the connection is
closed): each is parsed without a pause while more are buffered."""
IDLE_S = 30.0
"""An idle connection older than this is closed, not reused (receivers close theirs too)."""
IDLE_PER_ORIGIN = 256
"""Idle connections kept per origin (several endpoints may share one, each with its own
attempts in flight); more are closed when they end."""
_ERROR_CHARS = 300

_STATUS = re.compile(rb"HTTP/1\.([01]) ([1-9][0-9][0-9])(?: [^\r\n]*)?")
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_VALUE = re.compile(r"[\x20-\x7e]*")
_TARGET = re.compile(r"/[\x21-\x7e]*")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_PRINTABLE = "".join(map(chr, range(0x21, 0x7F)))


class SystemHostResolver(HostResolver):
    async def resolve(self, host: str, port: int) -> list[str]:
        try:
            async with asyncio.timeout(RESOLVE_TIMEOUT_S):
                loop = asyncio.get_running_loop()
                infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except TimeoutError:
            raise OSError(f"{host} did not resolve within {RESOLVE_TIMEOUT_S:g} s") from None
        return list(dict.fromkeys(str(info[4][0]) for info in infos))


class UnsendableRequest(ValueError):
    """A URL or header that cannot go on the wire as it is (a control character, a space)."""


@dataclass(slots=True)
class _Connection:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    idle_since: float = 0.0

    def close(self) -> None:
        self.writer.close()


@dataclass(frozen=True, slots=True)
class _Answer:
    status: int
    reusable: bool


class StreamWebhookTransport(WebhookTransport):
    """One pool of kept connections for every endpoint."""

    def __init__(self, timeout_s: float = DELIVERY_TIMEOUT_S) -> None:
        self._timeout_s = timeout_s
        self._idle: dict[tuple[str, str, int, str], list[_Connection]] = {}
        self._tls: ssl.SSLContext | None = None
        self._next_sweep = 0.0

    async def post(
        self, url: str, address: str, body: bytes, headers: Mapping[str, str]
    ) -> WebhookResponse:
        try:
            origin, request = _request(url, address, body, headers)
        except UnsendableRequest as error:
            return WebhookResponse(None, f"{type(error).__name__}: {error}"[:_ERROR_CHARS])
        connection: _Connection | None = None
        try:
            async with asyncio.timeout(self._timeout_s):  # in all, not per read
                connection = self._kept(origin)
                if connection is not None:
                    try:
                        answer = await _exchange(connection, request)
                    except (ConnectionError, asyncio.IncompleteReadError) as error:
                        if isinstance(error, asyncio.IncompleteReadError) and error.partial:
                            raise
                        # The receiver closed a kept connection meanwhile: once more on a new
                        # one (a copy at worst, with the same Hexbank-Event-Id).
                        connection.close()
                        connection = None
                if connection is None:
                    connection = await self._connect(origin)
                    answer = await _exchange(connection, request)
        except TimeoutError:
            _close(connection)
            return WebhookResponse(None, f"no answer within {self._timeout_s:g} s")
        except (OSError, ValueError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as e:
            _close(connection)
            return WebhookResponse(None, f"{_error_name(e)}: {e}"[:_ERROR_CHARS])
        except BaseException:  # cancelled (a worker stopping): the socket goes now, not at GC
            _close(connection)
            raise
        if answer.reusable:
            self._keep(origin, connection)
        else:
            connection.close()
        return WebhookResponse(answer.status)

    async def close(self) -> None:
        idle, self._idle = self._idle, {}
        for connections in idle.values():
            for connection in connections:
                connection.close()

    def _kept(self, origin: tuple[str, str, int, str]) -> _Connection | None:
        now = time.monotonic()
        if now >= self._next_sweep:
            self._sweep(now)
        kept = self._idle.get(origin)
        while kept:
            connection = kept.pop()
            if now - connection.idle_since < IDLE_S and _quiet(connection):
                return connection
            connection.close()
        return None

    def _sweep(self, now: float) -> None:
        """Close the idle connections of every origin that are too old to reuse, or closed
        by their receiver: those of an origin no longer posted to (an endpoint deleted,
        disabled, moved), or below the ones reused, would otherwise hold their sockets (half
        open after the receiver's close) for the life of the process."""
        self._next_sweep = now + IDLE_S
        for origin, kept in list(self._idle.items()):
            live: list[_Connection] = []
            for connection in kept:
                if now - connection.idle_since < IDLE_S and _quiet(connection):
                    live.append(connection)
                else:
                    connection.close()
            if live:
                self._idle[origin] = live
            else:
                del self._idle[origin]

    def _keep(self, origin: tuple[str, str, int, str], connection: _Connection) -> None:
        kept = self._idle.setdefault(origin, [])
        if len(kept) >= IDLE_PER_ORIGIN:
            connection.close()
            return
        connection.idle_since = time.monotonic()
        kept.append(connection)

    async def _connect(self, origin: tuple[str, str, int, str]) -> _Connection:
        scheme, address, port, host = origin
        tls: ssl.SSLContext | None = None
        if scheme == "https":
            if self._tls is None:
                self._tls = ssl.create_default_context()
            tls = self._tls
        reader, writer = await asyncio.open_connection(
            address,
            port,
            ssl=tls,
            server_hostname=host if tls is not None else None,
            limit=MAX_ANSWER_HEAD,
        )
        return _Connection(reader, writer)


def _request(
    url: str, address: str, body: bytes, headers: Mapping[str, str]
) -> tuple[tuple[str, str, int, str], bytes]:
    """The origin to connect to, and the request's bytes."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsendableRequest("not an http(s) URL")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    if not _TARGET.fullmatch(target) and not _CONTROL.search(url):  # urlsplit drops CR LF
        # Spaces and non-ASCII characters go as UTF-8, percent-encoded (as httpx sent them).
        target = quote(target, safe=_PRINTABLE)
    host = parts.netloc.rsplit("@", 1)[-1]
    if not _TARGET.fullmatch(target) or not _VALUE.fullmatch(host) or " " in host:
        raise UnsendableRequest("the URL holds a character HTTP cannot carry")
    lines = [f"POST {target} HTTP/1.1", f"Host: {host}"]
    for name, value in headers.items():
        if not _TOKEN.fullmatch(name) or not _VALUE.fullmatch(value):
            raise UnsendableRequest(f"header {name!r} cannot be sent")
        if name.lower() not in ("host", "content-length", "transfer-encoding", "connection"):
            lines.append(f"{name}: {value}")
    lines.append(f"Content-Length: {len(body)}")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")
    return (parts.scheme, address, port, parts.hostname), head + body


async def _exchange(connection: _Connection, request: bytes) -> _Answer:
    """Send the request, read the answer's head, and its body if that is small and delimited
    (interim 1xx answers are skipped)."""
    connection.writer.write(request)
    for _ in range(MAX_INTERIM + 1):
        head = await connection.reader.readuntil(b"\r\n\r\n")
        lines = head[:-4].split(b"\r\n")
        status_line = _STATUS.fullmatch(lines[0])
        if status_line is None:
            raise ValueError("the answer is not HTTP/1.x")
        status = int(status_line.group(2))
        if not (100 <= status < 200 and status != 101):
            break
    else:
        raise ValueError(f"more than {MAX_INTERIM} interim answers")
    lengths: set[bytes] = set()
    delimited_by_length = True
    close = status_line.group(1) == b"0"
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        if not colon:
            raise ValueError("the answer has a malformed header")
        key = name.strip().lower()
        if key == b"content-length":
            lengths.add(value.strip())
        elif key == b"transfer-encoding":
            delimited_by_length = False
        elif key == b"connection" and b"close" in value.lower():
            close = True
    if status in (101, 204, 304):
        return _Answer(status, reusable=not close and status != 101)
    if not delimited_by_length or len(lengths) != 1:
        return _Answer(status, reusable=False)
    [length] = lengths
    if not length.isdigit() or int(length) > MAX_KEPT_BODY:
        return _Answer(status, reusable=False)
    if int(length):
        try:
            await connection.reader.readexactly(int(length))
        except (ConnectionError, asyncio.IncompleteReadError):
            return _Answer(status, reusable=False)  # the status came: it is the answer
    return _Answer(status, reusable=not close)


def _quiet(connection: _Connection) -> bool:
    """Open, and holding no byte since its last answer: bytes that came after it (a stray
    line end, an answer sent ahead of its request) would be read as the next request's
    answer: a 2xx for a delivery the receiver never answered, or garbage."""
    reader = connection.reader
    held = reader._buffer  # type: ignore[attr-defined]  # bytes no read took yet
    return not (held or reader.at_eof() or reader.exception() or connection.writer.is_closing())


def _close(connection: _Connection | None) -> None:
    if connection is not None:
        connection.close()


def _error_name(error: BaseException) -> str:
    """`ConnectError` for a connection that could not be made (refused, unreachable), as the
    log has always said; otherwise the exception's own name."""
    if isinstance(error, (ConnectionRefusedError, ConnectionAbortedError)):
        return "ConnectError"
    return type(error).__name__
