"""``DirectQueue``: a packet skips Engine.IO's writer task only when nothing put before it
can still be unwritten, so a socket's frames always leave in the order they were put.

The writer here is Engine.IO's own loop (``AsyncSocket.poll``, then one ``ws.send`` per
packet) with a send that can be held, as aiohttp's is while a slow client's buffer
drains; the frames go over a real socket pair and are read back from the other end.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import pytest
from engineio import packet as eio_packet
from engineio.async_socket import AsyncSocket

from server.wsdriver import DirectQueue, FramedPacket, frame_of


class Writer:
    """Engine.IO's websocket writer loop over ``transport``, with a send we can hold."""

    def __init__(self, queue: DirectQueue, transport: asyncio.Transport) -> None:
        self.sock = SimpleNamespace(queue=queue, server=SimpleNamespace(ping_interval=20, ping_timeout=20),
                                    upgraded=True, upgrading=False, closed=False)
        self.transport = transport
        self.held = asyncio.Event()
        self.held.set()
        self.sending = asyncio.Event()

    async def run(self) -> None:
        while True:
            packets = await AsyncSocket.poll(self.sock)  # type: ignore[arg-type]
            if not packets:
                return
            for pkt in packets:
                self.sending.set()
                await self.held.wait()  # a slow client: aiohttp waits for the buffer to drain
                self.transport.write(frame_of(pkt))
                await self.drained()

    async def drained(self) -> None:
        """After each write: nothing to wait for (the test holds sends with ``held``)."""


