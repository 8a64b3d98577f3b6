"""The HTTP API as an OpenAPI 3.1 document, served at ``GET /api/openapi.json`` (an addition).

Declarative: every operation is one ``Op`` in ``OPERATIONS``; every response shape is one
JSON Schema in ``components/schemas``, written once. Request bodies are the handlers' own
pydantic models (``http.CreateRoom`` …, ``rota.RotaIn``, ``formats.FormatIn``, by
``model_json_schema()``), and the room settings, the meeting formats' bounds, the rota's
and the audit filter's are described from the server's own constants, so neither can
drift from what the server checks. ``tests/integration/test_openapi.py`` validates the
document and checks every answer of a running server against it.

"""

from __future__ import annotations

import copy
import dataclasses
import json
import types
import typing
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST
from pydantic import BaseModel

from .. import __version__, formats, rota
from ..core.errors import CODES
from ..core.model import (
    FORMAT_ID_PATTERN,
    FORMAT_LANGUAGES,
    FORMAT_SEGMENTS,
    FREE_MINUTES,
    NAME_MAX,
    READING_MAX,
    ROOM_ID_PATTERN,
    ROOM_KINDS,
    SEGMENT_KINDS,
    SEGMENT_MINUTES,
    SETTING_CHOICES,
    SETTING_FLAGS,
    SETTING_RANGES,
    SUB_PATTERN,
    TITLE_MAX,
    Settings,
)
from ..oncall_stats import DAY_MS, STATS_DEFAULT_MS, STATS_MAX_MS
from ..schedules import DEFAULT_TZ
from ..store.base import AUDIT_ACTION_PATTERN, AUDIT_ACTIONS_MAX, AUDIT_PAGE_MAX

Schema = dict[str, Any]
Auth = Literal["admin", "metrics", "public"]

OPENAPI_VERSION: Final = "3.1.0"
JSON: Final = "application/json"
METRICS_MEDIA: Final = CONTENT_TYPE_LATEST.split(";")[0]  # text/plain (the version is a parameter)
# The shapes server/schedules.py checks a schedule's times and dates against.
_HHMM: Final = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
_DATE: Final = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_CURSOR: Final = r"^[0-9]{1,15}:[0-9]{1,18}$"

# An audit filter's ``action`` value: one action name, or several separated by commas.
_ACTIONS: Final = rf"^{AUDIT_ACTION_PATTERN}(,{AUDIT_ACTION_PATTERN})*$"

# The request bodies that are the admin API's pydantic models (looked up in http.py when
# the document is built: http.py imports this module, so not at import time); the other
# handlers' models are in ``request_models``.
REQUEST_MODELS: Final = ("CreateRoom", "PatchRoom", "CreateToken", "CreateInvite", "QrRequest", "RedeemInvite")


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def array(items: Schema, **more: Any) -> Schema:
    return {"type": "array", "items": items, **more}


def nullable(schema: Schema) -> Schema:
    return {"anyOf": [schema, {"type": "null"}]}


def closed(properties: Mapping[str, Schema], *, optional: tuple[str, ...] = (), description: str = "") -> Schema:
    """An object with exactly these keys (all required but ``optional``), no others."""
    out: Schema = {"type": "object", "properties": dict(properties),
                   "required": [k for k in properties if k not in optional], "additionalProperties": False}
    if description:
        out["description"] = description
    return out


def integer(lo: int | None = None, hi: int | None = None, description: str = "", **more: Any) -> Schema:
    out: Schema = {"type": "integer", **more}
    if lo is not None:
        out["minimum"] = lo
    if hi is not None:
        out["maximum"] = hi
    if description:
        out["description"] = description
    return out


def string(description: str = "", **more: Any) -> Schema:
    out: Schema = {"type": "string", **more}
    if description:
        out["description"] = description
    return out


MS: Final = integer(description="milliseconds since the epoch (UTC)")
ROOM_ID: Final = string("a room id", pattern=ROOM_ID_PATTERN)
PARTICIPANT: Final = string("a participant id (the `sub` of their link)", pattern=SUB_PATTERN)
_DAY: Final = string(pattern=_DATE, format="date")
DATE_OR_NULL: Final = {"type": ["string", "null"], "pattern": _DATE, "format": "date"}


# -- response shapes, each written once ------------------------------------------------------------

