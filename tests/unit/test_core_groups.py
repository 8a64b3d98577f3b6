"""Small groups in the pure core (issue 17): a facilitator splits a circle for a set time;
everyone away in a group keeps their place; time up (or the facilitator) brings them back."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.core import commands as c
from server.core import groups
from server.core.errors import CommandError
from server.core.model import RoomState, Settings
from server.core.outcome import Outcome
from server.core.rules import apply, next_deadline, snapshot

T0 = 1_700_000_000_000
MIN = 60_000
FAC = c.Actor("fac", "Fatima", "facilitator", "w:f")
ANA, BEN, CAI, DEV, EVA, FIN = (c.Actor(p, p.title(), "member", f"w:{p}")
                                for p in ("ana", "ben", "cai", "dev", "eva", "fin"))
MEMBERS = [ANA, BEN, CAI, DEV]
ROOMS = ("group-one", "group-two")


def circle(*actors: c.Actor, **changes: object) -> RoomState:
    """``actors`` in a circle, which then gets the settings ``changes``."""
    s = RoomState(id="circle", kind="circle", settings=Settings(), created_at=T0)
    for a in actors:
        s = apply(s, a, c.Join(), T0).state
    return dataclasses.replace(s, settings=s.settings.updated(changes))


def evenly(count: int = 2, minutes: int = 10, rooms: tuple[str, ...] = ROOMS) -> c.GroupsStart:
    return c.GroupsStart(groups=None, count=count, minutes=minutes, rooms=rooms)


def by_hand(*groups: tuple[str, ...], minutes: int = 10) -> c.GroupsStart:
    return c.GroupsStart(groups=groups, count=None, minutes=minutes, rooms=ROOMS[:len(groups)])


def types(o: Outcome) -> list[str]:
    return [e.type for e in o.events]


def run(s: RoomState, steps: list[tuple[c.Actor, c.Command, int]]) -> RoomState:
    for actor, cmd, at in steps:
        s = apply(s, actor, cmd, at).state
    return s


# -- starting ---------------------------------------------------------------------------------

def test_evenly_deals_the_members_in_turn_and_staff_stay() -> None:
    s = circle(FAC, *MEMBERS, share_seconds=120, lobby=True, consent=False)
    o = apply(s, FAC, evenly(), T0 + 5)
    ends = T0 + 5 + 10 * MIN
    # Sorted ids dealt round-robin: the same split on every worker, as even as it comes.
    expected = [{"room": "group-one", "participants": ["ana", "cai"]},
                {"room": "group-two", "participants": ["ben", "dev"]}]
    assert types(o) == ["groups.started"]
    assert o.events[0].data == {"ends_at": ends, "groups": expected} and o.events[0].actor == "fac"
    assert o.reply == {"ends_at": ends, "groups": expected}
    assert o.state.groups is not None and o.state.groups.members == {"ana", "ben", "cai", "dev"}
    # Each group a room of its own: a circle from this one, its settings, its people and the staff.
    one, two = o.opened
    assert (one.id, one.kind, one.parent, one.group_ends_at) == ("group-one", "circle", "circle", ends)
    assert one.allowed == {"ana", "cai", "fac"} and two.allowed == {"ben", "dev", "fac"}
    assert one.settings.share_seconds == 120 and not one.settings.lobby and not one.settings.consent
    assert one.participants == {} and one.groups is None
    # Everyone moved is told where to go (the service adds their token); nobody else.
    assert sorted((n.event, n.to.room, n.to.participant, n.data["room"]) for n in o.notices) == [
        ("groups.moved", "circle", "ana", "group-one"), ("groups.moved", "circle", "ben", "group-two"),
        ("groups.moved", "circle", "cai", "group-one"), ("groups.moved", "circle", "dev", "group-two")]
    assert all(n.data == {"from_room": "circle", "room": n.data["room"], "ends_at": ends} for n in o.notices)
    # The audit: ids only.
    [entry] = o.audit
    assert (entry.action, entry.actor, entry.target, entry.reason) == \
        ("groups.start", "fac", None, "group-one group-two")
    assert "Ana" not in str(entry.to_wire())


def test_uneven_numbers_make_groups_one_apart() -> None:
    s = circle(FAC, *MEMBERS, EVA)
    o = apply(s, FAC, evenly(count=2), T0)
    assert [g.participants for g in o.state.groups.groups] == [("ana", "cai", "eva"), ("ben", "dev")]  # type: ignore[union-attr]
    with pytest.raises(CommandError) as e:
        apply(s, FAC, evenly(count=6, rooms=tuple(f"g-{i}" for i in range(6))), T0)
    assert e.value.code == "conflict"  # five members cannot make six groups


def test_by_hand_takes_anyone_connected_each_once() -> None:
    s = circle(FAC, *MEMBERS)
    o = apply(s, FAC, by_hand(("ana", "fac"), ("dev",)), T0)
    assert [g.participants for g in o.state.groups.groups] == [("ana", "fac"), ("dev",)]  # type: ignore[union-attr]
    gone = apply(s, BEN, c.Disconnect(), T0).state
    for state, cmd, code in [
        (s, by_hand(("ana", "ben"), ("ben",)), "invalid"),     # twice
        (s, by_hand(("ana", "zed")), "not_found"),              # not here
        (gone, by_hand(("ana", "ben")), "not_found"),           # not connected
        (s, by_hand(("ana",), ()), "invalid"),                  # an empty group
        (s, dataclasses.replace(evenly(), groups=(("ana",), ("ben",))), "invalid"),   # both ways at once
        (s, dataclasses.replace(evenly(), count=None), "invalid"),                   # neither
        (s, evenly(minutes=0), "invalid"),
        (s, evenly(minutes=121), "invalid"),
        (s, evenly(count=1, rooms=ROOMS[:1]), "invalid"),
        (s, evenly(rooms=("group-one",)), "invalid"),           # a room id per group
        (s, evenly(rooms=("group-one", "group-one")), "invalid"),
        (s, evenly(rooms=("group-one", "circle")), "invalid"),
        (s, evenly(rooms=("group-one", "Not An Id")), "invalid"),
    ]:
        with pytest.raises(CommandError) as e:
            apply(state, FAC, cmd, T0)
        assert e.value.code == code, cmd


def test_only_a_circles_facilitator_splits_it_and_only_once() -> None:
    s = circle(FAC, *MEMBERS)
    with pytest.raises(CommandError) as e:
        apply(s, ANA, evenly(), T0)
    assert e.value.code == "forbidden"
    split = apply(s, FAC, evenly(), T0)
    with pytest.raises(CommandError) as e:
        apply(split.state, FAC, evenly(rooms=("group-3", "group-4")), T0)
    assert e.value.code == "conflict"
    # A group is not split again; an on-call room is never split.
    one = run(split.opened[0], [(FAC, c.Join(), T0), (ANA, c.Join(), T0), (CAI, c.Join(), T0)])
    with pytest.raises(CommandError) as e:
        apply(one, FAC, by_hand(("ana",), ("cai",)), T0)
    assert e.value.code == "invalid"
    ravi = c.Actor("ravi", "Ravi", "responder", "w:r")
    oncall = run(RoomState(id="oncall", kind="oncall", settings=Settings(), created_at=T0),
                 [(ravi, c.Join(), T0), (ANA, c.Join(), T0), (BEN, c.Join(), T0)])
    with pytest.raises(CommandError) as e:
        apply(oncall, ravi, evenly(), T0)
    assert e.value.code == "invalid"
    with pytest.raises(CommandError) as e:
        apply(s, FAC, c.GroupsEnd(), T0)
    assert e.value.code == "conflict"  # nothing to end


# -- while the circle is split ----------------------------------------------------------------------

def queued(*order: c.Actor, **changes: object) -> RoomState:
    """Fatima and the four members; ``order`` raise their hands in turn (the first gets the floor)."""
    s = circle(FAC, *MEMBERS, EVA, **changes)
    for a in order:
        s = apply(s, a, c.HandRaise(), T0).state
    return s


def test_the_floor_leaves_for_a_group_and_passes_over_those_away() -> None:
    s = queued(ANA, BEN, CAI, EVA)
    assert s.floor is not None and s.floor.participant_id == "ana" and s.queue == ["ben", "cai", "eva"]
    o = apply(s, FAC, by_hand(("ana", "ben"), ("dev",)), T0 + 1)
    # Ana shares no more from her group: her share is hers again when she is back, at the
    # head of the queue. Ben is away too, so Cai is next; Ben keeps his place.
    assert types(o) == ["groups.started", "floor.released", "queue.moved", "floor.granted"]
    assert o.events[1].data == {"participant_id": "ana", "reason": "groups"}
    assert o.events[2].data == {"queue": ["ana", "ben", "cai", "eva"]}
    assert o.state.floor is not None and o.state.floor.participant_id == "cai"
    assert o.state.queue == ["ana", "ben", "eva"]
    # When Cai is done, Eva (here), not Ana or Ben (away).
    o = apply(o.state, CAI, c.FloorYield(), T0 + 2)
    assert o.state.floor is not None and o.state.floor.participant_id == "eva" and o.state.queue == ["ana", "ben"]
    o = apply(o.state, EVA, c.FloorYield(), T0 + 3)
    assert o.state.floor is None and o.state.queue == ["ana", "ben"]
    with pytest.raises(CommandError) as e:
        apply(o.state, FAC, c.FloorGrant("ben"), T0 + 4)
    assert e.value.code == "conflict"


def test_someone_away_in_a_group_is_not_removed_by_the_grace() -> None:
    for grace in (0, 30):
        s = queued(BEN, ANA, EVA, reconnect_grace_seconds=grace, share_seconds=None)
        s = apply(s, FAC, by_hand(("ana", "ben"), ("cai", "dev")), T0).state
        # Their pages move to the groups: the circle sees their connections drop.
        s = run(s, [(a, c.Disconnect(), T0 + 10) for a in MEMBERS])
        assert set(s.participants) == {"fac", "ana", "ben", "cai", "dev", "eva"}
        assert not s.participants["ana"].connected
        # Nothing is due before the groups' end, and a tick long after the grace changes nobody.
        assert next_deadline(s) == T0 + 10 * MIN
        assert not apply(s, c.SYSTEM, c.Tick(), T0 + 9 * MIN).changed
        assert s.queue == ["ben", "ana"] and s.floor is not None and s.floor.participant_id == "eva"


def test_time_up_brings_everyone_back_to_the_queue_as_it_was() -> None:
    s = circle(FAC, *MEMBERS, EVA, FIN, reconnect_grace_seconds=20)
    for a in (EVA, ANA, FIN, BEN, CAI):
        s = apply(s, a, c.HandRaise(), T0).state
    assert s.floor is not None and s.floor.participant_id == "eva" and s.queue == ["ana", "fin", "ben", "cai"]
    s = apply(s, FAC, by_hand(("ana", "ben"), ("cai", "dev")), T0).state
    s = run(s, [(a, c.Disconnect(), T0 + 1) for a in MEMBERS])
    # Meanwhile in the circle: Fin's turn passes, a newcomer raises a hand.
    gia = c.Actor("gia", "Gia", "member", "w:g")
    s = run(s, [(EVA, c.FloorYield(), T0 + 2), (gia, c.Join(), T0 + 3), (gia, c.HandRaise(), T0 + 4),
                (FIN, c.FloorYield(), T0 + 5)])
    assert s.floor is not None and s.floor.participant_id == "gia" and s.queue == ["ana", "ben", "cai"]
    s = apply(s, gia, c.FloorYield(), T0 + 6).state
    assert s.floor is None
    assert next_deadline(s) == T0 + 10 * MIN
    assert not apply(s, c.SYSTEM, c.Tick(), T0 + 10 * MIN - 1).changed
    o = apply(s, c.SYSTEM, c.Tick(), T0 + 10 * MIN)
    assert types(o)[:1] == ["groups.ended"] and o.events[0].data == {"reason": "time"}
    assert o.events[0].actor is None
    assert o.state.groups is None and o.closed == ROOMS
    # Everyone back, each in their place: Ana first (the floor is hers again), then Ben, then Cai.
    assert o.state.floor is not None and o.state.floor.participant_id == "ana"
    assert o.state.queue == ["ben", "cai"]
    # Told to come back, on the group's page and on the circle's (whichever is open).
    told = sorted((n.event, n.to.room, n.to.participant) for n in o.notices)
    assert told == sorted([("groups.returned", room, pid) for room, pid in (
        ("group-one", "ana"), ("group-one", "ben"), ("group-two", "cai"), ("group-two", "dev"))]
        + [("groups.returned", "circle", pid) for pid in ("ana", "ben", "cai", "dev")])
    assert all(n.data == {"room": "circle"} for n in o.notices)
    assert [(a.action, a.actor, a.reason) for a in o.audit] == [("groups.end", None, "time")]
    # Whoever is not back yet has a minute (more than the circle's 20 s grace) to come back...
    back = o.state
    assert not apply(back, c.SYSTEM, c.Tick(), T0 + 10 * MIN + groups.RETURN_MS - 1).changed
    # ...Ana and Ben do, and keep their places; Cai and Dev do not, and leave.
    back = run(back, [(ANA, c.Join(), T0 + 10 * MIN + 5_000), (BEN, c.Join(), T0 + 10 * MIN + 9_000)])
    o = apply(back, c.SYSTEM, c.Tick(), T0 + 10 * MIN + groups.RETURN_MS)
    assert set(o.state.participants) == {"fac", "ana", "ben", "eva", "fin", "gia"}
    assert o.state.floor is not None and o.state.floor.participant_id == "ana" and o.state.queue == ["ben"]


def test_a_facilitator_brings_everyone_back_early() -> None:
    s = apply(queued(ANA, BEN, share_seconds=None), FAC, evenly(), T0).state
    with pytest.raises(CommandError) as e:
        apply(s, ANA, c.GroupsEnd(), T0 + MIN)
    assert e.value.code == "forbidden"
    o = apply(s, FAC, c.GroupsEnd(), T0 + MIN)
    assert o.events[0].type == "groups.ended" and o.events[0].data == {"reason": "facilitator"}
    assert o.events[0].actor == "fac" and o.closed == ROOMS
    assert [(a.action, a.actor, a.reason) for a in o.audit] == [("groups.end", "fac", "facilitator")]
    assert o.state.floor is not None and o.state.floor.participant_id == "ana" and o.state.queue == ["ben"]
    assert next_deadline(o.state) is None
    # The time that was set does nothing now.
    assert not apply(o.state, c.SYSTEM, c.Tick(), T0 + 10 * MIN).changed


def test_ending_a_split_circle_closes_its_groups() -> None:
    s = apply(circle(FAC, *MEMBERS), FAC, evenly(), T0).state
    o = apply(s, FAC, c.EndRoom(), T0 + 1)
    assert o.state.ended and o.closed == ROOMS


def test_staff_get_a_way_into_any_group_and_nobody_else() -> None:
    s = apply(circle(FAC, *MEMBERS, EVA), FAC, by_hand(("ana", "ben"), ("cai",)), T0).state
    o = apply(s, FAC, c.GroupsVisit("group-two"), T0)
    assert o.reply == {"room": "group-two"} and not o.changed
    for actor, room, code in ((EVA, "group-two", "forbidden"), (FAC, "group-nine", "not_found")):
        with pytest.raises(CommandError) as e:
            apply(s, actor, c.GroupsVisit(room), T0)
        assert e.value.code == code


def test_the_snapshot_shows_the_split_and_a_group_its_circle() -> None:
    o = apply(circle(FAC, *MEMBERS), FAC, evenly(), T0)
    snap = snapshot(o.state, "member", [])
    assert snap["groups"] == {"ends_at": T0 + 10 * MIN, "groups": [
        {"room": "group-one", "participants": ["ana", "cai"]}, {"room": "group-two", "participants": ["ben", "dev"]}]}
    child = snapshot(o.opened[0], "member", [])
    assert child["parent"] == "circle" and child["ends_at"] == T0 + 10 * MIN and "groups" not in child
    assert "groups" not in snapshot(circle(FAC), "member", [])
    # Both survive the store's round trip.
    assert RoomState.from_dict(o.state.to_dict()) == o.state
    assert RoomState.from_dict(o.opened[0].to_dict()) == o.opened[0]


# -- a group's own room ---------------------------------------------------------------------------------

def group_one(minutes: int = 10, **changes: object) -> RoomState:
    return apply(circle(FAC, *MEMBERS, **changes), FAC, evenly(minutes=minutes), T0).opened[0]


def test_a_group_admits_its_members_and_the_staff_only() -> None:
    # The circle's lobby and guidelines were passed on the way into the circle.
    g = group_one(lobby=True, consent=True, locked=True)
    g = run(g, [(ANA, c.Join(), T0 + 1), (CAI, c.Join(), T0 + 1), (FAC, c.Join(), T0 + 2)])
    assert set(g.participants) == {"ana", "cai", "fac"}
    for stranger in (BEN, c.Actor("fay", "Fay", "facilitator", "w:y")):
        with pytest.raises(CommandError) as e:
            apply(g, stranger, c.Join(), T0 + 3)
        assert e.value.code == "forbidden"
    # Its own floor and queue.
    o = apply(g, CAI, c.HandRaise(), T0 + 4)
    assert o.state.floor is not None and o.state.floor.participant_id == "cai"
    # Its end is not the on-call room's "return".
    with pytest.raises(CommandError) as e:
        apply(g, FAC, c.ClosePrivate(), T0 + 5)
    assert e.value.code == "invalid"


def test_a_group_warns_a_minute_before_and_ends_by_itself_if_the_circle_does_not() -> None:
    g = run(group_one(), [(ANA, c.Join(), T0)])
    ends = T0 + 10 * MIN
    assert next_deadline(g) == ends - groups.WARN_MS
    o = apply(g, c.SYSTEM, c.Tick(), ends - groups.WARN_MS)
    assert types(o) == ["groups.ending"] and o.events[0].data == {"ends_at": ends}
    assert next_deadline(o.state) == ends + groups.FALLBACK_MS
    assert not apply(o.state, c.SYSTEM, c.Tick(), ends).changed
    o = apply(o.state, c.SYSTEM, c.Tick(), ends + groups.FALLBACK_MS)
    assert types(o) == ["room.ended"] and o.state.ended
    assert [(a.action, a.reason) for a in o.audit] == [("room.end", "time")]


def test_a_one_minute_split_has_no_one_minute_warning() -> None:
    g = group_one(minutes=1)
    assert next_deadline(g) == T0 + MIN + groups.FALLBACK_MS


def test_an_alert_in_a_group_reaches_the_circles_facilitators() -> None:
    g = run(group_one(), [(ANA, c.Join(), T0), (CAI, c.Join(), T0)])
    o = apply(g, ANA, c.Report(reason="unkind", participant="cai"), T0)
    assert sorted((n.to.kind, n.to.room) for n in o.notices) == [("facilitators", "circle"),
                                                                 ("facilitators", "group-one")]


# -- property: whatever happens in the circle meanwhile, everyone away gets their place back -----------

EVERYONE = [ANA, BEN, CAI, DEV, EVA, FIN]
NEWCOMERS = [c.Actor(p, p.title(), "member", f"w:{p}") for p in ("gia", "hal")]
# What people do in the circle while the groups meet (the people away only drop and come back).
here_cmds = st.sampled_from([c.Join(), c.Leave(), c.Disconnect(), c.HandRaise(), c.HandLower(), c.FloorYield()])
away_cmds = st.sampled_from([c.Disconnect(), c.Join()])


@st.composite
def splits(draw: st.DrawFn) -> tuple[list[str], list[list[str]], list[tuple[str, c.Command, int]], bool]:
    hands = draw(st.permutations([a.id or "" for a in EVERYONE]).map(lambda p: p[:draw(st.integers(0, 6))]))
    away = draw(st.lists(st.sampled_from([a.id or "" for a in EVERYONE]), min_size=1, max_size=6, unique=True))
    cut = draw(st.integers(1, len(away)))
    parts = [away[:cut], away[cut:]] if away[cut:] else [away]
    steps = draw(st.lists(st.tuples(
        st.sampled_from([a.id or "" for a in EVERYONE + NEWCOMERS] + ["tick"]),
        st.one_of(here_cmds, away_cmds), st.integers(0, 60_000)), max_size=40))
    by_facilitator = draw(st.booleans())
    return hands, parts, steps, by_facilitator


def check_floor(s: RoomState) -> None:
    holder = s.floor.participant_id if s.floor else None
    assert len(s.queue) == len(set(s.queue)) and holder not in s.queue
    assert all(pid in s.participants and not s.participants[pid].muted for pid in s.queue)
    assert holder is None or holder in s.participants
    assert holder is None or holder not in s.away(), "nobody shares in the circle from a group"


@settings(max_examples=300, deadline=None)
@given(splits())
def test_any_interleaving_in_the_circle_gives_everyone_away_their_place_back(
        case: tuple[list[str], list[list[str]], list[tuple[str, c.Command, int]], bool]) -> None:
    hands, parts, steps, by_facilitator = case
    actors = {a.id: a for a in [FAC, *EVERYONE, *NEWCOMERS]}
    s = circle(FAC, *EVERYONE, share_seconds=60, warn_seconds=10, reconnect_grace_seconds=5)
    for pid in hands:
        s = apply(s, actors[pid], c.HandRaise(), T0).state
    before = ([s.floor.participant_id] if s.floor else []) + s.queue
    o = apply(s, FAC, c.GroupsStart(groups=tuple(tuple(p) for p in parts), count=None, minutes=30,
                                    rooms=ROOMS[:len(parts)]), T0)
    s = o.state
    away = s.groups.members if s.groups else frozenset()
    check_floor(s)
    now = T0
    ends = T0 + 30 * MIN
    for who, cmd, dt in steps:
        now = min(now + dt, ends - 1)
        if who == "tick":
            actor, cmd = c.SYSTEM, c.Tick()
        elif who in away:
            actor, cmd = actors[who], (cmd if isinstance(cmd, c.Disconnect | c.Join) else c.Disconnect())
        else:
            actor = actors[who]
        try:
            o = apply(s, actor, cmd, now)
        except CommandError:
            continue
        s = o.state
        check_floor(s)
        assert away <= set(s.participants), "nobody away in a group is dropped from the circle"
        # The away keep their order in the queue, whatever happens around them.
        assert [p for p in s.queue if p in away] == [p for p in before if p in away]
        d = next_deadline(s)
        assert d is None or d > now or apply(s, c.SYSTEM, c.Tick(), now).changed
    o = apply(s, FAC, c.GroupsEnd(), now) if by_facilitator else apply(s, c.SYSTEM, c.Tick(), ends)
    s = o.state
    check_floor(s)
    assert s.groups is None and o.closed == ROOMS[:len(parts)]
    after = ([s.floor.participant_id] if s.floor else []) + s.queue
    # Everyone away is back where they were: the same order among them as before the split
    # (a share the split cut short at the head), with the circle's changes around them.
    assert [p for p in after if p in away] == [p for p in before if p in away]
    assert away <= set(s.participants)
    # Everyone away who is still not connected has at least RETURN_MS to come back.
    for pid in away:
        p = s.participants[pid]
        if not p.connected:
            assert p.disconnected_at is not None
            assert p.disconnected_at + s.settings.reconnect_grace_seconds * 1000 >= o.events[0].at + groups.RETURN_MS
