"""The first-token index of crisis phrases: what a phrase's match can start with."""

from __future__ import annotations

import pytest

from moderation.crisis_index import first_tokens
from moderation.crisis_phrases import PHRASES, gap


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("kill myself", {("kill", False)}),
        (r"(?:want|wants) to die", {("want", False), ("wants", False)}),
        (r"over(?:dose|dosed)?", {("over", False), ("overdose", False), ("overdosed", False)}),
        (r"(?:blade|razor)\S* my", {("blade", True), ("razor", True)}),
        (r"ab?c", {("ac", False), ("abc", False)}),
        (r"[1-2][0-9]+ pills", {(f"{a}{b}", True) for a in "12" for b in "0123456789"}),
        (r"(?<!x)(?=an)an(?! y)", {("an", False)}),
        (r"(?:i am )?done", {("i", False), ("done", False)}),
        (r"(?P<verb>cut|burn)", {("cut", False), ("burn", False)}),
        # A repeat of more than one is not followed through: "no" may go on.
        ("no" + gap(2) + " way", {("no", False), ("no", True)}),
    ],
)
def test_first_tokens(source: str, expected: set[tuple[str, bool]]) -> None:
    assert first_tokens(source) == frozenset(expected)


@pytest.mark.parametrize(
    "source",
    [
        r"\S+ myself",  # the first token can be anything
        r"(?:i am )?",  # can match nothing
        r".*",
        r"(?i)kill",  # flags: not read
        r"(a)\1",  # back references: not read
        "(?:" + "|".join(f"w{i}" for i in range(5000)) + ")",  # too many
    ],
)
def test_first_tokens_unknown(source: str) -> None:
    assert first_tokens(source) is None


def test_every_phrase_is_indexed() -> None:
    assert all(first_tokens(phrase.first) is not None for phrase in PHRASES)
