"""Small groups (issue 17): a facilitator splits a circle into small groups for a set time.

The circle records the split (``RoomState.groups``: each group's room and people, and
when it ends). Each group is a room of its own, made through ``tx.opened`` as the on-call
private room is: a circle with the split circle as ``parent``, the circle's settings (so
its own floor, share timer and queue), and an allow-list of its members and the circle's
staff, who may look in on any group.

While the split lasts the circle keeps everyone in a group as a participant, away in a
group: their queue place and any service are kept, the reconnect grace does not run for
them (their connection to the circle drops when their page moves to the group), and the
floor passes over them (``floor.can_hold``). When time is up (``tick``, at the deadline
``next_deadline`` gives) or a facilitator ends it, the circle's queue is as it was (plus
any hand raised there meanwhile), everyone in a group is told to come back, and the
service ends each group's room (``tx.closed``). A group's room keeps time too: a warning
a minute before the end in its own log, and an end of its own a little after the
circle's, should the circle's never reach it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Final

from . import commands as c
from . import floor
from .errors import CommandError
from .model import GROUPS_COUNT, GROUPS_MINUTES, Group, Groups, RoomState, Target, valid_room_id
from .outcome import Tx
from .room import is_staff

# Everyone in a group is told "one minute left" this long before the end (not when the
# whole split is that short)...
WARN_MS: Final = 60_000
# ...someone still away from the circle when the groups end has at least this long to
# come back before the reconnect grace may remove them (a page moving back takes
# seconds, a phone on a train longer; a circle with no grace must not lose them)...
RETURN_MS: Final = 60_000
# ...and a group's room ends by itself this long after its time, should the circle's end
# never reach it (the worker that ended the split died before ending the groups).
FALLBACK_MS: Final = 60_000


# -- commands -------------------------------------------------------------------------------

def start(tx: Tx, cmd: c.GroupsStart) -> None:
    s = tx.state
    if s.kind != "circle" or s.parent is not None:
        raise CommandError("invalid", "only a circle can be split into small groups")
    if s.groups is not None:
        raise CommandError("conflict", "the circle is in small groups already")
    lo, hi = GROUPS_MINUTES
    if isinstance(cmd.minutes, bool) or not isinstance(cmd.minutes, int) or not lo <= cmd.minutes <= hi:
        raise CommandError("invalid", f"minutes must be from {lo} to {hi}")
    if (cmd.groups is None) == (cmd.count is None):
        raise CommandError("invalid", "give either count (evenly) or groups (by hand)")
    people = by_hand(s, cmd.groups) if cmd.groups is not None else evenly(s, cmd.count)
    rooms = cmd.rooms
    if len(rooms) != len(people) or len(set(rooms)) != len(rooms) or s.id in rooms \
            or not all(valid_room_id(r) for r in rooms):
        raise CommandError("invalid", "each group needs a new room id of its own")
    ends_at = tx.now + cmd.minutes * 60_000
    split = Groups(groups=tuple(Group(room, members) for room, members in zip(rooms, people, strict=True)),
                   ends_at=ends_at)
    s.groups = split
    tx.emit("groups.started", split.to_wire())
    holder = s.floor.participant_id if s.floor is not None else None
    if holder in split.members:
        # Nobody holds the circle's floor from a group. The share cut short is theirs
        # again when they are back: they wait at the head of the queue, and the next
        # here who can, shares meanwhile.
        assert holder is not None
        floor.release(tx, "groups", advance_after=False)
        s.queue.insert(0, holder)
        tx.emit("queue.moved", {"queue": list(s.queue)}, actor=None)
        floor.advance(tx)
    staff = {pid for pid, p in s.participants.items() if is_staff(p.role, s.kind)}
    for g in split.groups:
        tx.opened.append(group_room(g, s, staff, tx.now))
        for pid in g.participants:
            tx.notify("groups.moved", Target("participant", s.id, pid),
                      {"from_room": s.id, "room": g.room, "ends_at": ends_at})
    # Ids only: which rooms the circle was split into (who went where is in the log).
    tx.audit("groups.start", None, " ".join(rooms))
    tx.reply.update(split.to_wire())


def by_hand(s: RoomState, groups: Sequence[Sequence[str]]) -> list[tuple[str, ...]]:
    """Groups as a facilitator chose them: each a connected participant, each once."""
    if not 1 <= len(groups) <= GROUPS_COUNT.hi:
        raise CommandError("invalid", f"groups must be 1 to {GROUPS_COUNT.hi} lists of participant ids")
    seen: set[str] = set()
    for g in groups:
        if not g:
            raise CommandError("invalid", "each group names at least one person")
        for pid in g:
            if pid in seen:
                raise CommandError("invalid", "each person goes to one group, once")
            seen.add(pid)
            p = s.participants.get(pid)
            if p is None or not p.connected:
                raise CommandError("not_found", "a group names someone who is not here now")
    return [tuple(g) for g in groups]


def evenly(s: RoomState, count: int | None) -> list[tuple[str, ...]]:
    """``count`` groups of the connected members (staff stay in the circle), dealt in
    turn from their ids in order: as even as they come, and the same on every worker."""
    lo, hi = GROUPS_COUNT
    if isinstance(count, bool) or not isinstance(count, int) or not lo <= count <= hi:
        raise CommandError("invalid", f"count must be from {lo} to {hi}")
    members = sorted(pid for pid, p in s.participants.items() if p.connected and not is_staff(p.role, s.kind))
    if len(members) < count:
        raise CommandError("conflict", f"{len(members)} members are here: too few for {count} groups")
    return [tuple(members[i::count]) for i in range(count)]


def group_room(g: Group, circle: RoomState, staff: set[str], now: int) -> RoomState:
    """A group's own room: the circle's settings (its own floor, timer and queue), open to
    its members and the circle's staff only. No lobby and no guidelines to accept again:
    everyone in it came from the circle."""
    settings = dataclasses.replace(circle.settings, lobby=False, consent=False, mode="queue")
    assert circle.groups is not None
    return RoomState(id=g.room, kind="circle", settings=settings, created_at=now, parent=circle.id,
                     allowed=set(g.participants) | staff, group_ends_at=circle.groups.ends_at)


def end(tx: Tx, cmd: c.GroupsEnd) -> None:
    finish(tx, "facilitator")


def finish(tx: Tx, reason: str) -> None:
    """Everyone comes back: the circle as it was, the groups' rooms to be ended."""
    s = tx.state
    split = s.groups
    if split is None:
        raise CommandError("conflict", "the circle is not in small groups")
    s.groups = None
    # Whoever is not back yet gets their reconnect grace afresh from now, and at least RETURN_MS.
    back_from = tx.now + max(0, RETURN_MS - s.settings.reconnect_grace_seconds * 1000)
    tx.emit("groups.ended", {"reason": reason}, actor=True if reason == "facilitator" else None)
    for g in split.groups:
        for pid in g.participants:
            p = s.participants.get(pid)
            if p is None:
                continue  # left the circle, or was removed from it, meanwhile
            if not p.connected:
                s.participants[pid] = dataclasses.replace(p, disconnected_at=back_from)
            # To the group's page (which then comes back), and to the circle's, if it is still open.
            for room in (g.room, s.id):
                tx.notify("groups.returned", Target("participant", room, pid), {"room": s.id})
        tx.closed.append(g.room)
    tx.audit("groups.end", None, reason)
    # The floor is free to those back (rule 3), the head of the queue first.
    floor.advance(tx)


