"""Crisis language: never blocks, always tells.

A message with crisis language (suicide, self-harm, overdose, relapse in danger; in
English, Hindi and Punjabi, native script or romanised) is let through unchanged with
``crisis=True`` and an Alert ``crisis`` such as "crisis language: suicide (hi)". The
server then privately offers the writer the on-call room and helplines, alerts the
facilitators and pages on-duty responders (contract §8).

The hook runs even after an earlier hook blocked the message (``runs_after_block``): a
person in crisis who swears, or who floods the room, must still reach a responder. It
fails open: a broken detector must not silence the room.

Detection is ``moderation.crisis.detect``; its precision and recall on the labelled data
set are printed by ``python -m moderation.crisis_eval``. It is a phrase matcher, so it
misses crisis language phrased in ways it does not know: it adds to facilitators'
attention, it does not replace it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from ..crisis import detect, warm_up
from ..options import OptionTable
from ..verdict import ALLOW, Alert, MessageContext, Verdict

NAME: Final = "crisis"


class CrisisHook:
    """ALLOW with ``crisis=True`` and a "crisis" alert when crisis language is found."""

    runs_after_block = True

    def __init__(self, *, fail_open: bool = True, timeout_s: float = 1.0, name: str = NAME) -> None:
        self.name = name
        self.fail_open = fail_open
        self.timeout_s = timeout_s
        # The phrase index takes tens of ms to build: at start, not in the first message.
        warm_up()

    async def check(self, ctx: MessageContext) -> Verdict:
        return self.judge(ctx)

    def judge(self, ctx: MessageContext) -> Verdict:
        detection = detect(ctx.normalised.text)
        if detection is None:
            return ALLOW
        return Verdict(alerts=(Alert("crisis", detection.detail),), crisis=True)


def from_options(options: Mapping[str, Any], name: str = NAME) -> CrisisHook:
    table = OptionTable(options, f"[moderation.{name}]")
    fail_open, timeout_s = table.read_policy(fail_open=True, timeout_s=1.0)
    table.finish()
    return CrisisHook(fail_open=fail_open, timeout_s=timeout_s, name=name)
