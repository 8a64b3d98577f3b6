"""aiohttp views (contract §3): health, readiness, metrics, the admin API, the web client."""

from __future__ import annotations

import hmac
import logging
import secrets
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, Final

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, ConfigDict, Field

from ..core import commands as c
from ..core.errors import CommandError
from ..core.model import TITLE_MAX, Role, RoomKind, RoomState
from ..store import StoreUnavailable
from ..tokens import DEFAULT_TTL, MAX_TTL, mint
from . import keys
from .schemas import RoomId, validate

log = logging.getLogger("circles.http")

WEB_DIR: Final = Path(__file__).resolve().parent.parent.parent / "web"

STATUS: Final = {"invalid": 400, "too_large": 413, "unauthorized": 401, "expired": 401, "forbidden": 403,
                 "not_found": 404, "conflict": 409, "unavailable": 503}


def error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message}}, status=status)


@web.middleware
async def json_errors(request: web.Request,
                      handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
    """Every error is JSON ``{"error": {code, message}}``; never a stack trace."""
    try:
        return await handler(request)
    except CommandError as e:
        return error(STATUS.get(e.code, 400), e.code, e.message)
    except StoreUnavailable:
        return error(503, "unavailable", "the store cannot be reached")
    except web.HTTPException as e:
        if e.status < 400:
            raise
        code = {401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "invalid",
                413: "too_large"}.get(e.status, "invalid")
        return error(e.status, code, e.reason or "request refused")
    except Exception:
        log.exception("request failed", extra={"path": request.path, "method": request.method})
        return error(500, "internal", "something went wrong on our side")


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class CreateRoom(Body):
    id: RoomId
    title: Annotated[str, Field(max_length=TITLE_MAX)] = ""
    kind: RoomKind = "circle"
    settings: dict[str, Any] = Field(default_factory=dict)


class PatchRoom(Body):
    settings: dict[str, Any]


class CreateToken(Body):
    name: str
    role: Role
    room: str
    sub: str | None = None
    ttl: Annotated[int, Field(ge=1, le=MAX_TTL)] = DEFAULT_TTL


async def parse_body(request: web.Request, model: type[Body]) -> Any:
    try:
        data = await request.json()
    except ValueError:
        raise CommandError("invalid", "the body must be JSON") from None
    except RecursionError:  # [[[[...]]]] deeper than the parser's stack
        raise CommandError("invalid", "the body is nested too deeply") from None
    try:
        return validate(model, data, "body")
    except RecursionError:
        raise CommandError("invalid", "the body is nested too deeply") from None


def _bearer_is(request: web.Request, key: str) -> bool:
    given = request.headers.get("Authorization", "")
    return given.startswith("Bearer ") and hmac.compare_digest(given[7:].encode(), key.encode())


def require_admin(request: web.Request) -> None:
    key = request.app[keys.CONFIG].admin_key
    if not key:
        raise CommandError("unauthorized", "the admin API is off: set CIRCLES_ADMIN_KEY")
    if not _bearer_is(request, key):
        raise CommandError("unauthorized", "a valid admin key is required")


def summary(state: RoomState, with_settings: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {"id": state.id, "title": state.title, "kind": state.kind,
                           "participants": len(state.participants), "active": state.connected_count() > 0}
    if with_settings:
        out.update(settings=state.settings.to_wire(), seq=state.seq, queue=list(state.queue),
                   floor=state.floor.to_wire() if state.floor else None, lobby=len(state.lobby))
    return out


# -- public ------------------------------------------------------------------------------------

async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def help_lines(request: web.Request) -> web.Response:
    """The helplines and the emergency number, for a page that has no working link (a
    bad or expired one) but must still offer help."""
    support = request.app[keys.SERVICE].crisis
    return web.json_response({"helplines": [h.to_wire() for h in support.helplines],
                              "emergency": support.emergency.to_wire()})


async def readyz(request: web.Request) -> web.Response:
    try:
        await request.app[keys.STORE].ping()
    except StoreUnavailable:
        return web.json_response({"status": "unavailable", "store": "unreachable"}, status=503)
    return web.json_response({"status": "ready"})


async def metrics(request: web.Request) -> web.Response:
    key = request.app[keys.CONFIG].metrics_key
    if key is not None and not _bearer_is(request, key):
        raise CommandError("unauthorized", "a valid metrics key is required")
    m = request.app[keys.METRICS]
    await m.refresh_state()
    return web.Response(body=generate_latest(m.registry), headers={"Content-Type": CONTENT_TYPE_LATEST})


async def index(request: web.Request) -> web.StreamResponse:
    page = WEB_DIR / "index.html"
    if not page.exists():
        return web.Response(text="Circles is running. The web client is not installed.", content_type="text/plain")
    resp = web.FileResponse(page)
    resp.headers["Cache-Control"] = "no-cache"
    return resp


# -- admin ------------------------------------------------------------------------------------

async def create_room(request: web.Request) -> web.Response:
    require_admin(request)
    body: CreateRoom = await parse_body(request, CreateRoom)
    state = await request.app[keys.SERVICE].create_room(body.id, body.kind, body.title, body.settings)
    return web.json_response(summary(state, True), status=201)


async def list_rooms(request: web.Request) -> web.Response:
    require_admin(request)
    store = request.app[keys.STORE]
    out = []
    for rid in sorted(await store.room_ids()):
        state = await store.load(rid)
        if state is not None and not state.ended:
            out.append(summary(state))
    return web.json_response(out)


async def get_room(request: web.Request) -> web.Response:
    require_admin(request)
    state = await request.app[keys.SERVICE].load(request.match_info["id"])
    return web.json_response(summary(state, True))


async def patch_room(request: web.Request) -> web.Response:
    require_admin(request)
    body: PatchRoom = await parse_body(request, PatchRoom)
    service = request.app[keys.SERVICE]
    outcome = await service.execute(request.match_info["id"], c.SYSTEM, c.ChangeSettings(dict(body.settings)))
    return web.json_response(summary(outcome.state, True))


async def delete_room(request: web.Request) -> web.Response:
    require_admin(request)
    await request.app[keys.SERVICE].execute(request.match_info["id"], c.SYSTEM, c.EndRoom())
    return web.Response(status=204)


async def create_token(request: web.Request) -> web.Response:
    require_admin(request)
    body: CreateToken = await parse_body(request, CreateToken)
    token, exp = mint(request.app[keys.CONFIG].secret, sub=body.sub or "p-" + secrets.token_hex(8),
                      name=body.name, role=body.role, room=body.room, ttl=body.ttl)
    return web.json_response({"token": token, "expires_at": exp}, status=201)


async def audit(request: web.Request) -> web.Response:
    """The audit log, oldest first, a page at a time: the newest ``limit`` entries (of
    ``room``, at or after ``since``, before the cursor ``before``). When older entries
    remain, ``X-Next-Before`` holds the cursor for them and ``Link`` the next page's URL."""
    from ..store.base import AUDIT_PAGE_MAX, AuditCursor

    require_admin(request)
    q = request.query
    room = q.get("room") or None
    since_raw = q.get("since")
    try:
        since = int(since_raw) if since_raw else None
    except ValueError:
        raise CommandError("invalid", "since must be milliseconds since the epoch") from None
    limit_raw = q.get("limit") or str(AUDIT_PAGE_MAX)
    if not (limit_raw.isascii() and limit_raw.isdigit() and 1 <= int(limit_raw) <= AUDIT_PAGE_MAX):
        raise CommandError("invalid", f"limit must be a whole number from 1 to {AUDIT_PAGE_MAX}")
    limit = int(limit_raw)
    try:
        before = AuditCursor.parse(q["before"]) if q.get("before") else None
    except ValueError:
        raise CommandError("invalid", "before must be a cursor from X-Next-Before (<at>:<id>)") from None
    page = await request.app[keys.STORE].audit_page(room, since, before, limit)
    headers = {}
    if page.next is not None:
        headers["X-Next-Before"] = str(page.next)
        headers["Link"] = f'<{request.rel_url.update_query(before=str(page.next))}>; rel="next"'
    return web.json_response([e.to_wire() for e in page.entries], headers=headers)


async def oncall_waiting(request: web.Request) -> web.Response:
    require_admin(request)
    return web.json_response(await request.app[keys.SERVICE].waiting())


def add_routes(app: web.Application) -> None:
    app.router.add_get("/", index)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/api/help", help_lines)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    app.router.add_post("/api/rooms", create_room)
    app.router.add_get("/api/rooms", list_rooms)
    app.router.add_get("/api/rooms/{id}", get_room)
    app.router.add_patch("/api/rooms/{id}", patch_room)
    app.router.add_delete("/api/rooms/{id}", delete_room)
    app.router.add_post("/api/tokens", create_token)
    app.router.add_get("/api/audit", audit)
    app.router.add_get("/api/oncall", oncall_waiting)
    if WEB_DIR.is_dir():
        app.router.add_static("/web/", WEB_DIR, show_index=False, follow_symlinks=False)
