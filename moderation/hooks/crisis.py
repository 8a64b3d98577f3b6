"""Crisis language: never blocks, always tells.

A message with crisis language is let through unchanged with ``crisis=True``, a
``crisis_category`` and an Alert ``crisis`` such as "crisis language: medical (hi)". The
server then privately offers the writer the on-call room and helplines (emergency
numbers first for a medical emergency), alerts the facilitators and pages on-duty
responders (contract §8).

Three readers, any of which raises the alert (the combination favours recall: a missed
message costs more than a facilitator's glance at one that was fine):

1. **the phrase rules** (``moderation.crisis``): constructions someone wrote down, with
   their negations and the markers of another time, another person or advice;
2. **the learned model** (``moderation.crisis_model``): character and word n-grams and a
   linear model trained on messages from several independent writers; it alerts past its
   calibrated ``threshold``;
3. **the conversation**: what one person wrote in a room over the last half hour adds up.
   The model's probability for each message is kept (only the number, never the words)
   with a half-life of ``HALF_LIFE_MS``; a message that is itself somewhat risky
   (``CONTEXT_FLOOR``) alerts when, joined with what came before, it passes the
   threshold: a goodbye after "I can't go on" is an alert even if neither alone was.

Both the rules and the model read the message with disguises undone (look-alike letters,
digits for letters, spaced and stretched letters: ``moderation.evasion``).

A deployment adds its own words (a local idiom, a drug's street name in an overdose)
without touching the code: ``[moderation.crisis] phrases`` (category suicide),
``medical_phrases`` and ``goodbye_phrases``, lists of words or phrases matched as whole
words on the unmasked view, so that their disguised spellings match too.

Categories: ``suicide`` (suicide, self-harm, hopelessness), ``medical`` (an overdose, a
withdrawal or other medical emergency) and ``goodbye`` (last messages, giving things
away). A medical reading by either reader wins: it is the one that needs an ambulance.

The hook runs even after an earlier hook blocked the message (``runs_after_block``): a
person in crisis who swears, or who floods the room, must still reach a responder. It
fails open: a broken detector must not silence the room.

Its figures are printed by ``python -m moderation.crisis_eval``. It adds to
facilitators' attention; it does not replace it.
"""

from __future__ import annotations

import logging
import re
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any, Final

from pydantic import Field

from ..crisis import Detection, detect, warm_up
from ..crisis_model import CrisisModel, load_model
from ..evasion import unmask
from ..normalise import normalise
from ..options import Entry, HookOptions, read_table
from ..verdict import ALLOW, Alert, MessageContext, Verdict

log = logging.getLogger("moderation.crisis")

NAME: Final = "crisis"
# How long what a person wrote keeps counting, and how fast it fades.
CONTEXT_MS: Final = 30 * 60_000
HALF_LIFE_MS: Final = 10 * 60_000
# A message must itself carry at least this share of the threshold for the conversation
# to raise it (an ordinary "ok see you" after a risky message is not a new alert).
CONTEXT_FLOOR: Final = 0.4
# People whose recent scores are kept, per worker (the least recently heard go first).
CONTEXT_PEOPLE: Final = 10_000
_MEDICAL_RULES: Final = frozenset(("overdose", "relapse"))


def _lang_of(text: str) -> str:
    for c in text:
        if "\u0900" <= c <= "\u097f":
            return "hi"
        if "\u0a00" <= c <= "\u0a7f":
            return "pa"
    return "en"


class CrisisHook:
    """ALLOW with ``crisis=True`` and a "crisis" alert when crisis language is found."""

    runs_after_block = True

    def __init__(self, *, fail_open: bool = True, timeout_s: float = 1.0, name: str = NAME,
                 model: CrisisModel | None = None, use_model: bool = True, threshold: float | None = None,
                 phrases: Mapping[str, Sequence[str]] | None = None) -> None:
        self.name = name
        self.fail_open = fail_open
        self.timeout_s = timeout_s
        warm_up()
        self.model: CrisisModel | None = None
        if use_model:
            try:
                self.model = model or load_model()
            except (OSError, ValueError, KeyError):
                log.exception("crisis model not loaded; the phrase rules alone will alert")
        self.threshold = threshold if threshold is not None else (self.model.threshold if self.model else 1.0)
        # The deployment's own phrases: one regex per category, on the unmasked view.
        self._own: list[tuple[str, re.Pattern[str]]] = []
        for category, words in (phrases or {}).items():
            forms = sorted({unmask(normalise(w).text).strip() for w in words} - {""}, key=len, reverse=True)
            if forms:
                self._own.append((category, re.compile(
                    r"(?<!\w)(?:" + "|".join(re.escape(f) for f in forms) + r")(?!\w)")))
        # (room, sender) -> [(at_ms, probability)], most recent last
        self._recent: OrderedDict[tuple[str, str], list[tuple[int, float]]] = OrderedDict()

    async def check(self, ctx: MessageContext) -> Verdict:
        return self.judge(ctx)

    def judge(self, ctx: MessageContext) -> Verdict:
        view = ctx.normalised.text
        rules = detect(view)
        unmasked = unmask(view)
        own = next((category for category, pattern in self._own if pattern.search(unmasked)), None)
        p, model_category = (self.model.judge_view(unmasked) if self.model is not None else (0.0, "suicide"))
        before = self._remember(ctx, p)
        together = 1.0 - (1.0 - p) * (1.0 - before)
        by_model = p >= self.threshold
        by_context = together >= self.threshold and p >= CONTEXT_FLOOR * self.threshold
        if rules is None and not by_model and not by_context and own is None:
            return ALLOW
        category = own or self._category(rules, model_category, by_model or by_context)
        lang = rules.lang if rules is not None else _lang_of(view)
        return Verdict(alerts=(Alert("crisis", f"crisis language: {category} ({lang})"),), crisis=True,
                       crisis_category=category)

    @staticmethod
    def _category(rules: Detection | None, model_category: str, model_says: bool) -> str:
        if rules is not None and _MEDICAL_RULES & set(rules.categories):
            return "medical"
        if model_says or rules is None:
            return model_category
        return "suicide"

    def _remember(self, ctx: MessageContext, p: float) -> float:
        """Record this message's score; what the person's earlier ones still weigh."""
        key = (ctx.room, ctx.sender_id)
        now = ctx.now_ms
        kept = [(at, q) for at, q in self._recent.pop(key, ()) if 0 <= now - at <= CONTEXT_MS]
        before = max((q * 0.5 ** ((now - at) / HALF_LIFE_MS) for at, q in kept), default=0.0)
        if p > 0.05:
            kept = [*kept[-4:], (now, p)]
        if kept:
            self._recent[key] = kept
            while len(self._recent) > CONTEXT_PEOPLE:
                self._recent.popitem(last=False)
        return before


class CrisisOptions(HookOptions):
    """``[moderation.crisis]``: the deployment's own phrases, added to the built-in ones."""

    fail_open: bool = True
    phrases: list[Entry] = Field(default_factory=list)
    medical_phrases: list[Entry] = Field(default_factory=list)
    goodbye_phrases: list[Entry] = Field(default_factory=list)


def from_options(options: Mapping[str, Any], name: str = NAME) -> CrisisHook:
    opts = read_table(CrisisOptions, options, f"[moderation.{name}]")
    phrases = {"medical": tuple(opts.medical_phrases), "goodbye": tuple(opts.goodbye_phrases),
               "suicide": tuple(opts.phrases)}
    return CrisisHook(fail_open=opts.fail_open, timeout_s=opts.timeout_s, name=name, phrases=phrases)
