"""A graceful drain (issue 18): SIGTERM makes a worker leave without losing anything.

It stops taking connections and commands, lets the commands under way commit and be
acknowledged, tells its clients (``server.draining``), disconnects them (each
disconnect commits, so the floor and the queue wait out the reconnect grace), and exits
within a bound. Its people come back on another worker with ``since``; the room's
timers fire once, from another worker.
"""

from __future__ import annotations

import asyncio
import signal
import time

from tests.cluster.conftest import Cluster
from tests.support import Client, assert_contiguous, token

# SIGTERM to exit: the drain's own bounds (2 s for commands, 3 s of goodbyes) plus
# aiohttp's shutdown and the store's close, on a loaded 2-core machine.
EXIT_BOUND_S = 12.0


async def test_sigterm_drains_a_worker_and_its_people_lose_nothing(cluster: Cluster) -> None:
    room = "drain"
    fac = await cluster.client(0, room, "facilitator", "Fay")
    assert (await fac.call("room.settings", {"room": room, "share_seconds": 15, "warn_seconds": 5}))["ok"]
    ana = await cluster.client(2, room, "member", "Ana")
    ben = await cluster.client(2, room, "member", "Ben")
    assert (await ana.call("hand.raise", {"room": room}))["ok"]
    assert (await ben.call("hand.raise", {"room": room}))["ok"]
    await fac.wait_event("hand.raised", lambda e: e["data"]["participant_id"] == "Ben")
    told = {c.name: asyncio.Event() for c in (ana, ben)}
    gone = {c.name: asyncio.Event() for c in (ana, ben)}
    for c in (ana, ben):
        c.sio.on("server.draining", lambda *a, n=c.name: told[n].set())
        c.sio.on("disconnect", lambda *a, n=c.name: gone[n].set() if told[n].is_set() else None)

    # Ben keeps talking through the drain; each of his messages is acked ok or
    # `unavailable` (never lost, never an error of another kind).
    acked: dict[str, int] = {}
    refused: list[str] = []

    async def talk() -> None:
        for i in range(10_000):
            cid = f"ben-{i}"
            try:
                ack = await ben.call("chat.send", {"room": room, "text": f"still here {i}", "client_id": cid},
                                     timeout=5)
            except Exception:
                refused.append(cid)  # the connection closed under the call: no answer
                return
            if ack["ok"]:
                acked[cid] = ack["event"]["seq"]
            else:
                assert ack["error"]["code"] == "unavailable", ack
                refused.append(cid)
                return
            if gone["Ben"].is_set():
                return
            await asyncio.sleep(2.1)  # a person's pace, under the flood rule's 5 in 10 s

    talker = asyncio.create_task(talk())
    await ben.wait_for(lambda: len(acked) >= 2 or talker.done(), timeout=10)
    assert not talker.done(), (talker, refused, acked)
    seen = {c.name: c.seqs()[-1] for c in (ana, ben)}
    worker = cluster.workers[2]
    assert worker.proc is not None
    loop = asyncio.get_running_loop()
    started = time.monotonic()
    worker.proc.send_signal(signal.SIGTERM)
    exit_code = await loop.run_in_executor(None, worker.proc.wait, EXIT_BOUND_S)
    exited = time.monotonic() - started
    for c in (ana, ben):
        await asyncio.wait_for(gone[c.name].wait(), EXIT_BOUND_S)
    await asyncio.wait_for(talker, EXIT_BOUND_S)
    assert exited < EXIT_BOUND_S
    assert exit_code == 0

    # They come back on worker 1 with `since`: the floor and the queue waited for them.
    back: dict[str, Client] = {}
    for c, w in ((ana, 1), (ben, 1)):
        again = Client(cluster.workers[w].url, token(room, "member", name=c.name), name=c.name)
        cluster.clients.append(again)
        await again.connect()
        ack = await again.join(room, since=seen[c.name])
        snap = ack["room"]
        assert "reset" not in snap
        assert snap["floor"]["participant_id"] == "Ana" and snap["queue"] == ["Ben"]
        again.events[:0] = [e for e in c.events if e["seq"] <= seen[c.name]] + ack["missed"]
        back[c.name] = again
    # Ben's message that the drain refused is sent again with its client_id: committed once.
    retry: dict[str, int] = {}
    for cid in refused:
        text = f"still here {cid.split('-')[1]}"
        ack = await back["Ben"].call("chat.send", {"room": room, "text": text, "client_id": cid})
        assert ack["ok"], ack
        retry[cid] = ack["event"]["seq"]
    # Ana's share, started before the drain, warns and expires once, from another worker.
    for c in (fac, back["Ana"]):
        await c.wait_event("floor.expired", timeout=15)
    assert (await fac.call("reaction.send", {"room": room, "kind": "clap"}))["ok"]
    for c in (fac, *back.values()):
        await c.wait_event("reaction")
        assert_contiguous(c.seqs())
        assert c.types().count("floor.warning") == 1 and c.types().count("floor.expired") == 1
        texts = [e["data"]["text"] for e in c.events if e["type"] == "chat.message"]
        at = {e["seq"]: e["data"]["text"] for e in c.events if e["type"] == "chat.message"}
        # Every acknowledged message is there once, at its seq; so is every retried one.
        for cid, seq in [*acked.items(), *retry.items()]:
            text = f"still here {cid.split('-')[1]}"
            assert texts.count(text) == 1 and at[seq] == text, (c.name, cid)
    # The log says nothing of the drain but Ana's and Ben's reconnects: no forced leave.
    assert not any(e["type"] == "participant.left" for e in fac.events)
    assert "Traceback" not in worker.log_path.read_text(errors="replace")
