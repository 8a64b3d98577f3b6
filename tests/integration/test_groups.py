"""Small groups through real Socket.IO clients, on both stores (issue 17): the events,
notices and tokens of docs/protocol.md, each group's own floor, and time up by the
hand-driven clock bringing everyone back to the circle's queue as it was."""

from __future__ import annotations

from typing import Any

import aiohttp
import jwt

from server.app import create_app
from server.clock import ManualClock
from server.cluster import CLUSTER
from server.config import Config
from server.store.redis import RedisStore
from tests.integration.conftest import Running
from tests.support import ADMIN_KEY, SECRET, Client, token

ROOM = "thursday"
MIN = 60_000
MEMBERS = ("ana", "ben", "cai", "dev")


async def circle(server: Running, grace: int = 5) -> tuple[Client, dict[str, Client]]:
    """Fatima and four members; untimed shares (no share timer to fire as the clock moves)."""
    fac = await server.client(ROOM, "facilitator", "Fatima", sub="fac")
    ack = await fac.call("room.settings", {"room": ROOM, "share_seconds": None, "reconnect_grace_seconds": grace})
    assert ack["ok"], ack
    members = {pid: await server.client(ROOM, "member", pid.title(), sub=pid) for pid in MEMBERS}
    return fac, members


async def hands(fac: Client, members: dict[str, Client], *order: str) -> list[str]:
    """``order`` raise their hands in turn; the circle's floor and queue, as one list."""
    for pid in order:
        assert (await members[pid].call("hand.raise", {"room": ROOM}))["ok"]
    await fac.wait_event("hand.raised", lambda e: e["data"]["participant_id"] == order[-1])
    return await turns(fac)


async def turns(observer: Client, room: str = ROOM) -> list[str]:
    """Who holds the floor, then the queue, as a fresh join reports them."""
    snap = (await observer.join(room))["room"]
    return ([snap["floor"]["participant_id"]] if snap["floor"] else []) + snap["queue"]


async def move(server: Running, members: dict[str, Client]) -> dict[str, tuple[dict[str, Any], Client]]:
    """Each member follows their ``groups.moved``: the circle's connection closes (the page
    moves), and a new one joins the group with the token it was given."""
    out = {}
    for pid, member in members.items():
        moved = await member.wait_private("groups.moved")
        await member.close()
        group = Client(server.url, moved["token"], name=pid)
        server.clients.append(group)
        await group.connect()
        out[pid] = (moved, group)
    for moved, group in out.values():
        ack = await group.join(moved["room"])
        assert ack["room"]["parent"] == ROOM and ack["room"]["ends_at"] == moved["ends_at"]
    return out


async def audit(server: Running, room: str) -> list[dict[str, Any]]:
    async with aiohttp.ClientSession() as http, http.get(
            server.url + f"/api/audit?room={room}", headers={"Authorization": f"Bearer {ADMIN_KEY}"}) as r:
        return await r.json()  # type: ignore[no-any-return]


