"""The admin API's audit log, a page at a time (issue 12 item 5), on both stores."""

from __future__ import annotations

from typing import Any

import aiohttp

from server.core import commands as c
from server.gateway import keys
from server.store.base import AUDIT_PAGE_MAX, AUDIT_SIGNALS_KEPT
from tests.integration.conftest import Running
from tests.support import ADMIN_KEY

ROOM = "tuesday-circle"


async def get(srv: Running, query: str) -> tuple[int, Any, dict[str, str]]:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{srv.url}/api/audit{query}", headers={"Authorization": f"Bearer {ADMIN_KEY}"}) as r:
            return r.status, await r.json(), dict(r.headers)


async def test_a_flood_of_reports_leaves_the_ban_one_page_back(server: Running) -> None:
    # Ten sockets of one member made 550 reports in 6 s and pushed a ban out of the
    # audit view (one ring of 100,000 for all rooms, the newest 1,000 served).
    fac = await server.client(ROOM, "facilitator", "Fay")
    await server.client(ROOM, "member", "Ben")
    ana = await server.client(ROOM, "member", "Ana")
    assert (await fac.call("participant.remove", {"room": ROOM, "participant": "Ben", "ban": True}))["ok"]
    # The flood, through the service as the gateway would pass it on (the gateway's own
    # per-person limits are tested with it; this is about what the audit keeps).
    service = server.app[keys.SERVICE]
    reporter = c.Actor(id="Ana", name="Ana", role="member", conn=ana.sio.get_sid() or "")
    flood = AUDIT_SIGNALS_KEPT + 10
    for _ in range(flood):
        await service.execute(ROOM, reporter, c.Report(reason="spam", participant="Fay"))

    status, first, headers = await get(server, f"?room={ROOM}")
    assert status == 200
    assert len(first) == AUDIT_PAGE_MAX and {e["action"] for e in first} == {"report"}
    assert set(first[0]) == {"at", "room", "actor", "action", "target", "reason"}  # the shape as before
    cursor = headers["X-Next-Before"]
    assert headers["Link"] == f'</api/audit?room={ROOM}&before={cursor}>; rel="next"'
    status, rest, headers = await get(server, f"?room={ROOM}&before={cursor}")
    assert status == 200 and "X-Next-Before" not in headers and "Link" not in headers
    # The newest thousand reports were kept, the rest let go; the ban stays, whatever follows it.
    assert [e["action"] for e in rest] == ["ban"] and rest[0]["target"] == "Ben"


async def test_pages_of_every_room_follow_each_other(server: Running) -> None:
    fac = await server.client(ROOM, "facilitator", "Fay")
    await server.client(ROOM, "member", "Ben")
    other = await server.client("other-circle", "facilitator", "Gia")
    await server.client("other-circle", "member", "Hal")
    actions = []
    for who, room, target in ((fac, ROOM, "Ben"), (other, "other-circle", "Hal")):
        for muted in (True, False):
            await server.clock.advance(1000)
            assert (await who.call("participant.mute", {"room": room, "participant": target, "muted": muted}))["ok"]
            actions.append((room, "mute" if muted else "unmute"))
    got: list[tuple[str, str]] = []
    query, pages = "?limit=3", 0
    while True:
        status, page, headers = await get(server, query)
        assert status == 200
        got = [(e["room"], e["action"]) for e in page] + got
        pages += 1
        if "X-Next-Before" not in headers:
            break
        query = f"?limit=3&before={headers['X-Next-Before']}"
    assert got[-4:] == actions and pages == 2
    # `since` still works, and with paging.
    status, page, headers = await get(server, f"?since={page[0]['at'] + 1}&limit=1")
    assert status == 200 and len(page) == 1 and "X-Next-Before" in headers


async def test_bad_paging_parameters_are_refused_clearly(server: Running) -> None:
    for query in ("?limit=0", f"?limit={AUDIT_PAGE_MAX + 1}", "?limit=ten", "?limit=%C2%B2",
                  "?before=yesterday", "?before=1:2:3", "?before=-1:5", "?since=soon"):
        status, body, _ = await get(server, query)
        assert status == 400, query
        assert body["error"]["code"] == "invalid" and "Traceback" not in body["error"]["message"]
