"""What one connection may cost the server before its request reaches the app: the size of
its request line and headers, the time they may take, and how many connections one process
holds open.

uvicorn's httptools protocol bounds none of these: httptools gathers a header line of any
length, uvicorn keeps every header line, and a connection that sends nothing, or one header
line every few seconds, stays open for ever. `LimitedHttpToolsProtocol` counts the bytes
that arrive until a request's headers are complete, and looks at each connection once per
check period for headers that are late. Per request it only sets flags and counts: no
timer, no allocation, no system call more than uvicorn's own.
"""

from __future__ import annotations

import asyncio
import json
import math
from asyncio import TimerHandle
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from entrypoints.http.problems import PROBLEM_BASE, PROBLEM_MEDIA_TYPE

LINGER_S = 2.0
"""How long a connection refused for its headers still reads (and drops) what its client
sends after the 431: closing with unread bytes would reset the connection, and the client
could lose the answer before reading it. Bounded, so the refusal costs one descriptor for
at most this long."""


@dataclass(frozen=True)
class ConnectionLimits:
    max_header_bytes: int
    header_timeout_s: float
    max_connections: int

    @property
    def check_every_s(self) -> float:
        """How often each connection is looked at: late headers are closed between
        `header_timeout_s` and one period after it."""
        return min(1.0, self.header_timeout_s / 10)

    @property
    def checks_allowed(self) -> int:
        return math.ceil(self.header_timeout_s / self.check_every_s - 1e-9)


def canned_problem(status: int, slug: str, detail: str, *headers: bytes) -> bytes:
    """A whole problem+json answer after its status line, for refusals made before a request
    exists (no request id, no app); `connection: close` since the connection ends with it."""
    body = json.dumps(
        {
            "type": PROBLEM_BASE + slug,
            "title": slug.replace("-", " ").capitalize(),
            "status": status,
            "detail": detail,
        },
        separators=(",", ":"),
    ).encode()
    lines = [
        f"content-type: {PROBLEM_MEDIA_TYPE}".encode(),
        b"content-length: %d" % len(body),
        b"connection: close",
        *headers,
    ]
    return b"".join(line + b"\r\n" for line in lines) + b"\r\n" + body


def _status_line(status: int) -> bytes:
    return f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\n".encode()


class LimitedConfig(uvicorn.Config):
    """uvicorn's Config serving with `LimitedHttpToolsProtocol` under `limits`. The answers
    the protocol sends are built once here, and go with the config to each worker process
    (it is pickled)."""

    def __init__(self, app: Any, limits: ConnectionLimits, **options: Any) -> None:
        super().__init__(app, http=LimitedHttpToolsProtocol, **options)
        self.connection_limits = limits
        self.headers_too_large = _status_line(431) + canned_problem(
            431,
            "request-header-fields-too-large",
            f"The request line and headers are larger than {limits.max_header_bytes} bytes.",
        )
        self.headers_too_slow = _status_line(408) + canned_problem(
            408,
            "request-timeout",
            f"The request's headers did not arrive within {limits.header_timeout_s:g} s.",
        )
        self.too_many_connections = _status_line(503) + canned_problem(
            503,
            "too-many-connections",
            f"This server holds {limits.max_connections} connections already; retry shortly.",
            b"retry-after: 1",
        )


class LimitedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, with the limits of a `LimitedConfig`.

    Module-level so that it pickles by name into each worker of `--workers N`.
    """

    def __init__(
        self,
        config: uvicorn.Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        if not isinstance(config, LimitedConfig):
            raise TypeError("LimitedHttpToolsProtocol serves a LimitedConfig")
        super().__init__(config, server_state, app_state, _loop)
        self._config = config
        limits = config.connection_limits
        self._max_connections = limits.max_connections
        self._max_header_bytes = limits.max_header_bytes
        self._check_every_s = limits.check_every_s
        self._checks_allowed = limits.checks_allowed
        # Bytes of the current request's line and headers so far, counted while `_counting`
        # (from the end of the previous request to the end of this one's headers).
        self._counting = True
        self._header_bytes = 0
        # Waiting for headers: from the connection's start, then from each request's first
        # byte; `_headers_done` names the wait, so a check can tell it from the next one.
        self._awaiting_headers = True
        self._headers_done = 0
        self._watched_wait = -1
        self._checks_waited = 0
        self._check: TimerHandle | None = None
        self._discarding = False
        self._linger: TimerHandle | None = None

    def connection_made(  # type: ignore[override]
        self, transport: asyncio.Transport
    ) -> None:
        if len(self.connections) >= self._max_connections:
            # Refused before it costs anything but this answer: not counted, never read.
            self.transport = transport
            self._discarding = True
            self._write_canned(self._config.too_many_connections)
            transport.close()
            return
        super().connection_made(transport)
        self._check = self.loop.call_later(self._check_every_s, self._check_headers)

    def connection_lost(self, exc: Exception | None) -> None:
        for timer in (self._check, self._linger):
            if timer is not None:
                timer.cancel()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._counting:
            self._header_bytes += len(data)
            if self._header_bytes > self._max_header_bytes:
                self._past_header_limit(data)
                return
        HttpToolsProtocol.data_received(self, data)
        if self._awaiting_headers and self._header_bytes == 0:
            self._began_within(data)

    def on_message_begin(self) -> None:
        HttpToolsProtocol.on_message_begin(self)
        self._awaiting_headers = True

    def on_headers_complete(self) -> None:
        self._awaiting_headers = False
        self._counting = False
        self._header_bytes = 0
        self._headers_done += 1
        HttpToolsProtocol.on_headers_complete(self)

    def on_message_complete(self) -> None:
        HttpToolsProtocol.on_message_complete(self)
        self._counting = True

    # -- the rare paths --------------------------------------------------------------------

    def _past_header_limit(self, data: bytes) -> None:
        """`data` took the request past the limit. Its part within the limit may still end
        the request's headers (then the rest is its body or the next request): only what
        lies past the limit is refused, with 431."""
        if self._discarding:
            return
        within = len(data) - (self._header_bytes - self._max_header_bytes)
        if within > 0:
            HttpToolsProtocol.data_received(self, data[:within])
            if self.transport.is_closing():  # the parser refused it (400)
                return
            if self._header_bytes <= self._max_header_bytes:  # the headers ended in it
                self.data_received(data[within:])  # at most 1 level per max_header_bytes
                return
        self._refuse(self._config.headers_too_large, linger=True)

    def _began_within(self, data: bytes) -> None:
        """A request began inside `data`, after the end of an earlier one (pipelined), and its
        headers are not complete: its bytes in `data` were not counted. They are at most
        `len(data)`, and are charged so; past the limit, 431 (a pipelined request after a
        large body, its headers cut by the end of a read, can be refused so)."""
        if self._discarding or self.transport.is_closing():
            return
        self._header_bytes = len(data)
        if self._header_bytes > self._max_header_bytes:
            self._refuse(self._config.headers_too_large, linger=True)

    def _check_headers(self) -> None:
        self._check = None
        if self._discarding or self.transport.is_closing():
            return
        if self._awaiting_headers:
            if self._watched_wait != self._headers_done:
                self._watched_wait, self._checks_waited = self._headers_done, 0
            else:
                self._checks_waited += 1
                if self._checks_waited >= self._checks_allowed:
                    if self._header_bytes > 0 or self._headers_done > 0:  # a request began
                        self._refuse(self._config.headers_too_slow, linger=False)
                    else:  # a connection that never sent a byte is simply closed
                        self._discarding = True
                        self.transport.close()
                    return
        self._check = self.loop.call_later(self._check_every_s, self._check_headers)

    def _refuse(self, answer: bytes, *, linger: bool) -> None:
        """Answer `answer` and end the connection; nothing more reaches the parser."""
        self._discarding = True
        self._counting = True  # every later byte takes the slow path, which drops it
        self._header_bytes = self._max_header_bytes + 1
        if self.cycle is not None and not self.cycle.response_complete:
            # The previous request's answer is still being written: the connection ends
            # with it (its cycle closes the transport), and this request gets no answer.
            self.cycle.keep_alive = False
            return
        self._write_canned(answer)
        if linger and self.transport.can_write_eof():
            self.transport.write_eof()  # the answer, then end of stream; reading goes on
            self._linger = self.loop.call_later(LINGER_S, self.transport.close)
        else:
            self.transport.close()

    def _write_canned(self, answer: bytes) -> None:
        status_line, rest = answer.split(b"\r\n", 1)
        defaults = b"".join(
            name + b": " + value + b"\r\n" for name, value in self.server_state.default_headers
        )
        self.transport.write(status_line + b"\r\n" + defaults + rest)
