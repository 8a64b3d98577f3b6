"""The admin API for running the on-call service and reading the audit (issue: the
console's on-call, audit and settings views): who is on duty across every worker, the
rota and who it expects now, pages and answer times, and the audit log with filters.

Thin views: the rules are in ``server/rota.py`` and ``server/oncall_stats.py`` (pure),
who is on duty is the ``keys.DUTY`` roster's to say (``delivery.LocalDelivery`` on one
worker, ``cluster.Presence`` on several), and the audit is the store's.
"""

from __future__ import annotations

import re
from typing import Any, Final

from aiohttp import web

from .. import oncall_stats, rota
from ..core.errors import CommandError
from ..core.model import AuditEntry
from ..store.base import AUDIT_ACTION_PATTERN, AUDIT_ACTIONS_MAX, AUDIT_PAGE_MAX, AuditCursor
from . import keys
from .http import read_json, require_admin

# The stats window's bounds are oncall_stats'; the action filter's are the store's (the
# OpenAPI document describes both from there).
DAY_MS: Final = oncall_stats.DAY_MS
STATS_DEFAULT_MS: Final = oncall_stats.STATS_DEFAULT_MS
STATS_MAX_MS: Final = oncall_stats.STATS_MAX_MS
# Audit entries one stats answer reads at most (a busy on-call room writes ~150 a day).
STATS_ENTRIES_MAX: Final = 100_000
ACTION_RE: Final = re.compile(AUDIT_ACTION_PATTERN)
ACTIONS_MAX: Final = AUDIT_ACTIONS_MAX


def _ms(request: web.Request, name: str) -> int | None:
    raw = request.query.get(name)
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 15):
        raise CommandError("invalid", f"{name} must be milliseconds since the epoch")
    return int(raw)


def _actions(request: web.Request) -> frozenset[str] | None:
    """``action=a,b`` and/or ``action=a&action=b``; None when not given."""
    names = [n.strip() for raw in request.query.getall("action", []) for n in raw.split(",") if n.strip()]
    if not names:
        return None
    if len(names) > ACTIONS_MAX:
        raise CommandError("invalid", f"action may name at most {ACTIONS_MAX} actions")
    for n in names:
        if ACTION_RE.fullmatch(n) is None:
            raise CommandError("invalid", "action must be audit action names such as oncall.page, separated by commas")
    return frozenset(names)


# -- the audit log ---------------------------------------------------------------------------------

async def audit(request: web.Request) -> web.Response:
    """The audit log, oldest first, a page at a time: the newest ``limit`` entries (of
    ``room``, of the ``action``s, at or after ``since``, before ``until``, before the
    cursor ``before``). When older entries remain, ``X-Next-Before`` holds the cursor for
    them and ``Link`` the next page's URL."""
    require_admin(request)
    q = request.query
    room = q.get("room") or None
    since, until = _ms(request, "since"), _ms(request, "until")
    actions = _actions(request)
    limit_raw = q.get("limit") or str(AUDIT_PAGE_MAX)
    if not (limit_raw.isascii() and limit_raw.isdigit() and 1 <= int(limit_raw) <= AUDIT_PAGE_MAX):
        raise CommandError("invalid", f"limit must be a whole number from 1 to {AUDIT_PAGE_MAX}")
    try:
        before = AuditCursor.parse(q["before"]) if q.get("before") else None
    except ValueError:
        raise CommandError("invalid", "before must be a cursor from X-Next-Before (<at>:<id>)") from None
    page = await request.app[keys.STORE].audit_page(room, since, before, int(limit_raw), until=until,
                                                    actions=actions)
    headers = {}
    if page.next is not None:
        headers["X-Next-Before"] = str(page.next)
        headers["Link"] = f'<{request.rel_url.update_query(before=str(page.next))}>; rel="next"'
    return web.json_response([e.to_wire() for e in page.entries], headers=headers)


# -- on duty, and the rota ------------------------------------------------------------------------

