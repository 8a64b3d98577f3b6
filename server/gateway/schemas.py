"""Payload schemas of every client→server event (contract §4.1), validated by pydantic.

Strict types, unknown fields refused. A payload that fails gets ``invalid`` with a
message naming the field; an oversized one ``too_large``. Nothing here knows the rules
of a room: that is the core's job, and every pattern, bound and closed set used here is
the core's own constant, so the edge cannot drift from what the core enforces.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Final, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.fields import FieldInfo

from ..core.commands import MILESTONE_DAYS, MILESTONE_NOTE_MAX, ReactionKind
from ..core.errors import CommandError
from ..core.model import (
    EXTEND_SECONDS,
    FORMAT_SEGMENTS,
    GROUPS_COUNT,
    GROUPS_MINUTES,
    ROOM_ID_PATTERN,
    SETTING_RANGES,
    SUB_PATTERN,
    TITLE_MAX,
    Arrival,
    AudioMode,
    ChatMode,
    FloorMode,
    IntRange,
    Overrun,
    Service,
)

# The largest payload any event needs: a 2000-character message in 4-byte UTF-8 is
# 8 KB, an SDP offer a few KB. Anything above this is refused before parsing.
MAX_PAYLOAD_BYTES: Final = 16 * 1024
CHAT_MAX: Final = 2000
# A round cannot name more people than a room may hold.
ROUND_MAX: Final = SETTING_RANGES["max_participants"].hi

RoomId = Annotated[str, Field(pattern=ROOM_ID_PATTERN)]
ParticipantId = Annotated[str, Field(pattern=SUB_PATTERN)]
Seq = Annotated[int, Field(ge=0)]


def within(bounds: IntRange) -> FieldInfo:
    """The pydantic constraint for one of the core's ``IntRange`` bounds."""
    return Field(ge=bounds.lo, le=bounds.hi)


def setting(name: str) -> FieldInfo:
    """The bounds of the whole-number setting ``name``, as the core's ``Settings`` has them."""
    return within(SETTING_RANGES[name])


