"""A circle's weekly schedule through the running server (issue 16): the admin API, the
public calendar and meeting-list feeds, the signed ``circle.starting`` reminder (once),
members waiting for the circle to open, and a listed circle's door. Real server, real
Socket.IO clients, a real webhook receiver, a hand-driven clock; memory and Redis stores."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import aiohttp
import icalendar
import pytest
from aiohttp import web

from moderation.signing import verify
from server.clock import ManualClock
from server.config import OncallConfig, SchedulesConfig
from server.gateway import keys
from server.store.memory import MemoryStore
from tests.integration.conftest import MakeServer, Running
from tests.support import ADMIN_KEY, Client

ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}
HOOK_SECRET = "schedule-hook-secret"
MIN = 60_000
HOUR = 60 * MIN
DAY = 24 * HOUR


def ms(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)


SAT = ms("2026-12-05T12:00:00")  # Saturday; the server's clock starts here
TUE = ms("2026-12-08T13:30:00")  # Tuesday 19:00 in Kolkata
WEEKLY = {"title": "Tuesday evening circle", "days": [2, 5], "start": "19:00", "duration_min": 90,
          "types": ["O", "EN"], "notes": "Open to anyone in recovery.", "public": True}


class Hooks:
    """A real local HTTP server standing in for the centre's SMS/WhatsApp reminder system."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.arrived = asyncio.Event()
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.calls.append((request.path, json.loads(body)))
        assert verify(HOOK_SECRET, body, request.headers)
        self.arrived.set()
        return web.json_response({"ok": True})


@pytest.fixture
async def hooks(aiohttp_server: Any) -> AsyncIterator[Hooks]:
    h = Hooks()
    app = web.Application()
    app.router.add_post("/remind", h.handle)
    app.router.add_post("/page", h.handle)
    srv = await aiohttp_server(app, host="127.0.0.1")
    h.url = f"http://127.0.0.1:{srv.port}"
    yield h


@pytest.fixture
async def srv(make_server: MakeServer, hooks: Hooks) -> Running:
    return await make_server(
        clock=ManualClock(SAT),
        schedules=SchedulesConfig(webhook_url=hooks.url + "/remind", webhook_secret=HOOK_SECRET,
                                  approximate_address="Ludhiana, Punjab, India"),
        oncall=OncallConfig(webhook_url=hooks.url + "/page", webhook_secret=HOOK_SECRET))


async def call(method: str, url: str, body: Any = None, headers: dict[str, str] | None = None) \
        -> tuple[int, Any, dict[str, str]]:
    async with aiohttp.ClientSession() as http, \
            http.request(method, url, json=body, headers=headers) as r:
        text = await r.text()
        data = json.loads(text) if r.content_type == "application/json" and text else text
        return r.status, data, dict(r.headers)


async def make_circle(s: Running, room: str = "tuesday", schedule: dict[str, Any] | None = None) -> dict[str, Any]:
    status, _, _ = await call("POST", s.url + "/api/rooms", {"id": room, "title": "Tuesday"}, ADMIN)
    assert status == 201
    status, view, _ = await call("PUT", f"{s.url}/api/rooms/{room}/schedule", schedule or WEEKLY, ADMIN)
    assert status == 200, view
    return view  # type: ignore[no-any-return]


