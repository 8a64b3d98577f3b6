"""Commands: what somebody (or the clock) asks a room to do.

Each is a frozen dataclass; ``rules.apply`` looks up its transition in one table. The
actor is carried separately (``Actor``) so that the same command can come from a socket,
the admin API or a timer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final, Literal, get_args

from ..schedules import Schedule
from .model import ROLES, Format, IntRange

SYSTEM_ROLE: Final = "system"
# The gateway's schemas take these from here (see the facts at the top of model.py).
ReactionKind = Literal["clap", "heart", "support", "thanks", "strength"]
REACTIONS: Final = get_args(ReactionKind)
# A milestone is days clean: from the first day to a hundred years.
MILESTONE_DAYS: Final = IntRange(1, 36500)
MILESTONE_NOTE_MAX: Final = 200


@dataclass(frozen=True)
class Actor:
    """Who issues a command. ``system`` is the admin API and the timers: it may do all."""

    id: str | None
    name: str = ""
    role: str = SYSTEM_ROLE
    # The connection the command came from ("<worker>:<sid>"), used to tell a
    # replaced connection's late disconnect from the live one's.
    conn: str = ""

    # Came by a group link: a facilitator lets them in from the lobby.
    guest: bool = False

    def __post_init__(self) -> None:
        if self.role not in (*ROLES, SYSTEM_ROLE):
            raise ValueError(f"unknown role {self.role!r}")

    @property
    def is_system(self) -> bool:
        return self.role == SYSTEM_ROLE


SYSTEM: Final = Actor(id=None)


@dataclass(frozen=True)
class Command:
    """Base of all commands."""


# -- membership -------------------------------------------------------------------------

@dataclass(frozen=True)
class Join(Command):
    # (additions) Accepting the room's guidelines (rooms with ``consent``), and what the
    # person said of themselves on the way in ("new" or "returning").
    accept: bool = False
    arrival: str | None = None


@dataclass(frozen=True)
class Leave(Command):
    pass


@dataclass(frozen=True)
class Disconnect(Command):
    """The actor's connection dropped (or its worker died)."""


# -- text -------------------------------------------------------------------------------

@dataclass(frozen=True)
class ModerationAlert:
    kind: str
    detail: str


@dataclass(frozen=True)
class Chat(Command):
    """A chat message after the moderation pipeline judged it.

    ``action`` is the pipeline's verdict: allow, redact (``text`` is already the
    redacted text), hold or block.
    """

    text: str
    msg_id: str
    client_id: str | None = None
    reply_to: int | None = None
    action: str = "allow"
    reason: str = ""
    alerts: tuple[ModerationAlert, ...] = ()
    # What the store remembers of this sender's ``client_id`` (read with the state the
    # command is applied to): the seq its first try got, HELD_SEQ, BLOCKED_SEQ, or None.
    seen: int | None = None


@dataclass(frozen=True)
class Reaction(Command):
    kind: str


@dataclass(frozen=True)
class Milestone(Command):
    """``note`` is member text: it has passed the moderation pipeline like chat, and
    ``alerts`` are what the pipeline raised about it."""

    days: int
    note: str = ""
    alerts: tuple[ModerationAlert, ...] = ()


@dataclass(frozen=True)
class Report(Command):
    reason: str
    seq: int | None = None
    participant: str | None = None


# -- turn-taking (§6) -------------------------------------------------------------------

@dataclass(frozen=True)
class HandRaise(Command):
    pass


@dataclass(frozen=True)
class HandLower(Command):
    pass


@dataclass(frozen=True)
class FloorYield(Command):
    pass


@dataclass(frozen=True)
class FloorPass(Command):
    pass


@dataclass(frozen=True)
class FloorGrant(Command):
    participant: str


@dataclass(frozen=True)
class FloorRevoke(Command):
    pass


@dataclass(frozen=True)
class FloorExtend(Command):
    """More time for the share in progress (a timekeeper's or a facilitator's)."""

    seconds: int


@dataclass(frozen=True)
class ServiceSet(Command):
    """Hand ``participant`` a service for this meeting (None: take it back)."""

    participant: str
    service: str | None


@dataclass(frozen=True)
class QueueMove(Command):
    participant: str
    index: int


@dataclass(frozen=True)
class RoundStart(Command):
    order: tuple[str, ...] | None = None


