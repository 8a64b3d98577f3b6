"""Engine.IO's aiohttp websocket, made cheaper for fan-out: no per-message compression,
and packets written straight to the socket when nothing is waiting before them.

**No compression.** python-engineio's aiohttp driver accepts permessage-deflate, which
compresses every frame separately for every recipient and keeps a zlib context per
connection. For short chat events to many listeners that was about a third of the
server's CPU under fan-out and most of its memory per idle connection (157 KB → about
38 KB without it, measured by bench/fanout_bench.py). Room events are small JSON; the
link is cheaper than the compression.

**Direct writes.** Engine.IO gives every socket a queue and a writer task: each packet
wakes the task (an ``asyncio.wait_for`` with a task of its own per wake-up), which
then writes one frame. For one chat message to a 30-member room that is 30 task
wake-ups. ``DirectQueue`` is that queue, with one change: a message put on it while the
writer task is waiting on an empty queue (so everything put before it has been written)
is framed once and written to the connection's transport at once, synchronously; any
other time it is queued as before and the writer sends it, in order. Order is kept
because a packet only skips the queue when there is nothing in it and nothing taken
from it still being sent. A frame shared by many sockets (a fan-out) is built once, and
a socket's frames of one event-loop turn are written together (``DirectQueue.batch``).
Engine.IO's own packets (ping, close, noop) always go through the writer: it closes a
connection whose queue stayed empty for ping_interval + ping_timeout, and the pings
keep it awake.

What this leans on: aiohttp's public ``request.transport`` and
``WebSocketResponse.closed``; python-engineio's socket flags (``upgraded``,
``upgrading``, ``closed``), its ``create_queue`` hook, its driver table (``_async``,
private, as the uncompressed driver already used) and its writer loop (``poll``, which
calls ``queue.get``, then ``ws.send`` per packet), on which the ordering argument rests.
tests/unit/test_direct_queue.py drives a copy of that loop (with Engine.IO's own
``poll``) against a held send; tests/integration/test_delivery_paths.py runs the real
server on both paths, for order and for the writer's idle timeout. Read the writer loop
again when upgrading python-engineio.

**Bounded.** A client that never reads must not grow the server: what waits for it (the
queue, and what its kernel buffer and aiohttp hold) is capped at ``max_bytes`` per
connection, and a writer that has made no progress for ``STALL_S`` is given up too (it
would otherwise hold the connection, and Engine.IO's close, forever). Past either, the
connection is aborted and ``dropped`` says why: the member's client reconnects and
catches up with ``since``, as after any network drop.
"""

from __future__ import annotations

import asyncio
import collections
import json
import struct
from typing import Any, Final

import engineio
import socketio
from aiohttp.web import WebSocketResponse
from engineio import packet as eio_packet
from engineio.async_drivers.aiohttp import WebSocket
from engineio.async_socket import AsyncSocket

# A connection whose kernel buffer is this full is slow: its packets go through the
# queue, whose writer waits for the buffer to drain (aiohttp's flow control).
SLOW_BUFFER_BYTES: Final = 64 * 1024
# What may wait for one connection, queued and in its transport's buffer, before it is
# dropped as a slow reader: several join snapshots of a large room, far more than a
# member on a slow phone ever has outstanding.
MAX_QUEUED_BYTES: Final = 2 * 1024 * 1024
# A writer that has sent nothing for this long (its buffer neither drained nor grew) is
# given up. Checked every STALL_CHECK_S while the writer is busy.
STALL_S: Final = 30.0
STALL_CHECK_S: Final = 10.0
# Why a connection was dropped (``DirectQueue.dropped``; the disconnect metric's reason).
SLOW_READER: Final = "slow_reader"
STALLED: Final = "stalled_writer"
# A frame or packet no Socket.IO client sends (see ``readable`` and
# ``gateway.socket.StrictServer``): the connection is closed at once.
BAD_PACKET: Final = "bad_packet"
# What a client may send over a websocket besides messages ("4" + a Socket.IO packet):
# close, ping and pong (with the upgrade's "probe"), upgrade and noop.
_CONTROL: Final = frozenset({"1", "2", "3", "5", "6", "2probe", "3probe"})


def readable(data: str | bytes) -> bool:
    """Whether Engine.IO can read this websocket frame without failing: a binary frame
    (a message; the gateway refuses it), or text that is a control packet above or "4"
    and a Socket.IO packet (which starts with an ASCII digit). Engine.IO's own decoder
    raises on an empty frame or an unknown type (a traceback from aiohttp's request
    handler), reads "٣" as packet type 3, and parses the JSON of anything else with no
    depth limit."""
    if isinstance(data, bytes):
        return True
    if len(data) > 1 and data[0] == "4":
        return "0" <= data[1] <= "9"
    return data in _CONTROL


