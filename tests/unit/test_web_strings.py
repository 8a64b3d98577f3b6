"""The browser client speaks English, Hindi and Punjabi: every string exists in all three,
so no screen falls back to showing a key. (Placeholders may differ on purpose: Hindi and
Punjabi say "number {n}" where English says "{place}", an ordinal; the view passes both.)"""

from __future__ import annotations

import re
from pathlib import Path

I18N = Path(__file__).resolve().parents[2] / "web" / "i18n.js"


def tables() -> dict[str, dict[str, str]]:
    text = I18N.read_text(encoding="utf-8")
    out = {}
    for lang in ("en", "hi", "pa"):
        body = re.search(rf"^const {lang} = \{{\n(.*?)^\}};", text, re.S | re.M)
        assert body, lang
        out[lang] = dict(re.findall(r'^  ([a-z0-9_]+): "((?:[^"\\]|\\.)*)",?$', body.group(1), re.M))
    return out


def test_every_string_is_in_every_language() -> None:
    t = tables()
    assert len(t["en"]) > 100
    for lang in ("hi", "pa"):
        assert set(t[lang]) == set(t["en"]), (lang, set(t["en"]) ^ set(t[lang]))
        assert all(value.strip() for value in t[lang].values()), lang
