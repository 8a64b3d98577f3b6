"""Membership, text, and the facilitator's controls (contract §4–§6, §8)."""

from __future__ import annotations

import dataclasses
import hmac
from collections.abc import Mapping
from typing import Any

from . import commands as c
from . import floor, oncall, recurrence
from .errors import CommandError
from .model import (
    ARRIVALS,
    EMPTY_ROOM_MS,
    HELD_MAX,
    KEEP_ALIVE_MS,
    LOG_KEPT,
    SERVICES,
    SINGLE_SERVICES,
    HeldMessage,
    Invite,
    Participant,
    RoomState,
    Target,
    clean_name,
    clean_text,
)
from .outcome import Tx


def is_staff(role: str, kind: str) -> bool:
    """Facilitator powers: facilitators anywhere, responders in on-call rooms (and the
    private rooms opened from them, which are on-call rooms too), member powers elsewhere
    (§2). The one answer: the rules, the gateway's notice routing and moderation (through
    ``MessageContext.sender_is_staff``, which the service fills in) all ask it."""
    return role == "facilitator" or (role == "responder" and kind == "oncall") or role == c.SYSTEM_ROLE


# -- membership ---------------------------------------------------------------------------

def join(tx: Tx, cmd: c.Join) -> None:
    s, a = tx.state, tx.actor
    pid = a.id
    assert pid is not None
    staff = is_staff(a.role, s.kind)
    if pid in s.banned:
        raise CommandError("banned", "you cannot join this room")
    if s.parent is not None and pid not in s.allowed:
        # A private 1:1 room is for its member and the responder who opened it: no
        # facilitator or other responder walks in on a disclosure.
        raise CommandError("forbidden", "this conversation is private")
    existing = s.participants.get(pid)
    if existing is not None:
        _rejoin(tx, existing)
        return
    if cmd.arrival is not None and cmd.arrival not in ARRIVALS:
        raise CommandError("invalid", f"arrival must be one of {', '.join(ARRIVALS)}")
    if not staff:
        # A private room's two-person list admits for good (a dropped connection comes back).
        admitted = pid in s.admitted or pid in s.allowed
        if s.schedule is not None and not admitted and not recurrence.admits(s.schedule, tx.now):
            message, when = recurrence.closed_refusal(s.schedule, tx.now)
            raise CommandError("locked", message, when)
        if s.settings.locked and not admitted:
            raise CommandError("locked", "the room is locked")
        if len(s.participants) >= s.settings.max_participants:
            raise CommandError("full", "the room is full")
        if s.settings.consent and not cmd.accept:
            # Asked at every meeting (and after a dropped connection's grace ran out), of
            # whoever could otherwise come in or wait in the lobby.
            raise CommandError("forbidden", "accept the circle's guidelines to join", {"consent": True})
        if (s.settings.lobby or pid in s.kicked or a.guest) and not admitted:
            _wait_in_lobby(tx, cmd)
            return
    s.admitted.discard(pid)
    s.kicked.discard(pid)
    s.lobby.pop(pid, None)
    p = Participant(id=pid, name=clean_name(a.name), role=a.role, joined_at=tx.now, conn=a.conn,
                    accepted_at=tx.now if cmd.accept and s.settings.consent else None, arrival=cmd.arrival)
    s.participants[pid] = p
    s.empty_since = None
    tx.emit("participant.joined", {"participant": p.to_wire()})
    tx.reply["you"] = p.to_wire()
    if p.arrival is not None:
        # Only staff and greeters learn who is new or coming back.
        _to_lobby_keepers(tx, "participant.arrival", {"room": s.id, "participant_id": pid, "arrival": p.arrival})
    oncall.on_join(tx, pid)


def _rejoin(tx: Tx, p: Participant) -> None:
    """The same person again: a reconnect, or a second device replacing the first."""
    s, a = tx.state, tx.actor
    if p.connected and p.conn and p.conn != a.conn:
        tx.notify("removed", Target("participant", s.id, p.id, conn=p.conn),
                  {"room": s.id, "reason": "replaced", "banned": False})
    new = dataclasses.replace(p, connected=True, disconnected_at=None, conn=a.conn, name=clean_name(a.name))
    s.participants[p.id] = new
    tx.touch()
    if not p.connected or new.name != p.name:
        tx.emit("participant.updated", {"participant": new.to_wire()})
    tx.reply["you"] = new.to_wire()
    oncall.on_join(tx, p.id)


