"""An end-to-end deadline: no request is answered later than HEXBANK_REQUEST_DEADLINE_S."""

from __future__ import annotations

import asyncio
import contextlib

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from entrypoints.http.problems import problem

RETRY_AFTER_S = "2"


class RequestDeadline:
    """Past the deadline, a request that has not begun its answer gets 503 `deadline-exceeded`
    with `Retry-After`, and whatever it answers later is dropped.

    The request's work is not cancelled: it ends as it would have (its database calls are
    bounded by their own timeouts), so a transaction is committed whole or rolled back whole,
    never cut half way; a transfer whose group commits after the deadline is in the books,
    and its retry with the same Idempotency-Key replays it. Its user's admission slot is
    held until that work has ended, so a stuck user cannot pile up more work than the cap.

    One timer per request, cancelled when it ends; no task unless the deadline passes.
    """

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        exchange = _Exchange(send)
        timer = asyncio.get_running_loop().call_later(
            self.seconds, exchange.expire, scope, receive, self.seconds
        )
        try:
            await self.app(scope, receive, exchange.send)
        finally:
            timer.cancel()
            if exchange.answering is not None:
                with contextlib.suppress(Exception):  # the client may be gone
                    await exchange.answering  # the 503 is on its way: let it finish first


class _Exchange:
    __slots__ = ("_send", "answering", "expired", "started")

    def __init__(self, send: Send) -> None:
        self._send = send
        self.started = False
        self.expired = False
        self.answering: asyncio.Task[None] | None = None

    async def send(self, message: Message) -> None:
        if self.expired:
            return  # answered already, with 503
        if message["type"] == "http.response.start":
            self.started = True
        await self._send(message)

    def expire(self, scope: Scope, receive: Receive, seconds: float) -> None:
        if self.started:
            return  # the answer is being sent: let it go out whole
        self.expired = True
        response = problem(
            503,
            "deadline-exceeded",
            f"The request was not done within {seconds:g} s. A write may still complete: "
            "retry with the same Idempotency-Key, which replays it.",
            headers={"Retry-After": RETRY_AFTER_S},
        )
        self.answering = asyncio.get_running_loop().create_task(
            response(scope, receive, self._send)
        )
