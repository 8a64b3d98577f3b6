"""Meeting formats over HTTP: the templates a centre may use, and a circle's format.

The rules live in ``core.format``; a format is read by ``server.formats``; these handlers
only translate. Running a meeting (start, next part, end) is the socket's: the chair does
it from the room.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from .. import formats
from ..core import commands as c
from ..core import format as meeting
from ..core.errors import CommandError
from ..core.model import Format
from . import keys
from .http import read_json, require_admin


def _templates(request: web.Request) -> dict[str, Format]:
    return {f.id: f for f in request.app[keys.CONFIG].formats}


def _summary(fmt: Format) -> dict[str, Any]:
    return {"id": fmt.id, "name": fmt.name.to_wire(), "segments": len(fmt.segments), "minutes": fmt.minutes}


async def list_templates(request: web.Request) -> web.Response:
    require_admin(request)
    return web.json_response([_summary(f) for f in _templates(request).values()])


async def get_template(request: web.Request) -> web.Response:
    require_admin(request)
    fmt = _templates(request).get(request.match_info["id"])
    if fmt is None:
        raise CommandError("not_found", "no such format template")
    return web.json_response({**fmt.to_wire(), "minutes": fmt.minutes})


async def _format_body(request: web.Request) -> Format:
    """``{template: "<id>"}`` or ``{format: {...}}``, exactly one."""
    data = await read_json(request)
    if not isinstance(data, dict):
        raise CommandError("invalid", 'the body must be a JSON object: {"template": id} or {"format": {...}}')
    unknown = sorted(set(data) - {"template", "format"})
    if unknown:
        raise CommandError("invalid", f"body: unknown key(s) {', '.join(unknown)}")
    if ("template" in data) == ("format" in data):
        raise CommandError("invalid", 'body: give either "template" or "format"')
    if "template" in data:
        name = data["template"]
        if not isinstance(name, str):
            raise CommandError("invalid", "template: must be a template id (GET /api/formats lists them)")
        fmt = _templates(request).get(name)
        if fmt is None:
            raise CommandError("invalid", f"template: no template {name!r} (GET /api/formats lists them)")
        return fmt
    try:
        return formats.parse(data["format"])
    except ValueError as e:
        raise CommandError("invalid", str(e)) from None
    except RecursionError:
        raise CommandError("invalid", "the body is nested too deeply") from None


async def put_format(request: web.Request) -> web.Response:
    require_admin(request)
    fmt = await _format_body(request)
    room = request.match_info["id"]
    outcome = await request.app[keys.SERVICE].execute(room, c.SYSTEM, c.FormatSet(fmt))
    return web.json_response({"room": room, **outcome.reply["format"]})


async def get_format(request: web.Request) -> web.Response:
    require_admin(request)
    state = await request.app[keys.SERVICE].load(request.match_info["id"])
    if state.format is None:
        raise CommandError("not_found", "this circle has no meeting format")
    return web.json_response({"room": state.id, **meeting.view(state.format)})


async def delete_format(request: web.Request) -> web.Response:
    require_admin(request)
    await request.app[keys.SERVICE].execute(request.match_info["id"], c.SYSTEM, c.FormatClear())
    return web.Response(status=204)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/formats", list_templates)
    app.router.add_get("/api/formats/{id}", get_template)
    app.router.add_put("/api/rooms/{id}/format", put_format)
    app.router.add_get("/api/rooms/{id}/format", get_format)
    app.router.add_delete("/api/rooms/{id}/format", delete_format)