class Payload(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class RoomPayload(Payload):
    room: RoomId


class JoinPayload(RoomPayload):
    since: Seq | None = None
    # (additions) accepting the room's guidelines; "new" or "returning"
    accept: bool = False
    arrival: Arrival | None = None


class ChatSend(RoomPayload):
    text: Annotated[str, Field(min_length=1)]
    client_id: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    reply_to: Annotated[int, Field(ge=1)] | None = None


class ReactionSend(RoomPayload):
    kind: ReactionKind


class MilestoneShare(RoomPayload):
    days: Annotated[int, within(MILESTONE_DAYS)]
    note: Annotated[str, Field(max_length=MILESTONE_NOTE_MAX)] = ""


class ReportPayload(RoomPayload):
    reason: Annotated[str, Field(min_length=1, max_length=500)]
    seq: Annotated[int, Field(ge=1)] | None = None
    participant: ParticipantId | None = None


class ParticipantPayload(RoomPayload):
    participant: ParticipantId


class QueueMovePayload(ParticipantPayload):
    index: Annotated[int, Field(ge=0)]


class RoundStartPayload(RoomPayload):
    order: Annotated[list[ParticipantId], Field(min_length=1, max_length=ROUND_MAX)] | None = None


class SettingsPayload(RoomPayload):
    title: Annotated[str, Field(max_length=TITLE_MAX)] | None = None
    share_seconds: Annotated[int, setting("share_seconds")] | None = None
    warn_seconds: Annotated[int, setting("warn_seconds")] | None = None
    overrun: Overrun | None = None
    auto_advance: bool | None = None
    mode: FloorMode | None = None
    chat: ChatMode | None = None
    audio: AudioMode | None = None
    lobby: bool | None = None
    locked: bool | None = None
    max_participants: Annotated[int, setting("max_participants")] | None = None
    slow_mode_seconds: Annotated[int, setting("slow_mode_seconds")] | None = None
    reconnect_grace_seconds: Annotated[int, setting("reconnect_grace_seconds")] | None = None
    escalate_after_seconds: Annotated[int, setting("escalate_after_seconds")] | None = None
    consent: bool | None = None

    def changes(self) -> dict[str, Any]:
        """The settings the client named; ``share_seconds: null`` means untimed."""
        return {k: getattr(self, k) for k in self.model_fields_set if k != "room"}


class GroupsStartPayload(RoomPayload):
    """Small groups: ``count`` (evenly) or ``groups`` (by hand), for ``minutes``."""

    count: Annotated[int, within(GROUPS_COUNT)] | None = None
    groups: Annotated[list[Annotated[list[ParticipantId], Field(min_length=1, max_length=ROUND_MAX)]],
                      Field(min_length=1, max_length=GROUPS_COUNT.hi)] | None = None
    minutes: Annotated[int, within(GROUPS_MINUTES)]


class GroupVisitPayload(RoomPayload):
    group: RoomId


class ExtendPayload(RoomPayload):
    seconds: Annotated[int, within(EXTEND_SECONDS)]


class ServicePayload(ParticipantPayload):
    service: Service | None


class MutePayload(ParticipantPayload):
    muted: bool


class RemovePayload(ParticipantPayload):
    ban: bool = False
    reason: Annotated[str, Field(max_length=500)] | None = None


class ChatDeletePayload(RoomPayload):
    seq: Annotated[int, Field(ge=1)]


class ChatReviewPayload(RoomPayload):
    id: Annotated[str, Field(min_length=1, max_length=64)]
    approve: bool


class FormatStartPayload(RoomPayload):
    reader: ParticipantId | None = None


class FormatAdvancePayload(RoomPayload):
    index: Annotated[int, Field(ge=0, le=FORMAT_SEGMENTS.hi - 1)] | None = None
    reader: ParticipantId | None = None


class DutyPayload(Payload):
    on: bool


class RtcOffer(RoomPayload):
    sdp: Annotated[str, Field(min_length=1, max_length=MAX_PAYLOAD_BYTES)]
    type: Literal["offer"]


class AttendanceMine(Payload):
    """(addition) one's own attendance, of one room or of all."""

    room: RoomId | None = None


class AttendanceFollowUp(Payload):
    """(addition) follow-up on missed meetings: set with ``on``, read without."""

    on: bool | None = None


# Every client→server event and its payload schema (the gateway has a handler for each).
EVENTS: Final[Mapping[str, type[Payload]]] = {
    "join": JoinPayload,
    "leave": RoomPayload,
    "chat.send": ChatSend,
    "hand.raise": RoomPayload,
    "hand.lower": RoomPayload,
    "floor.yield": RoomPayload,
    "floor.pass": RoomPayload,
    "reaction.send": ReactionSend,
    "milestone.share": MilestoneShare,
    "report": ReportPayload,
    "floor.grant": ParticipantPayload,
    "floor.revoke": RoomPayload,
    "floor.extend": ExtendPayload,
    "participant.service": ServicePayload,
    "queue.move": QueueMovePayload,
    "round.start": RoundStartPayload,
    "round.stop": RoomPayload,
    "room.settings": SettingsPayload,
    "participant.mute": MutePayload,
    "participant.remove": RemovePayload,
    "lobby.admit": ParticipantPayload,
    "lobby.deny": ParticipantPayload,
    "chat.delete": ChatDeletePayload,
    "chat.review": ChatReviewPayload,
    "room.end": RoomPayload,
    "format.start": FormatStartPayload,
    "format.advance": FormatAdvancePayload,
    "format.end": RoomPayload,
    "format.get": RoomPayload,
    "oncall.duty": DutyPayload,
    "help.offer": RoomPayload,
    "session.renew": RoomPayload,
    "oncall.private": ParticipantPayload,
    "oncall.return": RoomPayload,
    "groups.start": GroupsStartPayload,
    "groups.end": RoomPayload,
    "groups.visit": GroupVisitPayload,
    "rtc.offer": RtcOffer,
    "rtc.close": RoomPayload,
    "attendance.mine": AttendanceMine,
    "attendance.erase": Payload,
    "attendance.follow_up": AttendanceFollowUp,
}

M = TypeVar("M", bound=BaseModel)


def parse(model: type[M], payload: Any) -> M:
    """Validate ``payload`` or raise ``CommandError('invalid')`` naming what is wrong."""
    if not isinstance(payload, dict):
        raise CommandError("invalid", "the payload must be a JSON object")
    if model is ChatSend and isinstance(payload.get("text"), str) and len(payload["text"]) > CHAT_MAX:
        raise CommandError("too_large", f"text must be at most {CHAT_MAX} characters")
    return validate(model, payload, "payload")


def validate(model: type[M], data: Any, what: str) -> M:
    """``model.model_validate`` with a failure turned into ``invalid`` naming the field."""
    try:
        return model.model_validate(data)
    except ValidationError as e:
        err = e.errors()[0]
        where = ".".join(str(x) for x in err.get("loc", ())) or what
        raise CommandError("invalid", f"{where}: {err.get('msg', 'invalid value')}") from None
