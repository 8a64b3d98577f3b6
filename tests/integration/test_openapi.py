"""The OpenAPI document of the HTTP API (``GET /api/openapi.json``) against the server itself.

The document must be valid OpenAPI 3.1; every route of the app must be in it and every
operation in it must be a route; and a running server's answers (on both stores) must
each have a status the document gives for that operation, a documented content type and
a body (and paging headers) valid under the documented schema (JSON Schema 2020-12, the
``#/components/schemas`` references resolved in the document), and a request that
succeeded must have sent only documented query parameters, each valid. Each case below
is one call of ``Api``, which does all of that.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest
from aiohttp import web
from jsonschema import Draft202012Validator
from multidict import MultiDict
from openapi_spec_validator import OpenAPIV31SpecValidator
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from server import __version__, formats, rota
from server.app import create_app
from server.config import Config
from server.core.model import Settings
from server.gateway import openapi
from tests.integration.conftest import MakeServer, Running
from tests.support import ADMIN_KEY, SECRET

DOC_URI = "urn:circles:openapi"
METHODS = frozenset({"get", "put", "post", "delete", "patch", "options", "head", "trace"})
# Pages and files, not the API; and the Socket.IO transport (docs/protocol.md §4), which
# python-socketio attaches beside add_routes.
NOT_API = ("/", "/staff", "/socket.io/")
# The schedules (docs/schedules.md): exercised by their own test below.
SCHEDULE_OPS = frozenset({
    ("PUT", "/api/rooms/{}/schedule"), ("GET", "/api/rooms/{}/schedule"), ("DELETE", "/api/rooms/{}/schedule"),
    ("GET", "/api/schedules"), ("GET", "/calendar/{}.ics"), ("GET", "/meetings.json"),
    ("GET", "/api/rooms/{}/public"), ("POST", "/api/rooms/{}/knock"),
})
ROOM = "tuesday-circle"
NOTHING: Any = object()


def shape(path: str) -> str:
    """A path with its parameters unnamed: aiohttp's and the document's names may differ."""
    return re.sub(r"\{[^}]*\}", "{}", path)


def registered(app: web.Application) -> set[tuple[str, str]]:
    out = set()
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource is not None else {}
        if route.method == "HEAD" or "directory" in info:  # HEAD twins of GETs; static files (/web/)
            continue
        path = route.resource.canonical if route.resource is not None else ""
        if path not in NOT_API:
            out.add((route.method, shape(path)))
    return out


def documented(doc: Mapping[str, Any]) -> set[tuple[str, str]]:
    return {(m.upper(), shape(p)) for p, item in doc["paths"].items() for m in item if m in METHODS}


def pointer(*parts: str) -> str:
    return "".join("/" + p.replace("~", "~0").replace("/", "~1") for p in parts)


@dataclass
class Answer:
    status: int
    body: Any
    headers: Mapping[str, str]


class Api:
    """Calls the running server and checks each answer against the document."""

    def __init__(self, url: str, doc: Mapping[str, Any]) -> None:
        self.url = url
        self.doc = doc
        self.registry: Registry[Any] = Registry().with_resource(DOC_URI, DRAFT202012.create_resource(doc))
        self.succeeded: set[tuple[str, str]] = set()

    def check(self, where: str, value: Any, at: str) -> None:
        """``value`` is valid under the schema at JSON pointer ``at`` of the document."""
        validator = Draft202012Validator({"$ref": f"{DOC_URI}#{quote(at, safe='/~')}"}, registry=self.registry,
                                         format_checker=Draft202012Validator.FORMAT_CHECKER)
        errors = sorted(validator.iter_errors(value), key=lambda e: list(e.absolute_path))
        assert not errors, f"{where}: {errors[0].message} at {list(errors[0].absolute_path)} (of {len(errors)})"

    def verify(self, method: str, template: str, status: int, content_type: str, raw: bytes,
               headers: Mapping[str, str], request_body: Any = NOTHING) -> Any:
        """The answer's status is documented for the operation, its content type too, and
        its body and documented headers are valid; a request that succeeded was valid."""
        where = f"{method} {template} -> {status}"
        operation = self.doc["paths"].get(template, {}).get(method.lower())
        assert operation is not None, f"{method} {template} is not documented"
        responses = operation["responses"]
        assert str(status) in responses, f"{where}: not a documented status ({', '.join(responses)}): {raw[:300]!r}"
        at = pointer("paths", template, method.lower(), "responses", str(status))
        response = responses[str(status)]
        for name in response.get("headers", {}):
            if name in headers:
                self.check(f"{where}, header {name}", headers[name], at + pointer("headers", name, "schema"))
        if 200 <= status < 300 and request_body is not NOTHING:
            self.check(f"{where}, the request body", request_body,
                       pointer("paths", template, method.lower(), "requestBody", "content", "application/json",
                               "schema"))
        if "content" not in response:
            assert raw == b"", f"{where}: a body where none is documented: {raw[:300]!r}"
            return None
        assert content_type in response["content"], f"{where}: {content_type} is not documented"
        body = json.loads(raw) if content_type == "application/json" else raw.decode()
        self.check(where, body, at + pointer("content", content_type, "schema"))
        return body

    def check_query(self, method: str, template: str, query: Mapping[str, str]) -> None:
        """Every query parameter (each value of a repeated one) is documented for the
        operation and valid under its schema (digits read as a number for an integer)."""
        operation = self.doc["paths"][template][method.lower()]
        where = {p["name"]: i for i, p in enumerate(operation.get("parameters", [])) if p["in"] == "query"}
        sent: dict[str, list[str]] = {}
        for name, value in query.items():
            sent.setdefault(name, []).append(value)
        for name, values in sent.items():
            assert name in where, f"{method} {template}: the query parameter {name!r} is not documented"
            schema = operation["parameters"][where[name]]["schema"]
            if schema.get("type") != "array":
                assert len(values) == 1, f"{method} {template}: {name} repeated, and it is no array"
            value: Any = values if schema.get("type") == "array" else values[0]
            if schema.get("type") == "integer" and value.isdigit():
                value = int(value)
            self.check(f"{method} {template}, query {name}", value,
                       pointer("paths", template, method.lower(), "parameters", str(where[name]), "schema"))

    async def __call__(self, method: str, template: str, expect: int | Collection[int], *, body: Any = NOTHING,
                       data: bytes | None = None, query: Mapping[str, str] | None = None, admin: bool = True,
                       key: str | None = None, **params: str) -> Answer:
        path = template.format(**params)
        headers = {"Authorization": f"Bearer {key or ADMIN_KEY}"} if admin or key else {}
        if data is not None:
            headers["Content-Type"] = "application/json"
        async with aiohttp.ClientSession() as http, http.request(
                method, self.url + path, params=query, headers=headers,
                json=None if body is NOTHING else body, data=data) as r:
            raw, status, content_type, got = await r.read(), r.status, r.content_type, dict(r.headers)
        parsed = self.verify(method, template, status, content_type, raw, got, request_body=body)
        wanted = {expect} if isinstance(expect, int) else set(expect)
        assert status in wanted, f"{method} {path}: {status}, not {sorted(wanted)}: {raw[:300]!r}"
        if 200 <= status < 300:
            self.check_query(method, template, query or {})
            self.succeeded.add((method, shape(template)))
        return Answer(status, parsed, got)


async def fetch_document(srv: Running) -> dict[str, Any]:
    async with aiohttp.ClientSession() as http, http.get(srv.url + "/api/openapi.json") as r:
        assert r.status == 200 and r.content_type == "application/json"
        return await r.json()  # type: ignore[no-any-return]


async def api_for(srv: Running) -> Api:
    api = Api(srv.url, await fetch_document(srv))
    await api("GET", "/api/openapi.json", 200, admin=False)  # it answers as it says it does
    return api


def test_the_document_is_valid_openapi_3_1() -> None:
    doc = openapi.document()
    assert doc["openapi"].startswith("3.1.") and doc["info"]["version"] == __version__
    OpenAPIV31SpecValidator(doc).validate()
    # The validator is awake: a path parameter left undeclared, a schema that is no JSON
    # Schema, a response under no status fail.
    broken = copy.deepcopy(doc)
    del broken["paths"]["/api/rooms/{id}"]["get"]["parameters"]
    with pytest.raises(OpenAPIValidationError):
        OpenAPIV31SpecValidator(broken).validate()
    broken = copy.deepcopy(doc)
    broken["components"]["schemas"]["RoomSummary"]["required"] = "id"
    with pytest.raises(OpenAPIValidationError):
        OpenAPIV31SpecValidator(broken).validate()
    broken = copy.deepcopy(doc)
    broken["paths"]["/healthz"]["get"]["responses"]["2xx"] = {"description": "no such status"}
    with pytest.raises(OpenAPIValidationError):
        OpenAPIV31SpecValidator(broken).validate()


def test_request_bodies_are_the_admin_apis_own_models() -> None:
    from server.gateway import http

    schemas = openapi.document()["components"]["schemas"]
    for name in ("CreateToken", "CreateInvite", "QrRequest", "RedeemInvite"):
        assert schemas[name] == getattr(http, name).model_json_schema(ref_template="#/components/schemas/{model}")
    # The rota's and a format's models, with the models they hold.
    for name, model in (("RotaIn", rota.RotaIn), ("FormatIn", formats.FormatIn)):
        own = model.model_json_schema(ref_template="#/components/schemas/{model}")
        held = own.pop("$defs")
        assert held and all(schemas[k] == v for k, v in held.items())
        assert schemas[name] == own
    assert schemas["FormatChoice"]["oneOf"][1]["properties"]["format"] == {"$ref": "#/components/schemas/FormatIn"}
    paths = openapi.document()["paths"]
    assert paths["/api/oncall/rota"]["put"]["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/RotaIn"}
    # The free-form settings of CreateRoom and PatchRoom are the settings, by the core's own list.
    assert set(schemas["SettingsChange"]["properties"]) == set(Settings().to_wire())
    assert schemas["PatchRoom"]["properties"]["settings"]["$ref"] == "#/components/schemas/SettingsChange"


def test_every_route_is_documented() -> None:
    app = create_app(Config(secret=SECRET, admin_key=ADMIN_KEY))
    routes, doc = registered(app), documented(openapi.document())
    assert ("GET", "/api/rooms/{}") in routes and ("GET", "/api/openapi.json") in routes  # the walk finds them
    assert routes - doc == set(), f"routes missing from the document: {sorted(routes - doc)}"


def test_every_documented_operation_is_a_route() -> None:
    app = create_app(Config(secret=SECRET, admin_key=ADMIN_KEY))
    missing = documented(openapi.document()) - registered(app)
    assert missing == set(), f"documented but not routes: {sorted(missing)}"


async def test_the_checker_refuses_what_the_document_does_not_say(server: Running) -> None:
    api = await api_for(server)
    room = {"id": ROOM, "title": ROOM, "kind": "circle", "participants": 0, "active": False}
    at = pointer("paths", "/api/rooms", "get", "responses", "200", "content", "application/json", "schema")
    api.check("a good list", [room], at)
    for wrong in ([{**room, "participants": "0"}], [{**room, "secret": 1}], [{k: room[k] for k in list(room)[1:]}],
                  {"rooms": [room]}):
        with pytest.raises(AssertionError):
            api.check("a wrong list", wrong, at)
    error_at = pointer("paths", "/api/rooms", "get", "responses", "401", "content", "application/json", "schema")
    api.check("an error", {"error": {"code": "unauthorized", "message": "no"}}, error_at)
    with pytest.raises(AssertionError):
        api.check("an error without a message", {"error": {"code": "unauthorized"}}, error_at)
    with pytest.raises(AssertionError, match="not a documented status"):
        api.verify("GET", "/healthz", 418, "application/json", b"{}", {})
    with pytest.raises(AssertionError, match="is not documented"):
        api.verify("GET", "/api/nowhere", 200, "application/json", b"{}", {})
    with pytest.raises(AssertionError, match="text/html is not documented"):
        api.verify("GET", "/healthz", 200, "text/html", b"<p>ok", {})
    with pytest.raises(AssertionError, match="header X-Next-Before"):
        api.verify("GET", "/api/audit", 200, "application/json", b"[]", {"X-Next-Before": "soon"})
    # A reading has its text; no other part has.
    part = {"kind": "topic", "title": {"en": "Topic"}, "minutes": 5, "share_seconds": None}
    api.check("a topic", part, pointer("components", "schemas", "Segment"))
    for wrong in ({**part, "text": {"en": "Words"}}, {**part, "kind": "reading"}):
        with pytest.raises(AssertionError):
            api.check("a part with a text where none belongs, or none where one does", wrong,
                      pointer("components", "schemas", "Segment"))
    # Query parameters: documented ones only, each value valid, repeated only as an array.
    api.check_query("GET", "/api/audit", MultiDict([("action", "mute"), ("action", "oncall.page,ban"),
                                                    ("since", "0")]))
    with pytest.raises(AssertionError, match="the query parameter 'colour' is not documented"):
        api.check_query("GET", "/api/audit", {"colour": "blue"})
    with pytest.raises(AssertionError, match="query action"):
        api.check_query("GET", "/api/audit", {"action": "DROP TABLE"})
    with pytest.raises(AssertionError, match="query since"):
        api.check_query("GET", "/api/audit", {"since": "-5"})
    with pytest.raises(AssertionError, match="since repeated"):
        api.check_query("GET", "/api/audit", MultiDict([("since", "1"), ("since", "2")]))


async def test_every_operation_answers_as_documented(server: Running, make_server: MakeServer) -> None:
    api = await api_for(server)
    # Health, metrics, help.
    await api("GET", "/healthz", 200, admin=False)
    await api("GET", "/readyz", 200, admin=False)
    await api("GET", "/metrics", 200, admin=False)
    await api("GET", "/api/help", 200, admin=False)
    # Rooms.
    created = await api("POST", "/api/rooms", 201, body={"id": ROOM, "title": "Tuesday circle",
                                                          "settings": {"share_seconds": 120, "lobby": True}})
    assert created.body["id"] == ROOM and created.body["settings"]["share_seconds"] == 120
    await api("POST", "/api/rooms", 409, body={"id": ROOM})
    await api("POST", "/api/rooms", 401, body={"id": "other"}, admin=False)
    await api("POST", "/api/rooms", 401, body={"id": "other"}, key="not-the-admin-key-" * 3)
    await api("POST", "/api/rooms", 400, body={"id": "Not An Id"})
    await api("POST", "/api/rooms", 400, body={"id": "other", "colour": "blue"})
    await api("POST", "/api/rooms", 400, data=b"{not json")
    await api("POST", "/api/rooms", 413, body={"id": "other", "title": "x" * 70_000})
    await api("POST", "/api/rooms", 201, body={"id": "oncall", "kind": "oncall"})
    listed = await api("GET", "/api/rooms", 200)
    assert [r["id"] for r in listed.body] == ["oncall", ROOM]
    await api("GET", "/api/rooms", 401, admin=False)
    await api("GET", "/api/rooms/{id}", 200, id=ROOM)
    await api("GET", "/api/rooms/{id}", 404, id="no-such-room")
    patched = await api("PATCH", "/api/rooms/{id}", 200, id=ROOM, body={"settings": {"share_seconds": None,
                                                                                  "chat": "facilitators"}})
    assert patched.body["settings"]["share_seconds"] is None and patched.body["settings"]["chat"] == "facilitators"
    await api("PATCH", "/api/rooms/{id}", 409, id=ROOM, body={"settings": {"mode": "round"}})  # nobody is here
    await api("PATCH", "/api/rooms/{id}", 400, id=ROOM, body={"settings": {"mode": "shouting"}})
    await api("PATCH", "/api/rooms/{id}", 400, id=ROOM, body={"settings": {"volume": 11}})
    await api("PATCH", "/api/rooms/{id}", 404, id="no-such-room", body={"settings": {}})
    # People in rooms: someone waits in the on-call room, and the room shows its people.
    meera = await server.client(ROOM, "facilitator", "Meera")
    await server.client("oncall", "member", "Ravi")
    detail = await api("GET", "/api/rooms/{id}", 200, id=ROOM)
    assert detail.body["participants"] == 1 and detail.body["active"] is True
    waiting = await api("GET", "/api/oncall", 200)
    assert [w["participant"] for w in waiting.body] == ["Ravi"]
    # The on-call service: Dev answers Ravi after 5 s and goes on duty; the rota expects
    # him and Gita now (all week, all day).
    await server.clock.advance(5_000)
    dev = await server.client("oncall", "responder", "Dev", sub="dev")
    assert (await dev.call("oncall.duty", {"on": True}))["ok"]
    assert (await api("GET", "/api/oncall/rota", 200)).body == {"shifts": []}
    all_day = {"start": "00:00", "end": "00:00"}
    shifts = [{"responder": "dev", "name": "Dev", "days": [1, 2, 3, 4, 5, 6, 7], **all_day},
              {"responder": "gita", "name": "Gita", "days": [7, 6, 5, 4, 3, 2, 1], "tz": "UTC", **all_day}]
    saved = await api("PUT", "/api/oncall/rota", 200, body={"shifts": shifts})
    assert saved.body["shifts"][0]["tz"] == "Asia/Kolkata" and saved.body["shifts"][1]["days"] == [1, 2, 3, 4, 5, 6, 7]
    bad = await api("PUT", "/api/oncall/rota", 400, body={"shifts": [{**shifts[0], "start": "25:00"}]})
    assert bad.body["error"]["message"].startswith("shifts[0].start: must be a time HH:MM")
    bad = await api("PUT", "/api/oncall/rota", 400, body={"shifts": [{**shifts[1], "colour": "blue"}]})
    assert bad.body["error"]["message"].startswith("shifts[0].colour:")
    await api("PUT", "/api/oncall/rota", 400, data=b"{not json")
    await api("PUT", "/api/oncall/rota", 401, body={"shifts": []}, admin=False)
    assert (await api("GET", "/api/oncall/rota", 200)).body == saved.body
    await api("GET", "/api/oncall/rota", 401, admin=False)
    duty = await api("GET", "/api/oncall/duty", 200)
    assert duty.body["on_duty"] == [{"responder": "dev", "name": "Dev", "since": server.clock.now_ms()}]
    assert [(e["responder"], e["shift"], e["on_duty"]) for e in duty.body["expected"]] == [
        ("dev", 0, True), ("gita", 1, False)]
    await api("GET", "/api/oncall/duty", 401, admin=False)
    # Ravi's page and its answer, counted: the last 7 days, or a window of one's own.
    await server.clock.advance(1_000)  # [since, until): now's own entries are not in "up to now"
    stats = await api("GET", "/api/oncall/stats", 200)
    assert (stats.body["pages"], stats.body["answered"], stats.body["median_answer_ms"]) == (1, 1, 5_000)
    assert len(stats.body["days"]) == 8
    day = await api("GET", "/api/oncall/stats", 200, query={"since": str(server.clock.now_ms() - 86_400_000),
                                                            "until": str(server.clock.now_ms() + 1), "tz": "UTC"})
    assert day.body["tz"] == "UTC" and day.body["pages"] == 1 and day.body["days"][-1]["p90_answer_ms"] == 5_000
    await api("GET", "/api/oncall/stats", 400, query={"since": "10", "until": "5"})
    await api("GET", "/api/oncall/stats", 400, query={"since": "0", "until": str(server.clock.now_ms())})
    await api("GET", "/api/oncall/stats", 400, query={"since": "soon"})
    await api("GET", "/api/oncall/stats", 400, query={"tz": "Mars/Olympus"})
    await api("GET", "/api/oncall/stats", 401, admin=False)
    # Tokens, QR codes.
    await api("POST", "/api/tokens", 201, body={"name": "Ana", "role": "member", "room": ROOM, "sub": "alumni-4821"})
    await api("POST", "/api/tokens", 201, body={"name": "Dev", "role": "facilitator", "room": "*", "ttl": 600})
    await api("POST", "/api/tokens", 400, body={"name": "Ana", "role": "owner", "room": ROOM})
    await api("POST", "/api/qr", 200, body={"text": "https://circles.example/#invite=x"})
    await api("POST", "/api/qr", 400, body={"text": ""})
    # Meeting formats: the templates; a circle given one, or its own; a meeting running.
    templates = await api("GET", "/api/formats", 200)
    assert [t["id"] for t in templates.body] == ["smart", "twelve-step"]
    await api("GET", "/api/formats", 401, admin=False)
    smart = await api("GET", "/api/formats/{format}", 200, format="smart")
    assert smart.body["segments"][0]["kind"] == "reading" and smart.body["segments"][0]["text"]["pa"]
    await api("GET", "/api/formats/{format}", 404, format="no-such-format")
    await api("GET", "/api/formats/{format}", 401, format="smart", admin=False)
    given = await api("PUT", "/api/rooms/{id}/format", 200, id=ROOM, body={"template": "twelve-step"})
    assert given.body["room"] == ROOM and given.body["running"] is False and given.body["next_index"] == 0
    custom = {"id": "short", "name": {"en": "Short", "hi": "छोटी"}, "free_minutes": 5, "segments": [
        {"kind": "reading", "title": {"en": "Welcome"}, "minutes": 2, "text": {"en": "Welcome, all."}},
        {"kind": "round", "title": {"en": "Check-in"}, "minutes": 10, "share_seconds": 60}]}
    own = await api("PUT", "/api/rooms/{id}/format", 200, id=ROOM, body={"format": custom})
    assert own.body["minutes"] == 12 and own.body["segments"][1]["share_seconds"] == 60
    bad = await api("PUT", "/api/rooms/{id}/format", 400, id=ROOM, body={"format": {**custom, "free_minutes": 500}})
    assert bad.body["error"]["message"].startswith("format.free_minutes:")
    bad = await api("PUT", "/api/rooms/{id}/format", 400, id=ROOM, body={"template": "no-such-format"})
    assert bad.body["error"]["message"].startswith("template: no template")
    await api("PUT", "/api/rooms/{id}/format", 400, id=ROOM, body={"template": "smart", "format": custom})
    await api("PUT", "/api/rooms/{id}/format", 400, id="oncall", body={"template": "smart"})  # no circle
    await api("PUT", "/api/rooms/{id}/format", 404, id="no-such-room", body={"template": "smart"})
    await api("PUT", "/api/rooms/{id}/format", 401, id=ROOM, body={"template": "smart"}, admin=False)
    assert (await meera.call("format.start", {"room": ROOM, "reader": "Meera"}))["ok"]
    running = await api("GET", "/api/rooms/{id}/format", 200, id=ROOM)
    assert running.body["running"] is True and running.body["index"] == 0 and running.body["reader_id"] == "Meera"
    await api("PUT", "/api/rooms/{id}/format", 409, id=ROOM, body={"template": "smart"})
    await api("GET", "/api/rooms/{id}/format", 404, id="no-such-room")
    await api("GET", "/api/rooms/{id}/format", 401, id=ROOM, admin=False)
    await api("DELETE", "/api/rooms/{id}/format", 401, id=ROOM, admin=False)
    await api("DELETE", "/api/rooms/{id}/format", 204, id=ROOM)  # the meeting ends first
    await api("GET", "/api/rooms/{id}/format", 404, id=ROOM)
    await api("DELETE", "/api/rooms/{id}/format", 404, id=ROOM)
    await api("DELETE", "/api/rooms/{id}/format", 404, id="no-such-room")
    # Group links: made, listed, used, used up, expired, revoked.
    link = await api("POST", "/api/rooms/{id}/invites", 201, id=ROOM, body={"max_uses": 1})
    short = await api("POST", "/api/rooms/{id}/invites", 201, id=ROOM, body={"expires_in_s": 60})
    spare = await api("POST", "/api/rooms/{id}/invites", 201, id=ROOM, body={})
    await api("POST", "/api/rooms/{id}/invites", 400, id=ROOM, body={"expires_in_s": 5})
    await api("POST", "/api/rooms/{id}/invites", 404, id="no-such-room", body={})
    listed = await api("GET", "/api/rooms/{id}/invites", 200, id=ROOM)
    assert len(listed.body) == 3
    await api("GET", "/api/rooms/{id}/invites", 404, id="no-such-room")
    guest = await api("POST", "/api/invites/redeem", 200, body={"code": link.body["code"], "name": "Asha"},
                      admin=False)
    assert guest.body["room"] == ROOM
    await api("POST", "/api/invites/redeem", 409, body={"code": link.body["code"], "name": "Bo"}, admin=False)
    await api("POST", "/api/invites/redeem", 404, body={"code": f"{ROOM}.made-up", "name": "Bo"}, admin=False)
    await api("POST", "/api/invites/redeem", 400, body={"code": link.body["code"]}, admin=False)
    await server.clock.advance(61_000)
    await api("POST", "/api/invites/redeem", 401, body={"code": short.body["code"], "name": "Bo"}, admin=False)
    await api("DELETE", "/api/rooms/{id}/invites/{invite}", 204, id=ROOM, invite=spare.body["id"])
    await api("DELETE", "/api/rooms/{id}/invites/{invite}", 404, id=ROOM, invite=spare.body["id"])
    # The audit log, a page of one at a time: the paging headers appear, and lead on.
    first = await api("GET", "/api/audit", 200, query={"room": ROOM, "limit": "1"})
    assert len(first.body) == 1 and "X-Next-Before" in first.headers and 'rel="next"' in first.headers["Link"]
    older = await api("GET", "/api/audit", 200, query={"room": ROOM, "limit": "1",
                                                         "before": first.headers["X-Next-Before"]})
    assert older.body != first.body and older.body[0]["at"] <= first.body[0]["at"]
    everything = await api("GET", "/api/audit", 200, query={"since": "0"})
    assert "X-Next-Before" not in everything.headers and len(everything.body) > 2
    await api("GET", "/api/audit", 400, query={"limit": "0"})
    await api("GET", "/api/audit", 400, query={"before": "yesterday"})
    # ...by action (comma-separated, or repeated) and before a moment.
    paged = await api("GET", "/api/audit", 200, query={"action": "oncall.page,oncall.answered"})
    assert [(e["action"], e["target"]) for e in paged.body] == [("oncall.page", "Ravi"), ("oncall.answered", "Ravi")]
    repeated = await api("GET", "/api/audit", 200, query=MultiDict([("action", "oncall.answered"),
                                                                    ("action", "format.set")]))
    assert [e["action"] for e in repeated.body] == ["oncall.answered", "format.set", "format.set"]
    before = await api("GET", "/api/audit", 200, query={"action": "oncall.page,oncall.answered",
                                                          "until": str(paged.body[1]["at"])})
    assert before.body == paged.body[:1]
    await api("GET", "/api/audit", 400, query={"until": "yesterday"})
    await api("GET", "/api/audit", 400, query={"action": "DROP TABLE"})
    await api("GET", "/api/audit", 401, admin=False)
    await api("GET", "/api/oncall", 401, admin=False)
    # Attendance (off here: the counts and the list are empty, their shapes the same).
    await api("GET", "/api/rooms/{id}/attendance", 200, id=ROOM, query={"since": "2026-01-01"})
    await api("GET", "/api/rooms/{id}/attendance", 400, id=ROOM, query={"since": "last week"})
    await api("GET", "/api/attendance/{participant_id}", 200, participant_id="m-1")
    # Ending a room.
    await api("DELETE", "/api/rooms/{id}", 204, id=ROOM)
    await api("DELETE", "/api/rooms/{id}", 404, id=ROOM)
    await api("GET", "/api/rooms/{id}", 404, id=ROOM)
    # One address asking too often for a way in.
    for _ in range(25):
        last = await api("POST", "/api/invites/redeem", (404, 429), body={"code": "x.y", "name": "Bo"}, admin=False)
    assert last.status == 429
    # A metrics key, when set, is needed.
    guarded = await make_server(metrics_key="metrics-key-that-is-long-enough-0123456")
    metrics_api = await api_for(guarded)
    await metrics_api("GET", "/metrics", 401, admin=False)
    await metrics_api("GET", "/metrics", 200, key="metrics-key-that-is-long-enough-0123456")
    # Every operation the server has answered at least once with success.
    missing = (registered(server.app) & documented(api.doc)) - api.succeeded - SCHEDULE_OPS
    assert missing == set(), f"never called with success: {sorted(missing)}"


async def test_the_schedule_endpoints_answer_as_documented(server: Running) -> None:
    """The schedules, the feeds and a listed circle's door."""
    api = await api_for(server)
    await api("POST", "/api/rooms", 201, body={"id": ROOM})
    schedule = {"title": "Tuesday circle", "days": [2, 4], "start": "19:00", "duration_min": 90,
                "tz": "Asia/Kolkata", "types": ["O", "EN"], "notes": "Bring tea.", "public": True}
    put = await api("PUT", "/api/rooms/{id}/schedule", 200, id=ROOM, body=schedule)
    assert put.body["room"] == ROOM and put.body["days"] == [2, 4] and put.body["opens_early_min"] == 10
    await api("PUT", "/api/rooms/{id}/schedule", 200, id=ROOM, body={**schedule, "room": ROOM})
    await api("PUT", "/api/rooms/{id}/schedule", 400, id=ROOM, body={**schedule, "room": "another-room"})
    await api("PUT", "/api/rooms/{id}/schedule", 400, id=ROOM, body={**schedule, "days": [8]})
    await api("PUT", "/api/rooms/{id}/schedule", 400, id=ROOM, body={**schedule, "colour": "blue"})
    await api("PUT", "/api/rooms/{id}/schedule", 404, id="no-such-room", body=schedule)
    await api("PUT", "/api/rooms/{id}/schedule", 401, id=ROOM, body=schedule, admin=False)
    await api("GET", "/api/rooms/{id}/schedule", 200, id=ROOM)
    listed = await api("GET", "/api/schedules", 200)
    assert [s["room"] for s in listed.body] == [ROOM]
    calendar = await api("GET", "/calendar/{room}.ics", 200, room=ROOM, admin=False)
    assert calendar.body.startswith("BEGIN:VCALENDAR")
    meetings = await api("GET", "/meetings.json", 200, admin=False)
    assert {m["day"] for m in meetings.body} == {2, 4}
    await api("GET", "/api/rooms/{id}/public", 200, id=ROOM, admin=False)
    await api("GET", "/api/rooms/{id}/public", 404, id="no-such-room", admin=False)
    closed = await api("POST", "/api/rooms/{id}/knock", 409, id=ROOM, body={"name": "Asha"}, admin=False)
    assert closed.body["opens_at"] == put.body["next"]["opens_ms"]
    await server.clock.advance(put.body["next"]["opens_ms"] - server.clock.now_ms())
    await api("POST", "/api/rooms/{id}/knock", 200, id=ROOM, body={"name": "Asha"}, admin=False)
    await api("POST", "/api/rooms/{id}/knock", 400, id=ROOM, body={"name": ""}, admin=False)
    await api("POST", "/api/rooms/{id}/knock", 404, id="no-such-room", body={"name": "Asha"}, admin=False)
    await api("DELETE", "/api/rooms/{id}/schedule", 204, id=ROOM)
    await api("GET", "/api/rooms/{id}/schedule", 404, id=ROOM)
    await api("GET", "/calendar/{room}.ics", 404, room=ROOM, admin=False)
    missing = SCHEDULE_OPS - api.succeeded
    assert missing == set(), f"never called with success: {sorted(missing)}"