async def duty(request: web.Request) -> web.Response:
    """Who is on duty now on any worker, and who the rota expects now (each marked on duty
    or not): the coordinator's "expected, not on duty" is ``on_duty: false`` there."""
    require_admin(request)
    now = request.app[keys.SERVICE].clock.now_ms()
    on_duty = await request.app[keys.DUTY].on_duty()
    shifts = rota.from_stored(await request.app[keys.STORE].rota())
    on = {d.responder for d in on_duty}
    expected: dict[str, dict[str, Any]] = {}
    for e in rota.expected_at(shifts, now):
        seen = expected.get(e.shift.responder)
        if seen is None or e.ends_at > seen["until"]:  # two shifts at once: the one lasting longer
            expected[e.shift.responder] = {"responder": e.shift.responder, "name": e.shift.name, "shift": e.index,
                                           "day": e.day, "start": e.shift.start, "end": e.shift.end, "tz": e.shift.tz,
                                           "until": e.ends_at, "on_duty": e.shift.responder in on}
    return web.json_response({"at": now, "on_duty": [d.to_wire() for d in on_duty],
                              "expected": sorted(expected.values(), key=lambda x: (not x["on_duty"], x["name"]))})


async def get_rota(request: web.Request) -> web.Response:
    require_admin(request)
    shifts = rota.from_stored(await request.app[keys.STORE].rota())
    return web.json_response({"shifts": [s.to_wire() for s in shifts]})


async def put_rota(request: web.Request) -> web.Response:
    """Replace the whole rota (the console sends it all back after an edit)."""
    require_admin(request)
    data = await read_json(request)
    try:
        shifts = rota.parse_rota(data)
    except ValueError as e:
        raise CommandError("invalid", str(e)) from None
    except RecursionError:
        raise CommandError("invalid", "the body is nested too deeply") from None
    await request.app[keys.STORE].save_rota([s.to_wire() for s in shifts])
    return web.json_response({"shifts": [s.to_wire() for s in shifts]})


# -- pages and answer times -----------------------------------------------------------------------

async def stats(request: web.Request) -> web.Response:
    """Pages, escalations, answers and answer times of ``[since, until)`` (default: the
    last 7 days), per day in ``tz`` (default Asia/Kolkata), from the audit log."""
    require_admin(request)
    until = _ms(request, "until") or request.app[keys.SERVICE].clock.now_ms()
    since = _ms(request, "since")
    since = until - STATS_DEFAULT_MS if since is None else since
    if since >= until:
        raise CommandError("invalid", "since must be before until")
    if until - since > STATS_MAX_MS:
        raise CommandError("invalid", f"the window (until - since) must be at most {STATS_MAX_MS // DAY_MS} days")
    tz = request.query.get("tz") or rota.DEFAULT_TZ
    if not rota.known_zone(tz):
        raise CommandError("invalid", f"tz: unknown time zone {tz!r} (an IANA name such as 'Asia/Kolkata')")
    store = request.app[keys.STORE]
    entries: list[AuditEntry] = []
    before: AuditCursor | None = None
    while len(entries) < STATS_ENTRIES_MAX:
        page = await store.audit_page(None, since, before, AUDIT_PAGE_MAX, until=until,
                                      actions=frozenset(oncall_stats.ACTIONS))
        entries += page.entries
        if page.next is None:
            break
        before = page.next
    return web.json_response(oncall_stats.compute(entries, since, until, tz))


# -- attendance (``server/attendance.py``) ---------------------------------------------------------

_DATE_RE: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _date(request: web.Request, name: str) -> str | None:
    raw = request.query.get(name)
    if not raw:
        return None
    if _DATE_RE.fullmatch(raw) is None:
        raise CommandError("invalid", f"{name} must be a date, YYYY-MM-DD")
    return raw


async def room_attendance(request: web.Request) -> web.Response:
    require_admin(request)
    room = request.match_info["id"]
    since, until = _date(request, "since"), _date(request, "until")
    att = request.app[keys.SERVICE].attendance
    if att is None:
        return web.json_response({"room": room, "enabled": False, "retention_days": 0, "meetings": []})
    return web.json_response(await att.room_counts(room, since, until))


async def participant_attendance(request: web.Request) -> web.Response:
    require_admin(request)
    who = request.match_info["participant_id"]
    att = request.app[keys.SERVICE].attendance
    if att is None:
        return web.json_response({"participant_id": who, "meetings": []})
    return web.json_response(await att.of_participant(who))


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/rooms/{id}/attendance", room_attendance)
    app.router.add_get("/api/attendance/{participant_id}", participant_attendance)
    app.router.add_get("/api/audit", audit)
    app.router.add_get("/api/oncall/duty", duty)
    app.router.add_get("/api/oncall/rota", get_rota)
    app.router.add_put("/api/oncall/rota", put_rota)
    app.router.add_get("/api/oncall/stats", stats)
