"""Crisis-language detection: normalisation, then phrase patterns with categories.

Pure and deterministic; no IO. ``detect(text)`` answers which categories of crisis
language (suicide, self-harm, overdose, relapse in danger) a message holds, in English,
Hindi and Punjabi, in native script (Devanagari, Gurmukhi) and romanised.

How a message is read:

1. ``normalise`` starts from the view every moderation rule reads
   (``moderation.normalise``: compatibility forms, invisible characters, odd spaces,
   script variants such as nukta, chandrabindu/anusvara, tippi/bindi, addak),
   lower-cases, expands "I'll"/"they'd", drops apostrophes ("don't" → "dont"), splits
   the text into clauses at punctuation and at "but"-like conjunctions, and rewrites
   every token to a canonical spelling: contractions ("dont" → "do not", "wanna" →
   "want to"), common misspellings ("sucide", "kil", "overdoze") and the many
   romanisations of Hindi and Punjabi words ("nahin"/"nhi" → "nahi", "zindgi" →
   "zindagi"). The result is one string of space-separated tokens with " | " between
   clauses.
2. Each phrase in ``crisis_phrases`` is a regex over that string with a category, a
   language and a negation rule. Besides fixed phrases there are constructions: frames
   with slots of interchangeable words (desire or intent + a way of dying, "relief" +
   "without me", means + being sought out or at hand, stockpiling + a drug, using +
   alone), so sentences of a known shape are caught in words nobody wrote down.
   A match counts unless it is negated ("I'm not going to kill myself", "main
   khudkushi ke baare mein kabhi nahi sochta") or, in its clause, marked as not the
   writer's present state: resolved history ("I used to want to die", "in 2015", "when
   I was drinking", "pehle marna chahta tha"), other people ("he said"), advice ("if
   you ...") or hyperbole by degree ("so boring I wanted to die"). Phrases that carry
   their own negation ("I don't want to live anymore", "jeene ka mann nahi karta")
   are never negated. Some phrases need two or three parts anywhere in the message
   (drug use and a danger sign: "used way more than usual" + "can't breathe"; pills +
   alcohol + nobody home).

Measured on ``moderation/data/crisis_labelled.tsv`` by ``moderation.crisis_eval``.
Nothing here logs, and a ``Detection`` holds categories and a language only, never
any of the message's words: alert details must not quote what a person in crisis wrote.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

from . import crisis_phrases as phrases
from .crisis_index import first_tokens
from .evasion import unmask
from .normalise import matching_text
from .scripts import strip_latin_accents

CATEGORIES: Final = ("suicide", "overdose", "self-harm", "relapse")
CLAUSE_BREAK: Final = "|"

# -- normalisation ------------------------------------------------------------------------

_APOSTROPHES = re.compile(r"(?<=\w)['\u2019\u2018`\u02bc](?=\w)")
# "I'll", "they'd": expanded before apostrophes go, since "ill" and "shed" are words.
_PRONOUN_WILL_WOULD = re.compile(
    r"\b(i|you|he|she|we|they|it|that|there|who|everyone|everybody|nobody)['\u2019\u2018`\u02bc](ll|d)\b",
    re.IGNORECASE,
)
_OD_ED = re.compile(r"\bo\.?d['\u2019]e?d\b", re.IGNORECASE)  # "OD'd", "O.D'ed"
_CLAUSE_PUNCT = re.compile(r"[.!?;,:\n\r\u0964\u0965\u2026()\[\]\"\u201c\u201d|]+")
_TOKEN = re.compile(r"[0-9a-z\u00c0-\u024f\u0900-\u0963\u0966-\u097f\u0a00-\u0a7f]+")
_REPEATS = re.compile(r"([a-z])\1{2,}")
_CONJUNCTIONS: Final = frozenset(
    # Not Hindi "पर"/"par": more often "on" than "but".
    "but however although though lekin magar lekn lkn लेकिन मगर ਪਰ ਲੇਕਿਨ ਮਗਰ".split()
)


@lru_cache(maxsize=8192)
def _canonical_tokens(token: str) -> tuple[str, ...]:
    token = _REPEATS.sub(r"\1\1", token)
    mapped = phrases.CANON.get(token)
    if mapped is not None:
        return tuple(mapped.split())
    for pattern, replacement in phrases.CANON_PATTERNS:
        if pattern.fullmatch(token):
            return tuple(replacement.split())
    return (token,)


def _expand_will_would(match: re.Match[str]) -> str:
    return f"{match.group(1)} {'will' if match.group(2).lower() == 'll' else 'would'}"


def normalise(text: str) -> str:
    """The canonical token string of ``text``: tokens, " | " between clauses."""
    # The view every rule reads (a no-op on a view already taken: it is a fixed point),
    # with disguised words undone (look-alike letters, digits for letters, spaced and
    # stretched letters: ``moderation.evasion``).
    text = unmask(matching_text(text))
    text = _OD_ED.sub(" overdosed ", text)
    text = _PRONOUN_WILL_WOULD.sub(_expand_will_would, text)
    text = _APOSTROPHES.sub("", strip_latin_accents(text).lower())
    clauses: list[str] = []
    for chunk in _CLAUSE_PUNCT.split(text):
        tokens: list[str] = []
        for raw in _TOKEN.findall(chunk):
            if raw in _CONJUNCTIONS:
                if tokens:
                    clauses.append(" ".join(tokens))
                tokens = []
                continue
            tokens.extend(_canonical_tokens(raw))
        if tokens:
            clauses.append(" ".join(tokens))
    joined = f" {CLAUSE_BREAK} ".join(clauses)
    return phrases.CANON_PHRASE_RE.sub(lambda m: phrases.CANON_PHRASES[m.group()], joined)


# -- matching -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Detection:
    """Crisis language found in a message: categories in order of urgency, one language."""

    categories: tuple[str, ...]
    lang: str  # "en", "hi" or "pa"

    @property
    def detail(self) -> str:
        return f"crisis language: {', '.join(self.categories)} ({self.lang})"


def _clause_tokens_before(message: str, start: int, limit: int) -> list[str]:
    before = message[:start].rsplit(CLAUSE_BREAK, 1)[-1].split()
    return before[-limit:] if limit else []


def _clause_tokens_after(message: str, end: int, limit: int) -> list[str]:
    after = message[end:].split(CLAUSE_BREAK, 1)[0].split()
    return after[:limit] if limit else []


def _reach_before(tokens: list[str]) -> list[str]:
    """The tokens a negation before the match can come from: back to a coordinator."""
    for i in range(len(tokens) - 1, -1, -1):
        if tokens[i] in phrases.COORDINATORS:
            return tokens[i + 1 :]
    return tokens


def _reach_after(tokens: list[str]) -> list[str]:
    for i, token in enumerate(tokens):
        if token in phrases.COORDINATORS:
            return tokens[:i]
    return tokens


def _negated(tokens: Sequence[str], rule: phrases.Rule) -> bool:
    for i, token in enumerate(tokens):
        if token not in rule.negators:
            continue
        following = tokens[i + 1] if i + 1 < len(tokens) else ""
        # "can't stop thinking about it", "can't help cutting": a double negative.
        if following in phrases.NEGATION_CANCELLERS:
            continue
        return True
    return False


@lru_cache(maxsize=16)
def _history_re(markers: tuple[str, ...], pattern: re.Pattern[str] | None) -> re.Pattern[str]:
    """One regex for a rule's history markers (each between spaces) and its pattern."""
    sources = [re.escape(f" {marker} ") for marker in markers]
    if pattern is not None:
        sources.append(f"(?:{pattern.pattern})")
    return re.compile("|".join(sources) or "(?!)")