def is_greeter(s: RoomState, pid: str | None) -> bool:
    p = s.participants.get(pid or "")
    return p is not None and p.service == "greeter"


def lobby_wire(p: Participant) -> dict[str, Any]:
    """Someone in the lobby as staff and greeters see them: with ``arrival`` when given."""
    out = p.to_wire()
    if p.arrival is not None:
        out["arrival"] = p.arrival
    return out


def _to_lobby_keepers(tx: Tx, event: str, data: Mapping[str, Any]) -> None:
    """A notice for whoever keeps the door: the room's staff and its greeters."""
    tx.to_facilitators(event, data)
    for pid, p in tx.state.participants.items():
        if p.service == "greeter":
            tx.to_participant(pid, event, data)


def _wait_in_lobby(tx: Tx, cmd: c.Join) -> None:
    s, a = tx.state, tx.actor
    assert a.id is not None
    p = Participant(id=a.id, name=clean_name(a.name), role=a.role, joined_at=tx.now, conn=a.conn,
                    arrival=cmd.arrival)
    first = a.id not in s.lobby
    s.lobby[a.id] = p
    s.empty_since = None
    tx.touch()
    if first:
        _to_lobby_keepers(tx, "lobby.waiting", {"room": s.id, "participant": lobby_wire(p)})
    tx.refusal = CommandError("lobby", "please wait: a facilitator will let you in")


def _leave_lobby(tx: Tx, pid: str, reason: str) -> None:
    """Someone stops waiting; the lobby lists of staff and greeters must not go stale."""
    del tx.state.lobby[pid]
    tx.touch()
    _note_if_empty(tx)
    _to_lobby_keepers(tx, "lobby.left", {"room": tx.state.id, "participant_id": pid, "reason": reason})


def _remove_participant(tx: Tx, pid: str, reason: str) -> None:
    s = tx.state
    floor.drop_from_turns(tx, pid, "left")
    oncall.on_leave(tx, pid)
    del s.participants[pid]
    by_system = reason == "disconnected"
    tx.emit("participant.left", {"participant_id": pid, "reason": reason}, actor=None if by_system else True)
    if s.round is not None and s.floor is None:
        floor.advance(tx)
    _note_if_empty(tx)


def _note_if_empty(tx: Tx) -> None:
    s = tx.state
    if s.ephemeral and not s.participants and not s.lobby and s.empty_since is None:
        s.empty_since = tx.now


def expire_empty(tx: Tx) -> None:
    """A room a join made, empty for EMPTY_ROOM_MS, ends (its data is purged)."""
    s = tx.state
    if s.ephemeral and s.empty_since is not None and tx.now >= s.empty_since + EMPTY_ROOM_MS:
        s.ended = True
        tx.emit("room.ended", {}, actor=None)
        tx.audit("room.end", None, "empty")


def next_empty_deadline(ephemeral: bool, empty_since: int | None) -> int | None:
    return empty_since + EMPTY_ROOM_MS if ephemeral and empty_since is not None else None


def _worth_keeping(s: RoomState, at: int) -> bool:
    """Whether the room must outlive a quiet week: its schedule has meetings ahead, or a
    group link to it still works."""
    return recurrence.has_meetings_ahead(s.schedule, at) or any(i.expires_at > at for i in s.invites.values())


def next_keep_alive(s: RoomState) -> int | None:
    """When the room next commits to keep its keys alive: a day after the last time, if
    it is still worth keeping then. ``keep_alive`` asks the same question about the same
    moment, so a deadline given here is always one that changes the room."""
    due = max(s.kept_at, s.created_at) + KEEP_ALIVE_MS
    return due if _worth_keeping(s, due) else None


def keep_alive(tx: Tx) -> None:
    due = next_keep_alive(tx.state)
    if due is not None and tx.now >= due:
        tx.state.kept_at = tx.now
        tx.touch()


