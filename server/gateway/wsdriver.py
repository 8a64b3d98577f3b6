"""Engine.IO's aiohttp websocket without per-message compression.

python-engineio's aiohttp driver accepts permessage-deflate, which compresses every
frame separately for every recipient and keeps a zlib context per connection. For
short chat events to many listeners that was about a third of the server's CPU under
fan-out and most of its memory per idle connection (157 KB → about 38 KB without it,
measured by bench/fanout_bench.py). Room events are small JSON; the link is cheaper
than the compression.
"""

from __future__ import annotations

from typing import Any

import socketio
from aiohttp.web import WebSocketResponse
from engineio.async_drivers.aiohttp import WebSocket


class UncompressedWebSocket(WebSocket):
    async def __call__(self, environ: dict[str, Any]) -> WebSocketResponse:
        request = environ["aiohttp.request"]
        self._sock = WebSocketResponse(max_msg_size=self.server.max_http_buffer_size, compress=False)
        await self._sock.prepare(request)
        self.environ = environ
        await self.handler(self)
        return self._sock


def install(sio: socketio.AsyncServer) -> None:
    """Make ``sio`` serve websockets without permessage-deflate."""
    sio.eio._async = {**sio.eio._async, "websocket": UncompressedWebSocket}