def ws_frame(payload: bytes, binary: bool = False) -> bytes:
    """One final, unmasked, uncompressed frame from server to client (RFC 6455 §5.2)."""
    head = 0x82 if binary else 0x81
    n = len(payload)
    if n < 126:
        return struct.pack("!BB", head, n) + payload
    if n < 65536:
        return struct.pack("!BBH", head, 126, n) + payload
    return struct.pack("!BBQ", head, 127, n) + payload


def _encode_frame(pkt: Any) -> bytes:
    encoded = pkt.encode()
    if isinstance(encoded, bytes | bytearray):
        return ws_frame(bytes(encoded), binary=True)
    return ws_frame(encoded.encode())


class FramedPacket(eio_packet.Packet):
    """An Engine.IO packet that remembers its websocket frame: one frame for every
    socket of a fan-out."""

    _frame: bytes | None = None

    def frame(self) -> bytes:
        if self._frame is None:
            self._frame = _encode_frame(self)
        return self._frame


def event_packet(event: str, data: Any) -> FramedPacket:
    """A Socket.IO EVENT on the default namespace, ready for many sockets: "2" and the JSON
    of [event, data] (what socketio's Packet encodes, without its walk of the data for
    bytes: ours is JSON only), in one Engine.IO packet whose frame is built once."""
    return FramedPacket(eio_packet.MESSAGE, "2" + json.dumps([event, data], separators=(",", ":"), ensure_ascii=False))


def frame_of(pkt: Any) -> bytes:
    return pkt.frame() if isinstance(pkt, FramedPacket) else _encode_frame(pkt)


# Always empty, shared by every DirectQueue (see its __init__).
_NOTHING: Final[collections.deque[Any]] = collections.deque(maxlen=0)
# Queues with frames held for the end of this event-loop turn (``DirectQueue.batch``).
_held: list[DirectQueue] = []
# When the frames held now began to be held. A turn of the event loop that runs many
# handlers at once (5,000 joins of a connection storm, all ready together) would hold
# every answer until the last of them ran: the first join's ack waited as long as the
# last one's (p50 = p99 = 2.7 s). Frames held longer than HOLD_MAX_S are written at once.
_held_at: list[float] = [0.0]
HOLD_MAX_S: Final = 0.005
# Closes of dropped long-polling sockets under way (a reference keeps each task alive).
_closing: set[asyncio.Future[Any]] = set()


def _write_held() -> None:
    queues = list(_held)
    _held.clear()
    for q in queues:
        q.write_held()


def _size(item: Any) -> int:
    """About the bytes a packet takes on the wire: exact for a fan-out's frame, the
    payload's length (plus a frame header) for the rest."""
    if isinstance(item, FramedPacket):
        return len(item.frame())
    data = getattr(item, "data", None)
    return (len(data) if isinstance(data, str | bytes) else 0) + 16


async def _close_polling(sock: Any, reason: str) -> None:
    await sock.close(wait=False, abort=True, reason=reason)
    # Engine.IO forgets a closed long-polling socket only at its next GET; a POST before
    # that would fail inside Engine.IO (HTTP 500) instead of getting its 400.
    if sock.server.sockets.get(sock.sid) is sock:
        del sock.server.sockets[sock.sid]


