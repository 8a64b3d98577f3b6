"""Services, consent and arrivals through real Socket.IO clients, on both stores: the
events and acks as docs/protocol.md gives them."""

from __future__ import annotations

from tests.integration.conftest import Running

ROOM = "tuesday"


async def test_consent_at_entry_is_asked_and_recorded_as_a_time(server: Running) -> None:
    fac = await server.client(ROOM, "facilitator", "Fatima", sub="fac")
    assert (await fac.call("room.settings", {"room": ROOM, "consent": True}))["ok"]
    asha = await server.client(ROOM, "member", "Asha", sub="asha", join=False)
    ack = await asha.call("join", {"room": ROOM})
    assert ack["ok"] is False and ack["error"]["code"] == "forbidden" and ack["consent"] is True
    ack = await asha.call("join", {"room": ROOM, "accept": True})
    assert ack["ok"] and ack["you"]["accepted_at"] == server.clock.now_ms()
    joined = await fac.wait_event("participant.joined", lambda e: e["data"]["participant"]["id"] == "asha")
    assert set(joined["data"]["participant"]) == {"id", "name", "role", "muted", "connected", "joined_at",
                                                  "accepted_at"}
    bad = await asha.call("join", {"room": ROOM, "accept": "yes"})
    assert bad["ok"] is False and bad["error"]["code"] == "invalid"


async def test_a_greeter_keeps_the_door_and_sees_who_is_new(server: Running) -> None:
    fac = await server.client(ROOM, "facilitator", "Fatima", sub="fac")
    greeter = await server.client(ROOM, "member", "Gita", sub="gita")
    other = await server.client(ROOM, "member", "Omar", sub="omar")
    assert (await fac.call("room.settings", {"room": ROOM, "lobby": True}))["ok"]
    early = await server.client(ROOM, "member", "Early", sub="early", join=False)
    assert (await early.call("join", {"room": ROOM, "arrival": "returning"}))["error"]["code"] == "lobby"

    assert (await fac.call("participant.service", {"room": ROOM, "participant": "gita", "service": "greeter"}))["ok"]
    listed = await greeter.wait_private("lobby.list")
    assert [(p["id"], p["arrival"]) for p in listed["lobby"]] == [("early", "returning")]
    new = await server.client(ROOM, "member", "New", sub="new", join=False)
    assert (await new.call("join", {"room": ROOM, "arrival": "new"}))["error"]["code"] == "lobby"
    waiting = await greeter.wait_private("lobby.waiting")
    assert waiting["participant"]["id"] == "new" and waiting["participant"]["arrival"] == "new"
    assert (await greeter.call("lobby.admit", {"room": ROOM, "participant": "new"}))["ok"]
    await new.wait_private("lobby.admitted")
    assert (await new.call("join", {"room": ROOM, "arrival": "new"}))["ok"]
    arrival = await greeter.wait_private("participant.arrival")
    assert arrival == {"room": ROOM, "participant_id": "new", "arrival": "new"}
    assert (await fac.wait_private("participant.arrival"))["participant_id"] == "new"
    # Omar, a member without the service, is told nothing of it; the count is for all.
    rejoin = await other.call("join", {"room": ROOM})
    assert "lobby" not in rejoin["room"] and "arrivals" not in rejoin["room"]
    assert rejoin["room"]["newcomers"] == 1
    assert all(n != "participant.arrival" for n, _ in other.private)
    assert (await greeter.call("join", {"room": ROOM}))["room"]["arrivals"] == {"new": "new"}
    # Taken back: the lobby list empties, and admitting is refused.
    assert (await fac.call("participant.service", {"room": ROOM, "participant": "gita", "service": None}))["ok"]
    lists = await greeter.wait_for(lambda: [d for n, d in greeter.private if n == "lobby.list"][1:])
    assert lists[0] == {"room": ROOM, "lobby": []}
    refused = await greeter.call("lobby.admit", {"room": ROOM, "participant": "early"})
    assert refused["error"]["code"] == "forbidden"


async def test_the_timekeeper_extends_a_share(server: Running) -> None:
    fac = await server.client(ROOM, "facilitator", "Fatima", sub="fac")
    keeper = await server.client(ROOM, "member", "Tara", sub="tara")
    await server.client(ROOM, "member", "Sam", sub="sam")
    assert (await fac.call("room.settings", {"room": ROOM, "share_seconds": 120}))["ok"]
    assert (await fac.call("floor.grant", {"room": ROOM, "participant": "sam"}))["ok"]
    deadline = (await fac.wait_event("floor.granted"))["data"]["deadline"]
    assert (await keeper.call("floor.extend", {"room": ROOM, "seconds": 60}))["error"]["code"] == "forbidden"
    assert (await fac.call("participant.service", {"room": ROOM, "participant": "tara", "service": "timekeeper"}))["ok"]
    assert (await keeper.call("floor.extend", {"room": ROOM, "seconds": 60}))["ok"]
    ev = await fac.wait_event("floor.extended")
    assert ev["data"] == {"participant_id": "sam", "deadline": deadline + 60_000, "seconds": 60}
    assert (await keeper.call("floor.extend", {"room": ROOM, "seconds": 5000}))["error"]["code"] == "invalid"