def visit(tx: Tx, cmd: c.GroupsVisit) -> None:
    """Staff look in on a group: nothing changes here; the service gives them a way in."""
    s = tx.state
    if s.groups is None or all(g.room != cmd.room for g in s.groups.groups):
        raise CommandError("not_found", "no such small group in this circle")
    tx.reply["room"] = cmd.room


# -- time -------------------------------------------------------------------------------------

def _warn_at(s: RoomState) -> int | None:
    if s.group_ends_at is None or s.group_warned:
        return None
    at = s.group_ends_at - WARN_MS
    return at if at > s.created_at else None


def tick(tx: Tx) -> None:
    """The circle: its groups' time is up. A group's room: its warning, and its own end
    should the circle's never come."""
    s = tx.state
    if s.groups is not None and tx.now >= s.groups.ends_at:
        finish(tx, "time")
    ends = s.group_ends_at
    if ends is None:
        return
    w = _warn_at(s)
    if w is not None and tx.now >= w:
        s.group_warned = True
        tx.touch()
        if tx.now < ends:  # a tick that comes after the end has nothing to warn of
            tx.emit("groups.ending", {"ends_at": ends}, actor=None)
    if tx.now >= ends + FALLBACK_MS:
        s.ended = True
        tx.emit("room.ended", {}, actor=None)
        tx.audit("room.end", None, "time")


def next_deadline(s: RoomState) -> int | None:
    times = []
    if s.groups is not None:
        times.append(s.groups.ends_at)
    if s.group_ends_at is not None:
        w = _warn_at(s)
        times.append(w if w is not None else s.group_ends_at + FALLBACK_MS)
    return min(times) if times else None
