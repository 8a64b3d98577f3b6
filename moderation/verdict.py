"""What a moderation hook is given (``MessageContext``) and what it answers (``Verdict``).

Everything here is a frozen value: hooks never mutate what they are given, and the
pipeline combines verdicts without touching the hooks' own objects. Alerts and reasons
travel to facilitators and into the audit log, so they must never carry message text.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from functools import cached_property
from typing import Final

from .normalise import Normalised, normalise

ROOM_KINDS: Final = ("circle", "oncall")
SENDER_ROLES: Final = ("member", "facilitator", "responder")


class Action(enum.StrEnum):
    """A hook's decision, from least to most severe."""

    ALLOW = "allow"
    REDACT = "redact"
    HOLD = "hold"
    BLOCK = "block"

    @property
    def severity(self) -> int:
        return _SEVERITY[self]


_SEVERITY: Final = {Action.ALLOW: 0, Action.REDACT: 1, Action.HOLD: 2, Action.BLOCK: 3}


def most_severe(a: Action, b: Action) -> Action:
    """The more severe of two actions (the first on a tie)."""
    return b if b.severity > a.severity else a


@dataclass(frozen=True)
class Alert:
    """Something facilitators should hear about.

    ``kind`` is one of "crisis", "flood", "blocked", "contact", "hook_failed", ... and
    ``detail`` a short description that NEVER contains the message text (for example
    ``"crisis language: self-harm (en)"``).
    """

    kind: str
    detail: str


@dataclass(frozen=True)
class Verdict:
    """One hook's answer, or the pipeline's combined answer.

    ``text`` is the rewritten text when ``action`` is REDACT (and, in the pipeline's
    answer, whenever an earlier hook redacted before a later one held or blocked);
    ``None`` means the text is unchanged. ``reason`` is short and machine-friendly
    ("link", "rate_limited", "blocked_term", "contact_details", "hook_failed", ...).
    ``crisis`` is True when crisis language was seen: the server then offers the
    on-call room and pages responders, whatever the action.
    """

    action: Action = Action.ALLOW
    text: str | None = None
    reason: str = ""
    alerts: tuple[Alert, ...] = ()
    crisis: bool = False
    # With ``crisis``: "suicide" (suicide, self-harm, hopelessness), "medical" (an
    # overdose or other medical emergency: emergency numbers first) or "goodbye".
    crisis_category: str | None = None


ALLOW: Final = Verdict()


class HookError(Exception):
    """A hook's failure whose message is safe to log and to show facilitators.

    The pipeline logs only the class name of other exceptions, since their messages may
    quote the chat text; a ``HookError`` message must never contain it.
    """


@dataclass(frozen=True)
class MessageContext:
    """A chat message as the pipeline sees it.

    ``now_ms`` is the injected clock (ms since the epoch): hooks use it and never read
    the wall clock, so tests can drive time and every worker judges alike. Rules match
    ``normalised.text`` and redact ``text`` through ``normalised.original_spans``.
    """

    room: str
    room_kind: str
    sender_id: str
    sender_role: str
    text: str
    now_ms: int
    slow_mode_seconds: int = 0
    # Whether the sender has facilitator powers in this room. The server's core is the
    # one answer to that (``server.core.room.is_staff``: facilitators anywhere, responders
    # only in on-call rooms) and the server fills it in; moderation does not judge roles.
    sender_is_staff: bool = False

    @cached_property
    def normalised(self) -> Normalised:
        """The text as every rule matches it (``moderation.normalise``), worked out once
        per text: the pipeline computes it before the first hook, and a redaction gives
        the next hook a new context, so a new view."""
        return normalise(self.text)

    @property
    def is_staff(self) -> bool:
        """Facilitator powers in this room, as the server said (``sender_is_staff``)."""
        return self.sender_is_staff
