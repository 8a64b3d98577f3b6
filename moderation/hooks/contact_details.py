"""Redact personal contact details: phone numbers, e-mail addresses, messenger handles.

Members are anonymous by design, and swapping numbers is how people get pulled out of
the group by dealers and predators, so each detail is replaced by "[contact removed]".
Ordinary numbers ("30 days", "day 365", "10:30", "2024", "1990-1995", dates) are kept:
a phone number needs at least 8 digits, and 8 or 9 only with a phone's shape.

Facilitators get a "contact" alert naming the kinds removed, never the details.

Matching reads the normalised view (``moderation.normalise``), so a zero-width space
or a no-break space inside a number, full-width or Devanagari digits and "gmail。com"
hide nothing; the spans found there are redacted in the original text.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Mapping
from typing import Any, Final

from ..domains import MESSENGER_HOSTS, TLDS
from ..normalise import Normalised, normalise
from ..options import HookOptions, read_table
from ..spans import replace_spans
from ..verdict import ALLOW, Action, Alert, MessageContext, Verdict

NAME: Final = "contact_details"
REPLACEMENT: Final = "[contact removed]"

# -- phone numbers ----------------------------------------------------------------------

# A digit, then more digits each after at most three separators (spaces, dots, dashes,
# slashes, brackets). Not glued to a word, a '+', an '@' or a URL path before it.
_PHONE = re.compile(r"(?<![\w+@/#])\+?\(?\d(?:[ \t.\-\u2010-\u2015/()]{0,3}\d){5,18}(?!\w)")
_DATE = re.compile(r"\d{1,2}([./-])\d{1,2}\1\d{2,4}|\d{4}([./-])\d{1,2}\2\d{1,2}")
_YEAR_RANGE = re.compile(r"(?:1[89]|20)\d\d\s*[-\u2010-\u2015/]\s*(?:1[89]|20)\d\d")
_DIGIT_GROUP = re.compile(r"\d+")
_YEAR = re.compile(r"(?:1[89]|20)\d\d")
# Fewest and most digits a phone number has: 8 for a local landline ("2345 6789"),
# 15 for the longest international number (E.164).
MIN_PHONE_DIGITS: Final = 8
MAX_PHONE_DIGITS: Final = 15


def _is_phone(candidate: str) -> bool:
    digits = sum(1 for c in candidate if c.isdecimal())
    if not MIN_PHONE_DIGITS <= digits <= MAX_PHONE_DIGITS:
        return False
    stripped = candidate.strip("()")
    if _DATE.fullmatch(stripped) or _YEAR_RANGE.fullmatch(stripped):
        return False
    groups = _DIGIT_GROUP.findall(candidate)
    if all(_YEAR.fullmatch(g) for g in groups):
        return False  # "2019 2020 2021"
    if digits >= 10:
        return True
    # 8 or 9 digits: a landline with its STD code ("011 2345678"), an international
    # prefix, or groups of at least two digits ("2345 6789"); not "3.14159265".
    if candidate.startswith(("+", "0", "(")):
        return True
    return len(groups) >= 2 and all(len(g) >= 2 for g in groups)


_DIGIT = re.compile(r"\d")


def _phone_spans(text: str) -> list[tuple[int, int]]:
    if _DIGIT.search(text) is None:
        return []
    return [m.span() for m in _PHONE.finditer(text) if _is_phone(m.group())]


# -- e-mail addresses -------------------------------------------------------------------

_TLD = "(?:" + "|".join(sorted(TLDS, key=len, reverse=True)) + r")(?![\w])"
_LOCAL = r"(?<![\w.+-])[\w][\w.+-]*"
_EMAIL = re.compile(_LOCAL + r"@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,24}(?![\w])")
# "name at gmail dot com", "name [at] gmail [dot] com", "name @ gmail . com"
_AT = r"(?:\s*[\[({<]\s*(?:at|@)\s*[\])}>]\s*|\s+at\s+|\s*@\s*)"
_DOT = r"(?:\s*[\[({<]\s*(?:dot|\.)\s*[\])}>]\s*|\s+dot\s+|\s*\.\s*)"
_OBFUSCATED_EMAIL = re.compile(_LOCAL + _AT + r"[\w-]+(?:" + _DOT + r"[\w-]+)*" + _DOT + _TLD, re.IGNORECASE)
# "name at gmail" with no TLD at all, for the big free providers only.
_PROVIDER_EMAIL = re.compile(
    _LOCAL
    + r"\s*(?:@|\bat\b|[\[(]at[\])])\s*"
    + r"(?:gmail|googlemail|yahoo|ymail|hotmail|outlook|rediffmail|rediff|protonmail|proton"
    + r"|icloud)\b",
    re.IGNORECASE,
)


_PROVIDERS: Final = frozenset(
    "gmail googlemail yahoo ymail hotmail outlook rediffmail rediff protonmail proton icloud".split()
)


def _email_spans(text: str, words: set[str]) -> list[tuple[int, int]]:
    # Cheap gates first: each form needs an "@" or the word "at", and a dot or a provider.
    has_at = "@" in text or "at" in words
    if not has_at:
        return []
    spans = [m.span() for m in _EMAIL.finditer(text)] if "@" in text else []
    if "." in text or "dot" in words:
        spans += [m.span() for m in _OBFUSCATED_EMAIL.finditer(text)]
    if words & _PROVIDERS:
        spans += [m.span() for m in _PROVIDER_EMAIL.finditer(text)]
    return spans


# -- messenger links and handles --------------------------------------------------------

_MESSENGER_LINK = re.compile(
    r"(?<![\w.-])(?:https?://)?(?:www\.)?(?:" + "|".join(re.escape(h) for h in MESSENGER_HOSTS) + r")/[^\s]+",
    re.IGNORECASE,
)
_PLATFORM = (
    r"(?:tele\s?gram|telegarm|tg|whats\s?app|whatsap|watsapp|watsap|whtsapp|wa|signal"
    r"|snap\s?chat|snap|sc|insta\s?gram|insta|ig|kik|wickr|discord|facebook|fb|skype"
    r"|wechat|viber)"
)
_ID_WORD = r"(?:id|handle|user\s?name|username|account|acc|naam|name|no\.?|number|num)"
_HANDLE = r"@?[A-Za-z][A-Za-z0-9_.]{2,31}(?<!\.)"
# "ig: name", "telegram - @name", "snap id: name", "my insta id is name", "tg @name"
_HANDLE_AFTER_PLATFORM = re.compile(
    r"\b(?P<platform>" + _PLATFORM + r")\b\s*(?:" + _ID_WORD + r"\s*)?"
    r"(?:(?::|=|-|\u2013|->|\bis\b|\bhai\b|\bh\b)\s*)?"
    r"(?P<handle>" + _HANDLE + r")",
    re.IGNORECASE,
)
_ID_WORD_RE = re.compile(r"\b" + _ID_WORD, re.IGNORECASE)
_AT_HANDLE = re.compile(r"(?<![\w@.])@[A-Za-z0-9_][A-Za-z0-9_.]{2,31}(?<!\.)")
_PLATFORM_WORD = re.compile(r"\b" + _PLATFORM + r"\b", re.IGNORECASE)
# Characters either side of a platform word within which an @handle counts as one.
HANDLE_CONTEXT_CHARS: Final = 40
# "whatsapp me", "whatsapp pe msg karo": tried only where a platform word starts (a scan
# of every word start with this alternation was most of the hook's time on long text).
_SOLICITATION_AFTER = re.compile(
    _PLATFORM + r"(?:\s+me\b|\s+(?:pe|par|pr|per|te|utte)\s+"
    r"(?:aa|aao|aaja|aja|baat|msg|message|add|mil|call|contact)\w*)",
    re.IGNORECASE,
)
_SOLICITING_VERBS: Final = frozenset("dm msg message text ping add contact reach call inbox find follow".split())
# "dm me on insta", "add me on snap": only run when one of those verbs is there.
_SOLICITATION_BEFORE = re.compile(
    r"\b(?:" + "|".join(sorted(_SOLICITING_VERBS)) + r")\s+me\s+(?:on|at|via|over|in)\s+" + _PLATFORM + r"\b",
    re.IGNORECASE,
)
_WORDS_NOT_HANDLES: Final = frozenset(
    """
    the and you your for with this that not but are was have has had can will just
    now too also here there then them they she him her his its our out off very much
    me my on at in is it of to or if so do no yes ok okay please pls account group
    today tonight tomorrow again still only even ever never deleted delete uninstalled
    """.split()
)


def _handle_ok(handle: str, explicit: bool) -> bool:
    bare = handle.lstrip("@")
    if bare.lower() in _WORDS_NOT_HANDLES:
        return False
    # Without '@' or an explicit separator only a handle-looking word counts
    # ("ig rahul_99"), not "instagram today".
    return explicit or handle.startswith("@") or any(c in bare for c in "_.0123456789")


# Words one of which every platform name contains as a whole word (a cheap gate).
_PLATFORM_TOKENS: Final = frozenset(
    """
    telegram tele gram telegarm tg whatsapp whats whatsap watsapp watsap whtsapp wa signal
    snapchat snap sc instagram insta ig kik wickr discord facebook fb skype wechat viber
    """.split()
)


def _handle_spans(text: str, words: set[str]) -> list[tuple[int, int]]:
    spans = [m.span() for m in _MESSENGER_LINK.finditer(text)] if "/" in text else []
    if not words & _PLATFORM_TOKENS:
        return spans
    platforms = [m.span() for m in _PLATFORM_WORD.finditer(text)]
    if not platforms:
        return spans  # every other form names a messenger
    for p_start, _ in platforms:
        solicitation = _SOLICITATION_AFTER.match(text, p_start)
        if solicitation is not None:
            spans.append(solicitation.span())
    if words & _SOLICITING_VERBS:
        spans += [m.span() for m in _SOLICITATION_BEFORE.finditer(text)]
    for m in _HANDLE_AFTER_PLATFORM.finditer(text):
        between = text[m.end("platform") : m.start("handle")]
        explicit = any(sep in between for sep in (":", "=", "-", "\u2013")) or bool(_ID_WORD_RE.search(between))
        if _handle_ok(m.group("handle"), explicit):
            spans.append(m.span("handle"))
    # Platform words are found in text order, so their starts and ends both rise: the
    # one nearest a handle is found by bisection (a loop over all of them made a text
    # full of "@x telegram" quadratic).
    ends = [p_end for _, p_end in platforms]
    for m in _AT_HANDLE.finditer(text):
        start, end = m.span()
        i = bisect_left(ends, start - HANDLE_CONTEXT_CHARS)  # first platform ending near enough
        if i < len(platforms) and platforms[i][0] <= end + HANDLE_CONTEXT_CHARS:
            spans.append((start, end))
    return spans


# -- the hook ---------------------------------------------------------------------------


_WORDS = re.compile(r"[a-z]+")


def find_contact_details(text: str) -> dict[str, list[tuple[int, int]]]:
    """Spans of each kind of contact detail in ``text``: "email", "messenger", "phone"."""
    words = set(_WORDS.findall(text.lower()))
    found = {
        "email": _email_spans(text, words),
        "messenger": _handle_spans(text, words),
        "phone": _phone_spans(text),
    }
    return {kind: spans for kind, spans in found.items() if spans}


def redact_contact_details(text: str | Normalised) -> tuple[str, tuple[str, ...]]:
    """The text with contact details replaced, and the kinds that were found.

    Details are found in the normalised view and replaced in the original text.
    """
    view = text if isinstance(text, Normalised) else normalise(text)
    found = find_contact_details(view.text)
    if not found:
        return view.original, ()
    spans = view.original_spans(span for spans in found.values() for span in spans)
    return replace_spans(view.original, spans, REPLACEMENT), tuple(sorted(found))


class ContactDetailsHook:
    """REDACT phone numbers, e-mail addresses and messenger handles."""

    def __init__(
        self,
        *,
        alert: bool = True,
        fail_open: bool = False,
        timeout_s: float = 1.0,
        name: str = NAME,
    ) -> None:
        self.name = name
        # Failing closed: a crash here must not leak a phone number to the room.
        self.fail_open = fail_open
        self.timeout_s = timeout_s
        self.alert = alert

    async def check(self, ctx: MessageContext) -> Verdict:
        return self.judge(ctx)

    def judge(self, ctx: MessageContext) -> Verdict:
        text, kinds = redact_contact_details(ctx.normalised)
        if not kinds:
            return ALLOW
        alerts: tuple[Alert, ...] = ()
        if self.alert:
            alerts = (Alert("contact", "contact details removed: " + ", ".join(kinds)),)
        return Verdict(Action.REDACT, text=text, reason="contact_details", alerts=alerts)


class ContactDetailsOptions(HookOptions):
    """``[moderation.contact_details]``."""

    alert: bool = True


def from_options(options: Mapping[str, Any], name: str = NAME) -> ContactDetailsHook:
    opts = read_table(ContactDetailsOptions, options, f"[moderation.{name}]")
    return ContactDetailsHook(alert=opts.alert, fail_open=opts.fail_open, timeout_s=opts.timeout_s, name=name)
