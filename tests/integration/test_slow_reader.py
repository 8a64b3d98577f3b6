"""Issue 12, item 1: a client that never reads cannot grow the server.

The server is a real ``circles serve`` process, so its memory is its own. The attacker
is a raw websocket with a small receive buffer that speaks just enough Engine.IO and
Socket.IO to join a room with a long history, then asks to join again ten times a
second (each answer carries the room's snapshot) and never reads a byte; it even
answers pings blindly, so Engine.IO's ping timeout does not save the server. Meanwhile
two members chat in another room. The server must drop the reader with a reason, hold
its memory growth to a few megabytes, and keep the other room's chat fast.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import struct
import sys
import time
from pathlib import Path

import aiohttp
import pytest

from server.gateway import keys
from server.wsdriver import SLOW_READER
from tests.integration.conftest import MakeServer
from tests.integration.test_cli import ROOT, env, free_port, wait_healthy
from tests.support import SECRET, Client, token

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")

ATTACK_S = 30.0
HISTORY = "a long share about the week, " * 66  # ~1,900 characters: the snapshot is large


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def client_frame(text: str) -> bytes:
    """A masked text frame, as a client must send (RFC 6455 §5.3)."""
    payload = text.encode()
    mask = os.urandom(4)
    n = len(payload)
    head = struct.pack("!BB", 0x81, 0x80 | n) if n < 126 else struct.pack("!BBH", 0x81, 0x80 | 126, n)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


class NeverReads:
    """A websocket client that reads only its handshake, then never again."""

    def __init__(self, port: int, tok: str, room: str) -> None:
        self.port, self.tok, self.room = port, tok, room
        self.sock = socket.socket()
        # A small window: the server's writes stay in the server.
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.sock.setblocking(False)
        self.sent = 0

    async def _read_frame(self, buf: bytearray) -> str:
        loop = asyncio.get_running_loop()
        while True:
            if len(buf) >= 2:
                n = buf[1] & 0x7F
                start = 2
                if n == 126:
                    if len(buf) < 4:
                        buf += await loop.sock_recv(self.sock, 65536)
                        continue
                    n, start = struct.unpack("!H", bytes(buf[2:4]))[0], 4
                if len(buf) >= start + n:
                    text = bytes(buf[start:start + n]).decode()
                    del buf[:start + n]
                    return text
            buf += await loop.sock_recv(self.sock, 65536)

    async def open(self) -> None:
        loop = asyncio.get_running_loop()
        await loop.sock_connect(self.sock, ("127.0.0.1", self.port))
        key = base64.b64encode(os.urandom(16)).decode()
        await loop.sock_sendall(self.sock, (
            "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
            f"Host: 127.0.0.1:{self.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
        buf = bytearray()
        while b"\r\n\r\n" not in buf:
            buf += await loop.sock_recv(self.sock, 4096)
        head, _, rest = bytes(buf).partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 101"), head[:40]
        buf = bytearray(rest)
        assert (await self._read_frame(buf)).startswith("0")  # Engine.IO open
        await loop.sock_sendall(self.sock, client_frame("40" + json.dumps({"token": self.tok})))
        assert (await self._read_frame(buf)).startswith("40")  # Socket.IO connected

    async def send(self, text: str) -> bool:
        """False once the server has dropped the connection."""
        try:
            await asyncio.get_running_loop().sock_sendall(self.sock, client_frame(text))
        except OSError:
            return False
        self.sent += 1
        return True

    async def attack(self, until: float) -> float | None:
        """Join ten times a second and answer pings blindly; the time it was dropped."""
        n = 0
        while time.monotonic() < until:
            n += 1
            ok = await self.send(f'42{n}["join",{{"room":"{self.room}"}}]')
            if ok and n % 50 == 0:
                ok = await self.send("3")
            if not ok:
                return time.monotonic()
            await asyncio.sleep(0.1)
        return None

    def close(self) -> None:
        self.sock.close()


async def test_a_client_that_never_reads_is_dropped_and_costs_the_server_little(tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    config = tmp_path / "circles.toml"
    # Plain chat (no moderation hooks) so the history fills quickly; the limits are the
    # defaults, which allow a join ten times a second.
    config.write_text('[moderation]\npipeline = []\n'
                      '[[rooms]]\nid = "big"\nkind = "circle"\ntitle = "Big"\n'
                      '[[rooms]]\nid = "other"\nkind = "circle"\ntitle = "Other"\n')
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "server", "serve", "--port", str(port), "--config", str(config), cwd=ROOT,
        env=env(CIRCLES_SECRET=SECRET), stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    clients: list[Client] = []
    readers: list[NeverReads] = []
    try:
        await wait_healthy(url)
        # A room with a long history: every join answer carries ~50 messages of ~2 KB.
        writers = [Client(url, token("big", "member", name=f"W{i}", sub=f"w{i}")) for i in range(5)]
        clients += writers
        for w in writers:
            await w.connect()
            await w.join("big")
        for n in range(60):
            ack = await writers[n % 5].call("chat.send", {"room": "big", "text": f"{n} {HISTORY}"})
            assert ack["ok"], ack
        # Two members in another room, measured throughout.
        talker = Client(url, token("other", "member", name="Tal", sub="tal"))
        listener = Client(url, token("other", "member", name="Lis", sub="lis"))
        clients += [talker, listener]
        for c in (talker, listener):
            await c.connect()
            await c.join("other")
        before = rss_bytes(proc.pid)

        # Four member links, none of which ever reads.
        readers = [NeverReads(port, token("big", "member", name=f"Slow{i}", sub=f"slow{i}"), "big")
                   for i in range(4)]
        for r in readers:
            await r.open()
        started = time.monotonic()
        attack = asyncio.gather(*(r.attack(started + ATTACK_S) for r in readers))

        latencies: list[float] = []
        peak = before
        n = 0
        while not attack.done() or time.monotonic() - started < 5:
            n += 1
            sent = time.perf_counter()
            ack = await talker.call("chat.send", {"room": "other", "text": f"hello {n}", "client_id": f"c{n}"})
            assert ack["ok"], ack
            await listener.wait_event("chat.message", lambda e, n=n: e["data"]["text"] == f"hello {n}")
            latencies.append(time.perf_counter() - sent)
            peak = max(peak, rss_bytes(proc.pid))
            await asyncio.sleep(0.15)  # a lively chat (and under the per-connection rate), not a benchmark
        dropped_at = await attack

        growth = peak - before
        latencies.sort()
        p99 = latencies[int(len(latencies) * 0.99) - 1]
        kept = max((t or time.monotonic()) - started for t in dropped_at)
        print(f"\nslow reader: dropped after {kept:.1f} s; server grew {growth / 2**20:.1f} MB; "
              f"other room chat p99 {p99 * 1000:.1f} ms over {len(latencies)} messages")
        assert all(t is not None for t in dropped_at), "a reader that never reads was kept for 30 s"
        assert growth <= 32 * 2**20, f"the server grew by {growth / 2**20:.0f} MB"
        assert p99 < 0.05, f"chat p99 {p99 * 1000:.0f} ms while a reader stalled"
        async with aiohttp.ClientSession() as http, http.get(url + "/metrics") as resp:
            metrics = await resp.text()
        assert 'circles_disconnects_total{reason="slow_reader"} 4.0' in metrics
        # The member's own other connections, and everyone else, are untouched.
        assert talker.sio.connected and listener.sio.connected and all(w.sio.connected for w in writers)
    finally:
        for r in readers:
            r.close()
        for c in clients:
            await c.close()
        proc.terminate()
        _, err = await proc.communicate()
        assert b"Traceback" not in err


async def test_a_long_polling_client_that_never_polls_is_dropped_too(make_server: MakeServer) -> None:
    # Long-polling has no socket of ours to abort: what waits for the client sits in the
    # queue until it asks. One that only posts (joins, and blind pongs) never asks.
    server = await make_server(moderation={"pipeline": []})
    writers = [await server.client("poll-room", "facilitator", "Fac")]
    writers += [await server.client("poll-room", "member", f"W{i}") for i in range(4)]
    for n in range(50):
        assert (await writers[n % 5].call("chat.send", {"room": "poll-room", "text": f"{n} {HISTORY}"}))["ok"]
    tok = token("poll-room", "member", name="Poll", sub="poll")
    base = server.url + "/socket.io/?EIO=4&transport=polling"
    async with aiohttp.ClientSession() as http:
        async with http.get(base) as r:
            sid = json.loads((await r.text())[1:])["sid"]
        url = f"{base}&sid={sid}"
        async with http.post(url, data="40" + json.dumps({"token": tok})) as r:
            assert r.status == 200
        async with http.get(url) as r:
            assert (await r.text()).startswith("40")
        queue = next(s.queue for s in server.app[keys.SIO].eio.sockets.values() if s.sid == sid)
        status = 200
        for n in range(200):
            async with http.post(url, data=f'42{n}["join",{{"room":"poll-room"}}]') as r:
                status = r.status
            if status != 200:
                break
            await asyncio.sleep(0.02)
    assert status == 400 and queue.dropped == SLOW_READER
    assert queue.empty()
    registry = server.app[keys.METRICS].registry
    assert registry.get_sample_value("circles_disconnects_total", {"reason": "slow_reader"}) == 1
    assert all(w.sio.connected for w in writers)


async def test_a_client_that_never_reads_does_not_hold_a_draining_worker(tmp_path: Path) -> None:
    # Found by the soak (issue 18): a worker drained (SIGTERM) while a slow consumer's
    # buffers were full took 10 s to exit, its goodbye stuck behind them.
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    config = tmp_path / "circles.toml"
    config.write_text('[moderation]\npipeline = []\n[[rooms]]\nid = "big"\nkind = "circle"\ntitle = "Big"\n')
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "server", "serve", "--port", str(port), "--config", str(config), cwd=ROOT,
        env=env(CIRCLES_SECRET=SECRET), stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    writers = [Client(url, token("big", "member", name=f"W{i}", sub=f"w{i}")) for i in range(5)]
    reader = NeverReads(port, token("big", "member", name="Slow", sub="slow"), "big")
    try:
        await wait_healthy(url)
        for w in writers:
            await w.connect()
            await w.join("big")
        for n in range(60):
            assert (await writers[n % 5].call("chat.send", {"room": "big", "text": f"{n} {HISTORY}"}))["ok"]
        await reader.open()
        # Ask for ~100 KB snapshots until the server has to keep what the reader does not
        # take (not yet long enough to be dropped as a slow reader).
        assert await reader.attack(time.monotonic() + 2.5) is None
        signalled = time.monotonic()
        proc.terminate()
        await asyncio.wait_for(proc.wait(), 15)
        exited = time.monotonic() - signalled
        print(f"\ndrained past a slow reader in {exited:.2f} s")
        assert proc.returncode == 0
        assert exited < 4.0, f"the drain took {exited:.1f} s"
    finally:
        reader.close()
        for w in writers:
            await w.close()
        if proc.returncode is None:
            proc.kill()
        _, err = await proc.communicate()
        assert b"Traceback" not in err
