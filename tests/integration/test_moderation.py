"""Moderation hooks and facilitator controls with real clients (issue 5)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from server.config import RoomSpec
from tests.integration.conftest import MakeServer, Running
from tests.support import ADMIN_KEY, Client, token

ROOM = "friday-circle"


async def audit(srv: Running, room: str | None = None) -> list[dict[str, Any]]:
    q = f"?room={room}" if room else ""
    async with aiohttp.ClientSession() as http:
        async with http.get(srv.url + "/api/audit" + q, headers={"Authorization": f"Bearer {ADMIN_KEY}"}) as r:
            assert r.status == 200
            return await r.json()  # type: ignore[no-any-return]


async def test_phone_number_is_redacted_for_everyone(server: Running) -> None:
    fac = await server.client(ROOM, "facilitator", "Fay")
    ana = await server.client(ROOM, "member", "Ana")
    ben = await server.client(ROOM, "member", "Ben")
    ack = await ana.call("chat.send", {"room": ROOM, "text": "call me on +91 98765 43210 after the meeting"})
    assert ack["ok"]
    assert "98765" not in ack["event"]["data"]["text"] and ack["event"]["data"]["redacted"] is True
    for who in (fac, ben):
        ev = await who.wait_event("chat.message")
        assert "98765" not in ev["data"]["text"] and ev["data"]["redacted"] is True
    ok = await ana.call("chat.send", {"room": ROOM, "text": "30 days sober today"})
    assert ok["event"]["data"]["text"] == "30 days sober today" and ok["event"]["data"]["redacted"] is False


async def crisis_circle(make_server: MakeServer) -> tuple[Running, Client, Client, Client]:
    """A circle with a facilitator and a member, an on-call room and a responder on duty."""
    srv = await make_server(rooms=(RoomSpec(id="oncall", kind="oncall"),))
    fac = await srv.client(ROOM, "facilitator", "Fay")
    ana = await srv.client(ROOM, "member", "Ana")
    responder = await srv.client("*", "responder", "Ravi", join=False)
    assert (await responder.call("oncall.duty", {"on": True}))["ok"]
    return srv, fac, ana, responder


async def test_crisis_message_is_delivered_and_leads_somewhere(make_server: MakeServer) -> None:
    srv, fac, ana, responder = await crisis_circle(make_server)
    text = "I don't want to live anymore"
    ack = await ana.call("chat.send", {"room": ROOM, "text": text})
    assert ack["ok"] and ack["event"]["data"]["text"] == text  # never blocked
    await fac.wait_event("chat.message")
    alert = await fac.wait_private("moderation.alert")
    assert alert["kind"] == "crisis" and alert["participant_id"] == "Ana" and alert["seq"] == ack["event"]["seq"]
    assert text not in json.dumps(alert)
    offer = await ana.wait_private("crisis.offer")
    assert offer["oncall_room"] == "oncall" and offer["helplines"] and offer["oncall_token"]
    page = await responder.wait_private("oncall.page")
    assert page["reason"] == "crisis_detected" and page["participant_id"] == "Ana" and page["room"] == ROOM
    # The offered token opens the on-call room.
    to_oncall = Client(srv.url, offer["oncall_token"])
    srv.clients.append(to_oncall)
    await to_oncall.connect()
    await to_oncall.join("oncall")
    # Not shown to others: Ben got neither the alert nor the offer.
    ben = await srv.client(ROOM, "member", "Ben")
    assert not ben.private


async def test_a_medical_emergency_offers_the_emergency_number_first(make_server: MakeServer) -> None:
    # Issue 13: an overdose needs an ambulance before a conversation.
    srv, fac, ana, responder = await crisis_circle(make_server)
    ack = await ana.call("chat.send", {"room": ROOM, "text": "took way too many pills and now i can't breathe"})
    assert ack["ok"]
    offer = await ana.wait_private("crisis.offer")
    assert offer["category"] == "medical"
    assert offer["helplines"][0]["phone"] == "112" and len(offer["helplines"]) > 1
    alert = await fac.wait_private("moderation.alert")
    assert alert["detail"].startswith("crisis language: medical")
    page = await responder.wait_private("oncall.page")
    assert page["category"] == "medical"
    # Not medical: helplines only, no emergency number in front.
    bea = await srv.client(ROOM, "member", "Bea")
    assert (await bea.call("chat.send", {"room": ROOM, "text": "I don't want to live anymore"}))["ok"]
    other = await bea.wait_private("crisis.offer")
    assert other["category"] == "suicide" and other["helplines"][0]["phone"] != "112"


async def test_banned_person_cannot_come_back(server: Running) -> None:
    fac = await server.client(ROOM, "facilitator", "Fay")
    troll = await server.client(ROOM, "member", "Tom", sub="tom-1")
    ack = await fac.call("participant.remove", {"room": ROOM, "participant": "tom-1", "ban": True,
                                                "reason": "disruption"})
    assert ack["ok"], ack
    removed = await troll.wait_private("removed")
    assert removed == {"room": ROOM, "reason": "disruption", "banned": True}
    left = await fac.wait_event("participant.left")
    assert left["data"] == {"participant_id": "tom-1", "reason": "banned"}
    assert (await troll.call("chat.send", {"room": ROOM, "text": "hello?"}))["error"]["code"] == "not_joined"
    # A fresh token with the same sub and another name does not get back in.
    again = Client(server.url, token(ROOM, "member", name="Totally New", sub="tom-1"))
    server.clients.append(again)
    await again.connect()
    assert (await again.call("join", {"room": ROOM}))["error"]["code"] == "banned"


async def test_kick_without_ban_sends_back_through_the_lobby(server: Running) -> None:
    fac = await server.client(ROOM, "facilitator", "Fay")
    ana = await server.client(ROOM, "member", "Ana")
    assert (await fac.call("participant.remove", {"room": ROOM, "participant": "Ana"}))["ok"]
    await ana.wait_private("removed")
    ack = await ana.call("join", {"room": ROOM})
    assert ack["error"]["code"] == "lobby"
    waiting = await fac.wait_private("lobby.waiting")
    assert waiting["participant"]["id"] == "Ana"


async def test_lobby_admit_and_deny_round_trip(server: Running) -> None:
    fac = await server.client(ROOM, "facilitator", "Fay")
    assert (await fac.call("room.settings", {"room": ROOM, "lobby": True}))["ok"]
    ana = await server.client(ROOM, "member", "Ana", join=False)
    ben = await server.client(ROOM, "member", "Ben", join=False)
    assert (await ana.call("join", {"room": ROOM}))["error"]["code"] == "lobby"
    assert (await ben.call("join", {"room": ROOM}))["error"]["code"] == "lobby"
    await fac.wait_for(lambda: sum(n == "lobby.waiting" for n, _ in fac.private) == 2)
    assert (await fac.call("lobby.admit", {"room": ROOM, "participant": "Ana"}))["ok"]
    assert (await ana.wait_private("lobby.admitted")) == {"room": ROOM}
    ack = await ana.join(ROOM)
    assert ack["you"]["id"] == "Ana"
    assert (await fac.call("lobby.deny", {"room": ROOM, "participant": "Ben"}))["ok"]
    assert (await ben.wait_private("lobby.denied")) == {"room": ROOM}
    await fac.wait_for(lambda: sum(n == "lobby.left" for n, _ in fac.private) >= 2)
    left = [d for n, d in fac.private if n == "lobby.left"]
    assert [(d["participant_id"], d["reason"]) for d in left] == [("Ana", "admitted"), ("Ben", "denied")]
    # Someone who gives up waiting leaves the facilitator's list too.
    cai = await server.client(ROOM, "member", "Cai", join=False)
    assert (await cai.call("join", {"room": ROOM}))["error"]["code"] == "lobby"
    await cai.close()
    gone = await fac.wait_for(lambda: [d for n, d in fac.private if n == "lobby.left"][2:])
    assert gone[0] == {"room": ROOM, "participant_id": "Cai", "reason": "left"}
    assert (await fac.call("lobby.admit", {"room": ROOM, "participant": "Ben"}))["error"]["code"] == "not_found"


async def test_held_message_approved_and_rejected(server: Running) -> None:
    fac = await server.client(ROOM, "facilitator", "Fay")
    ana = await server.client(ROOM, "member", "Ana")
    first = await ana.call("chat.send", {"room": ROOM, "text": "this helped me https://example.org/steps",
                                         "client_id": "h-1"})
    assert first["error"]["code"] == "held"
    held = await fac.wait_private("chat.held")
    assert held["from"] == "Ana" and held["reason"] == "link" and "example.org" in held["text"]
    assert first["id"] == held["id"]  # the writer can tell which message a review decides
    # A retry of the same client_id is still held, not held twice.
    assert (await ana.call("chat.send", {"room": ROOM, "text": "this helped me https://example.org/steps",
                                         "client_id": "h-1"}))["error"]["code"] == "held"
    assert (await fac.call("chat.review", {"room": ROOM, "id": held["id"], "approve": True}))["ok"]
    ev = await ana.wait_event("chat.message")
    assert ev["data"]["id"] == held["id"] and ev["data"]["from"] == "Ana"
    second = await ana.call("chat.send", {"room": ROOM, "text": "and www.example.com too"})
    assert second["error"]["code"] == "held"
    await fac.wait_for(lambda: sum(n == "chat.held" for n, _ in fac.private) == 2)
    held2 = [d for n, d in fac.private if n == "chat.held"][1]
    assert (await fac.call("chat.review", {"room": ROOM, "id": held2["id"], "approve": False}))["ok"]
    reviewed = await ana.wait_for(lambda: [d for n, d in ana.private if n == "chat.reviewed"][1:])
    assert reviewed[0]["approved"] is False and reviewed[0]["id"] == second["id"]
    assert sum(e["type"] == "chat.message" for e in fac.events) == 1


async def test_delete_message(server: Running) -> None:
    fac = await server.client(ROOM, "facilitator", "Fay")
    ana = await server.client(ROOM, "member", "Ana")
    ack = await ana.call("chat.send", {"room": ROOM, "text": "something I regret"})
    seq = ack["event"]["seq"]
    assert (await fac.call("chat.delete", {"room": ROOM, "seq": seq}))["ok"]
    deleted = await ana.wait_event("chat.deleted")
    assert deleted["data"] == {"seq": seq}
    late = Client(server.url, token(ROOM, "member", name="Ben"))
    server.clients.append(late)
    await late.connect()
    snap = (await late.join(ROOM))["room"]
    assert all(e["seq"] != seq for e in snap["recent"])
    assert (await fac.call("chat.delete", {"room": ROOM, "seq": 1}))["error"]["code"] == "not_found"


async def test_a_member_cannot_delete_anothers_message(server: Running) -> None:
    # Issue 15: the service no longer checks this itself; the rules table does.
    await server.client(ROOM, "facilitator", "Fay")
    ana = await server.client(ROOM, "member", "Ana")
    ben = await server.client(ROOM, "member", "Ben")
    seq = (await ana.call("chat.send", {"room": ROOM, "text": "my own words"}))["event"]["seq"]
    for s in (seq, seq + 100):  # a message, and a seq that is none: forbidden either way
        ack = await ben.call("chat.delete", {"room": ROOM, "seq": s})
        assert ack["error"]["code"] == "forbidden", ack
    assert not [e for e in ana.events if e["type"] == "chat.deleted"]


async def test_room_end_puts_everyone_out_and_purges(server: Running) -> None:
    fac = await server.client(ROOM, "facilitator", "Fay")
    ana = await server.client(ROOM, "member", "Ana")
    await ana.call("chat.send", {"room": ROOM, "text": "goodnight"})
    assert (await fac.call("room.end", {"room": ROOM}))["ok"]
    await ana.wait_event("room.ended")
    assert (await ana.call("chat.send", {"room": ROOM, "text": "hello?"}))["error"]["code"] == "not_joined"
    assert (await ana.call("join", {"room": ROOM}))["error"]["code"] == "not_found"
    from server.gateway import keys
    store = server.app[keys.STORE]
    assert await store.load(ROOM) is None and await store.events_after(ROOM, 0) is None


async def test_member_report_reaches_facilitators(server: Running) -> None:
    fac = await server.client(ROOM, "facilitator", "Fay")
    ana = await server.client(ROOM, "member", "Ana")
    await server.client(ROOM, "member", "Ben")
    assert (await ana.call("report", {"room": ROOM, "participant": "Ben", "reason": "unkind remarks"}))["ok"]
    alert = await fac.wait_private("moderation.alert")
    assert alert["kind"] == "report" and alert["participant_id"] == "Ben"


async def test_every_action_is_audited_without_text(server: Running) -> None:
    fac = await server.client(ROOM, "facilitator", "Fay")
    ana = await server.client(ROOM, "member", "Ana")
    ben = await server.client(ROOM, "member", "Ben")
    secret_text = "my sister's number is 9876543210"
    await ana.call("chat.send", {"room": ROOM, "text": secret_text})
    await ana.call("chat.send", {"room": ROOM, "text": "see https://example.org"})
    held = await fac.wait_private("chat.held")
    await fac.call("chat.review", {"room": ROOM, "id": held["id"], "approve": False})
    await fac.call("participant.mute", {"room": ROOM, "participant": "Ben", "muted": True})
    await ben.call("report", {"room": ROOM, "participant": "Ana", "reason": "spam"})
    await fac.call("participant.remove", {"room": ROOM, "participant": "Ben", "ban": True, "reason": "abuse"})
    entries = await audit(server, ROOM)
    actions = [e["action"] for e in entries]
    for needed in ("message.redacted", "message.held", "message.reject", "mute", "report", "ban"):
        assert needed in actions, (needed, actions)
    for e in entries:
        assert set(e) == {"at", "room", "actor", "action", "target", "reason"}
        blob = json.dumps(e)
        assert "9876543210" not in blob and "sister" not in blob and "example.org" not in blob
    ban = next(e for e in entries if e["action"] == "ban")
    assert ban["actor"] == "Fay" and ban["target"] == "Ben" and ban["reason"] == "abuse"
    since = entries[-1]["at"]
    assert all(e["at"] >= since for e in await audit(server, None) if e["at"] >= since)


class HangingModerator:
    """An external moderation service that never answers."""

    def __init__(self) -> None:
        self.url = ""
        self.arrived = asyncio.Event()

    async def handle(self, request: web.Request) -> web.Response:
        self.arrived.set()
        await asyncio.sleep(3600)
        return web.json_response({"action": "allow"})


@pytest.fixture
async def hanging(aiohttp_server: Any) -> AsyncIterator[HangingModerator]:
    h = HangingModerator()
    app = web.Application()
    app.router.add_post("/moderate", h.handle)
    srv = await aiohttp_server(app, host="127.0.0.1")
    h.url = f"http://127.0.0.1:{srv.port}/moderate"
    yield h


async def test_hanging_webhook_does_not_delay_other_rooms(make_server: MakeServer,
                                                          hanging: HangingModerator) -> None:
    slow_policy = {"pipeline": ["webhook"], "webhook": {"url": hanging.url, "secret": "s", "timeout_s": 2.0,
                                                        "fail_open": False}}
    srv = await make_server(rooms=(RoomSpec(id="slow-room", moderation=slow_policy), RoomSpec(id=ROOM)))
    slow = await srv.client("slow-room", "member", "Sam")
    fast = await srv.client(ROOM, "member", "Ana")
    pending = asyncio.ensure_future(slow.call("chat.send", {"room": "slow-room", "text": "hello"}))
    await asyncio.wait_for(hanging.arrived.wait(), 5)
    started = time.monotonic()
    ack = await fast.call("chat.send", {"room": ROOM, "text": "meanwhile, here"})
    assert ack["ok"] and time.monotonic() - started < 0.5
    slow_ack = await pending
    # Fail-closed: the hanging hook's message is held for review rather than lost.
    assert slow_ack["ok"] is False and slow_ack["error"]["code"] == "held"


async def test_flooding_member_is_rate_limited_and_facilitator_alerted(server: Running) -> None:
    fac = await server.client(ROOM, "facilitator", "Fay")
    ana = await server.client(ROOM, "member", "Ana")
    codes = [(await ana.call("chat.send", {"room": ROOM, "text": f"spam {i}", "client_id": f"s{i}"}))
             for i in range(7)]
    assert [c["ok"] for c in codes[:5]] == [True] * 5
    assert all(c["error"]["code"] == "rate_limited" for c in codes[5:])
    alert = await fac.wait_private("moderation.alert")
    assert alert["kind"] == "flood" and alert["participant_id"] == "Ana"
    # Ten seconds later the same client_id goes through: nothing was lost.
    await server.clock.advance(10_000)
    retry = await ana.call("chat.send", {"room": ROOM, "text": "spam 5", "client_id": "s5"})
    assert retry["ok"], retry


async def test_a_flooding_connection_cannot_starve_another_room(server: Running) -> None:
    flooder = await server.client("room-a", "facilitator", "Flo")
    calm = await server.client("room-b", "facilitator", "Cal")
    burst = await asyncio.gather(*(flooder.call("reaction.send", {"room": "room-a", "kind": "clap"})
                                   for _ in range(60)))
    assert any(not a["ok"] and a["error"]["code"] == "rate_limited" for a in burst)
    started = time.monotonic()
    assert (await calm.call("reaction.send", {"room": "room-b", "kind": "heart"}))["ok"]
    assert time.monotonic() - started < 0.5


async def test_invisible_characters_do_not_carry_a_number_past_redaction(server: Running) -> None:
    # Issue 12 item 7: each of these reached the room unredacted.
    fac = await server.client(ROOM, "facilitator", "Fay")
    ana = await server.client(ROOM, "member", "Ana")
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    sent = [
        f"{family} call me 98765\u200b43210",
        "call me 98765\u00a043210",
        "mail rahul\u200b@gmail.com",
        "see evil\u3002com/x or mail rahul@gmail\uff0ecom",
    ]
    acks = [await ana.call("chat.send", {"room": ROOM, "text": text, "client_id": f"c{i}"})
            for i, text in enumerate(sent)]
    delivered = [ack["event"]["data"]["text"] for ack in acks[:3]]
    assert delivered[0] == f"{family} call me [contact removed]"  # the emoji's joiners are kept
    assert delivered[1] == "call me [contact removed]" and delivered[2] == "mail [contact removed]"
    await fac.wait_for(lambda: len([e for e in fac.events if e["type"] == "chat.message"]) >= 3)
    assert [e["data"]["text"] for e in fac.events if e["type"] == "chat.message"] == delivered
    # "evil。com" is a link: held for review, and what the facilitator reviews has the
    # address already removed.
    assert acks[3]["error"]["code"] == "held"
    held = await fac.wait_private("chat.held")
    assert "rahul" not in json.dumps(held) and "[contact removed]" in json.dumps(held)


async def test_fresh_rooms_do_not_reset_a_persons_chat_rate(server: Running) -> None:
    # Issue 12 item 2: a facilitator token for every room opened a new room, and a new
    # rate window, every few messages.
    fay = await server.client("*", "facilitator", "Fay", join=False, sub="fay-1")
    codes: list[str] = []
    for r in range(4):
        room = f"fresh-{r}"
        await fay.join(room)
        for i in range(3):  # under one room's limit of 5 in 10 s
            ack = await fay.call("chat.send", {"room": room, "text": f"hello {i}", "client_id": f"{r}-{i}"})
            codes.append("ok" if ack["ok"] else ack["error"]["code"])
    assert codes[:10] == ["ok"] * 10  # a person's total: twice one room's
    assert codes[10:] == ["rate_limited", "rate_limited"]
    await server.clock.advance(10_000)
    assert (await fay.call("chat.send", {"room": "fresh-0", "text": "later"}))["ok"]
