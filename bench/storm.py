"""Connection storms: thousands of connections join within seconds, then all leave at once.

A real ``circles serve`` process (``--redis``: on a redis-server of its own) on a free
port of 127.0.0.1, with ``[limits] address_conns`` (and the address's command bucket)
raised so that one loopback address may hold the storm, and its rooms predefined with
room for everyone. Generator processes (``--procs``) each hold a share of the
connections as raw websockets (aiohttp; Engine.IO open and Socket.IO CONNECT done by
hand, pings answered), spread over ``--rooms`` rooms. Then:

1. every connection opens (the time it takes is reported, not the storm itself);
2. at one signal every connection sends ``join`` at once: completion count, the time
   until the last ack, and the p50/p95/p99 of the join ack round trip;
3. at another, every connection sends ``leave`` and closes;
4. the server's ``circles_connections`` gauge must come back to 0 and every room's
   participant list be empty (admin API); its RSS is read before, at the peak and
   after (a few seconds after the last leave: CPython's allocator keeps some pages,
   so RSS need not come all the way back; the gauge and the rooms are the exact
   measure); the server must be alive and its log clean.

    .venv/bin/python bench/storm.py                      # 5,000 connections, 100 rooms of 50
    .venv/bin/python bench/storm.py --conns 1000 --rooms 20 --json /tmp/storm.json
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.fuzz import Server, check_log, pct, rss_kb  # noqa: E402
from tests.support import ADMIN_KEY, SECRET, token  # noqa: E402

# Connections opened at once by one generator (the server's listen backlog is 128).
OPENING_AT_ONCE = 64
ACK_TIMEOUT_S = 60.0
SETTLE_S = 5.0           # after the last leave, before RSS is read "after"
GONE_TIMEOUT_S = 60.0    # for the connection gauge to reach 0


def config(rooms: int, per_room: int, conns: int) -> str:
    out = []
    for i in range(rooms):
        out.append(f'[[rooms]]\nid = "storm-{i}"\nkind = "circle"\n[rooms.settings]\n'
                   f"max_participants = {min(1000, per_room + 10)}\n")
    out.append('[media]\nhost_candidates = ["127.0.0.1"]\n')
    out.append(f"[limits]\naddress_conns = {conns + 100}\naddress_burst = {max(600, 4 * conns)}\n"
               f"address_per_s = {max(200.0, 4.0 * conns)}\n")
    return "\n".join(out)


# -- a generator process -----------------------------------------------------------------------

class Conn:
    """One raw Socket.IO connection: acks by id, pings answered."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, room: str) -> None:
        self.ws = ws
        self.room = room
        self.next_id = 0
        self.waiting: dict[int, asyncio.Future[str]] = {}
        self.received = 0
        self.reader = asyncio.ensure_future(self.read())

    async def read(self) -> None:
        async for msg in self.ws:
            if msg.type != aiohttp.WSMsgType.TEXT:
                continue
            data: str = msg.data
            self.received += 1
            if data == "2":
                await self.ws.send_str("3")
            elif data.startswith("43"):
                i = 2
                while i < len(data) and data[i].isdigit():
                    i += 1
                fut = self.waiting.pop(int(data[2:i]), None)
                if fut is not None and not fut.done():
                    fut.set_result(data[i:])
        for fut in self.waiting.values():
            if not fut.done():
                fut.set_result("closed")

    async def call(self, event: str, payload: dict[str, Any]) -> tuple[float, bool]:
        """The round trip of one acked event, and whether it said ok."""
        self.next_id += 1
        fut: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self.waiting[self.next_id] = fut
        t0 = time.perf_counter()
        await self.ws.send_str(f"42{self.next_id}" + json.dumps([event, payload], separators=(",", ":")))
        ack = await asyncio.wait_for(fut, ACK_TIMEOUT_S)
        return (time.perf_counter() - t0) * 1000, ack.startswith('[{"ok":true')


