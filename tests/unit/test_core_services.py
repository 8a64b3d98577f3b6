"""Services handed to members for a meeting (chair, timekeeper, greeter), consent at
entry and new/returning arrivals, in the pure core."""

from __future__ import annotations

import pytest

from server.core import commands as c
from server.core.errors import CommandError
from server.core.model import Format, RoomState, Segment, Settings, Text
from server.core.rules import RULES, SERVICE_POWERS, Need, apply, snapshot

T0 = 1_700_000_000_000
FAC = c.Actor("fac", "Fatima", "facilitator", "w:f")
ANA = c.Actor("ana", "Ana", "member", "w:a")
BEN = c.Actor("ben", "Ben", "member", "w:b")
CAL = c.Actor("cal", "Cal", "member", "w:c")


def room(**settings: object) -> RoomState:
    """Fatima (facilitator), Ana and Ben in a circle, then ``settings`` set."""
    s = RoomState(id="circle", kind="circle", settings=Settings(), created_at=T0)
    for who in (FAC, ANA, BEN):
        s = apply(s, who, c.Join(), T0).state
    return apply(s, FAC, c.ChangeSettings(settings), T0).state if settings else s


def give(s: RoomState, pid: str, service: str | None) -> RoomState:
    return apply(s, FAC, c.ServiceSet(pid, service), T0).state


# A command of each Need.STAFF kind that succeeds when allowed, on a room prepared for it.
def staff_attempts(s: RoomState) -> dict[type[c.Command], tuple[RoomState, c.Command]]:
    held = apply(s, FAC, c.FloorGrant("ben"), T0).state
    rounding = apply(s, FAC, c.RoundStart(), T0).state
    lobby = apply(room(lobby=True), CAL, c.Join(), T0).state
    queued = apply(apply(s, BEN, c.HandRaise(), T0).state, FAC, c.HandRaise(), T0).state
    fmt = Format(id="f", name=Text(en="Meeting"), segments=(Segment("topic", Text(en="Topic"), 5),
                                                            Segment("closing", Text(en="Closing"), 5)))
    formatted = apply(s, FAC, c.FormatSet(fmt), T0).state
    running = apply(formatted, FAC, c.FormatStart(), T0).state
    split_cmd = c.GroupsStart(groups=None, count=2, minutes=5, rooms=("group-a", "group-b"))
    split = apply(s, FAC, split_cmd, T0).state
    return {
        c.FloorGrant: (s, c.FloorGrant("ben")),
        c.FloorRevoke: (held, c.FloorRevoke()),
        c.FloorExtend: (held, c.FloorExtend(60)),
        c.QueueMove: (queued, c.QueueMove("fac", 0)),
        c.RoundStart: (s, c.RoundStart()),
        c.RoundStop: (rounding, c.RoundStop()),
        c.ChangeSettings: (s, c.ChangeSettings({"chat": "facilitators"})),
        c.Mute: (s, c.Mute("ben", True)),
        c.Remove: (s, c.Remove("ben")),
        c.LobbyAdmit: (lobby, c.LobbyAdmit("cal")),
        c.LobbyDeny: (lobby, c.LobbyDeny("cal")),
        c.EndRoom: (s, c.EndRoom()),
        c.ServiceSet: (s, c.ServiceSet("ben", "greeter")),
        c.InviteCreate: (s, c.InviteCreate("i", "h", T0 + 10_000)),
        c.ScheduleClear: (s, c.ScheduleClear()),
        c.FormatSet: (s, c.FormatSet(fmt)),
        c.FormatClear: (formatted, c.FormatClear()),
        c.FormatStart: (formatted, c.FormatStart()),
        c.FormatAdvance: (running, c.FormatAdvance()),
        c.FormatEnd: (running, c.FormatEnd()),
        c.GroupsStart: (s, split_cmd),
        c.GroupsEnd: (split, c.GroupsEnd()),
        c.GroupsVisit: (split, c.GroupsVisit("group-a")),
    }


