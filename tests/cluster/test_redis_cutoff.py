"""A worker cut off from Redis but not from its clients (chaos soak issue, fault kind 2).

Three real workers on one real redis-server; worker 0 reaches it through a
``ChaosProxy`` that is switched to ``stall`` (bytes accepted, nothing forwarded: the
silent partition a socket notices last). Its commands answer ``unavailable`` within the
store's operation timeout, never hang and never answer wrong; its clients are told
(``server.status``); the other workers go on serving the same room; when the proxy
passes again the cut-off worker catches up, and every client's log is the same. If the
cut lasts, its clients are let go so that they reconnect to a worker that has Redis.
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from server.cluster.status import DEGRADED_AFTER_S, DROP_AFTER_S
from server.store.redis import OP_TIMEOUT_S
from tests.chaos_proxy import ChaosProxy
from tests.cluster.conftest import CONFIG, Worker, http_status
from tests.redis_server import RedisServer, free_port
from tests.support import Client, assert_contiguous, token


@dataclass
class CutCluster:
    redis: RedisServer
    proxy: ChaosProxy
    workers: list[Worker]
    clients: list[Client] = field(default_factory=list)

    async def client(self, worker: int, room: str, role: str = "member", name: str | None = None) -> Client:
        c = Client(self.workers[worker].url, token(room, role, name=name), name=name or role)
        self.clients.append(c)
        await c.connect()
        await c.join(room)
        return c

    def logs(self) -> str:
        return "".join(w.log_path.read_text(errors="replace") for w in self.workers if w.log_path.exists())


@pytest.fixture(scope="module")
def cut_procs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CutCluster]:
    logs = tmp_path_factory.mktemp("cutoff-logs")
    config = logs / "circles.toml"
    config.write_text(CONFIG)
    redis = RedisServer().start()
    proxy = ChaosProxy.in_thread(redis.port)
    urls = [f"redis://127.0.0.1:{proxy.port}/0", redis.url, redis.url]
    workers = [Worker(i, free_port(), url, logs / f"worker{i}.log", config) for i, url in enumerate(urls)]
    try:
        for w in workers:
            w.start()
        for w in workers:
            w.wait_healthy()
        yield CutCluster(redis, proxy, workers)
    finally:
        for w in workers:
            w.kill(signal.SIGTERM)
        proxy.stop_thread()
        redis.close()


@pytest.fixture
async def cut(cut_procs: CutCluster) -> AsyncIterator[CutCluster]:
    cut_procs.proxy.set_mode("pass")
    deadline = time.monotonic() + 15
    while http_status(cut_procs.workers[0].url + "/readyz") != 200:  # back from an earlier test's cut
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)  # polling an HTTP probe: there is no event to await
    yield cut_procs
    cut_procs.proxy.set_mode("pass")
    for c in cut_procs.clients:
        await c.close()
    cut_procs.clients.clear()


def log_map(c: Client, room: str) -> dict[int, tuple[str, Any, Any]]:
    return {e["seq"]: (e["type"], e["data"].get("id"), e["data"].get("text")) for e in c.events if e["room"] == room}


def statuses(c: Client) -> list[dict[str, Any]]:
    return [d for n, d in c.private if n == "server.status"]


def assert_same_logs(people: list[Client], room: str, upto: int) -> None:
    ref = log_map(people[0], room)
    for p in people:
        assert_contiguous(p.seqs(room))
        mine = {s: v for s, v in log_map(p, room).items() if s <= upto}
        assert mine == {s: v for s, v in ref.items() if min(mine) <= s <= upto}, p.name


async def test_cut_off_worker_answers_unavailable_tells_its_clients_and_catches_up(cut: CutCluster) -> None:
    room = "cut-short"
    fac = await cut.client(1, room, "facilitator", "Fay")
    ana = await cut.client(0, room, "member", "Ana")
    ben = await cut.client(0, room, "member", "Ben")
    dee = await cut.client(2, room, "member", "Dee")
    people = [fac, ana, ben, dee]
    assert (await ana.call("chat.send", {"room": room, "text": "before", "client_id": "a-0"}))["ok"]
    for p in people:
        await p.wait_event("chat.message")

    cut.proxy.set_mode("stall")
    stalled = time.monotonic()
    ack = await ana.call("chat.send", {"room": room, "text": "during", "client_id": "a-1"})
    took = time.monotonic() - stalled
    assert ack == {"ok": False, "error": {"code": "unavailable", "message": ack["error"]["message"]}}
    assert took < OP_TIMEOUT_S + 1.0, took  # never hangs
    # The worker tells its own clients; the others' clients hear nothing of it.
    for c in (ana, ben):
        told = await c.wait_for(lambda c=c: statuses(c), timeout=OP_TIMEOUT_S + DEGRADED_AFTER_S + 2)
        assert told[0]["state"] == "degraded" and told[0]["reason"] == "store_unreachable"
    told_after = time.monotonic() - stalled
    # The meeting goes on through the other workers meanwhile.
    during = [await fac.call("chat.send", {"room": room, "text": f"while cut {i}", "client_id": f"f-{i}"})
              for i in range(3)]
    assert all(a["ok"] for a in during), during
    await dee.wait_event("chat.message", lambda e: e["data"]["text"] == "while cut 2")
    assert "while cut 0" not in [e["data"].get("text") for e in ana.events]  # the bus is stalled too

    cut.proxy.set_mode("pass")
    passed = time.monotonic()
    for c in (ana, ben):
        await c.wait_for(lambda c=c: [s for s in statuses(c) if s["state"] == "ok"], timeout=10)
        await c.wait_event("chat.message", lambda e: e["data"]["text"] == "while cut 2", timeout=10)
    ok_after = time.monotonic() - passed
    print(f"\ncut-off: told after {told_after:.2f} s, back (told ok, caught up) {ok_after:.2f} s after the cut ended")
    assert told_after < OP_TIMEOUT_S + DEGRADED_AFTER_S + 2
    # Ana's retry (same client_id) goes through, once.
    ev = (await ana.call("chat.send", {"room": room, "text": "during", "client_id": "a-1"}))["event"]
    for p in people:
        await p.wait_for(lambda p=p: p.seqs(room)[-1] >= ev["seq"])
    assert_same_logs(people, room, ev["seq"])
    texts = [v[2] for v in log_map(fac, room).values() if v[0] == "chat.message"]
    assert texts == ["before", "while cut 0", "while cut 1", "while cut 2", "during"]
    assert [s["state"] for s in statuses(fac)] == [] and [s["state"] for s in statuses(dee)] == []
    assert [s["state"] for s in statuses(ana)] == ["degraded", "ok"]
    assert "while cut" not in cut.logs() and "during" not in cut.logs()


async def test_a_long_cut_lets_its_clients_go_and_they_come_back_elsewhere(cut: CutCluster) -> None:
    room = "cut-long"
    fac = await cut.client(1, room, "facilitator", "Fay")
    ana = await cut.client(0, room, "member", "Ana")
    assert (await fac.call("chat.send", {"room": room, "text": "before"}))["ok"]
    await ana.wait_event("chat.message")
    gone = asyncio.Event()
    ana.sio.on("disconnect", lambda *args: gone.set())

    cut.proxy.set_mode("stall")
    stalled = time.monotonic()
    await ana.wait_for(lambda: statuses(ana), timeout=OP_TIMEOUT_S + DEGRADED_AFTER_S + 2)
    assert (await fac.call("chat.send", {"room": room, "text": "while away"}))["ok"]
    # Let go once the outage lasts: she reconnects, and the load balancer sends her to a
    # worker that has its store (here: worker 2), where she rejoins with since.
    await asyncio.wait_for(gone.wait(), OP_TIMEOUT_S + DEGRADED_AFTER_S + DROP_AFTER_S + 4)
    dropped_after = time.monotonic() - stalled
    seen = ana.seqs(room)[-1]
    back = Client(cut.workers[2].url, ana.tok, name="Ana")
    cut.clients.append(back)
    await back.connect()
    ack = await back.join(room, since=seen)
    assert "reset" not in ack["room"]
    back.events[:0] = [*ana.events, *ack["missed"]]
    assert (await back.call("chat.send", {"room": room, "text": "back again", "client_id": "a-9"}))["ok"]
    ev = await fac.wait_event("chat.message", lambda e: e["data"]["text"] == "back again")
    await back.wait_for(lambda: back.seqs(room)[-1] >= ev["seq"])
    print(f"\ncut-off: client let go {dropped_after:.2f} s after the cut began")
    assert_same_logs([fac, back], room, ev["seq"])
    texts = [v[2] for v in log_map(back, room).values() if v[0] == "chat.message"]
    assert texts == ["before", "while away", "back again"]