async def open_conn(http: aiohttp.ClientSession, url: str, tok: str, room: str) -> Conn:
    ws = await http.ws_connect(url + "/socket.io/?EIO=4&transport=websocket", max_msg_size=0)
    assert (await ws.receive_str(timeout=ACK_TIMEOUT_S)).startswith("0")
    await ws.send_str("40" + json.dumps({"token": tok}))
    answer = await ws.receive_str(timeout=ACK_TIMEOUT_S)
    if not answer.startswith("40{"):
        await ws.close()
        raise ConnectionError(answer[:80])
    return Conn(ws, room)


def say(obj: dict[str, Any]) -> None:
    print(json.dumps(obj), flush=True)


async def generator(url: str, index: int, of: int, conns: int, rooms: int) -> None:
    mine = list(range(index, conns, of))
    per_room = -(-conns // rooms)
    stdin = asyncio.StreamReader()
    loop = asyncio.get_running_loop()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stdin), sys.stdin)
    gate = asyncio.Semaphore(OPENING_AT_ONCE)
    connector = aiohttp.TCPConnector(limit=0, force_close=True)
    async with aiohttp.ClientSession(connector=connector) as http:
        async def one(j: int) -> Conn | None:
            room = f"storm-{j // per_room}"
            async with gate:
                try:
                    return await open_conn(http, url, token(room, sub=f"s{j}", name=f"S{j}", ttl=3600), room)
                except (aiohttp.ClientError, OSError, ConnectionError, TimeoutError, AssertionError):
                    return None
        t0 = time.monotonic()
        opened = await asyncio.gather(*(one(j) for j in mine))
        live = [c for c in opened if c is not None]
        say({"connected": len(live), "failed": len(mine) - len(live), "seconds": time.monotonic() - t0})

        async def each(event: str) -> dict[str, Any]:
            async def go(c: Conn) -> tuple[float, bool] | None:
                try:
                    return await c.call(event, {"room": c.room})
                except (TimeoutError, ConnectionError, aiohttp.ClientError, OSError):
                    return None
            t = time.monotonic()
            got = await asyncio.gather(*(go(c) for c in live))
            ok = [r[0] for r in got if r is not None and r[1]]
            return {"ok": len(ok), "failed": len(got) - len(ok), "lat_ms": ok, "seconds": time.monotonic() - t,
                    "started": t}

        await stdin.readline()
        say({"joined": await each("join")})
        await stdin.readline()
        left = await each("leave")
        for c in live:
            await c.ws.close()
            c.reader.cancel()
        say({"left": left, "received": sum(c.received for c in live)})


# -- the run ------------------------------------------------------------------------------------

def gauge(metrics: str, name: str) -> float | None:
    for line in metrics.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    return None


