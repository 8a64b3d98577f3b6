"""Attendance (issue 19, part A) through the running server: minutes across a reconnect,
retention on the injected clock, a member's own history and its erasure, the admin
counts, the signed ``attendance.missed`` webhook (once a streak), and what the Redis keys
hold. Real server, real Socket.IO clients, a real local webhook receiver, a hand-driven
clock; memory and Redis stores."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from moderation.signing import verify
from server.attendance import AttendanceConfig
from server.clock import ManualClock
from server.gateway import keys
from server.store.redis import RedisStore
from tests.integration.conftest import MakeServer, Running
from tests.support import ADMIN_KEY

ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}
HOOK_SECRET = "attendance-hook-secret"
MIN = 60_000
HOUR = 60 * MIN
DAY = 24 * HOUR


def ms(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)


SAT = ms("2026-12-05T12:00:00")  # Saturday 17:30 in Kolkata; the server's clock starts here
TUE = ms("2026-12-08T13:30:00")  # Tuesday 19:00 in Kolkata
WEEKLY = {"title": "Tuesday evening circle", "days": [2], "start": "19:00", "duration_min": 90}


class Hooks:
    """A real local HTTP server standing in for the centre's follow-up system."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.arrived = asyncio.Event()
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        assert verify(HOOK_SECRET, body, request.headers)
        self.calls.append(json.loads(body))
        self.arrived.set()
        return web.json_response({"ok": True})


@pytest.fixture
async def hooks(aiohttp_server: Any) -> AsyncIterator[Hooks]:
    h = Hooks()
    app = web.Application()
    app.router.add_post("/missed", h.handle)
    srv = await aiohttp_server(app, host="127.0.0.1")
    h.url = f"http://127.0.0.1:{srv.port}/missed"
    yield h


def config(hooks: Hooks | None = None, **more: Any) -> AttendanceConfig:
    return AttendanceConfig(enabled=True, rooms=("tuesday", "daily"), retention_days=90, missed_after=3,
                            webhook_url=hooks.url if hooks else None,
                            webhook_secret=HOOK_SECRET if hooks else None, **more)


@pytest.fixture
async def srv(make_server: MakeServer, hooks: Hooks) -> Running:
    return await make_server(clock=ManualClock(SAT), attendance=config(hooks))


async def call(method: str, url: str, body: Any = None) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as http, http.request(method, url, json=body, headers=ADMIN) as r:
        return r.status, await r.json()


async def make_room(s: Running, room: str, schedule: dict[str, Any] | None = None) -> None:
    status, _ = await call("POST", s.url + "/api/rooms", {"id": room, "title": "A circle"})
    assert status == 201
    if schedule is not None:
        status, view = await call("PUT", f"{s.url}/api/rooms/{room}/schedule", schedule)
        assert status == 200, view


async def gone(s: Running, room: str, who: str) -> None:
    """Until the committed state shows ``who`` disconnected (a closed socket's disconnect
    is committed by the server a moment later)."""
    for _ in range(100):
        state = await s.app[keys.SERVICE].load(room)
        p = state.participants.get(who)
        if p is None or not p.connected:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{who} still connected")


async def test_minutes_add_up_across_a_reconnect_and_are_counted_once(srv: Running) -> None:
    await make_room(srv, "daily")
    mina = await srv.client("daily", "member", "Mina", sub="m-mina")
    await srv.clock.advance(20 * MIN)
    await mina.close()  # the connection drops: 20 minutes so far
    await gone(srv, "daily", "m-mina")
    await srv.clock.advance(5 * MIN)  # away: not counted
    again = await srv.client("daily", "member", "Mina", sub="m-mina")  # back within the grace
    await srv.clock.advance(10 * MIN)
    await again.call("join", {"room": "daily"})  # a second join on the same connection: no reset
    await srv.clock.advance(10 * MIN)
    assert (await again.call("leave", {"room": "daily"}))["ok"]
    ack = await again.call("attendance.mine", {})
    assert ack["ok"] and ack["enabled"] is True
    assert ack["meetings"] == [{"room": "daily", "date": "2026-12-05", "minutes": 40, "shared": False}]
    assert ack["came"] == 1 and ack["of"] == 1
    # A second leave, and the minutes stay as they were.
    await again.call("leave", {"room": "daily"})
    assert (await again.call("attendance.mine", {"room": "daily"}))["meetings"][0]["minutes"] == 40


