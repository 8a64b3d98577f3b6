"""The on-call room with real clients, a hand-driven clock and a real webhook receiver (issue 6)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from moderation.signing import verify
from server.config import OncallConfig, RoomSpec
from tests.integration.conftest import MakeServer, Running
from tests.support import ADMIN_KEY, Client

ONCALL = "oncall"
HOOK_SECRET = "hook-secret"


class Receiver:
    """A real local HTTP server standing in for the deployment's paging system."""

    def __init__(self) -> None:
        self.calls: list[tuple[dict[str, Any], str]] = []
        self.arrived = asyncio.Event()
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.calls.append((json.loads(body), request.headers.get("X-Circles-Signature", "")))
        expected = "sha256=" + hmac.new(HOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()
        assert request.headers["X-Circles-Signature"] == expected
        # The signature over the send time and the body: a replay later is refused.
        assert verify(HOOK_SECRET, body, request.headers)
        assert not verify(HOOK_SECRET, body, request.headers, now=time.time() + 301)
        self.arrived.set()
        return web.json_response({"ok": True})


@pytest.fixture
async def receiver(aiohttp_server: Any) -> AsyncIterator[Receiver]:
    r = Receiver()
    app = web.Application()
    app.router.add_post("/page", r.handle)
    srv = await aiohttp_server(app, host="127.0.0.1")
    r.url = f"http://127.0.0.1:{srv.port}/page"
    yield r


@pytest.fixture
async def oncall_server(make_server: MakeServer, receiver: Receiver) -> Running:
    return await make_server(
        rooms=(RoomSpec(id=ONCALL, kind="oncall", title="On-call", settings={"escalate_after_seconds": 60}),),
        oncall=OncallConfig(webhook_url=receiver.url, webhook_secret=HOOK_SECRET),
    )


async def test_on_duty_responder_is_paged_within_a_second(oncall_server: Running) -> None:
    srv = oncall_server
    responder = await srv.client("*", "responder", "Ravi", join=False)
    ack = await responder.call("oncall.duty", {"on": True})
    assert ack["ok"] and ack["waiting"] == []
    off_duty = await srv.client("*", "responder", "Rita", join=False)
    started = time.monotonic()
    member = await srv.client(ONCALL, "member", "Mina")
    page = await responder.wait_private("oncall.page", timeout=1.0)
    assert time.monotonic() - started < 1.0
    assert page["room"] == ONCALL and page["participant_id"] == "Mina"
    assert page["tier"] == 1 and page["reason"] == "joined"
    offer = await member.wait_private("crisis.offer")
    assert offer["oncall_room"] == ONCALL and offer["helplines"]
    assert any(h["phone"] == "14416" for h in offer["helplines"])
    # Rita is not on duty: no tier-1 page reaches her.
    await responder.call("oncall.duty", {"on": True})
    assert not any(n == "oncall.page" for n, _ in off_duty.private)
    ack = await responder.call("oncall.duty", {"on": True})
    assert [w["participant"] for w in ack["waiting"]] == ["Mina"]


async def test_nobody_answers_tier_two_and_webhook_fire_exactly_once(oncall_server: Running,
                                                                   receiver: Receiver) -> None:
    srv = oncall_server
    facilitator = await srv.client("some-circle", "facilitator", "Fay")
    off_duty = await srv.client("*", "responder", "Rita", join=False)
    await srv.client(ONCALL, "member", "Mina")
    await srv.clock.advance(59_000)
    assert not receiver.calls
    await srv.clock.advance(1_000)
    tier2 = await off_duty.wait_for(lambda: next((d for n, d in off_duty.private
                                                  if n == "oncall.page" and d["tier"] == 2), None))
    assert tier2["participant_id"] == "Mina"
    fac_page = await facilitator.wait_private("oncall.page")
    assert fac_page["tier"] == 2
    await asyncio.wait_for(receiver.arrived.wait(), 5)
    body, _ = receiver.calls[0]
    assert body["room"] == ONCALL and body["participant_id"] == "Mina" and body["tier"] == 2
    assert "Mina" == body["participant_id"] and "name" not in body
    # Much later: still exactly one escalation.
    await srv.clock.advance(600_000)
    await facilitator.call("reaction.send", {"room": "some-circle", "kind": "heart"})
    await facilitator.wait_event("reaction")
    assert len(receiver.calls) == 1
    assert sum(1 for n, d in off_duty.private if n == "oncall.page" and d["tier"] == 2) == 1


async def test_responder_joining_answers_with_the_measured_wait(oncall_server: Running) -> None:
    srv = oncall_server
    member = await srv.client(ONCALL, "member", "Mina")
    await srv.clock.advance(12_500)
    await srv.client(ONCALL, "responder", "Ravi")
    answered = await member.wait_event("oncall.answered")
    assert answered["data"] == {"responder_id": "Ravi", "participant_id": "Mina", "waited_ms": 12_500}
    # Answered: the escalation does not fire later.
    async with aiohttp.ClientSession() as http:
        async with http.get(srv.url + "/api/oncall", headers={"Authorization": f"Bearer {ADMIN_KEY}"}) as r:
            assert await r.json() == []
        async with http.get(srv.url + "/metrics") as r:
            text = await r.text()
            assert "circles_oncall_answer_seconds_count 1.0" in text


async def test_admin_sees_who_is_waiting_by_id_only(oncall_server: Running) -> None:
    srv = oncall_server
    await srv.client(ONCALL, "member", "Mina")
    await srv.clock.advance(5_000)
    async with aiohttp.ClientSession() as http:
        async with http.get(srv.url + "/api/oncall", headers={"Authorization": f"Bearer {ADMIN_KEY}"}) as r:
            waiting = await r.json()
    assert len(waiting) == 1
    assert waiting[0]["room"] == ONCALL and waiting[0]["participant"] == "Mina"
    assert waiting[0]["waited_ms"] == 5_000


async def test_responder_has_facilitator_powers_only_in_oncall_rooms(oncall_server: Running) -> None:
    srv = oncall_server
    await srv.client("circle-a", "facilitator", "Fay")
    responder = await srv.client("*", "responder", "Ravi", join=False)
    await responder.join(ONCALL)
    await responder.join("circle-a")
    member = await srv.client(ONCALL, "member", "Mina")
    assert (await responder.call("participant.mute", {"room": ONCALL, "participant": "Mina", "muted": True}))["ok"]
    ack = await responder.call("room.settings", {"room": "circle-a", "chat": "off"})
    assert ack["error"]["code"] == "forbidden"
    del member


async def test_private_one_to_one_room_and_back(oncall_server: Running) -> None:
    srv = oncall_server
    member = await srv.client(ONCALL, "member", "Mina")
    responder = await srv.client(ONCALL, "responder", "Ravi")
    ack = await member.call("oncall.private", {"room": ONCALL, "participant": "Mina"})
    assert ack["error"]["code"] == "forbidden"
    ack = await responder.call("oncall.private", {"room": ONCALL, "participant": "Mina"})
    assert ack["ok"], ack
    private = ack["room"]
    moved = await member.wait_private("oncall.moved")
    assert moved["room"] == private and moved["from_room"] == ONCALL
    mine = await responder.wait_private("oncall.moved")
    # Each opens the private room with the token they were given; nobody else can.
    m2 = Client(srv.url, moved["token"])
    r2 = Client(srv.url, mine["token"])
    srv.clients += [m2, r2]
    await r2.connect()
    assert (await r2.join(private))["room"]["parent"] == ONCALL
    await m2.connect()
    await m2.join(private)
    stranger = await srv.client(ONCALL, "member", "Sam")
    assert (await stranger.call("join", {"room": private}))["error"]["code"] == "forbidden"
    assert (await m2.call("chat.send", {"room": private, "text": "thank you for being here"}))["ok"]
    await r2.wait_event("chat.message")
    # Mina is still in the on-call room: her place there is kept.
    assert (await member.call("reaction.send", {"room": ONCALL, "kind": "thanks"}))["ok"]
    ack = await r2.call("oncall.return", {"room": private})
    assert ack == {"ok": True, "room": ONCALL}
    back = await member.wait_private("oncall.returned")
    assert back == {"room": ONCALL}
    # The responder's on-call connection is told as well (its panel can go).
    assert await responder.wait_private("oncall.returned") == {"room": ONCALL}
    await m2.wait_event("room.ended")


async def test_opening_a_private_room_is_audited_by_id(oncall_server: Running) -> None:
    # Issue 15: opening a private room is a staff action like a removal, and the audit
    # says who opened which room for whom, by id only (no names, no words).
    srv = oncall_server
    await srv.client(ONCALL, "member", "Mina")
    responder = await srv.client(ONCALL, "responder", "Ravi")
    ack = await responder.call("oncall.private", {"room": ONCALL, "participant": "Mina"})
    assert ack["ok"], ack
    async with aiohttp.ClientSession() as http:
        async with http.get(srv.url + f"/api/audit?room={ONCALL}",
                            headers={"Authorization": f"Bearer {ADMIN_KEY}"}) as r:
            entries = await r.json()
    [opened] = [e for e in entries if e["action"] == "oncall.private"]
    assert opened["actor"] == "Ravi" and opened["target"] == "Mina" and opened["reason"] == ack["room"]


async def test_slow_mode_holds_a_responder_in_a_circle_but_not_in_an_on_call_room(oncall_server: Running) -> None:
    # Issue 15: "who is staff" had three answers. The core's (and the contract's): a
    # responder has facilitator powers in on-call rooms and member powers elsewhere.
    # Moderation's own answer (any responder, anywhere) let a responder past a circle's
    # slow mode; it now takes the core's answer from the service.
    srv = oncall_server
    fay = await srv.client("circle-a", "facilitator", "Fay")
    assert (await fay.call("room.settings", {"room": "circle-a", "slow_mode_seconds": 60}))["ok"]
    responder = await srv.client("*", "responder", "Ravi", join=False)
    await responder.join("circle-a")
    await responder.join(ONCALL)
    assert (await responder.call("room.settings", {"room": ONCALL, "slow_mode_seconds": 60}))["ok"]
    assert (await responder.call("chat.send", {"room": "circle-a", "text": "hello all"}))["ok"]
    ack = await responder.call("chat.send", {"room": "circle-a", "text": "and welcome"})
    assert ack["error"]["code"] == "rate_limited", ack
    for text in ("I am here", "take your time"):
        assert (await responder.call("chat.send", {"room": ONCALL, "text": text}))["ok"]
    # A facilitator is staff in a circle: slow mode does not hold them.
    for text in ("welcome", "let us begin"):
        assert (await fay.call("chat.send", {"room": "circle-a", "text": text}))["ok"]


async def test_a_page_claimed_by_a_worker_that_died_is_made_by_another(oncall_server: Running,
                                                                       receiver: Receiver) -> None:
    # An escalation committed and claimed by a worker that died before its call went
    # out: the outbox holds it, hidden for the dead claimer's lease (1.5 s here); this
    # server's pager makes the call once that lease has run out, and only once.
    from server.gateway import keys as app_keys
    from server.store import keys
    from server.store.memory import MemoryStore
    from server.store.redis import RedisStore

    store = oncall_server.app[app_keys.STORE]
    call = {"room": ONCALL, "participant_id": "Mina", "waiting_since": 1, "tier": 2, "at": 2}
    member = json.dumps({"id": "dead-workers-call", "data": call})
    until = int(time.time() * 1000) + 1500
    if isinstance(store, RedisStore):
        await store.redis.zadd(keys.OUTBOX, {member: until})
        await store.redis.hset(keys.OUTBOX_TRIES, member, 1)
    else:
        assert isinstance(store, MemoryStore)
        store._outbox[member] = [until, 1, call]
    started = time.monotonic()
    await asyncio.wait_for(receiver.arrived.wait(), 8)
    took = time.monotonic() - started
    assert 1.0 < took < 4.0, took
    body, _ = receiver.calls[0]
    assert body == {"event": "oncall.escalated", **call, "id": "dead-workers-call"}
    # Delivered: acknowledged (the outbox is empty), never made again.
    async def outbox_size() -> int:
        if isinstance(store, RedisStore):
            return int(await store.redis.zcard(keys.OUTBOX))
        return len(store._outbox)  # type: ignore[union-attr]
    deadline = time.monotonic() + 5
    while await outbox_size():  # nothing announces the acknowledgement: poll it
        assert time.monotonic() < deadline
        await asyncio.sleep(0.02)
    assert len(receiver.calls) == 1


async def test_the_pager_never_follows_a_redirect(make_server: MakeServer, aiohttp_server: Any,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    # Issue 12, item 12: a page goes only to the configured URL; a receiver (or whoever
    # took its address) cannot send it on elsewhere.
    asked = asyncio.Event()
    elsewhere: list[bytes] = []

    async def page(request: web.Request) -> web.Response:
        asked.set()
        raise web.HTTPTemporaryRedirect("/elsewhere")

    async def other(request: web.Request) -> web.Response:
        elsewhere.append(await request.read())
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post("/page", page)
    app.router.add_post("/elsewhere", other)
    srv = await aiohttp_server(app, host="127.0.0.1")
    server = await make_server(
        rooms=(RoomSpec(id=ONCALL, kind="oncall", title="On-call", settings={"escalate_after_seconds": 60}),),
        oncall=OncallConfig(webhook_url=f"http://127.0.0.1:{srv.port}/page", webhook_secret=HOOK_SECRET))
    await server.client(ONCALL, "member", "Mina")
    await server.clock.advance(60_000)
    await asyncio.wait_for(asked.wait(), 5)

    def refused() -> bool:
        return any(r.getMessage() == "webhook refused" and getattr(r, "status", None) == 307
                   for r in caplog.records)
    deadline = time.monotonic() + 5
    while not refused():  # the pager's answer to the redirect is only in its log: poll it
        assert time.monotonic() < deadline
        await asyncio.sleep(0.01)
    # The redirect was a failure (the call waits in the outbox for its next try), not followed.
    assert elsewhere == []


async def test_the_configured_oncall_room_is_there_whenever_a_member_asks(oncall_server: Running) -> None:
    # Its keys expire after a quiet week in Redis (and an admin may end it): the next
    # member in crisis must get in, not `not_found`, even with the room limit reached.
    from server.gateway import keys as app_keys
    from server.store import keys
    from server.store.redis import RedisStore
    srv = oncall_server
    store, service = srv.app[app_keys.STORE], srv.app[app_keys.SERVICE]
    first = await srv.client(ONCALL, "member", "Mina")
    await first.close()
    async with aiohttp.ClientSession() as http:
        async with http.delete(f"{srv.url}/api/rooms/{ONCALL}", headers={"Authorization": f"Bearer {ADMIN_KEY}"}) as r:
            assert r.status == 204
    assert ONCALL not in await store.room_ids()
    service.max_rooms = len(await store.room_ids())  # full: others made every room allowed
    member = await srv.client(ONCALL, "member", "Nia")
    offer = await member.wait_private("crisis.offer")
    assert offer["oncall_room"] == ONCALL
    if isinstance(store, RedisStore):  # the keys simply expire
        await store.redis.delete(keys.room(ONCALL), keys.log(ONCALL))
        again = await srv.client(ONCALL, "member", "Oli")
        ack = await again.call("chat.send", {"room": ONCALL, "text": "is anyone there", "client_id": "c1"})
        assert ack["ok"], ack
        assert ONCALL in await store.room_ids()
