"""Turn-taking: the hand queue, the floor, timed shares and rounds (contract §6).

The invariants every transition keeps (and the property tests check):
- at most one floor holder, and the holder is a participant of the room;
- nobody is twice in the queue, and the holder is never in it;
- everyone in the queue is a participant who is not muted;
- nobody away in a small group holds the floor (they keep their place in the queue).
"""

from __future__ import annotations

import dataclasses

from . import commands as c
from .errors import CommandError
from .model import EXTEND_SECONDS, Floor, RoomState, Round
from .outcome import Tx

# -- building blocks ----------------------------------------------------------------------

def grant(tx: Tx, pid: str) -> None:
    """Give the floor to ``pid`` (who must be a present, unmuted participant)."""
    s = tx.state
    if pid in s.queue:
        s.queue.remove(pid)
    share = s.settings.share_seconds
    deadline = tx.now + share * 1000 if share is not None else None
    s.floor = Floor(participant_id=pid, started_at=tx.now, deadline=deadline)
    tx.emit("floor.granted", {"participant_id": pid, "started_at": tx.now, "deadline": deadline}, actor=None)


def release(tx: Tx, reason: str, advance_after: bool = True, skip: str | None = None) -> None:
    """Take the floor from its holder; then pass it on (rule 3 / rule 5), never to
    ``skip`` (someone on their way out)."""
    s = tx.state
    if s.floor is None:
        return
    pid = s.floor.participant_id
    s.floor = None
    tx.emit("floor.released", {"participant_id": pid, "reason": reason}, actor=None)
    if advance_after:
        advance(tx, skip)


def can_hold(s: RoomState, pid: str) -> bool:
    """A participant who is not muted, and not away in a small group (``groups``)."""
    p = s.participants.get(pid)
    return p is not None and not p.muted and pid not in s.away()


def advance(tx: Tx, skip: str | None = None) -> None:
    """When the floor is free: the next in the round, or the first in the queue who can
    hold it (someone away in a small group keeps their place, and waits)."""
    s = tx.state
    if s.floor is not None:
        return
    if s.round is not None:
        i = s.round.index + 1
        while i < len(s.round.order) and (s.round.order[i] == skip or not can_hold(s, s.round.order[i])):
            i += 1
        if i < len(s.round.order):
            s.round = dataclasses.replace(s.round, index=i)
            grant(tx, s.round.order[i])
            return
        end_round(tx)
    if s.settings.auto_advance:
        nxt = next((pid for pid in s.queue if can_hold(s, pid)), None)
        if nxt is not None:
            grant(tx, nxt)


def end_round(tx: Tx) -> None:
    s = tx.state
    s.round = None
    tx.emit("round.ended", {}, actor=None)
    if s.settings.mode == "round":
        # The contract: after the last speaker, the room returns to queue mode.
        s.settings = dataclasses.replace(s.settings, mode="queue")
        tx.emit("settings.changed", {"settings": s.settings.to_wire()}, actor=None)


def drop_from_turns(tx: Tx, pid: str, floor_reason: str) -> None:
    """Somebody left, was removed or muted: out of the queue, and off the floor."""
    s = tx.state
    if pid in s.queue:
        s.queue.remove(pid)
        tx.emit("hand.lowered", {"participant_id": pid, "queue": list(s.queue)}, actor=None)
    if s.floor is not None and s.floor.participant_id == pid:
        # Granted out of turn in a round, they may also be the round's next: not them.
        release(tx, floor_reason, skip=pid)


def start_round(tx: Tx, order: tuple[str, ...] | None) -> None:
    s = tx.state
    if order is None:
        order = tuple(pid for pid, p in s.participants.items() if p.connected and not p.muted)
    if not order:
        raise CommandError("conflict", "nobody is here to take part in a round")
    if len(set(order)) != len(order):
        raise CommandError("invalid", "a round's order names each person once")
    unknown = [pid for pid in order if pid not in s.participants]
    if unknown:
        raise CommandError("not_found", "the round's order names someone who is not in the room")
    if s.floor is not None:
        release(tx, "revoked", advance_after=False)
    if s.round is not None:
        s.round = None
        tx.emit("round.ended", {}, actor=None)
    if s.settings.mode != "round":
        s.settings = dataclasses.replace(s.settings, mode="round")
        tx.emit("settings.changed", {"settings": s.settings.to_wire()}, actor=None)
    s.round = Round(order=tuple(order), index=-1)
    tx.emit("round.started", {"order": list(order)})
    advance(tx)


def stop_round(tx: Tx) -> None:
    s = tx.state
    if s.round is None:
        raise CommandError("conflict", "no round is running")
    holder = s.floor.participant_id if s.floor else None
    if holder is not None:
        release(tx, "revoked", advance_after=False)
    end_round(tx)
    advance(tx)


# -- commands -------------------------------------------------------------------------------

def hand_raise(tx: Tx, cmd: c.HandRaise) -> None:
    s = tx.state
    pid = tx.actor.id
    assert pid is not None
    if s.participants[pid].muted:
        raise CommandError("muted", "you are muted and cannot raise your hand")
    if s.format is not None and s.format.free_until is not None:
        raise CommandError("conflict", "this is free time: there is no queue, everyone may speak")
    if pid not in s.queue and not (s.floor and s.floor.participant_id == pid):
        s.queue.append(pid)
        tx.emit("hand.raised", {"participant_id": pid, "queue": list(s.queue)})
        advance(tx)
    tx.reply["queue"] = list(s.queue)