def _settings() -> tuple[Schema, Schema]:
    """The room settings (``Settings.to_wire()``: every key), and a change of some of them
    (``settings`` of ``POST /api/rooms`` and ``PATCH /api/rooms/{id}``), from the core's
    own ranges and choices."""
    hints = typing.get_type_hints(Settings)
    props: dict[str, Schema] = {}
    for f in dataclasses.fields(Settings):
        if f.name in SETTING_RANGES:
            lo, hi = SETTING_RANGES[f.name]
            s = integer(lo, hi)
            if types.NoneType in typing.get_args(hints[f.name]):
                s["type"] = ["integer", "null"]
        elif f.name in SETTING_CHOICES:
            s = {"type": "string", "enum": list(SETTING_CHOICES[f.name])}
        elif f.name in SETTING_FLAGS:
            s = {"type": "boolean"}
        elif f.name == "title":
            s = string(maxLength=TITLE_MAX)
        else:  # a new kind of setting: say here how it is described
            raise RuntimeError(f"openapi: the setting {f.name!r} is not described")
        props[f.name] = {**s, "default": f.default}
    change: Schema = {"type": "object", "properties": props, "additionalProperties": False,
                      "description": "Some of the room settings; any other key is 400 `invalid`."}
    return closed(props, description="Every room setting (docs/protocol.md §4, Shapes)."), change


_ROOM: Final[dict[str, Schema]] = {
    "id": ROOM_ID,
    "title": string("the room's title (its id when it has none)"),
    "kind": {"type": "string", "enum": list(ROOM_KINDS)},
    "participants": integer(0, description="people in the room, connected or not"),
    "active": {"type": "boolean", "description": "someone is connected"},
}
_ROOM_DETAIL: Final[dict[str, Schema]] = {
    "settings": ref("Settings"),
    "seq": integer(0, description="the seq of the room's last event"),
    "queue": array(string(pattern=SUB_PATTERN), description="participant ids, in turn"),
    "floor": nullable(ref("Floor")),
    "lobby": integer(0, description="how many wait in the lobby"),
}
_INVITE: Final[dict[str, Schema]] = {
    "id": string(),
    "expires_at": MS,
    "max_uses": nullable(integer(1)),
    "uses": integer(0),
    "created_at": MS,
}
_HELPLINE: Final = closed({"name": string(), "phone": string(), "hours": string()})
_OCCURRENCE: Final = closed({
    "room": ROOM_ID,
    "local_date": string("the meeting's date in the schedule's zone", pattern=_DATE, format="date"),
    "start_ms": MS, "end_ms": MS,
    "opens_ms": integer(description="the room opens (start - opens_early_min)"),
    "remind_ms": integer(description="the reminder is due (start - remind_before_min)"),
}, description="One meeting of a schedule.")
# The schedule as a client writes it (defaults shown) and as the server gives it back.
_SCHEDULE: Final[dict[str, Schema]] = {
    "room": {**ROOM_ID, "description": "the circle; in a request body optional, and then it must be the path's id"},
    "title": string(minLength=1, maxLength=200),
    "days": array(integer(1, 7), minItems=1, maxItems=7, uniqueItems=True,
                  description="ISO weekdays: 1 = Monday … 7 = Sunday"),
    "start": string("local start, 24 h", pattern=_HHMM),
    "duration_min": integer(15, 480),
    "tz": string("an IANA time zone name", default=DEFAULT_TZ),
    "opens_early_min": integer(0, 120, default=10),
    "starts_on": {**DATE_OR_NULL, "default": None, "description": "no meeting before this local date"},
    "ends_on": {**DATE_OR_NULL, "default": None, "description": "no meeting after this local date"},
    "remind_before_min": integer(0, 1440, default=60),
    "types": array(string(), maxItems=20, default=[], description="Meeting Guide type codes"),
    "notes": string(maxLength=2000, default=""),
    "language": string("a language tag", default="en"),
    "public": {"type": "boolean", "default": False,
               "description": "listed in the calendar and meeting-list feeds"},
}


# The on-call service: responders, the rota's shifts, pages and answer times.
_RESPONDER: Final[dict[str, Schema]] = {
    "responder": PARTICIPANT,
    "name": string("the name staff know them by", minLength=1, maxLength=NAME_MAX),
}
_HOURS: Final[dict[str, Schema]] = {
    "start": string("local start, 24 h", pattern=_HHMM),
    "end": string("local end, 24 h; at or before `start`: on the next day", pattern=_HHMM),
    "tz": string("an IANA time zone name"),
}
_TALLY: Final[dict[str, Schema]] = {
    "pages": integer(0, description="`oncall.page` entries: a member came in and no responder was there"),
    "escalations": integer(0, description="`oncall.escalate` entries"),
    "answered": integer(0, description="pages answered within the window"),
    "unanswered": integer(0, description="pages - answered"),
    "answered_at_once": integer(0, description="members answered with no wait and no page"),
    "median_answer_ms": nullable(integer(0, description="the middle answer time (null without answers)")),
    "p90_answer_ms": nullable(integer(0, description="the 90th percentile, nearest rank (null without answers)")),
}


