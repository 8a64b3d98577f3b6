"""Blocked terms: a configurable word list, matched case-insensitively on word boundaries.

Matching sees through simple disguises: letter repeats ("iiidiot"), separators inside a
word ("b.i.t.c.h") and leetspeak ("b1tch", "a$$hole"), and, through the normalised view
every rule reads (``moderation.normalise``), invisible characters, full-width letters
and Devanagari/Gurmukhi nukta and nasal-mark variants. A term ending in "*" also matches
longer words ("retard*"). Matching takes time linear in the text (see ``MAX_RUN``).

The default list is deliberately small: slurs and a few heavy abuses in English, Hindi
and Punjabi. Ordinary swearing is left alone on purpose: people in recovery talk about
hard things in their own words, and a circle that blocks "shit" teaches them to stop
sharing. Deployments set their own list with ``terms`` (replaces the default) or
``add_terms`` (extends it).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, Final, Literal, get_args

from pydantic import Field

from ..normalise import Normalised, matching_text, normalise
from ..options import Entry, HookOptions, read_table
from ..scripts import IGNORABLE_MARKS, ONE_FOR_ONE
from ..spans import replace_spans
from ..verdict import ALLOW, Action, Alert, MessageContext, Verdict

NAME: Final = "blocked_terms"
BlockedAction = Literal["block", "redact"]
ACTIONS: Final = get_args(BlockedAction)
REPLACEMENT: Final = "***"

DEFAULT_TERMS: Final = (
    # English slurs and abuse aimed at a person
    "motherfucker*",
    "cunt*",
    "whore*",
    "slut*",
    "retard*",
    "faggot*",
    "nigger*",
    "kys",
    # Hindi, romanised and Devanagari
    "madarchod*",
    "maderchod*",
    "behenchod*",
    "bhenchod*",
    "bhanchod*",
    "chutiya*",
    "chutiye*",
    "bhosdike",
    "bhosdiwale",
    "gandu",
    "मादरचोद",
    "बहनचोद",
    "भेनचोद",
    "चूतिया",
    "चुतिया",
    "भोसड़ीके",
    "गांडू",
    # Punjabi, romanised and Gurmukhi
    "penchod*",
    "pehnchod*",
    "ਭੈਣਚੋਦ",
    "ਮਾਂਚੋਦ",
    "ਚੂਤੀਆ",
)

# Leetspeak and symbol stand-ins, each one character for one character so that match
# positions in the folded text are positions in the original.
_LEET: Final = str.maketrans(
    {
        "0": "o",
        "1": "i",
        "3": "e",
        "4": "a",
        "5": "s",
        "7": "t",
        "8": "b",
        "@": "a",
        "$": "s",
        "!": "i",
        "|": "i",
        "+": "t",
    }
)
_WORD = r"\w\u0900-\u0963\u0966-\u097f\u0a00-\u0a7f"
_BEFORE = rf"(?<![{_WORD}])"
_AFTER = rf"(?![{_WORD}])"
_SEPARATOR = r"[._\-]?"
# Letters repeat ("iiidiot") through possessive repeats ("i++": all the i there are,
# never given back). Plain ones ("g+[._-]?g+" for the "gg" of "faggot") let the engine
# try every split of a long run of that letter, from every start: quadratic time on the
# event loop (issue 12: 3 s for 10 KB). No repeat in a term's pattern can give back what
# it took, so each start costs at most the stretch of text the term could cover.
MAX_RUN: Final = 2  # a term's "gg" needs two of the letter, its "ggg" two as well


def fold(text: str) -> str:
    """Lower-case and fold Indic variants, one character for one character."""
    lowered = text.lower()
    if len(lowered) != len(text):  # "İ" lower-cases to two characters: go one by one
        lowered = "".join(c.lower() if len(c.lower()) == 1 else c for c in text)
    return lowered.translate(ONE_FOR_ONE)


_DROP: Final = str.maketrans(dict.fromkeys("._- \t\n" + IGNORABLE_MARKS, None))
# How many letter pairs from a term's start a message must contain before the full
# regex is run: enough to skip almost every message.
PREFILTER_PAIRS: Final = 3


def _pairs(term: str) -> tuple[str, ...]:
    """Adjacent letter pairs of the term's start, repeats squeezed ("fuuck" → fu, uc, ck).

    Any text the term's regex matches contains each of them once separators are
    dropped: repeated letters ("fuuuck") still leave every pair of distinct neighbours.
    """
    squeezed = "".join(c for i, c in enumerate(term) if i == 0 or c != term[i - 1]).translate(_DROP)
    if len(squeezed) < 2:
        return (squeezed,)
    return tuple(squeezed[i : i + 2] for i in range(min(len(squeezed) - 1, PREFILTER_PAIRS)))


def _letters(term: str) -> str:
    """A term as the messages it is looked for in: normalised, folded, leetspeak read."""
    return fold(matching_text(term.rstrip("*").strip())).translate(_LEET)


def _runs(letters: str) -> list[tuple[str, int]]:
    """Runs of a term's characters: (character, how many in a row, at most MAX_RUN)."""
    runs: list[tuple[str, int]] = []
    for ch in letters:
        if runs and runs[-1][0] == ch and ch.isascii() and ch.isalpha():
            runs[-1] = (ch, min(runs[-1][1] + 1, MAX_RUN))
        else:
            runs.append((ch, 1))
    return runs


