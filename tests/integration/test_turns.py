"""Turn-taking with real clients and the server's timers on a hand-driven clock (issue 3)."""

from __future__ import annotations

from tests.integration.conftest import Running
from tests.support import Client, token

ROOM = "check-in"


async def setup(server: Running, *names: str, **settings: object) -> tuple[Client, list[Client]]:
    fac = await server.client(ROOM, "facilitator", "Fac")
    if settings:
        ack = await fac.call("room.settings", {"room": ROOM, **settings})
        assert ack["ok"], ack
    return fac, [await server.client(ROOM, "member", n) for n in names]


async def test_fifo_queue_and_auto_advance_on_yield(server: Running) -> None:
    fac, (ana, ben, cai) = await setup(server, "Ana", "Ben", "Cai")
    for who in (ana, ben, cai):
        assert (await who.call("hand.raise", {"room": ROOM}))["ok"]
    granted = await fac.wait_event("floor.granted")
    assert granted["data"]["participant_id"] == "Ana"
    await fac.wait_event("hand.raised", lambda e: e["data"]["participant_id"] == "Cai")
    assert fac.events[-1]["data"]["queue"] == ["Ben", "Cai"]
    # Only the holder can yield.
    assert (await ben.call("floor.yield", {"room": ROOM}))["error"]["code"] == "conflict"
    assert (await ana.call("floor.yield", {"room": ROOM}))["ok"]
    released = await cai.wait_event("floor.released")
    assert released["data"] == {"participant_id": "Ana", "reason": "yielded"}
    nxt = await cai.wait_event("floor.granted", lambda e: e["data"]["participant_id"] == "Ben")
    assert nxt["seq"] == released["seq"] + 1
    ack = await cai.call("hand.lower", {"room": ROOM})
    assert ack == {"ok": True, "queue": []}


async def test_timed_share_warns_then_expires_exactly_once(server: Running) -> None:
    fac, (ana, ben) = await setup(server, "Ana", "Ben", share_seconds=60, warn_seconds=15)
    await ana.call("hand.raise", {"room": ROOM})
    granted = await fac.wait_event("floor.granted")
    assert granted["data"]["deadline"] == granted["data"]["started_at"] + 60_000
    await server.clock.advance(44_000)
    assert "floor.warning" not in fac.types()
    await server.clock.advance(1_000)
    warning = await ben.wait_event("floor.warning")
    assert warning["data"] == {"participant_id": "Ana", "remaining_ms": 15_000}
    await server.clock.advance(15_000)
    await ben.wait_event("floor.expired")
    # notify: Ana keeps the floor; nothing more fires however long we wait.
    await server.clock.advance(120_000)
    await ben.call("reaction.send", {"room": ROOM, "kind": "clap"})
    await ben.wait_event("reaction")
    assert ben.types().count("floor.warning") == 1 and ben.types().count("floor.expired") == 1
    assert "floor.released" not in ben.types()


async def test_overrun_advance_moves_the_floor(server: Running) -> None:
    fac, (ana, ben) = await setup(server, "Ana", "Ben", share_seconds=30, warn_seconds=10, overrun="advance")
    await ana.call("hand.raise", {"room": ROOM})
    await ben.call("hand.raise", {"room": ROOM})
    await fac.wait_event("hand.raised", lambda e: e["data"]["participant_id"] == "Ben")
    await server.clock.advance(30_000)
    nxt = await fac.wait_event("floor.granted", lambda e: e["data"]["participant_id"] == "Ben")
    tail = [e["type"] for e in fac.events if e["seq"] <= nxt["seq"]][-4:]
    assert tail == ["floor.warning", "floor.expired", "floor.released", "floor.granted"]


async def test_round_visits_everyone_in_order_honours_pass_and_ends(server: Running) -> None:
    fac, (ana, ben, cai) = await setup(server, "Ana", "Ben", "Cai")
    ack = await fac.call("round.start", {"room": ROOM, "order": ["Ana", "Ben", "Cai"]})
    assert ack["ok"], ack
    await ana.wait_event("floor.granted", lambda e: e["data"]["participant_id"] == "Ana")
    assert (await ana.call("floor.yield", {"room": ROOM}))["ok"]
    await ben.wait_event("floor.granted", lambda e: e["data"]["participant_id"] == "Ben")
    assert (await ben.call("floor.pass", {"room": ROOM}))["ok"]
    await cai.wait_event("floor.granted", lambda e: e["data"]["participant_id"] == "Cai")
    assert (await cai.call("floor.yield", {"room": ROOM}))["ok"]
    await fac.wait_event("round.ended")
    holders = [e["data"]["participant_id"] for e in fac.events if e["type"] == "floor.granted"]
    assert holders == ["Ana", "Ben", "Cai"]
    reasons = [e["data"]["reason"] for e in fac.events if e["type"] == "floor.released"]
    assert reasons == ["yielded", "passed", "yielded"]
    changed = await fac.wait_event("settings.changed", lambda e: e["data"]["settings"]["mode"] == "queue")
    assert changed


