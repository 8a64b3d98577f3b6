"""Chaos soak (issue 18): many rooms, scripted people, faults on a seeded schedule, and an
invariant checker (``bench/soak_check.py``) over everything the clients received.

    .venv/bin/python bench/soak.py                      # 2 minutes, as CI runs it
    .venv/bin/python bench/soak.py --minutes 30 --seed 7
    .venv/bin/python bench/soak.py --faults kill,term --json out.json

Everything runs on 127.0.0.1: a redis-server of its own (append-only file on a RAM
disk, /dev/shm: a Redis restart keeps the rooms and nothing of a meeting touches a disk),
``--workers`` Circles worker processes (``python -m server serve --redis-url``), a
webhook receiver for on-call escalations, and the people: ``--rooms`` circles, each with a
facilitator and ``--members`` members, all real ``socketio.AsyncClient`` connections. They
chat with client_ids (retrying with the same id after any failure), raise and lower
hands, pass the floor, react, leave and come back (through the lobby when it is on);
facilitators start and stop rounds and open and close the lobby; shares are timed
(12 s, warning at 4 s, then the floor moves on). Someone comes to the on-call room every
so often and waits past its escalation time. A client whose connection drops reconnects
to a worker that is up (as a load balancer would send it) and rejoins with ``since``.

Faults, one at a time at random moments from ``--seed`` (printed):
``kill`` (kill -9 of a worker, started again), ``term`` (SIGTERM: a graceful drain),
``rolling`` (every worker drained and started again, one after another), ``redis`` (the
Redis process restarted), ``slow`` (a client that stops reading while asking for join
snapshots; the server must drop it, and nobody else may wait for it).

The table: run length, rooms, people, events, faults by kind, invariant violations (must
be 0), the time people took to get an answer again after each kind of fault (p50/p95),
chat round trips, and each worker's peak and final memory. Exit status 1 on a violation.
``SOAK_TRACE=1`` prints every join (since, snapshot, missed) and any event that arrives
out of order, as it happens: how the fan-out races in the README were found.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import socketio
from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.fuzz import pct, rss_kb  # noqa: E402
from bench.soak_check import (  # noqa: E402
    Record,
    Visit,
    check_acked,
    check_escalations,
    check_floor,
    check_logs,
    fingerprint,
    room_logs,
)
from tests.chaos_proxy import ChaosProxy  # noqa: E402
from tests.cluster.conftest import Worker  # noqa: E402
from tests.integration.test_slow_reader import NeverReads  # noqa: E402
from tests.redis_server import RedisServer, SentinelGroup, free_port  # noqa: E402
from tests.support import token  # noqa: E402

# The faults each store can have: a Redis restart with one Redis; a worker cut off from it
# through its proxy; a Sentinel failover with a Sentinel group.
FAULTS = {"redis": ("kill", "term", "rolling", "redis", "cutoff", "slow"),
          "sentinel": ("kill", "term", "rolling", "failover", "slow")}
# How long a worker stays cut off from Redis: sometimes shorter than the 8 s after which
# it lets its people go elsewhere, sometimes longer.
CUTOFF_S = (4.0, 14.0)
SHARE_S = 12
WARN_S = 4
ESCALATE_S = 5
# A share's end may be late by the length of an outage (no worker can reach the store);
# later than this is a missed timer.
TIMER_SLACK_MS = 15_000
CALL_TIMEOUT_S = 5.0
WEBHOOK_SECRET = "soak-webhook-secret-0123456789"
# How long a slow consumer keeps asking without reading.
SLOW_FOR_S = 60.0

CONFIG = """
[[rooms]]
id = "oncall"
kind = "oncall"
title = "On-call room"
[rooms.settings]
escalate_after_seconds = {escalate}

[oncall]
webhook_url = "http://127.0.0.1:{hook}/page"
webhook_secret = "{secret}"