@pytest.mark.parametrize("service", ["chair", "timekeeper", "greeter"])
def test_each_service_gives_exactly_its_powers(service: str) -> None:
    attempts = staff_attempts(room())
    staff_commands = {t for t, (_, need) in RULES.items() if need is Need.STAFF}
    # Every staff command but the few that need more set-up than this test makes is tried.
    untried = staff_commands - set(attempts)
    assert untried <= {c.ChatDelete, c.ChatReview, c.OpenPrivate, c.ClosePrivate, c.InviteRevoke, c.ScheduleSet}
    for kind, (state, command) in attempts.items():
        if ANA.id not in state.participants:
            state = apply(state, ANA, c.Join(), T0).state
        state = give(state, "ana", service)
        if kind in SERVICE_POWERS[service]:
            apply(state, ANA, command, T0)  # succeeds
        else:
            with pytest.raises(CommandError) as e:
                apply(state, ANA, command, T0)
            assert e.value.code in {"forbidden", "not_found"}, (service, kind, e.value)
            assert e.value.code == "forbidden" or kind is c.ScheduleClear, (service, kind)
    assert SERVICE_POWERS["chair"] == {c.FloorGrant, c.RoundStart, c.RoundStop, c.FormatStart, c.FormatAdvance,
                                       c.FormatEnd}
    assert SERVICE_POWERS["timekeeper"] == {c.FloorExtend}
    assert SERVICE_POWERS["greeter"] == {c.LobbyAdmit, c.LobbyDeny}


def test_only_facilitators_hand_out_services_and_only_to_members() -> None:
    s = give(room(), "ana", "chair")
    with pytest.raises(CommandError) as e:
        apply(s, ANA, c.ServiceSet("ben", "greeter"), T0)  # the chair cannot make a greeter
    assert e.value.code == "forbidden"
    with pytest.raises(CommandError) as staff:
        apply(s, FAC, c.ServiceSet("fac", "chair"), T0)
    assert staff.value.code == "invalid"
    with pytest.raises(CommandError):
        apply(s, FAC, c.ServiceSet("ana", "treasurer"), T0)


def test_a_service_shows_on_the_participant_and_is_audited() -> None:
    o = apply(room(), FAC, c.ServiceSet("ana", "timekeeper"), T0)
    [ev] = o.events
    assert ev.type == "participant.updated" and ev.data["participant"]["service"] == "timekeeper"
    assert [(a.action, a.target, a.reason) for a in o.audit] == [("service.give", "ana", "timekeeper")]
    back = apply(o.state, FAC, c.ServiceSet("ana", None), T0)
    assert "service" not in back.events[0].data["participant"]
    assert [(a.action, a.reason) for a in back.audit] == [("service.take", "timekeeper")]


def test_one_chair_at_a_time_and_greeters_any_number() -> None:
    s = give(give(room(), "ana", "chair"), "ben", "chair")
    assert (s.participants["ana"].service, s.participants["ben"].service) == (None, "chair")
    s = give(give(s, "ana", "greeter"), "ben", "greeter")
    assert (s.participants["ana"].service, s.participants["ben"].service) == ("greeter", "greeter")


def test_a_service_ends_when_its_holder_leaves() -> None:
    s = give(room(), "ana", "chair")
    s = apply(s, ANA, c.Leave(), T0).state
    s = apply(s, ANA, c.Join(), T0 + 1).state
    assert s.participants["ana"].service is None
    with pytest.raises(CommandError):
        apply(s, ANA, c.FloorGrant("ben"), T0 + 2)
    # A dropped connection that comes back within the grace keeps it.
    s = give(s, "ana", "chair")
    s = apply(s, ANA, c.Disconnect(), T0 + 3).state
    s = apply(s, ANA, c.Join(), T0 + 4).state
    assert s.participants["ana"].service == "chair"


