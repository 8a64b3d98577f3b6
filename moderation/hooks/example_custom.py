"""An example custom hook: hold messages that mention configured words for review.

Shows what a deployment's own hook looks like. Enable it by import path::

    [moderation]
    pipeline = ["rate_limit", "contact_details", "links", "blocked_terms", "crisis",
                {name = "keywords", hook = "moderation.hooks.example_custom:make_hook"}]
    [moderation.keywords]
    words = ["meetup", "cash"]
    fail_open = true          # applied by the pipeline, like timeout_s

A factory takes the hook's option table (without ``fail_open``/``timeout_s``) and
returns an object with ``name``, ``fail_open``, ``timeout_s`` and ``async check(ctx)``;
it raises ``ValueError`` on bad options so the server refuses to start.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from ..options import OptionTable
from ..verdict import ALLOW, Action, MessageContext, Verdict


class KeywordHoldHook:
    """HOLD (reason "keyword") messages containing any of ``words`` as whole words."""

    def __init__(self, words: Iterable[str]) -> None:
        self.name = "keywords"
        self.fail_open = True
        self.timeout_s = 1.0
        alternatives = "|".join(re.escape(w) for w in words)
        self._regex = re.compile(rf"\b(?:{alternatives})\b", re.IGNORECASE) if alternatives else None

    async def check(self, ctx: MessageContext) -> Verdict:
        if self._regex is not None and self._regex.search(ctx.text):
            return Verdict(Action.HOLD, reason="keyword")
        return ALLOW


def make_hook(options: Mapping[str, Any]) -> KeywordHoldHook:
    table = OptionTable(options, "[moderation.keywords]")
    words = table.get_str_list("words")
    table.finish()
    if not words:
        raise ValueError("words: give at least one word")
    return KeywordHoldHook(words)