async def test_default_round_order_is_join_order(server: Running) -> None:
    fac, (ana, _ben) = await setup(server, "Ana", "Ben")
    await fac.call("round.start", {"room": ROOM})
    started = await ana.wait_event("round.started")
    assert started["data"]["order"] == ["Fac", "Ana", "Ben"]


async def test_member_calling_facilitator_controls_is_forbidden(server: Running) -> None:
    fac, (ana, _ben) = await setup(server, "Ana", "Ben")
    controls = {
        "floor.grant": {"participant": "Ben"}, "floor.revoke": {}, "queue.move": {"participant": "Ben", "index": 0},
        "round.start": {}, "round.stop": {}, "room.settings": {"chat": "off"},
        "participant.mute": {"participant": "Ben", "muted": True}, "participant.remove": {"participant": "Ben"},
        "lobby.admit": {"participant": "Ben"}, "lobby.deny": {"participant": "Ben"}, "chat.delete": {"seq": 1},
        "chat.review": {"id": "x", "approve": True}, "room.end": {},
    }
    for event, extra in controls.items():
        ack = await ana.call(event, {"room": ROOM, **extra})
        assert ack["ok"] is False and ack["error"]["code"] == "forbidden", (event, ack)
    assert (await fac.call("floor.grant", {"room": ROOM, "participant": "Ben"}))["ok"]


async def test_facilitator_controls_work(server: Running) -> None:
    fac, (ana, ben, cai) = await setup(server, "Ana", "Ben", "Cai", auto_advance=False)
    for who in (ana, ben, cai):
        await who.call("hand.raise", {"room": ROOM})
    ack = await fac.call("queue.move", {"room": ROOM, "participant": "Cai", "index": 0})
    assert ack["ok"] and ack["queue"] == ["Cai", "Ana", "Ben"]
    moved = await ana.wait_event("queue.moved")
    assert moved["data"]["queue"] == ["Cai", "Ana", "Ben"]
    assert (await fac.call("floor.grant", {"room": ROOM, "participant": "Cai"}))["ok"]
    await ana.wait_event("floor.granted")
    assert (await fac.call("floor.revoke", {"room": ROOM}))["ok"]
    rel = await ana.wait_event("floor.released")
    assert rel["data"] == {"participant_id": "Cai", "reason": "revoked"}


async def test_holder_who_disconnects_keeps_the_floor_for_the_grace_period(server: Running) -> None:
    fac, (ana, ben) = await setup(server, "Ana", "Ben", reconnect_grace_seconds=30)
    await ana.call("hand.raise", {"room": ROOM})
    await ben.call("hand.raise", {"room": ROOM})
    await fac.wait_event("hand.raised", lambda e: e["data"]["participant_id"] == "Ben")
    await ana.close()
    gone = await fac.wait_event("participant.updated", lambda e: not e["data"]["participant"]["connected"])
    await server.clock.advance(20_000)
    back = Client(server.url, token(ROOM, "member", name="Ana"))
    server.clients.append(back)
    await back.connect()
    ack = await back.join(ROOM, since=gone["seq"] - 1)
    assert ack["room"]["floor"]["participant_id"] == "Ana"
    assert ack["room"]["queue"] == ["Ben"]
    await server.clock.advance(60_000)
    await back.call("reaction.send", {"room": ROOM, "kind": "thanks"})
    await fac.wait_event("reaction")
    assert "floor.released" not in fac.types()


async def test_holder_who_does_not_come_back_loses_the_floor(server: Running) -> None:
    fac, (ana, ben) = await setup(server, "Ana", "Ben", reconnect_grace_seconds=30)
    await ana.call("hand.raise", {"room": ROOM})
    await ben.call("hand.raise", {"room": ROOM})
    await fac.wait_event("hand.raised", lambda e: e["data"]["participant_id"] == "Ben")
    await ana.close()
    await fac.wait_event("participant.updated", lambda e: not e["data"]["participant"]["connected"])
    await server.clock.advance(29_000)
    assert "floor.released" not in fac.types()
    await server.clock.advance(1_000)
    rel = await fac.wait_event("floor.released")
    assert rel["data"] == {"participant_id": "Ana", "reason": "left"}
    await fac.wait_event("floor.granted", lambda e: e["data"]["participant_id"] == "Ben")
    left = await fac.wait_event("participant.left")
    assert left["data"] == {"participant_id": "Ana", "reason": "disconnected"}