async def test_a_coordinator_schedules_a_circle_and_the_feeds_list_it(srv: Running) -> None:
    view = await make_circle(srv)
    assert view["room"] == "tuesday" and view["tz"] == "Asia/Kolkata" and view["public"] is True
    assert view["open"] is False and view["updated_ms"] == SAT
    assert view["next"] == {"room": "tuesday", "local_date": "2026-12-08", "start_ms": TUE, "end_ms": TUE + 90 * MIN,
                            "opens_ms": TUE - 10 * MIN, "remind_ms": TUE - HOUR}
    status, again, _ = await call("GET", srv.url + "/api/rooms/tuesday/schedule", headers=ADMIN)
    assert status == 200 and again == view
    status, listed, _ = await call("GET", srv.url + "/api/schedules", headers=ADMIN)
    assert status == 200 and [v["room"] for v in listed] == ["tuesday"]

    # The meeting list, as meeting-list apps read it: one entry per weekday, CORS open.
    status, meetings, headers = await call("GET", srv.url + "/meetings.json")
    assert status == 200 and headers["Access-Control-Allow-Origin"] == "*"
    assert [(m["slug"], m["day"], m["time"], m["end_time"]) for m in meetings] == [
        ("tuesday-2", 2, "19:00", "20:30"), ("tuesday-5", 5, "19:00", "20:30")]
    assert meetings[0]["conference_url"] == srv.url + "/#room=tuesday"
    assert meetings[0]["formatted_address"] == "Ludhiana, Punjab, India" and meetings[0]["approximate"] == "yes"
    assert meetings[0]["types"] == ["O", "EN"] and meetings[0]["name"] == "Tuesday evening circle"

    # The calendar: one weekly event that a phone's calendar app can subscribe to.
    status, text, headers = await call("GET", srv.url + "/calendar/tuesday.ics")
    assert status == 200 and headers["Content-Type"].startswith("text/calendar")
    cal = icalendar.Calendar.from_ical(text)
    [event] = [c for c in cal.walk("VEVENT")]
    assert str(event["SUMMARY"]) == "Tuesday evening circle"
    assert event["RRULE"]["BYDAY"] == ["TU", "FR"]
    assert event.decoded("DTSTART") == datetime.fromtimestamp(TUE / 1000, UTC)
    assert str(event["URL"]) == srv.url + "/#room=tuesday"

    # Ended: gone from the admin API and every feed.
    status, _, _ = await call("DELETE", srv.url + "/api/rooms/tuesday/schedule", headers=ADMIN)
    assert status == 204
    assert (await call("GET", srv.url + "/api/rooms/tuesday/schedule", headers=ADMIN))[0] == 404
    assert (await call("GET", srv.url + "/meetings.json"))[1] == []
    assert (await call("GET", srv.url + "/calendar/tuesday.ics"))[0] == 404
    status, audit, _ = await call("GET", srv.url + "/api/audit?room=tuesday", headers=ADMIN)
    assert [e["action"] for e in audit] == ["schedule.set", "schedule.delete"]


async def test_a_closed_circle_is_in_no_feed(srv: Running) -> None:
    await make_circle(srv, "womens-circle", {**WEEKLY, "public": False})
    assert (await call("GET", srv.url + "/meetings.json"))[1] == []
    assert (await call("GET", srv.url + "/calendar/womens-circle.ics"))[0] == 404
    assert (await call("GET", srv.url + "/api/rooms/womens-circle/public"))[0] == 404
    assert (await call("POST", srv.url + "/api/rooms/womens-circle/knock", {"name": "Asha"}))[0] == 404
    # The admin API still shows it.
    status, listed, _ = await call("GET", srv.url + "/api/schedules", headers=ADMIN)
    assert status == 200 and [v["room"] for v in listed] == ["womens-circle"] and listed[0]["public"] is False


@pytest.mark.parametrize(("body", "message"), [
    ({**WEEKLY, "days": [8]}, "schedule.days[0]: Input should be less than or equal to 7"),
    ({**WEEKLY, "start": "7pm"}, "schedule.start"),
    ({**WEEKLY, "tz": "Mars/Olympus"}, "unknown time zone 'Mars/Olympus'"),
    ({**WEEKLY, "duration_min": "90"}, "schedule.duration_min"),
    ({**WEEKLY, "public": "yes"}, "schedule.public"),
    ({**WEEKLY, "room": "another"}, "schedule.room"),
    ({**WEEKLY, "colour": "blue"}, "colour"),
    ([1, 2], "JSON object"),
])
async def test_a_bad_schedule_gets_a_message_naming_the_field(srv: Running, body: Any, message: str) -> None:
    await call("POST", srv.url + "/api/rooms", {"id": "tuesday"}, ADMIN)
    status, answer, _ = await call("PUT", srv.url + "/api/rooms/tuesday/schedule", body, ADMIN)
    assert status == 400 and answer["error"]["code"] == "invalid"
    assert message in answer["error"]["message"]
    assert (await call("GET", srv.url + "/api/rooms/tuesday/schedule", headers=ADMIN))[0] == 404


async def test_schedules_need_the_admin_key_a_room_and_a_circle(srv: Running) -> None:
    assert (await call("PUT", srv.url + "/api/rooms/tuesday/schedule", WEEKLY))[0] == 401
    assert (await call("GET", srv.url + "/api/schedules", headers={"Authorization": "Bearer wrong"}))[0] == 401
    assert (await call("PUT", srv.url + "/api/rooms/nowhere/schedule", WEEKLY, ADMIN))[0] == 404
    await call("POST", srv.url + "/api/rooms", {"id": "helpdesk", "kind": "oncall"}, ADMIN)
    status, answer, _ = await call("PUT", srv.url + "/api/rooms/helpdesk/schedule", WEEKLY, ADMIN)
    assert status == 400 and "always open" in answer["error"]["message"]


