"""The on-call room (contract §8): a member in crisis is never alone for long.

A member who joins an on-call room waits until a responder is in the room. Waiting
starts a tier-1 page to on-duty responders at once; if nobody has come within
``escalate_after_seconds`` the clock escalates once: tier-2 pages to every connected
responder and facilitator, and a call to the deployment's webhook. A responder who
joins answers everyone waiting, and the log records how long each waited.
"""

from __future__ import annotations

import dataclasses
from typing import Final

from .model import RoomState, Settings, Target, Waiting
from .outcome import Tx

# A private 1:1 room: locked, both heard at once, no share timer.
PRIVATE_SETTINGS: Final = Settings(title="Private conversation", locked=True, audio="open", share_seconds=None)


def _responder_present(tx: Tx) -> str | None:
    return next((p.id for p in tx.state.participants.values() if p.role == "responder" and p.connected), None)


def _page(tx: Tx, pid: str, since: int, tier: int, to: Target) -> None:
    tx.notify("oncall.page", to, {"room": tx.state.id, "participant_id": pid, "waiting_since": since,
                                  "tier": tier, "reason": "joined"})


def _answer(tx: Tx, responder: str, pid: str, since: int) -> None:
    waited = max(0, tx.now - since)
    tx.emit("oncall.answered", {"responder_id": responder, "participant_id": pid, "waited_ms": waited},
            actor=responder)
    tx.audit("oncall.answered", pid, f"waited {waited} ms")


def _resolved(tx: Tx, pid: str, w: Waiting, reason: str) -> None:
    """Whoever was paged about ``pid`` can stop: answered, or gone. (An addition.)"""
    tx.notify("oncall.resolved", Target("staff" if w.escalated else "on_duty"),
              {"room": tx.state.id, "participant_id": pid, "reason": reason})


def on_join(tx: Tx, pid: str) -> None:
    """Someone came into (or back to) the on-call room."""
    s = tx.state
    if s.kind != "oncall" or s.parent is not None:
        return  # a private 1:1 room: its responder is on the way; nobody else is paged
    p = s.participants[pid]
    if p.role == "responder":
        for member, w in list(s.waiting.items()):
            _answer(tx, pid, member, w.since)
            _resolved(tx, member, w, "answered")
            del s.waiting[member]
        return
    if p.role != "member" or pid in s.waiting:
        return
    responder = _responder_present(tx)
    if responder is not None:
        _answer(tx, responder, pid, tx.now)
        return
    s.waiting[pid] = Waiting(since=tx.now)
    _page(tx, pid, tx.now, 1, Target("on_duty"))
    tx.audit("oncall.page", pid, "tier 1")


def on_leave(tx: Tx, pid: str) -> None:
    w = tx.state.waiting.pop(pid, None)
    if w is not None:
        _resolved(tx, pid, w, "left")


def escalate(tx: Tx) -> None:
    """Tier 2 for everyone who has waited too long; each escalates exactly once."""
    s = tx.state
    after = s.settings.escalate_after_seconds * 1000
    for pid, w in list(s.waiting.items()):
        if not w.escalated and tx.now >= w.since + after:
            s.waiting[pid] = dataclasses.replace(w, escalated=True)
            _page(tx, pid, w.since, 2, Target("staff"))
            tx.notify("oncall.escalated", Target("webhook"), {
                "room": s.id, "participant_id": pid, "waiting_since": w.since, "tier": 2, "at": tx.now})
            tx.audit("oncall.escalate", pid, "tier 2: no responder within "
                     f"{s.settings.escalate_after_seconds} s")


def next_escalation(state_waiting: dict[str, Waiting], escalate_after_seconds: int) -> int | None:
    times = [w.since + escalate_after_seconds * 1000 for w in state_waiting.values() if not w.escalated]
    return min(times) if times else None


def private_room(room_id: str, parent: str, member: str, responder: str, now: int) -> RoomState:
    """A new private 1:1 room opened from ``parent``: only its two people may join it
    (``allowed``, staff included), and the member is let in past its lock."""
    return RoomState(id=room_id, kind="oncall", settings=PRIVATE_SETTINGS, created_at=now,
                     admitted={member}, allowed={member, responder}, parent=parent)
