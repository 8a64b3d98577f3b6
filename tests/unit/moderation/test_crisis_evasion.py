"""Issue 13: every way of disguising a word that got past the crisis hook, as a test.

Each disguise is applied to messages the hook catches when written plainly; the hook
(rules, the shipped model, the normaliser in front of both) must still catch them. The
same disguises on ordinary messages must not raise an alert, and numbers, times and
phone numbers must come through the normaliser unchanged.
"""

from __future__ import annotations

import pytest

from moderation.evasion import unmask
from moderation.hooks.crisis import CrisisHook
from moderation.normalise import normalise
from moderation.verdict import MessageContext

HOOK = CrisisHook()


def alerts(text: str) -> bool:
    return HOOK.judge(MessageContext("r", "circle", text, "member", text, 0)).crisis


DISGUISED = {
    "stretched letters": ["i want to dieeeee", "gonna killlll myselfff tonight", "marnaaaa hai mujhe aaj"],
    "spaced letters": ["i want to k i l l myself", "k.i.l.l myself tonight", "going to k-i-l-l myself",
                       "i want to d i e"],
    "digits and symbols": ["k1ll mys3lf tonight", "thinking about $uicide", "i want to d13", "su1c1de is the only way"],
    "soft hyphen and zero-width": ["kil\u00adl myself tonight", "ki\u200bll myself", "sui\u200dcide tonight",
                                   "want to d\u2060ie"],
    "look-alike letters": ["\u0455u\u0456\u0441\u0456d\u0435 tonight",  # Cyrillic s, i, c, e
                           "k\u0456ll myself",  # Cyrillic i
                           "i want to d\u0456\u0435",
                           "\U0001d5c4\U0001d5c2\U0001d5c5\U0001d5c5 myself"],  # mathematical sans-serif k, i, l, l
    "full-width letters": ["\uff4b\uff49\uff4c\uff4c \uff4d\uff59\uff53\uff45\uff4c\uff46", "ｉ ｗａｎｔ ｔｏ ｄｉｅ"],
    "slang": ["kms", "honestly might just kms tonight", "gonna unalive myself"],
}


@pytest.mark.parametrize(("kind", "text"), [(k, t) for k, ts in DISGUISED.items() for t in ts])
def test_a_disguised_crisis_message_still_alerts(kind: str, text: str) -> None:
    assert alerts(text), (kind, text)


ORDINARY = [
    "sooooo happy today!!!", "c u l8r at the m33ting", "meeting at 4pm, 2nd floor", "ｈｅｌｌｏ everyone",
    "t h a n k s all", "99 days clean 🎉", "g00d morning", "call me at 98765 43210",
]


@pytest.mark.parametrize("text", ORDINARY)
def test_the_same_disguises_on_ordinary_messages_raise_nothing(text: str) -> None:
    assert not alerts(text), text


@pytest.mark.parametrize(("text", "read"), [
    ("since 2015 at 4am", "since 2015 at 4am"),
    ("took my 2nd dose, 10mg", "took my 2nd dose, 10mg"),
    ("call 9876543210", "call 9876543210"),
    ("मैं मरना चाहता हूँ", "मैं मरना चाहता हूं"),  # Devanagari is read, not folded as a look-alike
    ("ਮੈਂ ਠੀਕ ਹਾਂ", "ਮੈਂ ਠੀਕ ਹਾਂ"),
    ("feeeeel", "feel"), ("killllll", "kill"), ("pleaseeee", "please"), ("k*i*l*l", "kill"),
])
def test_the_normaliser_keeps_numbers_and_indic_script(text: str, read: str) -> None:
    assert unmask(normalise(text).text) == read
