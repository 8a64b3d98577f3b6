"""Meeting formats through a running server (issue 17): the templates and a circle's format
over the admin API, the meeting run over Socket.IO (start, next part, end, who may), every
new event in the room log, the overtime notice to staff only, the clock moving a meeting on
and ending its free time once, the room's settings put back; and a reading's text in the
snapshot only: never in an event, an ack other than the snapshot's, a log line, and never
judged by moderation. Real server, real Socket.IO clients, a hand-driven clock; memory and
Redis stores."""

from __future__ import annotations

import json
import logging
from typing import Any

import aiohttp
import pytest

from server.formats import shipped
from tests.integration.conftest import MakeServer, Running
from tests.support import ADMIN_KEY, Client

ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}
MIN = 60_000
ROOM = "tuesday"
SMART = next(f for f in shipped() if f.id == "smart")
TWELVE = next(f for f in shipped() if f.id == "twelve-step")
# Words from the shipped readings, which must never travel in an event.
READING_WORDS = [t for f in (SMART, TWELVE) for s in f.segments if s.text is not None
                 for t in (s.text.en[:40], (s.text.hi or "")[:30], (s.text.pa or "")[:30])]


async def call(method: str, url: str, body: Any = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as http, http.request(method, url, json=body, headers=headers) as r:
        text = await r.text()
        return r.status, json.loads(text) if r.content_type == "application/json" and text else text


async def make_room(s: Running, room: str = ROOM, **settings: Any) -> None:
    status, body = await call("POST", s.url + "/api/rooms", {"id": room, "settings": settings}, ADMIN)
    assert status == 201, body


async def put_format(s: Running, body: Any, room: str = ROOM) -> tuple[int, Any]:
    return await call("PUT", f"{s.url}/api/rooms/{room}/format", body, ADMIN)


def assert_no_reading_in(things: Any) -> None:
    blob = json.dumps(things, ensure_ascii=False)
    for words in READING_WORDS:
        assert words not in blob, words


async def people(s: Running) -> tuple[Client, Client, Client]:
    fac = await s.client(ROOM, "facilitator", "Fatima")
    ana = await s.client(ROOM, "member", "Ana")
    ben = await s.client(ROOM, "member", "Ben")
    return fac, ana, ben


# -- templates and a circle's format -------------------------------------------------------------

async def test_the_templates_are_listed_and_shown(server: Running) -> None:
    status, listed = await call("GET", server.url + "/api/formats", headers=ADMIN)
    assert status == 200
    assert listed == [
        {"id": "smart", "name": SMART.name.to_wire(), "segments": 6, "minutes": 85},
        {"id": "twelve-step", "name": TWELVE.name.to_wire(), "segments": 8, "minutes": 71},
    ]
    status, smart = await call("GET", server.url + "/api/formats/smart", headers=ADMIN)
    assert status == 200 and smart == {**SMART.to_wire(), "minutes": 85}
    assert smart["segments"][0]["text"]["hi"].startswith("स्वागत है")
    assert (await call("GET", server.url + "/api/formats/nope", headers=ADMIN))[0] == 404
    assert (await call("GET", server.url + "/api/formats"))[0] == 401


async def test_a_circle_gets_a_format_and_everyone_in_it_is_told(server: Running) -> None:
    await make_room(server)
    fac, ana, _ = await people(server)
    status, view = await put_format(server, {"template": "twelve-step"})
    assert status == 200, view
    assert view["room"] == ROOM and view["id"] == "twelve-step" and view["running"] is False
    assert view["index"] is None and view["next_index"] == 0 and view["free_until"] is None
    assert view["auto_advance"] is False and view["free_minutes"] == 15 and view["minutes"] == 71
    assert view["segments"] == [s.to_wire() for s in TWELVE.segments]
    changed = await ana.wait_event("format.changed")
    assert changed["data"] == {"format_id": "twelve-step"} and changed["actor"] is None
    # A client reads the format (with its readings) again after format.changed.
    got = await ana.call("format.get", {"room": ROOM})
    assert got["ok"] and got["format"] == {k: v for k, v in view.items() if k != "room"}
    # ...and whoever joins finds it in the snapshot.
    late = await server.client(ROOM, "member", "Cai", join=False)
    snap = (await late.join(ROOM))["room"]
    assert snap["format"] == got["format"]
    assert (await call("GET", f"{server.url}/api/rooms/{ROOM}/format", headers=ADMIN)) == (200, view)

    status, _ = await call("DELETE", f"{server.url}/api/rooms/{ROOM}/format", headers=ADMIN)
    assert status == 204
    assert (await fac.wait_event("format.changed", lambda e: e["data"]["format_id"] is None))["actor"] is None
    assert (await ana.call("format.get", {"room": ROOM})) == {"ok": True, "format": None}
    assert (await call("GET", f"{server.url}/api/rooms/{ROOM}/format", headers=ADMIN))[0] == 404
    assert (await call("DELETE", f"{server.url}/api/rooms/{ROOM}/format", headers=ADMIN))[0] == 404
    status, audit = await call("GET", f"{server.url}/api/audit?room={ROOM}", headers=ADMIN)
    assert [(e["action"], e["actor"], e["target"], e["reason"]) for e in audit] == [
        ("format.set", None, None, "twelve-step"), ("format.clear", None, None, "twelve-step")]
    assert_no_reading_in(ana.events + fac.events + audit)


async def test_a_custom_format_and_bad_bodies(server: Running) -> None:
    await make_room(server)
    custom = {"id": "short", "name": {"en": "Short"}, "free_minutes": 0,
              "segments": [{"kind": "topic", "title": {"en": "Topic"}, "minutes": 5}]}
    status, view = await put_format(server, {"format": custom})
    assert status == 200 and view["id"] == "short" and view["segments"][0]["share_seconds"] is None
    bad = [
        ({"format": {**custom, "segments": [{**custom["segments"][0], "minutes": 0}]}},
         "format.segments[0].minutes: Input should be greater than or equal to 1"),
        ({"format": {**custom, "segments": [{**custom["segments"][0], "kind": "reading"}]}},
         "format.segments[0]: text: a reading needs its text"),
        ({"format": {**custom, "auto_advance": "no"}}, "format.auto_advance: Input should be a valid boolean"),
        ({"template": "nope"}, "template: no template 'nope'"),
        ({"template": "smart", "format": custom}, 'give either "template" or "format"'),
        ({}, 'give either "template" or "format"'),
        ({"template": "smart", "colour": 1}, "body: unknown key(s) colour"),
        ([1], "the body must be a JSON object"),
    ]
    for body, says in bad:
        status, answer = await put_format(server, body)
        assert status == 400 and answer["error"]["code"] == "invalid", (body, answer)
        assert says in answer["error"]["message"], answer
    assert (await put_format(server, {"template": "smart"}, room="nowhere"))[0] == 404
    await make_room(server, "help-room")
    status, answer = await call("POST", server.url + "/api/rooms", {"id": "oncall-x", "kind": "oncall"}, ADMIN)
    assert status == 201
    status, answer = await put_format(server, {"template": "smart"}, room="oncall-x")
    assert status == 400 and "only a circle" in answer["error"]["message"]
    assert (await call("PUT", f"{server.url}/api/rooms/{ROOM}/format", {"template": "smart"}))[0] == 401


# -- running a meeting ----------------------------------------------------------------------------

async def test_running_a_meeting_over_the_socket(server: Running) -> None:
    await make_room(server, share_seconds=240)
    fac, ana, ben = await people(server)
    assert (await put_format(server, {"template": "twelve-step"}))[0] == 200
    forbidden = await ana.call("format.start", {"room": ROOM})
    assert forbidden["ok"] is False and forbidden["error"]["code"] == "forbidden"
    for event in ("format.advance", "format.end"):
        answer = await fac.call(event, {"room": ROOM})
        assert answer["error"]["code"] == "conflict", (event, answer)
    assert (await fac.call("format.advance", {"room": ROOM, "index": "1"}))["error"]["code"] == "invalid"
    assert (await fac.call("format.advance", {"room": ROOM, "index": 30}))["error"]["code"] == "invalid"
    assert (await fac.call("format.start", {"room": ROOM, "reader": "Nobody"}))["error"]["code"] == "not_found"

    t0 = server.clock.now_ms()
    assert await fac.call("format.start", {"room": ROOM, "reader": "Ana"}) == {"ok": True}
    started = await ben.wait_event("format.started")
    assert started["actor"] == "Fatima"
    assert started["data"] == {"format_id": "twelve-step", "index": 0, "started_at": t0, "ends_at": t0 + 5 * MIN,
                               "reader_id": "Ana", "newcomers": 0}
    granted = await ben.wait_event("floor.granted", lambda e: e["data"]["participant_id"] == "Ana")
    assert granted["data"]["deadline"] is None  # a reading is untimed
    assert (await fac.call("format.start", {"room": ROOM}))["error"]["code"] == "conflict"

    # No auto-advance: when the part's time is up, staff alone are told, once.
    await server.clock.advance(5 * MIN)
    overtime = await fac.wait_private("format.overtime")
    assert overtime == {"room": ROOM, "index": 0, "ends_at": t0 + 5 * MIN}
    await server.clock.advance(10 * MIN)
    await ana.call("reaction.send", {"room": ROOM, "kind": "thanks"})
    await fac.wait_event("reaction")
    assert [n for n, _ in fac.private].count("format.overtime") == 1
    assert "format.overtime" not in [n for n, _ in ana.private + ben.private]

    # The chair moves on to the guidelines with Ben reading, then jumps to the sharing.
    assert await fac.call("format.advance", {"room": ROOM, "reader": "Ben"}) == {"ok": True}
    seg = await ana.wait_event("format.segment")
    assert seg["data"]["index"] == 1 and seg["data"]["reader_id"] == "Ben"
    assert (await fac.call("format.advance", {"room": ROOM, "index": 4, "reader": "Ana"}))["error"]["code"] \
        == "invalid"
    assert await fac.call("format.advance", {"room": ROOM, "index": 4}) == {"ok": True}
    await ana.wait_event("format.segment", lambda e: e["data"]["index"] == 4)
    settings = await ana.wait_event("settings.changed", lambda e: e["data"]["settings"]["share_seconds"] == 180)
    assert settings["data"]["settings"]["auto_advance"] is True
    assert (await ana.call("hand.raise", {"room": ROOM}))["ok"]
    await ben.wait_event("floor.granted", lambda e: e["data"]["participant_id"] == "Ana")

    # Milestones: the room is invited to share them.
    assert await fac.call("format.advance", {"room": ROOM}) == {"ok": True}
    invite = await ben.wait_event("format.milestones")
    assert invite["data"] == {"index": 5}

    # End early: the room goes back to its settings, and stays.
    assert await fac.call("format.end", {"room": ROOM}) == {"ok": True}
    await ben.wait_event("format.ended")
    status, summary = await call("GET", f"{server.url}/api/rooms/{ROOM}", headers=ADMIN)
    assert status == 200 and summary["settings"]["auto_advance"] is True and summary["settings"]["share_seconds"] == 240
    status, view = await call("GET", f"{server.url}/api/rooms/{ROOM}/format", headers=ADMIN)
    assert view["running"] is False and view["index"] is None
    status, audit = await call("GET", f"{server.url}/api/audit?room={ROOM}", headers=ADMIN)
    assert [(e["action"], e["actor"], e["target"]) for e in audit] == [
        ("format.set", None, None), ("format.start", "Fatima", None), ("format.advance", "Fatima", "Ben"),
        ("format.advance", "Fatima", None), ("format.advance", "Fatima", None), ("format.end", "Fatima", None)]
    assert_no_reading_in([c.events for c in (fac, ana, ben)] + [c.private for c in (fac, ana, ben)] + audit)


async def test_the_clock_runs_a_smart_meeting_to_its_end_once(make_server: MakeServer) -> None:
    s = await make_server()
    await make_room(s, share_seconds=300, audio="floor", chat="open", title="Tuesday")
    fac, ana, ben = await people(s)
    assert (await put_format(s, {"template": "twelve-step"}))[0] == 200
    assert (await put_format(s, {"template": "smart"}))[0] == 200  # changed before the start: fine
    assert await fac.call("format.start", {"room": ROOM}) == {"ok": True}
    await ana.wait_event("format.started")
    assert (await put_format(s, {"template": "twelve-step"}))[0] == 409

    # The welcome's five minutes run out: the check-in round starts by itself.
    await s.clock.advance(5 * MIN)
    seg = await ana.wait_event("format.segment")
    assert seg["data"]["index"] == 1 and seg["actor"] is None
    round_ = await ana.wait_event("round.started")
    assert round_["data"]["order"] == ["Fatima", "Ana", "Ben"] and round_["seq"] > seg["seq"]
    first = await ana.wait_event("floor.granted", lambda e: e["seq"] > round_["seq"])
    assert first["data"]["participant_id"] == "Fatima"
    assert first["data"]["deadline"] == first["data"]["started_at"] + 120_000  # the round's share length
    # Someone drops and comes back: the meeting does not move (the count at the end).
    await ben.close()
    ben2 = await s.client(ROOM, "member", "Ben")

    # Moved on part by part by the clock, each once, to the free time.
    for index, minutes in ((2, 15), (3, 10), (4, 40), (5, 10)):
        await s.clock.advance(minutes * MIN)
        await ana.wait_event("format.segment", lambda e, i=index: e["data"]["index"] == i)
    assert await fac.call("format.advance", {"room": ROOM}) == {"ok": True}
    free = await ana.wait_event("format.free")
    free_until = free["data"]["ends_at"]
    assert free_until == s.clock.now_ms() + 15 * MIN
    opened = await ana.wait_event("settings.changed", lambda e: e["seq"] > free["seq"])
    assert opened["data"]["settings"]["audio"] == "open" and opened["data"]["settings"]["chat"] == "open"
    raised = await ana.call("hand.raise", {"room": ROOM})
    assert raised["error"]["code"] == "conflict"
    assert (await fac.call("format.advance", {"room": ROOM}))["error"]["code"] == "conflict"

    # The free time runs out: the meeting ends once, the room stays with its own settings.
    await s.clock.advance(15 * MIN)
    ended = await ana.wait_event("format.ended")
    assert ended["data"] == {} and ended["actor"] is None
    back = await ana.wait_event("settings.changed", lambda e: e["seq"] > ended["seq"])
    assert back["data"]["settings"]["share_seconds"] == 300 and back["data"]["settings"]["audio"] == "floor"
    await s.clock.advance(60 * MIN)
    await ana.call("reaction.send", {"room": ROOM, "kind": "heart"})
    await ana.wait_event("reaction")
    assert ana.types().count("format.ended") == 1 and ana.types().count("format.free") == 1
    assert [e["data"]["index"] for e in ana.events if e["type"] == "format.segment"] == [1, 2, 3, 4, 5]
    status, summary = await call("GET", f"{s.url}/api/rooms/{ROOM}", headers=ADMIN)
    assert status == 200 and summary["settings"]["title"] == "Tuesday"
    assert_no_reading_in([c.events + c.private for c in (fac, ana, ben2)])


async def test_readings_never_pass_moderation_or_reach_the_logs(make_server: MakeServer,
                                                                caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    # Moderation that would block one of the reading's words, and flag crisis language.
    s = await make_server(moderation={"pipeline": ["blocked_terms", "crisis"],
                                      "blocked_terms": {"terms": ["whisky"]}})
    await make_room(s)
    fac, ana, _ = await people(s)
    text = "If whisky calls you tonight, you are not alone. I wanted to die once; today I am here."
    custom = {"id": "words", "name": {"en": "Words"}, "segments": [
        {"kind": "reading", "title": {"en": "A reading"}, "minutes": 3, "text": {"en": text}}]}
    status, view = await put_format(s, {"format": custom})
    assert status == 200 and view["segments"][0]["text"] == {"en": text}
    assert await fac.call("format.start", {"room": ROOM, "reader": "Ana"}) == {"ok": True}
    await ana.wait_event("format.started")
    got = await ana.call("format.get", {"room": ROOM})
    assert got["format"]["segments"][0]["text"]["en"] == text
    # The chat path does judge the same words: the pipeline is there and working.
    refused = await ana.call("chat.send", {"room": ROOM, "text": "I drank whisky"})
    assert refused["error"]["code"] == "blocked"
    await ana.call("reaction.send", {"room": ROOM, "kind": "heart"})
    await fac.wait_event("reaction")
    alerts = [d for n, d in fac.private if n == "moderation.alert"]
    assert [a["kind"] for a in alerts] == ["blocked"]  # the chat message's, none for the reading
    assert not [n for n, _ in ana.private if n == "crisis.offer"]
    assert text not in json.dumps([fac.events, ana.events, fac.private, ana.private])
    for record in caplog.records:
        line = record.getMessage() + json.dumps({k: str(v) for k, v in record.__dict__.items()})
        assert "whisky calls" not in line and "wanted to die" not in line