# Meeting formats (docs/protocol.md §9).
def _text(most: int, what: str) -> Schema:
    return closed({lang: string(minLength=1, maxLength=most) for lang in FORMAT_LANGUAGES},
                  optional=tuple(lang for lang in FORMAT_LANGUAGES if lang != "en"),
                  description=f"{what} in English and, when given, Hindi and Punjabi.")


_FORMAT: Final[dict[str, Schema]] = {
    "id": string(pattern=FORMAT_ID_PATTERN),
    "name": ref("Title"),
    "segments": array(ref("Segment"), minItems=FORMAT_SEGMENTS.lo, maxItems=FORMAT_SEGMENTS.hi),
    "auto_advance": {"type": "boolean", "description": "the clock moves on when a part's time is up"},
    "free_minutes": integer(*FREE_MINUTES, description="free time after the last part"),
    "minutes": integer(SEGMENT_MINUTES.lo, description="the planned length, free time not counted"),
}
_PART: Final = integer(0, FORMAT_SEGMENTS.hi - 1, description="a part's index")
_FORMAT_RUN: Final[dict[str, Schema]] = {
    "running": {"type": "boolean"},
    "index": nullable({**_PART, "description": "the part now; null before the start and in the free time"}),
    "started_at": nullable(MS),
    "ends_at": nullable({**MS, "description": "the part's planned end, or the free time's end"}),
    "reader_id": nullable(PARTICIPANT),
    "next_index": nullable({**_PART, "description": "0 before the start; null for the last part and in the free "
                                                    "time"}),
    "free_until": nullable({**MS, "description": "the free time's end, while in it"}),
}


def _without_defaults(props: Mapping[str, Schema]) -> dict[str, Schema]:
    return {k: {kk: vv for kk, vv in v.items() if kk != "default"} for k, v in props.items()}