async def test_sharing_is_recorded_and_the_admin_counts_it(srv: Running) -> None:
    await make_room(srv, "daily")
    fac = await srv.client("daily", "facilitator", "Fatima", sub="f-1")
    mina = await srv.client("daily", "member", "Mina", sub="m-mina")
    await srv.client("daily", "member", "Ravi", sub="m-ravi")
    assert (await mina.call("hand.raise", {"room": "daily"}))["ok"]
    assert (await fac.call("floor.grant", {"room": "daily", "participant": "m-mina"}))["ok"]
    await srv.clock.advance(30 * MIN)
    status, counts = await call("GET", srv.url + "/api/rooms/daily/attendance?since=2026-12-01")
    assert status == 200
    assert counts["meetings"] == [{"date": "2026-12-05", "came": 3, "minutes": 90, "shared": 1}]
    status, one = await call("GET", srv.url + "/api/attendance/m-mina")
    assert status == 200 and one == {"participant_id": "m-mina", "meetings": [
        {"room": "daily", "date": "2026-12-05", "minutes": 30, "shared": True}]}
    status, none = await call("GET", srv.url + "/api/rooms/daily/attendance?until=2026-12-04")
    assert status == 200 and none["meetings"] == []


async def test_a_member_sees_and_erases_only_their_own(srv: Running) -> None:
    await make_room(srv, "daily")
    mina = await srv.client("daily", "member", "Mina", sub="m-mina")
    ravi = await srv.client("daily", "member", "Ravi", sub="m-ravi")
    await srv.clock.advance(15 * MIN)
    # Nobody can name someone else: the payloads have no such field.
    ack = await ravi.call("attendance.mine", {"participant": "m-mina"})
    assert ack["ok"] is False and ack["error"]["code"] == "invalid"
    ack = await ravi.call("attendance.erase", {"participant": "m-mina"})
    assert ack["ok"] is False and ack["error"]["code"] == "invalid"
    assert (await ravi.call("attendance.erase", {}))["erased"] == 1
    assert (await ravi.call("attendance.mine", {}))["meetings"] == []
    mine = await mina.call("attendance.mine", {})
    assert [m["minutes"] for m in mine["meetings"]] == [15], "Mina's history is untouched"
    # A token for one room cannot ask about another.
    ack = await mina.call("attendance.mine", {"room": "tuesday"})
    assert ack["ok"] is False and ack["error"]["code"] == "forbidden"


async def test_attendance_is_forgotten_after_the_retention_period(srv: Running) -> None:
    await make_room(srv, "daily")
    mina = await srv.client("daily", "member", "Mina", sub="m-mina")
    await srv.clock.advance(30 * MIN)
    await mina.call("leave", {"room": "daily"})
    await srv.clock.advance(89 * DAY)
    assert len((await mina.call("attendance.mine", {}))["meetings"]) == 1
    await srv.clock.advance(DAY + MIN)
    assert (await mina.call("attendance.mine", {}))["meetings"] == []
    status, counts = await call("GET", srv.url + "/api/rooms/daily/attendance")
    assert status == 200 and counts["meetings"] == []


async def test_a_room_not_listed_records_nothing(srv: Running) -> None:
    await make_room(srv, "other")
    mina = await srv.client("other", "member", "Mina", sub="m-mina")
    await srv.clock.advance(30 * MIN)
    assert (await mina.call("attendance.mine", {}))["meetings"] == []


