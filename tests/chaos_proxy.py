"""A small TCP proxy on 127.0.0.1 for fault tests and the soak harness: it stands between
one client (a worker, a replica) and a server (Redis) and can be switched at any moment.

Modes:

- ``"pass"``: bytes flow both ways;
- ``"stall"``: connections stay open and bytes are accepted, but nothing is forwarded
  (either way) and new connections are accepted but go nowhere: a network that silently
  drops everything, the case a TCP socket notices last. Bytes that came in while stalled
  are thrown away, not delivered late (a real partition loses them too);
- ``"cut"``: every open connection is reset (RST) and new ones are reset at once.

Usage (inside a running event loop; it runs on that loop)::

    proxy = await ChaosProxy(target_port=redis.port).start()
    url = f"redis://127.0.0.1:{proxy.port}/0"
    proxy.mode = "stall"        # or proxy.set_mode("cut")
    ...
    proxy.mode = "pass"
    await proxy.close()

``ChaosProxy.in_thread(...)`` runs one on a loop of its own in a background thread, for
synchronous code (a process under test that is not in this loop is unaffected either way).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
from typing import Literal

Mode = Literal["pass", "stall", "cut"]
CHUNK = 65536


class ChaosProxy:
    def __init__(self, target_port: int, target_host: str = "127.0.0.1", port: int = 0) -> None:
        self.target = (target_host, target_port)
        self._listen_port = port
        self.port = 0
        self._mode: Mode = "pass"
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self.connections = 0  # accepted so far (for tests that want to see a reconnect)

    # -- control ----------------------------------------------------------------------------

    @property
    def mode(self) -> Mode:
        return self._mode

    @mode.setter
    def mode(self, mode: Mode) -> None:
        self.set_mode(mode)

    def set_mode(self, mode: Mode) -> None:
        """Switch at once; safe from any thread."""
        if mode not in ("pass", "stall", "cut"):
            raise ValueError(mode)
        if self._thread is not None and self._loop is not None and threading.current_thread() is not self._thread:
            done = threading.Event()

            def switch() -> None:
                self._switch(mode)
                done.set()
            self._loop.call_soon_threadsafe(switch)
            done.wait(5)
            return
        self._switch(mode)

    def _switch(self, mode: Mode) -> None:
        self._mode = mode
        if mode == "cut":
            for w in list(self._writers):
                _reset(w)
            self._writers.clear()

    # -- life -------------------------------------------------------------------------------

    async def start(self) -> ChaosProxy:
        self._loop = asyncio.get_running_loop()
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self._listen_port)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for w in list(self._writers):
            _reset(w)
        self._writers.clear()
        for t in list(self._tasks):
            t.cancel()
        for t in list(self._tasks):
            with contextlib.suppress(BaseException):
                await t
        if self._server is not None:
            with contextlib.suppress(Exception):
                await self._server.wait_closed()
            self._server = None

    @classmethod
    def in_thread(cls, target_port: int, target_host: str = "127.0.0.1", port: int = 0) -> ChaosProxy:
        """A proxy on its own loop in a daemon thread; ``stop_thread()`` ends it."""
        proxy = cls(target_port, target_host, port)
        loop = asyncio.new_event_loop()
        started = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(loop)
            loop.run_until_complete(proxy.start())
            started.set()
            loop.run_forever()
            loop.run_until_complete(proxy.close())
            loop.close()

        proxy._thread = threading.Thread(target=run, name="chaos-proxy", daemon=True)
        proxy._thread.start()
        if not started.wait(5):
            raise RuntimeError("chaos proxy did not start")
        return proxy

    def stop_thread(self) -> None:
        if self._thread is not None and self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)
            self._thread = None

    # -- the pipes --------------------------------------------------------------------------

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        if self._mode == "cut":
            _reset(writer)
            return
        self._writers.add(writer)
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        up_writer: asyncio.StreamWriter | None = None
        try:
            while self._mode == "stall":  # a new connection while stalled: it goes nowhere
                if await _drain_for(reader, 0.05) is None:
                    return
            if self._mode == "cut":
                return
            try:
                up_reader, up_writer = await asyncio.open_connection(*self.target)
            except OSError:
                _reset(writer)
                return
            self._writers.add(up_writer)
            await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            self._tasks.discard(task)
            for w in (writer, up_writer):
                if w is not None:
                    self._writers.discard(w)
                    with contextlib.suppress(Exception):
                        w.close()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                data = await reader.read(CHUNK)
                if not data:
                    break
                if self._mode == "pass":
                    writer.write(data)
                    await writer.drain()
                elif self._mode == "cut":
                    break
                # stall: swallowed
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            if self._mode == "cut":
                _reset(writer)
            else:
                with contextlib.suppress(Exception):
                    writer.close()


async def _drain_for(reader: asyncio.StreamReader, seconds: float) -> bytes | None:
    """Read (and drop) what arrives within ``seconds``; None once the peer closed."""
    try:
        data = await asyncio.wait_for(reader.read(CHUNK), seconds)
    except TimeoutError:
        return b""
    return data if data else None


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with RST rather than FIN: the peer sees "connection reset"."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(Exception):
        writer.transport.abort()
