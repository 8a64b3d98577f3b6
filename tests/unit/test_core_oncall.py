"""The on-call rules in the pure core: waiting, tier-1 page, one escalation, answer."""

from __future__ import annotations

from server.core import commands as c
from server.core.model import RoomState, Settings
from server.core.rules import apply, next_deadline

T0 = 1_700_000_000_000
MINA = c.Actor("mina", "Mina", "member", "w:m")
RAVI = c.Actor("ravi", "Ravi", "responder", "w:r")


def oncall_room() -> RoomState:
    return RoomState(id="oncall", kind="oncall", settings=Settings(escalate_after_seconds=60), created_at=T0)


def test_member_waits_and_on_duty_responders_are_paged() -> None:
    o = apply(oncall_room(), MINA, c.Join(), T0)
    assert "mina" in o.state.waiting
    pages = [n for n in o.notices if n.event == "oncall.page"]
    assert len(pages) == 1 and pages[0].to.kind == "on_duty" and pages[0].data["tier"] == 1
    assert next_deadline(o.state) == T0 + 60_000


def test_escalation_fires_once() -> None:
    s = apply(oncall_room(), MINA, c.Join(), T0).state
    assert not apply(s, c.SYSTEM, c.Tick(), T0 + 59_999).changed
    o = apply(s, c.SYSTEM, c.Tick(), T0 + 60_000)
    assert sorted(n.to.kind for n in o.notices) == ["staff", "webhook"]
    assert any(a.action == "oncall.escalate" for a in o.audit)
    assert next_deadline(o.state) is None
    assert not apply(o.state, c.SYSTEM, c.Tick(), T0 + 999_000).changed


def test_responder_answers_everyone_waiting() -> None:
    s = apply(oncall_room(), MINA, c.Join(), T0).state
    o = apply(s, RAVI, c.Join(), T0 + 7_000)
    answered = [e for e in o.events if e.type == "oncall.answered"]
    assert answered[0].data == {"responder_id": "ravi", "participant_id": "mina", "waited_ms": 7_000}
    assert o.state.waiting == {}


def test_member_who_leaves_stops_waiting() -> None:
    s = apply(oncall_room(), MINA, c.Join(), T0).state
    assert apply(s, MINA, c.Leave(), T0 + 1).state.waiting == {}


def test_circle_rooms_have_no_waiting() -> None:
    s = RoomState(id="circle", kind="circle", settings=Settings(), created_at=T0)
    o = apply(s, MINA, c.Join(), T0)
    assert o.state.waiting == {} and o.notices == ()


def test_whoever_was_paged_is_told_when_the_wait_is_over() -> None:
    # Answered before escalation: the on-duty responders who were paged can stop.
    s = apply(oncall_room(), MINA, c.Join(), T0).state
    o = apply(s, RAVI, c.Join(), T0 + 7_000)
    [done] = [n for n in o.notices if n.event == "oncall.resolved"]
    assert done.to.kind == "on_duty"
    assert done.data == {"room": "oncall", "participant_id": "mina", "reason": "answered"}
    # Escalated, then gone: everyone paged at tier 2 (staff) is told.
    s = apply(apply(oncall_room(), MINA, c.Join(), T0).state, c.SYSTEM, c.Tick(), T0 + 60_000).state
    o = apply(s, MINA, c.Leave(), T0 + 61_000)
    [done] = [n for n in o.notices if n.event == "oncall.resolved"]
    assert done.to.kind == "staff" and done.data["reason"] == "left"
    # Nobody was waiting: nothing to tell.
    assert not [n for n in apply(o.state, RAVI, c.Join(), T0 + 62_000).notices if n.event == "oncall.resolved"]


def private_room() -> RoomState:
    return RoomState(id="private-1", kind="oncall", settings=Settings(locked=True, audio="open",
                                                                         share_seconds=None),
                     created_at=T0, admitted={"mina"}, allowed={"mina", "ravi"}, parent="oncall")


def test_a_private_room_pages_nobody() -> None:
    # Issue 12, item 6: the member got there before the responder; no page, no
    # escalation (to all facilitators and the webhook) with the private room's id.
    o = apply(private_room(), MINA, c.Join(), T0)
    assert "mina" in o.state.participants and not o.state.waiting
    assert not [n for n in o.notices if n.event == "oncall.page"]
    assert next_deadline(o.state) is None


