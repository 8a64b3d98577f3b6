"""Group links (issue 16): anyone with a circle's link picks the name the others will see
and waits in the lobby; the link expires, can be limited in uses and revoked; only its
hash is kept. Runs on both stores."""

from __future__ import annotations

from typing import Any

import aiohttp

from tests.integration.conftest import Running
from tests.support import ADMIN_KEY, Client

ROOM = "thursday-circle"
ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}


async def api(srv: Running, method: str, path: str, body: Any = None, admin: bool = True,
              headers: dict[str, str] | None = None) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as http, http.request(
            method, srv.url + path, json=body, headers={**(ADMIN if admin else {}), **(headers or {})}) as r:
        return r.status, (await r.json() if r.content_type == "application/json" else None)


async def guest(srv: Running, code: str, name: str) -> Client:
    status, got = await api(srv, "POST", "/api/invites/redeem", {"code": code, "name": name}, admin=False)
    assert status == 200, got
    assert got["room"] == ROOM
    c = Client(srv.url, got["token"], name=name)
    srv.clients.append(c)
    await c.connect()
    return c


async def test_a_group_link_brings_people_to_the_lobby_under_the_names_they_chose(server: Running) -> None:
    fac = await server.client(ROOM, "facilitator", "Meera")
    status, link = await api(server, "POST", f"/api/rooms/{ROOM}/invites", {"max_uses": 2})
    assert status == 201, link
    assert link["path"] == f"/#invite={link['code']}" and link["code"].startswith(ROOM + ".")
    assert link["uses"] == 0 and link["max_uses"] == 2
    # The lobby is off in this circle, and still whoever came by the group link waits there.
    asha = await guest(server, link["code"], "Asha B")
    ack = await asha.call("join", {"room": ROOM})
    assert ack["error"]["code"] == "lobby"
    waiting = await fac.wait_private("lobby.waiting")
    assert waiting["participant"]["name"] == "Asha B" and waiting["participant"]["role"] == "member"
    assert (await fac.call("lobby.admit", {"room": ROOM, "participant": waiting["participant"]["id"]}))["ok"]
    await asha.wait_private("lobby.admitted")
    joined = await asha.join(ROOM)
    assert joined["you"]["name"] == "Asha B"
    # Two uses, then no more; the count is what the console shows.
    await guest(server, link["code"], "Ravi")
    status, got = await api(server, "POST", "/api/invites/redeem", {"code": link["code"], "name": "Third"},
                            admin=False)
    assert status == 409 and got["error"]["code"] == "full"
    status, listed = await api(server, "GET", f"/api/rooms/{ROOM}/invites")
    assert status == 200 and listed == [{k: link[k] for k in ("id", "expires_at", "max_uses", "created_at")}
                                        | {"uses": 2}]
    # Nobody's snapshot carries the links, and the audit says what happened, never a name.
    assert "invites" not in joined["room"]
    status, audit = await api(server, "GET", f"/api/audit?room={ROOM}")
    actions = [e["action"] for e in audit]
    assert actions.count("invite.use") == 2 and "invite.create" in actions
    assert "Asha" not in str(audit) and "Ravi" not in str(audit)


async def test_a_revoked_or_expired_link_lets_nobody_in(server: Running) -> None:
    await server.client(ROOM, "facilitator", "Meera")
    _, revoked = await api(server, "POST", f"/api/rooms/{ROOM}/invites", {})
    assert (await api(server, "DELETE", f"/api/rooms/{ROOM}/invites/{revoked['id']}"))[0] == 204
    status, got = await api(server, "POST", "/api/invites/redeem", {"code": revoked["code"], "name": "Ana"},
                            admin=False)
    assert status == 404 and got["error"]["code"] == "not_found"
    _, short = await api(server, "POST", f"/api/rooms/{ROOM}/invites", {"expires_in_s": 60})
    await server.clock.advance(61_000)
    status, got = await api(server, "POST", "/api/invites/redeem", {"code": short["code"], "name": "Ana"},
                            admin=False)
    assert status == 401 and got["error"]["code"] == "expired"
    # A made-up secret for a real room, and nonsense.
    for code in (f"{ROOM}.{'x' * 24}", "no-dot", ".abc", "UPPER.abcdefghijklmnopqrstuvwx"):
        status, got = await api(server, "POST", "/api/invites/redeem", {"code": code, "name": "Ana"}, admin=False)
        assert status == 404 and got["error"]["code"] == "not_found", (code, got)


async def test_bad_requests_get_clear_errors(server: Running) -> None:
    await server.client(ROOM, "facilitator", "Meera")
    _, link = await api(server, "POST", f"/api/rooms/{ROOM}/invites", {})
    for body in ({"code": link["code"]}, {"code": link["code"], "name": ""},
                 {"code": link["code"], "name": "x" * 41}, {"code": link["code"], "name": "Ana", "role": "facilitator"},
                 {"code": 7, "name": "Ana"}, {"code": link["code"], "name": "\u200b"}):
        status, got = await api(server, "POST", "/api/invites/redeem", body, admin=False)
        assert status == 400 and got["error"]["code"] == "invalid", (body, got)
    for body in ({"expires_in_s": 10}, {"expires_in_s": 10**9}, {"max_uses": 0}, {"uses": 3}):
        status, got = await api(server, "POST", f"/api/rooms/{ROOM}/invites", body)
        assert status == 400 and got["error"]["code"] == "invalid", (body, got)
    assert (await api(server, "POST", f"/api/rooms/{ROOM}/invites", {}, admin=False))[0] == 401
    assert (await api(server, "GET", f"/api/rooms/{ROOM}/invites", admin=False))[0] == 401
    assert (await api(server, "POST", "/api/rooms/no-such-room/invites", {}))[0] == 404


async def test_a_guest_link_is_a_member_of_that_room_only(server: Running) -> None:
    await server.client(ROOM, "facilitator", "Meera")
    await server.client("other-circle", "facilitator", "Meera", sub="meera2")
    _, link = await api(server, "POST", f"/api/rooms/{ROOM}/invites", {})
    ana = await guest(server, link["code"], "Ana")
    ack = await ana.call("join", {"room": "other-circle"})
    assert ack["error"]["code"] == "forbidden"


async def test_asking_too_often_from_one_address_is_slowed_down(server: Running) -> None:
    await server.client(ROOM, "facilitator", "Meera")
    codes = []
    for _ in range(25):
        status, _ = await api(server, "POST", "/api/invites/redeem", {"code": f"{ROOM}.{'y' * 24}", "name": "A"},
                              admin=False)
        codes.append(status)
    # 20 at once, then one a second: of the next five (within a second or two), most wait.
    assert codes[:20] == [404] * 20 and codes[20:].count(429) >= 3, codes
