"""One id per request, from `X-Request-ID` or made here, on every log line and in answers."""

from __future__ import annotations

import logging
import os
import re
import time
from contextvars import ContextVar

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from entrypoints.observability.metrics import Metrics

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
_VALID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
access_log = structlog.get_logger("hexbank.access")
# Asked before building the access line: below INFO it would be dropped, after costing more
# than the rest of this middleware.
_access_logger = logging.getLogger("hexbank.access")


class RequestContext:
    """Binds the request id, echoes it back, records the access line and the HTTP metrics.

    The route template (`/api/v1/accounts/{account_id}`), not the raw path, names the route
    in logs and metrics: ids would make every request its own series.
    """

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = _given_id(scope["headers"]) or os.urandom(16).hex()  # 32 hex digits, as uuid4().hex
        token = request_id.set(rid)
        structlog.contextvars.bind_contextvars(request_id=rid)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            duration = time.perf_counter() - started
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            self.metrics.observe_request(scope["method"], template, status, duration)
            if _access_logger.isEnabledFor(logging.INFO):
                access_log.info(
                    "request",
                    method=scope["method"],
                    route=template,
                    status=status,
                    duration_ms=round(duration * 1000, 2),
                )
            structlog.contextvars.unbind_contextvars("request_id")
            request_id.reset(token)


def _given_id(headers: list[tuple[bytes, bytes]]) -> str | None:
    """The client's X-Request-ID when it is a usable one (the last, as a dict would keep)."""
    given = None
    for name, value in headers:
        if name == b"x-request-id":
            given = value
    if given is None:
        return None
    text = given.decode("latin-1")
    return text if _VALID.fullmatch(text) else None
