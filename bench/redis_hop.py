"""What the hop between workers through Redis costs a chat message.

    .venv/bin/python bench/redis_hop.py                 # 2000 messages per case, ~1 minute
    .venv/bin/python bench/redis_hop.py --messages 500  # quicker, rougher

Send -> receipt latency of one chat message, from one client to another, in three cases:

1. ``memory``: one worker on the embedded store, sender and receiver on it (the baseline);
2. ``redis-same``: a worker on Redis, sender and receiver on the same worker (what the
   Redis store costs: load and the commit script are round trips to Redis);
3. ``redis-cross``: two workers on Redis, sender on one, receiver on the other (the
   store's cost plus the pub/sub hop to the other worker).

One message is in flight at a time, paced at ``--rate`` per second over several sender
connections (under the gateway's flood guard), so the figures are latency, not queueing.
The servers are real ``circles serve`` processes with an empty moderation pipeline, Redis
is a redis-server of the bench's own on a free port, everything on 127.0.0.1. Sender and
receiver are Socket.IO clients in this process and take both timestamps on one clock.
The PRODUCT.md target: the cross-worker hop adds <= 2 ms p99.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import jwt
import socketio

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.redis_server import RedisServer, free_port  # noqa: E402 - after the path fix

SECRET = "bench-secret-" + "x" * 32
ROOM = "hop"
WARMUP = 100
# The gateway refills 10 events/s per connection: stay under it.
PER_SENDER_RATE = 8.0


def mint(name: str, role: str = "member") -> str:
    now = int(time.time())
    return jwt.encode({"sub": name, "name": name, "role": role, "room": "*", "iat": now, "exp": now + 3600},
                      SECRET, algorithm="HS256")


class Server:
    def __init__(self, config: Path, redis_url: str | None, log: Path) -> None:
        self.port = free_port()
        argv = [sys.executable, "-m", "server", "serve", "--port", str(self.port), "--config", str(config)]
        if redis_url:
            argv += ["--redis-url", redis_url]
        env = {k: v for k, v in os.environ.items() if not k.startswith("CIRCLES_")}
        env["CIRCLES_SECRET"] = SECRET
        with log.open("ab") as f:
            self.proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=f, stderr=f)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self) -> None:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(self.url + "/readyz", timeout=1) as r:
                    if r.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"server on port {self.port} did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()


async def connect(url: str, name: str, room: str, role: str = "member") -> socketio.AsyncClient:
    sio = socketio.AsyncClient(reconnection=False)
    await sio.connect(url, auth={"token": mint(name, role)}, transports=["websocket"], wait_timeout=10)
    ack = await sio.call("join", {"room": room}, timeout=10)
    if not ack.get("ok"):
        raise SystemExit(f"join failed: {ack}")
    return sio


class Case:
    """One path under test: sender connections on one server, receivers on another."""

    def __init__(self, name: str, send_url: str, recv_url: str) -> None:
        self.name, self.send_url, self.recv_url = name, send_url, recv_url
        self.senders: list[tuple[socketio.AsyncClient, str]] = []
        self.receivers: list[socketio.AsyncClient] = []
        self.latencies: list[float] = []

    async def open(self, pairs: int, on_event: Any) -> None:
        """Each sender has a room of its own with one receiver, so every case delivers each
        message to the same two sockets (the sender's own copy and the receiver's) and
        only the path between them differs."""
        for i in range(pairs):
            room = f"{ROOM}-{self.name}-{i}"
            self.senders.append((await connect(self.send_url, f"{self.name}-s{i}", room, "facilitator"), room))
            receiver = await connect(self.recv_url, f"{self.name}-r{i}", room)
            receiver.on("room.event", on_event)
            self.receivers.append(receiver)

    async def close(self) -> None:
        for c in (*(s for s, _ in self.senders), *self.receivers):
            await c.disconnect()
            http = getattr(c.eio, "http", None)  # Engine.IO keeps its session for reconnects
            if http is not None:
                await http.close()


async def measure(cases: list[Case], messages: int, rate: float) -> None:
    """Send -> receipt latency (ms) of ``messages`` chat messages per case.

    The cases take turns message by message, so that whatever else the machine does at
    a moment falls on all of them alike; one message is in flight at a time.
    """
    arrived: dict[str, asyncio.Future[float]] = {}

    async def on_event(e: dict[str, Any]) -> None:
        if e["type"] == "chat.message":
            fut = arrived.get(e["data"]["text"])
            if fut is not None and not fut.done():
                fut.set_result(time.perf_counter())

    # Several sender connections per case keep each under the gateway's flood guard.
    pairs = max(1, int(rate / len(cases) / PER_SENDER_RATE + 0.999))
    for case in cases:
        await case.open(pairs, on_event)
    loop = asyncio.get_running_loop()
    interval = 1.0 / rate
    next_at = time.perf_counter()
    for i in range(WARMUP + messages):
        for case in cases:
            text = f"{case.name} {i}"
            fut = arrived[text] = loop.create_future()
            sender, room = case.senders[i % pairs]
            sent = time.perf_counter()
            # With a client_id, as the web client always sends one (its outbox retries by it).
            await sender.emit("chat.send", {"room": room, "text": text, "client_id": f"c{i}"})
            got = await asyncio.wait_for(fut, 10)
            del arrived[text]
            if i >= WARMUP:
                case.latencies.append((got - sent) * 1000)
            next_at += interval
            delay = next_at - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)  # pacing: one message in flight at a time
    for case in cases:
        await case.close()


def command_ms(url: str, event: str = "chat.send") -> float:
    """Mean time the server took to answer ``event`` (its own /metrics), in ms."""
    with urllib.request.urlopen(url + "/metrics", timeout=5) as r:
        text = r.read().decode()
    total = count = 0.0
    for line in text.splitlines():
        if line.startswith(f'circles_command_seconds_sum{{event="{event}"}}'):
            total = float(line.split()[-1])
        elif line.startswith(f'circles_command_seconds_count{{event="{event}"}}'):
            count = float(line.split()[-1])
    return 1000 * total / count if count else float("nan")


def pct(xs: list[float], p: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, int(p / 100 * len(s)))]


async def run(args: argparse.Namespace) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="circles-hop-"))
    config = tmp / "circles.toml"
    # The rate-limit hook would shape the load; the message path is otherwise the real one.
    # One loopback address for every client: lift the per-address limits.
    config.write_text("[moderation]\npipeline = []\n[limits]\naddress_burst = 1000000\naddress_per_s = 1000000.0\n")
    redis = RedisServer().start()
    servers: list[Server] = []
    try:
        memory = Server(config, None, tmp / "memory.log")
        a = Server(config, redis.url, tmp / "a.log")
        b = Server(config, redis.url, tmp / "b.log")
        servers = [memory, a, b]
        for s in servers:
            s.wait_ready()
        cases = [Case("memory", memory.url, memory.url), Case("redis-same", a.url, a.url),
                 Case("redis-cross", a.url, b.url)]
        await measure(cases, args.messages, args.rate)
        results = {c.name: c.latencies for c in cases}
        handler = {"memory": command_ms(memory.url), "redis": command_ms(a.url)}
    finally:
        for s in servers:
            s.stop()
        redis.close()
    print(f"chat send -> receipt, {args.messages} messages per case, {args.rate:g}/s in all, "
          "cases interleaved, one message in flight (ms)")
    print(f"{'case':<12} {'p50':>7} {'p90':>7} {'p99':>7} {'max':>7} {'mean':>7}")
    for name, xs in results.items():
        print(f"{name:<12} {pct(xs, 50):7.2f} {pct(xs, 90):7.2f} {pct(xs, 99):7.2f} {max(xs):7.2f} "
              f"{statistics.fmean(xs):7.2f}")
    base, same, cross = results["memory"], results["redis-same"], results["redis-cross"]
    print(f"Redis hop (redis-cross - memory):       p50 +{pct(cross, 50) - pct(base, 50):.2f} ms, "
          f"p99 +{pct(cross, 99) - pct(base, 99):.2f} ms")
    print(f"  of which the store (redis-same - memory): p50 +{pct(same, 50) - pct(base, 50):.2f} ms, "
          f"p99 +{pct(same, 99) - pct(base, 99):.2f} ms")
    print(f"  and pub/sub to the other worker:           p50 +{pct(cross, 50) - pct(same, 50):.2f} ms, "
          f"p99 +{pct(cross, 99) - pct(same, 99):.2f} ms")
    print(f"server time to answer chat.send (mean, /metrics): memory {handler['memory']:.2f} ms, "
          f"redis {handler['redis']:.2f} ms")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--messages", type=int, default=2000, help="measured messages per case [2000]")
    ap.add_argument("--rate", type=float, default=150.0, help="messages per second, all cases together [150]")
    asyncio.run(run(ap.parse_args()))


if __name__ == "__main__":
    main()
