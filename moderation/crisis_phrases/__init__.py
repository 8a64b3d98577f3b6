"""The phrase tables of the crisis-language detector (``moderation.crisis``).

Everything here is data: canonical spellings, negation rules and phrases. Phrases are
regexes over the normalised token string (lower-case tokens separated by single
spaces, " | " between clauses), written in canonical spelling; ``common._phrase`` wraps
each one in token boundaries and folds its Devanagari/Gurmukhi the way messages are folded.

The modules:

- ``canon``: canonical spellings (what the normaliser rewrites every token to) and the
  marker words that tell romanised Punjabi from romanised Hindi;
- ``common``: negators, ``Rule``, ``Phrase``, ``gap``, and the ``Table``/``Row`` shape of
  a script's table with ``build``, the one loop that compiles every table into phrases;
- ``latin``: English, and Hindi and Punjabi romanised; ``devanagari``: Hindi;
  ``gurmukhi``: Punjabi. Each holds its script's history markers, its rules, its phrase
  sources and its ``TABLE``: rows of category, language, rule and sources.

To add a phrase: put its source in the tuple of its kind in the script's module (or, for
a new kind, a new row in that module's ``TABLE``: ``each`` for phrases of one part,
``together`` for one phrase of parts that must all be found). Then add labelled examples
to ``data/crisis_labelled.tsv`` (positives AND the near-miss negatives it might catch) and
run ``python -m moderation.crisis_eval``.
"""

from __future__ import annotations

from typing import Final

from . import devanagari, gurmukhi, latin
from .canon import CANON, CANON_PATTERNS, CANON_PHRASE_RE, CANON_PHRASES, HINDI_MARKERS, PUNJABI_MARKERS
from .common import (
    COORDINATORS,
    DEVA_NEGATORS,
    EN_NEGATORS,
    G1,
    G2,
    G3,
    G4,
    GURU_NEGATORS,
    LATN_NEGATORS,
    NEGATION_CANCELLERS,
    Phrase,
    Rule,
    build,
    gap,
)
from .devanagari import DEVA, DEVA_HISTORY, DEVA_PAST
from .gurmukhi import GURU, GURU_HISTORY, GURU_PAST
from .latin import EN, EN_HISTORY, EN_HISTORY_PATTERN, LATN, LATN_HISTORY, LATN_PAST

# In this order: the first phrase of a category to match gives a detection its language.
PHRASES: Final = build((latin.TABLE, devanagari.TABLE, gurmukhi.TABLE))

__all__ = [
    "CANON",
    "CANON_PATTERNS",
    "CANON_PHRASES",
    "CANON_PHRASE_RE",
    "COORDINATORS",
    "DEVA",
    "DEVA_HISTORY",
    "DEVA_NEGATORS",
    "DEVA_PAST",
    "EN",
    "EN_HISTORY",
    "EN_HISTORY_PATTERN",
    "EN_NEGATORS",
    "G1",
    "G2",
    "G3",
    "G4",
    "GURU",
    "GURU_HISTORY",
    "GURU_NEGATORS",
    "GURU_PAST",
    "HINDI_MARKERS",
    "LATN",
    "LATN_HISTORY",
    "LATN_NEGATORS",
    "LATN_PAST",
    "NEGATION_CANCELLERS",
    "PHRASES",
    "PUNJABI_MARKERS",
    "Phrase",
    "Rule",
    "gap",
]
