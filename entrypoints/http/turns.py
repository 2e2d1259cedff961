"""Giving a request's admission turn back when the request ends, however it ends."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from application.admission import Turn

_TURN = "hexbank.turn"


def hold_turn(scope: Scope, turn: Turn) -> None:
    """Keep `turn` until the request ends (one per request: a second gives back the first)."""
    held = scope.get(_TURN)
    if held is not None:
        held.release()
    scope[_TURN] = turn


class ReleaseTurn:
    """The request's turn, taken by the `current_user` dependency, is given back after the
    app has returned: answered, failed, or (past the deadline) done with work whose answer
    was already sent. Cheaper than a `yield` dependency, and it runs however the app ends."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.app(scope, receive, send)
        finally:
            turn = scope.get(_TURN)
            if turn is not None:
                turn.release()
