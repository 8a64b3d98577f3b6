"""The rules table: which command runs which transition, and who may issue it.

``apply(state, actor, command, now)`` is the only entry point the service uses. It works
on a copy, so a refused command (``CommandError``) leaves ``state`` exactly as it was.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from typing import Any, Final

from . import commands as c
from . import floor, groups, oncall, recurrence, room
from . import format as meeting
from .errors import CommandError
from .model import RoomState
from .outcome import Outcome, Tx


class Need(enum.Enum):
    ANYONE = "anyone"      # join: the rules decide who gets in
    PRESENT = "present"    # in the room (or waiting in its lobby, for leave)
    JOINED = "joined"      # a participant of the room
    STAFF = "staff"        # facilitator (responder in an on-call room), joined
    SYSTEM = "system"      # only the clock


Transition = Callable[[Tx, Any], None]

RULES: Final[dict[type[c.Command], tuple[Transition, Need]]] = {
    c.Join: (room.join, Need.ANYONE),
    c.Leave: (room.leave, Need.PRESENT),
    c.Disconnect: (room.disconnect, Need.ANYONE),
    c.Chat: (room.chat, Need.JOINED),
    c.Reaction: (room.reaction, Need.JOINED),
    c.Milestone: (room.milestone, Need.JOINED),
    c.Report: (room.report, Need.JOINED),
    c.HandRaise: (floor.hand_raise, Need.JOINED),
    c.HandLower: (floor.hand_lower, Need.JOINED),
    c.FloorYield: (floor.floor_yield, Need.JOINED),
    c.FloorPass: (floor.floor_pass, Need.JOINED),
    c.FloorGrant: (floor.floor_grant, Need.STAFF),
    c.FloorRevoke: (floor.floor_revoke, Need.STAFF),
    c.FloorExtend: (floor.floor_extend, Need.STAFF),
    c.ServiceSet: (room.service_set, Need.STAFF),
    c.QueueMove: (floor.queue_move, Need.STAFF),
    c.RoundStart: (floor.round_start, Need.STAFF),
    c.RoundStop: (floor.round_stop, Need.STAFF),
    c.ChangeSettings: (room.change_settings, Need.STAFF),
    c.Mute: (room.mute, Need.STAFF),
    c.Remove: (room.remove, Need.STAFF),
    c.LobbyAdmit: (room.lobby_admit, Need.STAFF),
    c.LobbyDeny: (room.lobby_deny, Need.STAFF),
    c.ChatDelete: (room.chat_delete, Need.STAFF),
    c.ChatReview: (room.chat_review, Need.STAFF),
    c.EndRoom: (room.end_room, Need.STAFF),
    c.InviteCreate: (room.invite_create, Need.STAFF),
    c.InviteRevoke: (room.invite_revoke, Need.STAFF),
    c.InviteRedeem: (room.invite_redeem, Need.SYSTEM),
    c.ScheduleSet: (room.schedule_set, Need.STAFF),
    c.ScheduleClear: (room.schedule_clear, Need.STAFF),
    c.Knock: (room.knock, Need.SYSTEM),
    c.FormatSet: (meeting.format_set, Need.STAFF),
    c.FormatClear: (meeting.format_clear, Need.STAFF),
    c.FormatStart: (meeting.format_start, Need.STAFF),
    c.FormatAdvance: (meeting.format_advance, Need.STAFF),
    c.FormatEnd: (meeting.format_end, Need.STAFF),
    c.OpenPrivate: (room.open_private, Need.STAFF),
    c.ClosePrivate: (room.close_private, Need.STAFF),
    c.GroupsStart: (groups.start, Need.STAFF),
    c.GroupsEnd: (groups.end, Need.STAFF),
    c.GroupsVisit: (groups.visit, Need.STAFF),
    c.Tick: (lambda tx, cmd: tick(tx), Need.SYSTEM),
}


# What each service handed to a member for a meeting lets them do, and nothing more: the
# staff commands listed (everything else of ``Need.STAFF`` stays the facilitator's).
SERVICE_POWERS: Final[Mapping[str, frozenset[type[c.Command]]]] = {
    "chair": frozenset({c.FloorGrant, c.RoundStart, c.RoundStop, c.FormatStart, c.FormatAdvance, c.FormatEnd}),
    "timekeeper": frozenset({c.FloorExtend}),
    "greeter": frozenset({c.LobbyAdmit, c.LobbyDeny}),
}


def may(state: RoomState, actor: c.Actor, command: type[c.Command]) -> bool:
    """Whether ``actor`` has the powers ``command`` needs as staff: a facilitator (or a
    responder in an on-call room), or a joined member whose service grants it."""
    if actor.is_system or room.is_staff(actor.role, state.kind):
        return True
    p = state.participants.get(actor.id or "")
    return p is not None and p.service is not None and command in SERVICE_POWERS.get(p.service, ())


def _authorize(state: RoomState, actor: c.Actor, need: Need, command: type[c.Command]) -> None:
    if actor.is_system:
        return
    if need is Need.SYSTEM:
        raise CommandError("forbidden", "only the server's clock may do that")
    if need is Need.ANYONE:
        return
    pid = actor.id
    joined = pid is not None and pid in state.participants
    if need is Need.PRESENT and not joined and pid not in state.lobby:
        raise CommandError("not_joined", "you have not joined this room")
    if need in (Need.JOINED, Need.STAFF):
        if need is Need.STAFF and not may(state, actor, command):
            raise CommandError("forbidden", "only a facilitator of this room may do that")
        if not joined:
            raise CommandError("not_joined", "you have not joined this room")


def apply(state: RoomState, actor: c.Actor, command: c.Command, now: int) -> Outcome:
    """Apply one command. Raises ``CommandError`` (state unchanged) if it is refused."""
    if state.ended:
        raise CommandError("not_found", "this room has ended")
    try:
        transition, need = RULES[type(command)]
    except KeyError:
        raise CommandError("invalid", f"unknown command {type(command).__name__}") from None
    _authorize(state, actor, need, type(command))
    tx = Tx(state, actor, now)
    transition(tx, command)
    return tx.outcome()


# -- time -------------------------------------------------------------------------------------

def tick(tx: Tx) -> None:
    """Everything whose time has come: share warning and expiry, small groups' time (the
    circle's return, a group's warning), reconnect grace, on-call escalation, an empty
    ephemeral room's end, a schedule's reminders, the meeting format's parts and free time,
    and the daily commit that keeps a weekly circle or a room with a live group link."""
    floor.floor_deadlines(tx)
    groups.tick(tx)
    if tx.state.ended:
        return  # a small group's room that ended by its own clock
    room.expire_grace(tx)
    oncall.escalate(tx)
    room.expire_empty(tx)
    recurrence.tick(tx)
    meeting.tick(tx)
    room.keep_alive(tx)


def next_deadline(state: RoomState) -> int | None:
    """The earliest moment at which ``Tick`` would change this room, or None."""
    if state.ended:
        return None
    times = [
        t for t in (
            floor.next_floor_deadline(state.floor, state.settings.warn_seconds),
            groups.next_deadline(state),
            room.next_grace_deadline(state),
            oncall.next_escalation(state.waiting, state.settings.escalate_after_seconds),
            room.next_empty_deadline(state.ephemeral, state.empty_since),
            recurrence.next_deadline(state.schedule),
            meeting.next_deadline(state.format),
            room.next_keep_alive(state),
        ) if t is not None
    ]
    return min(times) if times else None


# -- views --------------------------------------------------------------------------------------

def snapshot(state: RoomState, viewer_role: str, recent: list[dict[str, Any]],
             held_texts: Mapping[str, str] | None = None, viewer: str | None = None) -> dict[str, Any]:
    """The Snapshot of §4.2 as ``viewer`` (with ``viewer_role``) may see it (``held_texts``:
    the texts of the held messages, which staff see). Staff and greeters see the lobby
    and who said they are new or returning; only staff see held messages."""
    snap: dict[str, Any] = {
        "id": state.id,
        "title": state.title,
        "kind": state.kind,
        "settings": state.settings.to_wire(),
        "seq": state.seq,
        "participants": [p.to_wire() for p in state.participants.values()],
        "queue": list(state.queue),
        "floor": state.floor.to_wire() if state.floor else None,
        "round": state.round.to_wire() if state.round else None,
        "recent": recent,
        # How many said they are new (a welcome can name the number, never the people).
        "newcomers": sum(1 for p in state.participants.values() if p.arrival == "new"),
    }
    if state.parent is not None:
        snap["parent"] = state.parent  # a private 1:1 room or a small group: where its people came from
    if state.groups is not None:
        snap["groups"] = state.groups.to_wire()  # a circle in small groups
    if state.group_ends_at is not None:
        snap["ends_at"] = state.group_ends_at  # a small group: when everyone goes back
    if state.format is not None:
        snap["format"] = meeting.view(state.format)
    staff = room.is_staff(viewer_role, state.kind)
    if staff or room.is_greeter(state, viewer):
        snap["lobby"] = [room.lobby_wire(p) for p in state.lobby.values()]
        snap["arrivals"] = {pid: p.arrival for pid, p in state.participants.items() if p.arrival}
    if staff:
        texts = held_texts or {}
        snap["held"] = [h.to_wire(state.id, texts.get(h.id, "")) for h in state.held.values()]
    return snap


def audible(state: RoomState) -> set[str]:
    """Who may be heard now (contract §7): not muted, and holding the floor, or a
    facilitator of the room, or anyone when the room's audio is open."""
    holder = state.floor.participant_id if state.floor else None
    return {
        pid for pid, p in state.participants.items()
        if p.connected and not p.muted
        and (pid == holder or room.is_staff(p.role, state.kind) or state.settings.audio == "open")
    }
