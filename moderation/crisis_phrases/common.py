"""What the phrase tables of every script are made of, and how they are built into phrases.

A script's table (``latin``, ``devanagari``, ``gurmukhi``) is a ``Table`` of ``Row``s: each
row gives a category, a language and a ``Rule`` to a group of phrase sources (``each``: one
phrase a source; ``together``: one phrase whose parts must all be found). ``build`` turns
the tables into ``Phrase``s, in table order, with one loop.

Negation lives here, not in the scripts' modules: a ``gap`` must never step over a negator
of any script, and the detector reads the coordinators and cancellers for every script.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Final

from ..normalise import matching_text

# -- negation -------------------------------------------------------------------------------

EN_NEGATORS: Final = frozenset("not never no nor neither".split())
LATN_NEGATORS: Final = EN_NEGATORS | frozenset("nahi na mat".split())
DEVA_NEGATORS: Final = frozenset(matching_text(w) for w in "नहीं नही न ना मत".split())
GURU_NEGATORS: Final = frozenset(matching_text(w) for w in "ਨਹੀਂ ਨਹੀ ਨਾ ਨਾਂ ਮਤ ਨ".split())
# Coordinators end a negation's reach: in "chitta laaya te hun hosh nahi aa rahi" the
# "nahi" belongs to the second half.
COORDINATORS: Final = frozenset(matching_text(w) for w in "and aur te ate tey then और एवं ਤੇ ਅਤੇ".split())
# "can't stop thinking about it", "can't help it", "not only": negation of something else.
NEGATION_CANCELLERS: Final = frozenset("stop help only know wait".split())


@dataclass(frozen=True)
class Rule:
    """How a phrase's match may be cancelled.

    ``before``/``after``: how many tokens either side of the match (within its clause)
    are searched for a negator. English puts negation before the verb; Hindi and
    Punjabi usually after the object, before the verb ("khud ko nuksan nahi pahunchaunga").
    ``negatable`` False: the phrase carries its own negation ("don't want to live").
    """

    negatable: bool
    before: int
    after: int
    negators: frozenset[str]
    history: tuple[str, ...]
    past: frozenset[str]
    history_pattern: re.Pattern[str] | None = None  # searched in " <clause> "

    def fixed(self) -> Rule:
        return replace(self, negatable=False)



# -- phrases --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Phrase:
    category: str  # suicide, overdose, self-harm, relapse
    lang: str  # en, hi, pa, or "Latn": romanised, Hindi or Punjabi by marker words
    script: str  # latin, deva or guru: the script the phrase is written in
    parts: tuple[re.Pattern[str], ...]  # all must be found, anywhere in the message
    rule: Rule
    first: str  # the first part's folded source, for the first-token index


_ALL_NEGATORS = sorted(LATN_NEGATORS | DEVA_NEGATORS | GURU_NEGATORS, key=len, reverse=True)
_NOT_NEGATOR = r"(?!(?:" + "|".join(map(re.escape, _ALL_NEGATORS)) + r")(?!\S))"


def gap(n: int) -> str:
    """Up to ``n`` intervening tokens, none of them a negator or a clause break."""
    return rf"(?: {_NOT_NEGATOR}[^\s|]+){{0,{n}}}"



G1: Final = gap(1)
G2: Final = gap(2)
G3: Final = gap(3)
G4: Final = gap(4)


def _phrase(category: str, lang: str, script: str, rule: Rule, *parts: str) -> Phrase:
    folded = [matching_text(p) for p in parts]
    compiled = tuple(re.compile(r"(?<!\S)(?:" + p + r")(?!\S)") for p in folded)
    return Phrase(category, lang, script, compiled, rule, folded[0])


# -- tables ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """Phrases that share a category, a language and a rule: a line of a script's table."""

    category: str
    lang: str
    rule: Rule
    phrases: tuple[tuple[str, ...], ...]  # each phrase as its parts


def each(category: str, lang: str, rule: Rule, sources: Iterable[str]) -> Row:
    """One phrase a source."""
    return Row(category, lang, rule, tuple((source,) for source in sources))


def together(category: str, lang: str, rule: Rule, *parts: str) -> Row:
    """One phrase whose parts must all be found, anywhere in the message."""
    return Row(category, lang, rule, (parts,))


@dataclass(frozen=True)
class Table:
    """The phrases written in one script, in the order they are tried."""

    script: str  # latin, deva or guru
    rows: tuple[Row, ...]


def build(tables: Iterable[Table]) -> tuple[Phrase, ...]:
    """Every phrase of ``tables``, compiled: tables in order, rows in order, sources in order.

    The order matters: the first phrase of a category to match gives a detection its language.
    """
    return tuple(
        _phrase(row.category, row.lang, table.script, row.rule, *parts)
        for table in tables
        for row in table.rows
        for parts in row.phrases
    )