def leave(tx: Tx, cmd: c.Leave) -> None:
    pid = tx.actor.id
    assert pid is not None
    if pid in tx.state.lobby:
        _leave_lobby(tx, pid, "left")
        return
    _remove_participant(tx, pid, "left")


def disconnect(tx: Tx, cmd: c.Disconnect) -> None:
    s = tx.state
    pid = tx.actor.id
    assert pid is not None
    waiting = s.lobby.get(pid)
    if waiting is not None and waiting.conn == tx.actor.conn:
        _leave_lobby(tx, pid, "left")
        return
    p = s.participants.get(pid)
    if p is None or not p.connected or (p.conn and tx.actor.conn and p.conn != tx.actor.conn):
        return  # a replaced connection's late goodbye: the live one stays
    if s.settings.reconnect_grace_seconds == 0 and pid not in s.away():
        _remove_participant(tx, pid, "disconnected")
        return
    new = dataclasses.replace(p, connected=False, disconnected_at=tx.now)
    s.participants[pid] = new
    tx.emit("participant.updated", {"participant": new.to_wire()}, actor=None)


def expire_grace(tx: Tx) -> None:
    """Participants whose reconnect grace has run out leave the room (rule 6); not while
    they are away in a small group."""
    s = tx.state
    grace = s.settings.reconnect_grace_seconds * 1000
    for pid, p in list(s.participants.items()):
        if not p.connected and p.disconnected_at is not None and tx.now >= p.disconnected_at + grace \
                and pid not in s.away():
            _remove_participant(tx, pid, "disconnected")


def next_grace_deadline(s: RoomState) -> int | None:
    grace = s.settings.reconnect_grace_seconds * 1000
    away = s.away()
    times = [p.disconnected_at + grace for pid, p in s.participants.items()
             if not p.connected and p.disconnected_at is not None and pid not in away]
    return min(times) if times else None


# -- text -------------------------------------------------------------------------------

def client_key(pid: str, client_id: str) -> str:
    return f"{pid}\x00{client_id}"


def _remember_client_id(tx: Tx, key: str, seq: int) -> None:
    tx.client_ids.append((key, seq))
    tx.touch()


# Verdict reasons that mean "too fast", answered `rate_limited` rather than `blocked`.
TOO_FAST = frozenset({"rate_limited", "slow_mode"})
HELD_SEQ = 0  # a remembered client_id whose message is held, not in the log
BLOCKED_SEQ = -1


def chat(tx: Tx, cmd: c.Chat) -> None:
    s, a = tx.state, tx.actor
    pid = a.id
    assert pid is not None
    key = client_key(pid, cmd.client_id) if cmd.client_id else None
    if key is not None and cmd.seen is not None:
        first = cmd.seen
        if first == HELD_SEQ:
            raise CommandError("held", "your message is waiting for a facilitator's review")
        if first == BLOCKED_SEQ:
            raise CommandError("blocked", "your message was not sent")
        tx.reply["duplicate_of"] = first
        return
    me = s.participants[pid]
    staff = is_staff(a.role, s.kind)
    text = clean_text(cmd.text)
    if me.muted:
        raise CommandError("muted", "you are muted")
    if s.settings.chat == "off" or (s.settings.chat == "facilitators" and not staff):
        raise CommandError("forbidden", "chat is closed in this room")
    if cmd.reply_to is not None and not 1 <= cmd.reply_to <= s.seq:
        raise CommandError("invalid", "reply_to names no message of this room")
    if cmd.action == "block" and cmd.reason in TOO_FAST:
        # Not a judgement of the message: the same client_id may be sent again later,
        # and only the flood alert (once per burst) is worth recording.
        _alerts(tx, cmd.alerts, None)
        tx.refusal = CommandError("rate_limited", "you are sending messages too quickly; please wait a moment")
        return
    if cmd.action == "block":
        if key is not None:
            _remember_client_id(tx, key, BLOCKED_SEQ)
        _alerts(tx, cmd.alerts, None)
        tx.audit("message.blocked", pid, cmd.reason or None)
        tx.refusal = CommandError("blocked", "your message was not sent: " + (cmd.reason or "blocked"))
        return
    if cmd.action == "hold":
        held = HeldMessage(id=cmd.msg_id, sender=pid, reason=cmd.reason or "review",
                           at=tx.now, redacted=False, reply_to=cmd.reply_to, client_id=cmd.client_id)
        s.held[held.id] = held
        tx.held_texts.append((held.id, text))
        while len(s.held) > HELD_MAX:
            oldest = next(iter(s.held))
            del s.held[oldest]
            tx.held_dropped.append(oldest)
        if key is not None:
            _remember_client_id(tx, key, HELD_SEQ)
        tx.to_facilitators("chat.held", held.to_wire(s.id, text))
        _alerts(tx, cmd.alerts, None)
        tx.audit("message.held", pid, held.reason)
        tx.refusal = CommandError("held", "your message is waiting for a facilitator's review")
        tx.reply["id"] = held.id
        return
    ev = tx.emit("chat.message", {"id": cmd.msg_id, "from": pid, "text": text,
                                  "redacted": cmd.action == "redact", "reply_to": cmd.reply_to})
    if key is not None:
        _remember_client_id(tx, key, ev.seq)
    if cmd.action == "redact":
        tx.audit("message.redacted", pid, cmd.reason or None)
    _alerts(tx, cmd.alerts, ev.seq)
    tx.reply["seq"] = ev.seq


