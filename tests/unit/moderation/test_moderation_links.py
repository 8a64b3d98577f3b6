"""Links: found in their usual forms, held by default, allow-listed by domain."""

from __future__ import annotations

import pytest

from moderation.hooks.links import LinksHook, find_links
from moderation.verdict import Action, Alert, MessageContext, Verdict


def ctx(text: str) -> MessageContext:
    return MessageContext("r", "circle", "ana", "member", text, 0)


@pytest.mark.parametrize(
    ("text", "host"),
    [
        ("see https://example.com/a?b=1.", "example.com"),
        ("http://localhost:8080/x", "localhost"),
        ("www.foo.in/x", "www.foo.in"),
        ("go to example.com/path now", "example.com"),
        ("visit recovery.org", "recovery.org"),
        ("mysite.co.in!", "mysite.co.in"),
        ("bit.ly/abc", "bit.ly"),
        ("t.me/dealer", "t.me"),
        ("check out recovery dot org", "recovery.org"),
    ],
)
def test_links_are_found(text: str, host: str) -> None:
    assert [h for _, _, h in find_links(text)] == [host]


@pytest.mark.parametrize(
    "text",
    ["I'm done.Life is good", "e.g. this", "rahul@gmail.com", "10.30 pm", "v1.2 update", "3.5 years", "a.m. meeting"],
)
def test_non_links_are_not_links(text: str) -> None:
    assert find_links(text) == []


def test_links_are_held_by_default() -> None:
    assert LinksHook().judge(ctx("read https://spam.example/x")) == Verdict(Action.HOLD, reason="link")


def test_allow_list_covers_subdomains_only_of_listed_domains() -> None:
    hook = LinksHook(allow=["example.org"])
    assert hook.judge(ctx("see https://docs.example.org/intro")).action is Action.ALLOW
    assert hook.judge(ctx("see example.org")).action is Action.ALLOW
    assert hook.judge(ctx("see notexample.org")).action is Action.HOLD
    assert hook.judge(ctx("see example.org and evil.com")).action is Action.HOLD


def test_modes() -> None:
    text = "see evil.com now"
    blocked = LinksHook(mode="block").judge(ctx(text))
    assert blocked == Verdict(Action.BLOCK, reason="link", alerts=(Alert("blocked", "message with a link"),))
    redacted = LinksHook(mode="redact").judge(ctx(text))
    assert redacted.action is Action.REDACT and redacted.text == "see [link removed] now"
    assert LinksHook(mode="allow").judge(ctx(text)).action is Action.ALLOW


def test_text_without_links_is_allowed() -> None:
    assert LinksHook().judge(ctx("30 days sober. Thank you all.")).action is Action.ALLOW
