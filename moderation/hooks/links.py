"""Links: URLs with a scheme, "www." addresses and bare domains ("example.com/path").

By default a message with a link is HELD for facilitator review (contract §1.1): links
are how spam, dealers and graphic content get into a circle. Domains on the allow-list
(and their subdomains) pass. ``mode`` may also be "block", "redact" (the link becomes
"[link removed]") or "allow" (links pass; useful in a per-room override).

Links are found in the normalised view (``moderation.normalise``): "evil。com",
full-width letters and a zero-width space inside a host are links all the same; a
redaction replaces the original characters.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Collection, Mapping
from typing import Annotated, Any, Final, Literal, get_args
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field

from ..domains import BARE_TLDS, MESSENGER_HOSTS, host_matches
from ..options import Entry, HookOptions, read_table
from ..spans import replace_spans
from ..verdict import ALLOW, Action, Alert, MessageContext, Verdict

NAME: Final = "links"
Mode = Literal["hold", "block", "redact", "allow"]
MODES: Final = get_args(Mode)
REPLACEMENT: Final = "[link removed]"

_URL_CHARS = r"[^\s<>\"'`]"
_SCHEME_URL = re.compile(r"\b(?:https?|ftp)://" + _URL_CHARS + "+", re.IGNORECASE)
_WWW_URL = re.compile(r"(?<![\w.@/-])www\.[\w-]+(?:\." + _URL_CHARS + "*)?", re.IGNORECASE)
# A DNS label, in an atomic group: once a label is matched it is never tried shorter. The
# plain "[a-z0-9-]{0,61}[a-z0-9]" backtracked 61 ways at every word start of
# "x-1-1-1-..."; a possessive "{0,61}+" inside the optional group was worse: CPython
# backtracked through it exponentially in "gx.x.x.x..." (1.6 s for 46 characters, found
# by the fuzz test in tests/unit/moderation/test_moderation_budget.py).
_LABEL = r"(?>[a-z0-9](?:[a-z0-9-]{0,61}(?<=[a-z0-9]))?)"
_BARE_URL = re.compile(
    r"(?<![\w.@/-])(?:" + _LABEL + r"\.)+"
    r"(?:" + "|".join(sorted(BARE_TLDS, key=len, reverse=True)) + r")"
    r"(?![\w-])(?::\d{1,5})?(?:/" + _URL_CHARS + "*)?",
    re.IGNORECASE,
)
# Hosts on everyday-word TLDs that are links all the same: "t.me/x", "youtu.be/x".
_KNOWN_HOST_URL = re.compile(
    r"(?<![\w.@/-])(?:"
    + "|".join(re.escape(h) for h in (*MESSENGER_HOSTS, "youtu.be", "t.co"))
    + r")/"
    + _URL_CHARS
    + "*",
    re.IGNORECASE,
)
# "example dot com", "example[dot]com". Possessive spaces: "\s*" beside "\s+" once let
# the engine split a long run of spaces every way (20 ms for 2000 characters).
_SPELLED_URL = re.compile(
    r"\b(?P<name>" + _LABEL + r")(?:\s*+(?:\[dot\]|\(dot\))\s*+|\s++dot\s++)(?P<tld>com|org|net|in|co)\b",
    re.IGNORECASE,
)
_TRAILING = ".,;:!?)]}'\"*"


# Every link form has "://", a dot between two word characters, or a spelt-out "dot".
_MAYBE_LINK = re.compile(r"\w\.\w|://|\bdot\b", re.IGNORECASE)


def find_links(text: str) -> list[tuple[int, int, str]]:
    """(start, end, host) of every link in ``text``."""
    if _MAYBE_LINK.search(text) is None:
        return []
    found: list[tuple[int, int, str]] = []
    taken = _Taken()
    for pattern in (_SCHEME_URL, _WWW_URL, _KNOWN_HOST_URL, _BARE_URL):
        for m in pattern.finditer(text):
            start, end = m.span()
            end = start + len(text[start:end].rstrip(_TRAILING))
            if pattern is _BARE_URL and _looks_like_sentence(text, start, end):
                continue
            if taken.overlaps(start, end):
                continue
            url = text[start:end]
            host = _host_of(url if "://" in url else "http://" + url)
            if host:
                found.append((start, end, host))
                taken.add(start, end)
    for m in _SPELLED_URL.finditer(text):
        start, end = m.span()
        if not taken.overlaps(start, end):
            found.append((start, end, f"{m.group('name')}.{m.group('tld')}".lower()))
    return sorted(found)


class _Taken:
    """Disjoint spans already claimed by a link, kept sorted: an overlap test is a
    bisection, not a pass over every link found (a text of 300 links was quadratic)."""

    def __init__(self) -> None:
        self._starts: list[int] = []
        self._ends: list[int] = []

    def overlaps(self, start: int, end: int) -> bool:
        i = bisect_right(self._starts, start)
        # The span starting at or before ``start``, and the one after it, are the only
        # ones that can overlap: the spans are disjoint and sorted.
        if i and self._ends[i - 1] > start:
            return True
        return i < len(self._starts) and self._starts[i] < end

    def add(self, start: int, end: int) -> None:
        i = bisect_right(self._starts, start)
        self._starts.insert(i, start)
        self._ends.insert(i, end)


def _looks_like_sentence(text: str, start: int, end: int) -> bool:
    """ "done.In the morning": a capitalised TLD with no path is a missing space."""
    candidate = text[start:end]
    tld = candidate.rsplit(".", 1)[-1]
    return "/" not in candidate and tld[:1].isupper() and not candidate.isupper()


def _host_of(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:  # e.g. an invalid IPv6 literal: still a link, of unknown host
        return "invalid"


class LinksHook:
    """Hold (or block, redact, allow) messages carrying links off the allow-list."""

    def __init__(
        self,
        *,
        allow: Collection[str] = (),
        mode: str = "hold",
        fail_open: bool = False,
        timeout_s: float = 1.0,
        name: str = NAME,
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"links mode must be one of {MODES}, got {mode!r}")
        self.name = name
        self.fail_open = fail_open
        self.timeout_s = timeout_s
        self.allow = tuple(d.lower().strip() for d in allow)
        self.mode = mode

    def allowed(self, host: str) -> bool:
        return any(host_matches(host, domain) for domain in self.allow)

    async def check(self, ctx: MessageContext) -> Verdict:
        return self.judge(ctx)

    def judge(self, ctx: MessageContext) -> Verdict:
        if self.mode == "allow":
            return ALLOW
        view = ctx.normalised
        links = [(s, e) for s, e, host in find_links(view.text) if not self.allowed(host)]
        if not links:
            return ALLOW
        if self.mode == "hold":
            return Verdict(Action.HOLD, reason="link")
        if self.mode == "block":
            return Verdict(Action.BLOCK, reason="link", alerts=(Alert("blocked", "message with a link"),))
        return Verdict(
            Action.REDACT, text=replace_spans(view.original, view.original_spans(links), REPLACEMENT), reason="link"
        )


_DOMAIN = re.compile(r"(?:\*\.)?(?:" + _LABEL + r"\.)*" + _LABEL, re.IGNORECASE)


def _domain(domain: str) -> str:
    if not _DOMAIN.fullmatch(domain):
        shown = repr(domain) if len(domain) <= 40 else f"a string of {len(domain)} characters"
        raise ValueError(f"{shown} is not a domain name (give hosts like 'example.org', without scheme or path)")
    return domain


class LinksOptions(HookOptions):
    """``[moderation.links]``."""

    allow: list[Annotated[Entry, AfterValidator(_domain)]] = Field(default_factory=list)
    mode: Mode = "hold"


def from_options(options: Mapping[str, Any], name: str = NAME) -> LinksHook:
    opts = read_table(LinksOptions, options, f"[moderation.{name}]")
    return LinksHook(allow=opts.allow, mode=opts.mode, fail_open=opts.fail_open, timeout_s=opts.timeout_s, name=name)
