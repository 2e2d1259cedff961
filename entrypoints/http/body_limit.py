"""Refuse request bodies over a size limit before anything parses them."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from entrypoints.http.problems import problem


class BodySizeLimit:
    """Checks Content-Length up front and counts streamed bytes, so chunked uploads that
    grow past the limit are cut off too."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and not declared.isdigit():
            await problem(400, "bad-request", "Content-Length is not a number.")(
                scope, receive, send
            )
            return
        if declared is not None and int(declared) > self.max_bytes:
            await problem(413, "payload-too-large", self._detail())(scope, receive, send)
            return

        received = 0

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise HTTPException(413, self._detail())
            return message

        await self.app(scope, counted_receive, send)

    def _detail(self) -> str:
        return f"The request body is larger than {self.max_bytes} bytes."