async def test_members_go_to_their_groups_with_a_token_and_each_group_has_its_own_floor(server: Running) -> None:
    fac, members = await circle(server)
    before = await hands(fac, members, "dev", "ana", "cai")
    assert before == ["dev", "ana", "cai"]
    started_at = server.clock.now_ms()
    ack = await fac.call("groups.start", {"room": ROOM, "count": 2, "minutes": 5})
    assert ack["ok"], ack
    ends = started_at + 5 * MIN
    rooms = [g["room"] for g in ack["groups"]]
    assert ack["ends_at"] == ends and [g["participants"] for g in ack["groups"]] == [["ana", "cai"], ["ben", "dev"]]
    assert all(r.startswith("group-") for r in rooms) and len(set(rooms)) == 2
    started = await fac.wait_event("groups.started")
    assert started["data"] == {"groups": ack["groups"], "ends_at": ends} and started["actor"] == "fac"
    # Dev held the floor: it is released, and his share waits for him at the head of the queue.
    released = await fac.wait_event("floor.released")
    assert released["data"] == {"participant_id": "dev", "reason": "groups"}
    assert (await fac.wait_event("queue.moved"))["data"] == {"queue": ["dev", "ana", "cai"]}
    # The staff are not moved; each member gets a token for their own group only.
    assert all(n != "groups.moved" for n, _ in fac.private)
    moved = await move(server, members)
    for pid, (notice, _) in moved.items():
        group = rooms[0] if pid in ("ana", "cai") else rooms[1]
        assert notice == {"from_room": ROOM, "room": group, "token": notice["token"], "ends_at": ends}
        claims = jwt.decode(notice["token"], SECRET, algorithms=["HS256"])
        assert (claims["sub"], claims["room"], claims["role"], claims["name"]) == (pid, group, "member", pid.title())
    # The circle still counts them in, and shows the split to a fresh join.
    snap = (await fac.join(ROOM))["room"]
    assert snap["groups"] == {"ends_at": ends, "groups": ack["groups"]}
    assert {p["id"] for p in snap["participants"]} == {"fac", *MEMBERS}
    # Each group's floor is its own: Cai shares in group one while Ben does in group two.
    ana, cai = moved["ana"][1], moved["cai"][1]
    ben, dev = moved["ben"][1], moved["dev"][1]
    assert (await cai.call("hand.raise", {"room": rooms[0]}))["ok"]
    granted = await ana.wait_event("floor.granted")
    assert granted["room"] == rooms[0] and granted["data"]["participant_id"] == "cai"
    assert (await ben.call("hand.raise", {"room": rooms[1]}))["ok"]
    assert (await dev.wait_event("floor.granted"))["data"]["participant_id"] == "ben"
    assert all(e["room"] == rooms[1] for e in dev.events) and all(e["room"] == rooms[0] for e in ana.events)
    assert (await fac.join(ROOM))["room"]["floor"] is None
    # Ana's token is for group one: not for group two, and not for the circle.
    assert (await ana.call("join", {"room": rooms[1]}))["error"]["code"] == "forbidden"
    # A valid token for group two does not get Ana in either: she is not on its list.
    stray = Client(server.url, token(rooms[1], "member", name="Ana", sub="ana"))
    server.clients.append(stray)
    await stray.connect()
    assert (await stray.call("join", {"room": rooms[1]}))["error"]["code"] == "forbidden"
    # The facilitator looks in on group two with the way in the circle gives her.
    visit = await fac.call("groups.visit", {"room": ROOM, "group": rooms[1]})
    assert visit["ok"] and visit["room"] == rooms[1]
    look = Client(server.url, visit["token"])
    server.clients.append(look)
    await look.connect()
    assert (await look.join(rooms[1]))["you"]["role"] == "facilitator"
    member_visit = await (await server.client(ROOM, "member", "Eva", sub="eva")).call(
        "groups.visit", {"room": ROOM, "group": rooms[1]})
    assert member_visit["error"]["code"] == "forbidden"
    # Audited by ids only.
    [entry] = [e for e in await audit(server, ROOM) if e["action"] == "groups.start"]
    assert (entry["actor"], entry["target"], entry["reason"]) == ("fac", None, " ".join(rooms))