class DirectQueue(asyncio.Queue[Any]):
    """An Engine.IO socket's send queue that writes through when the writer is idle,
    and drops its connection rather than hold more than ``max_bytes`` for it."""

    # Hold a socket's direct frames until the end of the event-loop turn and write them
    # with one call: one system call when several are due at once, as under load (a
    # quick bench at 2,400 msg/s: 72k deliveries per CPU-second against 45-50k; no
    # measurable difference at low rates). What is held is written before anything
    # that goes through the queue after it.
    batch = True

    def __init__(self, direct: bool = True, max_bytes: int = MAX_QUEUED_BYTES) -> None:
        super().__init__()
        self.direct = direct
        self.max_bytes = max_bytes
        # Memory per idle connection: an unbounded queue never has a waiting putter, and
        # an empty one needs no deque of its own (asyncio's Queue allocates both, ~0.7 KB
        # each). Both shared deques have maxlen 0: nothing can ever be kept in them.
        self._putters = _NOTHING
        self._frames: list[bytes] = []
        self._idle_getters = 0
        # Set once the socket's websocket is open (``attach``).
        self.transport: asyncio.Transport | None = None
        self.ws: WebSocketResponse | None = None
        self.sock: Any = None
        self.direct_writes = 0
        # Bytes of the packets in the queue; why the connection was dropped, if it was.
        self.queued_bytes = 0
        self.dropped: str | None = None
        # The writer took packets at this loop time and has not asked for more since.
        self._busy_since: float | None = None
        self._stall_timer: asyncio.TimerHandle | None = None
        self._stall_seen: tuple[int, float] = (-1, 0.0)

    # asyncio.Queue's hooks for its storage (as PriorityQueue uses them).
    def _init(self, maxsize: int) -> None:
        self._queue = _NOTHING

    def _put(self, item: Any) -> None:
        if self._queue is _NOTHING:
            self._queue = collections.deque()
        self._queue.append(item)
        if item is not None:
            self.queued_bytes += _size(item)

    def _get(self) -> Any:
        item = self._queue.popleft()
        if not self._queue:
            self._queue = _NOTHING
            self.queued_bytes = 0
        elif item is not None:
            self.queued_bytes -= _size(item)
        return item

    @property
    def writer_idle(self) -> bool:
        """The writer is waiting for packets: it has sent everything it took."""
        return self._idle_getters > 0

    def attach(self, sock: Any, ws: WebSocketResponse, transport: asyncio.Transport | None) -> None:
        self.sock, self.ws, self.transport = sock, ws, transport

    def belongs_to(self, sock: Any) -> None:
        """The Engine.IO socket this queue serves, known before any websocket (a
        long-polling client): a dropped one is closed through it."""
        if self.sock is None:
            self.sock = sock

    async def get(self) -> Any:
        # The writer asks for more only after sending everything it took before.
        self._idle_getters += 1
        self._busy_since = None
        item = None
        try:
            item = await super().get()
            return item
        finally:
            self._idle_getters -= 1
            loop = asyncio.get_running_loop()
            self._busy_since = loop.time()
            tr = self.transport
            if item is None:
                # The writer stops (Engine.IO's None, or it was cancelled): nothing to
                # watch. A timer left armed would hold this queue, and through it the
                # closed socket and everything it held, for STALL_CHECK_S.
                self._unwatch()
            elif self._stall_timer is None and tr is not None and not tr.is_closing():
                self._stall_timer = loop.call_later(STALL_CHECK_S, self._check_stall)

    def _unwatch(self) -> None:
        if self._stall_timer is not None:
            self._stall_timer.cancel()
            self._stall_timer = None

    def put_nowait(self, item: Any) -> None:
        if self.dropped is not None:
            if item is None:  # Engine.IO's "writer, stop": it must still get through
                super().put_nowait(item)
            return
        # Only messages go straight through. Pings (every ping_interval) go through the
        # writer, which must be woken at least that often: it gives the connection up,
        # and closes the websocket, when its queue stays empty for ping_interval +
        # ping_timeout.
        tr = self.transport
        if item is not None and (waiting := self._pending(tr) + self.queued_bytes):
            # Something already waits for this client: past the cap, it is not reading.
            # (One large packet to a client that keeps up is never refused.)
            if waiting + _size(item) > self.max_bytes:
                self.drop(SLOW_READER)
                return
        if (self.direct and tr is not None and self._idle_getters
                and getattr(item, "packet_type", None) == eio_packet.MESSAGE
                and self.empty() and self._writable(tr)):
            self.direct_writes += 1
            if not self.batch:
                tr.write(frame_of(item))
                return
            if not self._frames:
                if not _held:
                    loop = asyncio.get_running_loop()
                    loop.call_soon(_write_held)
                    _held_at[0] = loop.time()
                _held.append(self)
            self._frames.append(frame_of(item))
            if asyncio.get_running_loop().time() - _held_at[0] > HOLD_MAX_S:
                _write_held()
            return
        if self._frames:
            self.write_held()  # what was held goes first
        super().put_nowait(item)

    def write_held(self) -> None:
        frames, self._frames = self._frames, []
        tr = self.transport
        if frames and tr is not None and not tr.is_closing():
            tr.write(frames[0] if len(frames) == 1 else b"".join(frames))

    def _pending(self, tr: asyncio.Transport | None) -> int:
        """Bytes written for this connection that it has not taken yet."""
        held = sum(map(len, self._frames)) if self._frames else 0
        return held + (tr.get_write_buffer_size() if tr is not None and not tr.is_closing() else 0)

    def _check_stall(self) -> None:
        """Every STALL_CHECK_S while the writer is busy: a buffer that has not moved for
        STALL_S means the client reads nothing."""
        self._stall_timer = None
        tr = self.transport
        if self._busy_since is None or self.dropped is not None or tr is None or tr.is_closing():
            self._stall_seen = (-1, 0.0)
            return
        now = asyncio.get_running_loop().time()
        size = tr.get_write_buffer_size()
        seen, since = self._stall_seen
        if size != seen:
            self._stall_seen = (size, now)
        elif size > 0 and now - since >= STALL_S:
            self.drop(STALLED)
            return
        self._stall_timer = asyncio.get_running_loop().call_later(STALL_CHECK_S, self._check_stall)

    def backlogged(self) -> bool:
        """Something waits to be written to this connection (it is not reading it)."""
        tr = self.transport
        return self.queued_bytes > 0 or (tr is not None and not tr.is_closing() and tr.get_write_buffer_size() > 0)

    def drop(self, reason: str) -> None:
        """Give the connection up: abort its transport (its writer, waiting for a buffer
        that never drains, wakes with an error and Engine.IO closes the socket) and free
        everything that waited for it."""
        if self.dropped is not None:
            return
        self.dropped = reason
        waiting = [item for item in self._queue if item is None]
        n = len(self._queue)
        self._queue = _NOTHING
        self.queued_bytes = 0
        self._frames = []
        for item in waiting:
            self._put(item)
        # Packets dropped from the queue are done, as far as Queue.join is concerned.
        for _ in range(n - len(waiting)):
            self.task_done()
        self._unwatch()
        tr = self.transport
        if tr is not None:
            tr.abort()
        elif self.sock is not None and not self.sock.closed:
            # Long-polling: no transport of ours to abort; Engine.IO closes the socket.
            task = asyncio.ensure_future(_close_polling(self.sock, reason))
            _closing.add(task)
            task.add_done_callback(_closing.discard)

    def _writable(self, tr: asyncio.Transport) -> bool:
        sock, ws = self.sock, self.ws
        return (sock is not None and ws is not None and sock.upgraded and not sock.upgrading
                and not sock.closed and not ws.closed and not tr.is_closing()
                and tr.get_write_buffer_size() < SLOW_BUFFER_BYTES)


