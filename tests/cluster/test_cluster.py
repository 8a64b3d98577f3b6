"""Three worker processes and one Redis behave as one server (issue 4).

Real processes, real sockets, real redis-server; clients are spread over the workers.
Events are awaited, never slept for; the timed-share test runs on the real clock.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any, cast

import aiohttp
import redis.asyncio as aioredis

from server.store import keys
from tests.cluster.conftest import ROOT, Cluster, http_status
from tests.redis_server import RedisServer, free_port
from tests.support import SECRET, Client, assert_contiguous, token


def log_of(c: Client, after: int = 0) -> list[tuple[int, str, Any]]:
    return [(e["seq"], e["type"], e["data"].get("text")) for e in c.events if e["seq"] > after]


def on_disconnect(c: Client) -> asyncio.Event:
    gone = asyncio.Event()
    c.sio.on("disconnect", lambda *args: gone.set())
    return gone


async def test_clients_on_every_worker_see_one_log(cluster: Cluster) -> None:
    room = "one-log"
    fac = await cluster.client(0, room, "facilitator", "Fay")
    members = [await cluster.client(i % 3, room, "member", f"m{i}") for i in range(5)]
    last = await cluster.client(2, room, "member", "m5", join=False)
    start = (await last.join(room))["room"]["seq"]
    people = [fac, *members, last]
    # Everyone talks at once, from all three workers.
    acks = await asyncio.gather(*(p.call("chat.send", {"room": room, "text": f"{p.name} says {k}"})
                                  for p in people for k in range(2)))
    assert all(a["ok"] for a in acks), acks
    for p in people:
        await p.wait_for(lambda p=p: sum(e["type"] == "chat.message" for e in p.events if e["seq"] > start) == 14)
    logs = [log_of(p, start) for p in people]
    assert all(lg == logs[0] for lg in logs)
    assert [s for s, _, _ in logs[0]] == list(range(start + 1, start + 15))
    assert sorted(a["event"]["seq"] for a in acks) == [s for s, _, _ in logs[0]]
    for p in people:
        assert_contiguous(p.seqs())  # no gap, no duplicate, from each one's own join on


async def test_hands_raised_at_once_on_three_workers_make_one_queue(cluster: Cluster) -> None:
    room = "hands"
    fac = await cluster.client(0, room, "facilitator", "Fay")
    members = [await cluster.client(i % 3, room, "member", f"h{i}") for i in range(6)]
    acks = await asyncio.gather(*(m.call("hand.raise", {"room": room}) for m in members))
    assert all(a["ok"] for a in acks), acks
    people = [fac, *members]
    for p in people:
        await p.wait_for(lambda p=p: sum(e["type"] == "hand.raised" for e in p.events) == 6)
    turns = [[(e["seq"], e["type"], e["data"].get("participant_id"), tuple(e["data"].get("queue", ())))
              for e in p.events if e["type"] in ("hand.raised", "floor.granted")] for p in members]
    assert all(t == turns[0] for t in turns)
    # One holder, five in the queue, everyone exactly once, in the order the log says.
    watcher = await cluster.client(1, room, "member", "watcher", join=False)
    snap = (await watcher.join(room))["room"]
    holder = snap["floor"]["participant_id"]
    assert sorted([holder, *snap["queue"]]) == sorted(m.name for m in members)
    raised = [e["data"]["participant_id"] for e in fac.events if e["type"] == "hand.raised"]
    assert raised[0] == holder and snap["queue"] == raised[1:]


async def test_timed_share_warns_and_expires_exactly_once_across_workers(cluster: Cluster) -> None:
    room = "timed"
    fac = await cluster.client(0, room, "facilitator", "Fay")
    assert (await fac.call("room.settings", {"room": room, "share_seconds": 10, "warn_seconds": 5}))["ok"]
    ana = await cluster.client(1, room, "member", "Ana")
    ben = await cluster.client(2, room, "member", "Ben")
    assert (await ana.call("hand.raise", {"room": room}))["ok"]
    granted = await ben.wait_event("floor.granted")
    deadline = granted["data"]["deadline"]
    assert deadline == granted["data"]["started_at"] + 10_000
    for p in (fac, ana, ben):
        await p.wait_event("floor.expired", timeout=15)
    warning = next(e for e in fac.events if e["type"] == "floor.warning")
    expired = next(e for e in fac.events if e["type"] == "floor.expired")
    assert warning["data"]["participant_id"] == "Ana" and 3000 < warning["data"]["remaining_ms"] <= 5000
    # On time (the timers are polled every 150 ms), and not early.
    assert 0 <= warning["at"] - (deadline - 5000) < 2000
    assert 0 <= expired["at"] - deadline < 2000
    # A later event arrives after anything committed before it: no second warning or expiry.
    assert (await ben.call("reaction.send", {"room": room, "kind": "clap"}))["ok"]
    for p in (fac, ana, ben):
        await p.wait_event("reaction")
        assert p.types().count("floor.warning") == 1 and p.types().count("floor.expired") == 1
        assert "floor.released" not in p.types()  # overrun "notify": Ana keeps the floor


async def test_killed_worker_its_people_come_back_elsewhere_with_nothing_lost(cluster: Cluster) -> None:
    room = "failover"
    fac = await cluster.client(0, room, "facilitator", "Fay")
    dee = await cluster.client(1, room, "member", "Dee")
    ana = await cluster.client(2, room, "member", "Ana")
    ben = await cluster.client(2, room, "member", "Ben")
    await cluster.client(2, room, "member", "Eve")
    for who in (ana, ben, dee):
        assert (await who.call("hand.raise", {"room": room}))["ok"]
    await fac.wait_event("hand.raised", lambda e: e["data"]["participant_id"] == "Dee")
    assert (await fac.call("chat.send", {"room": room, "text": "before the crash"}))["ok"]
    for who in (ana, ben):
        await who.wait_event("chat.message")
    seen = {"Ana": ana.seqs()[-1], "Ben": ben.seqs()[-1]}
    before = {"Ana": list(ana.events), "Ben": list(ben.events)}

    cluster.workers[2].kill()  # kill -9: no goodbye, no disconnect committed
    killed_at = time.monotonic()
    # The meeting goes on meanwhile.
    for i in range(3):
        assert (await dee.call("chat.send", {"room": room, "text": f"while away {i}"}))["ok"]

    back: dict[str, Client] = {}
    for name, worker in (("Ana", 0), ("Ben", 1)):
        c = Client(cluster.workers[worker].url, token(room, "member", name=name), name=name)
        cluster.clients.append(c)
        await c.connect()
        ack = await c.join(room, since=seen[name])
        snap = ack["room"]
        assert "reset" not in snap
        assert [e["seq"] for e in ack["missed"]] == list(range(seen[name] + 1, snap["seq"] + 1))
        # Same floor, same queue place.
        assert snap["floor"]["participant_id"] == "Ana"
        assert snap["queue"] == ["Ben", "Dee"]
        c.events[:0] = before[name] + ack["missed"]
        back[name] = c
    assert time.monotonic() - killed_at < 5.0
    assert (await fac.call("chat.send", {"room": room, "text": "welcome back"}))["ok"]
    for name, c in back.items():
        await c.wait_event("chat.message", lambda e: e["data"]["text"] == "welcome back")
        await fac.wait_for(lambda c=c: fac.seqs()[-1] >= c.seqs()[-1])
        first = c.seqs()[0]
        assert_contiguous(c.seqs())
        # Exactly the log the facilitator saw, over the same range.
        assert log_of(c, first - 1) == [x for x in log_of(fac, first - 1) if x[0] <= c.seqs()[-1]], name
    # Eve never came back: a surviving worker sweeps the dead one, and her grace starts.
    gone = await fac.wait_event("participant.updated", lambda e: e["data"]["participant"]["id"] == "Eve"
                                and not e["data"]["participant"]["connected"], timeout=15)
    assert gone["actor"] is None
    # Ana and Ben, already back elsewhere, were not marked gone by that sweep.
    snap = (await (await cluster.client(0, room, "member", "Late", join=False)).join(room))["room"]
    connected = {p["id"]: p["connected"] for p in snap["participants"]}
    assert connected["Ana"] and connected["Ben"] and not connected["Eve"]


async def test_redis_restart_unavailable_then_recovered_with_an_honest_reset(survivors: Cluster) -> None:
    cluster = survivors
    room = "restart"
    fac = await cluster.client(0, room, "facilitator", "Fay")
    ana = await cluster.client(1, room, "member", "Ana")
    assert (await ana.call("chat.send", {"room": room, "text": "before the restart"}))["ok"]
    await fac.wait_event("chat.message")
    last = {"Fay": fac.seqs()[-1], "Ana": ana.seqs()[-1]}
    gone = [on_disconnect(fac), on_disconnect(ana)]

    cluster.redis.stop()  # it keeps nothing on disk: everything is lost
    started = time.monotonic()
    ack = await ana.call("chat.send", {"room": room, "text": "into the void"})
    assert ack["error"]["code"] == "unavailable"
    assert time.monotonic() - started < 2.5
    running = [w for w in cluster.workers if w.alive]
    for w in running:
        assert http_status(w.url + "/readyz") == 503

    cluster.redis.start()
    deadline = time.monotonic() + 10
    for w in running:
        while http_status(w.url + "/readyz") != 200:
            assert time.monotonic() < deadline, "a worker did not recover"
            await asyncio.sleep(0.05)  # polling an HTTP probe: there is no event to await
    # The room's history is gone; the workers say so by closing their clients' sockets.
    for g in gone:
        await asyncio.wait_for(g.wait(), 10)
    fac2 = await cluster.client(0, room, "facilitator", "Fay", join=False)
    ack = await fac2.join(room, since=last["Fay"])  # a facilitator's join makes the room again
    assert ack["room"]["reset"] is True and "missed" not in ack
    ana2 = await cluster.client(1, room, "member", "Ana", join=False)
    ack = await ana2.join(room, since=last["Ana"])
    assert ack["room"]["reset"] is True
    assert (await ana2.call("chat.send", {"room": room, "text": "we are back"}))["ok"]
    ev = await fac2.wait_event("chat.message")
    assert ev["data"]["text"] == "we are back"
    # The configured on-call room is open again by itself, still an on-call room.
    visitor = await cluster.client(1, "oncall", "member", "Visitor", join=False)
    ack = await visitor.join("oncall")
    assert ack["room"]["kind"] == "oncall"


def children(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                out.append(int(entry))
    return out


def still_running(pids: list[int]) -> list[int]:
    return [pid for pid in pids if os.path.exists(f"/proc/{pid}")]


async def test_workers_option_serves_one_port_from_two_processes(survivors: Cluster) -> None:
    cluster = survivors
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CIRCLES_")}
    env["CIRCLES_SECRET"] = SECRET
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "server", "serve", "--workers", "2", "--port", str(port),
        "--redis-url", cluster.redis.url, cwd=ROOT, env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    room = "one-port"
    raw = aioredis.Redis.from_url(cluster.redis.url, decode_responses=True)
    try:
        deadline = time.monotonic() + 30

        async def beating() -> set[int]:
            """Pids of this supervisor's workers that heartbeat (worker ids hold the pid)."""
            ids = cast(list[str], await raw.zrange(keys.WORKERS, 0, -1))
            return {pid for pid in children(proc.pid) if any(f"-{pid}-" in w for w in ids)}

        # Both workers up (each beats once its app has started) before anyone connects.
        while len(await beating()) < 2 or http_status(url + "/healthz") != 200:
            assert proc.returncode is None and time.monotonic() < deadline
            await asyncio.sleep(0.05)  # polling during startup
        pids = children(proc.pid)
        async with aiohttp.ClientSession() as http:
            async with http.get(url + "/socket.io/?EIO=4&transport=polling") as r:
                assert r.status == 400  # long-polling is refused: it cannot share a port
        people = []
        for i in range(12):
            c = Client(url, token(room, "facilitator" if i == 0 else "member", name=f"p{i}"))
            cluster.clients.append(c)
            await c.connect()
            await c.join(room)
            people.append(c)
        assert (await people[5].call("chat.send", {"room": room, "text": "one port"}))["ok"]
        for c in people:
            await c.wait_event("chat.message")
        # Both workers hold some of them (twelve connections all on one: 1 in 2048).
        holders: set[str] = set()
        while len(holders) < 2:
            assert time.monotonic() < deadline + 5
            holders = set()
            for member in cast(list[str], await raw.zrange(keys.WORKERS, 0, -1)):
                fields = cast(list[str], await raw.hkeys(keys.conns(member)))
                if any(f.startswith(room + "\n") for f in fields):
                    holders.add(member)
            await asyncio.sleep(0.1)  # presence is written on the next heartbeat
        assert all(pid in children(proc.pid) for pid in pids)  # nobody crashed
    finally:
        for c in cluster.clients:
            await c.close()
        await raw.aclose()
        proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.wait(), 20)
    assert proc.returncode == 0
    assert not still_running(pids)  # the workers stopped too


