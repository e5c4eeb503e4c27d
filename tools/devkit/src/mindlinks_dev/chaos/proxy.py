"""A TCP proxy on loopback whose link a test can cut or slow: how the chaos
suite makes the embedded AWS, Redis or one peer unreachable or slow without
touching the process behind it (toxiproxy's idea, for one machine).

While cut, nothing listens (callers get "connection refused") and every live
connection is aborted, so pooled keep-alive connections fail too. While slow,
each chunk a caller sends waits ``delay`` seconds before it goes on, so each
request on a keep-alive connection is that much late.
"""

from __future__ import annotations

import asyncio
import contextlib

HOST = "127.0.0.1"
_CHUNK = 64 * 1024


class FaultProxy:
    def __init__(self, name: str, listen_port: int, target_port: int) -> None:
        self.name = name
        self.listen_port = listen_port
        self.target_port = target_port
        self.delay = 0.0
        self.connections = 0
        """Connections accepted so far (a proxy nobody uses proves nothing)."""
        self._server: asyncio.Server | None = None
        self._live: set[asyncio.StreamWriter] = set()

    @property
    def cut(self) -> bool:
        return self._server is None

    async def start(self) -> None:
        if self._server is None:
            self._server = await asyncio.start_server(
                self._serve, HOST, self.listen_port, reuse_address=True
            )

    async def cut_link(self) -> None:
        """Stop listening and abort every live connection."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for writer in list(self._live):
            writer.transport.abort()
        self._live.clear()
        if server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), timeout=2)

    async def heal(self) -> None:
        self.delay = 0.0
        await self.start()

    async def close(self) -> None:
        await self.cut_link()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            up_reader, up_writer = await asyncio.open_connection(HOST, self.target_port)
        except OSError:
            writer.transport.abort()
            return
        self._live.update((writer, up_writer))
        try:
            await asyncio.gather(
                self._pipe(reader, up_writer, slowed=True),
                self._pipe(up_reader, writer, slowed=False),
            )
        finally:
            for side in (writer, up_writer):
                self._live.discard(side)
                side.transport.abort()

    async def _pipe(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, slowed: bool
    ) -> None:
        with contextlib.suppress(ConnectionError, OSError, asyncio.IncompleteReadError):
            while chunk := await reader.read(_CHUNK):
                if slowed and self.delay:
                    await asyncio.sleep(self.delay)
                writer.write(chunk)
                await writer.drain()
            if writer.can_write_eof():
                writer.write_eof()