def _alerts(tx: Tx, alerts: tuple[c.ModerationAlert, ...], seq: int | None) -> None:
    for alert in alerts:
        data: dict[str, object] = {"room": tx.state.id, "kind": alert.kind,
                                   "participant_id": tx.actor.id, "detail": alert.detail}
        if seq is not None:
            data["seq"] = seq
        _alert(tx, data)
        tx.audit("alert." + alert.kind, tx.actor.id, alert.detail)


def is_group_room(s: RoomState) -> bool:
    """A small group's room (``groups``), made from the circle that is its ``parent``."""
    return s.kind == "circle" and s.parent is not None


def _alert(tx: Tx, data: Mapping[str, Any]) -> None:
    """``moderation.alert`` to the room's facilitators; from a small group, to the
    circle's as well: most of them are not in the group to see it."""
    tx.to_facilitators("moderation.alert", data)
    if is_group_room(tx.state):
        assert tx.state.parent is not None
        tx.notify("moderation.alert", Target("facilitators", tx.state.parent), data)


def reaction(tx: Tx, cmd: c.Reaction) -> None:
    if cmd.kind not in c.REACTIONS:
        raise CommandError("invalid", f"kind must be one of {', '.join(c.REACTIONS)}")
    tx.emit("reaction", {"participant_id": tx.actor.id, "kind": cmd.kind})


def milestone(tx: Tx, cmd: c.Milestone) -> None:
    lo, hi = c.MILESTONE_DAYS
    if not lo <= cmd.days <= hi:
        raise CommandError("invalid", f"days must be from {lo} to {hi}")
    if len(cmd.note) > c.MILESTONE_NOTE_MAX:
        raise CommandError("invalid", f"note must be at most {c.MILESTONE_NOTE_MAX} characters")
    ev = tx.emit("milestone", {"participant_id": tx.actor.id, "days": cmd.days, "note": clean_text(cmd.note)})
    _alerts(tx, cmd.alerts, ev.seq)


def report(tx: Tx, cmd: c.Report) -> None:
    s = tx.state
    if cmd.seq is not None and not 1 <= cmd.seq <= s.seq:
        raise CommandError("not_found", "no such event in this room")
    if cmd.participant is not None and cmd.participant not in s.participants:
        raise CommandError("not_found", "no such participant in the room")
    data: dict[str, object] = {"room": s.id, "kind": "report", "participant_id": cmd.participant,
                               "detail": cmd.reason, "reporter": tx.actor.id}
    if cmd.seq is not None:
        data["seq"] = cmd.seq
    _alert(tx, data)
    # The reason is the reporter's own words: for the facilitators now, not for the
    # audit log, which keeps who did what and never anyone's words.
    tx.audit("report", cmd.participant)


# -- facilitator controls ------------------------------------------------------------------

