"""What the first token of a crisis phrase's match can be, read from its regex source.

``moderation.crisis`` indexes its phrases by these tokens, so that a message is tried
only against the phrases that can start at one of its tokens (ten times faster than
trying every phrase everywhere). The source is read by a small reader of the regex
subset the phrase tables are written in (literals, classes, groups, alternation,
lookarounds, repeats), using no private module of ``re``. Anything it does not know
gives None: the phrase is then tried on every message, which is slower, never wrong.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

# Bounds on working out a phrase's possible first tokens; past them it is tried always.
_MAX_FIRST_TOKENS: Final = 4096
# A class range wider than this is not spelled out (the token is then left open).
_MAX_RANGE: Final = 64


class _Unsupported(Exception):
    """A construct the reader does not track."""


class _TooWide(Exception):
    pass


# -- the regex, read ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Char:
    """One character from ``chars``; None: some character not tracked (``\\S``, ``[^a]``)."""

    chars: frozenset[str] | None


@dataclass(frozen=True)
class _Group:
    """Alternatives, each a sequence: a group, or the whole regex."""

    alternatives: tuple[tuple[_Node, ...], ...]


@dataclass(frozen=True)
class _Repeat:
    least: int
    most: int | None  # None: no bound
    item: _Node


@dataclass(frozen=True)
class _ZeroWidth:
    """A lookaround or an anchor: matches no character."""


@dataclass(frozen=True)
class _Any:
    """``.``: any character."""


_Node = _Char | _Group | _Repeat | _ZeroWidth | _Any

_QUANTIFIER = re.compile(r"\{([0-9]*)(,?)([0-9]*)\}")
_CONTROL_ESCAPES: Final = {"n": "\n", "t": "\t", "r": "\r", "f": "\f", "v": "\v"}


class _Reader:
    def __init__(self, source: str) -> None:
        self.source = source
        self.at = 0

    def peek(self, ahead: int = 0) -> str:
        """The character ``ahead`` of the reading position; "" past the end."""
        i = self.at + ahead
        return self.source[i] if i < len(self.source) else ""

    def next(self) -> str:
        char = self.peek()
        if not char:
            raise _Unsupported("unexpected end")
        self.at += 1
        return char

    def whole(self) -> _Group:
        group = self.alternatives()
        if self.at != len(self.source):
            raise _Unsupported("unbalanced )")
        return group

    def alternatives(self) -> _Group:
        """Up to a closing parenthesis or the end."""
        alternatives: list[tuple[_Node, ...]] = []
        sequence: list[_Node] = []
        while self.peek() not in ("", ")"):
            if self.peek() == "|":
                self.at += 1
                alternatives.append(tuple(sequence))
                sequence = []
            else:
                sequence.append(self.item())
        alternatives.append(tuple(sequence))
        return _Group(tuple(alternatives))

    def item(self) -> _Node:
        atom = self.atom()
        bounds = self.quantifier()
        if bounds is None:
            return atom
        if isinstance(atom, _ZeroWidth):
            raise _Unsupported("repeated assertion")
        return _Repeat(bounds[0], bounds[1], atom)

    def quantifier(self) -> tuple[int, int | None] | None:
        char = self.peek()
        bounds: tuple[int, int | None]
        if char in ("?", "*", "+"):
            self.at += 1
            bounds = {"?": (0, 1), "*": (0, None), "+": (1, None)}[char]
        elif char == "{" and (match := _QUANTIFIER.match(self.source, self.at)):
            self.at = match.end()
            least, comma, most = match.groups()
            bounds = (int(least or 0), (int(most) if most else None) if comma else int(least or 0))
        else:
            return None
        if self.peek() in ("?", "+"):  # lazy or possessive: the same characters
            self.at += 1
        return bounds

    def atom(self) -> _Node:
        char = self.next()
        if char == "(":
            return self.group()
        if char == "[":
            return self.char_class()
        if char == "\\":
            return self.escape(in_class=False)
        if char == ".":
            return _Any()
        if char in ("^", "$"):
            return _ZeroWidth()
        if char in ("*", "+", "?") or (char == "{" and _QUANTIFIER.match(self.source, self.at - 1)):
            raise _Unsupported("nothing to repeat")
        return _Char(frozenset(char))

    def group(self) -> _Node:
        zero_width = False
        if self.peek() == "?":
            opener = self.peek(1)
            if opener == ":":
                self.at += 2
            elif opener in ("=", "!"):
                self.at += 2
                zero_width = True
            elif opener == "<" and self.peek(2) in ("=", "!"):
                self.at += 3
                zero_width = True
            elif opener == "P" and self.peek(2) == "<":
                end = self.source.find(">", self.at)
                if end < 0:
                    raise _Unsupported("unclosed group name")
                self.at = end + 1
            else:  # flags, back references by name, conditionals, atomic groups
                raise _Unsupported(f"(?{opener}")
        inner = self.alternatives()
        if self.next() != ")":
            raise _Unsupported("unclosed group")
        return _ZeroWidth() if zero_width else inner

    def escape(self, in_class: bool) -> _Char | _ZeroWidth:
        char = self.next()
        if char in "sSdDwW":
            return _Char(None)
        if char in "bBAZ" and not in_class:
            return _ZeroWidth()
        if char in _CONTROL_ESCAPES:
            return _Char(frozenset(_CONTROL_ESCAPES[char]))
        if char.isalnum():  # back references, \x, \u, \N{...}, octal
            raise _Unsupported(f"\\{char}")
        return _Char(frozenset(char))

    def class_char(self) -> str | None:
        """One character of a class, or None for a category such as ``\\s``."""
        char = self.next()
        if char != "\\":
            return char
        escaped = self.escape(in_class=True)
        if isinstance(escaped, _ZeroWidth):
            raise _Unsupported("assertion in a class")
        return None if escaped.chars is None else next(iter(escaped.chars))

    def char_class(self) -> _Char:
        negated = self.peek() == "^"
        if negated:
            self.at += 1
        chars: set[str] = set()
        tracked = not negated
        first = True
        while not (self.peek() == "]" and not first):
            first = False
            low = self.class_char()
            if low is None:
                tracked = False
                continue
            if self.peek() == "-" and self.peek(1) not in ("]", ""):
                self.at += 1
                high = self.class_char()
                if high is None or high < low:
                    raise _Unsupported("odd range")
                if ord(high) - ord(low) > _MAX_RANGE:
                    tracked = False
                else:
                    chars.update(chr(c) for c in range(ord(low), ord(high) + 1))
            else:
                chars.add(low)
        self.at += 1  # the closing ]
        return _Char(frozenset(chars) if tracked else None)


# -- first tokens ---------------------------------------------------------------------------


def first_tokens(source: str) -> frozenset[tuple[str, bool]] | None:
    """What the first token of a match of regex ``source`` can be.

    A set of (text, open): the token is exactly ``text``, or (open) starts with it.
    None when that cannot be worked out (the phrase is then tried on every message).
    """
    try:
        partial, done = _walk((_Reader(source).whole(),), {""})
    except (_Unsupported, _TooWide):  # a fallback, not an error
        return None
    done |= {(text, False) for text in partial}
    if not done or any(text == "" for text, _ in done):
        return None
    return frozenset(done)


def _walk(items: Sequence[_Node], partial: set[str]) -> tuple[set[str], set[tuple[str, bool]]]:
    """Extend the partial first tokens over ``items``; also return the finished ones."""
    done: set[tuple[str, bool]] = set()
    for item in items:
        if not partial:
            break
        if isinstance(item, _ZeroWidth):
            continue
        if isinstance(item, _Char) and item.chars is not None:
            partial = _extend(partial, item.chars, done)
        elif isinstance(item, _Group):
            merged: set[str] = set()
            for alternative in item.alternatives:
                out, inner = _walk(alternative, partial)
                merged |= out
                done |= inner
            partial = merged
        elif isinstance(item, _Repeat) and item.most == 1:
            out, inner = _walk((item.item,), partial)
            done |= inner
            partial = (partial | out) if item.least == 0 else out
        else:  # untracked characters, longer repeats, wildcards: the token goes on in ways not tracked
            still_open = set(partial)
            if isinstance(item, _Repeat):
                out, inner = _walk((item.item,), partial)
                done |= inner
                still_open = (still_open | out) if item.least == 0 else out
            done |= {(text, True) for text in still_open}
            partial = set()
        if len(partial) + len(done) > _MAX_FIRST_TOKENS:
            raise _TooWide
    return partial, done


def _extend(partial: set[str], chars: frozenset[str], done: set[tuple[str, bool]]) -> set[str]:
    out: set[str] = set()
    for char in chars:
        if char == " ":
            done |= {(text, False) for text in partial}
        else:
            out |= {text + char for text in partial}
    return out