def _response_schemas() -> dict[str, Schema]:
    settings, settings_change = _settings()
    return {
        "Error": closed({"error": closed({"code": {"type": "string", "enum": sorted(CODES)},
                                          "message": string()})},
                        description="Every error: a 4xx (or 503, 500) status and this body, never a stack trace."),
        "Closed": closed({"error": closed({"code": {"const": "locked"}, "message": string()}),
                          "opens_at": {"type": "integer"}, "starts_at": {"type": "integer"}},
                         optional=("opens_at", "starts_at"),
                         description="A scheduled circle between meetings: when the next one opens."),
        "Health": closed({"status": {"const": "ok"}}),
        "Ready": closed({"status": {"const": "ready"}}),
        "NotReady": {"oneOf": [closed({"status": {"const": "unavailable"}, "store": {"const": "unreachable"}}),
                               closed({"status": {"const": "draining"}},
                                      description="This worker is leaving (SIGTERM); its people are being moved.")]},
        "Helpline": _HELPLINE,
        "Helplines": closed({"helplines": array(ref("Helpline")), "emergency": ref("Helpline")}),
        "Qr": closed({"svg": string("an SVG data: URI", pattern=r"^data:image/svg\+xml")}),
        "Settings": settings,
        "SettingsChange": settings_change,
        "Floor": closed({"participant_id": string(pattern=SUB_PATTERN), "started_at": MS,
                         "deadline": nullable(MS)}),
        "RoomSummary": closed(_ROOM),
        "RoomDetail": closed({**_ROOM, **_ROOM_DETAIL}, description="A room summary with its settings and state."),
        "Token": closed({"token": string("a signed JWT"),
                         "expires_at": integer(description="seconds since the epoch")}),
        "GuestToken": closed({"room": ROOM_ID, "token": string("a signed JWT (member of this room only, `gst` claim)"),
                              "expires_at": integer(description="seconds since the epoch")}),
        "Invite": closed(_INVITE),
        "NewInvite": closed({**_INVITE,
                             "code": string("`<room>.<secret>`: in this answer only"),
                             "path": string("the link to share", pattern="^/#invite=")}),
        "AuditEntry": closed({"at": MS, "room": string(), "actor": nullable(string()), "action": string(),
                              "target": nullable(string()), "reason": nullable(string())},
                             description="Who did what to whom, when and why; never message text."),
        "Waiting": closed({"room": ROOM_ID, "participant": string(pattern=SUB_PATTERN), "since": MS,
                           "waited_ms": integer(0), "escalated": {"type": "boolean"}}),
        "ScheduleIn": closed(_SCHEDULE, optional=("room", *(k for k, v in _SCHEDULE.items() if "default" in v)),
                             description="A weekly schedule (docs/schedules.md); unknown fields are refused."),
        "ScheduleView": closed({**_without_defaults(_SCHEDULE), "updated_ms": MS, "open": {"type": "boolean"},
                                "next": nullable(ref("Occurrence"))},
                               description="A stored schedule, whether its room is open now, its next meeting."),
        "Occurrence": _OCCURRENCE,
        "MeetingGuideEntry": closed({
            "name": string(), "slug": string(maxLength=64),
            "day": integer(0, 6, description="0 = Sunday … 6 = Saturday"),
            "time": string(pattern=_HHMM), "timezone": string(), "conference_url": string(),
            "updated": string("UTC, YYYY-MM-DD HH:MM:SS"),
            "end_time": string(pattern=_HHMM), "types": array(string()), "notes": string(),
            "conference_url_notes": string(), "formatted_address": string(), "approximate": {"const": "yes"},
        }, optional=("end_time", "types", "notes", "conference_url_notes", "formatted_address", "approximate"),
           description="One meeting of the Meeting Guide API (code4recovery spec)."),
        "PublicRoom": closed({"room": ROOM_ID, "title": string(), "tz": string(), "open": {"type": "boolean"},
                              "next": nullable(ref("Occurrence")), "knock": {"type": "boolean"}}),
        "Knock": closed({"name": string("the name the others will see", minLength=1, maxLength=64)}),
        "OnDuty": closed({**_RESPONDER, "since": MS},
                         description="A responder on duty on some worker (on several: since the earliest)."),
        "Expected": closed({**_RESPONDER,
                            "shift": integer(0, rota.SHIFTS_MAX - 1, description="the shift's index in the rota"),
                            "day": integer(1, 7, description="the ISO weekday this turn began on, in `tz`"),
                            **_HOURS, "until": {**MS, "description": "this turn ends"},
                            "on_duty": {"type": "boolean", "description": "false: expected, not on duty"}},
                           description="A responder whose rota shift covers now."),
        "Duty": closed({"at": MS, "on_duty": array(ref("OnDuty")),
                        "expected": array(ref("Expected"), description="those not on duty last")}),
        "Shift": closed({**_RESPONDER,
                         "days": array(integer(1, 7), minItems=1, maxItems=7, uniqueItems=True,
                                       description="ISO weekdays, sorted: 1 = Monday … 7 = Sunday"),
                         **_HOURS}),
        "Rota": closed({"shifts": array(ref("Shift"), maxItems=rota.SHIFTS_MAX)}, description="The on-call rota."),
        "OncallDay": closed({"date": string("a calendar day in `tz`", pattern=_DATE, format="date"), **_TALLY}),
        "OncallStats": closed({"since": MS, "until": MS, "tz": string("an IANA time zone name"), **_TALLY,
                               "days": array(ref("OncallDay"), minItems=1,
                                             description="every day of the window, empty ones too")},
                              description="Pages and answer times of the on-call rooms over [since, until)."),
        "AttendanceMeeting": closed({"room": ROOM_ID, "date": _DAY, "minutes": integer(0),
                                     "shared": {"type": "boolean"}},
                                    description="One participant at one meeting (addition)."),
        "AttendanceParticipant": closed({"participant_id": string(), "meetings": array(ref("AttendanceMeeting"))},
                                        description="A participant id's meetings, oldest first (addition)."),
        "AttendanceDay": closed({"date": _DAY, "came": integer(0), "minutes": integer(0), "shared": integer(0)},
                                description="One meeting of a circle: how many came, their minutes in all, "
                                            "how many shared."),
        "AttendanceRoom": closed({"room": ROOM_ID, "enabled": {"type": "boolean"},
                                  "retention_days": integer(0, description="0 when attendance is off"),
                                  "meetings": array(ref("AttendanceDay"))},
                                 description="A circle's attendance per meeting date (addition)."),
        "Title": _text(TITLE_MAX, "A title"),
        "Reading": _text(READING_MAX, "A reading's text"),
        "Segment": {**closed({"kind": {"type": "string", "enum": list(SEGMENT_KINDS)}, "title": ref("Title"),
                              "minutes": integer(*SEGMENT_MINUTES),
                              "share_seconds": nullable(integer(*SETTING_RANGES["share_seconds"])),
                              "text": ref("Reading")}, optional=("text",),
                             description="One part of a meeting; a reading has a text, no other kind has."),
                    "if": {"properties": {"kind": {"const": "reading"}}},
                    "then": {"required": ["text"]}, "else": {"not": {"required": ["text"]}}},
        "FormatSummary": closed({"id": _FORMAT["id"], "name": ref("Title"),
                                 "segments": integer(*FORMAT_SEGMENTS, description="how many parts"),
                                 "minutes": _FORMAT["minutes"]}),
        "FormatTemplate": closed(_FORMAT, description="A meeting format template and its planned length."),
        "RoomFormat": closed({"room": ROOM_ID, **_FORMAT, **_FORMAT_RUN},
                             description="A circle's meeting format and where its meeting is."),
        "FormatChoice": {"oneOf": [closed({"template": string("a template's id (`GET /api/formats`)")}),
                                   closed({"format": ref("FormatIn")})],
                         "description": "A template by its id, or a format of the circle's own; exactly one."},
        "OpenAPI": {"type": "object", "required": ["openapi", "info", "paths"],
                    "description": "This document (OpenAPI 3.1)."},
    }