# How far from a phrase a marker of another time, another person or advice still speaks
# for it: a few words either side, and never past "and" or the clause. Chat has little
# punctuation, so "since last year i have been clean and now i want to end it tonight"
# is one clause, and its "last year" must not silence "want to end it tonight".
HISTORY_BEFORE: Final = 8
HISTORY_AFTER: Final = 6


def _historical(message: str, start: int, end: int, rule: phrases.Rule) -> bool:
    """Told as resolved history: "I used to want to die", "pehle marna chahta tha"; or
    about someone else, or as advice: "if someone says they want to die, ..."."""
    before = _reach_before(_clause_tokens_before(message, start, HISTORY_BEFORE))
    after = _reach_after(_clause_tokens_after(message, end, HISTORY_AFTER))
    clause = " ".join((*before, "#", *after))
    if _history_re(rule.history, rule.history_pattern).search(f" {clause} "):
        return True
    after = _clause_tokens_after(message, end, 1)
    return bool(after) and after[0] in rule.past


def _counts(message: str, match: re.Match[str], rule: phrases.Rule) -> bool:
    start, end = match.span()
    if rule.negatable:
        if _negated(_reach_before(_clause_tokens_before(message, start, rule.before)), rule):
            return False
        if _negated(_reach_after(_clause_tokens_after(message, end, rule.after)), rule):
            return False
    return not _historical(message, start, end, rule)


