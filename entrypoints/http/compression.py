"""gzip for answers of HEXBANK_GZIP_MIN_BYTES or more, when the client accepts it."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.middleware.gzip import DEFAULT_EXCLUDED_CONTENT_TYPES, GZipResponder
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_NO_CONTENT = frozenset({204, 304})
"""Answers that carry no body (RFC 9110 sections 15.3.5, 15.4.5), like every 1xx: nothing to
compress, and a gzip stream of nothing would be 20 bytes too many on the connection. A 304
still says `Vary`, as the 200 it stands for would (section 15.4.5)."""


class Compression:
    """gzip with Starlette's compressor (streams flushed per chunk, large bodies compressed
    off the event loop, the content types it leaves alone), and the decisions made here:

    - Every answer that could be compressed says `Vary: Accept-Encoding`, small ones and
      those to clients that do not take gzip too: a cache must not hand a gzipped copy to a
      client that cannot read it, nor the plain one to every client after.
    - Nothing is compressed without a body to compress: 1xx, 204, 304, an empty body, a HEAD
      (HeadAsGet, outside, turns HEAD into GET, so GET's headers are what HEAD sends).
    - Accept-Encoding is read as RFC 9110 section 12.5.3 says, q-values and `*` included.
    """

    def __init__(self, app: ASGIApp, minimum_size: int, compresslevel: int) -> None:
        if minimum_size < 1:
            raise ValueError("an empty body is never compressed: the minimum size is at least 1")
        self.app = app
        self.minimum_size = minimum_size
        self.compresslevel = compresslevel

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] == "HEAD":
            await self.app(scope, receive, send)
            return
        accepted = accepts_gzip(scope["headers"])
        start: Message | None = None
        compressor: GZipResponder | None = None

        async def compressing(message: Message) -> None:
            nonlocal start, compressor
            kind = message["type"]
            if kind == "http.response.start":
                if _compressible(message):
                    _vary_on_accept_encoding(message)
                    if accepted and message["status"] not in _NO_CONTENT:
                        start = message  # held until the first body says how big it is
                        return
                await send(message)
                return
            if start is None:  # passed through, or not the answer (trailers, early hints)
                await send(message)
                return
            if kind != "http.response.body":  # a file sent by path: not ours to compress
                await send(start)
                start = None
                await send(message)
                return
            body = message.get("body", b"")
            more = message.get("more_body", False)
            if compressor is None:
                if not more and len(body) < self.minimum_size:
                    await send(start)
                    start = None
                    await send(message)
                    return
                compressor = GZipResponder(self.app, self.minimum_size, self.compresslevel)
                zipped = await compressor.apply_compression(body, more_body=more)
                headers = MutableHeaders(raw=start["headers"])
                headers["Content-Encoding"] = "gzip"
                if more or start.get("trailers", False):
                    del headers["Content-Length"]
                else:
                    headers["Content-Length"] = str(len(zipped))
                await send(start)
            else:
                zipped = await compressor.apply_compression(body, more_body=more)
            await send({**message, "body": zipped})

        await self.app(scope, receive, compressing)


def _compressible(start: Message) -> bool:
    """Whether this kind of answer is ever compressed: not 1xx/204, not already encoded, not a
    range (206), not a content type that is compressed already (images, archives...)."""
    status: int = start["status"]
    if status < 200 or status == 204 or status == 206:
        return False
    content_type = b""
    for name, value in start.get("headers", []):
        if name.lower() == b"content-encoding":
            return False
        if name.lower() == b"content-type":
            content_type = value
    media_type = content_type.decode("latin-1").partition(";")[0].strip().lower()
    excluded = DEFAULT_EXCLUDED_CONTENT_TYPES
    return media_type not in excluded and media_type.partition("/")[0] + "/*" not in excluded


def _vary_on_accept_encoding(start: Message) -> None:
    """Adds `Accept-Encoding` to `Vary` unless it is there already (or `Vary: *`)."""
    headers = MutableHeaders(raw=start.setdefault("headers", []))
    named = {
        token.strip().lower() for value in headers.getlist("vary") for token in value.split(",")
    }
    if "accept-encoding" not in named and "*" not in named:
        headers.add_vary_header("Accept-Encoding")


def accepts_gzip(headers: list[tuple[bytes, bytes]]) -> bool:
    """RFC 9110 section 12.5.3: gzip (or its alias x-gzip) with a q-value above 0, or else
    `*` with one; a coding listed twice counts by its first mention. A q-value that is no
    number refuses the coding (a client that garbles it gets the body as it is)."""
    weights: dict[str, float] = {}
    for name, value in headers:
        if name.lower() != b"accept-encoding":
            continue
        for element in value.decode("latin-1").split(","):
            coding, *parameters = (part.strip() for part in element.split(";"))
            coding = coding.lower()
            if not coding:
                continue
            weights.setdefault("gzip" if coding == "x-gzip" else coding, _q(parameters))
    weight = weights.get("gzip", weights.get("*", 0.0))
    return weight > 0


def _q(parameters: list[str]) -> float:
    """The q parameter's weight (1 when there is none), 0 when it is no valid qvalue."""
    for parameter in parameters:
        key, _, raw = parameter.partition("=")
        if key.strip().lower() == "q":
            try:
                weight = float(raw.strip())
            except ValueError:
                return 0.0
            return weight if 0 <= weight <= 1 else 0.0
    return 1.0