[media]
host_candidates = ["127.0.0.1"]
"""


# -- the cluster ------------------------------------------------------------------------------

class Cluster:
    """Redis (one server with its append-only file on a RAM disk, each worker reaching it
    through a proxy of its own that a fault can stall; or a Sentinel group: a primary, a
    replica and three sentinels) and the workers."""

    def __init__(self, workers: int, logs: Path, store: str) -> None:
        self.store = store
        self.shm = Path(tempfile.mkdtemp(prefix="circles-soak-", dir="/dev/shm" if Path("/dev/shm").is_dir() else None))
        # An append-only file on a RAM disk: a restarted Redis comes back with every room.
        self.redis = RedisServer(args=("--appendonly", "yes", "--appendfsync", "always", "--dir", str(self.shm)))
        self.group = SentinelGroup() if store == "sentinel" else None
        self.proxies: list[ChaosProxy] = []
        self.hook_port = free_port()
        self.config = logs / "circles.toml"
        self.config.write_text(CONFIG.format(escalate=ESCALATE_S, hook=self.hook_port, secret=WEBHOOK_SECRET))
        self.workers = [Worker(i, free_port(), "", logs / f"worker{i}.log", self.config) for i in range(workers)]
        self.peak_kb = [0] * workers
        self.final_kb = [0] * workers
        self.up = [asyncio.Event() for _ in range(workers)]

    def start(self) -> None:
        if self.group is not None:
            self.group.start()
            for w in self.workers:
                w.redis_url = self.group.url
        else:
            self.redis.start()
            for w in self.workers:
                proxy = ChaosProxy.in_thread(self.redis.port)
                self.proxies.append(proxy)
                w.redis_url = f"redis://127.0.0.1:{proxy.port}/0"
        for w in self.workers:
            w.start()
        for i, w in enumerate(self.workers):
            w.wait_healthy()
            self.up[i].set()

    def alive(self) -> list[Worker]:
        return [w for i, w in enumerate(self.workers) if self.up[i].is_set() and w.alive]

    async def stop_worker(self, i: int, sig: int) -> None:
        """Signal worker ``i`` and wait for it to exit (a drain takes a moment)."""
        self.up[i].clear()
        await asyncio.get_running_loop().run_in_executor(None, self.workers[i].kill, sig)

    async def start_worker(self, i: int) -> None:
        self.workers[i].start()
        await asyncio.get_running_loop().run_in_executor(None, self.workers[i].wait_healthy)
        self.up[i].set()

    async def stop_redis(self) -> None:
        await asyncio.get_running_loop().run_in_executor(None, self.redis.stop)

    async def start_redis(self) -> None:
        await asyncio.get_running_loop().run_in_executor(None, self.redis.start)

    def sample(self) -> None:
        for i, w in enumerate(self.workers):
            if w.alive and w.proc is not None:
                try:
                    kb = rss_kb(w.proc.pid)
                except OSError:  # it has just exited
                    continue
                self.peak_kb[i] = max(self.peak_kb[i], kb)
                self.final_kb[i] = kb

    def stop(self) -> None:
        for w in self.workers:
            w.kill(signal.SIGTERM)
        for proxy in self.proxies:
            proxy.stop_thread()
        if self.group is not None:
            self.group.close()
        self.redis.close()
        shutil.rmtree(self.shm, ignore_errors=True)

    def logs(self) -> str:
        return "".join(w.log_path.read_text(errors="replace") for w in self.workers if w.log_path.exists())


# -- people -----------------------------------------------------------------------------------

@dataclass
class Stats:
    events: int = 0
    chats: int = 0
    rtt_ms: list[float] = field(default_factory=list)
    refused: dict[str, int] = field(default_factory=dict)
    ok_at: list[float] = field(default_factory=list)


class Person:
    """One person in one room: connects to a worker that is up, joins, acts, and after any
    drop reconnects and rejoins with ``since``."""

    def __init__(self, soak: Soak, name: str, room: str, role: str) -> None:
        self.soak = soak
        self.name = name
        self.room = room
        self.role = role
        self.rng = random.Random(f"{soak.seed}:{name}")
        self.rec = Record(name, room)
        self.sio: socketio.AsyncClient | None = None
        self.live: list[int] = []
        self.joining = asyncio.Lock()
        self.pending: set[asyncio.Future[Any]] = set()
        self.knocking = False  # in the lobby: waiting for a facilitator, not for the server
        self.joined = asyncio.Event()
        self.in_room = True
        self.holder: str | None = None
        self.lobby: set[str] = set()
        self.admitted = asyncio.Event()
        self.sent = 0
        self.reconnecting: asyncio.Task[None] | None = None
        self.last_ok = 0.0
        self.worker = -1

    # connection ------------------------------------------------------------------------------

    async def connect(self) -> None:
        backoff = 0.2
        while not self.soak.stopping:
            workers = self.soak.cluster.alive()
            if workers:
                w = self.rng.choice(workers)
                sio = socketio.AsyncClient(reconnection=False)
                # Handlers of a connection we have moved on from (tasks Engine.IO started
                # before it closed) must not write into the new session.
                sio.on("room.event", lambda e, s=sio: self._event(s, e))
                sio.on("disconnect", lambda *a, s=sio: self._dropped(s))
                sio.on("*", self._notice)
                try:
                    await sio.connect(w.url, auth={"token": token(self.room, self.role, name=self.name, ttl=86_400)},
                                      transports=["websocket"], wait_timeout=5)
                except Exception:
                    with contextlib.suppress(Exception):
                        await sio.disconnect()
                else:
                    self.sio = sio
                    self.worker = w.index
                    if not self.in_room or await self.join():
                        return
                    with contextlib.suppress(Exception):
                        await sio.disconnect()
            await asyncio.sleep(backoff * (0.5 + self.rng.random()))
            backoff = min(backoff * 2, 2.0)

    def _dropped(self, sio: socketio.AsyncClient) -> None:
        if sio is not self.sio:
            return
        self.sio = None
        self.joined.clear()
        for task in self.pending:
            task.cancel()
        if not self.soak.stopping and (self.reconnecting is None or self.reconnecting.done()):
            self.reconnecting = asyncio.create_task(self.connect())

    async def join(self) -> bool:
        """Join (again) with ``since``; one at a time (a reconnect and a return from a
        pause may both want to)."""
        async with self.joining:
            return await self._join()

    async def _join(self) -> bool:
        if self.joined.is_set():
            return True  # a reconnect joined while we waited for the lock
        payload: dict[str, Any] = {"room": self.room}
        if self.rec.log:
            payload["since"] = max(self.rec.log)
        self.live = session = []
        ack = await self.call("join", payload)
        if not ack["ok"]:
            if ack["error"]["code"] == "lobby":
                self.knocking = True
                self.admitted.clear()
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self.admitted.wait(), 15)
            return False
        self.knocking = False
        snap = ack["room"]
        if snap.get("reset"):
            self.rec.resets += 1
        missed = ack.get("missed", [])
        for e in missed:
            self._record(e)
        session[:0] = [e["seq"] for e in missed]
        self.rec.sessions.append(session)
        if os.environ.get("SOAK_TRACE"):
            print("TRACE", self.name, "join since", payload.get("since"), "snap", snap["seq"], "missed",
                  [e["seq"] for e in missed], "live-before-ack", session[len(missed):], "sio", id(self.sio) % 10000,
                  "w", self.worker, round(time.monotonic(), 3), flush=True)
        self.holder = (snap.get("floor") or {}).get("participant_id")
        if self.role == "facilitator":
            for p in snap.get("lobby", []) if isinstance(snap.get("lobby"), list) else []:
                self.lobby.add(p["id"])
        self.joined.set()
        return True

    def _record(self, e: dict[str, Any]) -> None:
        seq = int(e["seq"])
        if seq not in self.rec.log:
            self.soak.stats.events += 1
        self.rec.log[seq] = fingerprint(e)
        self.rec.at[seq] = int(e["at"])
        kind = e["type"]
        if kind == "floor.granted":
            self.holder = e["data"]["participant_id"]
        elif kind == "floor.released" or (kind == "participant.left" and e["data"]["participant_id"] == self.holder):
            self.holder = None

    def _event(self, sio: socketio.AsyncClient, e: dict[str, Any]) -> None:
        if sio is not self.sio or e.get("room") != self.room:
            return
        self._record(e)
        self.live.append(int(e["seq"]))
        if os.environ.get("SOAK_TRACE") and len(self.live) > 1 and self.live[-2] + 1 != self.live[-1]:
            print("TRACE", self.name, "out of order", self.live[-6:], e["type"], round(time.monotonic(), 3), flush=True)

    async def _notice(self, event: str, data: Any = None) -> None:
        if event == "lobby.admitted":
            self.admitted.set()
        elif event == "lobby.waiting" and self.role == "facilitator":
            self.lobby.add(data["participant"]["id"])

    async def call(self, event: str, payload: dict[str, Any]) -> dict[str, Any]:
        sio = self.sio
        if sio is None or not sio.connected:
            return {"ok": False, "error": {"code": "offline"}}
        # A request on a connection that drops fails then, not at its timeout (Socket.IO
        # clients leave it pending): the resume times measure the server, not the client.
        task = asyncio.ensure_future(sio.call(event, payload, timeout=CALL_TIMEOUT_S))
        self.pending.add(task)
        try:
            await asyncio.wait({task})
        finally:
            self.pending.discard(task)
            task.cancel()
        if task.cancelled() or task.exception() is not None:
            return {"ok": False, "error": {"code": "timeout"}}
        ack = task.result()
        if not isinstance(ack, dict):
            return {"ok": False, "error": {"code": "no_ack"}}
        if ack.get("ok"):
            self.last_ok = time.monotonic()
            self.soak.stats.ok_at.append(self.last_ok)
        else:
            code = ack.get("error", {}).get("code", "?")
            self.soak.stats.refused[code] = self.soak.stats.refused.get(code, 0) + 1
        return ack  # type: ignore[no-any-return]

    # acting ---------------------------------------------------------------------------------

    async def run(self) -> None:
        await self.connect()
        if self.role == "facilitator":
            await self.call("room.settings", {"room": self.room, "share_seconds": SHARE_S, "warn_seconds": WARN_S,
                                              "overrun": "advance"})
        while not self.soak.stopping:
            await asyncio.sleep(1.0 + 2.0 * self.rng.random())
            if self.soak.stopping:
                break
            if not self.joined.is_set():
                continue
            await (self.facilitate() if self.role == "facilitator" else self.take_part())

    async def take_part(self) -> None:
        r = self.rng.random()
        room = {"room": self.room}
        if r < 0.35:
            await self.chat()
        elif r < 0.50:
            await self.call("hand.raise", room)
        elif r < 0.58:
            await self.call("hand.lower", room)
        elif r < 0.70:
            if self.holder == self.name:
                await self.call(self.rng.choice(("floor.pass", "floor.yield")), room)
        elif r < 0.85:
            await self.call("reaction.send", {**room, "kind": self.rng.choice(("clap", "heart", "support"))})
        elif r < 0.90:
            ack = await self.call("leave", room)
            if ack["ok"]:
                self.in_room = False
                self.joined.clear()
                await asyncio.sleep(2 + 3 * self.rng.random())
                self.in_room = True
                for _ in range(20):  # the lobby may keep them a while; a drop reconnects anyway
                    if self.soak.stopping or self.sio is None or await self.join():
                        break
                    await asyncio.sleep(0.5)

    async def facilitate(self) -> None:
        r = self.rng.random()
        room = {"room": self.room}
        for pid in list(self.lobby):
            ack = await self.call("lobby.admit", {**room, "participant": pid})
            if ack["ok"] or ack["error"]["code"] in ("not_found", "invalid", "conflict"):
                self.lobby.discard(pid)
        if r < 0.3:
            await self.chat()
        elif r < 0.4:
            await self.call("round.start", room)
        elif r < 0.5:
            await self.call("round.stop", room)
        elif r < 0.56:
            await self.call("room.settings", {**room, "lobby": True})
        elif r < 0.7:
            await self.call("room.settings", {**room, "lobby": False})

    async def chat(self) -> None:
        """One message, sent until it is acknowledged (the same client_id every time)."""
        self.sent += 1
        cid = f"{self.name}-{self.sent}"
        text = f"soak {cid}"
        self.rec.texts[cid] = text
        while not self.soak.stopping:
            started = time.monotonic()
            ack = await self.call("chat.send", {"room": self.room, "text": text, "client_id": cid})
            if ack["ok"]:
                self.rec.acked[cid] = int(ack["event"]["seq"])
                self.soak.stats.chats += 1
                self.soak.stats.rtt_ms.append((time.monotonic() - started) * 1000)
                return
            code = ack["error"]["code"]
            if code in ("held", "blocked", "muted", "forbidden"):
                return  # not a fault: moderation said no
            if code == "rate_limited":
                await asyncio.sleep(2.0)
            else:  # offline, timeout, unavailable, not_joined: wait to be back, then again
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self.joined.wait(), 10)
                await asyncio.sleep(0.25)

    async def close(self) -> None:
        if self.sio is not None:
            with contextlib.suppress(Exception):
                await self.sio.disconnect()


# -- on-call visits and the webhook receiver --------------------------------------------------

async def visitor(soak: Soak) -> None:
    """Someone comes to the on-call room every so often and waits past the escalation time;
    no responder is on duty, so each visit must be escalated, once."""
    n = 0
    rng = random.Random(f"{soak.seed}:oncall")
    while not soak.stopping:
        n += 1
        name = f"caller{n}"
        sio = socketio.AsyncClient(reconnection=False)
        workers = soak.cluster.alive()
        if not workers:
            await asyncio.sleep(1)
            continue
        try:
            await sio.connect(rng.choice(workers).url, auth={"token": token("oncall", "member", name=name)},
                              transports=["websocket"], wait_timeout=5)
            ack = await sio.call("join", {"room": "oncall"}, timeout=CALL_TIMEOUT_S)
        except Exception:
            ack = None
        if isinstance(ack, dict) and ack.get("ok"):
            joined = int(time.time() * 1000)
            await asyncio.sleep(ESCALATE_S + 6 + 4 * rng.random())
            soak.visits.append(Visit(name, joined, int(time.time() * 1000)))
            with contextlib.suppress(Exception):
                await sio.call("leave", {"room": "oncall"}, timeout=CALL_TIMEOUT_S)
        with contextlib.suppress(Exception):
            await sio.disconnect()
        await asyncio.sleep(2 + 4 * rng.random())


async def webhook_receiver(soak: Soak) -> web.AppRunner:
    async def page(request: web.Request) -> web.Response:
        soak.pages.append(await request.json())
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post("/page", page)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", soak.cluster.hook_port).start()
    return runner


# -- a slow consumer --------------------------------------------------------------------------

async def slow_consumer(soak: Soak, room: str, name: str, f: FaultRun) -> None:
    """A websocket with a tiny receive buffer that asks for the room's snapshot ten times a
    second and never reads (tests/integration/test_slow_reader.py's attacker). The server
    must drop it, with a reason, once its buffer is full; meanwhile nobody else waits."""
    workers = soak.cluster.alive()
    if not workers:
        f.detail = "no worker up"
        return
    w = soak.rng.choice(workers)
    reader = NeverReads(w.port, token(room, "member", name=name), room)
    started = time.monotonic()
    try:
        await reader.open()
        dropped = await reader.attack(started + SLOW_FOR_S)
    except (OSError, AssertionError):
        dropped = time.monotonic()
    finally:
        reader.close()
    f.detail = (f"dropped after {dropped - started:.0f} s" if dropped is not None
                else f"open after {SLOW_FOR_S:.0f} s")


# -- the run ----------------------------------------------------------------------------------

@dataclass
class FaultRun:
    kind: str
    at: float
    resume_s: float = float("nan")
    detail: str = ""
    people_s: list[float] = field(default_factory=list)


class Soak:
    def __init__(self, args: argparse.Namespace, logs: Path) -> None:
        self.args = args
        self.seed = args.seed
        self.rng = random.Random(args.seed)
        self.cluster = Cluster(args.workers, logs, args.store)
        self.stopping = False
        self.stats = Stats()
        self.people: list[Person] = []
        self.visits: list[Visit] = []
        self.pages: list[dict[str, Any]] = []
        self.faults: list[FaultRun] = []
        self.background: list[asyncio.Task[None]] = []

    async def resume_time(self, since: float, f: FaultRun, limit: float = 60.0) -> float:
        """Seconds from ``since`` until every person in a room has had an answer to a
        request sent after it (each asks, and asks again after any failure). The people
        whose first request failed are the fault's; their times go to ``f.people_s``."""
        async def probe(p: Person) -> float:
            deadline = time.monotonic() + limit
            first = True
            while time.monotonic() < deadline and not self.stopping:
                if not p.in_room or p.knocking:
                    return since  # away by choice, or waiting for a facilitator: not the server's wait
                if p.joined.is_set() and (await p.call("format.get", {"room": p.room}))["ok"]:
                    if not first:
                        f.people_s.append(time.monotonic() - since)
                    return time.monotonic()
                first = False
                await asyncio.sleep(0.15)  # within the flood guard's 10 a second
            return float("nan")

        done = await asyncio.gather(*(probe(p) for p in self.people))
        return max(done, default=since) - since

    async def inject(self, kind: str, f: FaultRun) -> None:
        n = len(self.cluster.workers)
        if kind in ("kill", "term", "rolling"):
            sig = signal.SIGKILL if kind == "kill" else signal.SIGTERM
            # The worker serving the most people (ties at random): a fault that hits nobody
            # proves nothing.
            busiest = max(self.rng.sample(range(n), n), key=lambda i: sum(p.worker == i for p in self.people))
            order = list(range(n)) if kind == "rolling" else [busiest]
            f.detail = "every worker" if kind == "rolling" else f"worker {order[0]}"
            resumes = []
            for i in order:
                signalled = time.monotonic()
                await self.cluster.stop_worker(i, sig)
                # Asked once the worker is gone (not before: a request could still reach it).
                probes = asyncio.create_task(self.resume_time(signalled, f))
                await self.cluster.start_worker(i)
                resumes.append(await probes)
            f.resume_s = max(resumes)
        elif kind == "redis":
            stopped = time.monotonic()
            await self.cluster.stop_redis()
            probes = asyncio.create_task(self.resume_time(stopped, f))
            await self.cluster.start_redis()
            f.resume_s = await probes
        elif kind == "failover":
            assert self.cluster.group is not None
            group = self.cluster.group
            loop = asyncio.get_running_loop()
            killed = time.monotonic()
            old = await loop.run_in_executor(None, group.kill_primary)
            probes = asyncio.create_task(self.resume_time(killed, f))
            await loop.run_in_executor(None, group.wait_for_promotion)
            f.detail = f"promoted in {time.monotonic() - killed:.1f} s"
            f.resume_s = await probes
            # The old primary comes back (empty) as the new one's replica, as an operator would.
            await loop.run_in_executor(None, group.restart_as_replica, old)
            await loop.run_in_executor(None, group.wait_in_sync)
        elif kind == "cutoff":
            i = max(self.rng.sample(range(n), n), key=lambda i: sum(p.worker == i for p in self.people))
            proxy = self.cluster.proxies[i]
            hold = self.rng.uniform(*CUTOFF_S)
            f.detail = f"worker {i} for {hold:.0f} s"
            cut = time.monotonic()
            proxy.set_mode("stall")
            probes = asyncio.create_task(self.resume_time(cut, f))
            await asyncio.sleep(hold)
            proxy.set_mode("pass")
            f.resume_s = await probes
        elif kind == "slow":
            # It runs on beside the other faults; its outcome is in the table at the end.
            room = self.rng.choice(self.rooms)
            self.background.append(asyncio.create_task(slow_consumer(self, room, f"slow{len(self.faults)}", f)))
            # Others, meanwhile: answered as fast as ever once the reader's buffers are full.
            await asyncio.sleep(min(20.0, SLOW_FOR_S / 2))
            f.resume_s = await self.resume_time(time.monotonic(), f)

    async def run(self) -> dict[str, Any]:
        args = self.args
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, self.cluster.start)
        receiver = await webhook_receiver(self)
        self.rooms = [f"soak{r}" for r in range(args.rooms)]
        for room in self.rooms:
            self.people.append(Person(self, f"{room}-fac", room, "facilitator"))
            self.people.extend(Person(self, f"{room}-m{m}", room, "member") for m in range(args.members))
        started = time.monotonic()
        # Facilitators first (their join makes the room), then everyone else.
        tasks = [asyncio.create_task(p.run()) for p in self.people if p.role == "facilitator"]
        await asyncio.gather(*(p.joined.wait() for p in self.people if p.role == "facilitator"))
        tasks += [asyncio.create_task(p.run()) for p in self.people if p.role != "facilitator"]
        tasks.append(asyncio.create_task(visitor(self)))
        end = started + args.minutes * 60
        kinds = [k for k in args.faults.split(",") if k]
        # Each kind at least once when the run is long enough, then at random.
        plan = list(kinds)
        self.rng.shuffle(plan)
        warmup = min(15.0, args.minutes * 60 * 0.1)
        await asyncio.sleep(warmup)
        try:
            while time.monotonic() < end - 20:
                kind = plan.pop() if plan else self.rng.choice(kinds)
                self.cluster.sample()
                f = FaultRun(kind, time.monotonic())
                self.faults.append(f)
                await self.inject(kind, f)
                print(f"  {time.monotonic() - started:6.1f} s  {kind:<8} {f.detail:<16} resumed in "
                      f"{f.resume_s:.2f} s", flush=True)
                gap = self.rng.uniform(3, 12)
                while time.monotonic() < min(end - 20, time.monotonic() + gap):
                    self.cluster.sample()
                    await asyncio.sleep(1)
                    gap -= 1
                    if gap <= 0:
                        break
            while time.monotonic() < end:
                self.cluster.sample()
                await asyncio.sleep(1)
            # Quiet down: everyone back and caught up before the books are closed.
            await self.resume_time(time.monotonic() - 1, FaultRun("quiet", time.monotonic()), 30)
        finally:
            self.stopping = True
            self.cluster.sample()
            for t in tasks + self.background:
                t.cancel()
            await asyncio.gather(*tasks, *self.background, return_exceptions=True)
            await asyncio.gather(*(p.close() for p in self.people))
            await receiver.cleanup()
        return self.report(time.monotonic() - started)

    def report(self, seconds: float) -> dict[str, Any]:
        records = [p.rec for p in self.people]
        logs = room_logs(records)
        ats: dict[str, dict[int, int]] = {}
        for r in records:
            ats.setdefault(r.room, {}).update(r.at)
        violations = (check_logs(records) + check_acked(records)
                      + check_floor(logs, ats, TIMER_SLACK_MS)
                      + check_escalations(self.pages, self.visits, ESCALATE_S * 1000, 10_000))
        server_log = self.cluster.logs()
        for bad in ("Traceback", '"level": "error"'):
            if bad in server_log:
                violations.append(f"the workers' log holds {bad!r}")
        if any(r.texts and any(t in server_log for t in list(r.texts.values())[:3]) for r in records):
            violations.append("chat text in the workers' log")
        by_kind: dict[str, list[float]] = {}
        people: dict[str, list[float]] = {}
        for f in self.faults:
            by_kind.setdefault(f.kind, []).append(f.resume_s)
            people.setdefault(f.kind, []).extend(f.people_s)
        return {
            "seed": self.seed, "seconds": round(seconds), "store": self.args.store,
            "workers": len(self.cluster.workers),
            "rooms": len(self.rooms), "people": len(self.people), "events": sum(len(v) for v in logs.values()),
            "chats_acked": self.stats.chats, "refusals": self.stats.refused,
            "chat_rtt_ms": {"p50": pct(self.stats.rtt_ms, 0.5), "p99": pct(self.stats.rtt_ms, 0.99)},
            "oncall_visits": len(self.visits), "escalations_paged": len({p["id"] for p in self.pages}),
            "faults": {k: {"count": len(v), "resume_p50_s": pct(v, 0.5), "resume_p95_s": pct(v, 0.95),
                           "people": len(people[k]), "person_p50_s": pct(people[k], 0.5),
                           "person_p95_s": pct(people[k], 0.95)}
                       for k, v in sorted(by_kind.items())},
            "slow_consumers": [f.detail for f in self.faults if f.kind == "slow"],
            "memory_mb": [{"worker": i, "peak": round(p / 1024, 1), "final": round(fk / 1024, 1)}
                          for i, (p, fk) in enumerate(zip(self.cluster.peak_kb, self.cluster.final_kb, strict=True))],
            "violations": violations,
        }