class CirclesWebSocket(WebSocket):
    """The websocket transport: uncompressed; a socket whose queue is a ``DirectQueue``
    (``install(direct=True)``) gets the connection to write through."""

    async def __call__(self, environ: dict[str, Any]) -> WebSocketResponse:
        request = environ["aiohttp.request"]
        self._sock = WebSocketResponse(max_msg_size=self.server.max_http_buffer_size, compress=False)
        await self._sock.prepare(request)
        self.environ = environ
        # The handler is the Engine.IO socket's bound _websocket_handler.
        eio_socket = getattr(self.handler, "__self__", None)
        queue = getattr(eio_socket, "queue", None)
        if isinstance(queue, DirectQueue):
            queue.attach(eio_socket, self._sock, request.transport)
        await self.handler(self)
        return self._sock

    async def wait(self) -> Any:
        """The next frame; a frame Engine.IO cannot read closes the connection instead
        (``None`` is what Engine.IO's loop takes for a close)."""
        data = await super().wait()
        if not readable(data):
            queue = getattr(getattr(self.handler, "__self__", None), "queue", None)
            if isinstance(queue, DirectQueue):
                queue.drop(BAD_PACKET)
            return None
        return data


class CirclesEngineIO(engineio.AsyncServer):
    """Engine.IO's server, with each socket's ping timer ended when the socket closes.

    Engine.IO sleeps ``ping_interval`` (20 s) in a task of its own before each ping,
    and that task holds the socket, and with it the websocket, its request handler and
    whatever they hold, for up to 20 s after the socket closed. A client that
    reconnects fast (one that is closed for a bad packet each time) kept thousands of
    closed sockets alive: 12,000 messages and 14,000 frames from their tracebacks in
    the fuzzer's first minute, and every full garbage collection walked them (pauses
    past 200 ms). ``stop_pinging`` on close lets the socket go at once."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.pings: dict[str, asyncio.Future[Any]] = {}

    def start_background_task(self, target: Any, *args: Any, **kwargs: Any) -> Any:
        task = super().start_background_task(target, *args, **kwargs)
        sock = getattr(target, "__self__", None)
        if isinstance(sock, AsyncSocket) and getattr(target, "__func__", None) is AsyncSocket._send_ping:
            sid = sock.sid
            self.pings[sid] = task
            task.add_done_callback(lambda t: self.pings.pop(sid, None) if self.pings.get(sid) is t else None)
        return task

    def stop_pinging(self, sid: str) -> None:
        """The socket ``sid`` closed: its pending ping is dropped."""
        task = self.pings.pop(sid, None)
        if task is not None:
            task.cancel()


def install(sio: socketio.AsyncServer, direct: bool = True, max_bytes: int = MAX_QUEUED_BYTES) -> None:
    """Make ``sio`` serve websockets without permessage-deflate, hold at most
    ``max_bytes`` for any connection, and (``direct``) write packets straight to the
    socket when nothing waits before them."""
    sio.eio._async = {**sio.eio._async, "websocket": CirclesWebSocket}
    sio.eio.create_queue = lambda *args, **kwargs: DirectQueue(direct=direct, max_bytes=max_bytes)
