"""Meeting formats at the edge: reading one (the admin API's body, a ``[[formats]]`` table
of the config file, a shipped template) and the templates that ship with Circles.

A format is read by pydantic (strict types, unknown keys refused, the field named in the
message: ``format.segments[2].minutes: Input should be less than or equal to 180``); its
bounds are the core's facts (``core.model``), and the rules that tie fields together (a
reading has a text, nothing else has) are the core's own checks, run by building the
core's ``Format``. What the rest of the server holds is that frozen ``Format``.

The shipped templates are TOML files beside this module (package data): a twelve-step
style meeting and a SMART-style one, with titles and readings in English, Hindi and
Punjabi. Their words are our own, not any fellowship's literature.
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Iterable, Mapping
from importlib import resources
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from moderation.options import describe, path

from ..core.errors import CommandError
from ..core.model import (
    FORMAT_ID_PATTERN,
    FORMAT_SEGMENTS,
    FREE_MINUTES,
    READING_MAX,
    SEGMENT_MINUTES,
    SETTING_RANGES,
    TITLE_MAX,
    Format,
    IntRange,
    Segment,
    SegmentKind,
    Text,
)


def _within(bounds: IntRange) -> Any:
    return Field(ge=bounds.lo, le=bounds.hi)


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class TitleIn(_In):
    """A title or name, in English and, when given, Hindi and Punjabi."""

    en: Annotated[str, Field(min_length=1, max_length=TITLE_MAX)]
    hi: Annotated[str, Field(min_length=1, max_length=TITLE_MAX)] | None = None
    pa: Annotated[str, Field(min_length=1, max_length=TITLE_MAX)] | None = None

    def text(self) -> Text:
        return Text(en=self.en, hi=self.hi, pa=self.pa)


class ReadingIn(_In):
    """A reading's text, in English and, when given, Hindi and Punjabi."""

    en: Annotated[str, Field(min_length=1, max_length=READING_MAX)]
    hi: Annotated[str, Field(min_length=1, max_length=READING_MAX)] | None = None
    pa: Annotated[str, Field(min_length=1, max_length=READING_MAX)] | None = None

    def text(self) -> Text:
        return Text(en=self.en, hi=self.hi, pa=self.pa)


def _core(build: Any) -> Any:
    """Build a core value; its refusal becomes a validation error at this place."""
    try:
        return build()
    except CommandError as e:
        raise ValueError(e.message) from None


class SegmentIn(_In):
    """One part of a meeting as written (a reading has a text; no other kind has)."""

    kind: SegmentKind
    title: TitleIn
    minutes: Annotated[int, _within(SEGMENT_MINUTES)]
    share_seconds: Annotated[int, _within(SETTING_RANGES["share_seconds"])] | None = None
    text: ReadingIn | None = None

    def segment(self) -> Segment:
        return Segment(kind=self.kind, title=self.title.text(), minutes=self.minutes,
                       share_seconds=self.share_seconds, text=self.text.text() if self.text is not None else None)

    @model_validator(mode="after")
    def _check(self) -> SegmentIn:
        _core(self.segment)
        return self


class FormatIn(_In):
    """A meeting format as written: the admin API's ``format`` and a ``[[formats]]`` table."""

    id: Annotated[str, Field(pattern=FORMAT_ID_PATTERN)]
    name: TitleIn
    segments: Annotated[list[SegmentIn], Field(min_length=FORMAT_SEGMENTS.lo, max_length=FORMAT_SEGMENTS.hi)]
    auto_advance: bool = False
    free_minutes: Annotated[int, _within(FREE_MINUTES)] = 0

    def format(self) -> Format:
        return Format(id=self.id, name=self.name.text(), segments=tuple(s.segment() for s in self.segments),
                      auto_advance=self.auto_advance, free_minutes=self.free_minutes)

    @model_validator(mode="after")
    def _check(self) -> FormatIn:
        _core(self.format)
        return self


def parse(data: object, where: str = "format") -> Format:
    """A format from JSON- or TOML-shaped data; a ``ValueError`` naming the field otherwise."""
    if not isinstance(data, Mapping):
        raise ValueError(f"{where}: must be an object")
    try:
        return FormatIn.model_validate(dict(data)).format()
    except ValidationError as e:
        raise ValueError(describe(e, lambda loc: f"{where}.{path(loc)}" if loc else where)) from None


# -- the templates that ship with Circles ---------------------------------------------------------

@functools.cache
def shipped() -> tuple[Format, ...]:
    """The shipped templates, in file-name order (a broken one stops the server at start)."""
    files = sorted((f for f in resources.files(__package__).iterdir() if f.name.endswith(".toml")),
                   key=lambda f: f.name)
    return tuple(parse(tomllib.loads(f.read_text(encoding="utf-8")), f.name) for f in files)


def merged(shipped_formats: Iterable[Format], configured: Iterable[Format]) -> tuple[Format, ...]:
    """The templates a server offers: the shipped ones, a configured one taking the place
    of a shipped one with its id, then the other configured ones."""
    out = {f.id: f for f in shipped_formats}
    out.update((f.id, f) for f in configured)
    return tuple(out.values())
