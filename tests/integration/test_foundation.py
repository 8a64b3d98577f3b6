"""The foundation with real Socket.IO clients against a real server (issue 2)."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from typing import Any

import aiohttp
import jwt

from tests.integration.conftest import MakeServer, Running
from tests.support import ADMIN_KEY, SECRET, Client, assert_contiguous, token

ROOM = "tuesday-circle"


async def test_three_people_see_the_same_messages_in_the_same_order(server: Running) -> None:
    fac = await server.client(ROOM, "facilitator", "Asha")
    ana = await server.client(ROOM, "member", "Ana")
    ben = await server.client(ROOM, "member", "Ben")
    people = [fac, ana, ben]
    for i, who in enumerate([ana, ben, fac, ana, ben, fac]):
        ack = await who.call("chat.send", {"room": ROOM, "text": f"message {i}", "client_id": f"c{i}"})
        assert ack["ok"], ack
        assert ack["event"]["type"] == "chat.message" and ack["event"]["data"]["text"] == f"message {i}"
    for p in people:
        await p.wait_for(lambda p=p: sum(e["type"] == "chat.message" for e in p.events) == 6)
    chats = [[(e["seq"], e["data"]["text"]) for e in p.events if e["type"] == "chat.message"] for p in people]
    assert chats[0] == chats[1] == chats[2]
    assert [t for _, t in chats[0]] == [f"message {i}" for i in range(6)]
    # Everyone's stream rises by one from where their snapshot left off.
    for p in people:
        assert_contiguous(p.seqs())
    assert fac.seqs()[0] == 2  # fac joined at seq 1 and then saw Ana's join
    assert fac.seqs()[-1] == 9


async def test_join_ack_has_snapshot_and_you(server: Running) -> None:
    fac = await server.client(ROOM, "facilitator", "Asha", join=False)
    ack = await fac.join(ROOM)
    snap = ack["room"]
    for key in ("id", "title", "kind", "settings", "seq", "participants", "queue", "floor", "round", "recent",
                "lobby", "held"):
        assert key in snap
    assert ack["you"]["id"] == "Asha" and ack["you"]["role"] == "facilitator" and ack["you"]["connected"]
    assert ack["now"] == server.clock.now_ms()  # the server's time, for share timers
    assert snap["settings"]["share_seconds"] == 180 and snap["seq"] == 1
    ana = await server.client(ROOM, "member", "Ana", join=False)
    member_snap = (await ana.join(ROOM))["room"]
    assert "lobby" not in member_snap and "held" not in member_snap


async def test_reconnect_with_since_gets_exactly_the_missed_events(server: Running) -> None:
    fac = await server.client(ROOM, "facilitator", "Asha")
    ana = await server.client(ROOM, "member", "Ana")
    await ana.call("chat.send", {"room": ROOM, "text": "before"})
    await ana.wait_event("chat.message")
    last = ana.seqs()[-1]
    await ana.close()
    for i in range(4):
        assert (await fac.call("chat.send", {"room": ROOM, "text": f"while away {i}"}))["ok"]
    back = Client(server.url, token(ROOM, "member", name="Ana"))
    server.clients.append(back)
    await back.connect()
    ack = await back.join(ROOM, since=last)
    missed = ack["missed"]
    # The disconnect itself, then four messages, then the rejoin: nothing more, nothing less.
    assert [e["seq"] for e in missed] == list(range(last + 1, ack["room"]["seq"] + 1))
    assert [e["data"]["text"] for e in missed if e["type"] == "chat.message"] == [f"while away {i}" for i in range(4)]
    assert "reset" not in ack["room"]
    # And the live stream continues right after the snapshot.
    assert (await fac.call("chat.send", {"room": ROOM, "text": "welcome back"}))["ok"]
    ev = await back.wait_event("chat.message")
    assert ev["seq"] == ack["room"]["seq"] + 1


async def test_since_too_old_or_in_the_future_gives_reset(server: Running) -> None:
    await server.client(ROOM, "facilitator", "Asha")
    ana = await server.client(ROOM, "member", "Ana", join=False)
    ack = await ana.join(ROOM, since=10_000)
    assert ack["room"]["reset"] is True and "missed" not in ack


async def test_retried_client_id_is_not_duplicated(server: Running) -> None:
    fac = await server.client(ROOM, "facilitator", "Asha")
    ana = await server.client(ROOM, "member", "Ana")
    first = await ana.call("chat.send", {"room": ROOM, "text": "only once", "client_id": "abc-1"})
    again = await ana.call("chat.send", {"room": ROOM, "text": "only once", "client_id": "abc-1"})
    assert first["ok"] and again["ok"]
    assert again["event"] == first["event"]
    await fac.call("chat.send", {"room": ROOM, "text": "marker"})
    await fac.wait_event("chat.message", lambda e: e["data"]["text"] == "marker")
    assert [e["data"]["text"] for e in fac.events if e["type"] == "chat.message"] == ["only once", "marker"]


async def test_one_client_id_sent_twice_at_once_is_one_message(make_server: MakeServer) -> None:
    # A client that gives up waiting for an ack sends again while the first try is
    # still on its way: the two race to commit; the loser's retry reads the client_id
    # the winner wrote, and both get the same event. (No rate limit: 20 sends at once.)
    server = await make_server(moderation={"pipeline": []})
    fac = await server.client(ROOM, "facilitator", "Asha")
    ana = await server.client(ROOM, "member", "Ana")
    acks = await asyncio.gather(*(
        ana.call("chat.send", {"room": ROOM, "text": f"once {n}", "client_id": f"race-{n}"})
        for n in range(10) for _ in range(2)))
    assert all(a["ok"] for a in acks), [a for a in acks if not a["ok"]]
    for n in range(10):
        assert acks[2 * n]["event"] == acks[2 * n + 1]["event"]
    await fac.call("chat.send", {"room": ROOM, "text": "marker"})
    await fac.wait_event("chat.message", lambda e: e["data"]["text"] == "marker")
    texts = [e["data"]["text"] for e in fac.events if e["type"] == "chat.message"]
    assert sorted(texts[:-1]) == sorted(f"once {n}" for n in range(10)) and texts[-1] == "marker"


async def test_bad_tokens_are_refused(server: Running) -> None:
    now = int(time.time())
    header = base64.urlsafe_b64encode(json.dumps({"alg": "none", "typ": "JWT"}).encode()).rstrip(b"=")
    body = base64.urlsafe_b64encode(json.dumps({"sub": "x", "name": "X", "role": "facilitator", "room": "*",
                                                "iat": now, "exp": now + 600}).encode()).rstrip(b"=")
    cases = {
        "none": None,
        "garbage": "not-a-token",
        "other key": token(ROOM, secret="another-secret-another-secret"),
        "expired": token(ROOM, ttl=-120),
        "alg none": (header + b"." + body + b".").decode(),
        "HS512": jwt.encode({"sub": "x", "name": "X", "role": "member", "room": ROOM, "iat": now, "exp": now + 60},
                            SECRET, algorithm="HS512"),
        "bad role": token(ROOM, role="admin"),
        "bad sub": token(ROOM, sub="has space"),
    }
    for what, tok in cases.items():
        c = Client(server.url, tok or "")
        if tok is None:
            c.tok = None  # type: ignore[assignment]
        assert not await c.try_connect(), what
        err = c.connect_error
        code = err.get("code") or (err.get("data") or {}).get("code")
        assert code == ("expired" if what == "expired" else "unauthorized"), (what, err)
    # A valid token for another room connects, but cannot join this one.
    other = Client(server.url, token("another-room", "facilitator", name="F"))
    server.clients.append(other)
    await other.connect()
    ack = await other.call("join", {"room": ROOM})
    assert ack == {"ok": False, "error": {"code": "forbidden", "message": ack["error"]["message"]}}


async def test_foreign_origin_is_refused(server: Running) -> None:
    c = Client(server.url, token(ROOM, "facilitator", name="F"))
    assert not await c.try_connect(headers={"Origin": "https://evil.example"})
    ok = Client(server.url, token(ROOM, "facilitator", name="F"))
    server.clients.append(ok)
    assert await ok.try_connect(headers={"Origin": server.url})


async def test_bad_payloads_get_clear_errors_and_the_server_keeps_serving(server: Running) -> None:
    fac = await server.client(ROOM, "facilitator", "Asha")
    ana = await server.client(ROOM, "member", "Ana")
    cases = [
        ("chat.send", {"room": ROOM, "text": 42}, "invalid"),
        ("chat.send", {"room": ROOM, "text": "hi", "colour": "red"}, "invalid"),
        ("chat.send", {"room": ROOM}, "invalid"),
        ("chat.send", {"room": ROOM, "text": ""}, "invalid"),
        ("chat.send", {"room": ROOM, "text": "x" * 2001}, "too_large"),
        ("chat.send", {"room": ROOM, "text": "x" * 100_000}, "too_large"),
        ("chat.send", "just a string", "invalid"),
        ("chat.send", None, "invalid"),
        ("chat.send", [1, 2, 3], "invalid"),
        ("join", {"room": "Not A Room!"}, "invalid"),
        ("join", {"room": ROOM, "since": "yesterday"}, "invalid"),
        ("reaction.send", {"room": ROOM, "kind": "explode"}, "invalid"),
        ("milestone.share", {"room": ROOM, "days": 0}, "invalid"),
        ("milestone.share", {"room": ROOM, "days": True}, "invalid"),
        ("hand.raise", {"room": "somewhere-else"}, "forbidden"),
        ("no.such.event", {"room": ROOM}, "invalid"),
    ]
    for event, payload, code in cases:
        ack = await ana.call(event, payload)
        assert ack["ok"] is False and ack["error"]["code"] == code, (event, payload, ack)
        assert "Traceback" not in ack["error"]["message"]
    # Nothing was committed by any of that, and the room still works.
    assert not any(e["type"] == "chat.message" for e in fac.events)
    assert (await ana.call("chat.send", {"room": ROOM, "text": "still here"}))["ok"]
    await fac.wait_event("chat.message")


async def test_reactions_and_milestones_reach_everyone(server: Running) -> None:
    fac = await server.client(ROOM, "facilitator", "Asha")
    ana = await server.client(ROOM, "member", "Ana")
    assert (await ana.call("reaction.send", {"room": ROOM, "kind": "heart"}))["ok"]
    assert (await ana.call("milestone.share", {"room": ROOM, "days": 30, "note": "one month"}))["ok"]
    r = await fac.wait_event("reaction")
    m = await fac.wait_event("milestone")
    assert r["data"] == {"participant_id": "Ana", "kind": "heart"}
    assert m["data"] == {"participant_id": "Ana", "days": 30, "note": "one month"}


async def test_member_cannot_create_a_room_facilitator_can(server: Running) -> None:
    ana = await server.client("new-room", "member", "Ana", join=False)
    ack = await ana.call("join", {"room": "new-room"})
    assert ack["error"]["code"] == "not_found"
    await server.client("new-room", "facilitator", "Asha")
    assert (await ana.call("join", {"room": "new-room"}))["ok"]


async def test_second_connection_replaces_the_first(server: Running) -> None:
    fac = await server.client(ROOM, "facilitator", "Asha")
    laptop = await server.client(ROOM, "member", "Ana")
    phone = await server.client(ROOM, "member", "Ana")
    removed = await laptop.wait_private("removed")
    assert removed["reason"] == "replaced"
    assert (await laptop.call("chat.send", {"room": ROOM, "text": "from old"}))["error"]["code"] == "not_joined"
    assert (await phone.call("chat.send", {"room": ROOM, "text": "from new"}))["ok"]
    await laptop.close()
    await fac.wait_event("chat.message")
    # The old connection's goodbye does not mark Ana as gone.
    await fac.call("chat.send", {"room": ROOM, "text": "marker"})
    await fac.wait_event("chat.message", lambda e: e["data"]["text"] == "marker")
    assert not any(e["type"] == "participant.updated" and not e["data"]["participant"]["connected"]
                   for e in fac.events)


async def test_http_health_and_metrics(server: Running) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(server.url + "/healthz") as r:
            assert r.status == 200 and await r.json() == {"status": "ok"}
        async with http.get(server.url + "/readyz") as r:
            assert r.status == 200
        await server.client(ROOM, "facilitator", "Asha")
        async with http.get(server.url + "/metrics") as r:
            text = await r.text()
            assert r.status == 200 and "circles_connections 1.0" in text and "circles_rooms 1.0" in text
            assert "Asha" not in text


async def test_admin_api(server: Running) -> None:
    good = {"Authorization": f"Bearer {ADMIN_KEY}"}
    async with aiohttp.ClientSession() as http:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": ADMIN_KEY}):
            async with http.get(server.url + "/api/rooms", headers=headers) as r:
                assert r.status == 401
                assert (await r.json())["error"]["code"] == "unauthorized"
        new_room = {"id": "evening", "title": "Evening circle", "settings": {"share_seconds": 120}}
        async with http.post(server.url + "/api/rooms", headers=good, json=new_room) as r:
            assert r.status == 201
            body = await r.json()
            assert body["id"] == "evening" and body["settings"]["share_seconds"] == 120
        async with http.post(server.url + "/api/rooms", headers=good, json={"id": "evening"}) as r:
            assert r.status == 409 and (await r.json())["error"]["code"] == "conflict"
        async with http.post(server.url + "/api/rooms", headers=good, json={"id": "Bad Id"}) as r:
            assert r.status == 400 and (await r.json())["error"]["code"] == "invalid"
        async with http.post(server.url + "/api/rooms", headers=good, data="{not json") as r:
            assert r.status == 400
        async with http.post(server.url + "/api/tokens", headers=good,
                             json={"name": "Ana", "role": "member", "room": "evening"}) as r:
            assert r.status == 201
            tok = (await r.json())["token"]
        ana = Client(server.url, tok)
        server.clients.append(ana)
        await ana.connect()
        assert (await ana.call("join", {"room": "evening"}))["ok"]
        async with http.get(server.url + "/api/rooms", headers=good) as r:
            rooms = await r.json()
            assert rooms == [{"id": "evening", "title": "Evening circle", "kind": "circle",
                              "participants": 1, "active": True}]
        async with http.patch(server.url + "/api/rooms/evening", headers=good,
                              json={"settings": {"chat": "off"}}) as r:
            assert r.status == 200 and (await r.json())["settings"]["chat"] == "off"
        await ana.wait_event("settings.changed")
        async with http.get(server.url + "/api/rooms/nope", headers=good) as r:
            assert r.status == 404 and (await r.json())["error"]["code"] == "not_found"
        async with http.delete(server.url + "/api/rooms/evening", headers=good) as r:
            assert r.status == 204
        await ana.wait_event("room.ended")
        async with http.get(server.url + "/api/rooms/evening", headers=good) as r:
            assert r.status == 404


async def test_websocket_is_served_without_per_message_compression(server: Running) -> None:
    # Compressing every frame for every listener costs a third of the fan-out CPU and
    # ~120 KB per idle connection; the server declines permessage-deflate.
    async with aiohttp.ClientSession() as http:
        async with http.ws_connect(server.url + "/socket.io/?EIO=4&transport=websocket", compress=15) as ws:
            assert ws.compress == 0
            opening = await ws.receive_str()
            assert opening.startswith("0{")


async def test_garbage_collection_pauses_are_measured_while_the_app_runs(aiohttp_server: Any) -> None:
    import gc

    from server.app import create_app
    from server.config import Config
    from server.gateway import keys

    before = len(gc.callbacks)
    app = create_app(Config(secret=SECRET))
    srv = await aiohttp_server(app, host="127.0.0.1")
    assert len(gc.callbacks) == before + 1
    gc.collect(2)
    registry = app[keys.METRICS].registry
    assert (registry.get_sample_value("circles_gc_pause_seconds_count", {"generation": "2"}) or 0) >= 1
    await srv.close()
    assert len(gc.callbacks) == before  # not left behind for the next app in this process
