"""No escalation (PRODUCT.md "Reliability"): a generated matrix of events × roles × rooms ×
token states, where nothing outside its rights ever succeeds; and members given a
service (chair, timekeeper, greeter) get exactly its powers.

Every facilitator control (contract §4.1, "(F)") and every staff-only event is tried by
every kind of caller that may not use it, in a circle and in an on-call room: members,
facilitators and responders whose token is for another room, responders in a circle,
and callers with the right token who have not joined. Each must be refused, and the
room's log must not move. Tokens in a bad state (expired, another key, ``alg: none``, a
role the server does not know, no subject) do not even connect. A control group with the
right to act shows that the same calls do succeed, so the refusals are not an accident
of the payloads.
"""

from __future__ import annotations

import itertools
import time
from typing import Any

import jwt
import pytest

from tests.integration.conftest import Running
from tests.support import SECRET, Client, token

VICTIM = "victim"
# Each facilitator control, with a payload that succeeds for someone allowed to use it.
CONTROLS: dict[str, dict[str, Any]] = {
    "participant.mute": {"participant": VICTIM, "muted": True},
    "floor.grant": {"participant": VICTIM},
    "floor.revoke": {},
    "floor.extend": {"seconds": 60},
    "participant.service": {"participant": VICTIM, "service": "greeter"},
    "queue.move": {"participant": VICTIM, "index": 0},
    "round.start": {},
    "round.stop": {},
    "room.settings": {"chat": "facilitators"},
    "participant.remove": {"participant": VICTIM, "ban": True, "reason": "test"},
    "lobby.admit": {"participant": VICTIM},
    "lobby.deny": {"participant": VICTIM},
    "chat.delete": {"seq": 1},
    "chat.review": {"id": "nothing-held", "approve": True},
    "oncall.private": {"participant": VICTIM},
    "format.start": {},
    "format.advance": {},
    "format.end": {},
    "groups.start": {"groups": [[VICTIM]], "minutes": 5},
    "groups.visit": {"group": "group-x"},
    "groups.end": {},
    "room.end": {},
}
REFUSALS = {"forbidden", "not_joined", "not_found", "unauthorized"}
KINDS = {"circle": "matrix-circle", "oncall": "matrix-oncall"}


async def room_with_victim(server: Running, kind: str) -> tuple[str, Client, Client]:
    room = KINDS[kind]
    if kind == "oncall":
        from server.gateway import keys
        await server.app[keys.SERVICE].create_room(room, "oncall", "On-call", {})
    owner = await server.client(room, "facilitator", "Owner", sub="owner")
    if kind == "circle":
        # A meeting format, so that refusing its controls is about who asks, not about its absence.
        from server.core import commands as c
        from server.formats import shipped
        from server.gateway import keys
        await server.app[keys.SERVICE].execute(room, c.SYSTEM, c.FormatSet(shipped()[0]))
    victim = await server.client(room, "member", "Victim", sub=VICTIM)
    assert (await victim.call("chat.send", {"room": room, "text": "hello"}))["ok"]
    return room, owner, victim


async def log_top(observer: Client, room: str) -> int:
    """The room's last seq, as a fresh join by the observer reports it."""
    ack = await observer.call("join", {"room": room})
    assert ack["ok"], ack
    return int(ack["room"]["seq"])


def scope_of(scope: str, room: str) -> str:
    return {"own": room, "other": "some-other-room", "any": "*"}[scope]


@pytest.mark.parametrize("kind", ["circle", "oncall"])
async def test_no_caller_without_the_right_succeeds_at_any_control(server: Running, kind: str) -> None:
    room, owner, _victim = await room_with_victim(server, kind)
    before = await log_top(owner, room)
    tried = 0
    for role, scope, joins in itertools.product(("member", "facilitator", "responder"),
                                                ("own", "other", "any"), (True, False)):
        allowed = (role == "facilitator" or (role == "responder" and kind == "oncall")) \
            and scope != "other" and joins
        if allowed:
            continue  # the control group below
        sub = f"{role}-{scope}-{'in' if joins else 'out'}"
        caller = Client(server.url, token(scope_of(scope, room), role, name=sub, sub=sub), name=sub)
        server.clients.append(caller)
        await caller.connect()
        if joins:
            ack = await caller.call("join", {"room": room})
            assert ack["ok"] == (scope != "other"), (sub, ack)
        for event, payload in CONTROLS.items():
            ack = await caller.call(event, {"room": room, **payload})
            tried += 1
            assert not ack["ok"], (sub, event, ack)
            assert ack["error"]["code"] in REFUSALS, (sub, event, ack)
        if role != "responder":
            ack = await caller.call("oncall.duty", {"on": True})
            assert not ack["ok"] and ack["error"]["code"] == "forbidden", (sub, ack)
        await caller.close()
    assert tried == (16 if kind == "circle" else 14) * len(CONTROLS)
    # Nothing any of them tried reached the log (joins and leaves of the callers aside).
    after = await log_top(owner, room)
    events = [e for e in owner.events if before < e["seq"] <= after]
    assert {e["type"] for e in events} <= {"participant.joined", "participant.left", "participant.updated"}, events
    assert all(e["actor"] != VICTIM and (e["data"].get("participant_id") != VICTIM) for e in events)


