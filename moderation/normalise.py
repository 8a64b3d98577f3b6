"""The one view of a message that every moderation rule matches on.

People hide a phone number, an address or a slur from a matcher with characters that
draw nothing or look like others: a zero-width space or a soft hyphen inside a number,
a no-break space instead of a space, "gmail。com" with an ideographic full stop,
full-width letters, Devanagari digits. ``normalise(text)`` gives the text as the rules
should read it:

- compatibility folding (NFKC, character by character): full-width and half-width
  forms, ligatures, circled and styled letters and digits become plain ones;
- format characters (Unicode category Cf: zero-width space and joiners, bidi controls,
  soft hyphen, word joiner, BOM, tags) and other characters that draw nothing
  (variation selectors, the combining grapheme joiner, Hangul fillers) are dropped;
- Unicode full stops ("。", "．", "｡", middle dots) become ".";
- every space separator (no-break, thin, ideographic ...) becomes " ", line and
  paragraph separators "\\n";
- every decimal digit (Devanagari, Gurmukhi, Arabic-Indic, ...) becomes its ASCII digit;
- Devanagari and Gurmukhi spelling variants are folded one for one (``scripts``):
  nukta letters to the bare letter, chandrabindu to anusvara, tippi to bindi, and nukta
  and addak dropped.

Case is kept: each rule decides how it compares letters.

A view is for matching only. What is delivered is the original text, joiners and all
(emoji sequences and Indic conjuncts need ZWJ and ZWNJ): a rule that redacts finds spans
in ``view.text`` and replaces ``view.original_spans(...)`` in ``view.original``.

NFKC is applied to each character alone, so that each character of the view comes from
exactly one character of the original; the canonical composition NFKC would also do
across characters ("e" + U+0301 → "é") is left to the rules that care (crisis strips
Latin accents; every Indic mark that matters is folded above).
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Final

from .scripts import IGNORABLE_MARKS, ONE_FOR_ONE

# What else a domain's dots are written with: the label separators browsers accept
# (UTS #46: ideographic, full-width, half-width ideographic full stops; NFKC maps the
# small and leader forms), and the middle dots people type for "dot".
DOTS: Final = "\u3002\uff61\u2e3c\u00b7\u2027\u30fb\uff65\u2219\u22c5\u2e31"
# Blank-looking characters outside the space separators: the braille blank.
EXTRA_SPACES: Final = "\u2800"
# Characters that draw nothing yet are not format characters: the combining grapheme
# joiner, Hangul fillers, Khmer inherent vowels, Mongolian free variation selectors,
# variation selectors (emoji presentation), ideographic variation selectors.
INVISIBLE_RANGES: Final = (
    (0x034F, 0x034F),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFFA0, 0xFFA0),
    (0xE0100, 0xE01EF),
)
# Where characters that fold to something else live: everything up to the end of the
# Supplementary Multilingual Plane, the CJK compatibility ideographs supplement and
# the tags and variation selectors supplement. Nothing outside these folds.
_SCANNED: Final = ((0x80, 0x20000), (0x2F800, 0x2FA20), (0xE0000, 0xE01F0))

_INVISIBLE: Final = frozenset(chr(c) for lo, hi in INVISIBLE_RANGES for c in range(lo, hi + 1)) | frozenset(
    IGNORABLE_MARKS
)


_FOLDED_CATEGORIES: Final = frozenset(("Cf", "Zs", "Zl", "Zp", "Nd"))


def _fold_one(c: str) -> str:
    """What a character NFKC has already folded becomes in the view."""
    if c in _INVISIBLE:
        return ""
    category = unicodedata.category(c)
    if category == "Cf":
        return ""
    if category == "Zs" or c in EXTRA_SPACES:
        return " "
    if category in ("Zl", "Zp"):
        return "\n"
    if c in DOTS:
        return "."
    if category == "Nd" and not c.isascii():
        return str(unicodedata.decimal(c))
    return ONE_FOR_ONE.get(ord(c), c)


def _fold_char(ch: str) -> str:
    return "".join(_fold_one(c) for c in unicodedata.normalize("NFKC", ch))


def _table() -> dict[str, str]:
    # Worked out once at import (about 40 ms): every character the view changes, and
    # what it becomes. A few thousand entries; ASCII never changes.
    special = _INVISIBLE | frozenset(DOTS + EXTRA_SPACES) | frozenset(chr(c) for c in ONE_FOR_ONE)
    is_normalized, category = unicodedata.is_normalized, unicodedata.category
    table: dict[str, str] = {}
    for lo, hi in _SCANNED:
        for code in range(lo, hi):
            ch = chr(code)
            # Cheap C-level tests first: only these characters can fold.
            if is_normalized("NFKC", ch) and category(ch) not in _FOLDED_CATEGORIES and ch not in special:
                continue
            folded = _fold_char(ch)
            if folded != ch:
                table[ch] = folded
    return table


def _char_class(chars: Iterable[str]) -> re.Pattern[str]:
    """A regex matching any one of ``chars``, written as ranges."""
    codes = sorted(ord(c) for c in chars)
    ranges: list[tuple[int, int]] = []
    for code in codes:
        if ranges and code == ranges[-1][1] + 1:
            ranges[-1] = (ranges[-1][0], code)
        else:
            ranges.append((code, code))
    body = "".join(
        re.escape(chr(lo)) if lo == hi else f"{re.escape(chr(lo))}-{re.escape(chr(hi))}" for lo, hi in ranges
    )
    return re.compile(f"[{body}]" if body else "(?!)")


FOLDED: Final = _table()
# Characters replaced by exactly one other: a plain ``str.translate`` keeps positions.
_SAME_LENGTH: Final = str.maketrans({c: f for c, f in FOLDED.items() if len(f) == 1})
# Characters dropped or replaced by several: positions move, so a map is kept.
_RESIZING: Final = _char_class(c for c, f in FOLDED.items() if len(f) != 1)
_CHANGING: Final = _char_class(FOLDED)


@dataclass(frozen=True)
class SpanMap:
    """Where each character of a rewritten text came from in its source.

    The rewritten text is a run of pieces; piece ``i`` starts at ``starts[i]`` in the
    rewritten text and at ``origins[i]`` in the source. A copied piece (``widths[i]``
    0) maps character for character; a replaced piece maps each of its characters onto
    the ``widths[i]`` source characters it replaced. No pieces: the identity.
    """

    starts: tuple[int, ...] = ()
    origins: tuple[int, ...] = ()
    widths: tuple[int, ...] = ()
    size: int = 0  # length of the rewritten text

    def source(self, start: int, end: int) -> tuple[int, int]:
        """The source span the rewritten span ``[start, end)`` came from."""
        if not self.starts:
            return start, end
        if end <= start:  # an empty span stays empty, where its character starts
            at = self._from(start)[0] if start < self.size else self._from(self.size - 1)[1]
            return at, at
        return self._from(start)[0], self._from(end - 1)[1]

    def _from(self, pos: int) -> tuple[int, int]:
        i = bisect_right(self.starts, pos) - 1
        origin, width = self.origins[i], self.widths[i]
        if width == 0:
            at = origin + pos - self.starts[i]
            return at, at + 1
        return origin, origin + width


def rewrite(text: str, pattern: re.Pattern[str], replace: Callable[[re.Match[str]], str]) -> tuple[str, SpanMap]:
    """``text`` with each match of ``pattern`` replaced, and the map back to ``text``."""
    parts: list[str] = []
    starts: list[int] = []
    origins: list[int] = []
    widths: list[int] = []
    size = 0
    pos = 0
    for m in pattern.finditer(text):
        start, end = m.span()
        if start > pos:
            starts.append(size)
            origins.append(pos)
            widths.append(0)
            parts.append(text[pos:start])
            size += start - pos
        new = replace(m)
        if new:
            starts.append(size)
            origins.append(start)
            widths.append(max(end - start, 1))
            parts.append(new)
            size += len(new)
        pos = end
    if pos == 0 and not starts:  # nothing matched
        return text, SpanMap()
    if pos < len(text):
        starts.append(size)
        origins.append(pos)
        widths.append(0)
        parts.append(text[pos:])
        size += len(text) - pos
    if not starts:  # everything was dropped
        return "", SpanMap()
    return "".join(parts), SpanMap(tuple(starts), tuple(origins), tuple(widths), size)


def _folded(m: re.Match[str]) -> str:
    return FOLDED[m.group()]


@dataclass(frozen=True)
class Normalised:
    """A message as the rules read it (``text``), and the way back to ``original``."""

    original: str
    text: str
    map: SpanMap = SpanMap()

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """The span of ``original`` that ``text[start:end]`` came from."""
        return self.map.source(start, end)

    def original_spans(self, spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
        return [self.map.source(start, end) for start, end in spans]


def normalise(text: str) -> Normalised:
    """The matching view of ``text`` (see the module docstring).

    Linear in the text: ASCII and already-folded text cost two C-level scans, text whose
    folding keeps every position one ``str.translate``, and only dropped or expanded
    characters are visited one by one.
    """
    if text.isascii() or _CHANGING.search(text) is None:
        return Normalised(text, text)
    if _RESIZING.search(text) is None:
        return Normalised(text, text.translate(_SAME_LENGTH))
    view, spans = rewrite(text, _RESIZING, _folded)
    # The pieces copied between resized characters may still hold one-for-one folds.
    return Normalised(text, view.translate(_SAME_LENGTH), spans)


def matching_text(text: str) -> str:
    """Only the view's text: for word lists and phrases, folded as messages are."""
    return normalise(text).text