@dataclass(frozen=True)
class RoundStop(Command):
    pass


@dataclass(frozen=True)
class ChangeSettings(Command):
    changes: dict[str, Any] = field(default_factory=dict)


# -- facilitator controls ---------------------------------------------------------------

@dataclass(frozen=True)
class Mute(Command):
    participant: str
    muted: bool


@dataclass(frozen=True)
class Remove(Command):
    participant: str
    ban: bool = False
    reason: str | None = None


@dataclass(frozen=True)
class LobbyAdmit(Command):
    participant: str


@dataclass(frozen=True)
class LobbyDeny(Command):
    participant: str


@dataclass(frozen=True)
class ChatDelete(Command):
    seq: int
    # Whether ``seq`` is a chat message in the retained log: the state does not say, so
    # the service reads it from the log (as it reads a held message's text for review).
    is_message: bool = True


@dataclass(frozen=True)
class ChatReview(Command):
    id: str
    approve: bool
    # The held message's text, read from the store by the service (None: it is gone).
    text: str | None = None


@dataclass(frozen=True)
class EndRoom(Command):
    pass


# -- group links ----------------------------------------------------------------------------

@dataclass(frozen=True)
class InviteCreate(Command):
    """A group link; ``id`` and ``code_hash`` come from the edge, which made the secret."""

    id: str
    code_hash: str
    expires_at: int
    max_uses: int | None = None


@dataclass(frozen=True)
class InviteRevoke(Command):
    id: str


@dataclass(frozen=True)
class InviteRedeem(Command):
    """Someone with the link asks to come in (the admin API, as the system)."""

    code_hash: str


# -- schedules (``recurrence``) -------------------------------------------------------------

@dataclass(frozen=True)
class ScheduleSet(Command):
    """Make the room a circle that meets weekly (validated at the edge)."""

    schedule: Schedule
    public: bool = False


@dataclass(frozen=True)
class ScheduleClear(Command):
    """The room is always open again."""


@dataclass(frozen=True)
class Knock(Command):
    """Someone who found a public circle in a meeting list asks to come in (the admin
    API, as the system): allowed while it is open; they then wait in its lobby."""


# -- meeting formats (``core.format``) ----------------------------------------------------

@dataclass(frozen=True)
class FormatSet(Command):
    """Give the circle a meeting format (validated at the edge)."""

    format: Format


@dataclass(frozen=True)
class FormatClear(Command):
    """The circle has no format any more (a meeting in progress ends first)."""


@dataclass(frozen=True)
class FormatStart(Command):
    """Start the meeting at its first part; ``reader`` reads it when it is a reading."""

    reader: str | None = None


@dataclass(frozen=True)
class FormatAdvance(Command):
    """On to the next part, or to part ``index``; ``reader`` reads it when it is a reading."""

    index: int | None = None
    reader: str | None = None


@dataclass(frozen=True)
class FormatEnd(Command):
    """End the meeting now: the room goes back to its settings from before it."""


# -- on-call (§8) ----------------------------------------------------------------------

@dataclass(frozen=True)
class OpenPrivate(Command):
    """Take ``participant`` from an on-call room into a new private 1:1 room with the
    actor. ``room`` is the new room's id, drawn by the caller (the core draws nothing)."""

    participant: str
    room: str


@dataclass(frozen=True)
class ClosePrivate(Command):
    """End a private 1:1 room; its people go back to the room it was opened from."""


# -- small groups (``groups``) --------------------------------------------------------------

@dataclass(frozen=True)
class GroupsStart(Command):
    """Split the circle into small groups for ``minutes``: by hand (``groups``, lists of
    participant ids) or evenly into ``count`` groups (members only; staff stay). ``rooms``
    are the groups' room ids, one per group, drawn by the caller (the core draws nothing)."""

    groups: tuple[tuple[str, ...], ...] | None
    count: int | None
    minutes: int
    rooms: tuple[str, ...]


@dataclass(frozen=True)
class GroupsEnd(Command):
    """Bring everyone back from the small groups now."""


@dataclass(frozen=True)
class GroupsVisit(Command):
    """A facilitator asks to look in on one of the groups (``room``): the service gives
    them a way in. Nothing changes in the circle."""

    room: str


# -- time -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Tick(Command):
    """The clock reached one of the room's deadlines (share warning, expiry, grace)."""