def change_settings(tx: Tx, cmd: c.ChangeSettings) -> None:
    s = tx.state
    changes = dict(cmd.changes)
    mode = changes.pop("mode", None)
    new = s.settings.updated(changes)
    opened = s.settings.lobby and not new.lobby
    if new != s.settings:
        s.settings = new
        tx.emit("settings.changed", {"settings": new.to_wire()})
    if opened:
        # Opening the door lets in everyone who was waiting at it, but not someone who
        # was removed: a kick is undone only by admitting that person.
        for pid in [pid for pid in s.lobby if pid not in s.kicked]:
            _admit(tx, pid)
    if mode is not None:
        if mode not in ("queue", "round"):
            raise CommandError("invalid", "mode must be one of queue, round")
        if mode == "round" and s.round is None:
            floor.start_round(tx, None)
        elif mode == "queue" and s.round is not None:
            floor.stop_round(tx)
    tx.reply["settings"] = s.settings.to_wire()


def mute(tx: Tx, cmd: c.Mute) -> None:
    s = tx.state
    p = s.participants.get(cmd.participant)
    if p is None:
        raise CommandError("not_found", "no such participant in the room")
    if p.muted == cmd.muted:
        return
    new = dataclasses.replace(p, muted=cmd.muted)
    s.participants[p.id] = new
    tx.emit("participant.updated", {"participant": new.to_wire()})
    tx.audit("mute" if cmd.muted else "unmute", p.id)
    if cmd.muted:
        floor.drop_from_turns(tx, p.id, "muted")


def remove(tx: Tx, cmd: c.Remove) -> None:
    s = tx.state
    pid = cmd.participant
    if pid == tx.actor.id:
        raise CommandError("invalid", "you cannot remove yourself; use leave")
    present = pid in s.participants
    waiting = pid in s.lobby
    if not present and not waiting and not cmd.ban:
        raise CommandError("not_found", "no such participant in the room")
    if cmd.ban:
        s.banned.add(pid)
    else:
        # A kick sticks: coming back means waiting for a facilitator in the lobby.
        s.kicked.add(pid)
    s.admitted.discard(pid)
    if waiting:
        _leave_lobby(tx, pid, "removed")
    tx.touch()
    reason = "banned" if cmd.ban else "removed"
    if present:
        _remove_participant(tx, pid, reason)
    if present or waiting:
        tx.to_participant(pid, "removed", {"room": s.id, "reason": cmd.reason or reason, "banned": cmd.ban})
    tx.audit("ban" if cmd.ban else "remove", pid, cmd.reason)


def _admit(tx: Tx, pid: str) -> None:
    s = tx.state
    _leave_lobby(tx, pid, "admitted")
    s.admitted.add(pid)
    tx.to_participant(pid, "lobby.admitted", {"room": s.id})
    tx.audit("lobby.admit", pid)


def lobby_admit(tx: Tx, cmd: c.LobbyAdmit) -> None:
    if cmd.participant not in tx.state.lobby:
        raise CommandError("not_found", "that person is not waiting in the lobby")
    _admit(tx, cmd.participant)


def lobby_deny(tx: Tx, cmd: c.LobbyDeny) -> None:
    s = tx.state
    if cmd.participant not in s.lobby:
        raise CommandError("not_found", "that person is not waiting in the lobby")
    _leave_lobby(tx, cmd.participant, "denied")
    tx.to_participant(cmd.participant, "lobby.denied", {"room": s.id})
    tx.audit("lobby.deny", cmd.participant)


def chat_delete(tx: Tx, cmd: c.ChatDelete) -> None:
    s = tx.state
    if not 1 <= cmd.seq <= s.seq or cmd.seq in s.deleted:
        raise CommandError("not_found", "no such message")
    if not cmd.is_message:
        raise CommandError("not_found", "no message with that seq in the retained log")
    s.deleted.add(cmd.seq)
    # Remembered as far back as the service ever serves events (``LOG_KEPT``).
    floor_seq = s.seq - LOG_KEPT
    s.deleted = {x for x in s.deleted if x > floor_seq}
    tx.emit("chat.deleted", {"seq": cmd.seq})
    tx.audit("message.delete", None, f"seq {cmd.seq}")


