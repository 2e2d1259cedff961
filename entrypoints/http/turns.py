"""Giving a request's admission turn back when the request ends, however it ends."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from application.admission import Turn

_TURN = "hexbank.turn"
_RATE = "hexbank.rate"


def hold_turn(scope: Scope, turn: Turn) -> None:
    """Keep `turn` until the request ends (one per request: a second gives back the first)."""
    release_turn(scope)
    scope[_TURN] = turn


def release_turn(scope: Scope) -> None:
    turn = scope.pop(_TURN, None)
    if turn is not None:
        turn.release()


def note_rate(scope: Scope, headers: dict[str, str]) -> None:
    """Headers for the request's answer, whatever it turns out to be (an API key's
    RateLimit-*): written by `ReleaseTurn` as the answer starts."""
    scope[_RATE] = headers


class ReleaseTurn:
    """The request's turn, taken by the `current_user` dependency, is given back just before
    the last byte of its answer is sent (so a client that waits for its answer before the
    next request never meets its own finished one still counted), or when the app returns
    without one: failed, or past the deadline, whose 503 went out while its work went on.
    Cheaper than a `yield` dependency, and it runs however the app ends.

    It also adds the headers noted for the answer (`note_rate`), on errors too: it already
    sees every message, so this costs one lookup instead of another middleware."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_releasing(message: Message) -> None:
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                release_turn(scope)
            elif message["type"] == "http.response.start" and _RATE in scope:
                extra = [(k.lower().encode(), v.encode()) for k, v in scope[_RATE].items()]
                names = {name for name, _ in extra}  # the key's figures replace a refusal's
                kept = [h for h in message.get("headers", ()) if h[0].lower() not in names]
                message = {**message, "headers": [*kept, *extra]}
            await send(message)

        try:
            await self.app(scope, receive, send_releasing)
        finally:
            release_turn(scope)