async def test_a_follower_who_misses_three_meetings_is_named_to_the_webhook_once(
        srv: Running, hooks: Hooks, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="circles")
    await make_room(srv, "tuesday", WEEKLY)
    await srv.clock.advance(TUE - SAT)  # Tuesday 19:00: the meeting is on
    mina = await srv.client("tuesday", "member", "Mina", sub="m-mina")
    ravi = await srv.client("tuesday", "member", "Ravi", sub="m-ravi")
    assert (await mina.call("attendance.follow_up", {"on": True}))["on"] is True
    assert (await ravi.call("attendance.follow_up", {}))["on"] is False, "off unless asked for"
    await srv.clock.advance(60 * MIN)
    await mina.close()
    await ravi.close()
    await gone(srv, "tuesday", "m-mina")
    await gone(srv, "tuesday", "m-ravi")
    # Three Tuesdays pass without Mina (or Ravi, who did not ask for follow-up).
    for _ in range(3):
        for _ in range(7):
            await srv.clock.advance(DAY)
    await asyncio.sleep(0.2)
    assert hooks.calls == [], "the third missed meeting has not ended yet"
    await srv.clock.advance(HOUR)
    await asyncio.wait_for(hooks.arrived.wait(), 5)
    await asyncio.sleep(0.3)
    assert len(hooks.calls) == 1
    body = hooks.calls[0]
    assert body == {"event": "attendance.missed", "room": "tuesday", "participant_id": "m-mina", "missed": 3,
                    "last_seen_date": "2026-12-08", "at": body["at"], "id": f"tuesday:{TUE + 21 * DAY}:m-mina"}
    assert body["at"] >= TUE + 21 * DAY + 90 * MIN
    # A fourth missed meeting: the streak was told of already.
    for _ in range(7):
        await srv.clock.advance(DAY)
    await asyncio.sleep(0.3)
    assert len(hooks.calls) == 1
    # Mina's own view: one of the last five meetings.
    back = await srv.client("tuesday", "member", "Mina", sub="m-mina", join=False)
    mine = await back.call("attendance.mine", {"room": "tuesday"})
    assert mine["came"] == 1 and mine["of"] == 5 and mine["follow_up"] is True
    assert mine["summary"] == "came to 1 of the last 5"
    # The logs say what happened by room and count: no name, no participant id.
    logged = [f"{r.getMessage()} {r.__dict__}" for r in caplog.records if r.name.startswith("circles.")]
    assert any("attendance misses" in line for line in logged)
    assert any("webhook delivered" in line for line in logged)
    for line in logged:
        assert "Mina" not in line and "Ravi" not in line and "m-mina" not in line, line


async def test_the_redis_keys_hold_no_name_and_no_text_and_all_expire(make_server: MakeServer, hooks: Hooks,
                                                                      caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    s = await make_server(clock=ManualClock(SAT), attendance=config(hooks))
    store = s.app[keys.STORE]
    if not isinstance(store, RedisStore):
        pytest.skip("the Redis store's keys")
    await make_room(s, "daily")
    fac = await s.client("daily", "facilitator", "Fatima Rahman", sub="f-1")
    mina = await s.client("daily", "member", "Mina Kaur", sub="m-mina")
    assert (await mina.call("chat.send", {"room": "daily", "text": "secret words about my brother"}))["ok"]
    assert (await mina.call("hand.raise", {"room": "daily"}))["ok"]
    assert (await fac.call("floor.grant", {"room": "daily", "participant": "m-mina"}))["ok"]
    await mina.call("attendance.follow_up", {"on": True})
    await s.clock.advance(30 * MIN)
    await mina.call("leave", {"room": "daily"})
    redis = store.redis
    found = [k async for k in redis.scan_iter(match="circles:att:*")]
    assert any(":rec:" in k for k in found) and any(":open:" in k for k in found)
    assert any(":mine:" in k for k in found) and any(":room:" in k for k in found)
    assert any(":follow:" in k for k in found)
    for key in found:
        ttl = await redis.pttl(key)
        assert 0 < ttl <= 90 * DAY, f"{key} has no TTL"
        kind = await redis.type(key)
        if kind == "hash":
            text = json.dumps(await redis.hgetall(key))
        elif kind == "zset":
            text = json.dumps(await redis.zrange(key, 0, -1))
        else:
            text = json.dumps(await redis.get(key))
        for word in ("Mina", "Kaur", "Fatima", "Rahman", "secret", "brother"):
            assert word not in text and word not in key, f"{word!r} in {key}"
    logged = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records if r.name.startswith("circles"))
    for word in ("Mina", "Kaur", "Fatima", "Rahman", "secret", "brother"):
        assert word not in logged, f"{word!r} in the logs"