def test_worker_logs_hold_no_chat_text_and_no_tokens(cluster_procs: Cluster) -> None:
    logs = cluster_procs.logs()
    assert logs, "the workers logged nothing at all"
    for text in ("says", "before the crash", "while away", "welcome back", "into the void", "we are back"):
        assert text not in logs
    assert "eyJ" not in logs  # the start of every JWT


def cmdline(pid: int) -> bytes:
    return Path(f"/proc/{pid}/cmdline").read_bytes()


async def test_workers_never_carry_the_redis_password_on_their_command_line() -> None:
    # Issue 12, item 10: any user of the machine can read a process's command line.
    password = "s3cret-redis-pass-" + os.urandom(4).hex()
    redis_server = RedisServer(args=("--requirepass", password)).start()
    url_with_password = f"redis://:{password}@127.0.0.1:{redis_server.port}/0"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CIRCLES_")}
    env["CIRCLES_SECRET"] = SECRET
    # The worst case: the operator put it on the supervisor's own command line.
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "server", "serve", "--workers", "2", "--port", str(port),
        "--redis-url", url_with_password, cwd=ROOT, env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    people: list[Client] = []
    try:
        deadline = time.monotonic() + 30
        while len(children(proc.pid)) < 2 or http_status(url + "/healthz") != 200:
            assert proc.returncode is None and time.monotonic() < deadline
            await asyncio.sleep(0.05)  # polling during startup
        workers = children(proc.pid)
        for pid in workers:
            assert b"serve" in cmdline(pid) and password.encode() not in cmdline(pid)
        # And they reach the password-protected Redis: a chat crosses between workers.
        for i in range(6):
            c = Client(url, token("pw-room", "facilitator" if i == 0 else "member", name=f"p{i}"))
            people.append(c)
            await c.connect()
            await c.join("pw-room")
        assert (await people[3].call("chat.send", {"room": "pw-room", "text": "through redis"}))["ok"]
        for c in people:
            await c.wait_event("chat.message")
    finally:
        for c in people:
            await c.close()
        proc.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(proc.communicate(), 20)
        redis_server.close()
    logs = err.decode()
    assert password not in logs
    assert "CIRCLES_REDIS_URL" in logs  # the operator is told how to keep it off the command line
    assert proc.returncode == 0
