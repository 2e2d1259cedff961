"""HEAD on every GET route (RFC 9110 section 9.3.2: GET's status and headers, no body)."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class HeadAsGet:
    """Routes a HEAD as a GET and drops the body on the way out, so every GET route, present
    or future, answers HEAD with the headers GET would send (Content-Length, and
    Content-Encoding too: this sits outside the compression) and the spec lists no HEAD
    operations.

    The app inside gets a copy of the scope that says GET: the server keeps reading its own
    scope while it sends the answer (uvicorn expects GET's body if it says GET, and resets the
    connection when none comes). What routing adds to the copy (the route that served it) is
    carried back, so the access log and the metrics outside see HEAD and that route."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        as_get = {**scope, "method": "GET"}
        try:
            await self.app(as_get, receive, without_body)
        finally:
            scope.update((key, value) for key, value in as_get.items() if key != "method")
