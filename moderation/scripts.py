"""Folding Devanagari and Gurmukhi spelling variants, shared by the text matchers.

The same word is typed many ways: with or without a nukta (ज़िंदगी / जिंदगी), with
chandrabindu or anusvara (हूँ / हूं), with tippi or bindi (ਚਾਹੁੰਦਾ / ਚਾਹੁਂਦਾ), with or
without addak (ਹੱਥ / ਹਥ), and with invisible zero-width joiners from phone keyboards.
The tables are applied by ``moderation.normalise``, the one view every rule reads.
"""

from __future__ import annotations

import unicodedata
from typing import Final

# One character for one character (so positions survive): letters with a precomposed
# nukta to the bare letter, chandrabindu to anusvara, tippi to bindi.
ONE_FOR_ONE: Final[dict[int, str]] = {
    ord(k): v
    for k, v in {
        "\u0958": "\u0915",
        "\u0959": "\u0916",
        "\u095a": "\u0917",
        "\u095b": "\u091c",
        "\u095c": "\u0921",
        "\u095d": "\u0922",
        "\u095e": "\u092b",
        "\u095f": "\u092f",
        "\u0929": "\u0928",
        "\u0931": "\u0930",
        "\u0934": "\u0933",
        "\u0901": "\u0902",
        "\u0a33": "\u0a32",
        "\u0a36": "\u0a38",
        "\u0a59": "\u0a16",
        "\u0a5a": "\u0a17",
        "\u0a5b": "\u0a1c",
        "\u0a5e": "\u0a2b",
        "\u0a70": "\u0a02",
    }.items()
}
# Marks that do not change the word: nukta (both scripts), addak, zero-width characters.
IGNORABLE_MARKS: Final = "\u093c\u0a3c\u0a71\u200b\u200c\u200d\u2060\ufeff"
def strip_latin_accents(text: str) -> str:
    """ "naïve" → "naive"; Indic vowel signs and marks are left alone."""
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFD", text)
    kept = "".join(c for c in decomposed if not "\u0300" <= c <= "\u036f")
    return unicodedata.normalize("NFC", kept)