# -- operations ---------------------------------------------------------------------------------------

ERRORS: Final[Mapping[int, str]] = {
    400: "`invalid`: the body, a parameter or a value is refused; the message names it",
    401: "`unauthorized`: a valid admin key is required (without CIRCLES_ADMIN_KEY set, the admin API answers "
         "401 to everyone)",
    403: "`forbidden`",
    404: "`not_found`: no such room",
    409: "`conflict` or `full`",
    413: "`too_large`: the body is over 64 KiB",
    429: "`rate_limited`: too many requests; wait a moment",
    503: "`unavailable`: the store cannot be reached",
}
PATH_PARAMETERS: Final[Mapping[str, tuple[Schema, str]]] = {
    "id": (ROOM_ID, "the room"),
    "room": (ROOM_ID, "the room"),
    "invite": (string(), "the group link's id"),
    "format": (string(pattern=FORMAT_ID_PATTERN), "the template's id"),
    "participant_id": (string(minLength=1, maxLength=200), "a participant id (a token's `sub`)"),
}

# An error status: with the generic description of ERRORS, or its own, or its own and its
# own body schema (else the error envelope).
Error = int | tuple[int, str] | tuple[int, str, Schema]


@dataclass(frozen=True)
class Op:
    """One operation. ``answer`` is the schema of the success body (None: no body);
    ``errors`` the error statuses beside those that follow from ``auth`` (401) and
    ``body`` (400, 413)."""

    method: str
    path: str
    op_id: str
    summary: str
    tag: str
    auth: Auth = "admin"
    body: str | None = None
    ok: int = 200
    answer: Schema | None = None
    media: str = JSON
    errors: tuple[Error, ...] = ()
    query: tuple[Schema, ...] = ()
    headers: Mapping[str, Schema] = dataclasses.field(default_factory=dict)
    description: str = ""


def query(name: str, schema: Schema, description: str) -> Schema:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


NOT_FOUND_INVITE: Final = (404, "`not_found`: no such room, or no such group link")
REDEEM_ERRORS: Final = (
    (401, "`expired`: the link has expired"),
    (404, "`not_found`: an unknown or revoked link"),
    (409, "`full`: the link's max_uses are used"),
    429, 503,
)

