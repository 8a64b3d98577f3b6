"""The admin API for running the on-call service (the console's on-call and audit views):
who is on duty, the rota and who it expects now, pages and answer times, the audit log by
action and time. Real server, real Socket.IO clients, a hand-driven clock; both stores."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from server.config import RoomSpec
from tests.integration.conftest import MakeServer, Running
from tests.support import ADMIN_KEY

ONCALL = "oncall"
ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}
ALL_WEEK = [1, 2, 3, 4, 5, 6, 7]


async def api(srv: Running, method: str, path: str, body: Any = None, admin: bool = True) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as http, http.request(
            method, srv.url + path, json=body, headers=ADMIN if admin else {}) as r:
        return r.status, await r.json()


def shift(responder: str, name: str, **over: Any) -> dict[str, Any]:
    return {"responder": responder, "name": name, "days": ALL_WEEK, "start": "00:00", "end": "00:00", **over}


@pytest.fixture
async def srv(make_server: MakeServer) -> Running:
    return await make_server(rooms=(RoomSpec(id=ONCALL, kind="oncall", title="On-call"),))


async def test_who_is_on_duty_with_their_name_and_since_when(srv: Running) -> None:
    assert await api(srv, "GET", "/api/oncall/duty") == (200, {"at": srv.clock.now_ms(), "on_duty": [],
                                                                "expected": []})
    ravi = await srv.client("*", "responder", "Ravi Kumar", join=False, sub="ravi")
    since = srv.clock.now_ms()
    assert (await ravi.call("oncall.duty", {"on": True}))["ok"]
    await srv.clock.advance(60_000)
    assert (await ravi.call("oncall.duty", {"on": True}))["ok"]  # again: still on duty since the first time
    member = await srv.client("*", "member", "Mina", join=False)
    assert (await member.call("oncall.duty", {"on": True}))["error"]["code"] == "forbidden"
    status, got = await api(srv, "GET", "/api/oncall/duty")
    assert status == 200
    assert got["on_duty"] == [{"responder": "ravi", "name": "Ravi Kumar", "since": since}]
    # Off duty, by saying so or by going away.
    assert (await ravi.call("oncall.duty", {"on": False}))["ok"]
    assert (await api(srv, "GET", "/api/oncall/duty"))[1]["on_duty"] == []
    # Ravi's link works anywhere; he is in a circle with Fay when his connection closes.
    fay = await srv.client("staff-room", "facilitator", "Fay")
    await ravi.join("staff-room")
    assert (await ravi.call("oncall.duty", {"on": True}))["ok"]
    assert [d["responder"] for d in (await api(srv, "GET", "/api/oncall/duty"))[1]["on_duty"]] == ["ravi"]
    await ravi.close()
    await fay.wait_event("participant.updated", lambda e: e["data"]["participant"]["id"] == "ravi"
                         and not e["data"]["participant"]["connected"])
    assert (await api(srv, "GET", "/api/oncall/duty"))[1]["on_duty"] == []
    assert (await api(srv, "GET", "/api/oncall/duty", admin=False))[0] == 401


async def test_the_rota_is_saved_validated_and_compared_with_who_is_on_duty(srv: Running) -> None:
    assert await api(srv, "GET", "/api/oncall/rota") == (200, {"shifts": []})
    rota = {"shifts": [shift("ravi", "Ravi"), shift("dev", "Dev", days=[1, 2, 3], start="09:00", end="17:00"),
                       shift("gita", "Gita")]}
    status, saved = await api(srv, "PUT", "/api/oncall/rota", rota)
    assert status == 200
    assert saved["shifts"][1] == {"responder": "dev", "name": "Dev", "days": [1, 2, 3], "start": "09:00",
                                  "end": "17:00", "tz": "Asia/Kolkata"}
    assert await api(srv, "GET", "/api/oncall/rota") == (200, saved)
    # The clock says Wednesday 15 November 2023, 03:43 in Kolkata: Ravi and Gita are
    # expected (all day, every day), Dev is not (Mondays to Wednesdays, 09:00-17:00).
    ravi = await srv.client("*", "responder", "Ravi", join=False, sub="ravi")
    assert (await ravi.call("oncall.duty", {"on": True}))["ok"]
    status, got = await api(srv, "GET", "/api/oncall/duty")
    assert [(e["responder"], e["on_duty"]) for e in got["expected"]] == [("ravi", True), ("gita", False)]
    gita = got["expected"][1]
    # 03:43 on a Wednesday in Kolkata: the turn that began at midnight, Wednesday's.
    assert gita == {"responder": "gita", "name": "Gita", "shift": 2, "day": 3, "start": "00:00", "end": "00:00",
                    "tz": "Asia/Kolkata", "until": gita["until"], "on_duty": False}
    assert 0 < gita["until"] - srv.clock.now_ms() <= 86_400_000

    # Refused with the field named, and nothing changed.
    for body, message in (
            ({"shifts": [shift("dev", "Dev", start="25:00")]}, "shifts[0].start: must be a time HH:MM"),
            ({"shifts": [shift("dev", "Dev", days=[1, 9])]}, "shifts[0].days[1]: Input should be less than"),
            ({"shifts": [shift("dev", "Dev", tz="Asia/Delhi")]}, "shifts[0].tz: unknown time zone 'Asia/Delhi'"),
            ({"shifts": [{"name": "Dev"}]}, "shifts[0].responder: Field required")):
        status, err = await api(srv, "PUT", "/api/oncall/rota", body)
        assert status == 400 and err["error"]["code"] == "invalid", err
        assert err["error"]["message"].startswith(message), err
    assert await api(srv, "GET", "/api/oncall/rota") == (200, saved)
    assert (await api(srv, "PUT", "/api/oncall/rota", rota, admin=False))[0] == 401


async def test_pages_and_answer_times_come_from_the_audit(srv: Running) -> None:
    start = srv.clock.now_ms()
    # Mina waits 12.5 s and is answered; Asha waits, nobody comes, she leaves.
    await srv.client(ONCALL, "member", "Mina", sub="mina")
    await srv.clock.advance(12_500)
    ravi = await srv.client(ONCALL, "responder", "Ravi", sub="ravi")
    assert (await ravi.call("leave", {"room": ONCALL}))["ok"]
    fay = await srv.client("some-circle", "facilitator", "Fay")
    asha = await srv.client(ONCALL, "member", "Asha", sub="asha")
    await srv.clock.advance(70_000)  # past the escalation (60 s): every facilitator is paged
    assert (await fay.wait_private("oncall.page"))["tier"] == 2
    assert (await asha.call("leave", {"room": ONCALL}))["ok"]
    status, stats = await api(srv, "GET", f"/api/oncall/stats?since={start}&until={srv.clock.now_ms() + 1}")
    assert status == 200, stats
    assert {k: stats[k] for k in ("pages", "answered", "unanswered", "escalations", "median_answer_ms",
                                  "p90_answer_ms")} == {
        "pages": 2, "answered": 1, "unanswered": 1, "escalations": 1, "median_answer_ms": 12_500,
        "p90_answer_ms": 12_500}
    assert [(d["date"], d["pages"]) for d in stats["days"]] == [("2023-11-15", 2)]
    # The window defaults to the last 7 days, in Kolkata's days.
    status, week = await api(srv, "GET", "/api/oncall/stats")
    assert status == 200 and week["pages"] == 2 and len(week["days"]) == 8
    for query, message in (("?since=abc", "since must be milliseconds"), ("?since=10&until=5", "since must be before"),
                           ("?since=0&until=99999999999", "at most 92 days"), ("?tz=Mars/Olympus", "tz: unknown")):
        status, err = await api(srv, "GET", "/api/oncall/stats" + query)
        assert status == 400 and message in err["error"]["message"], (query, err)


async def test_the_audit_by_action_and_time(srv: Running) -> None:
    start = srv.clock.now_ms()
    await srv.client(ONCALL, "member", "Mina", sub="mina")
    await srv.clock.advance(1_000)
    await srv.client(ONCALL, "responder", "Ravi", sub="ravi")
    fac = await srv.client("circle", "facilitator", "Fay")
    await srv.client("circle", "member", "Ben")
    await srv.clock.advance(1_000)
    assert (await fac.call("participant.mute", {"room": "circle", "participant": "Ben", "muted": True}))["ok"]
    status, got = await api(srv, "GET", "/api/audit?action=oncall.page,oncall.answered")
    assert status == 200
    assert [(e["action"], e["target"]) for e in got] == [("oncall.page", "mina"), ("oncall.answered", "mina")]
    status, got = await api(srv, "GET", "/api/audit?action=mute&action=oncall.page")
    assert [e["action"] for e in got] == ["oncall.page", "mute"]
    # [since, until): the moment of the answer only.
    status, got = await api(srv, "GET", f"/api/audit?since={start + 1_000}&until={start + 1_001}")
    assert [e["action"] for e in got] == ["oncall.answered"]
    status, got = await api(srv, "GET", f"/api/audit?room=circle&until={start + 2_000}")
    assert got == []
    status, err = await api(srv, "GET", "/api/audit?until=yesterday")
    assert status == 400 and err["error"]["message"] == "until must be milliseconds since the epoch"
    status, err = await api(srv, "GET", "/api/audit?action=DROP TABLE")
    assert status == 400 and "action must be audit action names" in err["error"]["message"]