def chat_review(tx: Tx, cmd: c.ChatReview) -> None:
    s = tx.state
    held = s.held.pop(cmd.id, None)
    if held is None:
        raise CommandError("not_found", "no held message with that id")
    if cmd.approve and cmd.text is None:
        raise CommandError("not_found", "the held message's text is gone; it can only be rejected")
    tx.touch()
    tx.held_dropped.append(held.id)
    seq: int | None = None
    if cmd.approve:
        assert cmd.text is not None
        ev = tx.emit("chat.message", {"id": held.id, "from": held.sender, "text": cmd.text,
                                      "redacted": held.redacted, "reply_to": held.reply_to}, actor=held.sender)
        seq = ev.seq
        if held.client_id:
            _remember_client_id(tx, client_key(held.sender, held.client_id), ev.seq)
    elif held.client_id:
        _remember_client_id(tx, client_key(held.sender, held.client_id), BLOCKED_SEQ)
    tx.to_participant(held.sender, "chat.reviewed", {"room": s.id, "id": held.id, "client_id": held.client_id,
                                                     "approved": cmd.approve, "seq": seq})
    tx.audit("message.approve" if cmd.approve else "message.reject", held.sender, held.reason)


def end_room(tx: Tx, cmd: c.EndRoom) -> None:
    s = tx.state
    s.ended = True
    tx.emit("room.ended", {})
    tx.audit("room.end", None)
    if s.groups is not None:
        # A circle ended while split: its small groups end with it.
        tx.closed.extend(g.room for g in s.groups.groups)


# -- group links ------------------------------------------------------------------------------

# Group links a room may hold at once (expired ones are dropped as new ones come).
INVITES_MAX = 20


def invite_create(tx: Tx, cmd: c.InviteCreate) -> None:
    s = tx.state
    if cmd.expires_at <= tx.now:
        raise CommandError("invalid", "the link must expire in the future")
    if cmd.max_uses is not None and cmd.max_uses < 1:
        raise CommandError("invalid", "max_uses must be at least 1")
    for old in [i for i in s.invites.values() if i.expires_at <= tx.now]:
        del s.invites[old.id]
    if len(s.invites) >= INVITES_MAX:
        raise CommandError("full", f"a room may hold {INVITES_MAX} group links; revoke one first")
    s.invites[cmd.id] = Invite(id=cmd.id, code_hash=cmd.code_hash, expires_at=cmd.expires_at,
                               max_uses=cmd.max_uses, created_at=tx.now)
    tx.reply["invite"] = s.invites[cmd.id].to_wire()
    tx.audit("invite.create", cmd.id)


def invite_revoke(tx: Tx, cmd: c.InviteRevoke) -> None:
    if tx.state.invites.pop(cmd.id, None) is None:
        raise CommandError("not_found", "no such group link")
    tx.audit("invite.revoke", cmd.id)


def invite_redeem(tx: Tx, cmd: c.InviteRedeem) -> None:
    s = tx.state
    found = next((i for i in s.invites.values() if hmac.compare_digest(i.code_hash, cmd.code_hash)), None)
    if found is None:
        raise CommandError("not_found", "this link does not work (any more)")
    if found.expires_at <= tx.now:
        raise CommandError("expired", "this link has expired")
    if found.max_uses is not None and found.uses >= found.max_uses:
        raise CommandError("full", "this link has been used as many times as it may")
    s.invites[found.id] = dataclasses.replace(found, uses=found.uses + 1)
    tx.reply["invite"] = found.id
    tx.audit("invite.use", found.id)


# -- services handed to members -----------------------------------------------------------------

def service_set(tx: Tx, cmd: c.ServiceSet) -> None:
    """A facilitator hands a member a service for this meeting, or takes it back. It ends
    when they leave (or their reconnect grace runs out) and with the meeting."""
    s = tx.state
    p = s.participants.get(cmd.participant)
    if p is None:
        raise CommandError("not_found", "that person is not in the room")
    if cmd.service is not None and cmd.service not in SERVICES:
        raise CommandError("invalid", f"service must be one of {', '.join(SERVICES)}, or null")
    if cmd.service is not None and p.role != "member":
        raise CommandError("invalid", "services are for members: staff have these powers already")
    if p.service == cmd.service:
        return
    if cmd.service in SINGLE_SERVICES:
        for other in [q for q in s.participants.values() if q.service == cmd.service]:
            _serve(tx, other, None)
    _serve(tx, p, cmd.service)


