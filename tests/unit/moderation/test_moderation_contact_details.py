"""Contact details: phone numbers, e-mail addresses, messenger handles."""

from __future__ import annotations

import pytest

from moderation.hooks.contact_details import REPLACEMENT, ContactDetailsHook, redact_contact_details
from moderation.verdict import Action, MessageContext


def redact(text: str) -> str:
    return redact_contact_details(text)[0]


@pytest.mark.parametrize(
    "phone",
    [
        "+91 98765 43210",
        "+91-98765-43210",
        "098765-43210",
        "9876543210",
        "91-9876543210",
        "0091 98765 43210",
        "98765.43210",
        "9876 543 210",
        "011-2345 6789",
        "2345 6789",
        "+1 (555) 123-4567",
        "(555) 123-4567",
        "+44 20 7946 0958",
        "+61 2 9876 5432",
        "९८७६५४३२१०",
    ],
)
def test_phone_numbers_are_redacted(phone: str) -> None:
    text = f"call me on {phone} tonight"
    assert redact(text) == f"call me on {REPLACEMENT} tonight"


@pytest.mark.parametrize(
    "text",
    [
        "30 days sober today",
        "day 365!",
        "2 years and 3 months",
        "meeting at 10:30",
        "sober since 2024",
        "1990-1995 were my worst years",
        "years 2019 2020 2021 were hard",
        "on 12/05/2024 I relapsed",
        "2024-05-12",
        "I spent 50000 rupees on it",
        "1,00,000 people",
        "pi is 3.14159265",
        "Tele-MANAS 14416 is 24x7",
        "call 988 if you need",
        "step 12 of 12",
        "room 101 at 7.30pm",
    ],
)
def test_ordinary_numbers_are_kept(text: str) -> None:
    assert redact(text) == text


@pytest.mark.parametrize(
    "email",
    [
        "rahul.k@gmail.com",
        "priya+aa@example.co.in",
        "rahul at gmail dot com",
        "rahul [at] yahoo [dot] co [dot] in",
        "rahul(at)gmail(dot)com",
        "rahul @ gmail . com",
        "rahul at gmail",
    ],
)
def test_email_addresses_are_redacted(email: str) -> None:
    assert redact(f"mail {email} please") == f"mail {REPLACEMENT} please"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("t.me/dealer99", REPLACEMENT),
        ("join https://t.me/plugchannel now", f"join {REPLACEMENT} now"),
        ("wa.me/919876543210", REPLACEMENT),
        ("chat.whatsapp.com/AbCdEf", REPLACEMENT),
        ("instagram.com/rahul", REPLACEMENT),
        ("telegram @dealer", f"telegram {REPLACEMENT}"),
        ("@dealer on telegram", f"{REPLACEMENT} on telegram"),
        ("tg @plug", f"tg {REPLACEMENT}"),
        ("whatsapp me", REPLACEMENT),
        ("add me on snap", REPLACEMENT),
        ("ig: rahul.k", f"ig: {REPLACEMENT}"),
        ("insta - priya", f"insta - {REPLACEMENT}"),
        ("snap: rahul99", f"snap: {REPLACEMENT}"),
        ("my insta id is priya", f"my insta id is {REPLACEMENT}"),
        ("my insta is rahul_k", f"my insta is {REPLACEMENT}"),
        ("ig rahul_99", f"ig {REPLACEMENT}"),
    ],
)
def test_messenger_handles_are_redacted(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "@priya thank you for sharing",
        "I deleted instagram today",
        "my insta is great for recipes",
        "I quit facebook last year",
        "oh snap, I forgot",
        "I stayed at home today",
        "email me later",
        "one day at a time",
    ],
)
def test_ordinary_text_is_kept(text: str) -> None:
    assert redact(text) == text


def test_hook_redacts_and_alerts_without_the_details() -> None:
    hook = ContactDetailsHook()
    text = "call +91 98765 43210 or rahul@gmail.com"
    verdict = hook.judge(MessageContext("r", "circle", "ana", "member", text, 0))
    assert verdict.action is Action.REDACT and verdict.reason == "contact_details"
    assert verdict.text == f"call {REPLACEMENT} or {REPLACEMENT}"
    assert len(verdict.alerts) == 1 and verdict.alerts[0].kind == "contact"
    detail = verdict.alerts[0].detail
    assert detail == "contact details removed: email, phone"
    assert "98765" not in detail and "rahul" not in detail


def test_hook_allows_clean_text_and_can_skip_the_alert() -> None:
    hook = ContactDetailsHook(alert=False)
    ctx = MessageContext("r", "circle", "ana", "member", "9876543210", 0)
    assert hook.judge(ctx).alerts == ()
    assert ContactDetailsHook().judge(MessageContext("r", "circle", "a", "member", "30 days", 0)).action is Action.ALLOW
