"""gzip for answers of HEXBANK_GZIP_MIN_BYTES or more, when the client accepts it."""

from __future__ import annotations

from starlette.middleware.gzip import GZipResponder
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class Compression:
    """Starlette's gzip (its GZipResponder: content types it leaves alone, streaming,
    `Vary: Accept-Encoding`), entered only when there is something to compress.

    Starlette's GZipMiddleware parses headers and builds a responder for every request, even
    those that do not accept gzip and the small answers it then leaves as they are: 10-15 us
    a request measured, several percent of a cheap GET. Here a request that does not accept
    gzip passes straight through, and a single-message answer under the minimum size is sent
    as it is; only the others meet Starlette's responder.
    """

    def __init__(self, app: ASGIApp, minimum_size: int, compresslevel: int) -> None:
        self.app = app
        self.minimum_size = minimum_size
        self.compresslevel = compresslevel

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _accepts_gzip(scope["headers"]):
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        responder: GZipResponder | None = None
        passed_through = False

        async def compressing(message: Message) -> None:
            nonlocal start, responder, passed_through
            if passed_through:
                await send(message)
                return
            if responder is not None:
                await responder.send_with_compression(message)
                return
            if message["type"] == "http.response.start":
                start = message
                return
            if (
                start is not None
                and message["type"] == "http.response.body"
                and not message.get("more_body", False)
                and len(message.get("body", b"")) < self.minimum_size
            ):
                passed_through = True
                await send(start)
                await send(message)
                return
            responder = GZipResponder(self.app, self.minimum_size, self.compresslevel)
            responder.send = send
            if start is not None:
                await responder.send_with_compression(start)
            await responder.send_with_compression(message)

        await self.app(scope, receive, compressing)


def _accepts_gzip(headers: list[tuple[bytes, bytes]]) -> bool:
    """As Starlette decides it: `gzip` named in Accept-Encoding."""
    return any(name == b"accept-encoding" and b"gzip" in value for name, value in headers)
