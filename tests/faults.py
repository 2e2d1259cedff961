"""A TCP proxy between the app and PostgreSQL that injects network faults on demand.

It can cut every open connection, hang them (stop relaying bytes, keep them open), refuse
new ones, or cut one connection right after it relays a marker such as b"COMMIT", so a test
can lose the reply of a statement the server did execute. It reports what it holds back, so
a test waits for that state instead of sleeping.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

from sqlalchemy.engine import make_url

# How long the server may take to answer the message relayed before a `cut_after` cut; past
# it the connection closes anyway and `marker_answered` stays unset.
_ANSWER_TIMEOUT_S = 20.0


@dataclass(eq=False)
class _Link:
    client: asyncio.StreamWriter
    server: asyncio.StreamWriter
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    answered: asyncio.Event = field(default_factory=asyncio.Event)

    def close(self) -> None:
        for writer in (self.client, self.server):
            with contextlib.suppress(Exception):
                writer.transport.abort()


class FaultProxy:
    def __init__(self, database_url: str) -> None:
        url = make_url(database_url)
        self._url = url
        socket_dir = url.query.get("host")
        self._unix_path = f"{socket_dir}/.s.PGSQL.{url.port or 5432}" if socket_dir else None
        self._target = (url.host or "127.0.0.1", url.port or 5432)
        self._links: set[_Link] = set()
        self._flowing = asyncio.Event()
        self._flowing.set()
        self._refusing = False
        self._cut_marker: bytes | None = None
        self._held = 0
        self.cut_after_marker = asyncio.Event()
        self.marker_answered = asyncio.Event()
        self._server: asyncio.Server | None = None
        self.port = 0

    @property
    def url(self) -> str:
        """The database URL that goes through the proxy."""
        proxied = self._url.set(host="127.0.0.1", port=self.port, query={})
        return proxied.render_as_string(hide_password=False)

    async def start(self) -> FaultProxy:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def cut(self) -> None:
        """Drop every open connection, both ways, at once."""
        for link in list(self._links):
            link.close()
        self._links.clear()

    @property
    def held(self) -> int:
        """Connections whose next client message is held back by `hang()`: the requests
        that reached the database and now wait on it."""
        return self._held

    def hang(self, hanging: bool = True) -> None:
        """Stop (or resume) relaying bytes; connections stay open and silent."""
        if hanging:
            self._flowing.clear()
        else:
            self._flowing.set()

    def refuse(self, refusing: bool = True) -> None:
        """Close new connections as soon as they arrive."""
        self._refusing = refusing

    def cut_after(self, marker: bytes) -> None:
        """Relay the next client message containing `marker`, then drop that connection
        without relaying the server's answer. `cut_after_marker` is set at the cut,
        `marker_answered` once the server has answered that message (it acted on it)."""
        self._cut_marker = marker
        self.cut_after_marker.clear()
        self.marker_answered.clear()

    async def _accept(
        self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter
    ) -> None:
        if self._refusing:
            client_writer.transport.abort()
            return
        try:
            if self._unix_path:
                server_reader, server_writer = await asyncio.open_unix_connection(self._unix_path)
            else:
                server_reader, server_writer = await asyncio.open_connection(*self._target)
        except OSError:
            client_writer.transport.abort()
            return
        link = _Link(client_writer, server_writer)
        self._links.add(link)
        link.tasks = [
            asyncio.create_task(self._pump(client_reader, server_writer, link, upstream=True)),
            asyncio.create_task(self._pump(server_reader, client_writer, link, upstream=False)),
        ]

    async def _pump(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        link: _Link,
        *,
        upstream: bool,
    ) -> None:
        try:
            while data := await reader.read(65536):
                await self._until_flowing(upstream=upstream)
                if link not in self._links:
                    if not upstream:  # the server answered a connection already cut
                        link.answered.set()
                    return
                writer.write(data)
                await writer.drain()
                if upstream and self._cut_marker is not None and self._cut_marker in data:
                    self._cut_marker = None
                    # The client loses the answer at once; the server's side stays open until
                    # it has answered, so it does act on the message before it sees the close.
                    link.client.transport.abort()
                    self._links.discard(link)
                    self.cut_after_marker.set()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(link.answered.wait(), _ANSWER_TIMEOUT_S)
                    if link.answered.is_set():
                        self.marker_answered.set()
                    link.close()
                    return
        except (OSError, asyncio.CancelledError):
            pass
        finally:
            if link in self._links:
                self._links.discard(link)
                link.close()

    async def _until_flowing(self, *, upstream: bool) -> None:
        """Wait out a hang; a client message waiting here counts in `held`."""
        if self._flowing.is_set():
            return
        counted = 1 if upstream else 0
        self._held += counted
        try:
            await self._flowing.wait()
        finally:
            self._held -= counted