def test_only_the_two_people_of_a_private_room_may_join_it_staff_included() -> None:
    import pytest

    from server.core.errors import CommandError
    s = apply(private_room(), MINA, c.Join(), T0).state
    s = apply(s, RAVI, c.Join(), T0).state
    assert set(s.participants) == {"mina", "ravi"}
    for intruder in (c.Actor("fay", "Fay", "facilitator", "w:f"), c.Actor("rhea", "Rhea", "responder", "w:x"),
                     c.Actor("ben", "Ben", "member", "w:b")):
        with pytest.raises(CommandError) as e:
            apply(s, intruder, c.Join(), T0)
        assert e.value.code == "forbidden"
    # The member comes back after a dropped connection: still allowed.
    s = apply(s, MINA, c.Leave(), T0).state
    assert "mina" in apply(s, MINA, c.Join(), T0).state.participants


# -- opening and closing a private room (issue 15: the rule lives here, not in the service) --

def test_staff_of_an_on_call_room_open_a_private_room_and_it_is_audited_by_id() -> None:
    s = apply(apply(oncall_room(), MINA, c.Join(), T0).state, RAVI, c.Join(), T0).state
    o = apply(s, RAVI, c.OpenPrivate(participant="mina", room="private-abc"), T0 + 5)
    [made] = o.opened
    assert made.id == "private-abc" and made.parent == "oncall" and made.kind == "oncall"
    assert made.allowed == {"mina", "ravi"} and made.admitted == {"mina"} and made.created_at == T0 + 5
    assert made.settings.locked and made.settings.audio == "open" and made.settings.share_seconds is None
    assert o.reply == {"room": "private-abc"}
    # The on-call room's log does not move (nobody else learns of the private room)...
    assert o.events == () and o.state.participants == s.participants
    # ...the two of them are told where to go (the service adds each one's token)...
    assert sorted((n.event, n.to.kind, n.to.room, n.to.participant) for n in o.notices) == [
        ("oncall.moved", "participant", "oncall", "mina"), ("oncall.moved", "participant", "oncall", "ravi")]
    assert all(n.data == {"from_room": "oncall", "room": "private-abc"} for n in o.notices)
    # ...but the audit has who opened which room for whom: ids only, no names.
    [entry] = o.audit
    assert (entry.room, entry.actor, entry.action, entry.target, entry.reason) == \
        ("oncall", "ravi", "oncall.private", "mina", "private-abc")
    assert "Mina" not in str(entry.to_wire()) and "Ravi" not in str(entry.to_wire())


def test_only_staff_of_an_on_call_room_may_open_a_private_room() -> None:
    import pytest

    from server.core.errors import CommandError
    s = apply(apply(oncall_room(), MINA, c.Join(), T0).state, RAVI, c.Join(), T0).state
    cmd = c.OpenPrivate(participant="mina", room="private-abc")
    circle = RoomState(id="circle", kind="circle", settings=Settings(), created_at=T0)
    fay = c.Actor("fay", "Fay", "facilitator", "w:f")
    circle = apply(apply(apply(circle, MINA, c.Join(), T0).state, RAVI, c.Join(), T0).state, fay, c.Join(), T0).state
    for state, actor, code in ((s, MINA, "forbidden"),          # a member
                               (circle, RAVI, "forbidden"),     # a responder in a circle
                               (circle, fay, "forbidden"),      # not an on-call room at all
                               (s, c.SYSTEM, "forbidden"),      # nobody to go with the member
                               (oncall_room(), RAVI, "not_joined")):
        with pytest.raises(CommandError) as e:
            apply(state, actor, cmd, T0)
        assert e.value.code == code, (actor, code)
    with pytest.raises(CommandError) as e:
        apply(s, RAVI, c.OpenPrivate(participant="sam", room="private-abc"), T0)
    assert e.value.code == "not_found"


def test_closing_a_private_room_ends_it_and_sends_both_back() -> None:
    import pytest

    from server.core.errors import CommandError
    s = apply(apply(private_room(), MINA, c.Join(), T0).state, RAVI, c.Join(), T0).state
    with pytest.raises(CommandError) as e:
        apply(s, MINA, c.ClosePrivate(), T0)
    assert e.value.code == "forbidden"
    o = apply(s, RAVI, c.ClosePrivate(), T0)
    assert o.state.ended and [e.type for e in o.events] == ["room.ended"]
    assert [a.action for a in o.audit] == ["room.end"]
    assert sorted((n.event, n.to.room, n.to.participant) for n in o.notices) == [
        ("oncall.returned", "oncall", "mina"), ("oncall.returned", "oncall", "ravi")]
    assert o.reply == {"room": "oncall"}
    on_call = apply(oncall_room(), RAVI, c.Join(), T0).state
    with pytest.raises(CommandError) as e:
        apply(on_call, RAVI, c.ClosePrivate(), T0)
    assert e.value.code == "invalid"