OPERATIONS: Final[tuple[Op, ...]] = (
    Op("get", "/healthz", "healthz", "The process is up", "health", auth="public", answer=ref("Health")),
    Op("get", "/readyz", "readyz", "The store answers", "health", auth="public", answer=ref("Ready"),
       errors=((503, "the store cannot be reached, or this worker is draining", ref("NotReady")),)),
    Op("get", "/metrics", "metrics", "Prometheus metrics of this worker", "health", auth="metrics",
       answer=string("Prometheus text exposition; ids and counts only"), media=METRICS_MEDIA,
       errors=((401, "`unauthorized`: metrics_key is set and this is not it"),),
       description="Open unless `metrics_key` (CIRCLES_METRICS_KEY) is set; then it needs that bearer key."),
    Op("get", "/api/openapi.json", "openapi", "This document", "health", auth="public", answer=ref("OpenAPI")),
    Op("get", "/api/help", "helplines", "Helplines and the emergency number", "public", auth="public",
       answer=ref("Helplines"),
       description="What \"Need help now?\" shows on a page without a working link."),
    Op("post", "/api/qr", "qr", "A QR code of a text, as an SVG data: URI", "links", body="QrRequest",
       answer=ref("Qr")),
    Op("get", "/api/rooms", "listRooms", "Rooms that have not ended", "rooms", answer=array(ref("RoomSummary")),
       errors=(503,)),
    Op("post", "/api/rooms", "createRoom", "Create a room", "rooms", body="CreateRoom", ok=201,
       answer=ref("RoomDetail"),
       errors=((409, "`conflict`: a room with that id exists; `full`: the server holds as many rooms as it may"),
               503)),
    Op("get", "/api/rooms/{id}", "getRoom", "A room with its settings and state", "rooms", answer=ref("RoomDetail"),
       errors=(404, 503)),
    Op("patch", "/api/rooms/{id}", "patchRoom", "Change a room's settings", "rooms", body="PatchRoom",
       answer=ref("RoomDetail"),
       errors=(404, (409, "`conflict`: the change cannot be made now (a round with nobody in the room), or the "
                          "room is very busy; try again"), 503)),
    Op("delete", "/api/rooms/{id}", "deleteRoom", "End a room for everyone and purge its data", "rooms", ok=204,
       errors=(404, (409, "`conflict`: the room is very busy; try again"), 503)),
    Op("post", "/api/tokens", "createToken", "Mint a token", "rooms", body="CreateToken", ok=201,
       answer=ref("Token"), description="A random `sub` when none is given."),
    Op("get", "/api/audit", "audit", "The audit log, a page at a time, oldest first", "rooms",
       answer=array(ref("AuditEntry")),
       errors=((400, "`invalid`: a bad `since`, `until`, `action`, `limit` or `before`"), 503),
       query=(query("room", string(), "only this room (default: every room, merged in time order)"),
              query("since", integer(0), "only entries at or after this time (ms since the epoch)"),
              query("until", integer(0), "only entries before this time (ms since the epoch)"),
              query("action", array(string(pattern=_ACTIONS)),
                    f"only these actions: names separated by commas, and/or the parameter repeated "
                    f"(`action=oncall.page,oncall.answered`, `action=mute&action=ban`); at most "
                    f"{AUDIT_ACTIONS_MAX} names in all; an unknown one matches nothing"),
              query("before", string(pattern=_CURSOR), "a cursor `<at>:<id>` from `X-Next-Before`"),
              query("limit", integer(1, AUDIT_PAGE_MAX, default=AUDIT_PAGE_MAX), "the newest this many entries")),
       headers={"X-Next-Before": {"description": "when older entries remain: the cursor for them (`before`)",
                                  "schema": string(pattern=_CURSOR)},
                "Link": {"description": "when older entries remain: the next page, `<url>; rel=\"next\"`",
                         "schema": string(pattern=r'^<[^>]+>; rel="next"$')}},
       description="No `X-Next-Before` header means the last page."),
    Op("get", "/api/oncall", "oncallWaiting", "Who waits for a responder, by id only", "oncall",
       answer=array(ref("Waiting")), errors=(503,)),
    Op("get", "/api/oncall/duty", "oncallDuty", "Who is on duty on any worker, and who the rota expects now",
       "oncall", answer=ref("Duty"), errors=(503,),
       description="Ids and names of responders only; nothing of a member."),
    Op("get", "/api/oncall/rota", "getRota", "The on-call rota as last saved", "oncall", answer=ref("Rota"),
       errors=(503,)),
    Op("put", "/api/oncall/rota", "putRota", "Replace the whole on-call rota", "oncall", body="RotaIn",
       answer=ref("Rota"),
       errors=((400, "`invalid`: the message names the field (`shifts[2].start: must be a time HH:MM, ...`)"),
               503),
       description=f"At most {rota.SHIFTS_MAX} shifts; `name` 1-{NAME_MAX} characters (cleaned as a display name), "
                   f"`start` and `end` `HH:MM` in `tz` (default {rota.DEFAULT_TZ}); answered as saved (days sorted)."),
    Op("get", "/api/oncall/stats", "oncallStats", "Pages and answer times of the on-call rooms", "oncall",
       answer=ref("OncallStats"),
       errors=((400, "`invalid`: a bad number, an empty or too long window, an unknown `tz`"), 503),
       query=(query("since", integer(0), f"the window's start, ms (default: {STATS_DEFAULT_MS // DAY_MS} days "
                                         f"before `until`)"),
              query("until", integer(0), "the window's end, ms, exclusive (default: now)"),
              query("tz", string(default=rota.DEFAULT_TZ), "the IANA time zone of the days")),
       description=f"Counted from the audit log over [since, until), at most {STATS_MAX_MS // DAY_MS} days."),
    # Attendance (docs/protocol.md, Attendance; additions).
    Op("get", "/api/rooms/{id}/attendance", "roomAttendance", "A circle's attendance per meeting", "attendance",
       answer=ref("AttendanceRoom"), errors=((400, "`invalid`: `since` or `until` is not a date"), 503),
       query=(query("since", _DAY, "the first meeting date (YYYY-MM-DD, inclusive)"),
              query("until", _DAY, "the last meeting date (YYYY-MM-DD, inclusive)")),
       description="Counts only, per meeting date, within the retention period; empty when attendance is off."),
    Op("get", "/api/attendance/{participant_id}", "participantAttendance", "A participant id's meetings",
       "attendance", answer=ref("AttendanceParticipant"), errors=(503,),
       description="Ids, dates, minutes and a shared flag; never a name."),
    Op("post", "/api/rooms/{id}/invites", "createInvite", "Make a group link", "links", body="CreateInvite",
       ok=201, answer=ref("NewInvite"),
       errors=(404, (409, "`full`: the room holds 20 links; `conflict`: the room is very busy"), 503),
       description="The secret is in this answer only: the server keeps its SHA-256."),
    Op("get", "/api/rooms/{id}/invites", "listInvites", "A room's group links", "links",
       answer=array(ref("Invite")), errors=(404, 503)),
    Op("delete", "/api/rooms/{id}/invites/{invite}", "revokeInvite", "Revoke a group link", "links", ok=204,
       errors=(NOT_FOUND_INVITE, (409, "`conflict`: the room is very busy; try again"), 503)),
    Op("post", "/api/invites/redeem", "redeemInvite", "Come in by a group link under a chosen name", "links",
       auth="public", body="RedeemInvite", answer=ref("GuestToken"), errors=REDEEM_ERRORS,
       description="A member's token for that room only; whoever joins with it waits in the lobby. "
                   "20 at once from one address, then 1 a second."),
    # Meeting formats (docs/protocol.md §9).
    Op("get", "/api/formats", "listFormats", "The meeting-format templates", "formats",
       answer=array(ref("FormatSummary"))),
    Op("get", "/api/formats/{format}", "getFormat", "A meeting-format template", "formats",
       answer=ref("FormatTemplate"), errors=((404, "`not_found`: no such template"),)),
    Op("put", "/api/rooms/{id}/format", "putRoomFormat", "Give a circle its meeting format", "formats",
       body="FormatChoice", answer=ref("RoomFormat"),
       errors=((400, "`invalid`: the body is refused, the message names the field "
                     "(`format.segments[2].minutes: ...`, `template: no template 'x'`); or the room is no circle"),
               404, (409, "`conflict`: a meeting is running (end it first), or the room is very busy"), 503),
       description="The room's people get `format.changed`."),
    Op("get", "/api/rooms/{id}/format", "getRoomFormat", "A circle's meeting format and where its meeting is",
       "formats", answer=ref("RoomFormat"),
       errors=((404, "`not_found`: no such room, or it has no format"), 503)),
    Op("delete", "/api/rooms/{id}/format", "deleteRoomFormat", "Take a circle's meeting format away", "formats",
       ok=204, errors=((404, "`not_found`: no such room, or it has no format"),
                       (409, "`conflict`: the room is very busy; try again"), 503),
       description="A meeting that is running ends first (`format.ended`, then `format.changed`)."),
    # The schedules (docs/schedules.md).
    Op("put", "/api/rooms/{id}/schedule", "putSchedule", "Set a room's weekly schedule", "schedules",
       body="ScheduleIn", answer=ref("ScheduleView"), errors=(404, 503)),
    Op("get", "/api/rooms/{id}/schedule", "getSchedule", "A room's schedule", "schedules",
       answer=ref("ScheduleView"), errors=((404, "`not_found`: no such room, or it has no schedule"), 503)),
    Op("delete", "/api/rooms/{id}/schedule", "deleteSchedule", "Remove a room's schedule", "schedules", ok=204,
       errors=(404, 503)),
    Op("get", "/api/schedules", "listSchedules", "Every schedule", "schedules", answer=array(ref("ScheduleView")),
       errors=(503,)),
    Op("get", "/calendar/{room}.ics", "calendar", "A room's schedule as an iCalendar feed", "schedules",
       auth="public", answer=string("RFC 5545 text"), media="text/calendar",
       errors=((404, "`not_found`: the room has no public schedule"), 503)),
    Op("get", "/meetings.json", "meetings", "Public schedules as a Meeting Guide feed", "schedules", auth="public",
       answer=array(ref("MeetingGuideEntry")), errors=(503,)),
    Op("get", "/api/rooms/{id}/public", "publicRoom", "A scheduled room's public page", "schedules", auth="public",
       answer=ref("PublicRoom"), errors=(404, 503)),
    Op("post", "/api/rooms/{id}/knock", "knock", "Ask to come into a scheduled room under a chosen name", "schedules",
       auth="public", body="Knock", answer=ref("GuestToken"),
       errors=(404, (409, "`locked`: the circle is not open now; `opens_at` and `starts_at` (ms) are the next "
                           "meeting's, absent when none is left", ref("Closed")), 429, 503)),
)

