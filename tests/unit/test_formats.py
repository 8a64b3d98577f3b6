"""A meeting format as the edge reads it (server.formats): the admin API's body and the
config file's ``[[formats]]`` tables, strict, with messages naming the field; templates a
centre configures take the place of a shipped one with the same id."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from server.config import Config, ConfigError, load_config
from server.core.errors import CommandError
from server.core.model import FREE_MINUTES, SEGMENT_MINUTES, Format, Segment, Text
from server.formats import parse, shipped
from tests.support import SECRET

GOOD: dict[str, Any] = {
    "id": "tuesday", "name": {"en": "Tuesday format", "hi": "मंगलवार"},
    "auto_advance": True, "free_minutes": 10,
    "segments": [
        {"kind": "reading", "title": {"en": "Welcome"}, "minutes": 3, "text": {"en": "Hello.", "pa": "ਸਤ ਸ੍ਰੀ ਅਕਾਲ।"}},
        {"kind": "round", "title": {"en": "Check-in"}, "minutes": 10, "share_seconds": 90},
        {"kind": "closing", "title": {"en": "Closing"}, "minutes": 2},
    ],
}


def with_(path: str, value: Any) -> dict[str, Any]:
    """GOOD with the value at ``path`` ("segments.1.minutes") replaced (or removed: ...)."""
    data = copy.deepcopy(GOOD)
    *head, last = path.split(".")
    node: Any = data
    for part in head:
        node = node[int(part)] if part.isdigit() else node[part]
    key: Any = int(last) if last.isdigit() else last
    if value is ...:
        del node[key]
    else:
        node[key] = value
    return data


def test_a_good_format_is_read() -> None:
    fmt = parse(GOOD)
    assert fmt.id == "tuesday" and fmt.minutes == 15 and fmt.auto_advance and fmt.free_minutes == 10
    assert fmt.segments[0].text is not None and fmt.segments[0].text.pa == "ਸਤ ਸ੍ਰੀ ਅਕਾਲ।"
    assert fmt.segments[1].share_seconds == 90 and fmt.name.hi == "मंगलवार" and fmt.name.pa is None
    assert parse(fmt.to_wire()) == fmt


@pytest.mark.parametrize(("data", "says"), [
    (with_("segments.1.minutes", 181), "format.segments[1].minutes: Input should be less than or equal to 180"),
    (with_("segments.1.minutes", "10"), "format.segments[1].minutes: Input should be a valid integer"),
    (with_("segments.1.kind", "nap"), "format.segments[1].kind: Input should be 'reading', 'round'"),
    (with_("segments.1.share_seconds", 5),
     "format.segments[1].share_seconds: Input should be greater than or equal to 10"),
    (with_("segments.0.text", ...), "format.segments[0]: text: a reading needs its text"),
    (with_("segments.2.text", {"en": "x"}), "format.segments[2]: text: only a reading has a text"),
    (with_("segments.0.text.en", "a" * 5001), "format.segments[0].text.en: String should have at most 5000"),
    (with_("segments.0.title.en", ...), "format.segments[0].title.en: Field required"),
    (with_("segments.0.title.fr", "Bonjour"), "format.segments[0].title: unknown key(s) fr"),
    (with_("segments.0.colour", "blue"), "format.segments[0]: unknown key(s) colour"),
    (with_("segments", []), "format.segments: List should have at least 1 item"),
    (with_("segments", [GOOD["segments"][2]] * 31), "format.segments: List should have at most 30 items"),
    (with_("free_minutes", 121), "format.free_minutes: Input should be less than or equal to 120"),
    (with_("auto_advance", "yes"), "format.auto_advance: Input should be a valid boolean"),
    (with_("id", "Tuesday!"), "format.id: String should match pattern"),
    (with_("name", "Tuesday"), "format.name"),
    (with_("segments.1.title.en", "   "), "format.segments[1]: title.en must be 1-120 characters"),
    ([1, 2], "format: must be an object"),
])
def test_a_bad_format_is_refused_naming_the_field(data: Any, says: str) -> None:
    with pytest.raises(ValueError) as e:
        parse(data)
    assert says in str(e.value), str(e.value)


def load(tmp_path: Path, text: str) -> Config:
    cfg = tmp_path / "circles.toml"
    cfg.write_text(text, encoding="utf-8")
    return load_config({"config": str(cfg)}, {"CIRCLES_SECRET": SECRET})


TABLE = """[[formats]]
id = "{id}"
auto_advance = true
[formats.name]
en = "Our own format"
[[formats.segments]]
kind = "topic"
minutes = {minutes}
[formats.segments.title]
en = "Topic"
hi = "विषय"
"""


def test_configured_templates_join_the_shipped_ones(tmp_path: Path) -> None:
    assert [f.id for f in Config(secret=SECRET).formats] == [f.id for f in shipped()] == ["smart", "twelve-step"]
    c = load(tmp_path, TABLE.format(id="ours", minutes=20) + TABLE.format(id="smart", minutes=30))
    assert [f.id for f in c.formats] == ["smart", "twelve-step", "ours"]
    # A centre's own "smart" takes the shipped one's place.
    assert c.formats[0].minutes == 30 and c.formats[0].name.en == "Our own format"
    assert c.formats[2].segments[0].title.hi == "विषय"


@pytest.mark.parametrize(("text", "says"), [
    (TABLE.format(id="ours", minutes=0), "formats[0].segments[0].minutes: Input should be greater than or equal to 1"),
    (TABLE.format(id="ours", minutes=5) + TABLE.format(id="ours", minutes=6),
     "formats[1]: format ours is defined twice"),
    (TABLE.format(id="ours", minutes=5).replace('kind = "topic"', 'kind = "reading"'),
     "formats[0].segments[0]: text: a reading needs its text"),
    (TABLE.format(id="ours", minutes=5) + "colour = 1\n", "formats[0].segments[0].title: unknown key(s) colour"),
    ('[[formats]]\nid = "x"\n', "formats[0].name: Field required"),
])
def test_a_bad_formats_table_stops_the_start_naming_the_key(tmp_path: Path, text: str, says: str) -> None:
    with pytest.raises(ConfigError) as e:
        load(tmp_path, text)
    assert says in str(e.value), str(e.value)


@pytest.mark.parametrize(("path", "bounds", "build"), [
    ("segments.1.minutes", SEGMENT_MINUTES, lambda n: Segment("topic", Text(en="x"), n)),
    ("free_minutes", FREE_MINUTES,
     lambda n: Format("f", Text(en="x"), (Segment("topic", Text(en="x"), 1),), free_minutes=n)),
])
def test_the_edge_and_the_core_share_the_bounds(path: str, bounds: Any, build: Any) -> None:
    lo, hi = bounds
    for ok in (lo, hi):
        parse(with_(path, ok))
        build(ok)
    for bad in (lo - 1, hi + 1):
        with pytest.raises(ValueError):
            parse(with_(path, bad))
        with pytest.raises(CommandError):
            build(bad)