def test_the_timekeeper_extends_a_share_and_the_warning_comes_again() -> None:
    s = room(share_seconds=120, warn_seconds=30)
    s = apply(s, FAC, c.FloorGrant("ben"), T0).state
    s = apply(s, c.SYSTEM, c.Tick(), T0 + 90_000).state  # the warning at 30 s left
    assert s.floor is not None and s.floor.warned
    s = give(s, "ana", "timekeeper")
    o = apply(s, ANA, c.FloorExtend(60), T0 + 100_000)
    assert o.state.floor is not None and o.state.floor.deadline == T0 + 180_000
    assert [e.type for e in o.events] == ["floor.extended"]
    assert o.events[0].data == {"participant_id": "ben", "deadline": T0 + 180_000, "seconds": 60}
    assert not o.state.floor.warned  # a new warning at 30 s before the new end
    warned = apply(o.state, c.SYSTEM, c.Tick(), T0 + 150_000)
    assert [e.type for e in warned.events] == ["floor.warning"]
    with pytest.raises(CommandError) as e:
        apply(room(), FAC, c.FloorExtend(60), T0)
    assert e.value.code == "conflict"  # nobody holds the floor


def test_greeters_see_the_lobby_and_who_is_new_staff_too_and_nobody_else() -> None:
    s = give(room(lobby=True), "ana", "greeter")
    o = apply(s, CAL, c.Join(arrival="new"), T0)
    waiting = [(n.event, n.to.kind, n.to.participant) for n in o.notices]
    assert ("lobby.waiting", "facilitators", "") in waiting and ("lobby.waiting", "participant", "ana") in waiting
    assert all(n.data["participant"]["arrival"] == "new" for n in o.notices if n.event == "lobby.waiting")
    assert "lobby" in snapshot(o.state, "member", [], viewer="ana")
    assert "lobby" not in snapshot(o.state, "member", [], viewer="ben")
    admitted = apply(o.state, ANA, c.LobbyAdmit("cal"), T0).state
    joined = apply(admitted, CAL, c.Join(arrival="new"), T0)
    # Everyone sees Cal join; only staff and greeters learn that Cal is new.
    [ev] = [e for e in joined.events if e.type == "participant.joined"]
    assert "arrival" not in ev.data["participant"]
    told = {(n.to.kind, n.to.participant) for n in joined.notices if n.event == "participant.arrival"}
    assert told == {("facilitators", ""), ("participant", "ana")}
    assert snapshot(joined.state, "member", [], viewer="ben")["newcomers"] == 1
    assert "arrivals" not in snapshot(joined.state, "member", [], viewer="ben")
    assert snapshot(joined.state, "facilitator", [], viewer="fac")["arrivals"] == {"cal": "new"}


def test_consent_is_asked_of_members_at_every_meeting_and_recorded_as_a_time_only() -> None:
    s = room(consent=True)
    dan = c.Actor("dan", "Dan", "member", "w:d")
    with pytest.raises(CommandError) as e:
        apply(s, dan, c.Join(), T0)
    assert e.value.code == "forbidden" and e.value.extra == {"consent": True}
    joined = apply(s, dan, c.Join(accept=True), T0 + 5)
    assert joined.state.participants["dan"].accepted_at == T0 + 5
    assert joined.events[0].data["participant"]["accepted_at"] == T0 + 5
    # A reconnect within the grace is the same meeting; leaving and coming back is not.
    dropped = apply(joined.state, dan, c.Disconnect(), T0 + 6).state
    assert apply(dropped, dan, c.Join(), T0 + 7).state.participants["dan"].connected
    left = apply(joined.state, dan, c.Leave(), T0 + 8).state
    with pytest.raises(CommandError):
        apply(left, dan, c.Join(), T0 + 9)
    # Facilitators run the room: they are not asked.
    apply(s, c.Actor("fac2", "F", "facilitator", "w:g"), c.Join(), T0)