async def test_time_up_brings_everyone_back_with_the_queue_as_it_was(server: Running) -> None:
    fac, members = await circle(server, grace=5)
    before = await hands(fac, members, "ben", "dev", "ana")
    assert before == ["ben", "dev", "ana"]
    ack = await fac.call("groups.start", {"room": ROOM, "groups": [["ben", "ana"], ["dev"]], "minutes": 1})
    assert ack["ok"], ack
    rooms = [g["room"] for g in ack["groups"]]
    moved = {pid: members.pop(pid) for pid in ("ben", "ana", "dev")}
    in_groups = await move(server, moved)
    # Cai stayed, and raises a hand in the circle meanwhile: she shares (nobody here is ahead of her).
    assert (await members["cai"].call("hand.raise", {"room": ROOM}))["ok"]
    await fac.wait_event("floor.granted", lambda e: e["data"]["participant_id"] == "cai")
    assert (await members["cai"].call("floor.yield", {"room": ROOM}))["ok"]
    # Far past the circle's 5 s reconnect grace: nobody away is dropped from the circle.
    await server.clock.advance(50_000)
    assert (await turns(fac)) == ["ben", "dev", "ana"]
    assert all(e["type"] != "participant.left" for e in fac.events)
    # Time up.
    await server.clock.advance(10_000)
    ended = await fac.wait_event("groups.ended")
    assert ended["data"] == {"reason": "time"} and ended["actor"] is None
    for _, group in in_groups.values():
        assert await group.wait_private("groups.returned") == {"room": ROOM}
        assert (await group.wait_event("room.ended"))["room"] in rooms
    # The circle's queue exactly as it was: Ben's share is his again, then Dev, then Ana.
    assert (await turns(fac)) == ["ben", "dev", "ana"]
    # They come back with their own links, and find their places.
    for pid in ("ana", "ben", "dev"):
        back = await server.client(ROOM, "member", pid.title(), sub=pid)
        assert (await turns(back)) == ["ben", "dev", "ana"]
    # The groups are gone.
    for room in rooms:
        ack = await fac.call("join", {"room": room})
        assert ack["ok"] is False and ack["error"]["code"] in ("not_found", "forbidden")
    assert [e["reason"] for e in await audit(server, ROOM) if e["action"] == "groups.end"] == ["time"]


async def test_whoever_does_not_come_back_leaves_after_the_way_back(server: Running) -> None:
    fac, members = await circle(server, grace=5)
    await hands(fac, members, "ana", "ben")
    assert (await fac.call("groups.start", {"room": ROOM, "groups": [["ana"], ["ben"]], "minutes": 1}))["ok"]
    await move(server, {"ana": members["ana"], "ben": members["ben"]})
    await server.clock.advance(MIN)
    await fac.wait_event("groups.ended")
    # A minute to come back (more than the circle's own 5 s): Ben does, Ana does not.
    await server.clock.advance(59_000)
    await server.client(ROOM, "member", "Ben", sub="ben")
    await server.clock.advance(1_000)
    left = await fac.wait_event("participant.left")
    assert left["data"] == {"participant_id": "ana", "reason": "disconnected"}
    assert (await turns(fac)) == ["ben"]


async def test_a_facilitator_brings_everyone_back_early_and_a_group_hears_its_last_minute(
        server: Running) -> None:
    fac, members = await circle(server)
    ack = await fac.call("groups.start", {"room": ROOM, "count": 2, "minutes": 3})
    assert ack["ok"], ack
    in_groups = await move(server, members)
    ana = in_groups["ana"][1]
    await server.clock.advance(2 * MIN)
    ending = await ana.wait_event("groups.ending")
    assert ending["data"] == {"ends_at": ack["ends_at"]} and ending["actor"] is None
    assert (await in_groups["dev"][1].wait_event("groups.ending"))["room"] == ack["groups"][1]["room"]
    # A member cannot end it; the facilitator can.
    assert (await ana.call("groups.end", {"room": ack["groups"][0]["room"]}))["error"]["code"] == "forbidden"
    assert (await fac.call("groups.end", {"room": ROOM}))["ok"]
    assert (await fac.wait_event("groups.ended"))["data"] == {"reason": "facilitator"}
    for _, group in in_groups.values():
        assert await group.wait_private("groups.returned") == {"room": ROOM}
        await group.wait_event("room.ended")
    assert (await fac.call("groups.end", {"room": ROOM}))["error"]["code"] == "conflict"
    # The time that was set passes quietly.
    await server.clock.advance(2 * MIN)
    assert (await fac.join(ROOM))["room"].get("groups") is None
    assert [e["type"] for e in fac.events].count("groups.ended") == 1


async def test_a_report_in_a_group_reaches_the_circles_facilitator(server: Running) -> None:
    fac, members = await circle(server)
    ack = await fac.call("groups.start", {"room": ROOM, "groups": [["ana", "ben"]], "minutes": 10})
    assert ack["ok"], ack
    in_groups = await move(server, {"ana": members["ana"], "ben": members["ben"]})
    room = ack["groups"][0]["room"]
    assert (await in_groups["ana"][1].call("report", {"room": room, "participant": "ben", "reason": "unkind"}))["ok"]
    alert = await fac.wait_private("moderation.alert")
    assert (alert["room"], alert["kind"], alert["participant_id"]) == (room, "report", "ben")


