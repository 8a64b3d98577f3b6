"""Circles with a proposed fan-out change applied at run time, to measure it before it is made.

    .venv/bin/python bench/fanout/circles_whatif.py VARIANT serve --port P --config FILE

The server code is not touched: this launcher patches two seams before ``circles serve``
starts, so ``bench/fanout_bench.py --servers circles,circles-direct`` can put the shipped
server and the proposal side by side. Variants:

``nodeflate``
    the websocket is answered without permessage-deflate (aiohttp's ``WebSocketResponse``
    compresses every frame, per recipient, whenever the client offers the extension, as
    every browser does).
``direct``
    ``SocketGateway.send`` encodes the Socket.IO packet with one ``json.dumps`` (no
    ``Packet`` object, whose constructor walks the data looking for bytes), builds the
    websocket frame once (uncompressed: RFC 7692 lets any message go without compression)
    and writes it straight to each connection's transport, skipping the per-socket
    Engine.IO queue, its writer task (an ``asyncio.wait_for`` per wake-up) and aiohttp's
    per-frame path. It falls back to the queue whenever anything sent earlier could still
    be unwritten, so order is kept. Deflate is still negotiated (acks still use it).
``both``
    ``nodeflate`` and ``direct``.
``batched``
    ``both``, and frames for one connection within one event-loop turn are joined into a
    single ``transport.write`` (one syscall) at the end of the turn.
``uvloop``
    ``both`` on uvloop's event loop (needs ``uvloop`` importable; it is not a Circles
    dependency: e.g. ``python -m venv /tmp/uv && /tmp/uv/bin/pip install uvloop`` and
    ``PYTHONPATH=/tmp/uv/lib/python3.11/site-packages``).
"""

from __future__ import annotations

import asyncio
import json
import struct
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import engineio.async_drivers.aiohttp as eio_aiohttp  # noqa: E402
from aiohttp import web  # noqa: E402

from server import cli  # noqa: E402
from server.gateway import socket as gw  # noqa: E402


def ws_frame(payload: bytes) -> bytes:
    """One final, unmasked, uncompressed text frame (server to client)."""
    n = len(payload)
    if n < 126:
        return struct.pack("!BB", 0x81, n) + payload
    if n < 65536:
        return struct.pack("!BBH", 0x81, 126, n) + payload
    return struct.pack("!BBQ", 0x81, 127, n) + payload


def install_driver(compress: bool) -> None:
    """An Engine.IO websocket driver that remembers its aiohttp response on the socket."""

    class WebSocket(eio_aiohttp.WebSocket):  # type: ignore[misc]
        async def __call__(self, environ: dict[str, Any]) -> Any:
            request = environ["aiohttp.request"]
            self._sock = web.WebSocketResponse(max_msg_size=self.server.max_http_buffer_size, compress=compress)
            await self._sock.prepare(request)
            # The handler is the Engine.IO socket's bound _websocket_handler.
            self.handler.__self__.circles_ws = self._sock
            self.environ = environ
            await self.handler(self)
            return self._sock

    orig_init = gw.SocketGateway.__init__

    def init(self: gw.SocketGateway, sio: Any, *args: Any, **kwargs: Any) -> None:
        orig_init(self, sio, *args, **kwargs)
        sio.eio._async = {**sio.eio._async, "websocket": WebSocket}

    gw.SocketGateway.__init__ = init  # type: ignore[method-assign]


def writable(sock: Any) -> Any:
    """The transport to write to directly, or None when the queue must be used.

    Direct is safe only when nothing queued earlier can still be unwritten: the Engine.IO
    queue is empty, the writer is not inside a compressed send (aiohttp's send lock), and
    the transport has nothing buffered (so the writer is not waiting in drain).
    """
    ws = getattr(sock, "circles_ws", None)
    if ws is None or not sock.upgraded or sock.upgrading or sock.closed or not sock.queue.empty():
        return None
    writer = ws._writer
    if writer is None or writer._send_lock.locked() or writer._background_tasks:
        return None
    tr = writer.transport
    if tr is None or tr.is_closing() or tr.get_write_buffer_size():
        return None
    return tr


def install_direct(batched: bool) -> None:
    pending: dict[Any, list[bytes]] = {}
    scheduled = False

    def flush() -> None:
        nonlocal scheduled
        scheduled = False
        for tr, frames in pending.items():
            if not tr.is_closing():
                tr.write(frames[0] if len(frames) == 1 else b"".join(frames))
        pending.clear()

    def send(self: gw.SocketGateway, sids: Iterable[str], event: str, data: Any) -> int:
        nonlocal scheduled
        # What socketio.packet.Packet(EVENT, namespace="/", data=[event, data]).encode() gives.
        encoded = "2" + json.dumps([event, data], separators=(",", ":"))
        frame = ws_frame(("4" + encoded).encode())
        eio_pkt: Any = None
        manager = self.sio.manager
        sockets = self.sio.eio.sockets
        n = 0
        for sid in sids:
            eio_sid = manager.eio_sid_from_sid(sid, "/")
            sock = sockets.get(eio_sid) if eio_sid is not None else None
            if sock is None or sock.closed:
                continue
            n += 1
            if batched:
                ws = getattr(sock, "circles_ws", None)
                held = pending.get(ws._writer.transport) if ws is not None and ws._writer is not None else None
                if held is not None:
                    if sock.queue.empty():
                        held.append(frame)  # this turn's batch for it: stays in order
                        continue
                    # Something was queued after the batch began: write the batch now, queue this.
                    tr = ws._writer.transport
                    tr.write(b"".join(pending.pop(tr)))
            tr = writable(sock)
            if tr is None:
                if eio_pkt is None:
                    eio_pkt = gw.engineio.packet.Packet(gw.engineio.packet.MESSAGE, encoded)
                sock.queue.put_nowait(eio_pkt)
            elif batched:
                pending[tr] = [frame]
                if not scheduled:
                    scheduled = True
                    asyncio.get_running_loop().call_soon(flush)
            else:
                tr.write(frame)
        return n

    gw.SocketGateway.send = send  # type: ignore[method-assign]


def main() -> int:
    variant, argv = sys.argv[1], sys.argv[2:]
    if variant not in ("nodeflate", "direct", "both", "batched", "uvloop"):
        raise SystemExit(f"unknown variant {variant!r}: nodeflate, direct, both, batched or uvloop")
    install_driver(compress=variant == "direct")
    if variant != "nodeflate":
        install_direct(batched=variant == "batched")
    if variant == "uvloop":
        import uvloop  # type: ignore[import-not-found]

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    return cli.main(argv)


if __name__ == "__main__":
    sys.exit(main())
