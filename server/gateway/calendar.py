"""Schedules over HTTP: the admin API that sets a circle's weekly schedule, the public
feeds (an ``.ics`` calendar per circle and the Meeting Guide list of meetings), and a
public circle's open door (its page and ``knock``). The rules live in ``core.recurrence``
and the feeds in ``server.schedules``; these handlers only translate.

Only a schedule marked ``public`` is in a feed or has a door: a centre lists its open
meetings and keeps a closed circle (a women's circle, say) out of every list.
"""

from __future__ import annotations

import json
import secrets
from typing import Annotated, Any, Final

from aiohttp import web
from pydantic import Field

from .. import schedules
from ..core import commands as c
from ..core import recurrence
from ..core.errors import CommandError
from ..core.model import NAME_MAX, RoomState, clean_name, valid_room_id
from ..tokens import mint
from . import keys
from .http import GUEST_TOKEN_TTL, REDEEM_LIMITER, Body, parse_body, read_json, require_admin

# What the PUT body may hold beside the schedule's own fields.
_EXTRA_FIELDS: Final = ("public", "room")


class KnockBody(Body):
    name: Annotated[str, Field(min_length=1, max_length=NAME_MAX)]


def base_url(request: web.Request) -> str:
    """The address in feeds and links: the configured public URL, else this request's."""
    configured = request.app[keys.CONFIG].public_url
    return configured or f"{request.scheme}://{request.host}"


async def _schedule_body(request: web.Request, room: str) -> tuple[schedules.Schedule, bool]:
    data = await read_json(request)
    if not isinstance(data, dict):
        raise CommandError("invalid", "the body must be a JSON object (the schedule)")
    if data.get("room", room) != room:
        raise CommandError("invalid", f"schedule.room: this is the schedule of {room}")
    public = data.get("public", False)
    if not isinstance(public, bool):
        raise CommandError("invalid", "schedule.public: Input should be a valid boolean")
    fields = {k: v for k, v in data.items() if k not in _EXTRA_FIELDS}
    try:
        return schedules.Schedule.from_dict({**fields, "room": room}), public
    except ValueError as e:
        raise CommandError("invalid", str(e)) from None


async def put_schedule(request: web.Request) -> web.Response:
    require_admin(request)
    room = request.match_info["id"]
    schedule, public = await _schedule_body(request, room)
    outcome = await request.app[keys.SERVICE].execute(room, c.SYSTEM, c.ScheduleSet(schedule, public))
    return web.json_response(outcome.reply["schedule"])


def _view(state: RoomState, now: int) -> dict[str, Any]:
    assert state.schedule is not None
    return recurrence.view(state.schedule, state.id, now)


async def get_schedule(request: web.Request) -> web.Response:
    require_admin(request)
    service = request.app[keys.SERVICE]
    state = await service.load(request.match_info["id"])
    if state.schedule is None:
        raise CommandError("not_found", "this circle has no schedule")
    return web.json_response(_view(state, service.clock.now_ms()))


async def delete_schedule(request: web.Request) -> web.Response:
    require_admin(request)
    await request.app[keys.SERVICE].execute(request.match_info["id"], c.SYSTEM, c.ScheduleClear())
    return web.Response(status=204)


async def _scheduled(request: web.Request, public_only: bool) -> list[RoomState]:
    store = request.app[keys.STORE]
    found = []
    for rid in sorted(await store.room_ids()):
        state = await store.load(rid)
        if state is not None and not state.ended and state.schedule is not None \
                and (state.schedule.public or not public_only):
            found.append(state)
    return found


async def list_schedules(request: web.Request) -> web.Response:
    require_admin(request)
    now = request.app[keys.SERVICE].clock.now_ms()
    return web.json_response([_view(s, now) for s in await _scheduled(request, public_only=False)])


async def _public(request: web.Request, room: str) -> RoomState:
    state = await request.app[keys.STORE].load(room) if valid_room_id(room) else None
    if state is None or state.ended or state.schedule is None or not state.schedule.public:
        raise CommandError("not_found", "no such listed circle")
    return state


async def calendar(request: web.Request) -> web.Response:
    """A public circle's calendar: one weekly event that calendar apps keep up to date."""
    state = await _public(request, request.match_info["room"])
    assert state.schedule is not None
    text = schedules.ics([recurrence.schedule_of(state.schedule)], base_url(request),
                         request.app[keys.SERVICE].clock.now_ms())
    return web.Response(text=text, content_type="text/calendar", charset="utf-8",
                        headers={"Cache-Control": "max-age=300"})


async def meetings(request: web.Request) -> web.Response:
    """Every public circle in the Meeting Guide format (code4recovery's spec), which
    meeting-list apps and websites (TSML UI) read; CORS is open so that they can."""
    found = await _scheduled(request, public_only=True)
    listed = [s.schedule for s in found if s.schedule is not None]
    body = schedules.meeting_guide(
        [recurrence.schedule_of(r) for r in listed], base_url(request), request.app[keys.SERVICE].clock.now_ms(),
        updated_ms={s.id: s.schedule.updated_at for s in found if s.schedule is not None},
        formatted_address=request.app[keys.CONFIG].schedules.approximate_address)
    return web.Response(text=json.dumps(body, ensure_ascii=False), content_type="application/json",
                        headers={"Access-Control-Allow-Origin": "*", "Cache-Control": "max-age=300"})


async def public_page(request: web.Request) -> web.Response:
    """What the page at ``/#room=<room>`` (the feeds' link) shows someone without a link
    of their own: the circle's name, whether it is open, its next meeting."""
    state = await _public(request, request.match_info["id"])
    assert state.schedule is not None
    view = _view(state, request.app[keys.SERVICE].clock.now_ms())
    return web.json_response({"room": state.id, "title": view["title"], "tz": view["tz"], "open": view["open"],
                              "next": view["next"], "knock": view["open"]})


async def knock(request: web.Request) -> web.Response:
    """Come in by a public circle's door: like a group link that the circle's schedule
    opens and closes. The name is the one the others will see; the newcomer waits in
    the lobby until a facilitator lets them in."""
    if not request.app[REDEEM_LIMITER].allow(request):
        raise CommandError("rate_limited", "too many requests; wait a moment")
    body: KnockBody = await parse_body(request, KnockBody)
    room = request.match_info["id"]
    if not valid_room_id(room):
        raise CommandError("not_found", "no such listed circle")
    name = clean_name(body.name)
    if not name:
        raise CommandError("invalid", "name: choose a name the others will see")
    try:
        await request.app[keys.SERVICE].execute(room, c.SYSTEM, c.Knock())
    except CommandError as e:
        if e.code != "locked":
            raise
        return web.json_response({"error": e.to_wire(), **e.extra}, status=409)
    token, exp = mint(request.app[keys.CONFIG].secret, sub="g-" + secrets.token_hex(8), name=name, role="member",
                      room=room, ttl=GUEST_TOKEN_TTL, guest=True)
    return web.json_response({"room": room, "token": token, "expires_at": exp})


def add_routes(app: web.Application) -> None:
    app.router.add_put("/api/rooms/{id}/schedule", put_schedule)
    app.router.add_get("/api/rooms/{id}/schedule", get_schedule)
    app.router.add_delete("/api/rooms/{id}/schedule", delete_schedule)
    app.router.add_get("/api/schedules", list_schedules)
    app.router.add_get("/calendar/{room}.ics", calendar)
    app.router.add_get("/meetings.json", meetings)
    app.router.add_get("/api/rooms/{id}/public", public_page)
    app.router.add_post("/api/rooms/{id}/knock", knock)