SECURITY: Final[Mapping[Auth, list[dict[str, list[str]]]]] = {
    "admin": [{"adminKey": []}],
    "metrics": [{}, {"metricsKey": []}],
    "public": [],
}


def _error(description: str, schema: Schema | None = None) -> Schema:
    return {"description": description, "content": {JSON: {"schema": schema or ref("Error")}}}


def _operation(op: Op) -> Schema:
    responses: dict[str, Schema] = {}
    ok: Schema = {"description": op.summary}
    if op.answer is not None:
        ok["content"] = {op.media: {"schema": op.answer}}
    if op.headers:
        ok["headers"] = dict(op.headers)
    responses[str(op.ok)] = ok
    errors: dict[int, Schema] = {}
    if op.auth == "admin":
        errors[401] = _error(ERRORS[401])
    if op.body is not None:
        errors[400] = _error(ERRORS[400])
        errors[413] = _error(ERRORS[413])
    for e in op.errors:
        if isinstance(e, int):
            errors[e] = _error(ERRORS[e])
        else:
            errors[e[0]] = _error(*e[1:])
    for status in sorted(errors):
        responses[str(status)] = errors[status]
    out: Schema = {"operationId": op.op_id, "summary": op.summary, "tags": [op.tag],
                   "security": SECURITY[op.auth], "responses": responses}
    if op.description:
        out["description"] = op.description
    params = [{"name": name, "in": "path", "required": True, "schema": PATH_PARAMETERS[name][0],
               "description": PATH_PARAMETERS[name][1]}
              for name in _path_names(op.path)]
    params += list(op.query)
    if params:
        out["parameters"] = params
    if op.body is not None:
        out["requestBody"] = {"required": True, "content": {JSON: {"schema": ref(op.body)}}}
    return out