async def storm(args: argparse.Namespace) -> dict[str, Any]:
    rooms, conns = args.rooms, args.conns
    per_room = -(-conns // rooms)
    server = Server(Path(tempfile.mkdtemp(prefix="circles-storm-")), config=config(rooms, per_room, conns),
                    redis=args.redis)
    server.start()
    assert server.proc is not None
    pid = server.proc.pid
    rss_before = rss_kb(pid)
    peak = [rss_before]
    sampling = True

    async def sample() -> None:
        while sampling:
            with contextlib.suppress(OSError):
                peak[0] = max(peak[0], rss_kb(pid))
            await asyncio.sleep(0.1)  # a sampling period
    sampler = asyncio.ensure_future(sample())
    async def one_round() -> dict[str, Any]:
        gens = [await asyncio.create_subprocess_exec(
            sys.executable, __file__, "--gen", server.url, "--index", str(i), "--of", str(args.procs), "--conns",
            str(conns), "--rooms", str(rooms), cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            env={**os.environ, "PYTHONUNBUFFERED": "1"}) for i in range(args.procs)]

        async def hear(g: asyncio.subprocess.Process) -> dict[str, Any]:
            assert g.stdout is not None
            line = await asyncio.wait_for(g.stdout.readline(), 300)
            if not line:
                raise RuntimeError("a generator stopped")
            return dict(json.loads(line))

        async def tell(text: str) -> None:
            for g in gens:
                assert g.stdin is not None
                g.stdin.write(text.encode())
                await g.stdin.drain()

        connected = await asyncio.gather(*(hear(g) for g in gens))
        rss_connected = rss_kb(pid)
        await tell("join\n")
        joined = [r["joined"] for r in await asyncio.gather(*(hear(g) for g in gens))]
        rss_joined = rss_kb(pid)
        status = await asyncio.to_thread(server.get, "/api/rooms", True)
        in_rooms = sum(r["participants"] for r in json.loads(status or "[]") if r["id"].startswith("storm-"))
        await tell("leave\n")
        left_all = await asyncio.gather(*(hear(g) for g in gens))
        left = [r["left"] for r in left_all]
        for g in gens:
            await g.wait()
        # Every connection gone from the server: its gauge (polled: another process).
        t0 = time.monotonic()
        conns_after = None
        while time.monotonic() - t0 < GONE_TIMEOUT_S:
            conns_after = gauge(await asyncio.to_thread(server.metrics), "circles_connections")
            if conns_after == 0:
                break
            await asyncio.sleep(0.2)
        gone_s = time.monotonic() - t0
        await asyncio.sleep(SETTLE_S)  # "some seconds" after the leave, as asked, before RSS is read
        return {"connected": connected, "rss_connected": rss_connected, "joined": joined, "rss_joined": rss_joined,
                "in_rooms": in_rooms, "left_all": left_all, "left": left, "conns_after": conns_after, "gone_s": gone_s,
                "rss_after": rss_kb(pid), "peak": peak[0]}

    rounds = [await one_round()]
    first = rounds[0]
    for _ in range(args.rounds - 1):  # the same storm again: is what stayed reused, or does it grow?
        peak[0] = 0
        rounds.append(await one_round())
    sampling = False
    await sampler
    connected, rss_connected, joined, rss_joined = (first["connected"], first["rss_connected"], first["joined"],
                                                    first["rss_joined"])
    in_rooms, left_all, left, conns_after, gone_s = (first["in_rooms"], first["left_all"], first["left"],
                                                     rounds[-1]["conns_after"], first["gone_s"])
    rooms_after = json.loads(await asyncio.to_thread(server.get, "/api/rooms", True) or "[]")
    left_in_rooms = sum(r["participants"] for r in rooms_after if r["id"].startswith("storm-"))
    metrics = await asyncio.to_thread(server.metrics)
    alive = server.alive
    healthz = await asyncio.to_thread(server.healthy)
    server.stop()
    problems = check_log(server.log_path.read_text(errors="replace"), (ADMIN_KEY, SECRET, "eyJ"))
    join_lat = [x for r in joined for x in r["lat_ms"]]
    leave_lat = [x for r in left for x in r["lat_ms"]]
    join_span = max(r["started"] + r["seconds"] for r in joined) - min(r["started"] for r in joined)
    leave_span = max(r["started"] + r["seconds"] for r in left) - min(r["started"] for r in left)
    res: dict[str, Any] = {
        "conns": conns, "rooms": rooms, "per_room": per_room, "procs": args.procs, "redis": args.redis,
        "connected": sum(c["connected"] for c in connected),
        "connect_s": round(max(c["seconds"] for c in connected), 1),
        "joined": sum(r["ok"] for r in joined), "join_failed": sum(r["failed"] for r in joined),
        "join_s": round(join_span, 2), "join_p50_ms": round(pct(join_lat, 0.5), 1),
        "join_p95_ms": round(pct(join_lat, 0.95), 1), "join_p99_ms": round(pct(join_lat, 0.99), 1),
        "participants_at_peak": in_rooms,
        "left": sum(r["ok"] for r in left), "leave_failed": sum(r["failed"] for r in left),
        "leave_s": round(leave_span, 2), "leave_p99_ms": round(pct(leave_lat, 0.99), 1),
        "events_received": sum(r["received"] for r in left_all),
        "connections_after": conns_after, "gone_s": round(gone_s, 1), "participants_after": left_in_rooms,
        "rss_before_mb": round(rss_before / 1024, 1), "rss_connected_mb": round(rss_connected / 1024, 1),
        "rss_joined_mb": round(rss_joined / 1024, 1), "rss_peak_mb": round(first["peak"] / 1024, 1),
        "rss_after_mb": round(first["rss_after"] / 1024, 1),
        "rounds": [{"peak_mb": round(r["peak"] / 1024, 1), "after_mb": round(r["rss_after"] / 1024, 1),
                    "joined": sum(j["ok"] for j in r["joined"]), "connections_after": r["conns_after"]}
                   for r in rounds],
        "gc_full_collections": next((line.split()[-1] for line in metrics.splitlines()
                                     if line.startswith('circles_gc_pause_seconds_count{generation="2"}')), None),
        "alive": alive, "healthz": healthz, "log_problems": problems, "log": str(server.log_path),
    }
    res["ok"] = bool(res["connected"] == conns and res["joined"] == conns and res["left"] == conns
                     and all(r["joined"] == conns and r["connections_after"] == 0 for r in res["rounds"])
                     and left_in_rooms == 0 and alive and healthz and not problems)
    return res


def table(r: dict[str, Any]) -> str:
    rows = [
        ("connections / rooms", f"{r['conns']:,} in {r['rooms']} rooms of {r['per_room']} "
                                f"({r['procs']} generator processes, {'redis' if r['redis'] else 'memory'} store)"),
        ("opened (before the storm)", f"{r['connected']:,} in {r['connect_s']} s"),
        ("joins acked ok / failed", f"{r['joined']:,} / {r['join_failed']} in {r['join_s']} s"),
        ("join ack p50 / p95 / p99", f"{r['join_p50_ms']} / {r['join_p95_ms']} / {r['join_p99_ms']} ms"),
        ("participants in the rooms at the peak", f"{r['participants_at_peak']:,}"),
        ("leaves acked ok / failed", f"{r['left']:,} / {r['leave_failed']} in {r['leave_s']} s "
                                     f"(p99 {r['leave_p99_ms']} ms)"),
        ("room events received by the clients", f"{r['events_received']:,}"),
        ("connections gauge after / participants left",
         f"{r['connections_after']} (in {r['gone_s']} s) / {r['participants_after']}"),
        ("server RSS before / connected / joined", f"{r['rss_before_mb']} / {r['rss_connected_mb']} / "
                                                   f"{r['rss_joined_mb']} MB"),
        ("server RSS peak / after", f"{r['rss_peak_mb']} / {r['rss_after_mb']} MB ({SETTLE_S:.0f} s after the "
                                    f"last leave; full collections so far: {r['gc_full_collections']})"),
        *((f"round {i + 1}: joined / RSS peak / after", f"{x['joined']:,} / {x['peak_mb']} / {x['after_mb']} MB")
          for i, x in enumerate(r["rounds"]) if len(r["rounds"]) > 1),
        ("server alive / healthz 200", f"{r['alive']} / {r['healthz']}"),
        ("log problems", "; ".join(r["log_problems"]) or "none"),
        ("result", "OK" if r["ok"] else "FAILED"),
    ]
    w = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{w}}  {v}" for k, v in rows)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--conns", type=int, default=5000)
    ap.add_argument("--rooms", type=int, default=100)
    ap.add_argument("--procs", type=int, default=2, help="generator processes")
    ap.add_argument("--rounds", type=int, default=1, help="storms in a row on the same server")
    ap.add_argument("--redis", action="store_true")
    ap.add_argument("--json")
    ap.add_argument("--gen", help=argparse.SUPPRESS)
    ap.add_argument("--index", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--of", type=int, default=1, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.gen:
        asyncio.run(generator(args.gen, args.index, args.of, args.conns, args.rooms))
        return 0
    res = asyncio.run(storm(args))
    print(table(res))
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=1))
    return 0 if res["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
