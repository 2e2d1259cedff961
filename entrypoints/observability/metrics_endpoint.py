"""/metrics for the operator's listener (HEXBANK_METRICS_HOST:HEXBANK_METRICS_PORT), never
on the API's port: the metrics show the money moved per currency and kind.

An ASGI app of its own, with nothing of the API's: it answers GET /metrics, asking for
`Authorization: Bearer <HEXBANK_METRICS_TOKEN>` when a token is set, and 404 for any other
path. What it serves comes from `render`: the app's own registry in one process, or every
worker's shared files under `--workers N`.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from entrypoints.http.problems import problem
from entrypoints.observability.metrics import CONTENT_TYPE

PATH = "/metrics"


class MetricsEndpoint:
    def __init__(self, render: Callable[[], bytes], token: str | None = None) -> None:
        self._render = render
        self._expected = None if token is None else f"Bearer {token}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # served without lifespan; no websockets
            return
        await self._answer(scope)(scope, receive, send)

    def _answer(self, scope: Scope) -> Response:
        if scope["path"] != PATH:
            return problem(404, "not-found", f"Only {PATH} is served here.")
        if scope["method"] not in ("GET", "HEAD"):
            return problem(
                405,
                "method-not-allowed",
                f"{scope['method']} is not allowed here; {PATH} takes GET, HEAD.",
                headers={"Allow": "GET, HEAD"},
            )
        if not self._authorized(scope):
            return problem(
                401,
                "unauthorized",
                "Metrics need `Authorization: Bearer <HEXBANK_METRICS_TOKEN>`.",
                headers={"WWW-Authenticate": "Bearer"},
            )
        return Response(self._render(), media_type=CONTENT_TYPE)

    def _authorized(self, scope: Scope) -> bool:
        if self._expected is None:
            return True
        given = b""
        for name, value in scope["headers"]:
            if name == b"authorization":
                given = value
        # The scheme is case-insensitive (RFC 9110); the token is compared in constant time.
        scheme, _, credentials = given.partition(b" ")
        offered = b"Bearer " + credentials.strip() if scheme.lower() == b"bearer" else b""
        return hmac.compare_digest(offered, self._expected)