def _path_names(path: str) -> list[str]:
    return [part.split("}")[0] for part in path.split("{")[1:]]


def request_models() -> dict[str, type[BaseModel]]:
    """The request bodies that are pydantic models, by their component name."""
    from . import http  # http.py imports this module for its route

    return {**{name: getattr(http, name) for name in REQUEST_MODELS},
            "RotaIn": rota.RotaIn, "FormatIn": formats.FormatIn}


def _request_schemas() -> dict[str, Schema]:
    """The pydantic models' own schemas (the models they hold are components too); a
    free-form ``settings`` is the settings change."""
    out: dict[str, Schema] = {}
    for name, model in request_models().items():
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        for held, held_schema in schema.pop("$defs", {}).items():
            if out.setdefault(held, held_schema) != held_schema:
                raise RuntimeError(f"openapi: two request models hold different models named {held!r}")
        settings = schema.get("properties", {}).get("settings")
        if settings is not None and settings.get("type") == "object":
            schema["properties"]["settings"] = {**ref("SettingsChange"), "description": "room settings"}
        out[name] = schema
    return out


def document() -> Schema:
    """The OpenAPI document, built afresh (``openapi_json`` serves it built once per app)."""
    paths: dict[str, dict[str, Schema]] = {}
    for op in OPERATIONS:
        paths.setdefault(op.path, {})[op.method] = _operation(op)
    responses, requests = _response_schemas(), _request_schemas()
    if responses.keys() & requests.keys():
        raise RuntimeError(f"openapi: schemas named twice: {sorted(responses.keys() & requests.keys())}")
    schemas = {**responses, **requests}
    doc: Schema = {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "Circles HTTP API",
            "version": __version__,
            "summary": "Health, metrics, the admin API, the on-call service, group links, meeting formats and "
                       "schedules of a Circles server.",
            "description": (
                "Admin operations carry `Authorization: Bearer <CIRCLES_ADMIN_KEY>`. Errors are JSON "
                "`{\"error\": {\"code\", \"message\"}}` with a 4xx (or 503, 500) status. Bodies over 64 KiB "
                "are refused (413). Times are milliseconds since the epoch unless said otherwise. "
                "The real-time protocol (Socket.IO) is in docs/protocol.md."),
            "license": {"name": "MIT", "identifier": "MIT"},
        },
        "tags": [{"name": "health"}, {"name": "public"}, {"name": "rooms"}, {"name": "oncall"}, {"name": "links"},
                 {"name": "formats"}, {"name": "schedules"}, {"name": "attendance"}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "adminKey": {"type": "http", "scheme": "bearer", "description": "the admin key (CIRCLES_ADMIN_KEY)"},
                "metricsKey": {"type": "http", "scheme": "bearer",
                               "description": "the metrics key (CIRCLES_METRICS_KEY), when one is set"},
            },
        },
    }
    return copy.deepcopy(doc)  # the schemas above share their parts (and this module's constants)


_SERVED: Final[weakref.WeakKeyDictionary[web.Application, bytes]] = weakref.WeakKeyDictionary()


async def openapi_json(request: web.Request) -> web.Response:
    """``GET /api/openapi.json`` (no auth): the document, built on first request, once per app."""
    body = _SERVED.get(request.app)
    if body is None:
        body = _SERVED[request.app] = json.dumps(document(), ensure_ascii=False).encode()
    return web.Response(body=body, content_type=JSON)