async def test_the_reminder_is_signed_and_sent_once(srv: Running, hooks: Hooks) -> None:
    await make_circle(srv)
    await srv.clock.advance(TUE - HOUR - 1 - SAT)
    await asyncio.sleep(0.2)  # nothing is due yet: give a wrong early call the chance to show
    assert hooks.calls == []
    await srv.clock.advance(1)
    await asyncio.wait_for(hooks.arrived.wait(), 5)
    assert hooks.calls == [("/remind", {
        "event": "circle.starting", "room": "tuesday", "title": "Tuesday evening circle", "start_ms": TUE,
        "opens_ms": TUE - 10 * MIN, "end_ms": TUE + 90 * MIN, "at": TUE - HOUR, "id": f"tuesday:{TUE}"})]
    # Time goes on to the meeting's end: still one call, and the on-call receiver never heard of it.
    for _ in range(4):
        await srv.clock.advance(30 * MIN)
    await asyncio.sleep(0.2)
    assert len(hooks.calls) == 1


async def test_members_wait_for_the_circle_to_open(srv: Running) -> None:
    await make_circle(srv)
    mina = await srv.client("tuesday", "member", "Mina", join=False)
    ack = await mina.call("join", {"room": "tuesday"})
    assert ack["ok"] is False and ack["error"]["code"] == "locked"
    assert ack["opens_at"] == TUE - 10 * MIN and "18:50" in ack["error"]["message"]
    fac = await srv.client("tuesday", "facilitator", "Fatima", join=False)
    assert (await fac.call("join", {"room": "tuesday"}))["ok"], "staff set up before the doors open"
    await srv.clock.advance(TUE - 10 * MIN - SAT)
    assert (await mina.call("join", {"room": "tuesday"}))["ok"]


async def test_a_newcomer_from_a_meeting_list_knocks_and_waits_in_the_lobby(srv: Running) -> None:
    await make_circle(srv)
    status, page, _ = await call("GET", srv.url + "/api/rooms/tuesday/public")
    assert status == 200 and page == {"room": "tuesday", "title": "Tuesday evening circle", "tz": "Asia/Kolkata",
                                      "open": False, "knock": False, "next": page["next"]}
    status, answer, _ = await call("POST", srv.url + "/api/rooms/tuesday/knock", {"name": "New here"})
    assert status == 409 and answer["error"]["code"] == "locked" and answer["opens_at"] == TUE - 10 * MIN
    await srv.clock.advance(TUE - 5 * MIN - SAT)
    assert (await call("GET", srv.url + "/api/rooms/tuesday/public"))[1]["knock"] is True
    fac = await srv.client("tuesday", "facilitator", "Fatima")
    status, answer, _ = await call("POST", srv.url + "/api/rooms/tuesday/knock", {"name": "New here"})
    assert status == 200 and answer["room"] == "tuesday"
    newcomer = Client(srv.url, answer["token"], name="New here")
    srv.clients.append(newcomer)
    await newcomer.connect()
    ack = await newcomer.call("join", {"room": "tuesday"})
    assert ack["ok"] is False and ack["error"]["code"] == "lobby"
    waiting = await fac.wait_private("lobby.waiting")
    assert waiting["participant"]["name"] == "New here"
    status, audit, _ = await call("GET", srv.url + "/api/audit?room=tuesday", headers=ADMIN)
    assert "schedule.knock" in [e["action"] for e in audit]
    assert (await call("POST", srv.url + "/api/rooms/tuesday/knock", {"name": ""}))[0] == 400


async def test_a_weekly_circle_or_a_live_group_link_keeps_a_quiet_room(srv: Running) -> None:
    if not isinstance(srv.app[keys.STORE], MemoryStore):
        pytest.skip("Redis forgets by its own TTL, in real time: the rule is the same (a commit a day)")
    await make_circle(srv, "sundays", {**WEEKLY, "days": [7]})
    await call("POST", srv.url + "/api/rooms", {"id": "unscheduled"}, ADMIN)
    await call("POST", srv.url + "/api/rooms", {"id": "linked"}, ADMIN)
    status, link, _ = await call("POST", srv.url + "/api/rooms/linked/invites", {"expires_in_s": 30 * 86400}, ADMIN)
    assert status == 201
    for _ in range(9):  # nine days with nobody coming
        await srv.clock.advance(DAY)
        await asyncio.sleep(0.05)
    assert (await call("GET", srv.url + "/api/rooms/unscheduled", headers=ADMIN))[0] == 404
    assert (await call("GET", srv.url + "/api/rooms/sundays", headers=ADMIN))[0] == 200
    assert (await call("GET", srv.url + "/api/rooms/sundays/schedule", headers=ADMIN))[0] == 200
    # A month's group link made nine days ago still lets someone in.
    status, _, _ = await call("POST", srv.url + "/api/invites/redeem", {"code": link["code"], "name": "Asha"})
    assert status == 200
