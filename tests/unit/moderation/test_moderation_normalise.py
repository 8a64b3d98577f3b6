"""The normalised view every moderation rule matches on, and its way back to the original."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from moderation.normalise import FOLDED, matching_text, normalise


@pytest.mark.parametrize(
    ("text", "view"),
    [
        ("plain ascii, kept as it is", "plain ascii, kept as it is"),
        ("98765\u200b43210", "9876543210"),  # zero-width space
        ("a\u00adb\u2060c\ufeffd\u202ee\u200ef", "abcdef"),  # soft hyphen, word joiner, BOM, bidi
        ("a\u00a0b\u2009c\u202fd\u3000e", "a b c d e"),  # no-break, thin, narrow, ideographic
        ("gmail\u3002com gmail\uff0ecom gmail\uff61com gmail\u00b7com", "gmail.com gmail.com gmail.com gmail.com"),
        ("ｒａｈｕｌ＠ｇｍａｉｌ", "rahul@gmail"),  # full-width, by NFKC
        ("९८७ ੯੮੭ ٩٨٧ ۹۸۷ ৯৮৭", "987 987 987 987 987"),  # Devanagari, Gurmukhi, Arabic-Indic, Bengali
        ("\U0001d41a\U0001d41b ﬁ", "ab fi"),  # mathematical bold, a ligature
        ("ज़िंदगी हूँ", "जिंदगी हूं"),  # nukta letter, chandrabindu (the Indic folds)
        ("x\ufe0fy\u034fz", "xyz"),  # variation selector, combining grapheme joiner
        ("line\u2028next", "line\nnext"),
    ],
)
def test_the_view(text: str, view: str) -> None:
    assert normalise(text).text == view


def test_ascii_is_its_own_view_and_costs_no_map() -> None:
    view = normalise("call me at 10:30")
    assert view.text is view.original and view.original_span(3, 5) == (3, 5)


def test_spans_lead_back_to_the_characters_they_came_from() -> None:
    text = "call 98765\u200b43210 or ｒａｈｕｌ\u3002com"
    view = normalise(text)
    start = view.text.index("9876543210")
    a, b = view.original_span(start, start + 10)
    assert text[a:b] == "98765\u200b43210"  # the dropped character inside is covered
    start = view.text.index("rahul.com")
    a, b = view.original_span(start, start + len("rahul.com"))
    assert text[a:b] == "ｒａｈｕｌ\u3002com"


def test_an_expansion_maps_each_of_its_characters_to_the_one_it_came_from() -> None:
    view = normalise("x\u200b\ufb01y")  # "ﬁ" becomes two characters
    assert view.text == "xfiy"
    assert view.original_span(1, 2) == view.original_span(2, 3) == (2, 3)
    assert view.original_span(1, 3) == (2, 3) and view.original_span(0, 4) == (0, 4)


def test_matching_text_is_the_views_text() -> None:
    assert matching_text("ｋｉｌｌ\u200b") == "kill"


def test_the_fold_table_never_touches_ascii_and_joiners_only_in_the_view() -> None:
    assert not any(c.isascii() for c in FOLDED)
    family = "\U0001f468\u200d\U0001f469"
    assert normalise(family).original == family and normalise(family).text == "\U0001f468\U0001f469"


text_with_traps = st.text(
    st.sampled_from("ab9 .@\u200b\u200d\u00a0\u3000\u3002\uff0e\uff61ｇ९੯ज़\u00ad\ufb01\u2028\U0001d41a\ufe0f")
    | st.characters(),
    max_size=200,
)


@given(text_with_traps)
def test_every_character_of_the_view_comes_from_its_original_span(text: str) -> None:
    view = normalise(text)
    assert normalise(view.text).text == view.text  # a fixed point
    last_end = 0
    for i, ch in enumerate(view.text):
        a, b = view.original_span(i, i + 1)
        assert 0 <= a < b <= len(text) and a >= last_end - (b - a)
        source = text[a:b]
        assert ch in normalise(source).text or ch in unicodedata.normalize("NFKC", source)
        last_end = b
    if view.text:
        assert view.original_span(0, len(view.text))[1] <= len(text)