def _found(message: str, phrase: phrases.Phrase, starts: Iterable[int]) -> bool:
    """Whether every part of ``phrase`` counts somewhere in ``message``.

    The first part is tried only at ``starts`` (offsets of tokens it may begin with):
    anchored matches instead of a scan of the whole message, which on a long message is
    most of the cost. A match can only begin at a token, so nothing is missed.
    """
    first, *rest = phrase.parts
    rule = phrase.rule
    if not any((m := first.match(message, start)) and _counts(message, m, rule) for start in starts):
        return False
    for part in rest:
        if not any(_counts(message, m, rule) for m in part.finditer(message)):
            return False
    return True


def _token_starts(message: str) -> dict[str, list[int]]:
    """Each token of ``message`` with the offsets it starts at."""
    starts: dict[str, list[int]] = {}
    offset = 0
    for token in message.split(" "):
        starts.setdefault(token, []).append(offset)
        offset += len(token) + 1
    return starts


def _lang_of(phrase: phrases.Phrase, message: str) -> str:
    if phrase.lang != "Latn":
        return phrase.lang
    tokens = set(message.split())
    if tokens & phrases.PUNJABI_MARKERS:
        return "pa"
    if tokens & phrases.HINDI_MARKERS:
        return "hi"
    return "en"


@dataclass(frozen=True)
class _Index:
    """Phrases by the tokens their first part can start with."""

    exact: dict[str, tuple[int, ...]]
    prefixes: dict[str, tuple[int, ...]]
    prefix_lengths: dict[str, tuple[int, ...]]  # by first character
    always: tuple[int, ...]

    @classmethod
    def build(cls, members: Sequence[phrases.Phrase]) -> _Index:
        exact: dict[str, list[int]] = {}
        prefixes: dict[str, list[int]] = {}
        always: list[int] = []
        for i, phrase in enumerate(members):
            tokens = first_tokens(phrase.first)
            if tokens is None:
                always.append(i)
                continue
            for text, is_open in tokens:
                (prefixes if is_open else exact).setdefault(text, []).append(i)
        lengths: dict[str, set[int]] = {}
        for text in prefixes:
            lengths.setdefault(text[0], set()).add(len(text))
        return cls(
            exact={k: tuple(v) for k, v in exact.items()},
            prefixes={k: tuple(v) for k, v in prefixes.items()},
            prefix_lengths={k: tuple(sorted(v)) for k, v in lengths.items()},
            always=tuple(always),
        )

    def candidates(self, message: str) -> list[tuple[int, list[int]]]:
        """The phrases that may match ``message`` (a superset), in order, each with the
        offsets of the tokens its first part may start at."""
        token_starts = _token_starts(message)
        found: dict[int, list[int]] = {}
        exact, prefixes, lengths = self.exact, self.prefixes, self.prefix_lengths
        for token, offsets in token_starts.items():
            if not token:
                continue
            for i in exact.get(token, ()):
                found.setdefault(i, []).extend(offsets)
            for length in lengths.get(token[0], ()):
                for i in prefixes.get(token[:length], ()):
                    found.setdefault(i, []).extend(offsets)
        if self.always:
            every = [o for offsets in token_starts.values() for o in offsets]
            for i in self.always:
                found[i] = every
        # Order and repeats of the offsets do not matter: any one counting match will do.
        return [(i, found[i]) for i in sorted(found)]


@lru_cache(maxsize=1)
def _index() -> _Index:
    return _Index.build(phrases.PHRASES)


def warm_up() -> None:
    """Build the phrase index now (tens of ms) rather than on the first message."""
    _index()


def detect(text: str) -> Detection | None:
    """Crisis language in ``text``, or None."""
    return _detect(normalise(text), _index().candidates)


def detect_exhaustively(text: str) -> Detection | None:
    """``detect`` without the index: every phrase is tried at every token. For tests."""
    return _detect(normalise(text), _everywhere)


def _everywhere(message: str) -> list[tuple[int, list[int]]]:
    every = [o for offsets in _token_starts(message).values() for o in offsets]
    return [(i, every) for i in range(len(phrases.PHRASES))]


def _detect(message: str, candidates: Callable[[str], list[tuple[int, list[int]]]]) -> Detection | None:
    if not message:
        return None
    categories: list[str] = []
    lang = ""
    for i, starts in candidates(message):
        phrase = phrases.PHRASES[i]
        if phrase.category in categories or not _found(message, phrase, starts):
            continue
        categories.append(phrase.category)
        lang = lang or _lang_of(phrase, message)
    if not categories:
        return None
    return Detection(tuple(c for c in CATEGORIES if c in categories), lang)
