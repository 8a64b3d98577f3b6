"""The on-call rota: who is expected to be on duty when, as a list of weekly shifts.

Pure: no I/O and no clock; ``expected_at`` takes the moment as an argument (UTC epoch
milliseconds). A shift names a responder (their participant id, the ``sub`` of their
link) and the name staff know them by, ISO weekdays (1 = Monday .. 7 = Sunday), a local
start and end ``HH:MM`` and an IANA time zone (default Asia/Kolkata).

An end at or before the start is on the next day: 22:00-06:00 is a night shift that
begins on each of its days, and 00:00-00:00 is a whole day. Local times are kept across
daylight-saving changes (zoneinfo's reading of a time in a gap or a repeated hour).

The rota says who *should* be on duty; who *is* is what responders do (``oncall.duty``),
and the console shows both side by side. It is staff data: ids and names of responders,
never anything of a member.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, Final
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, ValidationError, field_validator

from moderation.options import path

from .core.errors import CommandError
from .core.model import NAME_MAX, SUB_PATTERN, clean_name
from .schedules import DEFAULT_TZ, known_zone

# A centre's week: a few dozen shifts; a bound so that one PUT cannot grow the store.
SHIFTS_MAX: Final = 200
_HHMM: Final = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")
_DAY: Final = timedelta(days=1)


class ShiftIn(BaseModel):
    """One weekly shift of the on-call rota, as the admin API receives it (``Shift`` is
    what the rest of the code holds)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    responder: Annotated[StrictStr, Field(pattern=SUB_PATTERN)]
    name: StrictStr
    days: Annotated[list[Annotated[StrictInt, Field(ge=1, le=7)]], Field(min_length=1, max_length=7)]
    start: StrictStr
    end: StrictStr
    tz: StrictStr = DEFAULT_TZ

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        try:
            return clean_name(v)
        except CommandError:
            raise ValueError(f"must be 1-{NAME_MAX} characters, no control characters") from None

    @field_validator("days")
    @classmethod
    def _days(cls, v: list[int]) -> list[int]:
        if len(set(v)) != len(v):
            raise ValueError("must not repeat a day")
        return sorted(v)

    @field_validator("start", "end")
    @classmethod
    def _hhmm(cls, v: str) -> str:
        if _HHMM.fullmatch(v) is None:
            raise ValueError("must be a time HH:MM, from 00:00 to 23:59")
        return v

    @field_validator("tz")
    @classmethod
    def _tz(cls, v: str) -> str:
        if not known_zone(v):
            raise ValueError(f"unknown time zone {v!r} (an IANA name such as 'Asia/Kolkata')")
        return v


class RotaIn(BaseModel):
    """The whole on-call rota: the body of ``PUT /api/oncall/rota`` (and its schema in the
    OpenAPI document)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    shifts: Annotated[list[ShiftIn], Field(max_length=SHIFTS_MAX)]


def _message(err: ValidationError) -> str:
    """One line naming the field: ``shifts[2].start: must be a time HH:MM, ...``."""
    first = err.errors(include_url=False)[0]
    where = path(first["loc"])
    msg = str(first["msg"]).removeprefix("Value error, ")
    if first["type"] == "string_pattern_mismatch" and first["loc"][-1] == "responder":
        msg = "must be a participant id: 1-64 letters, digits, '-' or '_'"
    return f"{where or 'body'}: {msg}"


@dataclass(frozen=True, slots=True)
class Shift:
    """One weekly shift of one responder (validated by ``parse_rota``)."""

    responder: str
    name: str
    days: tuple[int, ...]
    start: str
    end: str
    tz: str = DEFAULT_TZ

    @property
    def overnight(self) -> bool:
        """The shift ends on the day after it starts (an end at or before its start)."""
        return self.end <= self.start

    def to_wire(self) -> dict[str, Any]:
        return {"responder": self.responder, "name": self.name, "days": list(self.days), "start": self.start,
                "end": self.end, "tz": self.tz}


def parse_rota(data: Any) -> tuple[Shift, ...]:
    """``{"shifts": [...]}`` as the admin API receives it; ``ValueError`` naming the field."""
    try:
        rota = RotaIn.model_validate(data)
    except ValidationError as err:
        raise ValueError(_message(err)) from None
    return tuple(Shift(responder=s.responder, name=s.name, days=tuple(s.days), start=s.start, end=s.end, tz=s.tz)
                 for s in rota.shifts)


def from_stored(items: Iterable[Mapping[str, Any]]) -> tuple[Shift, ...]:
    """Shifts as the store keeps them (written by ``to_wire`` after ``parse_rota``)."""
    return tuple(Shift(responder=s["responder"], name=s["name"], days=tuple(s["days"]), start=s["start"],
                       end=s["end"], tz=s.get("tz", DEFAULT_TZ)) for s in items)


@dataclass(frozen=True, slots=True)
class Expected:
    """A shift that covers a moment: its index in the rota, the weekday its turn began on
    (ISO, in the shift's time zone) and when this turn began and ends."""

    index: int
    shift: Shift
    day: int
    starts_at: int
    ends_at: int


def _ms(d: datetime) -> int:
    return int(d.timestamp() * 1000)


def _local(day: date, hhmm: str, zone: ZoneInfo) -> datetime:
    hours, minutes = hhmm.split(":")
    return datetime.combine(day, time(int(hours), int(minutes)), tzinfo=zone)


def turns(shift: Shift, day: date) -> tuple[int, int] | None:
    """The turn of ``shift`` that starts on local ``day``, as (start, end) in ms; None
    when the shift does not work that weekday."""
    if day.isoweekday() not in shift.days:
        return None
    zone = ZoneInfo(shift.tz)
    start = _local(day, shift.start, zone)
    end = _local(day + _DAY if shift.overnight else day, shift.end, zone)
    return _ms(start), _ms(end)


def expected_at(shifts: Sequence[Shift], now_ms: int) -> list[Expected]:
    """The shifts whose turn covers ``now_ms`` (start inclusive, end exclusive), in rota order."""
    out = []
    for i, shift in enumerate(shifts):
        today = datetime.fromtimestamp(now_ms / 1000, UTC).astimezone(ZoneInfo(shift.tz)).date()
        # A night shift that began yesterday may still be running.
        for day in (today - _DAY, today):
            turn = turns(shift, day)
            if turn is not None and turn[0] <= now_ms < turn[1]:
                out.append(Expected(i, shift, day.isoweekday(), *turn))
                break
    return out