def _run_pattern(ch: str, count: int) -> str:
    if ch.isspace():
        return r"[\s._\-]++"
    piece = re.escape(ch)
    if not (ch.isascii() and ch.isalpha()):
        return piece
    if count == 1:
        return piece + "++"
    # Two or more of a letter: at least two in the text, a separator allowed once among
    # them ("fag.got", "fagg.got"); both branches possessive, so a long run is read once.
    return f"(?:{piece}{_SEPARATOR}{piece}++|{piece}++[._\\-]{piece}++)"


def _term_pattern(term: str) -> str:
    prefix = term.endswith("*")
    runs = _runs(_letters(term))
    body = ""
    for i, (ch, count) in enumerate(runs):
        if i and not ch.isspace() and not runs[i - 1][0].isspace() and ch.isascii():
            body += _SEPARATOR
        body += _run_pattern(ch, count)
    return body + (rf"[{_WORD}]*" if prefix else "") + _AFTER


class TermMatcher:
    """Finds any of a list of terms in a text.

    Linear in the text: no repeat in the regex gives back what it took (see ``MAX_RUN``).
    """

    def __init__(self, terms: Iterable[str]) -> None:
        kept = [t for t in terms if _letters(t).strip()]
        patterns = [_term_pattern(t) for t in kept]
        self._regex: re.Pattern[str] | None = (
            # One word-start check for all terms, not one per term.
            re.compile(_BEFORE + "(?:" + "|".join(f"(?:{p})" for p in patterns) + ")") if patterns else None
        )
        self._pairs = tuple({_pairs(_letters(t).translate(_DROP)) for t in kept})

    def _may_match(self, folded: str) -> bool:
        plain = folded.translate(_DROP)
        leet = plain.translate(_LEET)
        for pairs in self._pairs:  # plain loops: this runs on every message
            head = pairs[0]
            if head in plain and all(p in plain for p in pairs):
                return True
            if head in leet and all(p in leet for p in pairs):
                return True
        return False

    def spans(self, text: str | Normalised) -> list[tuple[int, int]]:
        """Spans of the terms found, in the original text."""
        if self._regex is None:
            return []
        view = text if isinstance(text, Normalised) else normalise(text)
        folded = fold(view.text)
        if not self._may_match(folded):
            return []
        # Two readings: as typed (so "idiot!" keeps its word boundary) and with leetspeak
        # read as letters (so "b1tch" is seen). Both keep every character's position.
        found: list[tuple[int, int]] = []
        for reading in (folded, folded.translate(_LEET)):
            found += view.original_spans(m.span() for m in self._regex.finditer(reading))
        return found


class BlockedTermsHook:
    """BLOCK (or redact with "***") messages containing a blocked term."""

    def __init__(
        self,
        *,
        terms: Iterable[str] = DEFAULT_TERMS,
        action: str = "block",
        fail_open: bool = False,
        timeout_s: float = 1.0,
        name: str = NAME,
    ) -> None:
        if action not in ACTIONS:
            raise ValueError(f"blocked_terms action must be one of {ACTIONS}, got {action!r}")
        self.name = name
        self.fail_open = fail_open
        self.timeout_s = timeout_s
        self.action = action
        self.matcher = TermMatcher(terms)

    async def check(self, ctx: MessageContext) -> Verdict:
        return self.judge(ctx)

    def judge(self, ctx: MessageContext) -> Verdict:
        spans = self.matcher.spans(ctx.normalised)
        if not spans:
            return ALLOW
        if self.action == "block":
            return Verdict(Action.BLOCK, reason="blocked_term", alerts=(Alert("blocked", "blocked term"),))
        return Verdict(Action.REDACT, text=replace_spans(ctx.text, spans, REPLACEMENT), reason="blocked_term")


class BlockedTermsOptions(HookOptions):
    """``[moderation.blocked_terms]``: ``terms`` replaces the defaults, ``add_terms`` adds to them."""

    terms: list[Entry] = Field(default_factory=lambda: list(DEFAULT_TERMS))
    add_terms: list[Entry] = Field(default_factory=list)
    action: BlockedAction = "block"


def from_options(options: Mapping[str, Any], name: str = NAME) -> BlockedTermsHook:
    opts = read_table(BlockedTermsOptions, options, f"[moderation.{name}]")
    return BlockedTermsHook(terms=(*opts.terms, *opts.add_terms), action=opts.action,
                            fail_open=opts.fail_open, timeout_s=opts.timeout_s, name=name)
