"""Issue 12 item 7: invisible and look-alike characters must not carry contact details,
links or blocked terms past moderation, and what is redacted is the original text."""

from __future__ import annotations

import pytest

from moderation.crisis import detect
from moderation.hooks.blocked_terms import BlockedTermsHook
from moderation.hooks.contact_details import REPLACEMENT, ContactDetailsHook
from moderation.hooks.links import LinksHook
from moderation.verdict import Action, MessageContext

ZWSP = "\u200b"
NBSP = "\u00a0"


def ctx(text: str) -> MessageContext:
    return MessageContext("r", "circle", "ana", "member", text, 0)


def redacted(text: str) -> str | None:
    return ContactDetailsHook().judge(ctx(text)).text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # The four bypasses of the report, each delivered unredacted before.
        (f"call 98765{ZWSP}43210 tonight", f"call {REPLACEMENT} tonight"),
        (f"call 98765{NBSP}43210 tonight", f"call {REPLACEMENT} tonight"),
        (f"mail rahul{ZWSP}@gmail.com ok", f"mail {REPLACEMENT} ok"),
        (f"mail rahul@gmail{ZWSP}.com ok", f"mail {REPLACEMENT} ok"),
        # More of the same family.
        ("call +91\u2009987\u200d65\u202f43210", f"call {REPLACEMENT}"),
        ("call ９８７６５ ４３２１０ now", f"call {REPLACEMENT} now"),
        ("call ੯੮੭੬੫੪੩੨੧੦ now", f"call {REPLACEMENT} now"),
        ("call ٩٨٧٦٥٤٣٢١٠ now", f"call {REPLACEMENT} now"),
        # An invisible character just outside the number is left where it was.
        ("call 98765\u00ad43210\u2060 now", f"call {REPLACEMENT}\u2060 now"),
        ("mail rahul@gmail。com ok", f"mail {REPLACEMENT} ok"),
        ("mail ｒａｈｕｌ＠ｇｍａｉｌ．ｃｏｍ ok", f"mail {REPLACEMENT} ok"),
        ("call 98765\u3000432 10 now", f"call {REPLACEMENT} now"),
    ],
)
def test_invisible_and_lookalike_characters_do_not_hide_contact_details(text: str, expected: str) -> None:
    assert redacted(text) == expected


@pytest.mark.parametrize("dot", ["\u3002", "\uff0e", "\uff61"])
def test_unicode_dots_in_a_domain_are_still_a_link(dot: str) -> None:
    text = f"see evil{dot}com/x tonight"
    assert LinksHook().judge(ctx(text)).action is Action.HOLD
    redact = LinksHook(mode="redact").judge(ctx(text))
    assert redact.action is Action.REDACT and redact.text == "see [link removed] tonight"


def test_zero_width_space_inside_a_domain_is_still_a_link() -> None:
    assert LinksHook().judge(ctx(f"see evil{ZWSP}.com/x")).action is Action.HOLD
    assert LinksHook().judge(ctx(f"see https://ev{ZWSP}il.com")).action is Action.HOLD


@pytest.mark.parametrize(
    "text",
    [f"you re{ZWSP}tard", "you ｒｅｔａｒｄ", "you re\u00adtard", f"ma{ZWSP}darchod", "you r\u200de\u2060tard"],
)
def test_invisible_and_full_width_characters_do_not_hide_blocked_terms(text: str) -> None:
    assert BlockedTermsHook().judge(ctx(text)).action is Action.BLOCK


def test_redaction_replaces_the_original_characters_and_keeps_joiners_elsewhere() -> None:
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # an emoji sequence held by ZWJs
    hindi = "क्\u200dष"  # a conjunct shaped by a ZWJ
    text = f"{family} {hindi} call 98765{ZWSP}43210 {family}"
    assert redacted(text) == f"{family} {hindi} call {REPLACEMENT} {family}"
    hook = BlockedTermsHook(action="redact")
    verdict = hook.judge(ctx(f"{family} you re{ZWSP}tard {hindi}"))
    assert verdict.text == f"{family} you *** {hindi}"


def test_crisis_language_is_seen_through_invisible_characters() -> None:
    assert detect(f"I want to k{ZWSP}ill my{NBSP}self") is not None
    assert detect("I want to ｋｉｌｌ myself") is not None
