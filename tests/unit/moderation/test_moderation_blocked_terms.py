"""Blocked terms: word boundaries, leetspeak, scripts, block or redact."""

from __future__ import annotations

import pytest

from moderation.hooks.blocked_terms import BlockedTermsHook, TermMatcher, from_options
from moderation.verdict import Action, Alert, MessageContext, Verdict


def ctx(text: str) -> MessageContext:
    return MessageContext("r", "circle", "ana", "member", text, 0)


@pytest.mark.parametrize(
    "text",
    [
        "you idiot!",
        "IDIOT",
        "iiidiot",
        "1d10t",
        "i.d.i.o.t",
        "such a r3tard",
        "retarded",
        "madarchod",
        "MaDaRcHoD!!",
        "तू चूतिया है",
        "ਭੈਣਚੋਦ",
        "b1tch",
    ],
)
def test_terms_are_found_through_disguises(text: str) -> None:
    matcher = TermMatcher(["idiot", "retard*", "madarchod*", "चूतिया", "ਭੈਣਚੋਦ", "bitch"])
    assert matcher.spans(text)


@pytest.mark.parametrize(
    "text",
    ["idiotic", "scunthorpe", "grass hole", "the circle", "classic", "therapist", "chutney", "Sussex", "hello"],
)
def test_word_boundaries_prevent_false_matches(text: str) -> None:
    matcher = TermMatcher(["idiot", "ass", "cunt", "chutiya", "sex"])
    assert matcher.spans(text) == []


def test_default_list_blocks_with_an_alert_that_names_no_term() -> None:
    verdict = BlockedTermsHook().judge(ctx("you are a retard"))
    assert verdict == Verdict(Action.BLOCK, reason="blocked_term", alerts=(Alert("blocked", "blocked term"),))
    assert BlockedTermsHook().judge(ctx("I felt like shit today but I'm sober")).action is Action.ALLOW


def test_redact_mode_replaces_each_term() -> None:
    hook = BlockedTermsHook(terms=["idiot", "shut up"], action="redact")
    verdict = hook.judge(ctx("you idiot, shut   up!"))
    assert verdict.action is Action.REDACT and verdict.text == "you ***, ***!"


def test_options_replace_or_extend_the_list() -> None:
    replaced = from_options({"terms": ["pineapple"]})
    assert replaced.judge(ctx("PINEAPPLE")).action is Action.BLOCK
    assert replaced.judge(ctx("retard")).action is Action.ALLOW
    extended = from_options({"add_terms": ["pineapple"]})
    assert extended.judge(ctx("pineapple")).action is Action.BLOCK
    assert extended.judge(ctx("retard")).action is Action.BLOCK