async def test_bad_requests_are_refused(server: Running) -> None:
    fac, members = await circle(server)
    for payload, code in [
        ({"count": 1, "minutes": 5}, "invalid"),
        ({"count": 21, "minutes": 5}, "invalid"),
        ({"count": 2, "minutes": 0}, "invalid"),
        ({"count": 2, "minutes": 121}, "invalid"),
        ({"count": 2}, "invalid"),
        ({"minutes": 5}, "invalid"),
        ({"count": 2, "groups": [["ana"], ["ben"]], "minutes": 5}, "invalid"),
        ({"groups": [["ana"], ["ana"]], "minutes": 5}, "invalid"),
        ({"groups": [["ana", "nobody"]], "minutes": 5}, "not_found"),
        ({"groups": [[]], "minutes": 5}, "invalid"),
        ({"count": 5, "minutes": 5}, "conflict"),   # four members
        ({"count": "2", "minutes": 5}, "invalid"),
    ]:
        ack = await fac.call("groups.start", {"room": ROOM, **payload})
        assert ack["ok"] is False and ack["error"]["code"] == code, (payload, ack)
    ack = await members["ana"].call("groups.start", {"room": ROOM, "count": 2, "minutes": 5})
    assert ack["error"]["code"] == "forbidden"
    assert all(e["type"] != "groups.started" for e in fac.events)


async def test_two_workers_end_the_groups_once(redis_url: str, aiohttp_server: Any) -> None:
    """Both workers' schedulers see the circle's time come (one Redis, one clock): the
    groups end once, each group's room ends once, and people on either worker are told."""
    clock = ManualClock()
    urls = []
    for i in range(2):
        app = create_app(Config(secret=SECRET, admin_key=ADMIN_KEY), clock=clock,
                         store=RedisStore.from_url(redis_url), worker_id=f"worker-{i}")
        srv = await aiohttp_server(app, host="127.0.0.1")
        await app[CLUSTER].bus.connected.wait()
        urls.append(f"http://127.0.0.1:{srv.port}")
    clients: list[Client] = []

    async def client(worker: int, tok: str, room: str | None = None) -> Client:
        c = Client(urls[worker], tok)
        clients.append(c)
        await c.connect()
        if room is not None:
            await c.join(room)
        return c

    try:
        fac = await client(0, token(ROOM, "facilitator", name="Fatima", sub="fac"), ROOM)
        main = {pid: await client(i % 2, token(ROOM, "member", name=pid.title(), sub=pid), ROOM)
                for i, pid in enumerate(MEMBERS)}
        ack = await fac.call("groups.start", {"room": ROOM, "count": 2, "minutes": 1})
        assert ack["ok"], ack
        in_groups = {}
        for i, (pid, member) in enumerate(main.items()):
            moved = await member.wait_private("groups.moved")
            await member.close()
            # Each on the other worker from the one they were on in the circle.
            in_groups[pid] = await client((i + 1) % 2, moved["token"], moved["room"])
        await clock.advance(MIN)
        for group in in_groups.values():
            assert await group.wait_private("groups.returned") == {"room": ROOM}
            await group.wait_event("room.ended")
        await fac.wait_event("groups.ended")
        # Everything that could fire twice has had its chance: a later commit, then the logs.
        await clock.advance(5 * MIN)
        assert (await fac.call("reaction.send", {"room": ROOM, "kind": "heart"}))["ok"]
        await fac.wait_event("reaction")
        assert [e["type"] for e in fac.events].count("groups.ended") == 1
        for group in in_groups.values():
            assert [e["type"] for e in group.events].count("room.ended") == 1
            assert [n for n, _ in group.private].count("groups.returned") == 1
        missed = (await (await client(1, token(ROOM, "facilitator", name="Fay", sub="fay"))).join(ROOM, since=0))
        assert [e["type"] for e in missed["missed"]].count("groups.ended") == 1
    finally:
        for c in clients:
            await c.close()