def hand_lower(tx: Tx, cmd: c.HandLower) -> None:
    s = tx.state
    pid = tx.actor.id
    if pid in s.queue:
        s.queue.remove(pid)
        tx.emit("hand.lowered", {"participant_id": pid, "queue": list(s.queue)})
    tx.reply["queue"] = list(s.queue)


def _require_holder(tx: Tx) -> None:
    if tx.state.floor is None or tx.state.floor.participant_id != tx.actor.id:
        raise CommandError("conflict", "you do not hold the floor")


def floor_yield(tx: Tx, cmd: c.FloorYield) -> None:
    _require_holder(tx)
    release(tx, "yielded")


def floor_pass(tx: Tx, cmd: c.FloorPass) -> None:
    s = tx.state
    pid = tx.actor.id
    if s.floor is not None and s.floor.participant_id == pid:
        release(tx, "passed")
        return
    # In a round, someone whose turn is still to come may pass ahead of time.
    if s.round is not None and pid in s.round.order[s.round.index + 1:]:
        head = s.round.order[: s.round.index + 1]
        rest = tuple(x for x in s.round.order[s.round.index + 1:] if x != pid)
        s.round = Round(order=head + rest, index=s.round.index)
        tx.emit("round.updated", {"order": list(s.round.order), "index": s.round.index})
        return
    raise CommandError("conflict", "you do not hold the floor and are not waiting in a round")


def floor_grant(tx: Tx, cmd: c.FloorGrant) -> None:
    s = tx.state
    p = s.participants.get(cmd.participant)
    if p is None:
        raise CommandError("not_found", "no such participant in the room")
    if p.muted:
        raise CommandError("muted", "a muted participant cannot be given the floor")
    if not can_hold(s, p.id):
        raise CommandError("conflict", "that person is away in a small group")
    if s.floor is not None:
        if s.floor.participant_id == cmd.participant:
            return
        release(tx, "revoked", advance_after=False)
    grant(tx, cmd.participant)


def floor_revoke(tx: Tx, cmd: c.FloorRevoke) -> None:
    if tx.state.floor is None:
        raise CommandError("conflict", "nobody holds the floor")
    release(tx, "revoked")


def floor_extend(tx: Tx, cmd: c.FloorExtend) -> None:
    s = tx.state
    if s.floor is None:
        raise CommandError("conflict", "nobody holds the floor")
    if s.floor.deadline is None:
        raise CommandError("conflict", "this share is not timed")
    if not EXTEND_SECONDS.lo <= cmd.seconds <= EXTEND_SECONDS.hi:
        raise CommandError("invalid", f"seconds must be from {EXTEND_SECONDS.lo} to {EXTEND_SECONDS.hi}")
    deadline = max(s.floor.deadline, tx.now) + cmd.seconds * 1000
    # A warning already given may be given again before the new end; an overrun is over.
    warned = s.floor.warned and deadline - tx.now <= s.settings.warn_seconds * 1000
    s.floor = dataclasses.replace(s.floor, deadline=deadline, warned=warned, expired=False)
    tx.emit("floor.extended", {"participant_id": s.floor.participant_id, "deadline": deadline,
                               "seconds": cmd.seconds})


def queue_move(tx: Tx, cmd: c.QueueMove) -> None:
    s = tx.state
    if cmd.participant not in s.queue:
        raise CommandError("not_found", "that participant is not in the queue")
    if not 0 <= cmd.index < len(s.queue):
        raise CommandError("invalid", f"index must be from 0 to {len(s.queue) - 1}")
    s.queue.remove(cmd.participant)
    s.queue.insert(cmd.index, cmd.participant)
    tx.emit("queue.moved", {"queue": list(s.queue)})
    tx.reply["queue"] = list(s.queue)


def round_start(tx: Tx, cmd: c.RoundStart) -> None:
    start_round(tx, cmd.order)


def round_stop(tx: Tx, cmd: c.RoundStop) -> None:
    stop_round(tx)


# -- timers -----------------------------------------------------------------------------------

def warn_at(floor: Floor, warn_seconds: int) -> int | None:
    """When the gentle warning is due, or None (untimed share, no warning, or sent)."""
    if floor.deadline is None or floor.warned or warn_seconds <= 0:
        return None
    return max(floor.started_at, floor.deadline - warn_seconds * 1000)


def floor_deadlines(tx: Tx) -> None:
    """Fire the share's warning and expiry if their time has come (rule 4)."""
    s = tx.state
    f = s.floor
    if f is None or f.deadline is None:
        return
    deadline = f.deadline
    w = warn_at(f, s.settings.warn_seconds)
    if w is not None and tx.now >= w and not f.expired:
        f = dataclasses.replace(f, warned=True)
        s.floor = f
        tx.emit("floor.warning", {"participant_id": f.participant_id,
                                  "remaining_ms": max(0, deadline - tx.now)}, actor=None)
    if not f.expired and tx.now >= deadline:
        s.floor = dataclasses.replace(f, expired=True, warned=True)
        tx.emit("floor.expired", {"participant_id": f.participant_id}, actor=None)
        if s.settings.overrun == "advance":
            release(tx, "expired")


def next_floor_deadline(floor: Floor | None, warn_seconds: int) -> int | None:
    if floor is None or floor.deadline is None or floor.expired:
        return None
    w = warn_at(floor, warn_seconds)
    return w if w is not None else floor.deadline