@pytest.fixture(params=[False, True], ids=["write-now", "batched"])
def batch(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> bool:
    """Both ways a direct frame is written: at once, or held to the end of the loop turn."""
    monkeypatch.setattr(DirectQueue, "batch", request.param)
    return bool(request.param)


async def test_frames_leave_in_the_order_they_were_put_while_the_writer_is_held(batch: bool) -> None:
    await with_writer(check_order)


async def test_a_packet_queued_for_an_idle_writer_is_not_overtaken(batch: bool) -> None:
    await with_writer(check_queued_while_idle)


async def test_held_frames_go_before_a_packet_queued_after_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(DirectQueue, "batch", True)
    await with_writer(check_held_then_queued)


async def with_writer(check: Any) -> None:
    loop = asyncio.get_running_loop()
    a, b = socket.socketpair()
    transport, _ = await loop.create_connection(asyncio.Protocol, sock=a)
    reader, peer = await asyncio.open_connection(sock=b)
    queue = DirectQueue()
    writer = Writer(queue, transport)
    queue.attach(writer.sock, SimpleNamespace(closed=False), transport)  # type: ignore[arg-type]
    task = asyncio.ensure_future(writer.run())
    try:
        await check(queue, writer, task, reader)
    finally:
        task.cancel()
        transport.close()
        peer.close()


async def until_idle(queue: DirectQueue) -> None:
    async def idle() -> None:
        # Nothing announces it: a few loop turns until the writer's poll reaches get().
        while not queue.writer_idle:  # noqa: ASYNC110
            await asyncio.sleep(0)
    await asyncio.wait_for(idle(), 5)


async def check_order(queue: DirectQueue, writer: Writer, task: asyncio.Future[None],
                      reader: asyncio.StreamReader) -> None:
    def put(n: int) -> None:
        queue.put_nowait(FramedPacket(eio_packet.MESSAGE, f"2[\"e\",{n}]"))

    writer.held.clear()  # the client is slow: the writer's sends are held
    put(0)  # the writer has not reached the queue yet: queued
    await asyncio.wait_for(writer.sending.wait(), 5)  # it took 0 and is held sending it
    put(1)
    put(2)  # written directly here, 1 and 2 would overtake 0
    assert queue.direct_writes == 0
    writer.held.set()  # the client reads again: 0, then 1 and 2 go
    await until_idle(queue)
    put(3)  # nothing is waiting before it: straight to the socket
    assert queue.direct_writes == 1 and queue.empty()
    queue.put_nowait(None)
    await asyncio.wait_for(task, 5)

    expected = b"".join(frame_of(FramedPacket(eio_packet.MESSAGE, f"2[\"e\",{n}]")) for n in range(4))
    got = await asyncio.wait_for(reader.readexactly(len(expected)), 5)
    assert got == expected


async def check_queued_while_idle(queue: DirectQueue, writer: Writer, task: asyncio.Future[None],
                                  reader: asyncio.StreamReader) -> None:
    await until_idle(queue)
    writer.sock.upgrading = True  # not writable now (as when the client's buffer is full)
    queue.put_nowait(FramedPacket(eio_packet.MESSAGE, "a"))
    writer.sock.upgrading = False
    # The writer was woken for "a" but has not run yet: "b" must wait behind it.
    queue.put_nowait(FramedPacket(eio_packet.MESSAGE, "b"))
    assert queue.direct_writes == 0
    queue.put_nowait(None)
    await asyncio.wait_for(task, 5)
    expected = frame_of(FramedPacket(eio_packet.MESSAGE, "a")) + frame_of(FramedPacket(eio_packet.MESSAGE, "b"))
    assert await asyncio.wait_for(reader.readexactly(len(expected)), 5) == expected


async def check_held_then_queued(queue: DirectQueue, writer: Writer, task: asyncio.Future[None],
                                 reader: asyncio.StreamReader) -> None:
    await until_idle(queue)
    a, b = FramedPacket(eio_packet.MESSAGE, "a"), FramedPacket(eio_packet.MESSAGE, "b")
    queue.put_nowait(a)
    queue.put_nowait(b)  # both held for the end of this loop turn
    ping = eio_packet.Packet(eio_packet.PING)
    queue.put_nowait(ping)  # through the writer: the held frames must be written first
    queue.put_nowait(None)
    await asyncio.wait_for(task, 5)
    expected = frame_of(a) + frame_of(b) + frame_of(ping)
    assert await asyncio.wait_for(reader.readexactly(len(expected)), 5) == expected


def test_frames_are_rfc6455_server_frames() -> None:
    short = frame_of(FramedPacket(eio_packet.MESSAGE, "x" * 10))
    assert short[:2] == bytes([0x81, 11]) and short[2:] == b"4" + b"x" * 10
    medium = frame_of(FramedPacket(eio_packet.MESSAGE, "x" * 300))
    assert medium[:4] == bytes([0x81, 126, 1, 45])
    long: Any = frame_of(FramedPacket(eio_packet.MESSAGE, "x" * 70_000))
    assert long[:2] == bytes([0x81, 127]) and int.from_bytes(long[2:10], "big") == 70_001
    binary = frame_of(FramedPacket(eio_packet.MESSAGE, b"\x01\x02"))
    assert binary == bytes([0x82, 2, 1, 2])


def test_the_delivery_event_encoding_is_what_socketio_decodes() -> None:
    from socketio import packet as sio_packet

    from server.delivery import LocalDelivery

    frames: list[Any] = []
    sock = SimpleNamespace(closed=False, queue=SimpleNamespace(put_nowait=frames.append))
    delivery = SimpleNamespace(conns={"s1": SimpleNamespace(eio=sock)})
    data = {"room": "r", "seq": 7, "data": {"text": "नमस्ते, ਸਤ ਸ੍ਰੀ ਅਕਾਲ \"quoted\" \\ ok", "n": None}}
    assert LocalDelivery.send(delivery, ["s1", "gone"], "room.event", data) == 1  # type: ignore[arg-type]
    decoded = sio_packet.Packet(encoded_packet=frames[0].data)
    assert decoded.packet_type == sio_packet.EVENT and decoded.namespace in (None, "/")
    assert decoded.data == ["room.event", data]


async def test_the_queue_keeps_order_and_shares_nothing_between_sockets() -> None:
    a, b = DirectQueue(), DirectQueue()
    assert a.empty() and a.qsize() == 0
    for n in range(3):
        a.put_nowait(n)  # not attached: every item is queued
    assert b.empty() and a.qsize() == 3
    assert [await a.get(), a.get_nowait(), await a.get()] == [0, 1, 2]
    assert a.empty() and b.empty()
    a.put_nowait("again")
    assert b.empty() and await a.get() == "again"
    a.task_done()  # join() still works: engineio waits on it when a socket closes
    for _ in range(3):
        a.task_done()
    await asyncio.wait_for(a.join(), 1)


# -- bounded: a client that reads nothing costs the server a capped amount (issue 12) ------------


class DrainingWriter(Writer):
    """Engine.IO's writer over aiohttp: each send waits until the kernel took the bytes."""

    async def drained(self) -> None:
        while self.transport.get_write_buffer_size() and not self.transport.is_closing():  # noqa: ASYNC110
            await asyncio.sleep(0.01)  # aiohttp's drain: it waits for the client to read


@contextlib.asynccontextmanager
async def never_reading_peer(max_bytes: int, writer_type: type[Writer] = Writer) -> AsyncIterator[tuple[
        DirectQueue, Writer, asyncio.Future[None], asyncio.Transport, socket.socket]]:
    """A queue and writer over a socket whose peer reads only when the test does."""
    loop = asyncio.get_running_loop()
    a, b = socket.socketpair()
    b.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    transport, _ = await loop.create_connection(asyncio.Protocol, sock=a)
    queue = DirectQueue(max_bytes=max_bytes)
    writer = writer_type(queue, transport)
    queue.attach(writer.sock, SimpleNamespace(closed=False), transport)  # type: ignore[arg-type]
    task = asyncio.ensure_future(writer.run())
    try:
        yield queue, writer, task, transport, b
    finally:
        task.cancel()
        transport.close()
        b.close()


@pytest.fixture
def fast_stall(monkeypatch: pytest.MonkeyPatch) -> None:
    """A stalled writer is given up after 0.3 s (checked every 0.1 s), not 30 s."""
    from server import wsdriver
    monkeypatch.setattr(wsdriver, "STALL_S", 0.3)
    monkeypatch.setattr(wsdriver, "STALL_CHECK_S", 0.1)


def message(n: int, size: int) -> FramedPacket:
    return FramedPacket(eio_packet.MESSAGE, f"2[\"e\",{n},\"{'x' * size}\"]")


async def test_a_connection_that_reads_nothing_is_dropped_past_its_cap_and_frees_what_waited() -> None:
    from server.wsdriver import SLOW_READER

    async with never_reading_peer(max_bytes=256 * 1024) as (queue, writer, task, transport, _):
        writer.held.clear()  # the writer is stuck sending, as for a client that never reads
        await until_idle(queue)
        queue.put_nowait(message(0, 100))
        sent = 1
        while queue.dropped is None:
            assert sent < 100, "the queue kept growing"
            queue.put_nowait(message(sent, 10_000))
            sent += 1
        assert queue.dropped == SLOW_READER
        assert sent * 10_000 <= 256 * 1024 + 20_000  # dropped at the cap, not later
        assert transport.is_closing() and queue.empty() and queue.queued_bytes == 0
        queue.put_nowait(message(999, 10))  # nothing more is kept for it
        assert queue.empty()
        queue.put_nowait(None)  # but Engine.IO's "stop" still reaches the writer
        writer.held.set()
        await asyncio.wait_for(task, 5)
        await asyncio.wait_for(queue.join(), 1)  # and Engine.IO's close does not hang on it


async def test_one_large_packet_to_a_client_that_keeps_up_is_sent() -> None:
    loop = asyncio.get_running_loop()
    a, b = socket.socketpair()
    transport, _ = await loop.create_connection(asyncio.Protocol, sock=a)
    reader, peer = await asyncio.open_connection(sock=b)
    queue = DirectQueue(max_bytes=64 * 1024)
    writer = Writer(queue, transport)
    queue.attach(writer.sock, SimpleNamespace(closed=False), transport)  # type: ignore[arg-type]
    task = asyncio.ensure_future(writer.run())
    try:
        await until_idle(queue)
        big = message(1, 200_000)  # a join answer with a long history, three times the cap
        queue.put_nowait(big)
        assert queue.dropped is None
        got = await asyncio.wait_for(reader.readexactly(len(frame_of(big))), 5)
        assert got == frame_of(big)
    finally:
        task.cancel()
        transport.close()
        peer.close()


async def test_a_writer_stuck_on_a_buffer_that_never_drains_is_given_up(fast_stall: None) -> None:
    # Engine.IO waits for its writer before it closes a socket; a writer waiting for a
    # client that reads nothing would hold the connection (and the close) forever.
    from server import wsdriver

    async with never_reading_peer(64 * 2**20, DrainingWriter) as (queue, writer, task, transport, _):
        await until_idle(queue)
        queue.put_nowait(message(0, 4 * 2**20))  # more than the kernel will hold for it
        await asyncio.sleep(0)  # written at the end of the loop turn; most of it stays buffered
        queue.put_nowait(message(1, 10))  # queued behind it: the writer wakes and waits to drain
        await asyncio.wait_for(writer.sending.wait(), 5)
        started = asyncio.get_running_loop().time()
        queue.put_nowait(None)  # the reader side gave up: Engine.IO now waits for the writer
        await asyncio.wait_for(task, 5)
        assert queue.dropped == wsdriver.STALLED
        assert 0.3 <= asyncio.get_running_loop().time() - started < 2
        assert transport.is_closing()


async def test_a_slow_reader_that_keeps_reading_is_not_given_up(fast_stall: None) -> None:
    loop = asyncio.get_running_loop()
    async with never_reading_peer(64 * 2**20, DrainingWriter) as (queue, _, _task, _transport, peer):
        peer.setblocking(False)
        await until_idle(queue)
        total = 0
        for n in range(3):
            pkt = message(n, 400_000)
            total += len(frame_of(pkt))
            queue.put_nowait(pkt)
        got = 0
        while got < total:  # a slow phone: 64 KB every 50 ms, for most of a second
            got += len(await loop.sock_recv(peer, 65536))
            await asyncio.sleep(0.05)
        assert queue.dropped is None


async def test_frames_held_past_the_bound_are_written_within_the_same_loop_turn(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # A storm: 5,000 join handlers ready in one loop turn held every ack until the last
    # had run (p50 = p99). Frames held longer than HOLD_MAX_S go out at the next put.
    from server import wsdriver

    monkeypatch.setattr(DirectQueue, "batch", True)

    async def check(queue: DirectQueue, writer: Writer, task: asyncio.Future[None],
                    reader: asyncio.StreamReader) -> None:
        await until_idle(queue)
        a, b = FramedPacket(eio_packet.MESSAGE, "a"), FramedPacket(eio_packet.MESSAGE, "b")
        queue.put_nowait(a)
        assert queue in wsdriver._held  # held for the end of the turn
        wsdriver._held_at[0] -= 2 * wsdriver.HOLD_MAX_S  # this turn has run long (other handlers) since
        queue.put_nowait(b)
        assert not wsdriver._held and queue.direct_writes == 2  # both written now, in order
        expected = frame_of(a) + frame_of(b)
        assert await asyncio.wait_for(reader.readexactly(len(expected)), 5) == expected
        queue.put_nowait(None)
        await asyncio.wait_for(task, 5)

    await with_writer(check)


async def test_a_stopped_writer_leaves_no_timer_holding_its_queue() -> None:
    # The stall timer (10 s) was armed at the writer's last get, its stop included, and
    # held the closed socket and everything it held until it fired.
    async def check(queue: DirectQueue, writer: Writer, task: asyncio.Future[None],
                    reader: asyncio.StreamReader) -> None:
        await until_idle(queue)
        queue.put_nowait(eio_packet.Packet(eio_packet.PING))  # through the writer: it is watched
        await asyncio.wait_for(reader.readexactly(len(frame_of(eio_packet.Packet(eio_packet.PING)))), 5)
        await until_idle(queue)
        queue.put_nowait(None)  # Engine.IO's "stop"
        await asyncio.wait_for(task, 5)
        assert queue._stall_timer is None
        loop = asyncio.get_running_loop()
        assert not [h for h in getattr(loop, "_scheduled", []) if getattr(h, "_callback", None) is not None
                    and getattr(h._callback, "__self__", None) is queue]

    await with_writer(check)
