"""The result of a transition, and the small builder transitions use to make it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .commands import Actor
from .errors import CommandError
from .model import AuditEntry, Event, Notice, RoomState, Target


@dataclass(frozen=True)
class Outcome:
    """A new state with what it produced, to be committed together.

    ``refusal`` is set when the command changed the state but the caller must still be
    told no (a held or blocked message is recorded, and its sender gets ``held``).
    """

    state: RoomState
    events: tuple[Event, ...] = ()
    notices: tuple[Notice, ...] = ()
    audit: tuple[AuditEntry, ...] = ()
    # (sender \0 client_id, seq | HELD_SEQ | BLOCKED_SEQ) for the store to remember
    # beside the state, for idempotent retries.
    client_ids: tuple[tuple[str, int], ...] = ()
    # Texts of messages newly held for review, (id, text), and ids of held messages that
    # are gone (reviewed, or pushed out past HELD_MAX): the store keeps held texts beside
    # the state.
    held_texts: tuple[tuple[str, str], ...] = ()
    held_dropped: tuple[str, ...] = ()
    # Rooms the transition made (a private 1:1 room): the service creates them once the
    # commit is in, before anyone is told of them.
    opened: tuple[RoomState, ...] = ()
    # Rooms the transition ends (a split circle's small groups): the service ends each
    # once the commit is in and its notices are out.
    closed: tuple[str, ...] = ()
    reply: Mapping[str, Any] = field(default_factory=dict)
    refusal: CommandError | None = None
    # False when nothing needs committing (a no-op such as raising a raised hand).
    changed: bool = True


class Tx:
    """Accumulates one transition's output on a private copy of the state."""

    def __init__(self, state: RoomState, actor: Actor, now: int) -> None:
        self.state = state.copy()
        self.actor = actor
        self.now = now
        self.events: list[Event] = []
        self.notices: list[Notice] = []
        self.audits: list[AuditEntry] = []
        self.client_ids: list[tuple[str, int]] = []
        self.held_texts: list[tuple[str, str]] = []
        self.held_dropped: list[str] = []
        self.opened: list[RoomState] = []
        self.closed: list[str] = []
        self.reply: dict[str, Any] = {}
        self.refusal: CommandError | None = None
        self.dirty = False

    def emit(self, type_: str, data: Mapping[str, Any], actor: str | bool | None = True) -> Event:
        """Append one event to the room log with the next seq.

        ``actor`` defaults to the command's actor; pass ``None`` for a system event.
        """
        self.state.seq += 1
        who = self.actor.id if actor is True else (actor if isinstance(actor, str) else None)
        ev = Event(room=self.state.id, seq=self.state.seq, type=type_, at=self.now, actor=who, data=data)
        self.events.append(ev)
        self.dirty = True
        return ev

    def notify(self, event: str, to: Target, data: Mapping[str, Any]) -> None:
        self.notices.append(Notice(event=event, to=to, data=data))

    def audit(self, action: str, target: str | None, reason: str | None = None) -> None:
        self.audits.append(AuditEntry(at=self.now, room=self.state.id, actor=self.actor.id,
                                      action=action, target=target, reason=reason))
        self.dirty = True

    def touch(self) -> None:
        """Mark a change of state that appends no event (lobby, held messages)."""
        self.dirty = True

    def to_facilitators(self, event: str, data: Mapping[str, Any]) -> None:
        self.notify(event, Target("facilitators", self.state.id), data)

    def to_participant(self, pid: str, event: str, data: Mapping[str, Any]) -> None:
        self.notify(event, Target("participant", self.state.id, pid), data)

    def outcome(self) -> Outcome:
        if self.dirty:
            self.state.version += 1
        return Outcome(state=self.state, events=tuple(self.events), notices=tuple(self.notices),
                       audit=tuple(self.audits), client_ids=tuple(self.client_ids),
                       held_texts=tuple(self.held_texts), held_dropped=tuple(self.held_dropped),
                       opened=tuple(self.opened), closed=tuple(self.closed), reply=self.reply,
                       refusal=self.refusal, changed=self.dirty)
