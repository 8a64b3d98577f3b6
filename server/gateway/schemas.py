"""Payload schemas of every client→server event (contract §4.1), validated by pydantic.

Strict types, unknown fields refused. A payload that fails gets ``invalid`` with a
message naming the field; an oversized one ``too_large``. Nothing here knows the rules
of a room: that is the core's job.
"""

from __future__ import annotations

from typing import Annotated, Any, Final, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, conint

from ..core.errors import CommandError

# The largest payload any event needs: a 2000-character message in 4-byte UTF-8 is
# 8 KB, an SDP offer a few KB. Anything above this is refused before parsing.
MAX_PAYLOAD_BYTES: Final = 16 * 1024
CHAT_MAX: Final = 2000

RoomId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")]
ParticipantId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
Seq = Annotated[int, Field(ge=0)]


class Payload(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class RoomPayload(Payload):
    room: RoomId


class JoinPayload(RoomPayload):
    since: Seq | None = None


class ChatSend(RoomPayload):
    text: Annotated[str, Field(min_length=1)]
    client_id: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    reply_to: Annotated[int, Field(ge=1)] | None = None


class ReactionSend(RoomPayload):
    kind: Literal["clap", "heart", "support", "thanks", "strength"]


class MilestoneShare(RoomPayload):
    days: conint(strict=True, ge=1, le=36500)  # type: ignore[valid-type]
    note: Annotated[str, Field(max_length=200)] = ""


class ReportPayload(RoomPayload):
    reason: Annotated[str, Field(min_length=1, max_length=500)]
    seq: Annotated[int, Field(ge=1)] | None = None
    participant: ParticipantId | None = None


class ParticipantPayload(RoomPayload):
    participant: ParticipantId


class QueueMovePayload(ParticipantPayload):
    index: Annotated[int, Field(ge=0)]


class RoundStartPayload(RoomPayload):
    order: Annotated[list[ParticipantId], Field(min_length=1, max_length=1000)] | None = None


class SettingsPayload(RoomPayload):
    title: Annotated[str, Field(max_length=120)] | None = None
    share_seconds: Annotated[int, Field(ge=10, le=3600)] | None = None
    warn_seconds: Annotated[int, Field(ge=0, le=3600)] | None = None
    overrun: Literal["notify", "advance"] | None = None
    auto_advance: bool | None = None
    mode: Literal["queue", "round"] | None = None
    chat: Literal["open", "facilitators", "off"] | None = None
    audio: Literal["floor", "open"] | None = None
    lobby: bool | None = None
    locked: bool | None = None
    max_participants: Annotated[int, Field(ge=1, le=1000)] | None = None
    slow_mode_seconds: Annotated[int, Field(ge=0, le=3600)] | None = None
    reconnect_grace_seconds: Annotated[int, Field(ge=0, le=3600)] | None = None
    escalate_after_seconds: Annotated[int, Field(ge=1, le=86400)] | None = None

    def changes(self) -> dict[str, Any]:
        """The settings the client named; ``share_seconds: null`` means untimed."""
        return {k: getattr(self, k) for k in self.model_fields_set if k != "room"}


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


class DutyPayload(Payload):
    on: bool


class RtcOffer(RoomPayload):
    sdp: Annotated[str, Field(min_length=1, max_length=MAX_PAYLOAD_BYTES)]
    type: Literal["offer"]


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
