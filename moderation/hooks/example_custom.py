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
it raises ``ValueError`` on bad options so the server refuses to start. Describing the
table as a pydantic model (``moderation.options.Options``) and reading it with
``read_table`` gives the same checks and messages as the built-in hooks.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import Field

from ..options import Entry, Options, read_table
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


class KeywordOptions(Options):
    """The hook's option table as a pydantic model: strict types, unknown keys refused."""

    words: list[Entry] = Field(default_factory=list)


def make_hook(options: Mapping[str, Any]) -> KeywordHoldHook:
    opts = read_table(KeywordOptions, options, "[moderation.keywords]")
    if not opts.words:
        raise ValueError("words: give at least one word")
    return KeywordHoldHook(opts.words)