@pytest.mark.parametrize("kind", ["circle", "oncall"])
async def test_the_same_calls_succeed_for_those_with_the_right(server: Running, kind: str) -> None:
    room, owner, victim = await room_with_victim(server, kind)
    role = "responder" if kind == "oncall" else "facilitator"
    for scope in ("own", "any"):
        staff = await server.client(scope_of(scope, room), role, f"Staff {scope}", sub=f"staff-{scope}", join=False)
        assert (await staff.call("join", {"room": room}))["ok"]
        ack = await staff.call("participant.mute", {"room": room, **CONTROLS["participant.mute"]})
        assert ack["ok"], (scope, ack)
        ack = await staff.call("participant.mute", {"room": room, "participant": VICTIM, "muted": False})
        assert ack["ok"], (scope, ack)
        ack = await staff.call("floor.grant", {"room": room, "participant": VICTIM})
        assert ack["ok"], (scope, ack)
        assert (await staff.call("floor.revoke", {"room": room}))["ok"]
    if kind == "circle":
        for event in ("format.start", "format.advance", "format.end"):
            ack = await owner.call(event, {"room": room})
            assert ack == {"ok": True}, (event, ack)
    assert (await owner.call("room.settings", {"room": room, **CONTROLS["room.settings"]}))["ok"]
    assert (await owner.call("chat.delete", {"room": room, "seq": await first_message(owner, room)}))["ok"]
    split = await owner.call("groups.start", {"room": room, **CONTROLS["groups.start"]})
    if kind == "circle":
        assert split["ok"], split
        assert (await owner.call("groups.visit", {"room": room, "group": split["groups"][0]["room"]}))["ok"]
        assert (await owner.call("groups.end", {"room": room}))["ok"]
    else:
        assert split["error"]["code"] == "invalid"  # an on-call room is never split
    assert (await owner.call("participant.remove", {"room": room, **CONTROLS["participant.remove"]}))["ok"]
    removed = await victim.wait_private("removed")
    assert removed["banned"] is True
    assert (await owner.call("room.end", {"room": room}))["ok"]


async def first_message(observer: Client, room: str) -> int:
    ack = await observer.call("join", {"room": room})
    return int(ack["room"]["recent"][0]["seq"])


@pytest.mark.parametrize("state", ["expired", "other-key", "alg-none", "role-system", "role-admin", "no-subject"])
async def test_tokens_in_a_bad_state_do_not_connect(server: Running, state: str) -> None:
    now = int(time.time())
    claims: dict[str, Any] = {"sub": "x", "name": "X", "role": "facilitator", "room": "*",
                              "iat": now, "exp": now + 600}
    secret = SECRET
    if state == "expired":
        claims.update(iat=now - 1200, exp=now - 600)
    elif state == "other-key":
        secret = "another-secret-0123456789abcdef-0123456789"
    elif state == "role-system":
        claims["role"] = "system"
    elif state == "role-admin":
        claims["role"] = "admin"
    elif state == "no-subject":
        del claims["sub"]
    if state == "alg-none":
        tok = jwt.encode(claims, key=None, algorithm="none")  # type: ignore[arg-type]
    else:
        tok = jwt.encode(claims, secret, algorithm="HS256")
    caller = Client(server.url, tok, name=state)
    server.clients.append(caller)
    assert not await caller.try_connect()


# What each service may do of CONTROLS (rules.SERVICE_POWERS, on the wire).
SERVICE_CONTROLS = {"chair": {"floor.grant", "round.start", "round.stop",
                              "format.start", "format.advance", "format.end"},
                    "timekeeper": {"floor.extend"},
                    "greeter": {"lobby.admit", "lobby.deny"}}


@pytest.mark.parametrize("service", sorted(SERVICE_CONTROLS))
async def test_a_member_given_a_service_can_do_exactly_that(server: Running, service: str) -> None:
    room, owner, victim = await room_with_victim(server, "circle")
    helper = await server.client(room, "member", "Helper", sub="helper")
    assert (await owner.call("participant.service", {"room": room, "participant": "helper", "service": service}))["ok"]
    await helper.wait_event("participant.updated", lambda e: e["data"]["participant"].get("service") == service)
    # The set-up each allowed call needs: a timed share in progress, someone in the lobby.
    assert (await owner.call("room.settings", {"room": room, "share_seconds": 120, "lobby": True}))["ok"]
    assert (await owner.call("floor.grant", {"room": room, "participant": VICTIM}))["ok"]
    for n in range(2):
        waiting = await server.client(room, "member", f"Waiting {n}", sub=f"waiting-{n}", join=False)
        assert (await waiting.call("join", {"room": room}))["error"]["code"] == "lobby"
    payloads = {**CONTROLS, "lobby.admit": {"participant": "waiting-0"}, "lobby.deny": {"participant": "waiting-1"}}
    order = ["floor.extend", "round.start", "round.stop", "floor.grant", "lobby.admit", "lobby.deny"]
    for event in [*order, *(e for e in CONTROLS if e not in order)]:
        ack = await helper.call(event, {"room": room, **payloads[event]})
        if event in SERVICE_CONTROLS[service]:
            assert ack["ok"], (service, event, ack)
        else:
            assert not ack["ok"] and ack["error"]["code"] == "forbidden", (service, event, ack)
    # The victim was never muted, removed or banned by the helper.
    assert (await victim.call("hand.raise", {"room": room}))["ok"]