def print_table(r: dict[str, Any]) -> None:
    print()
    print(f"Soak: seed {r['seed']}, {r['seconds']} s, {r['store']} store, {r['workers']} workers, {r['rooms']} rooms, "
          f"{r['people']} people")
    print(f"  events {r['events']}, chat messages acknowledged {r['chats_acked']} "
          f"(round trip p50 {r['chat_rtt_ms']['p50']:.1f} ms, p99 {r['chat_rtt_ms']['p99']:.1f} ms)")
    print(f"  on-call visits {r['oncall_visits']}, escalations paged {r['escalations_paged']}")
    print(f"  refusals by code: {r['refusals']}")
    print("  resume: until everyone had an answer again (per fault), and per person the fault cut off")
    print(f"  {'fault':<10}{'count':>6}{'all p50':>10}{'all p95':>10}{'people':>8}{'person p50':>12}{'person p95':>12}")
    for k, v in r["faults"].items():
        print(f"  {k:<10}{v['count']:>6}{v['resume_p50_s']:>9.2f}s{v['resume_p95_s']:>9.2f}s{v['people']:>8}"
              f"{v['person_p50_s']:>11.2f}s{v['person_p95_s']:>11.2f}s")
    if r["slow_consumers"]:
        print(f"  slow consumers: {', '.join(r['slow_consumers'])}")
    for m in r["memory_mb"]:
        print(f"  worker {m['worker']}: memory peak {m['peak']} MB, final {m['final']} MB")
    print(f"  invariant violations: {len(r['violations'])}")
    for v in r["violations"][:20]:
        print(f"    - {v}")


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=2.0)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--workers", type=int, default=3)
    ap.add_argument("--rooms", type=int, default=30)
    ap.add_argument("--members", type=int, default=4)
    ap.add_argument("--store", choices=sorted(FAULTS), default="redis",
                    help="one Redis (restarts, cut-offs) or a Sentinel group (failovers)")
    ap.add_argument("--faults", default=None, help="comma-separated; default: every kind the store can have "
                    + "; ".join(f"{k}: {','.join(v)}" for k, v in FAULTS.items()))
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--logs", type=Path, default=None, help="keep the workers' logs here")
    args = ap.parse_args(argv)
    known = FAULTS[args.store]
    args.faults = args.faults or ",".join(known)
    unknown = set(args.faults.split(",")) - set(known)
    if unknown:
        ap.error(f"not a fault of the {args.store} store: {', '.join(sorted(unknown))}")
    if args.seed is None:
        args.seed = random.SystemRandom().randrange(1_000_000)
    return args


async def soak(args: argparse.Namespace) -> dict[str, Any]:
    logs = args.logs or Path(tempfile.mkdtemp(prefix="circles-soak-logs-"))
    logs.mkdir(parents=True, exist_ok=True)
    s = Soak(args, logs)
    print(f"soak: seed {args.seed} ({args.minutes} min, {args.store} store; reproduce with --seed {args.seed} "
          f"--store {args.store}); logs in {logs}",
          flush=True)
    try:
        return await s.run()
    finally:
        s.cluster.stop()


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    os.environ.setdefault("PYTHONHASHSEED", "0")
    report = asyncio.run(soak(args))
    print_table(report)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 1 if report["violations"] else 0


if __name__ == "__main__":
    sys.exit(main())
