"""Webhook signatures cover the send time and the body: a captured call cannot be replayed."""

from __future__ import annotations

from moderation.signing import BODY_SIGNATURE_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, signed_headers, verify

SECRET = "hook-secret"
BODY = b'{"event":"oncall.escalated","room":"oncall","id":"x"}'


def test_a_fresh_call_verifies_and_a_replay_or_a_change_does_not() -> None:
    headers = signed_headers(SECRET, BODY, now=1_000_000)
    assert headers[TIMESTAMP_HEADER] == "1000000"
    assert verify(SECRET, BODY, headers, now=1_000_000 + 299)
    assert not verify(SECRET, BODY, headers, now=1_000_000 + 301)  # replayed five minutes later
    assert not verify(SECRET, BODY, headers, now=1_000_000 - 301)
    assert not verify(SECRET, BODY + b" ", headers, now=1_000_000)  # the body changed
    assert not verify("other-secret", BODY, headers, now=1_000_000)
    moved = {**headers, TIMESTAMP_HEADER: "1000250"}  # a new time on an old signature
    assert not verify(SECRET, BODY, moved, now=1_000_250)
    assert not verify(SECRET, BODY, {BODY_SIGNATURE_HEADER: headers[BODY_SIGNATURE_HEADER]}, now=1_000_000)
    assert not verify(SECRET, BODY, {**headers, TIMESTAMP_HEADER: "soon"}, now=1_000_000)
    assert headers[SIGNATURE_HEADER] != headers[BODY_SIGNATURE_HEADER]
