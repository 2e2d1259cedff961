"""Webhook delivery over HTTP with httpx, and host names resolved by the system resolver.

The POST connects to the address the guard checked, never to a second resolution of the name
(which could answer differently: DNS rebinding), while TLS still verifies the certificate
against the URL's host name (SNI) and `Host` carries it."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Mapping
from urllib.parse import urlsplit, urlunsplit

import httpx

from application.ports.webhooks import HostResolver, WebhookResponse, WebhookTransport
from domain.webhook import DELIVERY_TIMEOUT_S

_ERROR_CHARS = 300


RESOLVE_TIMEOUT_S = 5.0
"""A name that has not resolved in this long does not resolve (a request waits no longer)."""


class SystemHostResolver(HostResolver):
    async def resolve(self, host: str, port: int) -> list[str]:
        try:
            async with asyncio.timeout(RESOLVE_TIMEOUT_S):
                loop = asyncio.get_running_loop()
                infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except TimeoutError:
            raise OSError(f"{host} did not resolve within {RESOLVE_TIMEOUT_S:g} s") from None
        return list(dict.fromkeys(str(info[4][0]) for info in infos))


class HttpxWebhookTransport(WebhookTransport):
    """One client (its pool) for every endpoint; redirects are not followed (a redirect is
    an answer that is no 2xx: tried again later), and the answer's body is never read."""

    def __init__(self, timeout_s: float = DELIVERY_TIMEOUT_S) -> None:
        self._timeout_s = timeout_s
        self._client: httpx.AsyncClient | None = None

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                timeout=self._timeout_s,
                follow_redirects=False,
                limits=httpx.Limits(max_connections=None, max_keepalive_connections=100),
            )
        return self._client

    async def post(
        self, url: str, address: str, body: bytes, headers: Mapping[str, str]
    ) -> WebhookResponse:
        parts = urlsplit(url)
        host = parts.hostname or ""
        literal = f"[{address}]" if ":" in address else address
        netloc = literal if parts.port is None else f"{literal}:{parts.port}"
        target = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
        sent = {**headers, "Host": parts.netloc.rsplit("@", 1)[-1]}
        extensions = {"sni_hostname": host} if parts.scheme == "https" else {}
        try:
            async with asyncio.timeout(self._timeout_s):  # in all, not per read
                request = self._http().build_request(
                    "POST", target, content=body, headers=sent, extensions=extensions
                )
                response = await self._http().send(request, stream=True)
                await response.aclose()
        except TimeoutError:
            return WebhookResponse(None, f"no answer within {self._timeout_s:g} s")
        except httpx.HTTPError as error:
            return WebhookResponse(None, f"{type(error).__name__}: {error}"[:_ERROR_CHARS])
        return WebhookResponse(response.status_code)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
