"""Issue 12: what one bad link holder could do, tried again with real clients.

Each test reproduces one numbered item of the issue the way it was found (a member or
facilitator link, real Socket.IO clients, both stores) and asserts that it no longer works.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from server.core import commands as c
from server.core.model import LOG_KEPT
from server.gateway import keys
from tests.integration.conftest import MakeServer, Running
from tests.integration.test_oncall import ONCALL, Receiver, oncall_server, receiver  # noqa: F401 (fixtures)
from tests.support import Client, token


async def test_deleted_text_never_comes_back_after_a_second_delete(server: Running) -> None:
    # Item 4: the deleted list was cut to 1000 events while the stores keep 2000; after a
    # second delete a new joiner's snapshot and `since` replay showed the original text.
    room = "delete-room"
    fac = await server.client(room, "facilitator", "Fay")
    ana = await server.client(room, "member", "Ana")
    sent = await ana.call("chat.send", {"room": room, "text": "my address is something private"})
    first = sent["event"]["seq"]
    assert (await fac.call("chat.delete", {"room": room, "seq": first}))["ok"]
    service = server.app[keys.SERVICE]
    actor = c.Actor("Ana", "Ana", "member", "")
    for _ in range(LOG_KEPT // 2 + 50):
        await service.execute(room, actor, c.Reaction(kind="clap"))
    later = await ana.call("chat.send", {"room": room, "text": "and this one too"})
    assert (await fac.call("chat.delete", {"room": room, "seq": later["event"]["seq"]}))["ok"]

    newcomer = await server.client(room, "member", "Sam", join=False)
    ack = await newcomer.join(room, since=first - 1)
    texts = [e["data"].get("text") for e in ack["room"]["recent"] + ack.get("missed", [])
             if e["type"] == "chat.message"]
    assert "my address is something private" not in texts
    assert "and this one too" not in texts


async def private_room(server: Running) -> tuple[str, str, str]:
    """A responder opens a private room for Mina; returns (room, Mina's token, Ravi's token)."""
    member = await server.client(ONCALL, "member", "Mina")
    responder = await server.client(ONCALL, "responder", "Ravi")
    ack = await responder.call("oncall.private", {"room": ONCALL, "participant": "Mina"})
    assert ack["ok"], ack
    moved = await member.wait_private("oncall.moved")
    mine = await responder.wait_private("oncall.moved")
    return ack["room"], moved["token"], mine["token"]


async def test_a_private_room_pages_nobody_and_admits_only_its_two_people(
        oncall_server: Running, receiver: Receiver) -> None:  # noqa: F811 (fixtures)
    # Item 6: the member opened it before the responder; every on-duty responder was
    # paged with its id, after the timeout all facilitators and the webhook; a `*`
    # facilitator could join the locked room and read the disclosure.
    srv = oncall_server
    room, mina_token, _ = await private_room(srv)
    on_duty = await srv.client("elsewhere", "responder", "Rita", join=False)
    assert (await on_duty.call("oncall.duty", {"on": True}))["ok"]
    roaming = await srv.client("*", "facilitator", "Fay", join=False)
    mina = Client(srv.url, mina_token)
    srv.clients.append(mina)
    await mina.connect()
    await mina.join(room)
    assert (await mina.call("chat.send", {"room": room, "text": "I need to tell someone"}))["ok"]
    # Crisis language in the private room: she is offered help, and nobody else is paged
    # with the room's id (the responder is already with her).
    assert (await mina.call("chat.send", {"room": room, "text": "I want to end my life tonight"}))["ok"]
    await mina.wait_private("crisis.offer")
    await srv.clock.advance(10 * 60_000)
    await srv.app[keys.SERVICE].tick(room)
    for intruder in (roaming, on_duty):
        ack = await intruder.call("join", {"room": room})
        assert not ack["ok"] and ack["error"]["code"] == "forbidden", ack
    # What would have reached them came before these acks (one connection, in order).
    pages: list[tuple[str, Any]] = [(n, d) for who in (on_duty, roaming) for n, d in who.private
                                    if n.startswith("oncall.")]
    assert pages == []
    assert not any(call[0].get("room") == room for call in receiver.calls)


async def test_a_socket_that_never_joined_cannot_act_in_the_room(server: Running) -> None:
    # Item 5: sockets that never joined sent room commands as their person.
    room = "joined-room"
    await server.client(room, "facilitator", "Fay")
    ana = await server.client(room, "member", "Ana")
    shadow = await server.client(room, "member", "Ana", join=False)
    for event, payload in (("report", {"room": room, "reason": "spam"}), ("hand.raise", {"room": room}),
                           ("chat.send", {"room": room, "text": "hello"}),
                           ("reaction.send", {"room": room, "kind": "clap"})):
        ack = await shadow.call(event, payload)
        assert not ack["ok"] and ack["error"]["code"] == "not_joined", (event, ack)
    assert (await ana.call("hand.raise", {"room": room}))["ok"]


async def test_one_person_with_many_sockets_shares_one_flood_guard(server: Running) -> None:
    # Item 5: the flood guard was per connection; ten sockets of one member made 550
    # reports in 6 s. Now the person's own bucket is shared by all their sockets.
    sockets = [await server.client("*", "responder", "Rita", join=False) for _ in range(8)]
    acks = await asyncio.gather(*(s.call("oncall.duty", {"on": True}) for s in sockets for _ in range(10)))
    ok = sum(1 for a in acks if a["ok"])
    limits = server.app[keys.GATEWAY].guard.limits
    assert ok <= limits.person_burst + 5, ok  # 80 asked; the person's burst, plus what refilled
    assert {a["error"]["code"] for a in acks if not a["ok"]} == {"rate_limited"}
    # Someone else is not slowed by it.
    other = await server.client("*", "responder", "Ravi", join=False)
    assert (await other.call("oncall.duty", {"on": True}))["ok"]


async def test_one_person_and_one_address_hold_a_bounded_number_of_connections(server: Running) -> None:
    from server.gateway.limits import Guard, Limits
    gateway = server.app[keys.GATEWAY]
    limits = gateway.guard.limits
    mine = [await server.client("*", "member", "Ana", join=False) for _ in range(limits.person_conns)]
    extra = Client(server.url, mine[0].tok)
    server.clients.append(extra)
    assert not await extra.try_connect()
    assert extra.connect_error["code"] == "rate_limited"
    # A connection closed frees its place.
    await mine[0].close()
    assert await extra.try_connect()
    # Per address (every test client is 127.0.0.1): a small limit for this test.
    gateway.guard = Guard(Limits(address_conns=3))
    near = [await server.client("*", "member", f"P{i}", join=False) for i in range(3)]
    assert all(c.sio.connected for c in near)
    late = Client(server.url, token("*", "member", name="Late"))
    server.clients.append(late)
    assert not await late.try_connect()
    assert late.connect_error["code"] == "rate_limited"


async def test_a_token_that_expires_while_connected_acts_no_more(server: Running) -> None:
    # Item 8: a connection kept acting as a facilitator 37 s after its token expired.
    room = "expiry-room"
    fac = await server.client(room, "facilitator", "Fay")
    ana = await server.client(room, "member", "Ana")
    gateway = server.app[keys.GATEWAY]
    assert (await fac.call("participant.mute", {"room": room, "participant": "Ana", "muted": True}))["ok"]
    gateway.wall = lambda: time.time() + 3600  # an hour on: both tokens (10 min) expired
    for event, payload in (("participant.mute", {"room": room, "participant": "Ana", "muted": False}),
                           ("participant.remove", {"room": room, "participant": "Ana", "ban": True}),
                           ("join", {"room": room})):
        ack = await fac.call(event, payload)
        assert not ack["ok"] and ack["error"]["code"] == "expired", (event, ack)
    # Leaving is still allowed.
    assert (await ana.call("leave", {"room": room}))["ok"]


async def test_rooms_a_facilitator_link_makes_are_bounded_and_end_once_empty(server: Running) -> None:
    # Item 11: a `*` facilitator socket made 20 rooms that outlived it.
    from server.core.model import EMPTY_ROOM_MS
    from server.service import ROOMS_MADE_PER_HOUR
    fac = await server.client("*", "facilitator", "Fay", join=False)
    made = [f"made-{i}" for i in range(ROOMS_MADE_PER_HOUR)]
    for room in made:
        await fac.join(room)
    ack = await fac.call("join", {"room": "one-too-many"})
    assert not ack["ok"] and ack["error"]["code"] == "rate_limited"
    for room in made:
        assert (await fac.call("leave", {"room": room}))["ok"]
    store = server.app[keys.STORE]
    assert set(made) <= set(await store.room_ids())
    await server.clock.advance(EMPTY_ROOM_MS)
    service = server.app[keys.SERVICE]
    for room in await store.due_rooms(server.clock.now_ms()):
        await service.tick(room)
    assert not set(made) & set(await store.room_ids())


async def test_the_server_holds_a_bounded_number_of_rooms(server: Running) -> None:
    service = server.app[keys.SERVICE]
    service.max_rooms = len(await server.app[keys.STORE].room_ids()) + 2
    await server.client("room-a", "facilitator", "Fay")
    await server.client("room-b", "facilitator", "Gia")
    late = await server.client("room-c", "facilitator", "Hal", join=False)
    ack = await late.call("join", {"room": "room-c"})
    assert not ack["ok"] and ack["error"]["code"] == "full"


async def test_a_milestone_note_is_moderated_like_chat(server: Running) -> None:
    # Found while attacking issue 12: the note of a milestone (member text, 200
    # characters) reached the room with no moderation at all: contact details, control
    # characters, crisis language.
    room = "milestone-room"
    fac = await server.client(room, "facilitator", "Fay")
    ana = await server.client(room, "member", "Ana")
    ack = await ana.call("milestone.share", {"room": room, "days": 30, "note": "30 days! call me on 98765 43210"})
    assert ack["ok"], ack
    event = await fac.wait_event("milestone")
    assert "98765" not in event["data"]["note"] and "43210" not in event["data"]["note"]
    ack = await ana.call("milestone.share", {"room": room, "days": 31, "note": "day \x1b[2J31"})
    assert ack["error"]["code"] == "invalid"
    await ana.call("milestone.share", {"room": room, "days": 32, "note": "32 days but I want to kill myself"})
    alert = await fac.wait_for(lambda: next((d for n, d in fac.private
                                             if n == "moderation.alert" and d["kind"] == "crisis"), None))
    assert alert["participant_id"] == "Ana"
    assert await ana.wait_private("crisis.offer")


async def test_a_report_keeps_its_words_out_of_the_audit_log(server: Running) -> None:
    # The audit log holds who did what, never anyone's words: a member's report reason is
    # for the facilitator on duty (moderation.alert), not for 30 days of audit.
    room = "report-room"
    fac = await server.client(room, "facilitator", "Fay")
    ana = await server.client(room, "member", "Ana")
    await server.client(room, "member", "Ben")
    assert (await ana.call("report", {"room": room, "participant": "Ben",
                                      "reason": "he said my real name is Anita Sharma"}))["ok"]
    alert = await fac.wait_private("moderation.alert")
    assert alert["detail"] == "he said my real name is Anita Sharma"
    entries = await server.app[keys.STORE].audit(room, None)
    reports = [e for e in entries if e.action == "report"]
    assert len(reports) == 1 and reports[0].target == "Ben" and reports[0].actor == "Ana"
    assert "Anita" not in str([e.to_wire() for e in entries])


@pytest.mark.parametrize("depth", [900, 40_000])
async def test_a_deeply_nested_payload_gets_an_answer_not_a_silent_drop(server: Running, depth: int) -> None:
    # Item 12 (the socket side): `[[[[...]]]]` went unanswered, and python-socketio
    # logged an error for it.
    import json

    import aiohttp
    tok = token("*", "member", name="Ana")
    async with aiohttp.ClientSession() as http, http.ws_connect(
            f"{server.url}/socket.io/?EIO=4&transport=websocket") as ws:
        assert (await ws.receive_str()).startswith("0")
        await ws.send_str("40" + json.dumps({"token": tok}))
        assert (await ws.receive_str()).startswith("40")
        await ws.send_str('427["join",' + "[" * depth + "]" * depth + "]")
        answer = await asyncio.wait_for(ws.receive_str(), 5)
        assert answer.startswith("437") and '"code":"invalid"' in answer, answer[:200]
        await ws.send_str('428["join",{"room":"nested-ok"}]')
        answer = await asyncio.wait_for(ws.receive_str(), 5)
        assert answer.startswith("438") and '"code":"not_found"' in answer, answer[:200]


async def test_the_configured_limits_reach_every_part_and_metrics_can_need_a_key(make_server: MakeServer) -> None:
    import aiohttp

    from server.gateway.limits import Limits
    metrics_key = "m" * 32
    server = await make_server(limits=Limits(person_conns=2, rooms_made_per_hour=2, send_buffer_bytes=100_000),
                               trusted_proxies=("127.0.0.0/8",), metrics_key=metrics_key)
    # Sockets per person.
    mine = [await server.client("*", "facilitator", "Fay", join=False) for _ in range(2)]
    extra = Client(server.url, mine[0].tok)
    server.clients.append(extra)
    assert not await extra.try_connect() and extra.connect_error["code"] == "rate_limited"
    # Rooms one facilitator link may open.
    await mine[0].join("made-1")
    await mine[0].join("made-2")
    ack = await mine[0].call("join", {"room": "made-3"})
    assert not ack["ok"] and ack["error"]["code"] == "rate_limited"
    # The send buffer cap, and the address a trusted proxy reports.
    proxied = Client(server.url, token("made-1", "member", name="Ana"))
    server.clients.append(proxied)
    await proxied.connect(headers={"X-Forwarded-For": "203.0.113.9"})
    conn = next(cn for cn in server.app[keys.DELIVERY].conns.values() if cn.who.name == "Ana")
    assert conn.address == "203.0.113.9" and conn.eio.queue.max_bytes == 100_000
    # /metrics needs the key once one is set.
    async with aiohttp.ClientSession() as http:
        async with http.get(server.url + "/metrics") as r:
            assert r.status == 401
            assert (await r.json())["error"]["code"] == "unauthorized"
        async with http.get(server.url + "/metrics", headers={"Authorization": f"Bearer {metrics_key}"}) as r:
            assert r.status == 200 and "circles_connections 3.0" in await r.text()


@pytest.mark.parametrize("path", ["/api/rooms", "/api/tokens"])
async def test_deeply_nested_json_to_the_admin_api_is_a_clear_400(server: Running, path: str,
                                                                 caplog: pytest.LogCaptureFixture) -> None:
    # Item 12: it was a 500 and an error line in the log.
    import aiohttp

    from tests.support import ADMIN_KEY
    good = {"Authorization": f"Bearer {ADMIN_KEY}", "Content-Type": "application/json"}
    async with aiohttp.ClientSession() as http:
        for body in ("[" * 5_000 + "]" * 5_000, '{"id": ' + "[" * 5_000 + "]" * 5_000 + "}"):
            async with http.post(server.url + path, headers=good, data=body) as r:
                assert r.status == 400, await r.text()
                assert (await r.json())["error"] == {"code": "invalid", "message": "the body is nested too deeply"}
        async with http.post(server.url + "/api/rooms", headers=good, json={"id": "still-fine"}) as r:
            assert r.status == 201
    assert not [rec for rec in caplog.records if rec.levelname == "ERROR"]


async def test_held_messages_live_beside_the_room_state_not_in_it(make_server: MakeServer) -> None:
    # Item 12: 200 held messages lived inside the room state that every commit rewrites
    # (1.6 MB with long texts).
    from server.core.model import HELD_MAX
    server = await make_server(moderation={"pipeline": ["links"]})  # links held; no rate limit
    room = "held-room"
    fac = await server.client(room, "facilitator", "Fay")
    writers = [await server.client(room, "member", f"W{i}") for i in range(HELD_MAX // 8 + 1)]
    long = "please see https://example.net/page " + "x" * 1900
    n = 0
    for w in writers:
        for _ in range(8):
            n += 1
            ack = await w.call("chat.send", {"room": room, "text": f"{n} {long}", "client_id": f"h{n}"})
            assert ack["error"]["code"] == "held", ack
    store = server.app[keys.STORE]
    state = await store.load(room)
    assert len(state.held) == HELD_MAX
    import json
    assert len(json.dumps(state.to_dict())) < 64 * 1024  # ids and times, no texts
    # A facilitator who joins now sees every held message with its text.
    other = await server.client(room, "facilitator", "Gia")
    await other.close()
    late = await server.client(room, "facilitator", "Hal", join=False)
    snap = (await late.join(room))["room"]
    assert len(snap["held"]) == HELD_MAX and all(h["text"].endswith("x" * 1900) for h in snap["held"])
    assert snap["held"][0]["text"].startswith(f"{n - HELD_MAX + 1} ")  # the oldest went first
    # Approving posts the held text; the store forgets it after review and past HELD_MAX.
    first, second = snap["held"][0], snap["held"][1]
    assert (await fac.call("chat.review", {"room": room, "id": first["id"], "approve": True}))["ok"]
    posted = await fac.wait_event("chat.message")
    assert posted["data"]["text"] == first["text"]
    assert (await fac.call("chat.review", {"room": room, "id": second["id"], "approve": False}))["ok"]
    assert await store.held_texts(room, [first["id"], second["id"]]) == {}
    assert len(await store.held_texts(room, [h["id"] for h in snap["held"]])) == HELD_MAX - 2
    # A member's snapshot has no held texts at all.
    member = await server.client(room, "member", "Ana")
    assert "held" not in (await member.call("join", {"room": room}))["room"]


async def test_a_meeting_in_progress_outlives_its_link_but_not_a_removal(server: Running) -> None:
    # Issue 14, item 4: a link that expired mid-share ended the meeting at the next
    # network blip ("This link has expired", no helplines).
    from server.tokens import verify
    from tests.support import SECRET
    room = "session-room"
    fac = await server.client(room, "facilitator", "Fay")
    ana = Client(server.url, token(room, "member", name="Ana", ttl=60))
    server.clients.append(ana)
    await ana.connect()
    joined = await ana.join(room)
    session = joined["session"]
    who = verify(SECRET, session["token"])
    assert who.session and who.room == room and who.sub == "Ana"
    # The link runs out while she is in the meeting: commands say so, a renewal carries on.
    gateway = server.app[keys.GATEWAY]
    gateway.wall = lambda: time.time() + 120
    ack = await ana.call("chat.send", {"room": room, "text": "still here", "client_id": "c1"})
    assert ack["error"]["code"] == "expired"
    renewed = await ana.call("session.renew", {"room": room})
    assert renewed["ok"] and renewed["expires_at"] > time.time() + 3600
    assert (await ana.call("chat.send", {"room": room, "text": "still here", "client_id": "c1"}))["ok"]
    # A network blip after the link expired: the session brings her back, events and all.
    await ana.close()
    back = Client(server.url, renewed["token"])
    server.clients.append(back)
    await back.connect()
    again = await back.join(room, since=joined["room"]["seq"])
    assert any(e["type"] == "chat.message" for e in again.get("missed", []))
    # Only to this room.
    ack = await back.call("join", {"room": "another-room"})
    assert ack["error"]["code"] == "forbidden"
    # Removed: the session is over, as her link would be refused.
    assert (await fac.call("participant.remove", {"room": room, "participant": "Ana"}))["ok"]
    await back.close()
    gone = Client(server.url, renewed["token"])
    server.clients.append(gone)
    await gone.connect()
    ack = await gone.call("join", {"room": room})
    assert ack["error"]["code"] == "unauthorized"
