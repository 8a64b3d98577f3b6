"""Who is on duty, as the staff console asks any worker: the same answer from every worker
of a real cluster, whichever worker each responder is connected to; and a killed worker's
responders are no longer on duty."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import aiohttp

from tests.cluster.conftest import Cluster
from tests.support import ADMIN_KEY

# Heartbeats write a change at once; a dead worker is dead after 3 s (store/keys.py).
SEEN_WITHIN_S = 5.0


async def on_duty(cluster: Cluster, worker: int) -> dict[str, dict[str, Any]]:
    async with aiohttp.ClientSession() as http, http.get(
            cluster.workers[worker].url + "/api/oncall/duty", headers={"Authorization": f"Bearer {ADMIN_KEY}"}) as r:
        assert r.status == 200, await r.text()
        return {d["responder"]: d for d in (await r.json())["on_duty"] if d["responder"].startswith("duty-")}


async def until(cluster: Cluster, worker: int, pred: Callable[[dict[str, dict[str, Any]]], bool]) -> dict[str, Any]:
    """Ask ``worker`` until its answer satisfies ``pred``. Another worker's change reaches
    Redis with its next heartbeat write, which no client here can await: polled."""
    deadline = time.monotonic() + SEEN_WITHIN_S
    while True:
        got = await on_duty(cluster, worker)
        if pred(got):
            return got
        assert time.monotonic() < deadline, f"worker {worker} still says {got}"
        await asyncio.sleep(0.05)


async def test_every_worker_sees_who_is_on_duty_on_any_worker(cluster: Cluster) -> None:
    ravi = await cluster.client(0, "*", "responder", "Ravi", join=False, sub="duty-ravi")
    gita = await cluster.client(2, "*", "responder", "Gita Devi", join=False, sub="duty-gita")
    before = int(time.time() * 1000)
    assert (await ravi.call("oncall.duty", {"on": True}))["ok"]
    assert (await gita.call("oncall.duty", {"on": True}))["ok"]
    after = int(time.time() * 1000)
    # Worker 1 holds neither of them, and sees both, with their names and since when.
    seen = await until(cluster, 1, lambda d: set(d) == {"duty-ravi", "duty-gita"})
    assert seen["duty-gita"]["name"] == "Gita Devi" and seen["duty-ravi"]["name"] == "Ravi"
    assert all(before <= d["since"] <= after for d in seen.values())
    # The worker holding Ravi sees him at once, without waiting for its own heartbeat.
    assert "duty-ravi" in await on_duty(cluster, 0)
    await until(cluster, 0, lambda d: set(d) == {"duty-ravi", "duty-gita"})

    # Ravi goes off duty: every worker stops listing him.
    assert (await ravi.call("oncall.duty", {"on": False}))["ok"]
    assert "duty-ravi" not in await on_duty(cluster, 0)
    await until(cluster, 1, lambda d: set(d) == {"duty-gita"})
    await until(cluster, 2, lambda d: set(d) == {"duty-gita"})

    # Gita's worker dies: she is not on duty any more (her pages would reach nobody).
    cluster.workers[2].kill()
    await until(cluster, 1, lambda d: not d)
    assert await on_duty(cluster, 0) == {}


async def test_a_responder_on_duty_on_two_workers_is_listed_once_since_the_first(cluster: Cluster) -> None:
    first = await cluster.client(0, "*", "responder", "Dev", join=False, sub="duty-dev")
    assert (await first.call("oncall.duty", {"on": True}))["ok"]
    seen = await until(cluster, 2, lambda d: "duty-dev" in d)
    second = await cluster.client(1, "*", "responder", "Dev", join=False, sub="duty-dev")
    assert (await second.call("oncall.duty", {"on": True}))["ok"]
    assert (await on_duty(cluster, 1))["duty-dev"]["since"] == seen["duty-dev"]["since"]
    # Off on one worker, still on duty on the other.
    await first.close()
    await until(cluster, 2, lambda d: d.get("duty-dev", {}).get("since", 0) > seen["duty-dev"]["since"])
    assert (await second.call("oncall.duty", {"on": False}))["ok"]
    await until(cluster, 2, lambda d: "duty-dev" not in d)