def end_services(tx: Tx) -> None:
    """The meeting is over: every service handed out for it ends."""
    for p in [q for q in tx.state.participants.values() if q.service is not None]:
        _serve(tx, p, None)


def _serve(tx: Tx, p: Participant, service: str | None) -> None:
    new = dataclasses.replace(p, service=service)
    tx.state.participants[p.id] = new
    tx.emit("participant.updated", {"participant": new.to_wire()})
    if service is None:
        tx.audit("service.take", p.id, p.service)
    else:
        tx.audit("service.give", p.id, service)
    if service == "greeter" or p.service == "greeter":
        # A new greeter sees who waits now (later arrivals come as ``lobby.waiting``); a
        # former one, nobody.
        lobby = [lobby_wire(q) for q in tx.state.lobby.values()] if service == "greeter" else []
        tx.to_participant(p.id, "lobby.list", {"room": tx.state.id, "lobby": lobby})


# -- schedules ---------------------------------------------------------------------------------

def schedule_set(tx: Tx, cmd: c.ScheduleSet) -> None:
    if tx.state.kind != "circle" or tx.state.parent is not None:
        raise CommandError("invalid", "only a circle can have a schedule: an on-call room is always open")
    if cmd.schedule.room != tx.state.id:
        raise CommandError("invalid", "the schedule is for another room")
    tx.state.schedule = recurrence.make(cmd.schedule, cmd.public, tx.now, tx.state.schedule)
    tx.reply["schedule"] = recurrence.view(tx.state.schedule, tx.state.id, tx.now)
    tx.audit("schedule.set", None)


def schedule_clear(tx: Tx, cmd: c.ScheduleClear) -> None:
    if tx.state.schedule is None:
        raise CommandError("not_found", "this circle has no schedule")
    tx.state.schedule = None
    tx.audit("schedule.delete", None)


def knock(tx: Tx, cmd: c.Knock) -> None:
    rec = tx.state.schedule
    if rec is None or not rec.public:
        raise CommandError("not_found", "this circle is not listed")
    if not recurrence.admits(rec, tx.now):
        message, when = recurrence.closed_refusal(rec, tx.now)
        raise CommandError("locked", message, when)
    tx.audit("schedule.knock", None)


# -- on-call private rooms (§8, an addition) -----------------------------------------------------

def open_private(tx: Tx, cmd: c.OpenPrivate) -> None:
    """Staff of an on-call room take one of its people into a private 1:1 room.

    The member stays a participant of this room (their place, and any circle they are
    in, are kept). The new room travels in the outcome (``opened``): the service creates
    it after the commit, and the two of them get ``oncall.moved`` with a way in.
    """
    s, a = tx.state, tx.actor
    if s.kind != "oncall" or a.id is None:
        raise CommandError("forbidden", "only a responder in an on-call room may open a private room")
    if cmd.participant not in s.participants:
        raise CommandError("not_found", "no such participant in the room")
    tx.opened.append(oncall.private_room(cmd.room, s.id, cmd.participant, a.id, tx.now))
    # Both are told where to go (the service adds each one's token to the room).
    for pid in (cmd.participant, a.id):
        tx.notify("oncall.moved", Target("participant", s.id, pid), {"from_room": s.id, "room": cmd.room})
    # Ids only: who opened which room for whom.
    tx.audit("oncall.private", cmd.participant, cmd.room)
    tx.reply["room"] = cmd.room


def close_private(tx: Tx, cmd: c.ClosePrivate) -> None:
    """End a private 1:1 room and send its people back where they came from."""
    s = tx.state
    parent = s.parent
    if parent is None or s.kind != "oncall":
        raise CommandError("invalid", "this is not a private on-call room")
    # Both go back: the member to their place, the responder's on-call tab drops the
    # "private conversation is ready" panel.
    for pid in s.participants:
        tx.notify("oncall.returned", Target("participant", parent, pid), {"room": parent})
    end_room(tx, c.EndRoom())
    tx.reply["room"] = parent
