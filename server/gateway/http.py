"""aiohttp views (contract §3): health, readiness, metrics, the admin API, the web client."""

from __future__ import annotations

import hashlib
import hmac
import importlib.util
import logging
import secrets
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, Final

import segno
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, ConfigDict, Field

from ..core import commands as c
from ..core.errors import CommandError
from ..core.model import NAME_MAX, TITLE_MAX, Role, RoomKind, RoomState, clean_name, valid_room_id
from ..store import StoreUnavailable
from ..tokens import DEFAULT_TTL, MAX_TTL, mint
from . import keys
from .limits import Networks, TokenBucket, client_address, trusted_networks
from .openapi import openapi_json
from .schemas import RoomId, validate

log = logging.getLogger("circles.http")



def web_dir() -> Path | None:
    """Where the web client is: the installed package ``circles_web`` (pyproject maps it to
    web/, so an editable install finds the repository's copy), else web/ beside the source
    tree (run from a checkout without installing)."""
    spec = importlib.util.find_spec("circles_web")
    for location in (spec.submodule_search_locations or []) if spec is not None else []:
        if (Path(location) / "index.html").is_file():
            return Path(location)
    beside = Path(__file__).resolve().parents[2] / "web"
    return beside if (beside / "index.html").is_file() else None


WEB_DIR: Final = web_dir()

# A group link lasts a week unless asked otherwise, a month at most; the token it gives
# lasts long enough to be let in (the session credential then carries the meeting).
INVITE_DEFAULT_S: Final = 7 * 86_400
INVITE_MAX_S: Final = 30 * 86_400
GUEST_TOKEN_TTL: Final = 4 * 3600
# Asking to come in by a group link, per address: a room's worth at once (a centre's
# members may share its wifi and so one address), then one a second.
REDEEM_BURST: Final = 20
REDEEM_PER_S: Final = 1.0
REDEEM_ADDRESSES_KEPT: Final = 10_000

STATUS: Final = {"invalid": 400, "too_large": 413, "unauthorized": 401, "expired": 401, "forbidden": 403,
                 "not_found": 404, "conflict": 409, "full": 409, "locked": 409, "rate_limited": 429, "unavailable": 503}


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


class CreateInvite(Body):
    expires_in_s: Annotated[int, Field(ge=60, le=INVITE_MAX_S)] = INVITE_DEFAULT_S
    max_uses: Annotated[int, Field(ge=1, le=10_000)] | None = None


class QrRequest(Body):
    text: Annotated[str, Field(min_length=1, max_length=1000)]


class RedeemInvite(Body):
    code: Annotated[str, Field(max_length=200)]
    name: Annotated[str, Field(min_length=1, max_length=NAME_MAX)]


async def read_json(request: web.Request) -> Any:
    """The request's JSON body, or ``invalid`` saying why not."""
    try:
        return await request.json()
    except ValueError:
        raise CommandError("invalid", "the body must be JSON") from None
    except RecursionError:  # [[[[...]]]] deeper than the parser's stack
        raise CommandError("invalid", "the body is nested too deeply") from None


async def parse_body(request: web.Request, model: type[Body]) -> Any:
    data = await read_json(request)
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
    if request.app[keys.GATEWAY].draining:
        # A load balancer stops sending people here; those already here are being moved.
        return web.json_response({"status": "draining"}, status=503)
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


def _page(name: str) -> web.StreamResponse:
    if WEB_DIR is None:
        return web.Response(text="Circles is running. The web client is not installed.", content_type="text/plain")
    resp = web.FileResponse(WEB_DIR / name)
    resp.headers["Cache-Control"] = "no-cache"
    return resp


async def index(request: web.Request) -> web.StreamResponse:
    return _page("index.html")


async def console(request: web.Request) -> web.StreamResponse:
    """The staff console (it signs in with the admin key, held in the tab's memory)."""
    return _page("console.html")


async def qr_code(request: web.Request) -> web.Response:
    """A QR code (SVG, as a data: URI) of ``text``: the console shows group links this way."""
    require_admin(request)
    body: QrRequest = await parse_body(request, QrRequest)
    return web.json_response({"svg": segno.make(body.text, error="m").svg_data_uri(scale=6, border=2)})


# -- group links ----------------------------------------------------------------------------------

def _code_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


async def create_invite(request: web.Request) -> web.Response:
    """A group link to a room. Its secret is in the answer only: the server keeps its hash."""
    require_admin(request)
    body: CreateInvite = await parse_body(request, CreateInvite)
    room = request.match_info["id"]
    service = request.app[keys.SERVICE]
    secret = secrets.token_urlsafe(18)
    command = c.InviteCreate(id=secrets.token_hex(4), code_hash=_code_hash(secret),
                             expires_at=service.clock.now_ms() + body.expires_in_s * 1000, max_uses=body.max_uses)
    outcome = await service.execute(room, c.SYSTEM, command)
    code = f"{room}.{secret}"
    return web.json_response({**outcome.reply["invite"], "code": code, "path": f"/#invite={code}"}, status=201)


async def list_invites(request: web.Request) -> web.Response:
    require_admin(request)
    state = await request.app[keys.SERVICE].load(request.match_info["id"])
    return web.json_response([i.to_wire() for i in state.invites.values()])


async def revoke_invite(request: web.Request) -> web.Response:
    require_admin(request)
    await request.app[keys.SERVICE].execute(request.match_info["id"], c.SYSTEM,
                                            c.InviteRevoke(request.match_info["invite"]))
    return web.Response(status=204)


class RedeemLimiter:
    """Per address, ``REDEEM_BURST`` redeems at once, then ``REDEEM_PER_S``: the endpoint
    is open to anyone, and one address must not keep the server loading rooms."""

    def __init__(self, trusted: Networks) -> None:
        self.trusted = trusted
        self._buckets: OrderedDict[str, TokenBucket] = OrderedDict()

    def allow(self, request: web.Request) -> bool:
        address = client_address(request, self.trusted)
        now = time.monotonic()
        bucket = self._buckets.pop(address, None) or TokenBucket(REDEEM_BURST, REDEEM_PER_S, now)
        self._buckets[address] = bucket
        while len(self._buckets) > REDEEM_ADDRESSES_KEPT:
            self._buckets.popitem(last=False)
        return bucket.take(now)


REDEEM_LIMITER: Final = web.AppKey("redeem_limiter", RedeemLimiter)


async def redeem_invite(request: web.Request) -> web.Response:
    """Someone with a group link asks to come in under a name of their choosing: they get
    a member's link of their own for that room, and wait in its lobby (contract addition)."""
    if not request.app[REDEEM_LIMITER].allow(request):
        raise CommandError("rate_limited", "too many requests; wait a moment")
    body: RedeemInvite = await parse_body(request, RedeemInvite)
    room, _, secret = body.code.partition(".")
    if not valid_room_id(room) or not secret:
        raise CommandError("not_found", "this link does not work (any more)")
    name = clean_name(body.name)
    await request.app[keys.SERVICE].execute(room, c.SYSTEM, c.InviteRedeem(_code_hash(secret)))
    token, exp = mint(request.app[keys.CONFIG].secret, sub="g-" + secrets.token_hex(8), name=name, role="member",
                      room=room, ttl=GUEST_TOKEN_TTL, guest=True)
    return web.json_response({"room": room, "token": token, "expires_at": exp})


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


async def oncall_waiting(request: web.Request) -> web.Response:
    require_admin(request)
    return web.json_response(await request.app[keys.SERVICE].waiting())


def add_routes(app: web.Application) -> None:
    app.router.add_get("/", index)
    app.router.add_get("/staff", console)
    app.router.add_post("/api/qr", qr_code)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/api/help", help_lines)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/api/openapi.json", openapi_json)
    app.router.add_post("/api/rooms", create_room)
    app.router.add_get("/api/rooms", list_rooms)
    app.router.add_get("/api/rooms/{id}", get_room)
    app.router.add_patch("/api/rooms/{id}", patch_room)
    app.router.add_delete("/api/rooms/{id}", delete_room)
    app.router.add_post("/api/tokens", create_token)
    from . import admin_ops  # built on this module's helpers: the audit, the rota, duty, on-call stats
    admin_ops.add_routes(app)
    app.router.add_get("/api/oncall", oncall_waiting)
    app.router.add_post("/api/rooms/{id}/invites", create_invite)
    app.router.add_get("/api/rooms/{id}/invites", list_invites)
    app.router.add_delete("/api/rooms/{id}/invites/{invite}", revoke_invite)
    app.router.add_post("/api/invites/redeem", redeem_invite)
    app[REDEEM_LIMITER] = RedeemLimiter(trusted_networks(app[keys.CONFIG].trusted_proxies))
    if WEB_DIR is not None:
        app.router.add_static("/web/", WEB_DIR, show_index=False, follow_symlinks=False)
